import Foundation
import TestSupport
import Testing
@testable import ResultsStore

@Suite("Read-only query guard")
struct ReadOnlyQueryTests {
    /// A file database with one finished run.
    static func seededFile() throws -> (path: String, store: ResultsDatabase) {
        try seededFileAt(temporaryDatabasePath("query"))
    }

    static func seededFileAt(_ path: String) throws -> (path: String, store: ResultsDatabase) {
        let store = try ResultsDatabase(path: path, clock: TestClock().closure)
        let e = try store.upsertExperiment(name: "quick", specSHA256: "s")
        let c = try claim(store, e.id, cell())
        try store.recordEvaluation(EvaluationRecord(protocolName: "linear", probeView: "full", testView: "full", top1: 0.9, top5: 1, n: 10), for: c)
        try store.finishRun(c)
        return (path, store)
    }

    static let refused = [
        "INSERT INTO experiments (name, spec_sha256, created_at) VALUES ('x', 'y', 0)",
        "UPDATE runs SET status = 'failed'",
        "DELETE FROM runs",
        "DROP TABLE runs",
        "DROP VIEW matrix_cells",
        "CREATE TABLE t (x)",
        "ALTER TABLE runs ADD COLUMN x",
        "REPLACE INTO params (run_id, key, value) VALUES (1, 'a', 'b')",
        "ATTACH DATABASE ':memory:' AS other",
        "DETACH DATABASE main",
        "PRAGMA user_version = 5",
        "PRAGMA query_only = 0",
        "PRAGMA journal_mode = DELETE",
        "PRAGMA journal_mode(delete)",
        "PRAGMA main.user_version = 7",
        "PRAGMA optimize",
        "PRAGMA wal_checkpoint(TRUNCATE)",
        "VACUUM",
        "REINDEX",
        "ANALYZE",
        "BEGIN IMMEDIATE",
        "SELECT 1; DELETE FROM runs",
        "SELECT * FROM runs; DROP TABLE runs",
        "/* harmless */ DELETE FROM runs",
        "WITH x AS (SELECT 1) DELETE FROM runs",
    ]

    @Test("write statements are refused with a message naming them, and nothing changes", arguments: refused)
    func refusesWrites(sql: String) throws {
        let (path, store) = try Self.seededFile()
        defer { removeDatabase(path) }
        let before = try store.contentChecksum()
        do {
            let result = try ResultsDatabase.readOnlyQuery(path: path, sql: sql)
            Issue.record("\(sql) was not refused: \(result)")
        } catch let error as ResultsStoreError {
            guard case .notReadOnly(let statement) = error else { Issue.record("unexpected \(error)"); return }
            #expect(sql.contains(statement.trimmingCharacters(in: CharacterSet(charactersIn: ";"))))
            #expect(error.description.contains("refused") && error.description.contains(statement))
        }
        #expect(throws: (any Error).self) { try store.readOnlyQuery(sql: sql) }
        #expect(try store.contentChecksum() == before)
        #expect(try store.runs(experimentID: 1).count == 1)
    }

    @Test("the in-memory path refuses the same statements")
    func inMemoryRefuses() throws {
        let store = try ResultsDatabase.inMemory()
        let before = try store.contentChecksum()
        for sql in Self.refused {
            #expect(throws: (any Error).self, "\(sql)") { try store.readOnlyQuery(sql: sql) }
        }
        #expect(try store.contentChecksum() == before)
    }

    @Test("reads return column names and typed values")
    func reads() throws {
        let (path, store) = try Self.seededFile()
        defer { removeDatabase(path) }
        let result = try store.readOnlyQuery(sql: "SELECT method, seed, top1, NULL AS absent, x'00ff' AS b FROM matrix_cells;")
        #expect(result.columns == ["method", "seed", "top1", "absent", "b"])
        #expect(result.rows == [[.text("simclr"), .integer(0), .real(0.9), .null, .blob(Data([0, 255]))]])
        #expect(result.rows[0].map(\.description) == ["simclr", "0", "0.9", "", "x'00ff'"])
        #expect(try store.readOnlyQuery(sql: "-- runs\nWITH r AS (SELECT id FROM runs) SELECT COUNT(*) FROM r").rows == [[.integer(1)]])
        #expect(try store.readOnlyQuery(sql: "PRAGMA table_info(runs)").rows.count > 20)
        #expect(try store.readOnlyQuery(sql: "PRAGMA user_version").rows == [[.integer(0)]])
        #expect(try store.readOnlyQuery(sql: "EXPLAIN QUERY PLAN SELECT * FROM runs WHERE experiment_id = 1").rows.count >= 1)
        #expect(throws: ResultsStoreError.multipleStatements(count: 2)) { try store.readOnlyQuery(sql: "SELECT 1; SELECT 2") }
        #expect(throws: ResultsStoreError.emptyQuery) { try store.readOnlyQuery(sql: "  -- nothing\n") }
        #expect(throws: (any Error).self) { try store.readOnlyQuery(sql: "SELEC nonsense") }
    }

    @Test("a store opened read-only reads but cannot write")
    func readOnlyStore() throws {
        let (path, store) = try Self.seededFile()
        defer { removeDatabase(path) }
        let before = try store.contentChecksum()
        let reader = try ResultsDatabase(path: path, mode: .readOnly)
        #expect(reader.isReadOnly)
        #expect(try reader.experiments().map(\.name) == ["quick"])
        #expect(throws: (any Error).self) { try reader.upsertExperiment(name: "new", specSHA256: "t") }
        #expect(try store.contentChecksum() == before)
    }
}

@Suite("Read-only access to a closed WAL database")
struct ClosedDatabaseTests {
    @Test("a database whose writers have all closed (no -wal/-shm left) opens read-only and stays unchanged")
    func readOnlyAfterClose() throws {
        let path = temporaryDatabasePath("closed")
        defer { removeDatabase(path) }
        let before: String
        do {
            let (_, store) = try ReadOnlyQueryTests.seededFileAt(path)
            before = try store.contentChecksum()
        }
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"), "the last writer should have removed the WAL file")
        let reader = try ResultsDatabase(path: path, mode: .readOnly)
        #expect(try reader.contentChecksum() == before)
        #expect(try ResultsDatabase.readOnlyQuery(path: path, sql: "SELECT COUNT(*) FROM runs").rows == [[.integer(1)]])
        #expect(throws: (any Error).self) { try ResultsDatabase.readOnlyQuery(path: path, sql: "DELETE FROM runs") }
        #expect(try reader.contentChecksum() == before)
    }
}
