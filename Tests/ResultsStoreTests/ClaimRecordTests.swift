import Foundation
import TestSupport
import Testing
@testable import ResultsStore

/// The `claims` table (schema v5): verdicts round-trip, are replaced on re-judging, and belong to
/// one experiment.
@Suite("Claim verdicts stored")
struct ClaimRecordTests {
    static func record(_ name: String, position: Int, verdict: String = "holds", estimate: Double? = 0.1) -> ClaimRecord {
        ClaimRecord(experimentID: 0, position: position, name: name, metric: "linear top1 on full, probe full", direction: .greater,
                    treatment: "simclr/full/icl-msr", baseline: "simclr/full/none", estimate: estimate, lower: estimate.map { $0 - 0.05 }, upper: estimate.map { $0 + 0.05 }, n: 3, paired: true,
                    pValue: estimate == nil ? nil : 0.013, adjustedP: estimate == nil ? nil : 0.026, verdict: verdict)
    }

    @Test("round trip in spec order, stamped with the store's clock")
    func roundTrip() throws {
        let clock = TestClock()
        let store = try ResultsDatabase.inMemory(clock: clock.closure)
        let e = try store.upsertExperiment(name: "quick", specSHA256: "s")
        var unjudged = Self.record("b", position: 1, verdict: "inconclusive", estimate: nil)
        unjudged.paired = false
        let written = try store.replaceClaims(experimentID: e.id, with: [unjudged, Self.record("a", position: 0)])
        let read = try store.claims(experimentID: e.id)
        #expect(read.map(\.name) == ["a", "b"])
        #expect(read == written.sorted { $0.position < $1.position })
        #expect(read.allSatisfy { $0.experimentID == e.id && $0.judgedAt == clock.now.timeIntervalSince1970 })
        #expect(read[0].estimate == 0.1 && read[0].paired && read[0].adjustedP == 0.026)
        #expect(read[0].treatment == "simclr/full/icl-msr" && read[0].baseline == "simclr/full/none")
        #expect(read[1].estimate == nil && read[1].lower == nil && read[1].pValue == nil && !read[1].paired)
    }

    @Test("re-judging replaces an experiment's verdicts and leaves other experiments' alone")
    func replaced() throws {
        let store = try ResultsDatabase.inMemory()
        let e = try store.upsertExperiment(name: "quick", specSHA256: "s1")
        let other = try store.upsertExperiment(name: "other", specSHA256: "s2")
        try store.replaceClaims(experimentID: e.id, with: [Self.record("a", position: 0), Self.record("b", position: 1)])
        try store.replaceClaims(experimentID: other.id, with: [Self.record("z", position: 0)])
        try store.replaceClaims(experimentID: e.id, with: [Self.record("a", position: 0, verdict: "contradicted", estimate: -0.1)])
        #expect(try store.claims(experimentID: e.id).map { "\($0.name) \($0.verdict)" } == ["a contradicted"])
        #expect(try store.claims(experimentID: other.id).map(\.name) == ["z"])
        try store.replaceClaims(experimentID: e.id, with: [])
        #expect(try store.claims(experimentID: e.id).isEmpty)
    }

    @Test("the table refuses a verdict it does not know")
    func checked() throws {
        let store = try ResultsDatabase.inMemory()
        let e = try store.upsertExperiment(name: "quick", specSHA256: "s")
        #expect(throws: (any Error).self) { try store.replaceClaims(experimentID: e.id, with: [Self.record("a", position: 0, verdict: "maybe")]) }
        #expect(try store.claims(experimentID: e.id).isEmpty)
    }

    @Test("a hand-edited value of the wrong type is named by table, row and column")
    func unusableValue() throws {
        let store = try ResultsDatabase.inMemory()
        let e = try store.upsertExperiment(name: "quick", specSHA256: "s")
        try store.replaceClaims(experimentID: e.id, with: [Self.record("a", position: 0)])
        try store.execute(sql: "UPDATE claims SET n = 'many'")
        do {
            _ = try store.claims(experimentID: e.id)
            Issue.record("expected an unusable value")
        } catch let error as ResultsStoreError {
            #expect(error.description.contains("claims") && error.description.contains("n") && error.description.contains("many"), "\(error)")
        }
    }
}
