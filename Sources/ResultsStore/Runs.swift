import Foundation
import GRDB
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Proof that this process owns a run: returned by a successful
/// ``ResultsStore/beginRun(experimentID:cell:provenance:staleAfter:)`` and required by every
/// write to the run.
public struct RunClaim: Sendable, Hashable {
    public var runID: Int64
    public var experimentID: Int64
    public var cellKey: String
    /// Random token identifying this claim; stored in `runs.owner_token`.
    public var token: String
    /// 1 for the first claim of the cell, 2 after one failed or abandoned attempt, ….
    public var attempt: Int
    /// The status the run had before this claim (nil when the row was created by it). `.failed`,
    /// `.interrupted` or `.running` (a stale claim taken over) mean an earlier attempt exists: resume from
    /// ``ResultsStore/latestCheckpoint(runID:)``.
    public var previousStatus: RunStatus?
    /// The config hash the row held before this claim; when it differs from the new one the
    /// earlier attempt's checkpoints were made from another configuration.
    public var previousConfigSHA256: String?
    /// The dataset hash the row held before this claim; when it differs from the new one the
    /// earlier attempt trained on other data and its checkpoints must not be resumed.
    public var previousDatasetSHA256: String? = nil
}

/// The result of trying to claim a cell.
public enum ClaimOutcome: Sendable, Equatable {
    /// This process now owns the run and must end it with `finishRun` or `failRun`.
    case claimed(RunClaim)
    /// The cell has already finished; nothing to do (compare `run.provenance.configSHA256` with
    /// the current config to detect a changed configuration).
    case finished(Run)
    /// Another live process is running the cell.
    case busy(Run)

    /// The claim, when the outcome is `.claimed`.
    public var claim: RunClaim? {
        if case .claimed(let claim) = self { return claim }
        return nil
    }
}

/// Who claims runs: this host, process and process instance.
public struct RunOwner: Sendable, Equatable {
    public var host: String
    public var pid: Int
    /// Random per process start: tells this process from an earlier one that had the same pid
    /// (containers often reuse pids across restarts). Stored as the prefix of each claim token.
    public var instance: String

    public init(host: String, pid: Int, instance: String = UUID().uuidString) {
        self.host = host
        self.pid = pid
        self.instance = instance
    }

    /// This process on this host.
    public static let current = RunOwner(host: ProcessInfo.processInfo.hostName,
                                         pid: Int(ProcessInfo.processInfo.processIdentifier))

    /// Whether the owner recorded in `run` is certainly gone: it was on this host and either its
    /// process no longer exists, or its pid is this process's but the claim token comes from
    /// another process instance (the pid was reused).
    func hasOutlived(_ run: Run) -> Bool {
        guard run.ownerHost == host, let pid = run.ownerPID else { return false }
        if pid == self.pid { return !(run.ownerToken?.hasPrefix(instance + "/") ?? false) }
        return !Self.processIsAlive(pid)
    }

    /// Whether a process with id `pid` runs on this machine (`kill(pid, 0)`; EPERM counts as
    /// alive). A zombie — exited, but not yet reaped, as the killed children of a killed
    /// reproduction stay where nothing reaps orphans — is not alive (`/proc/<pid>/stat`, Linux).
    static func processIsAlive(_ pid: Int) -> Bool {
        guard pid > 0 else { return false }
        if kill(pid_t(pid), 0) != 0 { return errno == EPERM }
        return !isZombie(pid)
    }

    /// Whether `/proc/<pid>/stat` gives state `Z` (false where there is no `/proc`).
    static func isZombie(_ pid: Int) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }
}

extension ResultsDatabase {
    // MARK: Experiments

    /// Finds the experiment with this name and spec hash, creating it if absent.
    ///
    /// - Parameters:
    ///   - name: The experiment's name (the spec's `name`, e.g. `table1-quick`).
    ///   - specSHA256: SHA-256 (hex) of the resolved spec, overrides included.
    ///   - specPath: Where the spec came from (updated on every call).
    ///   - specText: The resolved spec (stored when the experiment is created).
    ///   - specSource: The spec file's text as read, before overrides (stored on creation).
    ///   - overrides: The `--set` assignments that were applied (stored on creation).
    ///   - cellCount: The number of cells of its matrix.
    /// - Returns: The experiment row.
    @discardableResult
    public func upsertExperiment(name: String, specSHA256: String, specPath: String = "", specText: String = "",
                                 specSource: String = "", overrides: [String] = [], cellCount: Int? = nil) throws -> Experiment {
        try writeImmediate { db in
            // Updated when it exists (an upsert would consume an AUTOINCREMENT id on every call).
            try db.execute(sql: """
                UPDATE experiments SET spec_path = ?, cell_count = COALESCE(?, cell_count) WHERE name = ? AND spec_sha256 = ?
                """, arguments: [specPath, cellCount, name, specSHA256])
            if db.changesCount == 0 {
                try db.execute(sql: """
                    INSERT INTO experiments (name, spec_path, spec_sha256, spec_text, spec_source, overrides_json, cell_count, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [name, specPath, specSHA256, specText, specSource, JSONText.encodeList(overrides), cellCount, now])
            }
            return try Experiment.fetchOne(db, sql: "SELECT * FROM experiments WHERE name = ? AND spec_sha256 = ?",
                                           arguments: [name, specSHA256])!
        }
    }

    // MARK: Run life cycle

    /// Inserts a `pending` row for a cell if it has none, so the whole matrix is visible before
    /// it runs. An existing row is left untouched.
    ///
    /// - Returns: The cell's current row.
    @discardableResult
    public func planRun(experimentID: Int64, cell: RunCell, provenance: RunProvenance) throws -> Run {
        try writeImmediate { db in
            try insertRun(db, experimentID: experimentID, cell: cell, provenance: provenance, status: .pending,
                          owner: nil, token: nil)
            return try fetchRun(db, experimentID: experimentID, cellKey: cell.cellKey)!
        }
    }

    /// Atomically claims a cell for this process.
    ///
    /// Runs inside one `IMMEDIATE` transaction (the database's write lock), so of several
    /// processes claiming the same cell at the same time exactly one gets `.claimed`:
    /// - no row → a `running` row is inserted (`INSERT … ON CONFLICT DO NOTHING`): claimed;
    /// - `pending` or `failed` → taken over: claimed (`attempt` + 1 when it had run before);
    /// - `finished` → `.finished(run)`, unless both it and `provenance` name a dataset hash and
    ///   they differ: then its metrics, evaluations and checkpoint rows are deleted and it is
    ///   claimed again (`previousStatus == .finished`), so results always match the data;
    /// - `running` → **stale-claim takeover rule**: the claim is taken over when its heartbeat is
    ///   older than `staleAfter`, or when its owner is on this host and its process no longer
    ///   exists (`kill(pid, 0)` fails with `ESRCH`, e.g. after `kill -9`) or is this process
    ///   under a reused pid (the token's instance prefix differs); otherwise `.busy(run)`. A pid
    ///   reused by an unrelated live process delays the takeover until the heartbeat is stale.
    ///
    /// A claim stays fresh through ``heartbeat(_:)``; ``MetricWriter`` heartbeats on every flush.
    /// On takeover the provenance columns are replaced by `provenance`, the error is cleared and
    /// `started_at` keeps the first attempt's time.
    ///
    /// - Parameters:
    ///   - experimentID: The experiment the cell belongs to.
    ///   - cell: The cell's coordinates; `cell.cellKey` identifies it within the experiment.
    ///   - provenance: The resolved configuration and its sources.
    ///   - staleAfter: Seconds without a heartbeat after which a running claim is abandoned
    ///     (default 600).
    ///   - owner: The claimant (default: this host and process).
    /// - Returns: Whether this process got the cell, or why not.
    public func beginRun(experimentID: Int64, cell: RunCell, provenance: RunProvenance,
                         staleAfter: TimeInterval = 600, owner: RunOwner = .current) throws -> ClaimOutcome {
        let token = owner.instance + "/" + UUID().uuidString
        return try writeImmediate { db in
            let now = self.now
            try insertRun(db, experimentID: experimentID, cell: cell, provenance: provenance, status: .running,
                          owner: owner, token: token)
            let inserted = db.changesCount == 1
            let run = try fetchRun(db, experimentID: experimentID, cellKey: cell.cellKey)!
            if inserted {
                return .claimed(RunClaim(runID: run.id, experimentID: experimentID, cellKey: cell.cellKey, token: token,
                                         attempt: 1, previousStatus: nil, previousConfigSHA256: nil))
            }
            switch run.status {
            case .finished:
                guard Self.datasetChanged(run, provenance) else { return .finished(run) }
                // Finished on other data: its results no longer describe this dataset. They are
                // replaced, never kept next to the new ones.
                for table in ["metrics", "evaluations", "checkpoints"] {
                    try db.execute(sql: "DELETE FROM \(table) WHERE run_id = ?", arguments: [run.id])
                }
            case .running:
                let heartbeat = run.heartbeatAt?.timeIntervalSince1970 ?? 0
                let stale = now - heartbeat > staleAfter
                if !(stale || owner.hasOutlived(run)) { return .busy(run) }
            case .pending, .failed, .interrupted:
                break
            }
            let attempt = run.status == .pending && run.attempts == 0 ? 1 : run.attempts + 1
            try db.execute(sql: """
                UPDATE runs SET status = 'running', owner_host = ?, owner_pid = ?, owner_token = ?, heartbeat_at = ?,
                    host = ?, attempts = ?, started_at = COALESCE(started_at, ?), finished_at = NULL, error = NULL,
                    config_json = ?, config_sha256 = ?, git_commit = ?, git_dirty = ?, dataset_sha256 = ?,
                    versions_json = ?, bad_samples = ?
                WHERE id = ?
                """, arguments: [owner.host, owner.pid, token, now, owner.host, attempt, now,
                                 provenance.configJSON, provenance.configSHA256, provenance.gitCommit,
                                 provenance.gitDirty, provenance.datasetSHA256,
                                 JSONText.encodeObject(provenance.versions), provenance.badSamples, run.id])
            let previous: RunStatus? = run.status == .pending && run.attempts == 0 ? nil : run.status
            return .claimed(RunClaim(runID: run.id, experimentID: experimentID, cellKey: cell.cellKey, token: token,
                                     attempt: attempt, previousStatus: previous,
                                     previousConfigSHA256: run.provenance.configSHA256,
                                     previousDatasetSHA256: run.provenance.datasetSHA256))
        }
    }

    /// Whether a finished run was trained on another dataset than `provenance` names (both
    /// hashes known and different): `beginRun` then claims it again instead of skipping it.
    static func datasetChanged(_ run: Run, _ provenance: RunProvenance) -> Bool {
        guard let now = provenance.datasetSHA256, let then = run.provenance.datasetSHA256 else { return false }
        return now != then
    }

    /// Deletes the run's `checkpoints` rows: called when it restarts from scratch, so no record
    /// of an abandoned attempt's checkpoint outlives it.
    public func forgetCheckpoints(for claim: RunClaim) throws {
        try writeImmediate { db in
            try touch(db, claim)
            try db.execute(sql: "DELETE FROM checkpoints WHERE run_id = ?", arguments: [claim.runID])
        }
    }

    /// Marks the claim as alive (`heartbeat_at = now`).
    ///
    /// - Throws: ``ResultsStoreError/claimLost(runID:cellKey:)`` when the run was taken over.
    public func heartbeat(_ claim: RunClaim) throws {
        try writeImmediate { db in try touch(db, claim) }
    }

    /// Marks the run `finished` and releases the claim. Flush the run's ``MetricWriter`` first.
    ///
    /// - Throws: ``ResultsStoreError/claimLost(runID:cellKey:)`` when the run was taken over.
    public func finishRun(_ claim: RunClaim) throws {
        try writeImmediate { db in
            try db.execute(sql: """
                UPDATE runs SET status = 'finished', finished_at = ?, heartbeat_at = ?, owner_token = NULL, error = NULL
                WHERE id = ? AND owner_token = ? AND status = 'running'
                """, arguments: [now, now, claim.runID, claim.token])
            if db.changesCount != 1 { throw ResultsStoreError.claimLost(runID: claim.runID, cellKey: claim.cellKey) }
        }
    }

    /// Marks the run `failed` with `error` and releases the claim; a later `beginRun` retries it.
    ///
    /// - Throws: ``ResultsStoreError/claimLost(runID:cellKey:)`` when the run was taken over.
    public func failRun(_ claim: RunClaim, error: String) throws {
        try writeImmediate { db in
            try db.execute(sql: """
                UPDATE runs SET status = 'failed', finished_at = ?, heartbeat_at = ?, owner_token = NULL, error = ?
                WHERE id = ? AND owner_token = ? AND status = 'running'
                """, arguments: [now, now, error, claim.runID, claim.token])
            if db.changesCount != 1 { throw ResultsStoreError.claimLost(runID: claim.runID, cellKey: claim.cellKey) }
        }
    }

    /// Marks the run `interrupted` with `note` (where it stopped, how to resume) and releases the
    /// claim; a later `beginRun` resumes it.
    ///
    /// - Throws: ``ResultsStoreError/claimLost(runID:cellKey:)`` when the run was taken over.
    public func interruptRun(_ claim: RunClaim, note: String) throws {
        try writeImmediate { db in
            try db.execute(sql: """
                UPDATE runs SET status = 'interrupted', heartbeat_at = ?, owner_token = NULL, error = ?
                WHERE id = ? AND owner_token = ? AND status = 'running'
                """, arguments: [now, note, claim.runID, claim.token])
            if db.changesCount != 1 { throw ResultsStoreError.claimLost(runID: claim.runID, cellKey: claim.cellKey) }
        }
    }

    /// Sets the run's bad-sample count (samples skipped under `onBadSample: skip`).
    public func recordBadSamples(_ count: Int, for claim: RunClaim) throws {
        try writeImmediate { db in
            try touch(db, claim)
            try db.execute(sql: "UPDATE runs SET bad_samples = ? WHERE id = ?", arguments: [count, claim.runID])
        }
    }

    /// Stores resolved options as `params` rows (one transaction; an existing key is overwritten).
    public func recordParams(_ params: [String: String], for claim: RunClaim) throws {
        try writeImmediate { db in
            try touch(db, claim)
            let statement = try db.makeStatement(sql: """
                INSERT INTO params (run_id, key, value) VALUES (?, ?, ?)
                ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value
                """)
            for key in params.keys.sorted() {
                try statement.execute(arguments: [claim.runID, key, params[key]!])
            }
        }
    }

    /// Stores one evaluation unless the same `(run, protocol, probe view, test view, split)` is
    /// already stored (the first row wins; nothing is ever written twice).
    ///
    /// `evaluation.runID` and `evaluation.createdAt` are ignored: the claim's run and the store's
    /// clock are used.
    ///
    /// - Returns: `true` when a row was inserted, `false` when it already existed.
    @discardableResult
    public func recordEvaluation(_ evaluation: EvaluationRecord, for claim: RunClaim) throws -> Bool {
        try writeImmediate { db in
            try touch(db, claim)
            let e = evaluation
            try db.execute(sql: """
                INSERT INTO evaluations (run_id, protocol, probe_view, test_view, split, top1, top5, top_k, n,
                    train_count, class_count, feature_dimension, k, temperature, feature_source, protocol_params, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (run_id, protocol, probe_view, test_view, split) DO NOTHING
                """, arguments: [claim.runID, e.protocolName, e.probeView, e.testView, e.split, e.top1, e.top5, e.topK, e.n,
                                 e.trainCount, e.classCount, e.featureDimension, e.k, e.temperature, e.featureSource,
                                 e.protocolParams, now])
            return db.changesCount == 1
        }
    }

    /// Records the checkpoint written at the end of `epoch` (replacing an earlier record of the
    /// same epoch).
    public func recordCheckpoint(epoch: Int, path: String, sha256: String, for claim: RunClaim) throws {
        try writeImmediate { db in
            try touch(db, claim)
            try db.execute(sql: """
                INSERT INTO checkpoints (run_id, epoch, path, sha256, created_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (run_id, epoch) DO UPDATE SET path = excluded.path, sha256 = excluded.sha256,
                    created_at = excluded.created_at
                """, arguments: [claim.runID, epoch, path, sha256, now])
        }
    }

    /// Creates a buffered metric writer for the claimed run.
    ///
    /// - Parameters:
    ///   - claim: The run the metrics belong to.
    ///   - batchSize: Rows buffered before a flush (default 512).
    ///   - flushInterval: Seconds after which `add` flushes even a small buffer (default 5), which
    ///     also keeps the claim's heartbeat fresh.
    public func metricWriter(for claim: RunClaim, batchSize: Int = 512, flushInterval: TimeInterval = 5) -> MetricWriter {
        MetricWriter(store: self, claim: claim, batchSize: batchSize, flushInterval: flushInterval)
    }

    // MARK: Helpers

    /// Verifies the claim still owns the run and refreshes its heartbeat.
    func touch(_ db: Database, _ claim: RunClaim) throws {
        try db.execute(sql: "UPDATE runs SET heartbeat_at = ? WHERE id = ? AND owner_token = ? AND status = 'running'",
                       arguments: [now, claim.runID, claim.token])
        if db.changesCount != 1 { throw ResultsStoreError.claimLost(runID: claim.runID, cellKey: claim.cellKey) }
    }

    func insertRun(_ db: Database, experimentID: Int64, cell: RunCell, provenance p: RunProvenance, status: RunStatus,
                   owner: RunOwner?, token: String?) throws {
        let running = status == .running
        try db.execute(sql: """
            INSERT INTO runs (experiment_id, cell_key, dataset, train_view, method, regularizer, seed, sweep, status,
                config_json, config_sha256, git_commit, git_dirty, dataset_sha256, host, versions_json,
                owner_host, owner_pid, owner_token, heartbeat_at, attempts, started_at, bad_samples)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (experiment_id, cell_key) DO NOTHING
            """, arguments: [experimentID, cell.cellKey, cell.dataset, cell.trainView, cell.method, cell.regularizer,
                             cell.seed, cell.sweep, status.rawValue, p.configJSON, p.configSHA256, p.gitCommit, p.gitDirty,
                             p.datasetSHA256, owner?.host, JSONText.encodeObject(p.versions),
                             owner?.host, owner?.pid, token, running ? now : nil, running ? 1 : 0,
                             running ? now : nil, p.badSamples])
    }

    func fetchRun(_ db: Database, experimentID: Int64, cellKey: String) throws -> Run? {
        try Run.fetchOne(db, sql: "SELECT * FROM runs WHERE experiment_id = ? AND cell_key = ?",
                         arguments: [experimentID, cellKey])
    }
}
