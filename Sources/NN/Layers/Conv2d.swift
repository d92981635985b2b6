import TensorCore

/// 2-D convolution layer (`torch.nn.Conv2d`, square kernel, groups 1).
///
/// Shapes: input `[N, inChannels, H, W]`, weight `[outChannels, inChannels, k, k]`, output
/// `[N, outChannels, Ho, Wo]`. Initialization follows PyTorch: U(±1/√fanIn), fanIn = inChannels·k².
public final class Conv2d: Layer {
    public let inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int, padding: Int
    public let weight: Parameter
    public let bias: Parameter?

    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = true, rng: inout SeededRNG) {
        (self.inChannels, self.outChannels, self.kernelSize, self.stride, self.padding) = (inChannels, outChannels, kernelSize, stride, padding)
        let bound = 1 / Float(inChannels * kernelSize * kernelSize).squareRoot()
        weight = Parameter(.uniform([outChannels, inChannels, kernelSize, kernelSize], low: -bound, high: bound, rng: &rng))
        self.bias = bias ? Parameter(.uniform([outChannels], low: -bound, high: bound, rng: &rng)) : nil
    }

    public var ownParameters: [(String, Parameter)] { [("weight", weight)] + (bias.map { [("bias", $0)] } ?? []) }

    public func callAsFunction(_ x: Tensor, mode: ForwardMode = .train) throws -> Tensor {
        guard x.rank == 4, x.shape[1] == inChannels,
              x.shape[2] + 2 * padding >= kernelSize, x.shape[3] + 2 * padding >= kernelSize else {
            throw ShapeError(layer: "Conv2d(\(inChannels)→\(outChannels), k\(kernelSize))", expected: "[N, \(inChannels), H, W] with H, W ≥ \(kernelSize - 2 * padding)", actual: x.shape)
        }
        return .conv2d(x, weight: weight.value, bias: bias?.value, stride: stride, padding: padding)
    }
}
