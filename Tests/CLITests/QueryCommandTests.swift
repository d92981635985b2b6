import Foundation
import TestSupport
import Testing

/// The read-only commands' argument parsing and output formats (no training needed: an empty
/// file is an empty SQLite database).
@Suite struct QueryCommandTests {
    @Test func compareByAnUnknownAxisIsAUsageError() throws {
        let r = try Executables.run("backdrop", ["compare", "--by", "bogus", "--db", "/nonexistent/results.sqlite"])
        #expect(r.status == 64, "\(r.stderr)")
        #expect(r.stderr.contains("bogus") && r.stderr.contains("--by"), "\(r.stderr)")
        #expect(r.stderr.contains("regularizer") && r.stderr.contains("train_view") && r.stderr.contains("method"), "\(r.stderr)")
    }

    @Test func queryPrintsTableCSVAndJSON() throws {
        let dir = temporaryDirectory("query-formats")
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("empty.sqlite").path
        #expect(FileManager.default.createFile(atPath: db, contents: Data()))
        let sql = "SELECT 1 AS n, 'a,\"b\"' AS text, 2.5 AS x, NULL AS none"
        let table = try Executables.run("backdrop", ["query", "--db", db, sql])
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout == "n  text   x    none\n-  -----  ---  ----\n1  a,\"b\"  2.5\n(1 row)\n")
        let csv = try Executables.run("backdrop", ["query", "--db", db, "--format", "csv", sql])
        #expect(csv.stdout == "n,text,x,none\n1,\"a,\"\"b\"\"\",2.5,\n")
        let json = try Executables.run("backdrop", ["query", "--db", db, "--format", "json", sql])
        let objects = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        #expect(objects?.first?["n"] as? Int == 1 && objects?.first?["x"] as? Double == 2.5 && objects?.first?["none"] is NSNull)
        let bad = try Executables.run("backdrop", ["query", "--db", db, "--format", "yaml", sql])
        #expect(bad.status == 64 && bad.stderr.contains("yaml"))
    }
}
