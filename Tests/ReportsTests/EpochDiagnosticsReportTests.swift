import Foundation
import TestSupport
import Testing
@testable import Reports
import ResultsStore

@Suite("Stratum–background check in reports")
struct EpochDiagnosticsReportTests {
    static func report() throws -> ExperimentReport {
        let store = try ResultsDatabase.inMemory(clock: TestClock(1_750_000_000, tick: 1).closure)
        try Fixture.fill(store, diagnostics: true)
        return try ExperimentReport(store: store, experiment: "table1-quick")
    }

    @Test("the per-epoch charts and table match their snapshots")
    func snapshots() throws {
        let r = try Self.report().first
        #expect(r.hasEpochDiagnostics)
        try assertSnapshot(r.backgroundRelianceSVG(), named: "diagnostics-reliance.svg")
        try assertSnapshot(r.stratumAlignmentSVG(), named: "diagnostics-strata.svg")
        try assertSnapshot(r.epochDiagnosticsMarkdown, named: "diagnostics-table.md")
    }

    @Test("bands are the mean, min and max over seeds of each epoch; the NMI chart holds the icl-msr groups only")
    func bands() throws {
        let r = try Self.report().first
        let group = Report.CellGroup(method: "simclr", trainView: "full", regularizer: "icl-msr")
        let bands = r.epochBands(EpochDiagnosticKey.backgroundReliance, group: group)
        // 0.45 − 0.08 e + 0.01 (seed − 1) for seeds 0–2, reported at epochs completed e + 1.
        #expect(bands.map(\.epoch) == [2, 3] && bands.allSatisfy { $0.n == 3 })
        #expect(abs(bands[0].mean - 0.37) < 1e-12 && abs(bands[0].min - 0.36) < 1e-12 && abs(bands[0].max - 0.38) < 1e-12)
        #expect(r.diagnosticGroups(EpochDiagnosticKey.stratumBackground).map(\.regularizer) == ["icl-msr", "icl-msr"])
        #expect(r.diagnosticGroups(EpochDiagnosticKey.backgroundReliance).count == 4)
    }

    @Test("report.html and table.md gain the section only when the metrics exist")
    func sectionsOnlyWithMetrics() throws {
        let with = try Self.report()
        #expect(with.html.contains("<h2>Stratum–background check</h2>"))
        #expect(with.html.components(separatedBy: "<svg").count - 1 == 3 * 4 + 2 + 2)
        #expect(with.markdown.contains("## Stratum–background check (per epoch)"))
        #expect(with.markdown.contains("| simclr | full | icl-msr | 3 | 29.0 | 70.0 | 0.500 | 0.150 | 3 |"))

        let store = try ResultsDatabase.inMemory(clock: TestClock(1_750_000_000, tick: 1).closure)
        try Fixture.fill(store)
        let without = try ExperimentReport(store: store, experiment: "table1-quick")
        #expect(!without.first.hasEpochDiagnostics)
        #expect(!without.html.contains("Stratum–background") && !without.markdown.contains("Stratum–background"))
    }
}
