import Foundation
import Testing
@testable import ResultsStore

/// `classCount(experimentID:)`: the number of classes an experiment's finished evaluations agree on.
@Suite struct ClassCountTests {
    @Test func theCountTheFinishedEvaluationsAgreeOnOrNil() throws {
        let store = try ResultsDatabase.inMemory()
        let e = try store.upsertExperiment(name: "e", specSHA256: "s")
        #expect(try store.classCount(experimentID: e.id) == nil)
        func evaluate(_ seed: Int, classes: Int?, finish: Bool) throws {
            let c = try claim(store, e.id, cell(seed: seed))
            try store.recordEvaluation(EvaluationRecord(protocolName: "linear", probeView: "full", testView: "full", top1: 0.5, top5: 1,
                                                        topK: 2, n: 10, classCount: classes), for: c)
            if finish { try store.finishRun(c) }
        }
        try evaluate(0, classes: 2, finish: true)
        try evaluate(1, classes: nil, finish: true)
        #expect(try store.classCount(experimentID: e.id) == 2)
        try evaluate(2, classes: 7, finish: false)   // a running cell does not count
        #expect(try store.classCount(experimentID: e.id) == 2)
        try evaluate(3, classes: 3, finish: true)
        #expect(try store.classCount(experimentID: e.id) == nil)
    }
}
