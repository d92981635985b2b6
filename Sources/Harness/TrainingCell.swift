import Contrastive
import Evaluation
import Foundation
import ImageData
import NN
import TensorCore

/// Training stopped at a step limit before the end of the run (nothing was evaluated).
public struct TrainingInterrupted: Error, CustomStringConvertible {
    public var position: TrainingPosition
    /// Stopped by a ``StopRequest`` (Ctrl-C), not by the tests' step limit.
    public var requested = false
    public var description: String {
        "training stopped at step \(position.step) (epoch \(position.epoch + 1)) " + (requested ? "on request (Ctrl-C)" : "by the step limit")
    }
}

/// Runs one cell end to end: load the dataset, build the method (+ ICL-MSR), train with
/// checkpoint/resume (with `evaluation.epochDiagnostics`, measuring the stratum–background check
/// at epoch ends: `EpochDiagnostics`), evaluate the frozen backbone on every test view and named
/// test set (`evaluation.testSets`).
public enum TrainingCell {
    /// The checkpoint file of a cell inside `directory`.
    public static func checkpointURL(in directory: String) -> URL {
        URL(fileURLWithPath: directory).appendingPathComponent("checkpoint.safetensors")
    }

    /// The initial encoder of `config`'s seed: what a trained cell starts from and what the
    /// untrained control evaluates.
    public static func makeBackbone(_ config: TrainConfig) -> any Backbone {
        config.model.backbone.make(width: config.model.width, seed: config.seed)
    }

    /// Builds the stepper of `config` (method, encoder optimizer, ICL-MSR) from scratch.
    /// - Parameter config: resolved (`TrainConfig.resolved`).
    public static func makeStepper(_ config: TrainConfig) throws -> any TrainingStepper {
        let method = try makeMethod(name: config.method, backbone: makeBackbone(config), options: config.methodOptions, seed: config.seed)
        let optimizer = config.effectiveOptimizer.makeOptimizer(method.trainableParameters())
        return try makeTrainingStepper(method: method, optimizer: optimizer, regularizer: config.iclmsr, seed: config.seed &+ 0x4D53_52)
    }

    /// Runs the cell.
    /// - Parameters:
    ///   - config: validated here first; nothing is loaded when it is invalid.
    ///   - checkpointDirectory: where `checkpoint.safetensors` lives; an existing one is resumed
    ///     (and must come from the same configuration). `nil`: no checkpoints.
    ///   - sink: per-step metrics (nil: none).
    ///   - progress: progress lines (nil: silent).
    ///   - datasetOptions: mask format, bad-sample policy, packed cache folder and pretraining split
    ///     (the size is `config.imageSize`; masks are required exactly when the configuration
    ///     needs them: `TrainConfig.maskRequirements()`).
    ///   - checkpointWritten: called after each checkpoint (cadence: `config.train.checkpointEverySteps`; see `CheckpointPolicy`).
    ///   - stepLimit: stop training before this global step and throw `TrainingInterrupted`
    ///     (tests of resumption); nil: train to the end.
    ///   - stop: checked between steps; once requested, training writes a checkpoint at the step
    ///     it reached and throws `TrainingInterrupted` with `requested` set.
    public static func run(_ config: TrainConfig, checkpointDirectory: String? = nil, sink: (any MetricSink)? = nil,
                           progress: ProgressReporter? = nil, datasetOptions: DatasetOptions? = nil,
                           checkpointWritten: (@Sendable (TrainingPosition, URL) throws -> Void)? = nil,
                           stepLimit: Int? = nil, stop: StopRequest? = nil) throws -> CellResult {
        try config.validate()
        var options = datasetOptions ?? DatasetOptions()
        options.size = config.imageSize
        options.requireMasks = !config.maskRequirements().isEmpty
        let log = progress.map { p in { (line: String) in p.message(line) } }
        let train = try Dataset.load(root: config.data, split: "train", options: options, log: log)
        let test = try Dataset.load(root: config.data, split: "test", options: options, log: log)
        // Named test sets are read (and their classes checked) before anything is trained.
        var testSets: [String: DatasetSplit] = [:]
        for set in config.evaluation.testSets ?? [] {
            testSets[set.name] = try Dataset.loadTestSet(name: set.name, folder: set.folder, classes: train.classes, options: options, log: log)
        }
        // The encoder trains on the pretraining split when the dataset names one (STL-10's
        // `unlabeled`); the probes are fitted on `train` either way.
        let pretrain = try options.pretrainSplit.map { try Dataset.load(root: config.data, split: $0, options: options, log: log) } ?? train
        let resolved = config.resolved(trainImages: pretrain.count)
        guard resolved.train.batchSize <= pretrain.count else {
            throw InvalidOption(key: "train.batchSize", value: resolved.train.batchSize,
                                reason: "larger than the \(pretrain.name) split (\(pretrain.count) images)")
        }
        let normalization = Normalization(of: pretrain)
        let viewOptions = ViewOptions(fill: resolved.train.fill, seed: resolved.partnerSeed)
        let trainRenderer = ViewRenderer(split: train, options: viewOptions, partnerSeed: resolved.partnerSeed)
        let testRenderer = ViewRenderer(split: test, options: viewOptions, partnerSeed: resolved.partnerSeed)
        let pretrainRenderer = options.pretrainSplit == nil ? trainRenderer
            : ViewRenderer(split: pretrain, options: viewOptions, partnerSeed: resolved.partnerSeed)

        let backbone: any Backbone
        let outcome: TrainingOutcome
        var resumed = false
        if resolved.control == .untrained {
            backbone = makeBackbone(resolved)
            outcome = TrainingOutcome(position: TrainingPosition(), finished: true, epochs: [], stepsRun: 0, seconds: 0)
            progress?.message("control: the untrained \(resolved.model.backbone.rawValue) of seed \(resolved.seed), no training")
        } else {
            let stepper = try makeStepper(resolved)
            let observer = try resolved.evaluation.epochDiagnostics.map {
                try EpochDiagnostics(options: $0, stepper: stepper, train: trainRenderer, test: testRenderer, normalization: normalization,
                                     probe: resolved.evaluation.linearProbe, datasetRoot: resolved.data, progress: progress)
            }
            (outcome, resumed) = try Self.train(resolved, stepper: stepper, renderer: pretrainRenderer, normalization: normalization,
                                                checkpointDirectory: checkpointDirectory, sink: sink, progress: progress,
                                                checkpointWritten: checkpointWritten, stepLimit: stepLimit, stop: stop, observer: observer)
            backbone = stepper.method.backbone
        }

        let evaluationStart = Date()
        let evaluation = resolved.evaluation.makeEvaluation(trainView: resolved.trainView.view)
        let rows = try evaluation.run(backbone: backbone, train: trainRenderer, test: testRenderer, normalization: normalization,
                                      testSets: testSets, progress: progress.map { p in { p.message($0) } })
        return CellResult(config: resolved, metrics: outcome.epochs, evaluations: rows, trainImages: pretrain.count, testImages: test.count,
                          classes: train.classes, badSamples: train.skippedCount + test.skippedCount, stepsRun: outcome.stepsRun,
                          trainingSeconds: outcome.seconds, evaluationSeconds: Date().timeIntervalSince(evaluationStart), resumed: resumed)
    }

    /// Trains `stepper` on batches of the train split to the end of the schedule, resuming from
    /// the checkpoint in `checkpointDirectory` when one exists.
    /// - Returns: the loop's outcome and whether it resumed.
    /// - Throws: `TrainingInterrupted` when `stepLimit` stopped it first.
    static func train(_ config: TrainConfig, stepper: any TrainingStepper, renderer: ViewRenderer, normalization: Normalization,
                      checkpointDirectory: String?, sink: (any MetricSink)?, progress: ProgressReporter?,
                      checkpointWritten: (@Sendable (TrainingPosition, URL) throws -> Void)?, stepLimit: Int?,
                      stop: StopRequest? = nil, observer: (any EpochObserver)? = nil) throws -> (TrainingOutcome, Bool) {
        let loader = try BatchLoader(renderer: renderer, configuration: LoaderConfiguration(
            batchSize: config.train.batchSize, view: config.trainView.view, preset: config.effectiveAugmentation,
            normalization: normalization, seed: config.seed, intervention: config.intervention))
        let spec = config.effectiveOptimizer
        let peak = spec.scaledLearningRate(batchSize: config.train.batchSize)
        let schedule = config.schedule.schedule(peak: peak, stepsPerEpoch: loader.batchesPerEpoch, epochs: config.train.epochs)
        let checkpointURL = checkpointDirectory.map(checkpointURL(in:))
        let policy = checkpointURL.map { CheckpointPolicy(url: $0, everySteps: config.train.checkpointEverySteps, didWrite: checkpointWritten) }
        let loop = try TrainingLoop(stepper: stepper, source: loader, schedule: schedule, epochs: config.train.epochs, sink: sink,
                                    progress: progress, checkpoint: policy, configFingerprint: config.trainingFingerprint())
        loop.observer = observer
        loop.stopRequest = stop
        var resumed = false
        let totalSteps = loader.batchesPerEpoch * config.train.epochs
        if let url = checkpointURL, FileManager.default.fileExists(atPath: url.path) {
            try loop.restore(from: url)
            resumed = true
            if loop.position.step >= totalSteps {
                progress?.message("the checkpoint in \(url.path) is complete (\(config.train.epochs) epochs, \(loop.position.step) steps): "
                                  + "nothing left to train; evaluating it")
                let outcome = try loop.run(stepLimit: stepLimit)
                if !outcome.finished { throw TrainingInterrupted(position: outcome.position, requested: stop?.isRequested ?? false) }
                return (outcome, resumed)
            }
            progress?.message("resuming from \(url.path) at epoch \(loop.position.epoch + 1), step \(loop.position.step)")
        }
        let extra = (config.iclmsr == nil ? "" : " + icl-msr") + (config.intervention.map { " + \($0.kind.rawValue) p \($0.probability)\($0.hardNegatives ? " + hard negatives" : "")" } ?? "")
        progress?.message("training \(config.method.rawValue)\(extra) on \(renderer.split.count) images "
                          + "(\(config.trainView.rawValue)), \(config.train.epochs) epochs × \(loader.batchesPerEpoch) steps, "
                          + "batch \(config.train.batchSize), \(spec.kind.rawValue) lr \(peak)")
        let outcome = try loop.run(stepLimit: stepLimit)
        if !outcome.finished { throw TrainingInterrupted(position: outcome.position, requested: stop?.isRequested ?? false) }
        return (outcome, resumed)
    }
}
