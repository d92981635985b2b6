import Foundation
import TestSupport
import Testing

/// `backdrop reproduce --slurm` on a real Slurm (the single-node cluster of
/// `scripts/slurm-local.sh`, which `.ci/run` starts): the same numbers as a local reproduction,
/// and a cancelled task re-submitted alone. Skipped, saying why, where no Slurm answers.
@Suite(.serialized) struct SlurmTests {
    /// Why the tests cannot run here, or nil when a Slurm controller answers with a usable node.
    static let unavailable: String? = {
        guard let sinfo = try? Self.tool("sinfo", ["-h", "-o", "%t"]) else {
            return "Slurm is not installed (no sinfo/sbatch): apt-get install slurm-wlm munge, then scripts/slurm-local.sh start as root"
        }
        let states = sinfo.stdout.split(separator: "\n").map(String.init)
        guard sinfo.status == 0, states.contains(where: { ["idle", "mix", "alloc"].contains($0) }) else {
            return "no Slurm node is up (sinfo: \(sinfo.stdout)\(sinfo.stderr)): start one with scripts/slurm-local.sh start as root"
        }
        return nil
    }()

    static func tool(_ name: String, _ arguments: [String]) throws -> Executables.Result {
        try Executables.runFromPath(name, arguments)
    }

    /// The tiny spec with four cells (2 train views × 2 regularizers).
    static func arguments(_ name: String, epochs: Int) throws -> (dir: URL, args: [String], db: String) {
        let (dir, args, db) = try ReproduceCommandTests.folder(name)
        return (dir, args + ["--set", "trainViews=[full, foreground]", "--set", "train.epochs=\(epochs)"], db)
    }

    /// Job ids printed by `--slurm`.
    static func jobs(_ stdout: String) -> (array: String?, merge: String) {
        func id(after prefix: String) -> String? {
            stdout.split(separator: "\n").first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count).prefix { $0.isNumber }) }
        }
        return (id(after: "submitted array job "), id(after: "submitted merge job ") ?? "")
    }

    /// Waits until none of `jobs` is queued or running.
    static func waitForJobs(_ jobs: [String], timeout: TimeInterval = 400) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let q = try tool("squeue", ["-h", "-j", jobs.joined(separator: ","), "-o", "%i"])
            if q.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return }
            Thread.sleep(forTimeInterval: 1)
        }
        Issue.record("jobs \(jobs) still in the queue after \(Int(timeout)) s")
    }

    static func log(_ dir: URL, _ file: String) -> String {
        (try? String(contentsOf: dir.appendingPathComponent("Results/slurm/tiny/logs/\(file)"), encoding: .utf8)) ?? "(no \(file))"
    }

    @Test func slurmReproductionMatchesALocalOneBitForBit() throws {
        if let reason = Self.unavailable { print("skipped: \(reason)"); return }
        let (dir, args, db) = try Self.arguments("slurm", epochs: 1)
        defer { try? FileManager.default.removeItem(at: dir) }
        let dry = try Executables.run("backdrop", ["reproduce"] + args + ["--slurm", "--dry-run"])
        #expect(dry.status == 0 && dry.stdout.contains("#SBATCH --array=0-3\n"), "\(dry.stdout)\(dry.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("Results/slurm/tiny/jobs.json").path))

        let submitted = try Executables.run("backdrop", ["reproduce"] + args + ["--slurm"])
        #expect(submitted.status == 0, "\(submitted.stderr)")
        #expect(submitted.stdout.contains("4 of 4 cells (tasks 0-3)"), "\(submitted.stdout)")
        let (array, merge) = Self.jobs(submitted.stdout)
        try Self.waitForJobs([try #require(array), merge])
        #expect(Self.log(dir, "merge.out").contains("merged into"), "\(Self.log(dir, "merge.out"))\n\(Self.log(dir, "0.out"))")
        #expect(try ReproduceCommandTests.scalar(db, "SELECT COUNT(*) FROM runs WHERE status = 'finished'") == "4")
        let status = try Executables.run("backdrop", ["status", "--experiment", "tiny", "--db", db,
                                                      "--results-dir", dir.appendingPathComponent("Results").path, "--format", "csv"])
        #expect(status.status == 0 && status.stderr.contains("finished 4 (merged 4, in shards 0)"), "\(status.stdout)\(status.stderr)")

        let (local, localArgs, localDB) = try Self.arguments("slurm-local", epochs: 1)
        defer { try? FileManager.default.removeItem(at: local) }
        let reference = try Executables.run("backdrop", ["reproduce"] + localArgs)
        #expect(reference.status == 0, "\(reference.stderr)")
        #expect(try CtrlCCommandTests.results(db) == CtrlCCommandTests.results(localDB))
        // The same table.md (the merge job rendered the Slurm one).
        let localReports = local.appendingPathComponent("Results/reports").path
        #expect(try Executables.run("backdrop", ["report", "--db", localDB, "--experiment", "tiny", "--out", localReports]).status == 0)
        let slurmTable = try String(contentsOfFile: dir.appendingPathComponent("Results/reports/tiny/table.md").path, encoding: .utf8)
        #expect(slurmTable == (try String(contentsOfFile: localReports + "/tiny/table.md", encoding: .utf8)))
    }

    @Test func aCancelledTaskIsResubmittedAloneAndNothingIsLostOrDuplicated() throws {
        if let reason = Self.unavailable { print("skipped: \(reason)"); return }
        let (dir, args, db) = try Self.arguments("slurm-cancel", epochs: 150)
        defer { try? FileManager.default.removeItem(at: dir) }
        let submitted = try Executables.run("backdrop", ["reproduce"] + args + ["--slurm", "--max-parallel", "2"])
        #expect(submitted.status == 0, "\(submitted.stderr)")
        let (arrayID, merge) = Self.jobs(submitted.stdout)
        let array = try #require(arrayID)
        // Cancel task 0 once it has trained a few steps in its shard.
        let shard0 = dir.appendingPathComponent("Results/slurm/tiny/shards/0.sqlite").path
        let deadline = Date().addingTimeInterval(240)
        var steps = 0
        while Date() < deadline, steps < 3 {
            Thread.sleep(forTimeInterval: 0.5)
            if FileManager.default.fileExists(atPath: shard0) {
                steps = Int((try? ReproduceCommandTests.scalar(shard0, "SELECT COUNT(*) FROM metrics WHERE key = 'loss'")) ?? "") ?? 0
            }
        }
        #expect(steps >= 3, "task 0 did not start training: \(Self.log(dir, "0.out"))")
        #expect(try Self.tool("scancel", ["\(array)_0"]).status == 0)
        try Self.waitForJobs([array, merge])
        #expect(try ReproduceCommandTests.scalar(db, "SELECT COUNT(*) FROM runs WHERE status = 'finished'") == "3",
                "\(Self.log(dir, "merge.out"))")

        // The same command again submits only the cancelled cell; it resumes in its shard.
        let again = try Executables.run("backdrop", ["reproduce"] + args + ["--slurm", "--max-parallel", "2"])
        #expect(again.status == 0 && again.stdout.contains("1 of 4 cells (tasks 0)"), "\(again.stdout)\(again.stderr)")
        let second = Self.jobs(again.stdout)
        try Self.waitForJobs([try #require(second.array), second.merge])
        #expect(try ReproduceCommandTests.scalar(db, "SELECT COUNT(*) FROM runs WHERE status = 'finished'") == "4", "\(Self.log(dir, "merge.out"))")
        #expect(try ReproduceCommandTests.scalar(db, "SELECT COUNT(*) FROM runs") == "4")
        #expect(try ReproduceCommandTests.scalar(db, ReproduceCommandTests.duplicates) == "0")
        // 150 epochs × 3 steps for every cell: no step lost across the cancellation.
        #expect(try ReproduceCommandTests.scalar(db, "SELECT MIN(n) FROM (SELECT COUNT(DISTINCT step) AS n FROM metrics WHERE key = 'loss' GROUP BY run_id)") == "450")
        let third = try Executables.run("backdrop", ["reproduce"] + args + ["--slurm"])
        #expect(third.stdout.contains("nothing to submit"), "\(third.stdout)\(third.stderr)")
    }
}
