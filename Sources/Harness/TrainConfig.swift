import Contrastive
import Evaluation
import Foundation
import ImageData
import NN
import ResultsStore
import TensorCore

/// The fully resolved configuration of one training cell
/// `(dataset, train view, method, regularizer, seed)` plus everything else a number depends on.
///
/// Its keys are an experiment spec's keys (`train.batchSize`, `iclmsr.strata`, `optimizer.lr`,
/// `evaluation.knn.k`), so a stored configuration, a `--set key=value` and an error message
/// all speak one language. Defaults that depend on the method (optimizer recipe, augmentation
/// preset, MoCo v2's queue) are filled in by `resolved(trainImages:)`, so the stored
/// configuration always states the values actually used.
public struct TrainConfig: Codable, Sendable, Equatable {
    /// Dataset folder (holds `train/` and `test/`).
    public var data: String
    /// Side length the images are resized to.
    public var imageSize: Int = 32
    public var method: MethodName = .simclr
    /// The method's options (`methodOptions.<method>` in a spec).
    public var methodOptions = MethodOptions()
    /// ICL-MSR's options; `nil` trains without a regularizer.
    public var iclmsr: ICLMSROptions? = nil
    /// A background intervention on the training images (`background-swap`/`background-remove`,
    /// optionally with same-background hard negatives; `nil`: none).
    public var intervention: BackgroundIntervention? = nil
    public var trainView: TrainingView = .full
    /// Seed of initialization, shuffling and augmentation.
    public var seed: UInt64 = 0
    /// Seed of the mixed views' partner tables (the same for every cell, so every model sees the
    /// same mixed images).
    public var partnerSeed: UInt64 = 0
    public var model = ModelOptions()
    public var train = TrainingOptions()
    /// `nil`: the method's recipe (`MethodName.recipe`).
    public var optimizer: OptimizerSpec? = nil
    public var schedule = ScheduleSpec()
    public var evaluation = EvaluationOptions()
    /// Set for a control cell: what it measures instead of a trained encoder (`nil`: train).
    public var control: Control? = nil

    public init(data: String) { self.data = data }

    /// A control measured the same way as the trained cells (`controls:` in a spec).
    public enum Control: String, CaseIterable, Codable, Sendable {
        /// The seed-matched initial encoder, evaluated without any training: every encoder
        /// effect is trained − untrained under the same probe, paired by seed.
        case untrained
    }

    /// The backbone (`model:` in a spec).
    public struct ModelOptions: Codable, Sendable, Equatable {
        public var backbone: BackboneArchitecture = .smallResNet
        /// Channels of the first stage.
        public var width: Int = 16
        public init(backbone: BackboneArchitecture = .smallResNet, width: Int = 16) { (self.backbone, self.width) = (backbone, width) }
    }

    /// Length and shape of training (`train:` in a spec).
    public struct TrainingOptions: Codable, Sendable, Equatable {
        public var epochs: Int = 20
        public var batchSize: Int = 128
        /// Augmentation preset; `nil`: the method's (spelled `default` in a spec).
        public var augmentation: AugmentationPreset? = nil
        /// Fill of removed pixels in the foreground / only-background views.
        public var fill: BackgroundFill = .gray
        /// Also checkpoint every this many steps inside an epoch (`nil`: at epoch ends only).
        public var checkpointEverySteps: Int? = nil
        public init() {}
    }

    /// The optimizer used: the configured one, else the method's recipe.
    public var effectiveOptimizer: OptimizerSpec { optimizer ?? method.recipe.optimizer }
    /// The augmentation preset used: the configured one, else the method's recipe.
    public var effectiveAugmentation: AugmentationPreset { train.augmentation ?? method.recipe.augmentation }

    /// A copy with every method-dependent default made explicit.
    /// - Parameter trainImages: the train split's size (MoCo v2's queue is capped by it).
    public func resolved(trainImages: Int?) -> TrainConfig {
        var c = self
        c.optimizer = effectiveOptimizer
        c.train.augmentation = effectiveAugmentation
        c.evaluation = evaluation.resolved(trainView: trainView.view)
        if let o = c.iclmsr { c.iclmsr?.metaOptimizer = o.metaOptimizer.resolved() }
        if method == .mocov2, c.methodOptions.queueSize == nil, let n = trainImages {
            c.methodOptions.queueSize = MoCoV2.defaultQueueSize(batchSize: train.batchSize, trainImages: n)
        }
        return c
    }

    /// Checks every option; each room checks the options it owns, then `TrainLimits` the sizes
    /// (epochs, head, queue and strata sizes, seeds, the estimated peak memory).
    /// - Parameter memoryBytes: the memory a run may use (default: the machine's physical memory).
    /// - Throws: `InvalidOption` naming the first bad key (`train.batchSize`, `iclmsr.strata`).
    public func validate(memoryBytes: UInt64 = ProcessInfo.processInfo.physicalMemory) throws {
        func bad(_ key: String, _ value: Any, _ reason: String) -> InvalidOption { InvalidOption(key: key, value: value, reason: reason) }
        func scoped(_ prefix: String, _ check: () throws -> Void) throws {
            do { try check() } catch let e as InvalidOption { throw e.scoped(prefix) }
        }
        guard imageSize >= 8 && imageSize <= 1024 else { throw bad("imageSize", imageSize, "must lie in 8…1024") }
        guard model.width >= 1 && model.width <= 1024 else { throw bad("model.width", model.width, "must lie in 1…1024") }
        guard train.epochs >= 1 else { throw bad("train.epochs", train.epochs, "must be at least 1") }
        guard train.batchSize >= 2 else { throw bad("train.batchSize", train.batchSize, "a contrastive batch needs at least 2 images") }
        if let n = train.checkpointEverySteps, n < 1 { throw bad("train.checkpointEverySteps", n, "must be at least 1") }
        try scoped("methodOptions") { try methodOptions.validate(for: method) }
        if let o = iclmsr { try scoped("iclmsr") { try o.validate(for: method) } }
        if let o = intervention { try scoped("intervention") { try o.validate() } }
        if intervention?.hardNegatives == true {
            guard method.hasNegatives else {
                throw bad("intervention.hardNegatives", true, "\(method.rawValue) has no negatives to add hard negatives to; use simclr or mocov2 (in a spec, give the variant methods: [simclr, mocov2]), or drop hardNegatives")
            }
            guard iclmsr == nil else {
                throw bad("intervention.hardNegatives", true, "hard negatives are not combined with icl-msr; train them as a regularizer of their own")
            }
        }
        if let o = optimizer { try scoped("optimizer") { try o.validate() } }
        try scoped("schedule") { try schedule.validate() }
        try scoped("evaluation") { try evaluation.validate() }
        try TrainLimits.check(self, memoryBytes: memoryBytes)
    }

    /// The configuration as canonical JSON.
    public func canonicalJSON() -> String { CanonicalJSON.string(self) }

    /// What a checkpoint must match: the configuration without the options that do not affect
    /// training (evaluation, checkpoint cadence), so a finished run can be re-evaluated with
    /// other k, T or probe settings from its checkpoint.
    public func trainingFingerprint() -> String {
        var c = self
        c.evaluation = EvaluationOptions()
        c.train.checkpointEverySteps = nil
        return c.canonicalJSON()
    }
}

/// A configuration value that cannot be used (`TensorCore.InvalidOption`), named here so the
/// front ends that import only Harness can catch it.
public typealias InvalidOption = TensorCore.InvalidOption
