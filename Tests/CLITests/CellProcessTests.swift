import Foundation
import TestSupport
import Testing

/// Every cell runs in a child process: a crashing cell is recorded failed with its reason and
/// the matrix goes on; children of a killed reproduction stop; a rerun finishes everything.
@Suite(.serialized) struct CellProcessTests {
    @Test func aCrashingCellIsRecordedFailedAndTheRerunFinishes() throws {
        let (dir, args, db) = try ReproduceCommandTests.folder("crash")
        defer { try? FileManager.default.removeItem(at: dir) }
        // Each cell traps (fatalError) after 3 of its 6 steps; with --jobs 1 the runner survives it.
        let crashed = try Executables.run("backdrop", ["reproduce"] + args + ["--jobs", "1", "--crash-after-steps", "3"])
        #expect(crashed.status == 2, "\(crashed.stderr)")
        #expect(crashed.stderr.contains("FAILED full/simclr/none/seed0") && crashed.stderr.contains("FAILED full/simclr/icl-msr/seed0"),
                "\(crashed.stderr)")
        #expect(try ReproduceCommandTests.scalar(db, "SELECT COUNT(*) FROM runs WHERE status = 'failed'") == "2")
        let error = try ReproduceCommandTests.scalar(db, "SELECT error FROM runs WHERE cell_key = 'full/simclr/none/seed0'")
        #expect(error.contains("killed by signal") && error.contains("crash-after-steps"), "\(error)")
        let rerun = try Executables.run("backdrop", ["reproduce"] + args)
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(try ReproduceCommandTests.scalar(db, "SELECT COUNT(*) FROM runs WHERE status = 'finished'") == "2")
        #expect(try ReproduceCommandTests.scalar(db, ReproduceCommandTests.duplicates) == "0")
    }

    /// Pids of live `reproduce-cell` processes whose command line mentions `marker`.
    static func children(mentioning marker: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let line = String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\0", with: " ")
            guard line.contains("reproduce-cell") && line.contains(marker) else { return false }
            // A zombie (exited, not yet reaped) is not running anything.
            let status = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            return !status.contains(") Z ")
        }
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/proc/self/cmdline")))
    func childrenOfAKilledReproductionStop() throws {
        let (dir, args, db) = try ReproduceCommandTests.folder("orphans")
        defer { try? FileManager.default.removeItem(at: dir) }
        let extra = ["--jobs", "2", "--set", "seeds=[0, 1]", "--set", "train.epochs=20"]
        let parent = Process()
        parent.executableURL = try #require(Executables.url("backdrop"))
        parent.arguments = ["reproduce"] + args + extra
        parent.standardError = FileHandle.nullDevice
        try parent.run()
        let deadline = Date().addingTimeInterval(120)
        while Self.children(mentioning: dir.path).count < 2 && Date() < deadline && parent.isRunning {
            Thread.sleep(forTimeInterval: 0.2)
        }
        let started = Self.children(mentioning: dir.path)
        #expect(started.count == 2, "children before the kill: \(started)")
        kill(parent.processIdentifier, SIGKILL)
        parent.waitUntilExit()
        let gone = Date().addingTimeInterval(10)
        while !Self.children(mentioning: dir.path).isEmpty && Date() < gone { Thread.sleep(forTimeInterval: 0.2) }
        let left = Self.children(mentioning: dir.path)
        #expect(left.isEmpty, "orphaned children: \(left)")
        for pid in left { kill(pid, SIGKILL) }
        // The cells the dead children held are taken over; everything finishes.
        let finish = try Executables.run("backdrop", ["reproduce"] + args + extra)
        #expect(finish.status == 0, "\(finish.stderr)")
        #expect(try ReproduceCommandTests.scalar(db, "SELECT COUNT(*) FROM runs WHERE status = 'finished'") == "4")
    }
}

