import Foundation
import GRDB

/// A run is identified by what it computed: its resolved configuration hash and its dataset hash.
/// An experiment whose cell is identical to a run finished anywhere in the database links that run
/// (`experiment_runs`) instead of training it again; the run then appears under both experiments,
/// each with its own cell key and sweep label (the `experiment_cells` view).
extension ResultsDatabase {
    /// The finished run that trained this exact configuration on this exact dataset (the first
    /// one, when several did), or nil. Only runs that were trained (not links) are candidates,
    /// and both hashes must be known.
    public func reusableRun(configSHA256: String, datasetSHA256: String?) throws -> Run? {
        guard let datasetSHA256 else { return nil }
        return try writer.read { db in
            try Run.fetchOne(db, sql: """
                SELECT * FROM runs WHERE config_sha256 = ? AND dataset_sha256 = ? AND status = 'finished' ORDER BY id LIMIT 1
                """, arguments: [configSHA256, datasetSHA256])
        }
    }

    /// Makes `runID` the run of cell `cellKey` of experiment `experimentID` (replacing an earlier
    /// link of that cell). The experiment's own row for the cell, if any (planned, failed or
    /// interrupted), is kept but hidden behind the link in `experiment_cells`.
    public func linkRun(experimentID: Int64, cellKey: String, sweep: String, runID: Int64) throws {
        try writeImmediate { db in
            try db.execute(sql: """
                INSERT INTO experiment_runs (experiment_id, cell_key, sweep, run_id, linked_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (experiment_id, cell_key) DO UPDATE SET run_id = excluded.run_id, sweep = excluded.sweep,
                    linked_at = excluded.linked_at
                """, arguments: [experimentID, cellKey, sweep, runID, now])
        }
    }

    /// The experiment named `nameOrID` — the latest of that name — or, when no experiment has that
    /// name and it is a number, the experiment with that id; the latest experiment when nil.
    ///
    /// - Throws: ``ResultsStoreError/unknownExperiment(_:known:)`` naming the known experiments.
    public func resolveExperiment(_ nameOrID: String?) throws -> Experiment {
        let all = try experiments()
        var found = nameOrID.map { n in all.last(where: { $0.name == n }) } ?? all.last
        if found == nil, let text = nameOrID, let id = Int64(text.hasPrefix("#") ? String(text.dropFirst()) : text) {
            found = all.first { $0.id == id }
        }
        guard let experiment = found else {
            var names: [String] = []
            for e in all where !names.contains(e.name) { names.append(e.name) }
            throw ResultsStoreError.unknownExperiment(nameOrID ?? "(latest)", known: names.isEmpty ? [] : names + ["or an id (`backdrop experiments`)"])
        }
        return experiment
    }

    /// One line per experiment, oldest first: its row and how many of its cells are finished
    /// (trained here or linked), failed, running, interrupted, and linked.
    public func experimentOverview() throws -> [ExperimentOverview] {
        try writer.read { db in
            let counts = try Row.fetchAll(db, sql: """
                SELECT c.experiment_id,
                       SUM(r.status = 'finished') AS finished, SUM(r.status = 'failed') AS failed,
                       SUM(r.status = 'running') AS running, SUM(r.status = 'interrupted') AS interrupted, SUM(c.linked = 1 AND r.status = 'finished') AS linked,
                       COUNT(*) AS known
                FROM experiment_cells c JOIN runs r ON r.id = c.run_id GROUP BY c.experiment_id
                """)
            var byID: [Int64: Row] = [:]
            for row in counts { byID[row["experiment_id"]] = row }
            return try Experiment.fetchAll(db, sql: "SELECT * FROM experiments ORDER BY id").map { e in
                let row = byID[e.id]
                return ExperimentOverview(experiment: e, finished: row?["finished"] ?? 0, failed: row?["failed"] ?? 0,
                                          running: row?["running"] ?? 0, interrupted: row?["interrupted"] ?? 0, linked: row?["linked"] ?? 0,
                                          total: e.cellCount ?? row?["known"] ?? 0)
            }
        }
    }
}

/// An experiment and the state of its cells (`backdrop experiments`).
public struct ExperimentOverview: Sendable, Equatable {
    public var experiment: Experiment
    /// Finished cells, trained here or linked from another experiment.
    public var finished: Int
    public var failed: Int
    public var running: Int
    /// Cells stopped with Ctrl-C, waiting to be resumed.
    public var interrupted: Int
    /// Finished cells reused from another experiment.
    public var linked: Int
    /// The matrix size (cells of the spec), or the cells known when it was not recorded.
    public var total: Int
}
