import Foundation
import GRDB

// The records of experiments and runs. One record type per table (measurements: MeasurementRecords.swift;
// the matrix view: MatrixRecords.swift). Properties mirror the columns; NOT NULL columns are non-optional.
// Timestamps are stored as REAL Unix seconds and surface as `Date`.

/// A row of `experiments`: one resolved experiment spec, identified by its name and the
/// SHA-256 of its resolved text.
///
/// Running the same spec again finds the same experiment; editing the spec (or overriding an
/// option from the command line) makes a new experiment with the same name, whose cells that
/// finished identically before are linked, not retrained (`experiment_runs`). Queries by name pick
/// the most recently created one; every command also takes the id.
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
    /// The spec file's text as read (before overrides; empty for experiments made before it was
    /// stored, and for ad-hoc `backdrop train --db` runs).
    public var specSource: String = ""
    /// The `--set key=value` overrides applied to it, in order.
    public var overrides: [String] = []
    /// The number of cells in its matrix (nil: not recorded).
    public var cellCount: Int? = nil
}

/// The life cycle of a run: `pending` (planned) → `running` (claimed by one process) →
/// `finished`, `failed` or `interrupted` (Ctrl-C). A failed, interrupted or stale running run can
/// be claimed again.
public enum RunStatus: String, Sendable, CaseIterable, Codable {
    case pending, running, finished, failed
    /// Stopped by the user (Ctrl-C); the claim is released and the next reproduction resumes it
    /// from its last checkpoint.
    case interrupted
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
    /// The swept values of the cell's sweep point, `key=value` pairs joined by `,` in the spec's
    /// axis order (`dataset.builtin.confounding=0.9,iclmsr.weight=10`); empty without a `sweep:`.
    public var sweep: String

    public init(cellKey: String, dataset: String, trainView: String, method: String, regularizer: String, seed: Int, sweep: String = "") {
        self.cellKey = cellKey
        self.dataset = dataset
        self.trainView = trainView
        self.method = method
        self.regularizer = regularizer
        self.seed = seed
        self.sweep = sweep
    }

    /// The swept values as (key, value) pairs in axis order (empty without a sweep).
    public var sweepValues: [(key: String, value: String)] { RunCell.parseSweep(sweep) }

    /// Parses a `sweep` label (`a.b=1,c=x`) into its pairs.
    public static func parseSweep(_ label: String) -> [(key: String, value: String)] {
        label.split(separator: ",").compactMap { pair -> (key: String, value: String)? in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { return nil }
            return (String(parts[0]), String(parts[1]))
        }
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
    /// The experiment that trained the run; differs from `experimentID` when the run is linked
    /// into `experimentID` from there (an identical cell reused, not retrained).
    public var ownerExperimentID: Int64

    public var cellKey: String { cell.cellKey }
    /// Whether the run was reused from another experiment (`experiment_runs`).
    public var isLinked: Bool { ownerExperimentID != experimentID }
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
        ownerExperimentID = try r.optional("owner_experiment_id") ?? experimentID
    }
}

extension RunCell {
    /// The cell columns of a `runs` row (or of a view that carries them).
    init(storedRow r: StoredRow) throws {
        self.init(cellKey: try r.value("cell_key"), dataset: try r.value("dataset"), trainView: try r.value("train_view"),
                  method: try r.value("method"), regularizer: try r.value("regularizer"), seed: try r.value("seed"),
                  sweep: try r.optional("sweep") ?? "")
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
        specSource = try r.optional("spec_source") ?? ""
        overrides = JSONText.decodeList(try r.optional("overrides_json") ?? "[]")
        cellCount = try r.optional("cell_count")
    }
}
