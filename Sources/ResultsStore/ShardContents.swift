import Foundation
import GRDB

/// The rows of a shard database that a merge brings into the target, read once — before the
/// target's write transaction begins — from a read-only connection.
///
/// Opening never writes the shard: it is opened read-only (`SQLITE_OPEN_READONLY`, immutable in
/// a folder this process cannot write, see ``ReadOnlyAccess``). A shard made by an older Backdrop
/// is copied into memory (SQLite's backup) and the copy is migrated; the file keeps its schema.
struct ShardContents {
    /// The tables holding a run's rows, keyed by `run_id`, in the order they are copied.
    static let runTables = ["params", "metrics", "evaluations", "checkpoints"]

    /// Every `experiments` row, by id.
    var experiments: [Row]
    /// Every `runs` row, by id.
    var runs: [Row]
    /// Every `experiment_runs` row (links of a run into another experiment).
    var links: [Row]
    /// table (one of ``runTables``) → run id → that run's rows of the table.
    var runRows: [String: [Int64: [Row]]]

    /// The rows of `table` that belong to the shard's run `runID`.
    func rows(_ table: String, runID: Int64) -> [Row] {
        runRows[table]?[runID] ?? []
    }

    /// Reads the shard database at `path`.
    ///
    /// - Throws: ``MergeError`` when the file is missing, is not a Backdrop results database, or
    ///   was made by a newer Backdrop.
    static func read(from path: String) throws -> ShardContents {
        let reader = try openMigrated(path)
        do {
            return try reader.read { db in
                var runRows: [String: [Int64: [Row]]] = [:]
                for table in runTables {
                    let order = table == "params" ? "run_id, key" : "id"
                    let rows = try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY \(order)")
                    runRows[table] = Dictionary(grouping: rows) { row in row["run_id"] as Int64 }
                }
                return ShardContents(
                    experiments: try Row.fetchAll(db, sql: "SELECT * FROM experiments ORDER BY id"),
                    runs: try Row.fetchAll(db, sql: "SELECT * FROM runs ORDER BY id"),
                    links: try Row.fetchAll(db, sql: "SELECT * FROM experiment_runs ORDER BY experiment_id, cell_key"),
                    runRows: runRows)
            }
        } catch let error as DatabaseError {
            throw MergeError.notADatabase(path: path, reason: error.message ?? "\(error)")
        }
    }

    /// A read-only connection to the shard at the current schema: the file itself when it is
    /// current, else a migrated in-memory copy of it.
    static func openMigrated(_ path: String) throws -> any DatabaseReader {
        guard FileManager.default.fileExists(atPath: path) else { throw MergeError.missingShard(path: path) }
        var configuration = Configuration()
        configuration.label = "ResultsStore.shard"
        let reader: DatabaseQueue
        let applied: [String]
        do {
            reader = try ResultsDatabase.openReadOnly(path: path, configuration: configuration)
            applied = try reader.read { db in try appliedMigrations(db, path: path) }
        } catch let error as DatabaseError {
            throw MergeError.notADatabase(path: path, reason: error.message ?? "\(error)")
        }
        let known = Schema.migrationIdentifiers
        let unknown = applied.filter { !known.contains($0) }
        guard unknown.isEmpty else { throw MergeError.newerSchema(path: path, unknown: unknown.sorted()) }
        if applied == known { return reader }
        let copy = try DatabaseQueue()
        try reader.backup(to: copy)
        try reader.close()
        try ResultsDatabase.migrate(copy)
        return copy
    }

    /// The shard's applied migrations, in the order they were applied.
    ///
    /// - Throws: ``MergeError/notADatabase(path:reason:)`` when it has no `grdb_migrations`,
    ///   `experiments` or `runs` table.
    static func appliedMigrations(_ db: Database, path: String) throws -> [String] {
        for table in ["grdb_migrations", "experiments", "runs"] where try !db.tableExists(table) {
            throw MergeError.notADatabase(path: path, reason: "it has no \(table) table")
        }
        return try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid")
    }
}

/// Why a shard could not be merged. Each message names the shard file.
public enum MergeError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// The shard file does not exist.
    case missingShard(path: String)
    /// The shard is the target database itself.
    case sameFile(path: String)
    /// The file is not a Backdrop results database (not SQLite, or no Backdrop tables).
    case notADatabase(path: String, reason: String)
    /// The shard has schema migrations this build does not know.
    case newerSchema(path: String, unknown: [String])
    /// A cell finished in both databases with different results; nothing of the shard was merged.
    case conflict(path: String, experiment: String, cellKey: String, differences: [String])

    public var description: String {
        switch self {
        case .missingShard(let path):
            return "shard \(path) does not exist"
        case .sameFile(let path):
            return "shard \(path) is the target database itself; merge shards into another file"
        case .notADatabase(let path, let reason):
            return "shard \(path) is not a Backdrop results database (\(reason))"
        case .newerSchema(let path, let unknown):
            return "shard \(path) was made by a newer backdrop (schema migrations \(unknown) unknown to this build); merge with a newer backdrop"
        case .conflict(let path, let experiment, let cellKey, let differences):
            return "shard \(path) refused, nothing of it merged: experiment \(experiment), cell \(cellKey) finished in both "
                + "databases with different results: \(differences.joined(separator: "; "))"
        }
    }

    public var errorDescription: String? { description }
}
