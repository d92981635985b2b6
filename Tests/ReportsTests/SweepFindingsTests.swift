import Foundation
import Testing
@testable import Reports
import ResultsStore
import TestSupport

/// A swept experiment in a store: simclr and the untrained control, train views full and
/// foreground, seeds 0–2, at `dataset.builtin.confounding` 0.5 and 0.9, each evaluated (linear)
/// under both fixed probes on `full` and `foreground`; 10 classes.
enum SweepStoreFixture {
    static let key = "dataset.builtin.confounding"

    /// Untrained: 0.30 + 0.01·seed; simclr: 0.60 (at 0.5) or 0.80 (at 0.9) + 0.015·seed.
    static func top1(method: String, confounding: String, seed: Int) -> Double {
        method == Report.untrained ? 0.30 + 0.01 * Double(seed) : (confounding == "0.5" ? 0.60 : 0.80) + 0.015 * Double(seed)
    }

    static func fill(_ store: ResultsDatabase) throws {
        let experiment = try store.upsertExperiment(name: "swept", specSHA256: String(repeating: "aa", count: 32), specPath: "swept.yaml")
        for confounding in ["0.5", "0.9"] {
            let label = "\(key)=\(confounding)"
            for trainView in ["full", "foreground"] {
                for method in ["simclr", Report.untrained] {
                    for seed in 0..<3 {
                        let cell = RunCell(cellKey: "\(label)/\(trainView)/\(method)/none/seed\(seed)", dataset: "builtin", trainView: trainView,
                                           method: method, regularizer: "none", seed: seed, sweep: label)
                        let provenance = RunProvenance(configJSON: "{}", configSHA256: cell.cellKey)
                        let claim = try #require(try store.beginRun(experimentID: experiment.id, cell: cell, provenance: provenance).claim)
                        try store.recordParams(["dataset.builtin.classes": "10", key: confounding], for: claim)
                        for probe in ["full", "foreground"] {
                            for view in ["full", "foreground"] {
                                try store.recordEvaluation(EvaluationRecord(protocolName: "linear", probeView: probe, testView: view,
                                                                            top1: top1(method: method, confounding: confounding, seed: seed),
                                                                            top5: 1, n: 100, classCount: 10), for: claim)
                            }
                        }
                        try store.finishRun(claim)
                    }
                }
            }
        }
    }
}

@Suite("Findings and stored reports over sweeps")
struct SweepFindingsTests {
    @Test("findings compare cells at the same sweep point and name the point")
    func findingsPerPoint() throws {
        let store = try ResultsDatabase.inMemory(clock: TestClock(1_750_000_000, tick: 1).closure)
        try SweepStoreFixture.fill(store)
        let findings = try ExperimentFindings(store: store, experiment: "swept")
        let key = SweepStoreFixture.key
        #expect(findings.sweeps == ["\(key)=0.5", "\(key)=0.9"])
        let effects = findings.trainView.filter { $0.comparison == "trained on full − untrained" }
        #expect(effects.map(\.sweep) == ["\(key)=0.5", "\(key)=0.9"])
        // Per seed: 0.30 + 0.005·seed at 0.5 and 0.50 + 0.005·seed at 0.9 (means 0.305 and 0.505).
        let low = try #require(effects[0].deltas["linear"]), high = try #require(effects[1].deltas["linear"])
        #expect(low.summary.n == 3 && abs(low.summary.mean - 0.305) < 1e-12)
        #expect(high.summary.n == 3 && abs(high.summary.mean - 0.505) < 1e-12)
        let doc = try FindingsDocument(store: store, experiments: ["swept"], command: "backdrop findings").markdown
        #expect(doc.contains("| method | sweep point | A − B |"))
        #expect(doc.contains("| simclr | \(key)=0.9 | trained on full − untrained | full |"))
    }

    @Test("a stored swept report reads each cell's point and the class count, and draws the dose-response")
    func storedReport() throws {
        let store = try ResultsDatabase.inMemory(clock: TestClock(1_750_000_000, tick: 1).closure)
        try SweepStoreFixture.fill(store)
        let report = try Report(store: store, experiment: "swept", options: ReportOptions(probe: .fixed("full")))
        #expect(report.classCount == 10 && report.sweeps.count == 2)
        let dose = report.doseResponse(key: SweepStoreFixture.key, figure: "full")
        #expect(dose.lines.map(\.label) == ["untrained (control)", "full / none", "foreground / none"])
        let whole = try ExperimentReport(store: store, experiment: "swept")
        #expect(whole.html.contains("chance (1/10)") && whole.markdown.contains("### Dose-response"))
    }
}
