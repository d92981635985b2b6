import Foundation
import TestSupport
import Testing
@testable import ResultsStore

/// `readOnlyQuery` limits: rows, time, interruption; and reading a database without side files.
@Suite("Query limits and read-only access")
struct QueryLimitsTests {
    static let endless = "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) SELECT * FROM r"
    static let endlessCount = "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) SELECT COUNT(*) FROM r"

    @Test("an endless recursive CTE stops at the row limit")
    func rowLimit() throws {
        let (path, _) = try ReadOnlyQueryTests.seededFile()
        defer { removeDatabase(path) }
        #expect(throws: ResultsStoreError.tooManyRows(limit: 1000)) {
            try ResultsDatabase.readOnlyQuery(path: path, sql: Self.endless, limits: QueryLimits(maxRows: 1000, timeout: 10))
        }
        let exact = try ResultsDatabase.readOnlyQuery(path: path, sql: Self.endless + " LIMIT 1000",
                                                      limits: QueryLimits(maxRows: 1000, timeout: 10))
        #expect(exact.rows.count == 1000)
        #expect(ResultsStoreError.tooManyRows(limit: 1000).description.contains("--max-rows"))
    }

    @Test("an endless aggregate stops at the time limit")
    func timeLimit() throws {
        let (path, _) = try ReadOnlyQueryTests.seededFile()
        defer { removeDatabase(path) }
        let start = Date()
        #expect(throws: ResultsStoreError.queryInterrupted(seconds: 0.5)) {
            try ResultsDatabase.readOnlyQuery(path: path, sql: Self.endlessCount, limits: QueryLimits(maxRows: 10, timeout: 0.5))
        }
        #expect(Date().timeIntervalSince(start) < 10)
        #expect(ResultsStoreError.queryInterrupted(seconds: 0.5).description.contains("--timeout"))
    }

    @Test("another thread can interrupt a query, also the in-memory path")
    func interruption() throws {
        let store = try ResultsDatabase.inMemory()
        let handle = QueryInterruption()
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { handle.interrupt() }
        #expect(throws: ResultsStoreError.queryInterrupted(seconds: nil)) {
            try store.readOnlyQuery(sql: Self.endlessCount, limits: .unlimited, interruption: handle)
        }
        // An interrupt requested before the query starts stops it as soon as it runs.
        let early = QueryInterruption()
        early.interrupt()
        #expect(throws: ResultsStoreError.queryInterrupted(seconds: nil)) {
            try store.readOnlyQuery(sql: Self.endlessCount, interruption: early)
        }
    }

    /// A closed copy of a seeded database in a fresh folder (no `-wal`/`-shm` next to it).
    static func closedCopy() throws -> (folder: URL, path: String) {
        let (path, store) = try ReadOnlyQueryTests.seededFile()
        try store.close()
        let folder = temporaryDirectory("store-immutable")
        let copy = folder.appendingPathComponent("copy.sqlite")
        try FileManager.default.copyItem(atPath: path, toPath: copy.path)
        removeDatabase(path)
        return (folder, copy.path)
    }

    @Test("an immutable open reads without creating side files")
    func immutableOpen() throws {
        let (folder, path) = try Self.closedCopy()
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try ResultsDatabase(path: path, mode: .immutable)
        let e = try store.resolveExperiment(nil)
        #expect(try store.runListing(experimentID: e.id).count == 1)
        #expect(try store.matrixRows(experimentID: e.id).count == 1)
        #expect(try store.readOnlyQuery(sql: "SELECT COUNT(*) FROM runs").rows == [[.integer(1)]])
        #expect(throws: (any Error).self) { try store.execute(sql: "DELETE FROM runs") }
        try store.close()
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        #expect(files == ["copy.sqlite"], "\(files)")
    }

    @Test("the immutable name is a percent-encoded file URI; writable folders keep shared access")
    func accessChoice() throws {
        #expect(ReadOnlyAccess.immutable.sqliteName(for: "/a b/x?y#z%.sqlite") == "file:/a%20b/x%3Fy%23z%25.sqlite?immutable=1")
        #expect(ReadOnlyAccess.shared.sqliteName(for: "rel/x.sqlite") == "rel/x.sqlite")
        let folder = temporaryDirectory("store-access")
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(ReadOnlyAccess.choose(forDatabaseAt: folder.appendingPathComponent("x.sqlite").path) == .shared)
        #expect(ReadOnlyAccess.choose(forDatabaseAt: "/nonexistent-folder/x.sqlite") == .immutable)
    }

    @Test("a database in a folder this process cannot write is read immutable", .enabled(if: getuid() != 0))
    func readOnlyFolder() throws {
        let (folder, path) = try Self.closedCopy()
        defer {
            chmod(folder.path, 0o755)
            try? FileManager.default.removeItem(at: folder)
        }
        #expect(chmod(folder.path, 0o555) == 0)
        #expect(ReadOnlyAccess.choose(forDatabaseAt: path) == .immutable)
        let store = try ResultsDatabase(path: path, mode: .readOnly)
        #expect(try store.experiments().count == 1)
        #expect(try ResultsDatabase.readOnlyQuery(path: path, sql: "SELECT COUNT(*) FROM evaluations").rows == [[.integer(1)]])
    }
}

/// Owners that are gone: a zombie process counts as dead for the takeover rule.
@Suite struct DeadOwnerTests {
    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/proc/self/stat")))
    func aZombieIsNotAlive() throws {
        // Spawned without Foundation (which would reap it): posix_spawn, and no wait until the end.
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sh"), strdup("-c"), strdup("exit 0"), nil]
        defer { argv.forEach { free($0) } }
        #expect(posix_spawn(&pid, "/bin/sh", nil, nil, argv, nil) == 0)
        var waited = 0
        while !RunOwner.isZombie(Int(pid)) && waited < 100 { Thread.sleep(forTimeInterval: 0.05); waited += 1 }
        #expect(RunOwner.isZombie(Int(pid)))
        #expect(!RunOwner.processIsAlive(Int(pid)))
        #expect(RunOwner.processIsAlive(Int(getpid())))
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }
}
