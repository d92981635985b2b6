import Foundation
import NN
import TensorCore

/// Where a run stands: the next batch to train on.
public struct TrainingPosition: Codable, Sendable, Equatable {
    /// Epoch of the next batch (0-based; `epochs` when training is finished).
    public var epoch: Int
    /// Index of the next batch within `epoch`.
    public var batchIndex: Int
    /// Optimizer steps taken so far (= index of the next step).
    public var step: Int

    public init(epoch: Int = 0, batchIndex: Int = 0, step: Int = 0) {
        self.epoch = epoch
        self.batchIndex = batchIndex
        self.step = step
    }
}

/// Means of the per-step metrics over one epoch.
public struct EpochSummary: Codable, Sendable, Equatable {
    public var epoch: Int
    /// Index of the epoch's last step.
    public var step: Int
    public var steps: Int
    /// Training seconds of the epoch (summed over sessions when the epoch was resumed).
    public var seconds: Double
    public var imagesPerSecond: Double
    /// Mean of each per-step metric over the epoch's steps.
    public var mean: [String: Double]
    /// What the epoch observer measured at the epoch's end (`diag_*`, see `EpochDiagnostics`);
    /// `nil` when it did not run. Part of the checkpoint, so a resumed run reports every epoch.
    public var diagnostics: [String: Double]? = nil

    enum CodingKeys: String, CodingKey { case epoch, step, steps, seconds, imagesPerSecond = "images_per_s", mean, diagnostics }
}

/// Running sums of the current epoch (part of the checkpoint, so a mid-epoch resume reports the
/// same epoch means).
struct EpochAccumulator: Codable, Equatable {
    var sums: [String: Double] = [:]
    var steps = 0
    var seconds = 0.0
    var images = 0

    mutating func add(_ metrics: [String: Float], seconds s: Double, images n: Int) {
        for (k, v) in metrics { sums[k, default: 0] += Double(v) }
        steps += 1
        seconds += s
        images += n
    }

    func summary(epoch: Int, lastStep: Int) -> EpochSummary {
        EpochSummary(epoch: epoch, step: lastStep, steps: steps, seconds: seconds,
                     imagesPerSecond: seconds > 0 ? Double(images) / seconds : 0,
                     mean: sums.mapValues { $0 / Double(max(steps, 1)) })
    }
}

/// The counters a checkpoint stores next to the tensors (as JSON in the safetensors metadata).
struct CheckpointCounters: Codable, Equatable {
    static let formatVersion = 1
    var version = CheckpointCounters.formatVersion
    var position: TrainingPosition
    var epochs: Int
    var batchesPerEpoch: Int
    var totalSteps: Int
    var sourceFingerprint: String
    /// Caller-supplied description of the run's configuration; must match on resume.
    var configFingerprint: String
    var current: EpochAccumulator
    var summaries: [EpochSummary]
}

/// Problems with checkpoints and resumption.
public enum CheckpointError: Error, CustomStringConvertible, Equatable {
    case notACheckpoint(path: String, reason: String)
    case mismatch(path: String, field: String, checkpoint: String, run: String)

    public var description: String {
        switch self {
        case let .notACheckpoint(path, reason):
            return "\(path): not a Backdrop training checkpoint (\(reason))"
        case let .mismatch(path, field, checkpoint, run):
            let what: String
            if let differences = JSONDifferences.between(checkpoint, run), !differences.isEmpty {
                // Name the fields that differ, not two whole configurations.
                let shown = differences.prefix(5).map { "\($0.path) is \($0.old) in the checkpoint but \($0.new) now" }
                what = "its \(field) differs: " + shown.joined(separator: "; ")
                    + (differences.count > 5 ? "; and \(differences.count - 5) more" : "")
            } else {
                what = "\(field) is \(checkpoint) in the checkpoint but \(run) now"
            }
            return "\(path): checkpoint was written by a different run: \(what); "
                + "use another --checkpoint-dir or delete the checkpoint to start over"
        }
    }
}

/// Reading and writing checkpoint files.
///
/// A checkpoint is one safetensors file: every tensor of `TrainingStepper.stateTensors()`
/// (`method.*`, `optimizer.*`, `regularizer.*`, `meta_optimizer.*`; F32, bit-exact) and, in the
/// header's `__metadata__`, `backdrop.training` = the JSON counters (position, epoch sums,
/// fingerprints). It is written to a temporary file and renamed, so a crash never leaves a
/// half-written checkpoint behind.
enum CheckpointFile {
    static let metadataKey = "backdrop.training"

    static func write(tensors: [(name: String, tensor: Tensor)], counters: CheckpointCounters, to url: URL) throws {
        let json = String(decoding: try JSONEncoder().encode(counters), as: UTF8.self)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).partial")
        try SafeTensors.write(tensors.map { ($0.name, $0.tensor, .f32) }, metadata: ["format": "backdrop-checkpoint", metadataKey: json], to: temporary)
        if rename(temporary.path, url.path) != 0 {
            throw CheckpointError.notACheckpoint(path: url.path, reason: "could not move the new checkpoint into place (errno \(errno))")
        }
    }

    static func read(_ url: URL) throws -> (tensors: [String: Tensor], counters: CheckpointCounters) {
        let (tensors, metadata) = try SafeTensors.readWithMetadata(url)
        guard let json = metadata[metadataKey] else {
            throw CheckpointError.notACheckpoint(path: url.path, reason: "no '\(metadataKey)' entry in the safetensors metadata")
        }
        let counters: CheckpointCounters
        do { counters = try JSONDecoder().decode(CheckpointCounters.self, from: Data(json.utf8)) } catch {
            throw CheckpointError.notACheckpoint(path: url.path, reason: "unreadable counters: \(error)")
        }
        guard counters.version == CheckpointCounters.formatVersion else {
            throw CheckpointError.notACheckpoint(path: url.path, reason: "format version \(counters.version), expected \(CheckpointCounters.formatVersion)")
        }
        return (tensors.mapValues(\.tensor), counters)
    }
}
