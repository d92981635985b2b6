import Foundation
import GRDB

/// One line of the run listing (`backdrop runs`): a run's cell, status, attempts, elapsed time,
/// provenance and last error.
public struct RunListing: Sendable, Equatable {
    public var id: Int64
    public var cellKey: String
    public var status: RunStatus
    /// How many times the cell has been claimed.
    public var attempts: Int
    /// Seconds from the (last) start to the finish, or to the last heartbeat of a run that has
    /// not finished; nil when the run never started.
    public var elapsedSeconds: Double?
    /// Samples skipped as bad.
    public var badSamples: Int
    /// SHA-256 (hex) of the cell's resolved configuration.
    public var configSHA256: String
    /// `git rev-parse HEAD` of the source tree and whether it had uncommitted changes.
    public var gitCommit: String?
    public var gitDirty: Bool?
    /// The error of the last failed attempt.
    public var error: String?
    /// SHA-256 (hex) of the dataset folder the run trained on (nil when not recorded).
    public var datasetSHA256: String?
    /// The experiment that trained the run when this experiment reuses it (nil: trained here).
    public var linkedFrom: Int64?

    public init(id: Int64, cellKey: String, status: RunStatus, attempts: Int, elapsedSeconds: Double?, badSamples: Int,
                configSHA256: String, gitCommit: String? = nil, gitDirty: Bool? = nil, error: String? = nil,
                datasetSHA256: String? = nil, linkedFrom: Int64? = nil) {
        self.id = id
        self.cellKey = cellKey
        self.status = status
        self.attempts = attempts
        self.elapsedSeconds = elapsedSeconds
        self.badSamples = badSamples
        self.configSHA256 = configSHA256
        self.gitCommit = gitCommit
        self.gitDirty = gitDirty
        self.error = error
        self.datasetSHA256 = datasetSHA256
        self.linkedFrom = linkedFrom
    }
}

extension RunListing: FetchableRecord {
    /// Decodes a listing row; a value of the wrong type throws
    /// ``ResultsStoreError/unusableValue(table:row:column:value:expected:)`` naming the `runs` row.
    public init(row: Row) throws {
        let r = StoredRow(row, table: "runs")
        self.init(id: try r.value("id"), cellKey: try r.value("cell_key"),
                  status: RunStatus(rawValue: try r.value("status")) ?? .failed,
                  attempts: try r.value("attempts"), elapsedSeconds: try r.optional("elapsed_seconds"),
                  badSamples: try r.value("bad_samples"), configSHA256: try r.value("config_sha256"),
                  gitCommit: try r.optional("git_commit"), gitDirty: try r.optional("git_dirty"),
                  error: try r.optional("error"), datasetSHA256: try r.optional("dataset_sha256"),
                  linkedFrom: try r.optional("linked_from"))
    }
}

extension ResultsDatabase {
    /// The run listing of an experiment, one line per run in creation order.
    ///
    /// - Parameter experimentID: The experiment (see ``resolveExperiment(_:)``).
    /// - Returns: Every run of the experiment, whatever its status.
    public func runListing(experimentID: Int64) throws -> [RunListing] {
        try writer.read { db in
            try RunListing.fetchAll(db, sql: """
                SELECT r.id, c.cell_key, r.status, r.attempts, COALESCE(r.finished_at, r.heartbeat_at) - r.started_at AS elapsed_seconds,
                       r.bad_samples, r.config_sha256, r.git_commit, r.git_dirty, r.error, r.dataset_sha256,
                       CASE WHEN c.linked = 1 THEN r.experiment_id END AS linked_from
                FROM experiment_cells c JOIN runs r ON r.id = c.run_id WHERE c.experiment_id = ? ORDER BY r.id
                """, arguments: [experimentID])
        }
    }
}
