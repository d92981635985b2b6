import Foundation
import TestSupport
import Testing

/// `backdrop reproduce` and the read-only commands end to end on a tiny spec (2 cells, width 4,
/// 24 train images, 2 epochs: seconds).
@Suite(.serialized) struct ReproduceCommandTests {
    static let spec = """
    name: tiny
    dataset:
      builtin: {classes: 3, perClass: 8, testPerClass: 4, size: 32, seed: 1}
    model: {width: 4}
    methods: [simclr]
    methodOptions:
      simclr: {projectorHidden: 16, projectorOutput: 8}
    regularizers: [none, icl-msr]
    trainViews: [full]
    seeds: [0]
    train: {epochs: 2, batchSize: 8}
    evaluation:
      probe: {maxIterations: 50}
    """

    /// A folder holding `tiny.yaml`; returns the common arguments for it.
    static func folder(_ name: String) throws -> (dir: URL, args: [String], db: String) {
        let dir = temporaryDirectory(name)
        try spec.write(to: dir.appendingPathComponent("tiny.yaml"), atomically: true, encoding: .utf8)
        let db = dir.appendingPathComponent("Results/backdrop.sqlite").path
        return (dir, [dir.appendingPathComponent("tiny.yaml").path, "--db", db, "--results-dir", dir.appendingPathComponent("Results").path], db)
    }

    static func scalar(_ db: String, _ sql: String) throws -> String {
        let r = try Executables.run("backdrop", ["query", "--db", db, "--format", "csv", sql])
        #expect(r.status == 0, "\(r.stderr)")
        return r.stdout.split(separator: "\n").dropFirst().first.map(String.init) ?? ""
    }

    static let duplicates = "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM metrics GROUP BY run_id, key, step HAVING COUNT(*) > 1)) + "
        + "(SELECT COUNT(*) FROM (SELECT 1 FROM evaluations GROUP BY run_id, protocol, probe_view, test_view, split HAVING COUNT(*) > 1))"

    @Test func reproduceThenRerunDoesNoTraining() throws {
        let (dir, args, db) = try Self.folder("reproduce")
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = try Executables.run("backdrop", ["reproduce"] + args)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("[cell 1/2 full/simclr/none/seed0]") && first.stderr.contains("[cell 2/2 full/simclr/icl-msr/seed0]"))
        #expect(first.stderr.contains("img/s") && first.stderr.contains("ETA"))
        #expect(try Self.scalar(db, "SELECT COUNT(*) FROM evaluations") == "40")
        let metrics = try Self.scalar(db, "SELECT COUNT(*) FROM metrics")

        let second = try Executables.run("backdrop", ["reproduce"] + args)
        #expect(second.status == 0)
        #expect(second.stderr.contains("2 already finished, 0 reused from identical runs, 0 to run") && !second.stderr.contains("epoch 1/"), "\(second.stderr)")
        #expect(try Self.scalar(db, "SELECT COUNT(*) FROM metrics") == metrics)

        let runs = try Executables.run("backdrop", ["runs", "--db", db])
        #expect(runs.status == 0 && runs.stdout.contains("finished") && runs.stdout.contains("(2 rows)"))
        let matrix = try Executables.run("backdrop", ["matrix", "--db", db, "--format", "json"])
        #expect(matrix.status == 0)
        let rows = try JSONSerialization.jsonObject(with: Data(matrix.stdout.utf8)) as! [[String: Any]]
        #expect(rows.count == 4 * 5 && rows.allSatisfy { $0["mean"] is Double && $0["test_view"] is String })
        let compare = try Executables.run("backdrop", ["compare", "--by", "regularizer", "--db", db])
        #expect(compare.status == 0 && compare.stdout.contains("Δ icl-msr − none"))
        // The fixed foreground probe: the cells trained on full images, read out by a probe fitted on foregrounds.
        let fixed = try Executables.run("backdrop", ["matrix", "--db", db, "--probe", "foreground", "--format", "csv"])
        #expect(fixed.status == 0 && fixed.stdout.split(separator: "\n").count == 1 + 4 * 5, "\(fixed.stdout)")
        #expect(fixed.stdout.hasPrefix("method,train_view,regularizer,protocol,test_view,mean,std,n,ci_low,ci_high\n"), "\(fixed.stdout)")
        #expect(try Self.scalar(db, "SELECT COUNT(DISTINCT probe_view) FROM evaluations") == "2")

        let reports = dir.appendingPathComponent("Results/reports").path
        let report = try Executables.run("backdrop", ["report", "--db", db, "--out", reports, "--print"])
        #expect(report.status == 0, "\(report.stderr)")
        for file in ["table.md", "table.csv", "table.tex", "report.html"] {
            #expect(FileManager.default.fileExists(atPath: "\(reports)/tiny/\(file)"), "\(file)")
        }
        #expect(report.stdout.contains("simclr") && report.stdout.contains("## Fixed probe: fitted on foreground images for every encoder"))
        // The findings document: written, verified, and a hand edit caught by --check.
        let findings = dir.appendingPathComponent("Findings.md").path
        let written = try Executables.run("backdrop", ["findings", "--db", db, "--experiment", "tiny", "--out", findings])
        #expect(written.status == 0, "\(written.stderr)")
        let text = try String(contentsOfFile: findings, encoding: .utf8)
        #expect(text.contains("| simclr | icl-msr − none, trained on full | full | full | > 0 |") && text.contains("(1) | **inconclusive** |"), "\(text)")
        #expect(try Executables.run("backdrop", ["findings", "--db", db, "--experiment", "tiny", "--out", findings, "--check"]).status == 0)
        try text.replacingOccurrences(of: "**inconclusive**", with: "**holds**").write(toFile: findings, atomically: true, encoding: .utf8)
        let stale = try Executables.run("backdrop", ["findings", "--db", db, "--experiment", "tiny", "--out", findings, "--check"])
        #expect(stale.status == 1 && stale.stderr.contains("differs from the database from line") && stale.stderr.contains("regenerate it: backdrop findings"), "\(stale.stderr)")
        let noName = try Executables.run("backdrop", ["findings", "--db", db])
        #expect(noName.status == 64 && noName.stderr.contains("--experiment"), "\(noName.stderr)")

        let unchanged = try Self.scalar(db, "SELECT COUNT(*) FROM metrics")
        #expect(unchanged == metrics)
    }

    @Test func queryRefusesWritesAndChangesNothing() throws {
        let (dir, args, db) = try Self.folder("guard")
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try Executables.run("backdrop", ["reproduce"] + args + ["--set", "regularizers=[none]"]).status == 0)
        for sql in ["DELETE FROM runs", "UPDATE runs SET status = 'failed'", "DROP TABLE metrics", "SELECT 1; DELETE FROM runs",
                    "PRAGMA journal_mode = DELETE", "ATTACH DATABASE 'x.sqlite' AS x"] {
            let r = try Executables.run("backdrop", ["query", "--db", db, sql])
            #expect(r.status != 0, "\(sql) was accepted")
            #expect(r.stderr.contains("refused") || r.stderr.contains("read-only") || r.stderr.contains("readonly"), "\(sql): \(r.stderr)")
        }
        #expect(try Self.scalar(db, "SELECT COUNT(*) FROM runs WHERE status = 'finished'") == "1")
    }

    @Test func killedReproductionResumesWithNoDuplicateRows() throws {
        let (dir, args, db) = try Self.folder("kill")
        defer { try? FileManager.default.removeItem(at: dir) }
        // The reproduction SIGKILLs itself after 3 of the first cell's 6 steps (after epoch 1's checkpoint).
        let killed = try Executables.run("backdrop", ["reproduce"] + args + ["--kill-after-steps", "3"])
        #expect(killed.status == 9, "\(killed.stderr)")
        #expect(try Self.scalar(db, "SELECT status FROM runs WHERE cell_key = 'full/simclr/none/seed0'") == "running")
        let rerun = try Executables.run("backdrop", ["reproduce"] + args)
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(rerun.stderr.contains("resuming from"), "\(rerun.stderr)")
        #expect(try Self.scalar(db, "SELECT COUNT(*) FROM runs WHERE status = 'finished'") == "2")
        #expect(try Self.scalar(db, Self.duplicates) == "0")
        #expect(try Self.scalar(db, "SELECT COUNT(*) FROM evaluations") == "40")
        // Steps 0–5 of the resumed cell are all there once.
        #expect(try Self.scalar(db, "SELECT COUNT(DISTINCT step) FROM metrics m JOIN runs r ON r.id = m.run_id WHERE r.cell_key = 'full/simclr/none/seed0' AND key = 'loss'") == "6")
    }

    @Test func twoConcurrentParallelReproductionsLoseNoRows() throws {
        let (dir, args, db) = try Self.folder("concurrent")
        defer { try? FileManager.default.removeItem(at: dir) }
        let extra = ["--jobs", "2", "--set", "seeds=[0, 1]"]
        // Prepare the dataset first so both start training at once.
        #expect(try Executables.run("backdrop", ["reproduce"] + args + ["--dataset-only"]).status == 0)
        final class Results: @unchecked Sendable {
            let lock = NSLock()
            var values: [Executables.Result?] = [nil, nil]
        }
        let box = Results()
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            let r = try? Executables.run("backdrop", ["reproduce"] + args + extra)
            box.lock.lock(); box.values[i] = r; box.lock.unlock()
        }
        for r in box.values {
            #expect(r?.status == 0, "\(r?.stderr ?? "did not run")")
            #expect(!(r?.stderr.contains("database is locked") ?? true))
        }
        // A third run finishes whatever one of them left to the other (none, normally) and trains nothing new twice.
        let after = try Executables.run("backdrop", ["reproduce"] + args + extra)
        #expect(after.status == 0)
        #expect(try Self.scalar(db, "SELECT COUNT(*) FROM runs WHERE status = 'finished'") == "4")
        #expect(try Self.scalar(db, "SELECT MAX(attempts) FROM runs") == "1")
        #expect(try Self.scalar(db, "SELECT COUNT(*) FROM evaluations") == "80")
        #expect(try Self.scalar(db, Self.duplicates) == "0")
        #expect(try Self.scalar(db, "SELECT COUNT(DISTINCT run_id) FROM metrics WHERE key = 'loss'") == "4")
    }

    @Test func specErrorsNameTheLine() throws {
        let (dir, args, _) = try Self.folder("badspec")
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = try Executables.run("backdrop", ["reproduce"] + args + ["--set", "train.epoch=3"])
        #expect(bad.status != 0 && bad.stderr.contains("--set train.epoch=3: train.epoch: unknown key"), "\(bad.stderr)")
        try (Self.spec + "\nbogus: 1\n").write(to: dir.appendingPathComponent("tiny.yaml"), atomically: true, encoding: .utf8)
        let line = try Executables.run("backdrop", ["reproduce"] + args)
        #expect(line.status != 0 && line.stderr.contains("tiny.yaml:14: bogus: unknown key"), "\(line.stderr)")
    }
}
