import Contrastive
import NN
import TensorCore

/// The reference SimCLR workload of the benchmarks and the PyTorch parity replay, built from the
/// training code itself: `Contrastive.SimCLR` on `SmallResNet(width)`, trained by
/// `Contrastive.PlainStepper` (what `backdrop train --method simclr` runs) with SGD.
///
/// Head (`Heads.twoLayerBN`): `Linear(4w→4w, with bias) → BN1d → ReLU → Linear(4w→out)`, named
/// like `torch.nn.Sequential` (`projector.0.weight`, `projector.0.bias`, `projector.1.running_mean`,
/// …, `projector.3.bias`); backbone names follow PyTorch's module paths
/// (`backbone.layer2.shortcut.0.weight`). `scripts/torch_ref.py` builds the same model.
public enum ReferenceWorkload {
    /// The optimizer of the workload: SGD lr 0.1, momentum 0.9, dampening 0, weight decay 5e-4
    /// on **all** parameters (biases and batch-norm affine parameters included).
    public static let learningRate: Float = 0.1, momentum: Float = 0.9, weightDecay: Float = 5e-4
    /// NT-Xent temperature.
    public static let temperature: Float = 0.2
    /// Output width of the projection head.
    public static let outDimension = 64

    /// `SmallResNet(width)` and `SimCLR` with projector hidden width `4 × width` (the feature
    /// width) and `outDimension` outputs. The backbone and the head are both initialized from
    /// `seed`, as `backdrop train` does.
    public static func simclr(width: Int, outDimension: Int = outDimension, temperature: Float = temperature, seed: UInt64 = 0) -> SimCLR {
        var rng = SeededRNG(seed: seed)
        let backbone = SmallResNet(width: width, rng: &rng)
        return SimCLR(backbone: backbone, projectorHidden: 4 * width, projectorOutput: outDimension, temperature: temperature, seed: seed)
    }

    /// The workload's SGD over `method.trainableParameters()` (weight decay on every parameter).
    public static func optimizer(for method: SimCLR, momentum: Float = momentum, weightDecay: Float = weightDecay) -> SGD {
        SGD(method.trainableParameters(), momentum: momentum, weightDecay: weightDecay, excludeFromWeightDecay: .none)
    }

    /// `PlainStepper` over `method` and `optimizer(for:momentum:weightDecay:)`.
    public static func stepper(for method: SimCLR, momentum: Float = momentum, weightDecay: Float = weightDecay) -> PlainStepper {
        PlainStepper(method: method, optimizer: optimizer(for: method, momentum: momentum, weightDecay: weightDecay))
    }
}

/// One benchmark run of the workload: a fresh `ReferenceWorkload.simclr` (seed 0), its
/// `PlainStepper`, and two fixed random views `[batch, 3, size, size]` (seed 1; augmentation is
/// not part of the workload). Each `step()` is one `PlainStepper.step` at the workload's
/// learning rate.
public final class SimCLRTrainingRun {
    public let method: SimCLR
    public let stepper: PlainStepper
    public let view1: Tensor, view2: Tensor
    /// The run's planned length (passed to the stepper; SimCLR has no schedule that reads it).
    public let totalSteps: Int
    public private(set) var stepsTaken = 0

    public init(width: Int, size: Int, batch: Int, outDimension: Int = ReferenceWorkload.outDimension, totalSteps: Int) {
        method = ReferenceWorkload.simclr(width: width, outDimension: outDimension, seed: 0)
        stepper = ReferenceWorkload.stepper(for: method)
        var rng = SeededRNG(seed: 1)
        view1 = Tensor.normal([batch, 3, size, size], rng: &rng)
        view2 = Tensor.normal([batch, 3, size, size], rng: &rng)
        self.totalSteps = totalSteps
    }

    /// One training step; returns the stepper's metrics (`loss` among them).
    @discardableResult
    public func step() throws -> [String: Float] {
        let metrics = try stepper.step(view1: view1, view2: view2, learningRate: ReferenceWorkload.learningRate,
                                       step: stepsTaken, totalSteps: totalSteps)
        stepsTaken += 1
        return metrics
    }
}

/// What the parity replay compares of one step besides the resulting state: backbone features
/// `[2N, F]`, projections `[2N, d]` (view 1 rows, then view 2), the loss and the gradient of every
/// trainable parameter — computed with the method's own API (`comparisonVectors`, `baseLoss`).
///
/// The pass runs in `.trainFrozenStatistics` mode: the same batch-statistics arithmetic as the
/// stepper's `.train` pass, but it leaves the batch-norm running statistics alone, so the
/// `PlainStepper.step` that follows on the same views is the only pass that updates them.
public struct StepInspection {
    public let features: Tensor
    public let projections: Tensor
    public let loss: Tensor
    /// Keyed by the parameter values at inspection time (what an `Optimizer` takes); an optimizer
    /// step replaces those values, so look gradients up by name afterwards.
    public let gradients: Gradients
    /// Every trainable parameter's gradient by dotted name (zeros where the loss does not reach it).
    public let gradientsByName: [String: Tensor]

    public init(_ method: any ContrastiveMethod, view1: Tensor, view2: Tensor) throws {
        let vectors = try method.comparisonVectors(view1: view1, view2: view2, mode: .trainFrozenStatistics, reusingTargetsOf: nil)
        let loss = method.baseLoss(vectors)
        let pair = vectors.pairs[0]
        let parameters = method.trainableParameters()
        let gradients = loss.gradients(for: parameters.map(\.parameter.value))
        self.gradients = gradients
        gradientsByName = Dictionary(uniqueKeysWithValues: parameters.map {
            ($0.name, gradients[$0.parameter.value] ?? .zeros($0.parameter.shape))
        })
        features = vectors.features.detached()
        projections = Tensor.concat([pair.first.detached(), pair.second.detached()], axis: 0)
        self.loss = loss.detached()
    }
}
