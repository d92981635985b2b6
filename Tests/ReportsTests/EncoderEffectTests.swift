import Foundation
import Testing
@testable import Reports
import ResultsStore
import TestSupport

/// The fixture plus untrained control runs (seeds 0–2, both train views) whose linear top-1 is
/// `untrainedTop1` on every test view, evaluated under the train-view probe and both fixed probes.
enum ControlFixture {
    static func untrainedTop1(testView: String, seed: Int) -> Double { 0.30 + 0.01 * Double(seed) + (testView == "full" ? 0.05 : 0) }

    static func fill(_ store: ResultsDatabase) throws {
        try Fixture.fill(store)
        let experiment = try store.resolveExperiment("table1-quick")
        for trainView in ["full", "foreground"] {
            for seed in 0..<3 {
                let cell = RunCell(cellKey: "\(trainView)/untrained/none/seed\(seed)", dataset: "builtin", trainView: trainView,
                                   method: Report.untrained, regularizer: "none", seed: seed)
                let provenance = RunProvenance(configJSON: "{}", configSHA256: "u\(trainView)\(seed)")
                let claim = try #require(try store.beginRun(experimentID: experiment.id, cell: cell, provenance: provenance).claim)
                for probe in ["full", "foreground"] {
                    for view in Fixture.testViews {
                        try store.recordEvaluation(EvaluationRecord(protocolName: "linear", probeView: probe, testView: view,
                                                                    top1: untrainedTop1(testView: view, seed: seed), top5: 1, n: 500), for: claim)
                    }
                }
                try store.finishRun(claim)
            }
        }
    }
}

@Suite("Controls and fixed probes in reports")
struct EncoderEffectTests {
    @Test("encoder effects are trained − untrained of the same train view and seed, under the report's probe")
    func encoderEffects() throws {
        let store = try ResultsDatabase.inMemory(clock: TestClock(1_750_000_000, tick: 1).closure)
        try ControlFixture.fill(store)
        let report = try Report(store: store, experiment: "table1-quick")
        #expect(report.methods.first == Report.untrained)
        let row = try #require(report.encoderEffects.first { $0.method == "simclr" && $0.trainView == "full" && $0.treatment == "icl-msr" && $0.figure == "full" })
        let delta = try #require(row.deltas["linear"])
        // Per seed: Fixture.top1 − untrainedTop1, averaged over seeds 0–2.
        let expected = (0..<3).map { Fixture.top1(trainView: "full", testView: "full", regularizer: "icl-msr", seed: $0) - ControlFixture.untrainedTop1(testView: "full", seed: $0) }
        #expect(delta.summary.n == 3 && abs(delta.summary.mean - expected.reduce(0, +) / 3) < 1e-12)
        // The control rows have no kNN rows here, so no kNN delta.
        #expect(row.deltas["knn"] == nil)
        #expect(report.markdown.contains("Encoder effect: trained − untrained"))
        #expect(report.csv.contains("encoder-effect,simclr,full,icl-msr - untrained,linear,top1,full,"))
        // The untrained rows are no treatment of the regularizer table.
        #expect(!report.effects.contains { $0.method == Report.untrained })
    }

    @Test("the experiment report shows the fixed probes first, then the train-view probe, each with its rows")
    func seriesSections() throws {
        let store = try ResultsDatabase.inMemory(clock: TestClock(1_750_000_000, tick: 1).closure)
        try ControlFixture.fill(store)
        let report = try ExperimentReport(store: store, experiment: "table1-quick")
        #expect(report.parts.map(\.options.probe) == [.fixed("full"), .fixed("foreground"), .trainView])
        // Under the fixed full probe: the untrained control of both train views, and the simclr cells trained on full
        // (the fixture fits its probes on the train view only).
        let full = report.parts[0]
        #expect(full.rows.allSatisfy { $0.probeView == "full" })
        #expect(Set(full.rows.filter { $0.cell.method == Report.untrained }.map(\.cell.trainView)) == ["full", "foreground"])
        let md = report.markdown
        let order = ["## Fixed probe: fitted on full images", "## Fixed probe: fitted on foreground images", "## Probe fitted on each cell's train view"]
        let positions = order.map { md.range(of: $0)?.lowerBound }
        #expect(positions.allSatisfy { $0 != nil } && positions.map { $0! } == positions.map { $0! }.sorted())
        #expect(md.contains("### untrained") && md.contains("#### untrained: Linear top-1 accuracy"))
        let csvLines = report.csv.split(separator: "\n")
        #expect(csvLines.first == "probe,section,method,train_view,regularizer,protocol,measure,figure,mean,std,n,ci_low,ci_high")
        #expect(csvLines.dropFirst().allSatisfy { line in ["full,", "foreground,", "train-view,"].contains { line.hasPrefix($0) } })
    }
}
