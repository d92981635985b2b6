import Foundation
import Testing
@testable import ResultsStore

/// What a page following a training matrix reads: each run's last logged step, and a metric's
/// values after a step, in pages.
@Suite("Run progress and metrics after a step") struct RunProgressTests {
    @Test func progressIsTheLastValueOfTheKeyWithTheConfiguredEpochs() throws {
        let store = try ResultsDatabase.inMemory()
        let e = try store.upsertExperiment(name: "quick", specSHA256: "s")
        let first = try claim(store, e.id, cell(seed: 0)), second = try claim(store, e.id, cell(seed: 1))
        _ = try claim(store, e.id, cell(seed: 2))   // claimed, nothing logged yet
        try store.recordParams(["train.train.epochs": "3"], for: first)
        let writer = store.metricWriter(for: first)
        for step in 0..<7 { try writer.add(key: "loss", step: step, epoch: step / 3, value: Double(step), wallTime: 100 + Double(step)) }
        try writer.add(key: "lr", step: 9, epoch: 3, value: 0.1, wallTime: 200)
        try writer.finish()
        let other = store.metricWriter(for: second)
        try other.add(key: "loss", step: 0, epoch: 0, value: 5, wallTime: 50)
        try other.finish()

        let progress = try store.runProgress(experimentID: e.id)
        #expect(progress.count == 2)
        #expect(progress[first.runID] == RunProgress(step: 6, epoch: 2, wallTime: 106, epochs: 3))
        #expect(progress[second.runID] == RunProgress(step: 0, epoch: 0, wallTime: 50, epochs: nil))
        #expect(try store.runProgress(experimentID: e.id, key: "lr")[first.runID]?.step == 9)
    }

    @Test func metricsAfterAStepComeInPagesByStep() throws {
        let store = try ResultsDatabase.inMemory()
        let e = try store.upsertExperiment(name: "quick", specSHA256: "s")
        let c = try claim(store, e.id, cell())
        let writer = store.metricWriter(for: c)
        for step in (0..<10).reversed() { try writer.add(key: "loss", step: step, epoch: 0, value: Double(step) / 10, wallTime: 100) }
        try writer.finish()
        #expect(try store.metrics(runID: c.runID, key: "loss", after: nil, limit: 4).map(\.step) == [0, 1, 2, 3])
        #expect(try store.metrics(runID: c.runID, key: "loss", after: 3, limit: 4).map(\.step) == [4, 5, 6, 7])
        #expect(try store.metrics(runID: c.runID, key: "loss", after: 7, limit: 4).map(\.step) == [8, 9])
        #expect(try store.metrics(runID: c.runID, key: "loss", after: 9, limit: 4).isEmpty)
        #expect(try store.metrics(runID: c.runID, key: "lr", after: nil, limit: 4).isEmpty)
    }
}
