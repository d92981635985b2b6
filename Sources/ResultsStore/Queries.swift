import Foundation
import GRDB

extension ResultsDatabase {
    // MARK: Experiments

    /// All experiments, oldest first.
    public func experiments() throws -> [Experiment] {
        try writer.read { db in try Experiment.fetchAll(db, sql: "SELECT * FROM experiments ORDER BY id") }
    }

    /// The most recently created experiment called `name`, or nil.
    public func experiment(named name: String) throws -> Experiment? {
        try writer.read { db in
            try Experiment.fetchOne(db, sql: "SELECT * FROM experiments WHERE name = ? ORDER BY id DESC LIMIT 1",
                                    arguments: [name])
        }
    }

    /// The experiment with this id, or nil.
    public func experiment(id: Int64) throws -> Experiment? {
        try writer.read { db in try Experiment.fetchOne(db, sql: "SELECT * FROM experiments WHERE id = ?", arguments: [id]) }
    }

    // MARK: Runs

    /// The runs of an experiment in creation order: its own and those it links (an identical cell
    /// finished by another experiment), each with this experiment's cell key and sweep label.
    public func runs(experimentID: Int64) throws -> [Run] {
        try writer.read { db in
            try Run.fetchAll(db, sql: "\(Self.memberRunsSQL) WHERE c.experiment_id = ? ORDER BY r.id", arguments: [experimentID])
        }
    }

    /// The rows of `runs` as members of an experiment: the membership columns (`experiment_cells`)
    /// first, so they win over the run's own `experiment_id`, `cell_key` and `sweep` when decoded.
    static let memberRunsSQL = """
        SELECT c.experiment_id, c.cell_key, c.sweep, r.experiment_id AS owner_experiment_id, r.*
        FROM experiment_cells c JOIN runs r ON r.id = c.run_id
        """

    /// One run by id.
    public func run(id: Int64) throws -> Run? {
        try writer.read { db in try Run.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [id]) }
    }

    /// One run by its cell key.
    public func run(experimentID: Int64, cellKey: String) throws -> Run? {
        try writer.read { db in try fetchRun(db, experimentID: experimentID, cellKey: cellKey) }
    }

    /// The finished cells of an experiment: cell key → config SHA-256. A runner skips a cell
    /// whose key is here with the same config hash.
    public func finishedCells(experimentID: Int64) throws -> [String: String] {
        try writer.read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT c.cell_key, r.config_sha256 FROM experiment_cells c JOIN runs r ON r.id = c.run_id
                WHERE c.experiment_id = ? AND r.status = 'finished'
                """, arguments: [experimentID])
            var result: [String: String] = [:]
            for row in rows { result[row["cell_key"]] = row["config_sha256"] }
            return result
        }
    }

    /// The finished cells of an experiment: cell key → the config and dataset SHA-256 they
    /// finished with. A runner skips a cell only when both match (see `beginRun`).
    public func finishedCellHashes(experimentID: Int64) throws -> [String: (config: String, dataset: String?)] {
        try writer.read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT c.cell_key, r.config_sha256, r.dataset_sha256 FROM experiment_cells c JOIN runs r ON r.id = c.run_id
                WHERE c.experiment_id = ? AND r.status = 'finished'
                """, arguments: [experimentID])
            var result: [String: (config: String, dataset: String?)] = [:]
            for row in rows { result[row["cell_key"]] = (row["config_sha256"], row["dataset_sha256"]) }
            return result
        }
    }

    /// The resolved options of a run (`params`).
    public func params(runID: Int64) throws -> [String: String] {
        try writer.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT key, value FROM params WHERE run_id = ?", arguments: [runID])
            var result: [String: String] = [:]
            for row in rows {
                let r = StoredRow(row, table: "params", identity: "run_id \(runID)")
                result[try r.value("key")] = try r.value("value")
            }
            return result
        }
    }

    // MARK: Metrics, evaluations, checkpoints

    /// The values of one metric of a run, by step.
    public func metrics(runID: Int64, key: String) throws -> [Metric] {
        try writer.read { db in
            try Metric.fetchAll(db, sql: "SELECT * FROM metrics WHERE run_id = ? AND key = ? ORDER BY step",
                                arguments: [runID, key])
        }
    }

    /// The distinct metric keys of a run, sorted.
    public func metricKeys(runID: Int64) throws -> [String] {
        try writer.read { db in
            try String.fetchAll(db, sql: "SELECT DISTINCT key FROM metrics WHERE run_id = ? ORDER BY key", arguments: [runID])
        }
    }

    /// One metric of every run of an experiment: run id → values by step.
    public func metricSeries(experimentID: Int64, key: String) throws -> [Int64: [Metric]] {
        try writer.read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT m.* FROM metrics m JOIN experiment_cells c ON c.run_id = m.run_id
                WHERE c.experiment_id = ? AND m.key = ? ORDER BY m.run_id, m.step
                """, arguments: [experimentID, key])
            var result: [Int64: [Metric]] = [:]
            for row in rows {
                let runID: Int64 = try StoredRow(row, table: "metrics").value("run_id")
                result[runID, default: []].append(try Metric(row: row))
            }
            return result
        }
    }

    /// The number of classes the evaluations of an experiment's finished runs (own or linked)
    /// report (`evaluations.class_count`), when they all agree; nil when none records it or
    /// they differ.
    public func classCount(experimentID: Int64) throws -> Int? {
        try writer.read { db in
            let counts = try Int.fetchAll(db, sql: """
                SELECT DISTINCT v.class_count FROM evaluations v
                JOIN experiment_cells c ON c.run_id = v.run_id JOIN runs r ON r.id = v.run_id
                WHERE c.experiment_id = ? AND r.status = 'finished' AND typeof(v.class_count) = 'integer'
                """, arguments: [experimentID])
            return counts.count == 1 ? counts[0] : nil
        }
    }

    /// The evaluations of a run, ordered by protocol, probe view, test view.
    public func evaluations(runID: Int64) throws -> [EvaluationRecord] {
        try writer.read { db in
            try EvaluationRecord.fetchAll(db, sql: "SELECT * FROM evaluations WHERE run_id = ? ORDER BY protocol, probe_view, test_view, split",
                                    arguments: [runID])
        }
    }

    /// The checkpoint with the highest epoch of a run (the resume point), or nil.
    public func latestCheckpoint(runID: Int64) throws -> Checkpoint? {
        try writer.read { db in
            try Checkpoint.fetchOne(db, sql: "SELECT * FROM checkpoints WHERE run_id = ? ORDER BY epoch DESC LIMIT 1",
                                    arguments: [runID])
        }
    }

    /// Every checkpoint of a run, by epoch.
    public func checkpoints(runID: Int64) throws -> [Checkpoint] {
        try writer.read { db in
            try Checkpoint.fetchAll(db, sql: "SELECT * FROM checkpoints WHERE run_id = ? ORDER BY epoch", arguments: [runID])
        }
    }

    // MARK: The matrix

    /// The evaluations of the experiment's finished runs in one probe series (the
    /// `matrix_series` view), ordered by method, train view, regularizer, seed, protocol, test view.
    ///
    /// - Parameters:
    ///   - experimentID: The experiment.
    ///   - probe: `.trainView` (default protocol) or `.sameAsTest`.
    ///   - split: The evaluated split (default `test`).
    public func matrixRows(experimentID: Int64, probe: ProbeSeries = .trainView, split: String = "test") throws -> [MatrixRow] {
        try writer.read { db in
            try MatrixRow.fetchAll(db, sql: """
                SELECT * FROM matrix_series WHERE experiment_id = ? AND probe = ? AND split = ?
                ORDER BY method, train_view, regularizer, seed, protocol, test_view
                """, arguments: [experimentID, probe.rawValue, split])
        }
    }

    // MARK: Integrity

    /// A SHA-256 over every row of every table (in a stable order), for checking that an
    /// operation changed nothing.
    public func contentChecksum() throws -> String {
        try writer.read { db in
            var hasher = SHA256Hasher()
            let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            for table in tables {
                hasher.update(Array("table \(table)\n".utf8))
                let rows = try Row.fetchAll(db, sql: "SELECT * FROM \(table.quotedDatabaseIdentifier)")
                let lines = rows.map { row in row.databaseValues.map { $0.description }.joined(separator: "\u{1F}") + "\n" }
                for line in lines.sorted() { hasher.update(Array(line.utf8)) }
            }
            return hasher.finalizeHex()
        }
    }
}
