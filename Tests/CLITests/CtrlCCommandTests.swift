import Foundation
import TestSupport
import Testing

/// Ctrl-C (SIGINT) on `backdrop reproduce`: the running cell stops after its current step with a
/// checkpoint and is recorded `interrupted`, no other cell starts, the resume command is printed,
/// and running it finishes the matrix with the same numbers as an uninterrupted reproduction.
@Suite(.serialized) struct CtrlCCommandTests {
    /// `ReproduceCommandTests`' tiny spec with two plain cells of 40 epochs (3 steps each).
    static func arguments(_ name: String) throws -> (dir: URL, args: [String], db: String) {
        let (dir, args, db) = try ReproduceCommandTests.folder(name)
        return (dir, ["reproduce"] + args + ["--set", "regularizers=[none]", "--set", "trainViews=[full, foreground]",
                                             "--set", "train.epochs=40"], db)
    }

    static func scalar(_ db: String, _ sql: String) throws -> String {
        try ReproduceCommandTests.scalar(db, sql)
    }

    /// The linear-probe results of every cell, one line each (the numbers a table is made of).
    static func results(_ db: String) throws -> String {
        let r = try Executables.run("backdrop", ["query", "--db", db, "--format", "csv",
            "SELECT cell_key, protocol, probe_view, test_view, top1, top5 FROM matrix_cells ORDER BY 1, 2, 3, 4"])
        #expect(r.status == 0, "\(r.stderr)")
        return r.stdout
    }

    @Test func ctrlCStopsCleanlyAndTheResumeCommandFinishesWithTheSameNumbers() throws {
        let (dir, args, db) = try Self.arguments("ctrl-c")
        defer { try? FileManager.default.removeItem(at: dir) }

        let process = Process()
        process.executableURL = try #require(Executables.url("backdrop"))
        process.arguments = args
        let log = dir.appendingPathComponent("stderr.txt")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: log)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        // Wait until the first cell has trained a few steps (its loss rows are in the database).
        let deadline = Date().addingTimeInterval(240)
        var steps = 0
        while Date() < deadline, process.isRunning {
            Thread.sleep(forTimeInterval: 0.3)
            guard FileManager.default.fileExists(atPath: db) else { continue }
            steps = Int((try? Self.scalar(db, "SELECT COUNT(*) FROM metrics WHERE key = 'loss'")) ?? "") ?? 0
            if steps >= 4 { break }
        }
        #expect(steps >= 4 && process.isRunning, "the first cell did not start training")
        process.interrupt()   // SIGINT to the reproduction only: it passes the stop on to its cell's process
        let stopBy = Date().addingTimeInterval(120)
        while process.isRunning, Date() < stopBy { Thread.sleep(forTimeInterval: 0.1) }
        #expect(!process.isRunning, "reproduce did not stop after Ctrl-C")
        process.waitUntilExit()
        let stderr = try String(contentsOf: log, encoding: .utf8)
        #expect(process.terminationStatus == 130, "\(stderr)")
        #expect(stderr.contains("stopping: no further cell starts"), "\(stderr)")
        #expect(stderr.contains("interrupted: 1 cells stopped, 1 not started; resume with: backdrop reproduce "), "\(stderr)")
        #expect(try Self.scalar(db, "SELECT status FROM runs") == "interrupted")
        #expect(try Self.scalar(db, "SELECT COUNT(*) FROM runs") == "1", "the second cell must not start")
        #expect(try Self.scalar(db, "SELECT error LIKE 'interrupted (Ctrl-C) at epoch %' FROM runs") == "1")
        #expect(try Self.scalar(db, "SELECT COUNT(*) FROM checkpoints") != "0", "the stop writes a checkpoint")
        #expect(try Self.scalar(db, "SELECT owner_token IS NULL FROM runs") == "1", "the claim is released")
        let experiments = try Executables.run("backdrop", ["experiments", "--db", db, "--format", "csv"])
        #expect(experiments.stdout.contains(",interrupted\n") && experiments.stdout.hasSuffix(",0,0,1\n"), "\(experiments.stdout)")

        // The printed command resumes the interrupted cell from its checkpoint and runs the other.
        let resumed = try Executables.run("backdrop", args)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("2 to run (1 resuming)") && resumed.stderr.contains("resuming from "), "\(resumed.stderr)")
        #expect(try Self.scalar(db, "SELECT COUNT(*) FROM runs WHERE status = 'finished'") == "2")
        #expect(try Self.scalar(db, ReproduceCommandTests.duplicates) == "0")
        // 24 images / batch 8 = 3 steps per epoch, 40 epochs: every step recorded exactly once.
        #expect(try Self.scalar(db, "SELECT COUNT(DISTINCT step) FROM metrics WHERE key = 'loss' GROUP BY run_id ORDER BY 1 LIMIT 1") == "120")

        // The same spec without interruption gives the same numbers, bit for bit.
        let (other, referenceArgs, referenceDB) = try Self.arguments("ctrl-c-reference")
        defer { try? FileManager.default.removeItem(at: other) }
        let reference = try Executables.run("backdrop", referenceArgs)
        #expect(reference.status == 0, "\(reference.stderr)")
        #expect(try Self.results(db) == Self.results(referenceDB))
    }
}
