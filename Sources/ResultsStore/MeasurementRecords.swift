import Foundation
import GRDB

// The measurements a run writes: metrics per step, evaluations, checkpoints (one record type per table).

/// One metric value (a row of `metrics`): `value` of `key` at optimizer `step` during `epoch`.
///
/// `(run, key, step)` is unique: writing the same step again (a resumed run repeating the steps
/// after its last checkpoint) replaces the row instead of adding one. A NaN value is stored as
/// SQL NULL and read back as NaN.
public struct Metric: Sendable, Equatable {
    public var key: String
    public var step: Int
    public var epoch: Int
    public var value: Double
    /// Seconds since the Unix epoch when the value was produced.
    public var wallTime: Double

    public init(key: String, step: Int, epoch: Int, value: Double, wallTime: Double) {
        self.key = key
        self.step = step
        self.epoch = epoch
        self.value = value
        self.wallTime = wallTime
    }

    public static func == (a: Metric, b: Metric) -> Bool {
        a.key == b.key && a.step == b.step && a.epoch == b.epoch && a.wallTime == b.wallTime
            && (a.value == b.value || (a.value.isNaN && b.value.isNaN))
    }
}

extension Metric: FetchableRecord {
    /// Decodes a `metrics` row (NULL value: NaN); a value of the wrong type throws
    /// ``ResultsStoreError/unusableValue(table:row:column:value:expected:)``.
    public init(row: Row) throws {
        let r = StoredRow(row, table: "metrics")
        key = try r.value("key")
        step = try r.value("step")
        epoch = try r.value("epoch")
        value = try r.double(orNaN: "value")
        wallTime = try r.value("wall_time")
    }
}

/// A row of `evaluations`: one accuracy with everything needed to interpret it.
///
/// `(run, protocol, probeView, testView, split)` is unique; `ResultsDatabase.recordEvaluation`
/// never writes the same key twice. Accuracies are fractions in [0, 1].
public struct EvaluationRecord: Sendable, Equatable {
    /// Set by the store from the claim when recording.
    public var runID: Int64
    /// `linear` or `knn` (an ablation of the protocol's own parameters should use a distinct
    /// protocol name, since the parameters are not part of the unique key).
    public var protocolName: String
    /// View of the train split the probe was fitted on / the kNN memory bank was built from.
    public var probeView: String
    /// View of the evaluated split.
    public var testView: String
    public var split: String
    public var top1: Double
    /// Top-`topK` accuracy (`topK` = min(5, classes)).
    public var top5: Double
    public var topK: Int
    /// Number of evaluated images.
    public var n: Int
    /// Train-split images used by the probe / memory bank, number of classes, feature width.
    public var trainCount: Int?
    public var classCount: Int?
    public var featureDimension: Int?
    /// kNN neighbours and vote temperature (nil for linear).
    public var k: Int?
    public var temperature: Double?
    /// Where features come from (`backbone`).
    public var featureSource: String
    /// The protocol's own parameters and outcome as a JSON object (the linear probe's recipe:
    /// optimizer, weight decay, iterations, convergence, …).
    public var protocolParams: String
    /// Set by the store's clock when recording.
    public var createdAt: Date

    public init(protocolName: String, probeView: String, testView: String, split: String = "test",
                top1: Double, top5: Double, topK: Int = 5, n: Int, trainCount: Int? = nil, classCount: Int? = nil,
                featureDimension: Int? = nil, k: Int? = nil, temperature: Double? = nil,
                featureSource: String = "backbone", protocolParams: String = "{}",
                runID: Int64 = 0, createdAt: Date = Date(timeIntervalSince1970: 0)) {
        self.runID = runID
        self.protocolName = protocolName
        self.probeView = probeView
        self.testView = testView
        self.split = split
        self.top1 = top1
        self.top5 = top5
        self.topK = topK
        self.n = n
        self.trainCount = trainCount
        self.classCount = classCount
        self.featureDimension = featureDimension
        self.k = k
        self.temperature = temperature
        self.featureSource = featureSource
        self.protocolParams = protocolParams
        self.createdAt = createdAt
    }
}

extension EvaluationRecord: FetchableRecord {
    /// Decodes an `evaluations` row; a value of the wrong type throws
    /// ``ResultsStoreError/unusableValue(table:row:column:value:expected:)``.
    public init(row: Row) throws {
        let r = StoredRow(row, table: "evaluations")
        self.init(protocolName: try r.value("protocol"), probeView: try r.value("probe_view"), testView: try r.value("test_view"),
                  split: try r.value("split"), top1: try r.value("top1"), top5: try r.value("top5"),
                  topK: try r.value("top_k"), n: try r.value("n"),
                  trainCount: try r.optional("train_count"), classCount: try r.optional("class_count"),
                  featureDimension: try r.optional("feature_dimension"), k: try r.optional("k"),
                  temperature: try r.optional("temperature"),
                  featureSource: try r.value("feature_source"), protocolParams: try r.value("protocol_params"),
                  runID: try r.value("run_id"), createdAt: try r.date("created_at"))
    }
}

/// A row of `checkpoints`: the resume point written at the end of `epoch` (unique per run and
/// epoch; recording the same epoch again replaces path and hash).
public struct Checkpoint: Sendable, Equatable {
    public var runID: Int64
    /// Number of completed epochs the checkpoint holds.
    public var epoch: Int
    public var path: String
    /// SHA-256 (hex) of the checkpoint file.
    public var sha256: String
    public var createdAt: Date
}

extension Checkpoint: FetchableRecord {
    /// Decodes a `checkpoints` row; a value of the wrong type throws
    /// ``ResultsStoreError/unusableValue(table:row:column:value:expected:)``.
    public init(row: Row) throws {
        let r = StoredRow(row, table: "checkpoints")
        runID = try r.value("run_id")
        epoch = try r.value("epoch")
        path = try r.value("path")
        sha256 = try r.value("sha256")
        createdAt = try r.date("created_at")
    }
}
