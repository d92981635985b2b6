import Foundation
import TestSupport
import Testing

/// `backdrop train --db DB [--experiment NAME]` records an ad-hoc run like a matrix cell, links an
/// identical finished run instead of training it again, and `backdrop experiments` lists it.
@Suite struct TrainRecordingCommandTests {
    static let tiny = ["--no-cache", "--width", "4", "--epochs", "1", "--batch-size", "4", "--image-size", "32",
                       "--projector-hidden", "16", "--projector-output", "8", "--quiet",
                       "--set", "evaluation.testViews=[full, foreground]", "--set", "evaluation.probe.maxIterations=20"]

    @Test func aFinishedCheckpointIsEvaluatedNotResumed() throws {
        let dir = temporaryDirectory("train-finished-checkpoint")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data").path
        _ = try Executables.run("backdrop", ["dataset", "generate", "--out", data, "--classes", "2", "--per-class", "4",
                                             "--test-per-class", "2", "--size", "32"])
        let arguments = ["train", "--data", data, "--checkpoint-dir", dir.appendingPathComponent("ckpt").path]
            + Self.tiny.filter { $0 != "--quiet" }
        let first = try Executables.run("backdrop", arguments)
        #expect(first.status == 0 && first.stderr.contains("training simclr"), "\(first.stderr)")
        let second = try Executables.run("backdrop", arguments)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stderr.contains("is complete (1 epochs, 2 steps): nothing left to train; evaluating it"), "\(second.stderr)")
        #expect(!second.stderr.contains("resuming from") && !second.stderr.contains("training simclr"), "\(second.stderr)")
        #expect(second.stdout == first.stdout)   // the same evaluation table
    }

    @Test func trainWithADatabaseRecordsTheRunAndReusesAnIdenticalOne() throws {
        let dir = temporaryDirectory("train-db")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data").path
        let generate = try Executables.run("backdrop", ["dataset", "generate", "--out", data, "--classes", "2", "--per-class", "4",
                                                        "--test-per-class", "2", "--size", "32"])
        #expect(generate.status == 0, "\(generate.stderr)")
        let db = dir.appendingPathComponent("results.sqlite").path

        let first = try Executables.run("backdrop", ["train", "--data", data, "--db", db, "--experiment", "probe-a"] + Self.tiny)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("linear") && first.stdout.contains("foreground"), "\(first.stdout)")
        let runs = try Executables.run("backdrop", ["runs", "--db", db, "--experiment", "probe-a", "--format", "csv"])
        #expect(runs.status == 0 && runs.stdout.split(separator: "\n").count == 2, "\(runs.stdout)\(runs.stderr)")
        #expect(runs.stdout.contains("finished"), "\(runs.stdout)")
        let matrix = try Executables.run("backdrop", ["query", "--db", db, "--format", "csv",
                                                      "SELECT COUNT(*) AS n FROM matrix_cells WHERE experiment = 'probe-a'"])
        #expect(matrix.stdout != "n\n0\n", "\(matrix.stdout)")

        // The same configuration under another experiment name: linked, not trained (no new metrics).
        let metrics = try Executables.run("backdrop", ["query", "--db", db, "--format", "csv", "SELECT COUNT(*) AS n FROM metrics"])
        let second = try Executables.run("backdrop", ["train", "--data", data, "--db", db, "--experiment", "probe-b"] + Self.tiny)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stderr.contains("reused run 1 of experiment 1"), "\(second.stderr)")
        let after = try Executables.run("backdrop", ["query", "--db", db, "--format", "csv", "SELECT COUNT(*) AS n FROM metrics"])
        #expect(after.stdout == metrics.stdout)
        let count = try Executables.run("backdrop", ["query", "--db", db, "--format", "csv", "SELECT COUNT(*) AS n FROM runs"])
        #expect(count.stdout == "n\n1\n")

        // A different configuration is a new run.
        let third = try Executables.run("backdrop", ["train", "--data", data, "--db", db, "--experiment", "probe-b", "--seed", "3"] + Self.tiny)
        #expect(third.status == 0, "\(third.stderr)")

        let list = try Executables.run("backdrop", ["experiments", "--db", db, "--format", "csv"])
        #expect(list.status == 0, "\(list.stderr)")
        let lines = list.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 3, "\(list.stdout)")
        #expect(lines[1].hasPrefix("1,probe-a,") && lines[2].hasPrefix("2,probe-b,"), "\(list.stdout)")
        // Its "overrides" are the command line that created it.
        #expect(lines[2].contains("2/2") && lines[2].contains("backdrop train --data") && lines[2].contains("--experiment probe-b"), "\(list.stdout)")

        // Every --experiment takes an id too.
        let byID = try Executables.run("backdrop", ["runs", "--db", db, "--experiment", "2", "--format", "csv"])
        #expect(byID.status == 0 && byID.stdout.split(separator: "\n").count == 3, "\(byID.stdout)\(byID.stderr)")
        let unknown = try Executables.run("backdrop", ["runs", "--db", db, "--experiment", "nope"])
        #expect(unknown.status != 0 && unknown.stderr.contains("probe-a") && unknown.stderr.contains("backdrop experiments"), "\(unknown.stderr)")

        // --json writes a single run's file; with --db the database is the record.
        let json = try Executables.run("backdrop", ["train", "--data", data, "--db", db, "--json", dir.appendingPathComponent("r.json").path] + Self.tiny)
        #expect(json.status != 0 && json.stderr.contains("--json"), "\(json.stderr)")
    }
}
