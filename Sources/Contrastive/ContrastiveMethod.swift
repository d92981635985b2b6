import NN
import TensorCore

/// What one method step produces: the scalar loss to differentiate and named scalar metrics
/// (positive/negative similarity, EMA τ, representation std, …) for logging.
public struct MethodOutput {
    public var loss: Tensor
    public var metrics: [String: Float]
    public init(loss: Tensor, metrics: [String: Float] = [:]) { self.loss = loss; self.metrics = metrics }
}

/// A self-supervised contrastive method: it owns its encoder (backbone) and heads and turns two
/// augmented views of the same images into a loss.
///
/// Conformers are `Module`s, so `namedParameters()` / `namedBuffers()` cover every trained
/// parameter and buffer with stable dotted names (`backbone.layer1.conv1.weight`,
/// `projector.fc1.weight`, …). State that is neither (EMA target networks are modules too; the
/// MoCo queue is a buffer) must also be reachable through `namedBuffers()` so checkpoints are
/// complete.
public protocol ContrastiveMethod: Module {
    /// Short identifier: `simclr`, `mocov2`, `byol`, `simsiam`, `barlowtwins`.
    var methodName: String { get }
    /// The encoder whose features are evaluated (`[N, 3, H, W] → [N, featureDimension]`).
    var backbone: any Backbone { get }
    /// The parameters the encoder optimizer trains (online networks only; EMA targets excluded).
    func trainableParameters() -> [NamedParameter]
    /// Loss and metrics for two views `[N, 3, H, W]` of the same N images.
    func loss(view1: Tensor, view2: Tensor, mode: ForwardMode) throws -> MethodOutput
    /// Called after each optimizer step (EMA target updates, queue bookkeeping).
    /// - Parameters: step: the 0-based step just taken; totalSteps: the run's total (for τ schedules).
    func didStep(step: Int, totalSteps: Int)
}
