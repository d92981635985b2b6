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
    public init(row: Row) throws {
        id = row["id"]
        experimentID = row["experiment_id"]
        cell = RunCell(cellKey: row["cell_key"], dataset: row["dataset"], trainView: row["train_view"],
                       method: row["method"], regularizer: row["regularizer"], seed: row["seed"])
        status = RunStatus(rawValue: row["status"]) ?? .failed
        let versionsJSON: String = row["versions_json"]
        provenance = RunProvenance(configJSON: row["config_json"], configSHA256: row["config_sha256"],
                                   gitCommit: row["git_commit"], gitDirty: row["git_dirty"],
                                   datasetSHA256: row["dataset_sha256"], versions: JSONText.decodeObject(versionsJSON),
                                   badSamples: row["bad_samples"])
        host = row["host"]
        ownerHost = row["owner_host"]
        ownerPID = row["owner_pid"]
        ownerToken = row["owner_token"]
        heartbeatAt = (row["heartbeat_at"] as Double?).map(Date.init(timeIntervalSince1970:))
        attempts = row["attempts"]
        startedAt = (row["started_at"] as Double?).map(Date.init(timeIntervalSince1970:))
        finishedAt = (row["finished_at"] as Double?).map(Date.init(timeIntervalSince1970:))
        error = row["error"]
    }
}

extension Experiment: FetchableRecord {
    public init(row: Row) throws {
        id = row["id"]
        name = row["name"]
        specPath = row["spec_path"]
        specSHA256 = row["spec_sha256"]
        specText = row["spec_text"]
        createdAt = Date(timeIntervalSince1970: row["created_at"])
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
    public init(row: Row) throws {
        key = row["key"]
        step = row["step"]
        epoch = row["epoch"]
        value = (row["value"] as Double?) ?? .nan
        wallTime = row["wall_time"]
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
    public init(row: Row) throws {
        self.init(protocolName: row["protocol"], probeView: row["probe_view"], testView: row["test_view"],
                  split: row["split"], top1: row["top1"], top5: row["top5"], topK: row["top_k"], n: row["n"],
                  trainCount: row["train_count"], classCount: row["class_count"],
                  featureDimension: row["feature_dimension"], k: row["k"], temperature: row["temperature"],
                  featureSource: row["feature_source"], protocolParams: row["protocol_params"],
                  runID: row["run_id"], createdAt: Date(timeIntervalSince1970: row["created_at"]))
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
    public init(row: Row) throws {
        runID = row["run_id"]
        epoch = row["epoch"]
        path = row["path"]
        sha256 = row["sha256"]
        createdAt = Date(timeIntervalSince1970: row["created_at"])
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
    public init(row: Row) throws {
        self.init(experimentID: row["experiment_id"], runID: row["run_id"],
                  cell: RunCell(cellKey: row["cell_key"], dataset: row["dataset"], trainView: row["train_view"],
                                method: row["method"], regularizer: row["regularizer"], seed: row["seed"]),
                  protocolName: row["protocol"], probeView: row["probe_view"], testView: row["test_view"],
                  split: row["split"], top1: row["top1"], top5: row["top5"], topK: row["top_k"], n: row["n"],
                  k: row["k"], temperature: row["temperature"])
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
