import ArgumentParser
import Contrastive
import Evaluation
import Foundation
import Harness

/// `backdrop train`: one cell end to end (train, then evaluate on every test view).
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train one contrastive model on a dataset folder and evaluate it on every test view.",
        discussion: """
        Trains METHOD (optionally with the ICL-MSR regularizer) on the train split rendered in the train view, \
        printing a progress line (step, loss, images/s, ETA) on stderr, then evaluates the frozen backbone with a \
        linear probe and a cosine kNN on the test split in the views full, foreground, only-background, mixed-same \
        and mixed-random. With --checkpoint-dir an interrupted run resumes where it stopped, bit-identically.
        """)

    @Option(help: "Dataset folder holding train/ and test/ (see `backdrop dataset generate`).") var data: String
    @Option(help: "simclr, mocov2, byol, simsiam or barlowtwins.") var method = "simclr"
    @Option(help: "none or icl-msr.") var regularizer = "none"
    @Option(help: "Training view: full or foreground.") var trainView = "full"
    @Option(help: "Training epochs.") var epochs = 20
    @Option(help: "Images per batch (at least 2).") var batchSize = 128
    @Option(help: "Base learning rate per 256 images (default: the method's solo-learn recipe).") var lr: Float?
    @Option(help: "Optimizer: sgd, lars or adamw (default: the method's recipe).") var optimizer: String?
    @Option(help: "Weight decay (default: the method's recipe).") var weightDecay: Float?
    @Option(help: "Linear warm-up epochs (default: 10% of the run, at most 10).") var warmupEpochs: Double?
    @Option(help: "Seed of initialization, shuffling and augmentation.") var seed: UInt64 = 0
    @Option(help: "Backbone: small-resnet or resnet18.") var backbone = "small-resnet"
    @Option(help: "Backbone width (channels of the first stage).") var width = 16
    @Option(help: "Image side the dataset is resized to.") var imageSize = 32
    @Option(help: "Augmentation preset: symmetric, symmetric_weak, asymmetric or quick (default: the method's; quick: short CPU runs, see docs/Training.md).") var preset: String?
    @Option(help: "Fill of removed pixels in foreground / only-background views: gray, mean, black or noise.") var fill = "gray"
    @Option(help: "Folder for checkpoint.safetensors; an existing checkpoint of the same configuration is resumed.") var checkpointDir: String?
    @Option(help: "Write {config, metrics, evaluations} as JSON to this file.") var json: String?
    @Flag(help: "No progress lines.") var quiet = false

    // Method options (nil: the method's default scaled to the backbone width).
    @Option(help: "Temperature (simclr, mocov2).") var temperature: Float?
    @Option(help: "Projector hidden width.") var projectorHidden: Int?
    @Option(help: "Projector output width.") var projectorOutput: Int?
    @Option(help: "Predictor hidden width (byol, simsiam).") var predictorHidden: Int?
    @Option(help: "MoCo v2 queue length (default: min(4096, whole batches in the train split)).") var queueSize: Int?
    @Option(help: "EMA τ at the first step (byol, mocov2).") var emaBase: Float?
    @Option(help: "EMA τ at the last step (byol, mocov2).") var emaFinal: Float?
    @Option(help: "Barlow Twins off-diagonal weight λ.") var lambda: Float?
    @Option(help: "Barlow Twins loss scale.") var scale: Float?

    // ICL-MSR options (only with --regularizer icl-msr).
    @Option(help: "ICL-MSR: number of strata K.") var msrStrata: Int?
    @Option(help: "ICL-MSR: weight λ of L_MSR.") var msrWeight: Float?
    @Option(help: "ICL-MSR: prior, learned or uniform.") var msrPrior: String?
    @Option(help: "ICL-MSR: injection, additive or gated.") var msrInjection: String?
    @Option(help: "ICL-MSR: init scale σ of the strata.") var msrStrataScale: Float?
    @Option(help: "ICL-MSR: virtual step size α (default: the encoder's current lr).") var msrVirtualLr: Float?
    @Option(help: "ICL-MSR: finite-difference radius r.") var msrFdRadius: Float?
    @Option(help: "ICL-MSR: meta step every N iterations.") var msrMetaInterval: Int?
    @Option(help: "ICL-MSR: meta optimizer, sgd or adam.") var msrMetaOptimizer: String?
    @Option(help: "ICL-MSR: meta learning rate.") var msrMetaLr: Float?
    @Option(help: "ICL-MSR: meta SGD momentum.") var msrMetaMomentum: Float?
    @Option(help: "ICL-MSR: meta weight decay.") var msrMetaWeightDecay: Float?
    @Option(help: "ICL-MSR: where the virtual step's gradient is taken, shared or recomputed.") var msrMetaGradient: String?

    // Evaluation.
    @Option(help: "View of the train split for the probe and the kNN bank (default: the train view).") var probeView: String?
    @Option(help: "kNN neighbours.") var knnK = 20
    @Option(help: "kNN vote temperature.") var knnTemperature: Float = 0.07
    @Option(help: "Linear-probe weight decay λ (penalty λ/2‖W‖²).") var probeWeightDecay = 1e-4

    /// The resolved configuration, or a `ValidationError` naming the option.
    func makeConfig() throws -> TrainConfig {
        var c = TrainConfig(data: data)
        c.method = method
        c.trainView = trainView
        c.epochs = epochs
        c.batchSize = batchSize
        c.seed = seed
        c.backbone = backbone
        c.width = width
        c.imageSize = imageSize
        c.preset = preset
        c.fill = fill
        c.methodOptions = MethodOptions(temperature: temperature, projectorHidden: projectorHidden, projectorOutput: projectorOutput,
                                        predictorHidden: predictorHidden, queueSize: queueSize, emaBase: emaBase, emaFinal: emaFinal,
                                        lambda: lambda, scale: scale)
        if lr != nil || optimizer != nil || weightDecay != nil || warmupEpochs != nil {
            var spec = OptimizerSpec.recipe(for: method.lowercased())
            if let o = optimizer {
                guard let kind = OptimizerSpec.Kind(rawValue: o) else { throw ValidationError("--optimizer: unknown optimizer '\(o)'; use sgd, lars or adamw") }
                spec.kind = kind
            }
            if let lr { spec.baseLearningRate = lr }
            if let weightDecay { spec.weightDecay = weightDecay }
            if let warmupEpochs { spec.warmupEpochs = warmupEpochs }
            c.optimizer = spec
        }
        c.regularizer = try regularizerOptions()
        c.evaluation.probeView = probeView
        c.evaluation.knnK = knnK
        c.evaluation.knnTemperature = knnTemperature
        c.evaluation.probeWeightDecay = probeWeightDecay
        do { try c.validate() } catch let e as TrainConfig.Invalid { throw ValidationError(e.description) }
        return c
    }

    func regularizerOptions() throws -> ICLMSROptions? {
        let given: [(String, Any?)] = [("--msr-strata", msrStrata), ("--msr-weight", msrWeight), ("--msr-prior", msrPrior),
                                       ("--msr-injection", msrInjection), ("--msr-strata-scale", msrStrataScale),
                                       ("--msr-virtual-lr", msrVirtualLr), ("--msr-fd-radius", msrFdRadius),
                                       ("--msr-meta-interval", msrMetaInterval), ("--msr-meta-optimizer", msrMetaOptimizer),
                                       ("--msr-meta-lr", msrMetaLr), ("--msr-meta-momentum", msrMetaMomentum),
                                       ("--msr-meta-weight-decay", msrMetaWeightDecay), ("--msr-meta-gradient", msrMetaGradient)]
        switch regularizer {
        case "none":
            if let (flag, _) = given.first(where: { $0.1 != nil }) {
                throw ValidationError("\(flag) applies only with --regularizer icl-msr")
            }
            return nil
        case "icl-msr":
            var o = ICLMSROptions()
            if let v = msrStrata { o.strata = v }
            if let v = msrWeight { o.weight = v }
            if let v = msrPrior {
                guard let p = ICLMSROptions.Prior(rawValue: v) else { throw ValidationError("--msr-prior: unknown prior '\(v)'; use learned or uniform") }
                o.prior = p
            }
            if let v = msrInjection {
                guard let i = ICLMSROptions.Injection(rawValue: v) else { throw ValidationError("--msr-injection: unknown injection '\(v)'; use additive or gated") }
                o.injection = i
            }
            if let v = msrStrataScale { o.strataScale = v }
            if let v = msrVirtualLr { o.virtualLR = v }
            if let v = msrFdRadius { o.fdRadius = v }
            if let v = msrMetaInterval { o.metaInterval = v }
            if let v = msrMetaGradient {
                guard let g = ICLMSROptions.MetaGradient(rawValue: v) else { throw ValidationError("--msr-meta-gradient: unknown value '\(v)'; use shared or recomputed") }
                o.metaGradient = g
            }
            switch msrMetaOptimizer ?? "sgd" {
            case "sgd":
                guard case let .sgd(lr0, m0, wd0) = ICLMSROptions.MetaOptimizer.sgd() else { break }
                o.metaOptimizer = .sgd(learningRate: msrMetaLr ?? lr0, momentum: msrMetaMomentum ?? m0, weightDecay: msrMetaWeightDecay ?? wd0)
            case "adam":
                if msrMetaMomentum != nil { throw ValidationError("--msr-meta-momentum applies only to --msr-meta-optimizer sgd") }
                guard case let .adam(lr0, wd0) = ICLMSROptions.MetaOptimizer.adam() else { break }
                o.metaOptimizer = .adam(learningRate: msrMetaLr ?? lr0, weightDecay: msrMetaWeightDecay ?? wd0)
            case let other:
                throw ValidationError("--msr-meta-optimizer: unknown optimizer '\(other)'; use sgd or adam")
            }
            return o
        default:
            throw ValidationError("--regularizer: unknown regularizer '\(regularizer)'; use none or icl-msr")
        }
    }

    func validate() throws { _ = try makeConfig() }

    func run() throws {
        let config = try makeConfig()
        let result: CellResult
        do {
            result = try TrainingCell.run(config, checkpointDirectory: checkpointDir, progress: quiet ? nil : ProgressReporter())
        } catch let e as TrainConfig.Invalid {
            throw ValidationError(e.description)
        }
        print(EvaluationTable.render(result.evaluations))
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(result).write(to: URL(fileURLWithPath: json))
            print("wrote \(json)")
        }
    }
}
