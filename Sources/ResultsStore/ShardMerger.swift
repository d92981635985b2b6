import Foundation
import GRDB

/// Brings one shard's rows into the target inside the target's write transaction: experiments
/// first, then every run, then the links — so a link's run is always merged before the link.
/// Throwing (a conflict) rolls the whole shard back.
///
/// Ids are never copied: the shard's experiment and run ids are mapped to the target's (matched
/// or newly assigned) and every copied row gets the mapped ids.
struct ShardMerger {
    let db: Database
    let shard: ShardContents
    let shardPath: String
    /// Shard experiment id → target experiment id.
    var experimentIDs: [Int64: Int64] = [:]
    /// Shard experiment id → its name (for messages).
    var experimentNames: [Int64: String] = [:]
    /// Shard run id → the target run that holds its cell after the merge.
    var runIDs: [Int64: Int64] = [:]
    var summary: MergeSummary

    init(db: Database, shard: ShardContents, shardPath: String) {
        self.db = db
        self.shard = shard
        self.shardPath = shardPath
        self.summary = MergeSummary(shardPath: shardPath)
    }

    /// Merges everything; returns what was done.
    mutating func merge() throws -> MergeSummary {
        for experiment in shard.experiments { try mergeExperiment(experiment) }
        for run in shard.runs { try mergeRun(run) }
        for link in shard.links { try mergeLink(link) }
        return summary
    }

    // MARK: Experiments

    /// Matches the experiment by `(name, spec_sha256)`, or creates it with the shard's columns.
    mutating func mergeExperiment(_ row: Row) throws {
        let shardID: Int64 = row["id"], name: String = row["name"], specSHA256: String = row["spec_sha256"]
        experimentNames[shardID] = name
        if let id = try Int64.fetchOne(db, sql: "SELECT id FROM experiments WHERE name = ? AND spec_sha256 = ?",
                                       arguments: [name, specSHA256]) {
            experimentIDs[shardID] = id
            summary.experiments.append(MergeSummary.ExperimentMatch(name: name, id: id, created: false))
        } else {
            let id = try insert(into: "experiments", row, changing: [:])
            experimentIDs[shardID] = id
            summary.experiments.append(MergeSummary.ExperimentMatch(name: name, id: id, created: true))
        }
    }

    // MARK: Runs

    /// Applies the per-cell rules (see ``ResultsDatabase/merge(from:)``) to one shard run.
    mutating func mergeRun(_ row: Row) throws {
        let shardID: Int64 = row["id"], cellKey: String = row["cell_key"], shardExperiment: Int64 = row["experiment_id"]
        let experimentID = experimentIDs[shardExperiment]!
        let shardFinished = (row["status"] as String) == RunStatus.finished.rawValue
        guard let existing = try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE experiment_id = ? AND cell_key = ?",
                                              arguments: [experimentID, cellKey]) else {
            let id = try insert(into: "runs", row, changing: runColumns(row, experimentID: experimentID))
            try copyRunRows(from: shardID, to: id)
            runIDs[shardID] = id
            if shardFinished { summary.runsCopied += 1 } else { summary.unfinishedRunsRecorded += 1 }
            return
        }
        let targetID: Int64 = existing["id"]
        runIDs[shardID] = targetID
        let targetFinished = (existing["status"] as String) == RunStatus.finished.rawValue
        switch (targetFinished, shardFinished) {
        case (true, true):
            try refuseUnlessIdentical(target: existing, shard: row, experiment: shardExperiment, cellKey: cellKey)
            summary.runsAlreadyPresent += 1
        case (true, false):
            summary.runsKept += 1
        case (false, true):
            try replace(targetID, with: row)
            summary.runsReplacingUnfinished += 1
        case (false, false):
            let shardAttempts: Int = row["attempts"], targetAttempts: Int = existing["attempts"]
            if shardAttempts > targetAttempts {
                try replace(targetID, with: row)
                summary.unfinishedRunsRecorded += 1
            } else {
                summary.runsKept += 1
            }
        }
    }

    /// Throws ``MergeError/conflict(path:experiment:cellKey:differences:)`` when the two finished
    /// runs differ in configuration, dataset or evaluations.
    func refuseUnlessIdentical(target: Row, shard: Row, experiment shardExperiment: Int64, cellKey: String) throws {
        let targetID: Int64 = target["id"], shardID: Int64 = shard["id"]
        let targetEvaluations = try Row.fetchAll(db, sql: "SELECT * FROM evaluations WHERE run_id = ?", arguments: [targetID])
        let differences = RunComparison.differences(target: target, targetEvaluations: targetEvaluations,
                                                    shard: shard, shardEvaluations: self.shard.rows("evaluations", runID: shardID))
        guard differences.isEmpty else {
            throw MergeError.conflict(path: shardPath, experiment: experimentNames[shardExperiment] ?? "?",
                                      cellKey: cellKey, differences: differences)
        }
    }

    /// Replaces the target's unfinished run by the shard's: its rows are deleted, its columns take
    /// the shard's values and the shard's rows are copied. The run keeps its id (links stay valid).
    mutating func replace(_ targetID: Int64, with row: Row) throws {
        for table in ShardContents.runTables {
            try db.execute(sql: "DELETE FROM \(table) WHERE run_id = ?", arguments: [targetID])
        }
        let kept: Set<String> = ["id", "experiment_id", "cell_key"]
        var values = values(of: row)
        for (column, value) in runColumns(row, experimentID: nil) { values[column] = value }
        let columns = try db.columns(in: "runs").map(\.name).filter { !kept.contains($0) && values[$0] != nil }
        let assignments = columns.map { "\($0.quotedDatabaseIdentifier) = ?" }.joined(separator: ", ")
        try db.execute(sql: "UPDATE runs SET \(assignments) WHERE id = ?",
                       arguments: StatementArguments(columns.map { values[$0]! } + [targetID.databaseValue]))
        try copyRunRows(from: row["id"], to: targetID)
    }

    /// The run columns that differ from the shard's row: the target experiment, and no owner for
    /// an unfinished run (no process of this machine holds it).
    func runColumns(_ row: Row, experimentID: Int64?) -> [String: DatabaseValue] {
        var changed: [String: DatabaseValue] = [:]
        if let experimentID { changed["experiment_id"] = experimentID.databaseValue }
        if (row["status"] as String) != RunStatus.finished.rawValue {
            changed["owner_token"] = .null
            changed["owner_pid"] = .null
        }
        return changed
    }

    /// Copies the shard run's params, metrics, evaluations and checkpoint records to `targetID`.
    mutating func copyRunRows(from shardID: Int64, to targetID: Int64) throws {
        for table in ShardContents.runTables {
            let rows = shard.rows(table, runID: shardID)
            for row in rows { _ = try insert(into: table, row, changing: ["run_id": targetID.databaseValue]) }
            summary.rowsCopied[table, default: 0] += rows.count
        }
    }

    // MARK: Links

    /// Copies a link with its run id mapped. A cell the target already holds — linked, or its own
    /// finished run — keeps what the target has when the results are identical; differing results
    /// refuse the shard. A link to an unfinished run in the target is pointed at the shard's run.
    mutating func mergeLink(_ row: Row) throws {
        let shardExperiment: Int64 = row["experiment_id"], cellKey: String = row["cell_key"]
        let experimentID = experimentIDs[shardExperiment]!, runID = runIDs[row["run_id"] as Int64]!
        let shardRun = shard.runs.first { ($0["id"] as Int64) == (row["run_id"] as Int64) }!
        let linked = try Int64.fetchOne(db, sql: "SELECT run_id FROM experiment_runs WHERE experiment_id = ? AND cell_key = ?",
                                        arguments: [experimentID, cellKey])
        let ownFinished = try Int64.fetchOne(db, sql: """
            SELECT id FROM runs WHERE experiment_id = ? AND cell_key = ? AND status = 'finished'
            """, arguments: [experimentID, cellKey])
        guard let current = linked ?? ownFinished else {
            _ = try insert(into: "experiment_runs", row, changing: ["experiment_id": experimentID.databaseValue,
                                                                   "run_id": runID.databaseValue])
            summary.rowsCopied["experiment_runs", default: 0] += 1
            return
        }
        if current == runID { summary.linksAlreadyPresent += 1; return }
        let target = try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [current])!
        if (target["status"] as String) == RunStatus.finished.rawValue {
            if (shardRun["status"] as String) == RunStatus.finished.rawValue {
                try refuseUnlessIdentical(target: target, shard: shardRun, experiment: shardExperiment, cellKey: cellKey)
            }
            summary.linksAlreadyPresent += 1
        } else {
            try db.execute(sql: "UPDATE experiment_runs SET run_id = ?, sweep = ?, linked_at = ? WHERE experiment_id = ? AND cell_key = ?",
                           arguments: [runID, row["sweep"] as DatabaseValue, row["linked_at"] as DatabaseValue, experimentID, cellKey])
            summary.rowsCopied["experiment_runs", default: 0] += 1
        }
    }

    // MARK: Rows

    /// A row's values by column name.
    func values(of row: Row) -> [String: DatabaseValue] {
        Dictionary(zip(row.columnNames, row.databaseValues), uniquingKeysWith: { first, _ in first })
    }

    /// Inserts the shard `row` into the target `table` with `changed` columns replaced and its own
    /// `id` left for the target to assign; returns the new row id.
    func insert(into table: String, _ row: Row, changing changed: [String: DatabaseValue]) throws -> Int64 {
        var values = values(of: row)
        values["id"] = nil
        for (column, value) in changed { values[column] = value }
        let columns = try db.columns(in: table).map(\.name).filter { values[$0] != nil }
        let names = columns.map(\.quotedDatabaseIdentifier).joined(separator: ", ")
        let marks = Array(repeating: "?", count: columns.count).joined(separator: ", ")
        try db.cachedStatement(sql: "INSERT INTO \(table) (\(names)) VALUES (\(marks))")
            .execute(arguments: StatementArguments(columns.map { values[$0]! }))
        return db.lastInsertedRowID
    }
}
