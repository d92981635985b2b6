import Foundation
import TestSupport
import Testing
@testable import ResultsStore

/// The read-only commands on hostile databases: wrong-typed values, endless queries, a database
/// that must be read without side files. None may trap (exit ≥ 128).
@Suite struct RobustReaderCommandTests {
    /// A closed results database in a fresh folder: experiment `quick`, regularizers none and
    /// icl-msr × seeds 0–1, linear on two test views, three loss values per run.
    static func database(_ name: String) throws -> (dir: URL, db: String) {
        let dir = temporaryDirectory(name)
        let db = dir.appendingPathComponent("results.sqlite").path
        let store = try ResultsDatabase(path: db, clock: TestClock(1_750_000_000, tick: 1).closure)
        let e = try store.upsertExperiment(name: "quick", specSHA256: "s")
        for regularizer in ["none", "icl-msr"] {
            for seed in 0..<2 {
                let cell = RunCell(cellKey: "full/simclr/\(regularizer)/seed\(seed)", dataset: "builtin", trainView: "full",
                                   method: "simclr", regularizer: regularizer, seed: seed)
                let provenance = RunProvenance(configJSON: "{}", configSHA256: "c\(seed)\(regularizer)")
                let claim = try #require(try store.beginRun(experimentID: e.id, cell: cell, provenance: provenance).claim)
                let metrics = store.metricWriter(for: claim, batchSize: 8)
                for step in 0..<3 { try metrics.add(key: "loss", step: step, epoch: 0, value: 2 - Double(step) / 3, wallTime: 1) }
                try metrics.finish()
                for view in ["full", "foreground"] {
                    let acc = 0.5 + 0.1 * Double(seed) + (regularizer == "none" ? 0 : 0.05)
                    try store.recordEvaluation(EvaluationRecord(protocolName: "linear", probeView: "full", testView: view,
                                                                top1: acc, top5: 1, n: 10), for: claim)
                }
                try store.finishRun(claim)
            }
        }
        try store.close()
        return (dir, db)
    }

    static let corruptions: [(sql: String, table: String, column: String)] = [
        ("UPDATE runs SET seed = 1e300 WHERE id = 2", "runs", "seed"),
        ("UPDATE evaluations SET top1 = 'oops' WHERE id = 3", "evaluations", "top1"),
        ("UPDATE metrics SET value = 'x' WHERE id = 4", "metrics", "value"),
    ]

    @Test(arguments: 0..<3)
    func readersNameAnUnusableValue(index: Int) throws {
        let (sql, table, column) = Self.corruptions[index]
        let (dir, db) = try Self.database("cli-unusable")
        defer { try? FileManager.default.removeItem(at: dir) }
        do {
            let store = try ResultsDatabase(path: db)
            try store.execute(sql: sql)
            try store.close()
        }
        let commands: [[String]] = [["runs"], ["matrix"], ["compare"], ["report", "--out", dir.appendingPathComponent("out").path],
                                    ["findings", "--experiment", "quick"]]
        var named = false
        for command in commands {
            let r = try Executables.run("backdrop", command + ["--db", db])
            #expect(r.status == 0 || r.status == 1, "\(command) exited with \(r.status): \(r.stderr)")
            #expect(!r.stderr.contains("Fatal error"), "\(command): \(r.stderr)")
            if r.status == 1 {
                #expect(r.stderr.contains("table \(table)") && r.stderr.contains("column \(column)"), "\(command): \(r.stderr)")
                named = true
            }
        }
        #expect(named, "no reader reported \(sql)")
    }

    @Test func endlessQueriesStopWithAMessage() throws {
        let (dir, db) = try Self.database("cli-endless")
        defer { try? FileManager.default.removeItem(at: dir) }
        let rows = try Executables.run("backdrop", ["query", "--db", db, QueryLimitsSQL.endless])
        #expect(rows.status == 1 && rows.stderr.contains("more than 10000 rows") && rows.stderr.contains("--max-rows"), "\(rows.stderr)")
        let start = Date()
        let time = try Executables.run("backdrop", ["query", "--db", db, "--timeout", "1", QueryLimitsSQL.endlessCount])
        #expect(time.status == 1 && time.stderr.contains("time limit of 1 s"), "\(time.stderr)")
        #expect(Date().timeIntervalSince(start) < 20)
        let raised = try Executables.run("backdrop", ["query", "--db", db, "--max-rows", "20000", "--format", "csv",
                                                      QueryLimitsSQL.endless + " LIMIT 15000"])
        #expect(raised.status == 0 && raised.stdout.split(separator: "\n").count == 15001, "\(raised.stderr)")
        let bad = try Executables.run("backdrop", ["query", "--db", db, "--max-rows", "0", "SELECT 1"])
        #expect(bad.status == 64 && bad.stderr.contains("--max-rows"), "\(bad.stderr)")
    }

    @Test func ctrlCInterruptsAQuery() throws {
        let (dir, db) = try Self.database("cli-sigint")
        defer { try? FileManager.default.removeItem(at: dir) }
        let process = Process()
        process.executableURL = try #require(Executables.url("backdrop"))
        process.arguments = ["query", "--db", db, "--timeout", "0", QueryLimitsSQL.endlessCount]
        let err = Pipe()
        process.standardError = err
        try process.run()
        Thread.sleep(forTimeInterval: 1)
        kill(process.processIdentifier, SIGINT)
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 1, "\(text)")
        #expect(text.contains("interrupted"), "\(text)")
    }

    @Test func aDatabaseCopyIsReadWithoutSideFiles() throws {
        let (dir, db) = try Self.database("cli-readonly")
        defer {
            chmod(dir.appendingPathComponent("ro").path, 0o755)
            try? FileManager.default.removeItem(at: dir)
        }
        let folder = dir.appendingPathComponent("ro")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let copy = folder.appendingPathComponent("results.sqlite").path
        try FileManager.default.copyItem(atPath: db, toPath: copy)
        let out = dir.appendingPathComponent("reports").path
        #expect(chmod(folder.path, 0o555) == 0)
        let query = try Executables.run("backdrop", ["query", "--db", copy, "--format", "csv", "SELECT COUNT(*) FROM runs"])
        #expect(query.status == 0 && query.stdout == "COUNT(*)\n4\n", "\(query.stderr)")
        let report = try Executables.run("backdrop", ["report", "--db", copy, "--out", out])
        #expect(report.status == 0, "\(report.stderr)")
        for command in [["runs"], ["matrix"], ["compare"]] {
            let r = try Executables.run("backdrop", command + ["--db", copy])
            #expect(r.status == 0, "\(command): \(r.stderr)")
        }
        if getuid() != 0 {
            // Only a non-root user is stopped by the mode; root may write, so nothing is left to check there.
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["results.sqlite"])
        }
    }
}

/// Endless statements shared by the query tests.
enum QueryLimitsSQL {
    static let endless = "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) SELECT * FROM r"
    static let endlessCount = "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) SELECT COUNT(*) FROM r"
}
