import Contrastive
import Foundation
import NN
import TensorCore

/// Training went wrong in a way that must stop the run.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case nonFiniteLoss(step: Int, epoch: Int, value: Float)
    case emptyEpoch(reason: String)

    public var description: String {
        switch self {
        case let .nonFiniteLoss(step, epoch, value):
            return "training diverged: loss is \(value) at step \(step) (epoch \(epoch + 1)); lower --lr or check the data"
        case .emptyEpoch(let reason):
            return "nothing to train on: \(reason)"
        }
    }
}

/// When the loop writes checkpoints.
public struct CheckpointPolicy: Sendable {
    /// The checkpoint file (overwritten each time; see `CheckpointFile`).
    public var url: URL
    /// Write at the end of every `everyEpochs`-th epoch and after the last one.
    public var everyEpochs: Int
    /// Also write every this many steps inside an epoch (`nil`: only at epoch ends).
    public var everySteps: Int?
    /// Called after each checkpoint is in place, with the position it stores (e.g. to record it
    /// in the results database).
    public var didWrite: (@Sendable (TrainingPosition, URL) throws -> Void)?

    public init(url: URL, everyEpochs: Int = 1, everySteps: Int? = nil, didWrite: (@Sendable (TrainingPosition, URL) throws -> Void)? = nil) {
        self.url = url
        self.everyEpochs = max(1, everyEpochs)
        self.everySteps = everySteps
        self.didWrite = didWrite
    }
}

/// What a call to `TrainingLoop.run` did.
public struct TrainingOutcome: Sendable {
    /// Position after the call (`epoch == epochs` when training is finished).
    public var position: TrainingPosition
    public var finished: Bool
    /// Every finished epoch of the run so far (including those before a resume).
    public var epochs: [EpochSummary]
    /// Steps this call ran and their wall-clock seconds.
    public var stepsRun: Int
    public var seconds: Double
}

/// Runs a contrastive method's training: epochs of batches from a `BatchSource`, one
/// `TrainingStepper.step` per batch at the scheduled learning rate, metrics to a `MetricSink`,
/// progress lines, checkpoints.
///
/// **Resume.** `restore(from:)` loads a checkpoint into a freshly built loop (same
/// configuration) and `run()` continues from the stored position. Everything the next step
/// depends on is either in the checkpoint (the stepper's state tensors: parameters, buffers,
/// optimizer and meta-optimizer state, EMA targets, MoCo queue; the position; the current epoch's
/// metric sums) or a pure function of it (the learning rate of step s; batch `(epoch, index)` of
/// a seeded source), so the resumed run continues bit-identically to an uninterrupted one.
///
/// The loop is not a callback god-object: it owns no model code and exposes only its position
/// and summaries; metrics leave through the sink.
public final class TrainingLoop {
    public let stepper: any TrainingStepper
    public let source: any BatchSource
    public let schedule: LearningRateSchedule
    public let epochs: Int
    public var sink: (any MetricSink)?
    public var progress: ProgressReporter?
    public var checkpoint: CheckpointPolicy?
    /// Measures the model at the ends of the epochs it names (nil: none); its values go to the
    /// sink at the epoch's last step and into the epoch's summary, before the epoch's checkpoint.
    public var observer: (any EpochObserver)?
    /// Checked before each step: once requested, the loop writes a checkpoint at the step it
    /// reached (when it has a checkpoint policy) and returns unfinished.
    public var stopRequest: StopRequest?
    /// Recorded in checkpoints and compared on restore (e.g. the resolved configuration's JSON).
    public let configFingerprint: String

    public private(set) var position = TrainingPosition()
    public private(set) var summaries: [EpochSummary] = []
    private var current = EpochAccumulator()
    private lazy var prefetcher = Prefetcher(source: source)

    /// - Parameters:
    ///   - stepper: the method (+ regularizer) and its optimizers.
    ///   - source: the batches; `batchesPerEpoch ≥ 1`.
    ///   - schedule: the learning rate of each step (0-based over the whole run).
    ///   - epochs: the run's length.
    ///   - configFingerprint: a description of the configuration that checkpoints must match.
    public init(stepper: any TrainingStepper, source: any BatchSource, schedule: LearningRateSchedule, epochs: Int,
                sink: (any MetricSink)? = nil, progress: ProgressReporter? = nil, checkpoint: CheckpointPolicy? = nil,
                configFingerprint: String = "") throws {
        guard source.batchesPerEpoch >= 1 else {
            throw TrainingError.emptyEpoch(reason: "the batch source yields no full batch per epoch (batch \(source.imagesPerBatch))")
        }
        guard epochs >= 1 else { throw TrainingError.emptyEpoch(reason: "epochs is \(epochs)") }
        self.stepper = stepper
        self.source = source
        self.schedule = schedule
        self.epochs = epochs
        self.sink = sink
        self.progress = progress
        self.checkpoint = checkpoint
        self.configFingerprint = configFingerprint
    }

    public var totalSteps: Int { epochs * source.batchesPerEpoch }
    public var isFinished: Bool { position.epoch >= epochs }

    /// Trains until the end of the run, or until `stepLimit` steps have been taken in total.
    /// - Parameter stepLimit: stop before step `stepLimit` (0-based global index); `nil`: run to the end.
    public func run(stepLimit: Int? = nil) throws -> TrainingOutcome {
        let perEpoch = source.batchesPerEpoch, total = totalSteps
        let limit = min(stepLimit ?? total, total)
        let started = Date()
        var stepsRun = 0
        var sessionImages = 0
        var sessionInputWait = 0.0   // seconds the loop waited for the prefetched batch
        defer { prefetcher.drain() }
        while position.step < limit {
            if stopRequest?.isRequested == true {
                try sink?.flush()
                if let policy = checkpoint, stepsRun > 0 {
                    try saveCheckpoint(to: policy.url)
                    try policy.didWrite?(position, policy.url)
                }
                break
            }
            let (epoch, index, step) = (position.epoch, position.batchIndex, position.step)
            let t0 = Date()
            let pair = prefetcher.take(epoch: epoch, index: index)
            let inputWait = Date().timeIntervalSince(t0)
            sessionInputWait += inputWait
            if step + 1 < limit {
                let next = index + 1 < perEpoch ? (epoch, index + 1) : (epoch + 1, 0)
                prefetcher.prefetch(epoch: next.0, index: next.1)
            }
            let lr = schedule.learningRate(atStep: step)
            let metrics = try stepper.step(view1: pair.view1, view2: pair.view2, hardNegatives: pair.hardNegatives, learningRate: lr, step: step, totalSteps: total)
            let loss = metrics["loss"] ?? .nan
            guard loss.isFinite else { throw TrainingError.nonFiniteLoss(step: step, epoch: epoch, value: loss) }
            let seconds = Date().timeIntervalSince(t0)
            current.add(metrics, seconds: seconds, images: pair.count)
            stepsRun += 1
            sessionImages += pair.count
            let elapsed = Date().timeIntervalSince(started)
            let throughput = elapsed > 0 ? Double(sessionImages) / elapsed : 0

            let now = Date().timeIntervalSince1970
            var records = metrics.keys.sorted().map { MetricRecord(step: step, epoch: epoch, key: $0, value: Double(metrics[$0]!), wallTime: now) }
            if metrics["lr"] == nil { records.append(MetricRecord(step: step, epoch: epoch, key: "lr", value: Double(lr), wallTime: now)) }
            records.append(MetricRecord(step: step, epoch: epoch, key: "images_per_s", value: seconds > 0 ? Double(pair.count) / seconds : 0, wallTime: now))
            records.append(MetricRecord(step: step, epoch: epoch, key: "input_wait_s", value: inputWait, wallTime: now))
            try sink?.record(records)

            let endOfEpoch = index + 1 == perEpoch
            position = endOfEpoch ? TrainingPosition(epoch: epoch + 1, batchIndex: 0, step: step + 1)
                                  : TrainingPosition(epoch: epoch, batchIndex: index + 1, step: step + 1)
            progress?.stepFinished(epoch: epoch, epochs: epochs, step: step, totalSteps: total, loss: loss, learningRate: lr,
                                   imagesPerSecond: throughput, secondsPerStep: elapsed / Double(stepsRun),
                                   inputWaitFraction: elapsed > 0 ? sessionInputWait / elapsed : 0, endOfEpoch: endOfEpoch)
            if endOfEpoch {
                var summary = current.summary(epoch: epoch, lastStep: step)
                try sink?.record(summary.mean.keys.sorted().map {
                    MetricRecord(step: step, epoch: epoch, key: "epoch/\($0)", value: summary.mean[$0]!, wallTime: now)
                })
                if let observer, observer.isDue(epoch: epoch, epochs: epochs) {
                    let values = try observer.observe(epoch: epoch)
                    summary.diagnostics = values
                    let at = Date().timeIntervalSince1970
                    try sink?.record(values.keys.sorted().map { MetricRecord(step: step, epoch: epoch, key: $0, value: values[$0]!, wallTime: at) })
                }
                summaries.append(summary)
                current = EpochAccumulator()
                if let policy = checkpoint, (epoch + 1) % policy.everyEpochs == 0 || epoch + 1 == epochs {
                    try saveCheckpoint(to: policy.url)
                    try policy.didWrite?(position, policy.url)
                }
            } else if let policy = checkpoint, let every = policy.everySteps, (step + 1) % every == 0 {
                try saveCheckpoint(to: policy.url)
                try policy.didWrite?(position, policy.url)
            }
        }
        try sink?.flush()
        return TrainingOutcome(position: position, finished: isFinished, epochs: summaries, stepsRun: stepsRun,
                               seconds: Date().timeIntervalSince(started))
    }

    /// Writes the complete training state to `url` (see `CheckpointFile`).
    public func saveCheckpoint(to url: URL) throws {
        try sink?.flush()
        let counters = CheckpointCounters(position: position, epochs: epochs, batchesPerEpoch: source.batchesPerEpoch,
                                          totalSteps: totalSteps, sourceFingerprint: source.fingerprint,
                                          configFingerprint: configFingerprint, current: current, summaries: summaries)
        try CheckpointFile.write(tensors: stepper.stateTensors(), counters: counters, to: url)
    }

    /// Loads a checkpoint written by a loop of the same configuration.
    /// - Throws: `CheckpointError.mismatch` naming what differs, `SafeTensorsError`, or the
    ///   stepper's `TrainingStateError`. Nothing is changed when it throws before the tensors load.
    public func restore(from url: URL) throws {
        let (tensors, counters) = try CheckpointFile.read(url)
        func check(_ field: String, _ saved: String, _ now: String) throws {
            if saved != now { throw CheckpointError.mismatch(path: url.path, field: field, checkpoint: saved, run: now) }
        }
        try check("configuration", counters.configFingerprint, configFingerprint)
        try check("batch source", counters.sourceFingerprint, source.fingerprint)
        try check("epochs", "\(counters.epochs)", "\(epochs)")
        try check("batches per epoch", "\(counters.batchesPerEpoch)", "\(source.batchesPerEpoch)")
        try stepper.loadStateTensors(tensors)
        position = counters.position
        current = counters.current
        summaries = counters.summaries
    }
}
