import Foundation
import TestSupport
import Testing
@testable import Reports
import ResultsStore

/// Compares `text` with `Snapshots/<name>`; writes the file when it is missing (and fails) or
/// when `BACKDROP_UPDATE_SNAPSHOTS=1`.
func assertSnapshot(_ text: String, named name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Snapshots/\(name)")
    let update = ProcessInfo.processInfo.environment["BACKDROP_UPDATE_SNAPSHOTS"] == "1"
    guard !update, let expected = try? String(contentsOf: url, encoding: .utf8) else {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
        if !update { Issue.record("snapshot \(name) was missing and has been written; rerun", sourceLocation: sourceLocation) }
        return
    }
    if text != expected {
        let a = text.components(separatedBy: "\n"), b = expected.components(separatedBy: "\n")
        let line = a.indices.first { $0 >= b.count || a[$0] != b[$0] } ?? b.count
        Issue.record("""
            \(name) differs from its snapshot at line \(line + 1):
              got:      \(line < a.count ? a[line] : "<end>")
              expected: \(line < b.count ? b[line] : "<end>")
            (BACKDROP_UPDATE_SNAPSHOTS=1 rewrites the snapshots)
            """, sourceLocation: sourceLocation)
    }
}

@Suite("Report rendering")
struct SnapshotTests {
    static func fixtureReport() throws -> (ResultsDatabase, Report) {
        let store = try ResultsDatabase.inMemory(clock: TestClock(1_750_000_000, tick: 1).closure)
        try Fixture.fill(store)
        return (store, try Report(store: store, experiment: "table1-quick"))
    }

    @Test("table.md, table.csv, table.tex and the charts match their snapshots")
    func snapshots() throws {
        let (_, report) = try Self.fixtureReport()
        try assertSnapshot(report.markdown, named: "table.md")
        try assertSnapshot(report.csv, named: "table.csv")
        try assertSnapshot(report.latex, named: "table.tex")
        try assertSnapshot(report.heatmapSVG(method: "simclr", protocolName: "linear"), named: "heatmap-simclr-linear.svg")
        try assertSnapshot(report.effectsSVG(protocolName: "linear"), named: "effects-linear.svg")
        try assertSnapshot(report.lossCurvesSVG(), named: "training-loss.svg")
        try assertSnapshot(report.learningRateAndSimilaritySVG(), named: "training-lr-similarity.svg")
    }

    @Test("the tables hold the fixture's numbers: mean ± std (n) over the finished seeds only")
    func numbers() throws {
        let (_, report) = try Self.fixtureReport()
        // full/none on full: 0.80 + {0, 0.01, -0.004} → mean 80.2, std 0.7.
        let s = try #require(report.summary(method: "simclr", trainView: "full", regularizer: "none", protocolName: "linear", testView: "full"))
        #expect(s.n == 3 && abs(s.mean - 0.802) < 1e-12)
        #expect(Format.summary(s) == "80.2 ± 0.7 (3)")
        #expect(report.markdown.contains("| full | none | 80.2 ± 0.7 (3) | 60.2 ± 0.7 (3) |"))
        let fg = try #require(report.gapSummary(method: "simclr", trainView: "full", regularizer: "none", protocolName: "linear", gap: .fg))
        #expect(abs(fg.mean - 0.20) < 1e-12 && fg.n == 3)
        let bg = try #require(report.gapSummary(method: "simclr", trainView: "foreground", regularizer: "none", protocolName: "linear", gap: .bg))
        #expect(abs(bg.mean - 0.04) < 1e-12)
        #expect(report.runs.count == 14 && report.finishedRuns == 12)
    }

    @Test("the paired ICL-MSR delta and its 95% t-interval match a hand computation")
    func pairedDelta() throws {
        // Hand computation: deltas 0.032, 0.026, 0.036 (3 pp + per-seed noise); mean 0.0313333,
        // sd = sqrt((0.0006667² + 0.0053333² + 0.0046667²) / 2) = 0.0050332, se = sd/√3 = 0.0029059,
        // t(0.975, 2) = 4.302653 → half-width 0.0125033 → [0.0188300, 0.0438367].
        let (_, report) = try Self.fixtureReport()
        let row = try #require(report.effects.first { $0.trainView == "full" && $0.figure == "foreground" })
        let d = try #require(row.deltas["linear"])
        #expect(d.deltas.count == 3)
        for (x, y) in zip(d.deltas, [0.032, 0.026, 0.036]) { #expect(abs(x - y) < 1e-12) }
        #expect(abs(d.summary.mean - 0.0313333) < 1e-6)
        #expect(abs(d.summary.std! - 0.0050332) < 1e-6)
        let ci = try #require(d.interval)
        #expect(abs(ci.lowerBound - 0.0188300) < 1e-6 && abs(ci.upperBound - 0.0438367) < 1e-6)
        #expect(Format.delta(d) == "+3.1 [+1.9, +4.4]")

        let simple = try #require(PairedDelta(baseline: [0: 0.80, 1: 0.82, 2: 0.78, 7: 0.5], treatment: [0: 0.83, 1: 0.86, 2: 0.80]))
        #expect(simple.summary.n == 3 && abs(simple.summary.mean - 0.03) < 1e-12 && abs(simple.summary.std! - 0.01) < 1e-12)
        #expect(abs(simple.interval!.upperBound - (0.03 + 4.302653 * 0.01 / 3.0.squareRoot())) < 1e-6)
        let single = try #require(PairedDelta(baseline: [0: 0.5], treatment: [0: 0.6]))
        #expect(single.interval == nil && Format.delta(single) == "+10.0 [n/a]")
        #expect(PairedDelta(baseline: [0: 0.5], treatment: [1: 0.6]) == nil)
    }

    @Test("Student-t 0.975 quantiles match the table", arguments: [
        (1.0, 12.706), (2.0, 4.303), (3.0, 3.182), (4.0, 2.776), (9.0, 2.262), (29.0, 2.045), (100.0, 1.984), (1e6, 1.960),
    ])
    func tQuantiles(df: Double, expected: Double) {
        #expect(abs(StudentT.quantile(0.975, degreesOfFreedom: df) - expected) < 0.0006)
    }

    @Test("Student-t CDF and quantile are inverse, symmetric, and exact for ν = 1 (Cauchy)")
    func tIdentities() {
        for df in [1.0, 2.5, 7, 30] {
            for p in [0.6, 0.9, 0.995] {
                let t = StudentT.quantile(p, degreesOfFreedom: df)
                #expect(abs(StudentT.cdf(t, degreesOfFreedom: df) - p) < 1e-10)
                #expect(abs(StudentT.quantile(1 - p, degreesOfFreedom: df) + t) < 1e-9)
            }
        }
        #expect(abs(StudentT.quantile(0.975, degreesOfFreedom: 1) - tan(Double.pi * 0.475)) < 1e-9)
        #expect(abs(StudentT.quantile(0.975, degreesOfFreedom: 2) - 4.302652729911275) < 1e-9)
    }

    @Test("rendering reads the database only, writes five self-contained files, and is byte-stable")
    func renderLeavesDatabaseUnchanged() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("backdrop-report-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("results.sqlite").path
        do { try Fixture.fill(try ResultsDatabase(path: path, clock: TestClock(1_750_000_000, tick: 1).closure)) }
        let writer = try ResultsDatabase(path: path)
        let before = try writer.contentChecksum()
        let out = dir.appendingPathComponent("reports/table1-quick")
        let files = try ReportWriter.render(store: writer, experiment: "table1-quick", into: out)
        #expect(try writer.contentChecksum() == before)
        let first = try files.all.map { try Data(contentsOf: $0) }

        let reader = try ResultsDatabase(path: path, mode: .readOnly)
        try ReportWriter.render(store: reader, experiment: nil, into: out)
        #expect(try files.all.map { try Data(contentsOf: $0) } == first)
        #expect(try writer.contentChecksum() == before)
        #expect(files.all.map(\.lastPathComponent) == ["table.md", "table.csv", "table.tex", "report.html", "provenance.md"])

        let html = try String(contentsOf: files.html, encoding: .utf8)
        for forbidden in ["<script", " src=", " href=", "@import", "url("] { #expect(!html.contains(forbidden), "\(forbidden)") }
        // Per probe series (fixed full, fixed foreground, train view): 2 heat-maps and 2 effect charts; then the
        // loss curves and the learning-rate and similarity curves.
        #expect(html.components(separatedBy: "<svg").count - 1 == 3 * 4 + 2)
        #expect(html.contains("Fixed probe: fitted on full images") && html.contains("Probe fitted on each cell's train view"))
        #expect(html.contains("<polyline") && html.contains("corrupt PNG train/images/disk/7.png"))
        #expect(html.contains("Data as of 2025-"))

        #expect(throws: ResultsStoreError.self) { try ReportWriter.render(store: reader, experiment: "nope", into: out) }
    }
}
