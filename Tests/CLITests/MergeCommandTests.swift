import Foundation
import TestSupport
import Testing
@testable import ResultsStore

/// `backdrop merge` end to end on shards made by `backdrop reproduce` of the tiny spec.
@Suite(.serialized) struct MergeCommandTests {
    /// Reproduces the tiny 2-cell spec into its own folder; returns the folder and its database.
    static func reproducedShard(_ name: String) throws -> (dir: URL, db: String) {
        let (dir, args, db) = try ReproduceCommandTests.folder(name)
        let r = try Executables.run("backdrop", ["reproduce"] + args)
        #expect(r.status == 0, "\(r.stderr)")
        return (dir, db)
    }

    static func matrixCSV(_ db: String) throws -> String {
        let r = try Executables.run("backdrop", ["matrix", "--db", db, "--format", "csv"])
        #expect(r.status == 0, "\(r.stderr)")
        return r.stdout
    }

    @Test func mergingReproducedShardsGivesTheirMatrixAndIsIdempotent() throws {
        let a = try Self.reproducedShard("merge-a"), b = try Self.reproducedShard("merge-b")
        defer { for dir in [a.dir, b.dir] { try? FileManager.default.removeItem(at: dir) } }
        let target = a.dir.appendingPathComponent("merged/all.sqlite").path   // folder created by merge

        let first = try Executables.run("backdrop", ["merge", "--into", target, a.db])
        #expect(first.status == 0, "\(first.stderr)")
        let metrics = try ReproduceCommandTests.scalar(a.db, "SELECT COUNT(*) FROM metrics")
        #expect(first.stdout.contains("merged \(a.db): experiment tiny (id 1, new): 2 runs copied, 0 already present, \(metrics) metric rows, 40 evaluations"),
                "\(first.stdout)")
        #expect(first.stdout.contains("total: 1 of 1 shards merged into \(target): 2 runs copied"), "\(first.stdout)")
        #expect(try Self.matrixCSV(target) == Self.matrixCSV(a.db))
        #expect(try ReproduceCommandTests.scalar(target, "SELECT COUNT(*) FROM metrics") == metrics)

        // B trained the same cells from the same spec: deterministic training, identical results.
        let second = try Executables.run("backdrop", ["merge", "--into", target, b.db, a.db])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("merged \(b.db): experiment tiny (id 1): 0 runs copied, 2 already present, 0 metric rows, 0 evaluations"),
                "\(second.stdout)")
        #expect(second.stdout.contains("total: 2 of 2 shards merged into \(target): 0 runs copied, 4 already present"), "\(second.stdout)")
        #expect(try Self.matrixCSV(target) == Self.matrixCSV(a.db))
        #expect(try ReproduceCommandTests.scalar(target, "SELECT COUNT(*) FROM metrics") == metrics)
        #expect(try ReproduceCommandTests.scalar(target, "SELECT COUNT(*) FROM runs") == "2")
    }

    @Test func refusedShardsAreReportedAfterTheOthersAreMerged() throws {
        let a = try Self.reproducedShard("merge-refused")
        defer { try? FileManager.default.removeItem(at: a.dir) }
        // A copy of A (made by merging it into a new file) whose first evaluation differs.
        let changed = a.dir.appendingPathComponent("changed.sqlite").path
        let copy = try ResultsDatabase(path: changed)
        _ = try copy.merge(from: a.db)
        try copy.execute(sql: "UPDATE evaluations SET top1 = top1 / 2 + 0.125 WHERE id = (SELECT MIN(id) FROM evaluations)")
        try copy.close()
        let notes = a.dir.appendingPathComponent("notes.txt").path
        try "not a database".write(toFile: notes, atomically: true, encoding: .utf8)
        let missing = a.dir.appendingPathComponent("missing.sqlite").path
        let target = a.dir.appendingPathComponent("all.sqlite").path

        let r = try Executables.run("backdrop", ["merge", "--into", target, notes, a.db, changed, missing])
        #expect(r.status == 1, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("merged \(a.db): experiment tiny (id 1, new): 2 runs copied"), "\(r.stdout)")
        #expect(r.stdout.contains("total: 1 of 4 shards merged"), "\(r.stdout)")
        #expect(r.stderr.contains("shard \(notes) is not a Backdrop results database"), "\(r.stderr)")
        #expect(r.stderr.contains("shard \(changed) refused, nothing of it merged: experiment tiny, cell full/simclr/"), "\(r.stderr)")
        #expect(r.stderr.contains("top1 "), "\(r.stderr)")
        #expect(r.stderr.contains("shard \(missing) does not exist"), "\(r.stderr)")
        #expect(r.stderr.contains("not merged (3): \(notes) \(changed) \(missing)"), "\(r.stderr)")
        #expect(try Self.matrixCSV(target) == Self.matrixCSV(a.db))

        let itself = try Executables.run("backdrop", ["merge", "--into", target, target])
        #expect(itself.status == 1 && itself.stderr.contains("is the target database itself"), "\(itself.stderr)")
    }
}
