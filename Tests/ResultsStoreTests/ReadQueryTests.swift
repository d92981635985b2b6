import Foundation
import TestSupport
import Testing
@testable import ResultsStore

@Suite("typed read queries")
struct ReadQueryTests {
    @Test("the run listing: every run of one experiment in id order, elapsed time to the finish or the last heartbeat")
    func runListing() throws {
        let clock = TestClock()
        let store = try ResultsDatabase.inMemory(clock: clock.closure)
        let e = try store.upsertExperiment(name: "quick", specSHA256: "s")
        let other = try store.upsertExperiment(name: "other", specSHA256: "t")
        _ = try claim(store, other.id, cell(seed: 5))

        let finished = try claim(store, e.id, cell(seed: 0))
        clock.advance(2.6)
        try store.finishRun(finished)
        let failed = try claim(store, e.id, cell(regularizer: "icl-msr", seed: 0))
        try store.recordBadSamples(3, for: failed)
        clock.advance(1.2)
        try store.failRun(failed, error: "diverged, \"loss\" = nan\nat step 4")
        let running = try claim(store, e.id, cell("foreground", seed: 1))
        clock.advance(7.5)
        try store.heartbeat(running)

        let listing = try store.runListing(experimentID: e.id)
        #expect(listing.map(\.cellKey) == ["full/simclr/none/seed0", "full/simclr/icl-msr/seed0", "foreground/simclr/none/seed1"])
        #expect(listing.map(\.status) == [.finished, .failed, .running])
        #expect(listing.map(\.attempts) == [1, 1, 1])
        let elapsed = listing.map { $0.elapsedSeconds ?? -1 }
        for (x, y) in zip(elapsed, [2.6, 1.2, 7.5]) { #expect(abs(x - y) < 1e-6) }
        #expect(listing[1].badSamples == 3 && listing[0].badSamples == 0)
        #expect(listing[1].error == "diverged, \"loss\" = nan\nat step 4" && listing[0].error == nil)
        #expect(listing[0].configSHA256 == provenance().configSHA256)
        #expect(listing[0].gitCommit == "abc123" && listing[0].gitDirty == false)
        #expect(listing[0].id == finished.runID)
        #expect(try store.runListing(experimentID: other.id).count == 1)
        #expect(try store.runListing(experimentID: 999).isEmpty)
    }

    @Test("the matrix series: the coordinates, seed and top-1 of every evaluation of a finished run")
    func matrixSeries() throws {
        let store = try ResultsDatabase.inMemory()
        let e = try store.upsertExperiment(name: "quick", specSHA256: "s")
        for (regularizer, seed, acc) in [("none", 1, 0.7), ("icl-msr", 0, 0.9), ("none", 0, 0.6)] {
            let c = try claim(store, e.id, cell("foreground", method: "byol", regularizer: regularizer, seed: seed))
            try store.recordEvaluation(EvaluationRecord(protocolName: "knn", probeView: "foreground", testView: "mixed-same",
                                                        top1: acc, top5: 1, n: 10, k: 20, temperature: 0.07), for: c)
            try store.finishRun(c)
        }
        let rows = try store.matrixRows(experimentID: e.id)
        #expect(rows.allSatisfy { $0.cell.method == "byol" && $0.cell.trainView == "foreground" && $0.protocolName == "knn" && $0.testView == "mixed-same" })
        #expect(rows.map(\.cell.regularizer) == ["icl-msr", "none", "none"])
        #expect(rows.map(\.cell.seed) == [0, 0, 1] && rows.map(\.top1) == [0.9, 0.6, 0.7])
        #expect(rows.allSatisfy { $0.k == 20 && $0.split == "test" })
    }
}
