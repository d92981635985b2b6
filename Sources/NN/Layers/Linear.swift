import TensorCore

/// Fully connected layer `y = x Wᵀ + b` (`torch.nn.Linear`).
///
/// Shapes: input `[N, inFeatures]`, weight `[outFeatures, inFeatures]`, bias `[outFeatures]`,
/// output `[N, outFeatures]`. Initialization follows PyTorch: weight and bias ~ U(±1/√inFeatures)
/// (Kaiming-uniform with a = √5).
public final class Linear: Layer {
    public let inFeatures: Int, outFeatures: Int
    public let weight: Parameter
    public let bias: Parameter?

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, rng: inout SeededRNG) {
        self.inFeatures = inFeatures; self.outFeatures = outFeatures
        let bound = 1 / Float(inFeatures).squareRoot()
        weight = Parameter(.uniform([outFeatures, inFeatures], low: -bound, high: bound, rng: &rng))
        self.bias = bias ? Parameter(.uniform([outFeatures], low: -bound, high: bound, rng: &rng)) : nil
    }

    public var ownParameters: [(String, Parameter)] { [("weight", weight)] + (bias.map { [("bias", $0)] } ?? []) }

    public func callAsFunction(_ x: Tensor, mode: ForwardMode = .train) throws -> Tensor {
        guard x.rank == 2, x.shape[1] == inFeatures else { throw ShapeError(layer: "Linear(\(inFeatures)→\(outFeatures))", expected: "[N, \(inFeatures)]", actual: x.shape) }
        let y = Tensor.matmul(x, weight.value, transposeB: true)
        return bias.map { y + $0.value } ?? y
    }
}
