import Foundation
import GRDB
import TestSupport
import Testing
@testable import ResultsStore

/// `ResultsDatabase.merge(from:)` on hand-built shard files.
@Suite("Merging shard databases")
struct MergeTests {
    @Test("a shard is copied under new ids with all its rows, and merging it again changes nothing")
    func copiesThenIdempotent() throws {
        let shard = try Self.shardFile("merge-copy") { s in
            let e = try s.upsertExperiment(name: "quick", specSHA256: "s1", specPath: "quick.yaml", specText: "text",
                                           specSource: "source", overrides: ["seeds=[0]"], cellCount: 3)
            try Self.finishedRun(s, e.id, cell(seed: 0), top1: 0.25)
            try Self.finishedRun(s, e.id, cell(seed: 1), top1: 0.75)
            try Self.failedRun(s, e.id, cell(seed: 2))
        }
        defer { removeDatabase(shard) }
        let target = try ResultsDatabase.inMemory()
        let other = try target.upsertExperiment(name: "other", specSHA256: "o")
        let otherRun = try Self.finishedRun(target, other.id, cell(seed: 9))

        let shardBytes = try Data(contentsOf: URL(fileURLWithPath: shard))
        let summary = try target.merge(from: shard)
        #expect(try Data(contentsOf: URL(fileURLWithPath: shard)) == shardBytes)
        #expect(summary.experiments == [MergeSummary.ExperimentMatch(name: "quick", id: other.id + 1, created: true)])
        #expect(summary.runsCopied == 2 && summary.unfinishedRunsRecorded == 1 && summary.runsAlreadyPresent == 0)
        #expect(summary.rowsCopied == ["params": 2, "metrics": 5, "evaluations": 2, "checkpoints": 3])
        let quick = try #require(try target.experiment(named: "quick"))
        #expect(quick.specPath == "quick.yaml" && quick.specText == "text" && quick.specSource == "source"
                && quick.overrides == ["seeds=[0]"] && quick.cellCount == 3)
        let runs = try target.runs(experimentID: quick.id)
        #expect(runs.map(\.cellKey) == ["full/simclr/none/seed0", "full/simclr/none/seed1", "full/simclr/none/seed2"])
        #expect(runs.map(\.status) == [.finished, .finished, .failed])
        #expect(runs.allSatisfy { $0.id > otherRun } && runs[2].ownerToken == nil && runs[2].ownerPID == nil)
        #expect(try target.evaluations(runID: runs[1].id).map(\.top1) == [0.75])
        #expect(try target.metrics(runID: runs[0].id, key: "loss").map(\.value) == [2.5, 1.5])
        #expect(try target.params(runID: runs[0].id) == ["train.epochs": "2"])
        #expect(try target.matrixRows(experimentID: quick.id).map(\.top1) == [0.25, 0.75])

        let before = try target.contentChecksum()
        let again = try target.merge(from: shard)
        #expect(try target.contentChecksum() == before)
        #expect(again.changedNothing && again.runsAlreadyPresent == 2 && again.runsKept == 1)
        #expect(again.experiments == [MergeSummary.ExperimentMatch(name: "quick", id: quick.id, created: false)])
    }

    @Test("a cell finished with another config refuses the whole shard, naming it, and changes nothing")
    func differentConfigRefused() throws {
        let shard = try Self.shardFile("merge-config") { s in
            let e = try s.upsertExperiment(name: "quick", specSHA256: "s1")
            try Self.finishedRun(s, e.id, cell(seed: 1))   // new to the target: must not be copied either
            try Self.finishedRun(s, e.id, cell(seed: 0), config: #"{"epochs":3}"#)
        }
        defer { removeDatabase(shard) }
        let target = try ResultsDatabase.inMemory()
        let e = try target.upsertExperiment(name: "quick", specSHA256: "s1")
        try Self.finishedRun(target, e.id, cell(seed: 0))
        let before = try target.contentChecksum()
        let ours = String(provenance().configSHA256.prefix(8)), theirs = String(provenance(#"{"epochs":3}"#).configSHA256.prefix(8))
        do {
            _ = try target.merge(from: shard)
            Issue.record("the conflicting shard was merged")
        } catch let error as MergeError {
            guard case .conflict(let path, let experiment, let cellKey, let differences) = error else {
                Issue.record("unexpected \(error)"); return
            }
            #expect(path == shard && experiment == "quick" && cellKey == "full/simclr/none/seed0")
            #expect(differences == ["config sha256 \(ours)… vs \(theirs)…"])
            #expect(error.description.contains(shard) && error.description.contains("cell full/simclr/none/seed0"))
        }
        #expect(try target.contentChecksum() == before)
    }

    @Test("a cell finished with other evaluations refuses the shard and names the evaluation")
    func differentEvaluationsRefused() throws {
        let shard = try Self.shardFile("merge-evaluations") { s in
            try Self.finishedRun(s, try s.upsertExperiment(name: "quick", specSHA256: "s1").id, cell(), top1: 0.625)
        }
        defer { removeDatabase(shard) }
        let target = try ResultsDatabase.inMemory()
        try Self.finishedRun(target, try target.upsertExperiment(name: "quick", specSHA256: "s1").id, cell(), top1: 0.5)
        let before = try target.contentChecksum()
        #expect {
            _ = try target.merge(from: shard)
        } throws: { error in
            guard case .conflict(_, _, let cellKey, let differences)? = error as? MergeError else { return false }
            return cellKey == "full/simclr/none/seed0"
                && differences == ["evaluation linear probe full, test full, split test: top1 0.5 vs 0.625"]
        }
        #expect(try target.contentChecksum() == before)
    }

    @Test("a finished shard run replaces an unfinished one and keeps its id; a finished target run is kept")
    func unfinishedReplaced() throws {
        let shard = try Self.shardFile("merge-replace") { s in
            let e = try s.upsertExperiment(name: "quick", specSHA256: "s1")
            try Self.finishedRun(s, e.id, cell(seed: 0), top1: 0.75)
            try Self.failedRun(s, e.id, cell(seed: 1))
            try Self.failedRun(s, e.id, cell(seed: 2), attempts: 3)
            try Self.failedRun(s, e.id, cell(seed: 3))
        }
        defer { removeDatabase(shard) }
        let target = try ResultsDatabase.inMemory()
        let e = try target.upsertExperiment(name: "quick", specSHA256: "s1")
        let failed = try Self.failedRun(target, e.id, cell(seed: 0), attempts: 2)
        let finished = try Self.finishedRun(target, e.id, cell(seed: 1))
        let fewer = try Self.failedRun(target, e.id, cell(seed: 2))
        let more = try Self.failedRun(target, e.id, cell(seed: 3), attempts: 2)

        let summary = try target.merge(from: shard)
        #expect(summary.runsReplacingUnfinished == 1 && summary.unfinishedRunsRecorded == 1 && summary.runsKept == 2)
        let replaced = try #require(try target.run(id: failed))
        #expect(replaced.cellKey == "full/simclr/none/seed0" && replaced.status == .finished && replaced.attempts == 1)
        #expect(try target.metrics(runID: failed, key: "loss").map(\.value) == [2.5, 1.5])
        #expect(try target.checkpoints(runID: failed).map(\.path).allSatisfy { $0 != "partial.ckpt" })
        #expect(try target.evaluations(runID: failed).map(\.top1) == [0.75])
        #expect(try target.run(id: finished)?.status == .finished)
        #expect(try target.metrics(runID: finished, key: "loss").map(\.value) == [2.5, 1.5])
        #expect(try target.run(id: fewer)?.attempts == 3 && target.run(id: fewer)?.ownerPID == nil)
        #expect(try target.metrics(runID: fewer, key: "loss").map(\.value) == [9, 9, 9])
        #expect(try target.run(id: more)?.attempts == 2)
        #expect(try Self.count(target, "SELECT COUNT(*) FROM runs") == 4)
    }

    @Test("links are copied with their run ids remapped, after the run they point to")
    func linksRemapped() throws {
        let shard = try Self.shardFile("merge-links") { s in
            let first = try s.upsertExperiment(name: "first", specSHA256: "a")
            let second = try s.upsertExperiment(name: "second", specSHA256: "b")
            let run = try Self.finishedRun(s, first.id, cell(seed: 0), top1: 0.75)
            try s.linkRun(experimentID: second.id, cellKey: "seed0-again", sweep: "lr=0.1", runID: run)
        }
        defer { removeDatabase(shard) }
        let target = try ResultsDatabase.inMemory()
        let unrelated = try target.upsertExperiment(name: "unrelated", specSHA256: "u")
        try Self.finishedRun(target, unrelated.id, cell(seed: 5))
        try Self.finishedRun(target, unrelated.id, cell(seed: 6))

        let summary = try target.merge(from: shard)
        #expect(summary.rowsCopied["experiment_runs"] == 1)
        let first = try #require(try target.experiment(named: "first"))
        let second = try #require(try target.experiment(named: "second"))
        let trained = try target.runs(experimentID: first.id)
        let linked = try target.runs(experimentID: second.id)
        #expect(trained.count == 1 && trained[0].id == 3)
        #expect(linked.map(\.id) == [trained[0].id] && linked.map(\.cellKey) == ["seed0-again"] && linked.map(\.cell.sweep) == ["lr=0.1"])
        #expect(try target.matrixRows(experimentID: second.id).map(\.top1) == [0.75])
        let before = try target.contentChecksum()
        #expect(try target.merge(from: shard).linksAlreadyPresent == 1)
        #expect(try target.contentChecksum() == before)
    }

    @Test("a link to a cell the target finished itself is kept when identical and refused when it differs")
    func linkOverFinishedCell() throws {
        /// `first` (spec hash `specSHA256`) trains the cell, `second` links it.
        func shard(top1: Double, specSHA256: String) throws -> String {
            try Self.shardFile("merge-link-\(top1)") { s in
                let first = try s.upsertExperiment(name: "first", specSHA256: specSHA256)
                let second = try s.upsertExperiment(name: "second", specSHA256: "b")
                let run = try Self.finishedRun(s, first.id, cell(seed: 0), top1: top1)
                try s.linkRun(experimentID: second.id, cellKey: cell(seed: 0).cellKey, sweep: "", runID: run)
            }
        }
        let same = try shard(top1: 0.5, specSHA256: "a"), different = try shard(top1: 0.25, specSHA256: "a2")
        defer { removeDatabase(same); removeDatabase(different) }
        let target = try ResultsDatabase.inMemory()
        let second = try target.upsertExperiment(name: "second", specSHA256: "b")
        let own = try Self.finishedRun(target, second.id, cell(seed: 0), top1: 0.5)

        let summary = try target.merge(from: same)
        #expect(summary.linksAlreadyPresent == 1 && summary.rowsCopied["experiment_runs", default: 0] == 0)
        #expect(try target.runs(experimentID: second.id).map(\.id) == [own])
        let before = try target.contentChecksum()
        #expect {
            _ = try target.merge(from: different)
        } throws: { error in
            guard case .conflict(_, let experiment, let cellKey, let differences)? = error as? MergeError else { return false }
            return experiment == "second" && cellKey == "full/simclr/none/seed0"
                && differences == ["evaluation linear probe full, test full, split test: top1 0.5 vs 0.25"]
        }
        #expect(try target.contentChecksum() == before)
    }

    @Test("a shard with an older schema is merged from a migrated copy; the file stays byte for byte")
    func olderSchemaShard() throws {
        let path = temporaryDatabasePath("merge-v3")
        defer { removeDatabase(path) }
        let old = try ResultsDatabase.file(path: path, migratedUpTo: "v3")
        try old.execute(sql: MigrationTests.v1Fixture)
        try old.close()
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))

        let target = try ResultsDatabase.inMemory()
        let summary = try target.merge(from: path)
        #expect(summary.runsCopied == 1 && summary.rowsCopied["evaluations"] == 2 && summary.rowsCopied["metrics"] == 1)
        let experiment = try #require(try target.experiment(named: "old"))
        #expect(experiment.specPath == "a.yaml" && experiment.overrides == [])
        #expect(try target.matrixRows(experimentID: experiment.id).map(\.top1).sorted() == [0.6, 0.9])
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == bytes)
        let reopened = try ResultsDatabase.file(path: path, migratedUpTo: "v3")
        #expect(try reopened.appliedMigrations() == ["v1", "v2", "v3"])
    }

    @Test("a shard made by a newer backdrop is refused, naming the file")
    func newerSchemaRefused() throws {
        let path = try Self.shardFile("merge-newer") { s in
            try s.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v999')")
        }
        defer { removeDatabase(path) }
        let target = try ResultsDatabase.inMemory()
        #expect(throws: MergeError.newerSchema(path: path, unknown: ["v999"])) { try target.merge(from: path) }
        #expect(MergeError.newerSchema(path: path, unknown: ["v999"]).description.contains("\(path) was made by a newer backdrop"))
    }

    @Test("a missing file, a file that is not a Backdrop database and the target itself are refused, naming the file")
    func unusableShardsRefused() throws {
        let targetPath = temporaryDatabasePath("merge-target")
        defer { removeDatabase(targetPath) }
        let target = try ResultsDatabase(path: targetPath)
        let folder = URL(fileURLWithPath: targetPath).deletingLastPathComponent()
        let text = folder.appendingPathComponent("notes.sqlite").path
        try String(repeating: "not a database\n", count: 100).write(toFile: text, atomically: true, encoding: .utf8)
        let foreign = folder.appendingPathComponent("foreign.sqlite").path
        try DatabaseQueue(path: foreign).write { db in try db.execute(sql: "CREATE TABLE t (x INTEGER)") }
        let missing = folder.appendingPathComponent("missing.sqlite").path
        let before = try target.contentChecksum()

        #expect(throws: MergeError.missingShard(path: missing)) { try target.merge(from: missing) }
        #expect(throws: MergeError.sameFile(path: targetPath)) { try target.merge(from: targetPath) }
        #expect(throws: MergeError.notADatabase(path: foreign, reason: "it has no grdb_migrations table")) {
            try target.merge(from: foreign)
        }
        #expect {
            _ = try target.merge(from: text)
        } throws: { error in
            guard case .notADatabase(let path, _)? = error as? MergeError else { return false }
            return path == text && (error as! MergeError).description.contains("\(text) is not a Backdrop results database")
        }
        #expect(try target.contentChecksum() == before)
        #expect(!FileManager.default.fileExists(atPath: missing))
    }
}
