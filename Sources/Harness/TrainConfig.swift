import Contrastive
import Evaluation
import Foundation
import ImageData
import ResultsStore

/// The fully resolved configuration of one training cell
/// `(dataset, train view, method, regularizer, seed)` plus everything else a number depends on.
///
/// `backdrop train` builds one from its options; experiment specs will build many. Defaults that
/// depend on the method (optimizer recipe, augmentation preset, MoCo queue size) are filled in by
/// `resolved(trainImages:)`, so the stored configuration always states the values actually used.
public struct TrainConfig: Codable, Sendable, Equatable {
    /// Dataset folder (holds `train/` and `test/`).
    public var data: String
    /// Side length the images are resized to.
    public var imageSize: Int = 32
    public var method: String = "simclr"
    public var methodOptions: MethodOptions = MethodOptions()
    /// ICL-MSR options; `nil` trains without a regularizer.
    public var regularizer: ICLMSROptions? = nil
    /// `full` or `foreground`.
    public var trainView: String = "full"
    public var epochs: Int = 20
    public var batchSize: Int = 128
    /// `nil`: `OptimizerSpec.recipe(for: method)`.
    public var optimizer: OptimizerSpec? = nil
    public var seed: UInt64 = 0
    /// `small-resnet` or `resnet18`.
    public var backbone: String = "small-resnet"
    public var width: Int = 16
    /// `symmetric`, `symmetric_weak`, `asymmetric` or `quick` (short CPU runs); `nil`: the method's preset (EXPERIMENT.md).
    public var preset: String? = nil
    /// Fill of removed pixels in the foreground / only-background views.
    public var fill: String = "gray"
    /// Seed of the mixed views' partner tables (the same for every cell, so every model sees the
    /// same mixed images).
    public var partnerSeed: UInt64 = 0
    public var evaluation: EvaluationSpec = EvaluationSpec()

    public init(data: String) { self.data = data }

    /// How the trained backbone is evaluated.
    public struct EvaluationSpec: Codable, Sendable, Equatable {
        /// View of the train split for the probe and the kNN bank; `nil`: the train view.
        public var probeView: String? = nil
        public var testViews: [String] = ViewKind.allCases.map(\.rawValue)
        public var knnK: Int = 20
        public var knnTemperature: Float = 0.07
        public var probeWeightDecay: Double = 1e-4
        public var probeMaxIterations: Int = 1000
        public init() {}
    }

    /// The augmentation preset of each method (EXPERIMENT.md).
    public static func defaultPreset(for method: String) -> String {
        switch method {
        case "simclr": return AugmentationPreset.symmetric.rawValue
        case "mocov2", "simsiam": return AugmentationPreset.symmetricWeak.rawValue
        default: return AugmentationPreset.asymmetric.rawValue
        }
    }

    /// A copy with every method-dependent default made explicit.
    /// - Parameter trainImages: the train split's size (MoCo v2's queue is capped by it).
    public func resolved(trainImages: Int?) -> TrainConfig {
        var c = self
        c.method = method.lowercased()
        if c.optimizer == nil { c.optimizer = .recipe(for: c.method) }
        if c.preset == nil { c.preset = Self.defaultPreset(for: c.method) }
        if c.evaluation.probeView == nil { c.evaluation.probeView = trainView }
        if c.method == "mocov2", c.methodOptions.queueSize == nil, let n = trainImages {
            // "Sized to the dataset": 4096 negatives, or as many whole batches as the split holds.
            c.methodOptions.queueSize = max(batchSize, min(4096, (n / batchSize) * batchSize))
        }
        return c
    }

    /// A problem with one field, named as `backdrop train` spells the option.
    public struct Invalid: Error, CustomStringConvertible, Equatable {
        /// The option (`--batch-size`, `--msr-strata`, …).
        public var option: String
        public var message: String
        public var description: String { "\(option): \(message)" }
    }

    /// Checks every option before anything is loaded or trained.
    /// - Throws: `Invalid` naming the first bad option.
    public func validate() throws {
        func bad(_ option: String, _ message: String) -> Invalid { Invalid(option: option, message: message) }
        guard let name = MethodName(rawValue: method.lowercased()) else {
            throw bad("--method", "unknown method '\(method)'; choose one of \(MethodName.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let view = ViewKind(rawValue: trainView), view == .full || view == .foreground else {
            throw bad("--train-view", "'\(trainView)' is not a training view; use full or foreground")
        }
        guard epochs >= 1 else { throw bad("--epochs", "must be at least 1, got \(epochs)") }
        guard batchSize >= 2 else { throw bad("--batch-size", "a contrastive batch needs at least 2 images, got \(batchSize)") }
        guard width >= 1 && width <= 1024 else { throw bad("--width", "must lie in 1…1024, got \(width)") }
        guard ["small-resnet", "resnet18"].contains(backbone) else {
            throw bad("--backbone", "unknown backbone '\(backbone)'; use small-resnet or resnet18")
        }
        guard imageSize >= 8 && imageSize <= 1024 else { throw bad("--image-size", "must lie in 8…1024, got \(imageSize)") }
        if let p = preset, AugmentationPreset(rawValue: p) == nil {
            throw bad("--preset", "unknown preset '\(p)'; use \(AugmentationPreset.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard BackgroundFill(rawValue: fill) != nil else {
            throw bad("--fill", "unknown fill '\(fill)'; use \(BackgroundFill.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let o = optimizer, let problem = o.validationError {
            let flags = ["baseLearningRate": "--lr", "weightDecay": "--weight-decay", "momentum": "--momentum", "warmupEpochs": "--warmup-epochs"]
            throw bad(flags[problem.field] ?? "optimizer.\(problem.field)", problem.reason)
        }
        do {
            var options = methodOptions
            options.batchSize = batchSize
            try options.validate(for: name)
        } catch let error as ConfigurationError {
            throw Self.renamed(error, prefix: "--")
        }
        if let r = regularizer {
            do { try r.validate() } catch let error as ConfigurationError { throw Self.renamed(error, prefix: "--msr-") }
        }
        let e = evaluation
        if let p = e.probeView, ViewKind(rawValue: p) == nil {
            throw bad("--probe-view", "unknown view '\(p)'; use \(ViewKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        for v in e.testViews where ViewKind(rawValue: v) == nil { throw bad("--test-views", "unknown view '\(v)'") }
        guard e.knnK >= 1 else { throw bad("--knn-k", "k must be at least 1, got \(e.knnK)") }
        guard e.knnTemperature.isFinite && e.knnTemperature > 0 else { throw bad("--knn-temperature", "must be finite and > 0, got \(e.knnTemperature)") }
        guard e.probeWeightDecay.isFinite && e.probeWeightDecay >= 0 else { throw bad("--probe-weight-decay", "must be finite and ≥ 0") }
        guard e.probeMaxIterations >= 1 else { throw bad("--probe-iterations", "must be at least 1") }
    }

    /// Maps a Contrastive option name (`projectorHidden`, `metaOptimizer.learningRate`) to the
    /// command-line flag (`--projector-hidden`, `--msr-meta-lr`).
    static func renamed(_ error: ConfigurationError, prefix: String) -> Invalid {
        switch error {
        case let .invalidOption(option, value, reason):
            let special = ["metaOptimizer.learningRate": "meta-lr", "metaOptimizer.momentum": "meta-momentum",
                           "metaOptimizer.weightDecay": "meta-weight-decay", "batchSize": "batch-size"]
            let flag = special[option] ?? kebab(option)
            return Invalid(option: (option == "batchSize" ? "--" : prefix) + flag, message: "invalid value \(value): \(reason)")
        case .unknownMethod(let m):
            return Invalid(option: "--method", message: "unknown method '\(m)'")
        case .unsupportedBackbone(let b):
            return Invalid(option: "--backbone", message: "\(b) is not supported by this method")
        }
    }

    /// `strataScale` → `strata-scale`.
    static func kebab(_ s: String) -> String {
        var out = ""
        for ch in s {
            if ch.isUppercase { out += "-" + ch.lowercased() } else if ch == "." { out += "-" } else { out.append(ch) }
        }
        return out
    }

    /// The configuration as canonical JSON (sorted keys).
    public func canonicalJSON() -> String { CanonicalJSON.string(self) }

    /// What a checkpoint must match: the configuration without its evaluation options (which do
    /// not affect training, so a finished run can be re-evaluated with other k, T or probe
    /// settings from its checkpoint).
    public func trainingFingerprint() -> String {
        var c = self
        c.evaluation = EvaluationSpec()
        return c.canonicalJSON()
    }
}
