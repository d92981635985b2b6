import Contrastive
import NN
import TensorCore

/// The projection head of the reference workload: Linear(d→d, no bias) → BN1d → ReLU →
/// Linear(d→out). Input `[N, d]`, output `[N, out]`.
public final class ReferenceProjector: Layer {
    public let fc1: Linear, bn: BatchNorm, fc2: Linear
    public init(inFeatures: Int, outFeatures: Int, rng: inout SeededRNG) {
        fc1 = Linear(inFeatures, inFeatures, bias: false, rng: &rng)
        bn = BatchNorm(inFeatures, spatial: false)
        fc2 = Linear(inFeatures, outFeatures, bias: true, rng: &rng)
    }
    public var children: [(String, any Module)] { [("fc1", fc1), ("bn", bn), ("fc2", fc2)] }
    public func callAsFunction(_ h: Tensor, mode: ForwardMode = .train) throws -> Tensor {
        try fc2(bn(fc1(h, mode: mode), mode: mode).relu(), mode: mode)
    }
}

/// The reference SimCLR model of the performance workload: `SmallResNet(width)` backbone and
/// `ReferenceProjector`, with PyTorch's names (`backbone.layer2.shortcut.0.weight`,
/// `projector.fc1.weight`).
public final class SimCLRReference: Module {
    public let backbone: SmallResNet
    public let projector: ReferenceProjector
    public init(width: Int, outDimension: Int = 64, seed: UInt64 = 0) {
        var rng = SeededRNG(seed: seed)
        backbone = SmallResNet(width: width, rng: &rng)
        projector = ReferenceProjector(inFeatures: 4 * width, outFeatures: outDimension, rng: &rng)
    }
    public var children: [(String, any Module)] { [("backbone", backbone), ("projector", projector)] }
}

/// One SimCLR training step of the reference workload (both views in one forward, so batch norm
/// sees 2N samples; `Contrastive.ntXentLoss`), returning the loss and the gradients of every parameter.
public struct SimCLRStep {
    public let loss: Tensor
    public let features: Tensor
    public let projections: Tensor
    public let gradients: Gradients

    public static func run(_ model: SimCLRReference, view1: Tensor, view2: Tensor, temperature: Float = 0.2) throws -> SimCLRStep {
        let n = view1.shape[0]
        let x = Tensor.concat([view1, view2], axis: 0)
        let h = try model.backbone(x, mode: .train)
        let z = try model.projector(h, mode: .train)
        let loss = ntXentLoss(z.slice(axis: 0, 0..<n), z.slice(axis: 0, n..<(2 * n)), temperature: temperature)
        let grads = loss.gradients(for: model.parameters().map(\.value))
        return SimCLRStep(loss: loss.detached(), features: h.detached(), projections: z.detached(), gradients: grads)
    }
}
