import Foundation
import GRDB

// One record type per table. Properties mirror the columns; NOT NULL columns are non-optional.
// Timestamps are stored as REAL Unix seconds and surface as `Date`.

/// A row of `experiments`: one resolved experiment spec, identified by its name and the
/// SHA-256 of its resolved text.
///
/// Running the same spec again finds the same experiment; editing the spec (or overriding an
/// option from the command line) makes a new experiment with the same name. Queries by name pick
/// the most recently created one.
public struct Experiment: Sendable, Equatable, Identifiable {
    public var id: Int64
    public var name: String
    /// Where the spec was read from (informational).
    public var specPath: String
    /// SHA-256 (hex) of the resolved spec.
    public var specSHA256: String
    /// The resolved spec itself (may be empty).
    public var specText: String
    public var createdAt: Date
}

/// The life cycle of a run: `pending` (planned) → `running` (claimed by one process) →
/// `finished` or `failed`. A failed or stale running run can be claimed again.
public enum RunStatus: String, Sendable, CaseIterable, Codable {
    case pending, running, finished, failed
}

/// The coordinates of one cell of the experiment matrix (the non-provenance columns of `runs`).
public struct RunCell: Sendable, Hashable {
    /// Unique within an experiment, e.g. `"full/simclr/icl-msr/seed1"`; the key the runner uses to
    /// find a cell again.
    public var cellKey: String
    public var dataset: String
    public var trainView: String
    public var method: String
    public var regularizer: String
    public var seed: Int

    public init(cellKey: String, dataset: String, trainView: String, method: String, regularizer: String, seed: Int) {
        self.cellKey = cellKey
        self.dataset = dataset
        self.trainView = trainView
        self.method = method
        self.regularizer = regularizer
        self.seed = seed
    }
}

/// What a run was made from: stored with the run so every number can be traced to its inputs.
public struct RunProvenance: Sendable, Equatable {
    /// The cell's fully resolved configuration as JSON, and its SHA-256 (hex). A finished cell is
    /// skipped by a rerun only when this hash matches.
    public var configJSON: String
    public var configSHA256: String
    /// `git rev-parse HEAD` of the source tree, and whether it had uncommitted changes.
    public var gitCommit: String?
    public var gitDirty: Bool?
    /// SHA-256 identifying the dataset content.
    public var datasetSHA256: String?
    /// Tool versions, e.g. `["backdrop": "0.1", "swift": "6.3.1"]`; stored as a JSON object.
    public var versions: [String: String]
    /// Samples skipped as bad (`onBadSample: skip`); can be updated later with `recordBadSamples`.
    public var badSamples: Int

    public init(configJSON: String, configSHA256: String, gitCommit: String? = nil, gitDirty: Bool? = nil,
                datasetSHA256: String? = nil, versions: [String: String] = [:], badSamples: Int = 0) {
        self.configJSON = configJSON
        self.configSHA256 = configSHA256
        self.gitCommit = gitCommit
        self.gitDirty = gitDirty
        self.datasetSHA256 = datasetSHA256
        self.versions = versions
        self.badSamples = badSamples
    }
}

/// A row of `runs`: one cell of the matrix, its status, owner and provenance.
public struct Run: Sendable, Equatable, Identifiable {
    public var id: Int64
    public var experimentID: Int64
    public var cell: RunCell
    public var status: RunStatus
    public var provenance: RunProvenance
    /// Host recorded when the run was (last) claimed.
    public var host: String?
    /// The current or last claimant: host, process id and heartbeat. `ownerToken` is cleared when
    /// the run finishes or fails.
    public var ownerHost: String?
    public var ownerPID: Int?
    public var ownerToken: String?
    public var heartbeatAt: Date?
    /// How many times the cell has been claimed (1 for a run that never needed a retry).
    public var attempts: Int
    public var startedAt: Date?
    public var finishedAt: Date?
    /// The error of the last failed attempt (nil once a retry finishes).
    public var error: String?

    public var cellKey: String { cell.cellKey }
}

extension Run: FetchableRecord {
    /// Decodes a `runs` row; a value of the wrong type throws
    /// ``ResultsStoreError/unusableValue(table:row:column:value:expected:)``.
    public init(row: Row) throws {
        let r = StoredRow(row, table: "runs")
        id = try r.value("id")
        experimentID = try r.value("experiment_id")
        cell = try RunCell(storedRow: r)
        status = RunStatus(rawValue: try r.value("status")) ?? .failed
        let versionsJSON: String = try r.value("versions_json")
        provenance = RunProvenance(configJSON: try r.value("config_json"), configSHA256: try r.value("config_sha256"),
                                   gitCommit: try r.optional("git_commit"), gitDirty: try r.optional("git_dirty"),
                                   datasetSHA256: try r.optional("dataset_sha256"),
                                   versions: JSONText.decodeObject(versionsJSON), badSamples: try r.value("bad_samples"))
        host = try r.optional("host")
        ownerHost = try r.optional("owner_host")
        ownerPID = try r.optional("owner_pid")
        ownerToken = try r.optional("owner_token")
        heartbeatAt = try r.optionalDate("heartbeat_at")
        attempts = try r.value("attempts")
        startedAt = try r.optionalDate("started_at")
        finishedAt = try r.optionalDate("finished_at")
        error = try r.optional("error")
    }
}

extension RunCell {
    /// The cell columns of a `runs` row (or of a view that carries them).
    init(storedRow r: StoredRow) throws {
        self.init(cellKey: try r.value("cell_key"), dataset: try r.value("dataset"), trainView: try r.value("train_view"),
                  method: try r.value("method"), regularizer: try r.value("regularizer"), seed: try r.value("seed"))
    }
}

extension Experiment: FetchableRecord {
    /// Decodes an `experiments` row; a value of the wrong type throws
    /// ``ResultsStoreError/unusableValue(table:row:column:value:expected:)``.
    public init(row: Row) throws {
        let r = StoredRow(row, table: "experiments")
        id = try r.value("id")
        name = try r.value("name")
        specPath = try r.value("spec_path")
        specSHA256 = try r.value("spec_sha256")
        specText = try r.value("spec_text")
        createdAt = try r.date("created_at")
    }
}

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

/// One row of the `matrix_series` view: an evaluation of a finished run with the run's cell
/// coordinates.
public struct MatrixRow: Sendable, Equatable {
    public var experimentID: Int64
    public var runID: Int64
    public var cell: RunCell
    public var protocolName: String
    public var probeView: String
    public var testView: String
    public var split: String
    public var top1: Double
    public var top5: Double
    public var topK: Int
    public var n: Int
    public var k: Int?
    public var temperature: Double?

    public init(experimentID: Int64, runID: Int64, cell: RunCell, protocolName: String, probeView: String,
                testView: String, split: String, top1: Double, top5: Double, topK: Int, n: Int,
                k: Int? = nil, temperature: Double? = nil) {
        self.experimentID = experimentID
        self.runID = runID
        self.cell = cell
        self.protocolName = protocolName
        self.probeView = probeView
        self.testView = testView
        self.split = split
        self.top1 = top1
        self.top5 = top5
        self.topK = topK
        self.n = n
        self.k = k
        self.temperature = temperature
    }
}

extension MatrixRow: FetchableRecord {
    /// Decodes a `matrix_series` row. A value of the wrong type throws
    /// ``ResultsStoreError/unusableValue(table:row:column:value:expected:)`` naming the table it
    /// comes from: `runs` (cell columns, by run id) or `evaluations` (accuracy columns, by run id
    /// and evaluation key).
    public init(row: Row) throws {
        let runID: Int64 = try StoredRow(row, table: "matrix_series", keyColumns: ["run_id"]).value("run_id")
        let run = StoredRow(row, table: "runs", identity: "id \(runID)")
        let keys = ["protocol", "probe_view", "test_view", "split"].map { column -> String in
            let value: DatabaseValue = row[column] ?? .null
            return "\(column) \(StoredRow.text(of: value))"
        }
        let evaluation = StoredRow(row, table: "evaluations", identity: "run_id \(runID), " + keys.joined(separator: ", "))
        self.init(experimentID: try run.value("experiment_id"), runID: runID,
                  cell: try RunCell(storedRow: run),
                  protocolName: try evaluation.value("protocol"), probeView: try evaluation.value("probe_view"),
                  testView: try evaluation.value("test_view"), split: try evaluation.value("split"),
                  top1: try evaluation.value("top1"), top5: try evaluation.value("top5"),
                  topK: try evaluation.value("top_k"), n: try evaluation.value("n"),
                  k: try evaluation.optional("k"), temperature: try evaluation.optional("temperature"))
    }
}

/// Which probe series of the matrix to read (the `probe` column of `matrix_series`).
///
/// `trainView`: the probe fitted on the cell's train view; `sameAsTest`: fitted on each test
/// view's own rendering of the train split; `fixed(view)`: fitted on one view for every cell, so
/// encoders trained on different views are compared under the same probe. A row can belong to
/// several series (a probe fitted on `full` for a cell trained on `full` is in `train-view` and in
/// `full`).
public enum ProbeSeries: Hashable, Sendable, CustomStringConvertible {
    case trainView
    case sameAsTest
    case fixed(String)

    /// The fixed series of the two training views, then the train-view series: what a report shows.
    public static let reported: [ProbeSeries] = [.fixed("full"), .fixed("foreground"), .trainView]

    /// `train-view`, `same-as-test` or the probe view's name.
    public var rawValue: String {
        switch self {
        case .trainView: return "train-view"
        case .sameAsTest: return "same-as-test"
        case .fixed(let view): return view
        }
    }

    public init(rawValue: String) {
        switch rawValue {
        case "train-view": self = .trainView
        case "same-as-test": self = .sameAsTest
        default: self = .fixed(rawValue)
        }
    }

    public var description: String { rawValue }

    /// How a table header says which probe its numbers come from.
    public var title: String {
        switch self {
        case .trainView: return "probe fitted on each cell's train view"
        case .sameAsTest: return "probe fitted on each test view"
        case .fixed(let view): return "fixed probe fitted on \(view) images for every encoder"
        }
    }
}

enum JSONText {
    /// A JSON object with sorted keys (stable text for equal dictionaries).
    static func encodeObject(_ object: [String: String]) -> String {
        CanonicalJSON.string(object)
    }

    static func decodeObject(_ text: String) -> [String: String] {
        guard let data = text.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
        return object.mapValues { "\($0)" }
    }
}
