import Foundation
import Testing
@testable import ResultsStore

/// `beginRun` and a finished run trained on another dataset.
@Suite("Reclaiming a run finished on another dataset")
struct DatasetReclaimTests {
    /// A finished run is claimed again only for another dataset hash.
    @Test func reclaimsAFinishedRunOnlyForAnotherDataset() throws {
        let store = try ResultsDatabase.inMemory()
        let e = try store.upsertExperiment(name: "x", specSHA256: "s")
        let c = cell()
        let old = RunProvenance(configJSON: "{}", configSHA256: "c", datasetSHA256: "old")
        let claim = try #require(try store.beginRun(experimentID: e.id, cell: c, provenance: old).claim)
        try store.recordEvaluation(EvaluationRecord(protocolName: "knn", probeView: "full", testView: "full", split: "test",
                                                    top1: 0.5, top5: 1, n: 4), for: claim)
        try store.recordCheckpoint(epoch: 1, path: "checkpoint.safetensors", sha256: "aa", for: claim)
        try store.finishRun(claim)
        if case .finished = try store.beginRun(experimentID: e.id, cell: c, provenance: old) {} else { Issue.record("same dataset must stay finished") }
        var new = old
        new.datasetSHA256 = "new"
        let again = try #require(try store.beginRun(experimentID: e.id, cell: c, provenance: new).claim)
        #expect(again.previousStatus == .finished && again.previousDatasetSHA256 == "old" && again.attempt == 2)
        #expect(try store.evaluations(runID: again.runID).isEmpty && store.checkpoints(runID: again.runID).isEmpty)
        #expect(try store.run(id: again.runID)?.provenance.datasetSHA256 == "new")
    }

    @Test("finishedCellHashes pairs each finished cell's config and dataset hashes")
    func finishedCellHashes() throws {
        let store = try ResultsDatabase.inMemory()
        let e = try store.upsertExperiment(name: "x", specSHA256: "s")
        let claim = try #require(try store.beginRun(experimentID: e.id, cell: cell(), provenance: provenance()).claim)
        #expect(try store.finishedCellHashes(experimentID: e.id).isEmpty)
        try store.finishRun(claim)
        let hashes = try store.finishedCellHashes(experimentID: e.id)
        #expect(hashes[cell().cellKey]?.config == provenance().configSHA256 && hashes[cell().cellKey]?.dataset == provenance().datasetSHA256)
    }
}
