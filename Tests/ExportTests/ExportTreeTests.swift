@testable import Export
import Foundation
import ResultsStore
import TestSupport
import Testing

/// The exporters on a store built by hand: which runs they write (a linked run under this
/// experiment's cell key, a planned one left out), the MLflow tree's files, and `--force`'s rule.
@Suite struct ExportTreeTests {
    static let config = #"{"train":{"epochs":1,"optimizer":{"lr":0.25}},"dataset":{"name":"builtin"}}"#

    /// Experiment 2 (`beta`) holds its own finished cell with a sweep, a failed one, a planned one,
    /// and a cell linked from experiment 1 (`alpha`).
    static func makeStore(clock: Double = 1_700_000_000) throws -> (ResultsDatabase, Experiment) {
        let store = try ResultsDatabase.inMemory(clock: { Date(timeIntervalSince1970: clock) })
        let alpha = try store.upsertExperiment(name: "alpha", specSHA256: "a")
        let beta = try store.upsertExperiment(name: "beta", specSHA256: "b")
        let provenance = RunProvenance(configJSON: config, configSHA256: "c", gitCommit: "abc123", gitDirty: false,
                                       datasetSHA256: "d", versions: ["swift": "6.3"])
        func cell(_ key: String, seed: Int, sweep: String = "") -> RunCell {
            RunCell(cellKey: key, dataset: "builtin", trainView: "full", method: "simclr", regularizer: "none", seed: seed, sweep: sweep)
        }
        func train(_ experiment: Experiment, _ cell: RunCell, values: [Double], fail: Bool = false) throws -> Int64 {
            let claim = try store.beginRun(experimentID: experiment.id, cell: cell, provenance: provenance).claim!
            let writer = store.metricWriter(for: claim)
            for (step, value) in values.enumerated() {
                try writer.add(key: "loss", step: step, epoch: 0, value: value, wallTime: clock + Double(step))
            }
            try writer.finish()
            if fail { try store.failRun(claim, error: "diverged"); return claim.runID }
            try store.recordEvaluation(EvaluationRecord(protocolName: "linear", probeView: "full", testView: "foreground",
                                                        top1: 0.5, top5: 1, topK: 2, n: 4), for: claim)
            try store.finishRun(claim)
            return claim.runID
        }
        let shared = try train(alpha, cell("full/simclr/none/seed0", seed: 0), values: [2, 1.5])
        try store.linkRun(experimentID: beta.id, cellKey: "full/simclr/none/seed0", sweep: "", runID: shared)
        _ = try train(beta, cell("w=2/full/simclr/none/seed1", seed: 1, sweep: "w=2"), values: [3, .nan, 1])
        _ = try train(beta, cell("full/simclr/none/seed2", seed: 2), values: [4], fail: true)
        try store.planRun(experimentID: beta.id, cell: cell("full/simclr/none/seed3", seed: 3), provenance: provenance)
        return (store, beta)
    }

    @Test func readsTheExperimentsMembersAndLeavesOutPlannedCells() throws {
        let (store, beta) = try Self.makeStore()
        let exported = try ExportedExperiment(store: store, experiment: beta)
        #expect(exported.runs.map(\.run.cellKey).sorted() == ["full/simclr/none/seed0", "full/simclr/none/seed2", "w=2/full/simclr/none/seed1"])
        #expect(exported.skippedCellKeys == ["full/simclr/none/seed3"])
        let swept = try #require(exported.runs.first { $0.run.cell.sweep == "w=2" })
        #expect(swept.directoryName == "w=2-full-simclr-none-seed1")
        #expect(swept.metrics.count == 3 && swept.metrics[1].value.isNaN && swept.lastStep == 2)
        #expect(swept.evaluationScalars.map(\.name) == ["eval/linear/foreground/top1", "eval/linear/foreground/top2"])
        #expect(swept.config.entries.map(\.key) == ["dataset.name", "train.epochs", "train.optimizer.lr"])
        let linked = try #require(exported.runs.first { $0.run.cellKey == "full/simclr/none/seed0" })
        #expect(linked.run.isLinked)
    }

    @Test func mlflowTreeHoldsMetaMetricsParamsAndTags() throws {
        let (store, beta) = try Self.makeStore()
        let exported = try ExportedExperiment(store: store, experiment: beta)
        let dir = temporaryDirectory("export-mlflow-tree")
        defer { try? FileManager.default.removeItem(at: dir) }
        let summary = try MLflowExport.write(exported, to: dir, replace: false)
        let root = dir.appendingPathComponent("mlruns/\(beta.id)")
        func read(_ path: String) throws -> String { try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8) }
        #expect(try read("meta.yaml").contains("name: \"beta\"\n"))
        #expect(try read("meta.yaml").contains("experiment_id: \"\(beta.id)\"\n"))
        let sweptID = MLflowExport.runID(experimentID: beta.id, cellKey: "w=2/full/simclr/none/seed1")
        #expect(summary.runIDs.contains(sweptID))
        let meta = try read("\(sweptID)/meta.yaml")
        #expect(meta.contains("run_name: \"w=2/full/simclr/none/seed1\"\n") && meta.contains("status: 3\n")
                && meta.contains("start_time: 1700000000000\n") && meta.contains("end_time: 1700000000000\n"), "\(meta)")
        #expect(try read("\(sweptID)/metrics/train/loss") == "1700000000000 3.0 0\n1700000001000 nan 1\n1700000002000 1.0 2\n")
        #expect(try read("\(sweptID)/metrics/eval/linear/foreground/top1") == "1700000000000 0.5 2\n")
        #expect(try read("\(sweptID)/params/train.optimizer.lr") == "0.25")
        #expect(try read("\(sweptID)/tags/mlflow.runName") == "w=2/full/simclr/none/seed1")
        #expect(try read("\(sweptID)/tags/mlflow.source.git.commit") == "abc123")
        #expect(try read("\(sweptID)/tags/backdrop.dataset_sha256") == "d")
        #expect(try read("\(sweptID)/tags/backdrop.sweep") == "w=2")
        let failedID = MLflowExport.runID(experimentID: beta.id, cellKey: "full/simclr/none/seed2")
        #expect(try read("\(failedID)/meta.yaml").contains("status: 4\n"))
        #expect(try read("\(failedID)/tags/backdrop.error") == "diverged")
        let linkedID = MLflowExport.runID(experimentID: beta.id, cellKey: "full/simclr/none/seed0")
        #expect(try read("\(linkedID)/tags/backdrop.trained_by_experiment") == "1")
        #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("\(linkedID)/artifacts").path))
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("mlruns/.trash").path))
    }

    @Test func anExistingTreeIsRefusedUnlessReplacingAndOtherFilesStay() throws {
        let (store, beta) = try Self.makeStore()
        let exported = try ExportedExperiment(store: store, experiment: beta)
        let dir = temporaryDirectory("export-replace")
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try TensorBoardExport.write(exported, to: dir, replace: false)
        let stale = dir.appendingPathComponent("full-simclr-none-seed0/old.txt")
        try Data("old".utf8).write(to: stale)
        let other = dir.appendingPathComponent("other-run/events.out.tfevents.1.h")
        try FileManager.default.createDirectory(at: other.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data().write(to: other)
        #expect(throws: ExportError.self) { try TensorBoardExport.write(exported, to: dir, replace: false) }
        #expect(FileManager.default.fileExists(atPath: stale.path))
        let summary = try TensorBoardExport.write(exported, to: dir, replace: true)
        #expect(summary.files.count == 3 && summary.scalarCount == 2 + 2 + 3 + 2 + 1)
        #expect(!FileManager.default.fileExists(atPath: stale.path))
        #expect(FileManager.default.fileExists(atPath: other.path))

        _ = try MLflowExport.write(exported, to: dir, replace: false)
        #expect(throws: ExportError.self) { try MLflowExport.write(exported, to: dir, replace: false) }
        _ = try MLflowExport.write(exported, to: dir, replace: true)
    }
}
