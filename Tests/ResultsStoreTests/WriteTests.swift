import Foundation
import TestSupport
import Testing
@testable import ResultsStore

@Suite("Writing run data")
struct WriteTests {
    @Test("an evaluation key is written once; the first row wins")
    func evaluationsOnce() throws {
        let store = try ResultsDatabase.inMemory()
        let e = try store.upsertExperiment(name: "quick", specSHA256: "s")
        let c = try claim(store, e.id, cell())
        let eval = EvaluationRecord(protocolName: "knn", probeView: "full", testView: "foreground", top1: 0.5, top5: 0.9, n: 200,
                              k: 20, temperature: 0.07, protocolParams: #"{"k":20}"#)
        #expect(try store.recordEvaluation(eval, for: c))
        var again = eval
        again.top1 = 0.75
        #expect(try store.recordEvaluation(again, for: c) == false)
        var split = eval
        split.split = "val"
        #expect(try store.recordEvaluation(split, for: c))
        let stored = try store.evaluations(runID: c.runID)
        #expect(stored.count == 2)
        #expect(stored.first { $0.split == "test" }?.top1 == 0.5)
        #expect(stored.first?.k == 20 && stored.first?.temperature == 0.07 && stored.first?.protocolParams == #"{"k":20}"#)
    }

    @Test("metrics are written in batches of N rows per transaction, upserted per step")
    func metricBatching() throws {
        let clock = TestClock()
        let store = try ResultsDatabase.inMemory(clock: clock.closure)
        let e = try store.upsertExperiment(name: "quick", specSHA256: "s")
        let c = try claim(store, e.id, cell())
        let writer = store.metricWriter(for: c, batchSize: 4, flushInterval: 1_000)
        for step in 0..<10 { try writer.add(key: "loss", step: step, epoch: step / 5, value: Double(step), wallTime: 100 + Double(step)) }
        #expect(writer.statistics.rows == 8 && writer.statistics.transactions == 2 && writer.pendingCount == 2)
        #expect(try store.metrics(runID: c.runID, key: "loss").count == 8)
        try writer.finish()
        #expect(writer.statistics.rows == 10 && writer.statistics.transactions == 3)
        // A resumed run repeating steps 5…9 replaces them: still 10 rows.
        let resumed = store.metricWriter(for: c, batchSize: 100)
        try resumed.add((5..<10).map { Metric(key: "loss", step: $0, epoch: 1, value: Double($0) * 2, wallTime: 200) })
        try resumed.add(key: "lr", step: 9, epoch: 1, value: .nan, wallTime: 201)
        try resumed.finish()
        let loss = try store.metrics(runID: c.runID, key: "loss")
        #expect(loss.map(\.step) == Array(0..<10))
        #expect(loss.map(\.value) == [0, 1, 2, 3, 4, 10, 12, 14, 16, 18])
        #expect(try store.metrics(runID: c.runID, key: "lr").first?.value.isNaN == true)
        #expect(try store.metricKeys(runID: c.runID) == ["loss", "lr"])
        #expect(try store.metricSeries(experimentID: e.id, key: "loss")[c.runID]?.count == 10)
    }

    @Test("the flush interval flushes small buffers and keeps the heartbeat fresh")
    func flushInterval() throws {
        let clock = TestClock()
        let store = try ResultsDatabase.inMemory(clock: clock.closure)
        let e = try store.upsertExperiment(name: "quick", specSHA256: "s")
        let c = try claim(store, e.id, cell())
        let writer = store.metricWriter(for: c, batchSize: 1_000, flushInterval: 5)
        try writer.add(key: "loss", step: 0, epoch: 0, value: 1)
        #expect(writer.pendingCount == 1)
        clock.advance(6)
        try writer.add(key: "loss", step: 1, epoch: 0, value: 1)
        #expect(writer.pendingCount == 0)
        #expect(try store.run(id: c.runID)?.heartbeatAt == clock.now)
    }

    @Test("params upsert, bad samples, checkpoints and the latest one")
    func paramsAndCheckpoints() throws {
        let clock = TestClock()
        let store = try ResultsDatabase.inMemory(clock: clock.closure)
        let e = try store.upsertExperiment(name: "quick", specSHA256: "s")
        let c = try claim(store, e.id, cell())
        try store.recordParams(["train.epochs": "2", "augment.preset": "symmetric"], for: c)
        try store.recordParams(["train.epochs": "3"], for: c)
        #expect(try store.params(runID: c.runID) == ["train.epochs": "3", "augment.preset": "symmetric"])
        try store.recordBadSamples(4, for: c)
        #expect(try store.run(id: c.runID)?.provenance.badSamples == 4)
        #expect(try store.latestCheckpoint(runID: c.runID) == nil)
        for epoch in 1...3 { try store.recordCheckpoint(epoch: epoch, path: "e\(epoch).ckpt", sha256: "h\(epoch)", for: c) }
        try store.recordCheckpoint(epoch: 2, path: "e2b.ckpt", sha256: "h2b", for: c)
        #expect(try store.checkpoints(runID: c.runID).map(\.path) == ["e1.ckpt", "e2b.ckpt", "e3.ckpt"])
        #expect(try store.latestCheckpoint(runID: c.runID)?.epoch == 3)
    }

    @Test("matrix rows, series and the matrix_summary view come from finished runs only")
    func matrixQueries() throws {
        let store = try ResultsDatabase.inMemory()
        let e = try store.upsertExperiment(name: "quick", specSHA256: "s")
        for seed in 0..<3 {
            let c = try claim(store, e.id, cell(seed: seed))
            for (view, acc) in [("full", 0.8), ("foreground", 0.5)] {
                try store.recordEvaluation(EvaluationRecord(protocolName: "linear", probeView: "full", testView: view,
                                                      top1: acc + Double(seed) * 0.01, top5: 1, n: 100), for: c)
            }
            try store.recordEvaluation(EvaluationRecord(protocolName: "linear", probeView: "foreground", testView: "foreground",
                                                  top1: 0.7, top5: 1, n: 100), for: c)
            try store.finishRun(c)
        }
        let unfinished = try claim(store, e.id, cell(seed: 9))
        try store.recordEvaluation(EvaluationRecord(protocolName: "linear", probeView: "full", testView: "full", top1: 0.1, top5: 1, n: 100), for: unfinished)
        #expect(try store.matrixRows(experimentID: e.id).count == 6)
        let sameAsTest = try store.matrixRows(experimentID: e.id, probe: .sameAsTest)
        #expect(sameAsTest.count == 6 && Set(sameAsTest.map(\.testView)) == ["full", "foreground"])
        let sql = try store.readOnlyQuery(sql: "SELECT n_seeds, ROUND(top1_mean, 6), ROUND(top1_var, 8) FROM matrix_summary WHERE probe = 'train-view' AND test_view = 'full'")
        #expect(sql.rows == [[.integer(3), .real(0.81), .real(0.0001)]])
    }
}
