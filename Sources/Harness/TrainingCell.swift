import Contrastive
import Evaluation
import Foundation
import ImageData
import NN
import TensorCore

/// Everything one cell produced: the resolved configuration, per-epoch metrics and every
/// evaluation row. Encodes to the `backdrop train --json` document
/// `{"config": …, "metrics": [per-epoch summaries], "evaluations": [rows], …}`.
public struct CellResult: Codable, Sendable {
    public var config: TrainConfig
    public var metrics: [EpochSummary]
    public var evaluations: [EvaluationResult]
    /// Train and test split sizes and class count.
    public var trainImages: Int
    public var testImages: Int
    public var classes: [String]
    /// Bad samples skipped while loading (always 0 under the default `fail` policy).
    public var badSamples: Int
    /// Steps run in this process (0 when a finished checkpoint was found) and their seconds.
    public var stepsRun: Int
    public var trainingSeconds: Double
    public var evaluationSeconds: Double
    /// Whether training continued from a checkpoint.
    public var resumed: Bool

    enum CodingKeys: String, CodingKey {
        case config, metrics, evaluations, classes, resumed
        case trainImages = "train_images", testImages = "test_images", badSamples = "bad_samples"
        case stepsRun = "steps_run", trainingSeconds = "training_seconds", evaluationSeconds = "evaluation_seconds"
    }
}

/// Training stopped at a step limit before the end of the run (nothing was evaluated).
public struct TrainingInterrupted: Error, CustomStringConvertible {
    public var position: TrainingPosition
    public var description: String { "training stopped at step \(position.step) (epoch \(position.epoch + 1)) by the step limit" }
}

/// Runs one cell end to end: load the dataset, build the method (+ ICL-MSR), train with
/// checkpoint/resume, evaluate the frozen backbone on every test view.
public enum TrainingCell {
    /// The checkpoint file of a cell inside `directory`.
    public static func checkpointURL(in directory: String) -> URL {
        URL(fileURLWithPath: directory).appendingPathComponent("checkpoint.safetensors")
    }

    /// Builds the backbone of `config` (seeded by `config.seed`).
    public static func makeBackbone(_ config: TrainConfig) -> any Backbone {
        var rng = SeededRNG(seed: config.seed)
        switch config.backbone {
        case "resnet18": return ResNet18(width: config.width, rng: &rng)
        default: return SmallResNet(width: config.width, rng: &rng)
        }
    }

    /// Builds the stepper of `config` (method, encoder optimizer, ICL-MSR) from scratch.
    /// - Parameter config: resolved (`TrainConfig.resolved`).
    public static func makeStepper(_ config: TrainConfig) throws -> any TrainingStepper {
        let method = try makeMethod(name: config.method, backbone: makeBackbone(config), options: config.methodOptions, seed: config.seed)
        let optimizer = (config.optimizer ?? .recipe(for: config.method)).makeOptimizer(method.trainableParameters())
        return try makeTrainingStepper(method: method, optimizer: optimizer, regularizer: config.regularizer, seed: config.seed &+ 0x4D53_52)
    }

    /// Runs the cell.
    /// - Parameters:
    ///   - config: validated here first; nothing is loaded when it is invalid.
    ///   - checkpointDirectory: where `checkpoint.safetensors` lives; an existing one is resumed
    ///     (and must come from the same configuration). `nil`: no checkpoints.
    ///   - sink: per-step metrics (nil: none).
    ///   - progress: progress lines (nil: silent).
    ///   - datasetOptions: mask format and bad-sample policy (the size is `config.imageSize`).
    ///   - checkpointEverySteps, checkpointWritten: see `CheckpointPolicy`.
    ///   - stepLimit: stop training before this global step and throw `TrainingInterrupted`
    ///     (tests of resumption); nil: train to the end.
    public static func run(_ config: TrainConfig, checkpointDirectory: String? = nil, sink: (any MetricSink)? = nil,
                           progress: ProgressReporter? = nil, datasetOptions: DatasetOptions? = nil,
                           checkpointEverySteps: Int? = nil,
                           checkpointWritten: (@Sendable (TrainingPosition, URL) throws -> Void)? = nil,
                           stepLimit: Int? = nil) throws -> CellResult {
        try config.validate()
        var options = datasetOptions ?? DatasetOptions()
        options.size = config.imageSize
        let train = try Dataset.load(root: config.data, split: "train", options: options)
        let test = try Dataset.load(root: config.data, split: "test", options: options)
        let resolved = config.resolved(trainImages: train.count)
        try resolved.validate()
        guard resolved.batchSize <= train.count else {
            throw TrainConfig.Invalid(option: "--batch-size", message: "\(resolved.batchSize) is larger than the train split (\(train.count) images)")
        }
        let normalization = Normalization(of: train)
        let viewOptions = ViewOptions(fill: BackgroundFill(rawValue: resolved.fill)!, seed: resolved.partnerSeed)
        let trainRenderer = ViewRenderer(split: train, options: viewOptions, partnerSeed: resolved.partnerSeed)
        let testRenderer = ViewRenderer(split: test, options: viewOptions, partnerSeed: resolved.partnerSeed)
        let loader = try BatchLoader(renderer: trainRenderer, configuration: LoaderConfiguration(
            batchSize: resolved.batchSize, view: ViewKind(rawValue: resolved.trainView)!,
            preset: AugmentationPreset(rawValue: resolved.preset!)!, normalization: normalization, seed: resolved.seed))

        let stepper = try makeStepper(resolved)
        let spec = resolved.optimizer!
        let schedule = spec.schedule(batchSize: resolved.batchSize, stepsPerEpoch: loader.batchesPerEpoch, epochs: resolved.epochs)
        let checkpointURL = checkpointDirectory.map(checkpointURL(in:))
        let loop = try TrainingLoop(stepper: stepper, source: loader, schedule: schedule, epochs: resolved.epochs, sink: sink,
                                    progress: progress, checkpoint: checkpointURL.map { CheckpointPolicy(url: $0, everySteps: checkpointEverySteps, didWrite: checkpointWritten) },
                                    configFingerprint: resolved.trainingFingerprint())
        var resumed = false
        if let url = checkpointURL, FileManager.default.fileExists(atPath: url.path) {
            try loop.restore(from: url)
            resumed = true
            progress?.message("resuming from \(url.path) at epoch \(loop.position.epoch + 1), step \(loop.position.step)")
        }
        progress?.message("training \(resolved.method)\(resolved.regularizer == nil ? "" : " + icl-msr") on \(train.count) images "
                          + "(\(resolved.trainView)), \(resolved.epochs) epochs × \(loader.batchesPerEpoch) steps, batch \(resolved.batchSize), "
                          + "\(spec.kind.rawValue) lr \(spec.scaledLearningRate(batchSize: resolved.batchSize))")
        let outcome = try loop.run(stepLimit: stepLimit)
        if !outcome.finished { throw TrainingInterrupted(position: outcome.position) }

        let evaluationStart = Date()
        let e = resolved.evaluation
        let evaluation = FrozenEvaluation(probeView: ViewKind(rawValue: e.probeView ?? resolved.trainView)!,
                                          testViews: e.testViews.compactMap(ViewKind.init(rawValue:)),
                                          knn: KNNClassifier(k: e.knnK, temperature: e.knnTemperature),
                                          probe: LinearProbe(weightDecay: e.probeWeightDecay, maxIterations: e.probeMaxIterations))
        let rows = try evaluation.run(backbone: stepper.method.backbone, train: trainRenderer, test: testRenderer,
                                      normalization: normalization, progress: progress.map { p in { p.message($0) } })
        return CellResult(config: resolved, metrics: outcome.epochs, evaluations: rows, trainImages: train.count, testImages: test.count,
                          classes: train.classes, badSamples: train.skippedCount + test.skippedCount, stepsRun: outcome.stepsRun,
                          trainingSeconds: outcome.seconds, evaluationSeconds: Date().timeIntervalSince(evaluationStart), resumed: resumed)
    }
}
