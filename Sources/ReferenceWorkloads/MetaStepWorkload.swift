import Contrastive
import NN
import TensorCore

/// The shape of the ICL-MSR cost benchmark: what `backdrop train` runs by default
/// (`TrainConfig`: SmallResNet width 16, 32 px, batch 128; MoCo v2's queue 4096, its default
/// for a training split of at least 4096 images).
public struct MetaStepShape: Sendable, Codable, Equatable {
    public var width = 16, size = 32, batch = 128, queueSize = 4096
    public init(width: Int = 16, size: Int = 32, batch: Int = 128, queueSize: Int = 4096) {
        (self.width, self.size, self.batch, self.queueSize) = (width, size, batch, queueSize)
    }
}

/// A plain and an ICL-MSR stepper of one method, built as `backdrop train` builds a cell
/// (`TrainingCell.makeStepper`): the same initial model (seed 0) twice, each with its own
/// optimizer from the method's recipe (`MethodName.recipe`), the ICL-MSR one with the default
/// `ICLMSROptions` unless told otherwise (K 16, λ 1, a bi-level meta step every 3rd iteration,
/// `metaGradient: shared`) and
/// the strata's seed `seed &+ 0x4D5352`. Both step on the same two fixed random views
/// `[batch, 3, size, size]` (seed 1; augmentation is not part of the workload) at the recipe's
/// rate scaled to the batch (`OptimizerSpec.scaledLearningRate`, no schedule).
public final class MetaStepPair {
    public let methodName: MethodName
    public let plain: PlainStepper
    public let iclmsr: ICLMSRStepper
    public let view1: Tensor, view2: Tensor
    public let learningRate: Float
    public let totalSteps: Int
    public private(set) var plainSteps = 0, iclmsrSteps = 0

    public init(method name: MethodName, shape: MetaStepShape, totalSteps: Int, options: ICLMSROptions = .init()) throws {
        func build() throws -> (any ContrastiveMethod, any Optimizer) {
            let backbone = BackboneArchitecture.smallResNet.make(width: shape.width, seed: 0)
            let method = try makeMethod(name: name, backbone: backbone,
                                        options: name == .mocov2 ? MethodOptions(queueSize: shape.queueSize) : MethodOptions(), seed: 0)
            return (method, name.recipe.optimizer.makeOptimizer(method.trainableParameters()))
        }
        let (plainMethod, plainOptimizer) = try build()
        let (iclMethod, iclOptimizer) = try build()
        methodName = name
        plain = PlainStepper(method: plainMethod, optimizer: plainOptimizer)
        iclmsr = try ICLMSRStepper(method: iclMethod, optimizer: iclOptimizer, options: options, seed: 0 &+ 0x4D_53_52)
        var rng = SeededRNG(seed: 1)
        view1 = Tensor.normal([shape.batch, 3, shape.size, shape.size], rng: &rng)
        view2 = Tensor.normal([shape.batch, 3, shape.size, shape.size], rng: &rng)
        learningRate = name.recipe.optimizer.scaledLearningRate(batchSize: shape.batch)
        self.totalSteps = totalSteps
    }

    /// One plain step; returns its `loss`.
    @discardableResult
    public func plainStep() throws -> Float {
        defer { plainSteps += 1 }
        return try plain.step(view1: view1, view2: view2, learningRate: learningRate, step: plainSteps, totalSteps: totalSteps)["loss"] ?? .nan
    }

    /// One ICL-MSR step (its meta step included); returns its `loss` (`L_enc`).
    @discardableResult
    public func iclmsrStep() throws -> Float {
        defer { iclmsrSteps += 1 }
        return try iclmsr.step(view1: view1, view2: view2, learningRate: learningRate, step: iclmsrSteps, totalSteps: totalSteps)["loss"] ?? .nan
    }
}
