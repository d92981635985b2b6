import Foundation
import Testing
@testable import Reports
@testable import ResultsStore

/// Hand-made matrix rows of a swept experiment: simclr, train view `full`, {none, icl-msr},
/// seeds 0–2, linear top-1 under the fixed full probe on `full` and `foreground`, at two sweep
/// points of `dataset.builtin.confounding` (0.5 and 0.9).
enum SweepFixture {
    static let key = "dataset.builtin.confounding"

    /// (regularizer, confounding) → test view → top-1 per seed.
    static let top1: [String: [String: [Double]]] = [
        "none@0.5": ["full": [0.80, 0.82, 0.78], "foreground": [0.70, 0.71, 0.66]],
        "none@0.9": ["full": [0.90, 0.93, 0.87], "foreground": [0.50, 0.52, 0.51]],
        "icl-msr@0.5": ["full": [0.81, 0.83, 0.79], "foreground": [0.72, 0.73, 0.70]],
        "icl-msr@0.9": ["full": [0.88, 0.90, 0.86], "foreground": [0.60, 0.61, 0.62]],
    ]

    static func row(regularizer: String, sweep: String, seed: Int, view: String, top1: Double, method: String = "simclr") -> MatrixRow {
        MatrixRow(experimentID: 1, runID: 1,
                  cell: RunCell(cellKey: "\(sweep)/full/\(method)/\(regularizer)/seed\(seed)", dataset: "builtin", trainView: "full",
                                method: method, regularizer: regularizer, seed: seed, sweep: sweep),
                  protocolName: "linear", probeView: "full", testView: view, split: "test", top1: top1, top5: 1, topK: 5, n: 100)
    }

    static var rows: [MatrixRow] {
        top1.keys.sorted().flatMap { name -> [MatrixRow] in
            let parts = name.split(separator: "@").map(String.init)
            return top1[name]!.flatMap { view, values in
                values.enumerated().map { seed, acc in row(regularizer: parts[0], sweep: "\(key)=\(parts[1])", seed: seed, view: view, top1: acc) }
            }
        }
    }

    static func report(_ rows: [MatrixRow] = rows, classCount: Int? = nil) -> Report {
        let experiment = Experiment(id: 1, name: "sweep", specPath: "s.yaml", specSHA256: String(repeating: "ef", count: 32),
                                    specText: "", createdAt: Date(timeIntervalSince1970: 1_750_000_000))
        return Report(experiment: experiment, runs: [], rows: rows, curves: [:], options: ReportOptions(probe: .fixed("full")),
                      classCount: classCount)
    }
}

@Suite("Reports over sweeps")
struct SweepReportTests {
    let c05 = "\(SweepFixture.key)=0.5", c09 = "\(SweepFixture.key)=0.9"

    @Test("two sweep points stay two rows: each has its own mean, and nothing is filed under no point")
    func pointsDoNotCollapse() throws {
        let report = SweepFixture.report()
        #expect(report.sweeps == [c05, c09] && report.hasSweep && report.sweepKeys == [SweepFixture.key])
        let a = try #require(report.summary(method: "simclr", trainView: "full", regularizer: "none", protocolName: "linear", testView: "full", sweep: c05))
        let b = try #require(report.summary(method: "simclr", trainView: "full", regularizer: "none", protocolName: "linear", testView: "full", sweep: c09))
        #expect(a.n == 3 && abs(a.mean - 0.80) < 1e-12)
        #expect(b.n == 3 && abs(b.mean - 0.90) < 1e-12)
        #expect(report.summary(method: "simclr", trainView: "full", regularizer: "none", protocolName: "linear", testView: "full") == nil)
        let md = report.markdown
        #expect(md.contains("| train view | regularizer | \(SweepFixture.key) | full | foreground |"))
        #expect(md.contains("| full | none | 0.5 | 80.0 ± 2.0 (3) | 69.0 ± 2.6 (3) |"))
        #expect(md.contains("| full | none | 0.9 | 90.0 ± 3.0 (3) | 51.0 ± 1.0 (3) |"))
        #expect(md.contains("same seed, method and train view at the same sweep point;"))
        #expect(report.csv.hasPrefix("section,method,train_view,regularizer,\(SweepFixture.key),protocol,measure,figure,"))
        #expect(report.csv.contains("accuracy,simclr,full,none,0.9,linear,top1,full,90.0,3.0,3,,"))
    }

    @Test("regularizer effects pair cells at the same sweep point only")
    func effectsPerPoint() throws {
        let report = SweepFixture.report()
        let fg = report.effects.filter { $0.figure == "foreground" }
        #expect(fg.map(\.sweep) == [c05, c09])
        // icl-msr − none on foreground: 0.5 → 0.02, 0.02, 0.04 (mean 0.02667); 0.9 → 0.10, 0.09, 0.11 (mean 0.10).
        let low = try #require(fg[0].deltas["linear"]), high = try #require(fg[1].deltas["linear"])
        #expect(abs(low.summary.mean - 0.08 / 3) < 1e-12 && abs(high.summary.mean - 0.10) < 1e-12)
        #expect(report.markdown.contains("| simclr | full | 0.9 | icl-msr − none | foreground |"))
    }

    @Test("the fg-gap is acc(full) − acc(foreground), per seed within a sweep point")
    func gapPerSeed() throws {
        let report = SweepFixture.report()
        let gap = report.gapValues(method: "simclr", trainView: "full", regularizer: "none", protocolName: "linear", gap: .fg, sweep: c09)
        #expect(gap.keys.sorted() == [0, 1, 2])
        for (seed, expected) in [0: 0.40, 1: 0.41, 2: 0.36] { #expect(abs(gap[seed]! - expected) < 1e-12) }
    }

    @Test("dose-response: mean and 95% t-interval per swept value, by hand")
    func doseResponseNumbers() throws {
        let report = SweepFixture.report()
        #expect(report.numericSweepKeys == [SweepFixture.key])
        let dose = report.doseResponse(key: SweepFixture.key, figure: "full")
        #expect(dose.values == ["0.5", "0.9"])
        #expect(dose.lines.map(\.label) == ["full / none", "full / icl-msr"])
        let none = dose.lines[0].points
        #expect(none.map(\.x) == [0.5, 0.9])
        // 0.80, 0.82, 0.78: sd 0.02, half-width 4.302653 · 0.02 / √3 = 0.0496828.
        #expect(abs(none[0].summary.mean - 0.80) < 1e-12 && none[0].summary.n == 3)
        let ci0 = try #require(none[0].interval), ci1 = try #require(none[1].interval)
        #expect(abs(ci0.lowerBound - 0.7503172) < 1e-6 && abs(ci0.upperBound - 0.8496828) < 1e-6)
        // 0.90, 0.93, 0.87: sd 0.03, half-width 0.0745241.
        #expect(abs(ci1.lowerBound - 0.8254759) < 1e-6 && abs(ci1.upperBound - 0.9745241) < 1e-6)
        // fg-gap at 0.9: per seed 0.40, 0.41, 0.36 → mean 0.39, sd 0.0264575, CI [0.3242759, 0.4557241].
        let gap = report.doseResponse(key: SweepFixture.key, figure: "fg-gap").lines[0].points[1]
        let gci = try #require(gap.interval)
        #expect(abs(gap.summary.mean - 0.39) < 1e-12 && abs(gci.lowerBound - 0.3242759) < 1e-6 && abs(gci.upperBound - 0.4557241) < 1e-6)
        #expect(report.doseResponses().map(\.figure) == ["full", "foreground", "fg-gap"])
        let md = report.markdown
        #expect(md.contains("## Dose-response"))
        #expect(md.contains("| full / none | 0.9 | 90.0 | [82.5, 97.5] | 3 |"))
        #expect(md.contains("| full / none | 0.9 | +39.0 | [+32.4, +45.6] | 3 |"))
    }

    @Test("dose-response SVG: a polyline per line, a tick per swept value, axis labels, error bars and chance level")
    func doseResponseSVG() throws {
        let report = SweepFixture.report(classCount: 10)
        let dose = report.doseResponse(key: SweepFixture.key, figure: "full")
        let svg = report.doseResponseSVG(dose)
        #expect(svg.components(separatedBy: "<polyline").count - 1 == dose.lines.count && dose.lines.count == 2)
        #expect(svg.contains(">0.5</text>") && svg.contains(">0.9</text>"))
        #expect(svg.contains(">\(SweepFixture.key)</text>") && svg.contains(">top-1 on full (%)</text>"))
        #expect(svg.contains("chance (1/10)") && svg.contains(">full / icl-msr</text>"))
        // A stem and two caps per point with an interval: 2 lines × 2 points × 3 (the legend draws width 2).
        #expect(svg.components(separatedBy: "stroke-width=\"1.2\"").count - 1 == 12)
        #expect(!SweepFixture.report().doseResponseSVG(dose).contains("chance"))
        let html = SweepHTML.html(report)
        #expect(html.contains("<h2>Dose-response</h2>") && html.components(separatedBy: "aria-label=\"Linear top-1 on").count - 1 == 2)
    }

    @Test("two swept keys: each chart holds the other key fixed, one line per held value; a wide positive range is drawn on a log scale")
    func twoKeys() throws {
        var rows: [MatrixRow] = []
        for (c, w, base) in [("0.5", "1", 0.6), ("0.5", "10", 0.7), ("0.9", "1", 0.4), ("0.9", "10", 0.5)] {
            for seed in 0..<2 {
                rows.append(SweepFixture.row(regularizer: "icl-msr", sweep: "\(SweepFixture.key)=\(c),iclmsr.weight=\(w)", seed: seed,
                                             view: "full", top1: base + 0.01 * Double(seed)))
            }
        }
        let report = SweepFixture.report(rows)
        #expect(report.sweepKeys == [SweepFixture.key, "iclmsr.weight"])
        let byC = report.doseResponse(key: SweepFixture.key, figure: "full")
        #expect(byC.lines.map(\.label) == ["full / icl-msr · iclmsr.weight=1", "full / icl-msr · iclmsr.weight=10"])
        #expect(byC.lines[1].points.map(\.summary.mean).map { ($0 * 1000).rounded() } == [705, 505])
        let byW = report.doseResponse(key: "iclmsr.weight", figure: "full")
        #expect(byW.values == ["1", "10"] && byW.lines.map(\.held) == ["\(SweepFixture.key)=0.5", "\(SweepFixture.key)=0.9"])
        #expect(report.doseResponseSVG(byW).contains(">iclmsr.weight (log scale)</text>"))
        #expect(!report.doseResponseSVG(byC).contains("log scale"))
        #expect(report.markdown.contains("| full | icl-msr | 0.9 | 10 | 50.5 ± 0.7 (2) |"))
    }

    @Test("matrix and compare tables: a column per swept key, and deltas only within a point")
    func queryTables() throws {
        let m = MatrixTable(SweepFixture.rows)
        #expect(m.queryResult.columns == ["method", "train_view", "regularizer", SweepFixture.key, "protocol", "full", "foreground"])
        #expect(m.rows.map { "\($0.regularizer)@\($0.sweep)" } == ["none@\(c05)", "none@\(c09)", "icl-msr@\(c05)", "icl-msr@\(c09)"])
        #expect(m.queryResult.rows[1][5] == .text("90.0 ± 3.0 (3)"))
        let c = Comparison(SweepFixture.rows, by: .regularizer)
        #expect(c.queryResult.columns.prefix(5) == ["train_view", "method", SweepFixture.key, "protocol", "test_view"])
        let fg09 = try #require(c.rows.first { $0.sweep == c09 && $0.testView == "foreground" })
        #expect(abs(try #require(fg09.deltas[0]).summary.mean - 0.10) < 1e-12)
    }

    @Test("without a sweep nothing changes: no sweep column, no dose-response")
    func noSweep() throws {
        let rows = SweepFixture.rows.filter { $0.cell.sweep == c05 }.map { r -> MatrixRow in
            var r = r
            r.cell.sweep = ""
            return r
        }
        let report = SweepFixture.report(rows)
        #expect(report.sweeps == [""] && !report.hasSweep && report.sweepKeys.isEmpty)
        #expect(report.doseResponses().isEmpty && !report.markdown.contains("Dose-response"))
        #expect(report.markdown.contains("| train view | regularizer | full | foreground |"))
        #expect(report.csv.hasPrefix("section,method,train_view,regularizer,protocol,measure,figure,"))
        #expect(MatrixTable(rows).queryResult.columns == ["method", "train_view", "regularizer", "protocol", "full", "foreground"])
    }
    @Test("a log axis only where the swept values are spread logarithmically")
    func logAxisChoice() {
        #expect(Report.prefersLogScale([0.1, 1, 10]))
        #expect(Report.prefersLogScale([0.01, 0.1, 1, 10, 100]))
        #expect(Report.prefersLogScale([1, 10]))
        #expect(!Report.prefersLogScale([0.1, 0.5, 0.9, 1.0]))   // a probability: 0.9 and 1.0 would nearly coincide
        #expect(!Report.prefersLogScale([0.5, 0.7, 0.9, 1.0]))   // spans less than a factor of 10
        #expect(!Report.prefersLogScale([0, 1, 10]))             // not all positive
        #expect(!Report.prefersLogScale([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]))
    }

    @Test("under a fixed probe the untrained control is one line, whatever train views its cells were listed under")
    func controlIsOneLine() {
        var rows: [MatrixRow] = []
        for (c, trained, control) in [("0.5", 0.6, 0.3), ("0.9", 0.8, 0.5)] {
            for seed in 0..<2 {
                for (method, trainView, top1) in [("simclr", "full", trained), ("simclr", "foreground", trained - 0.2),
                                                  ("untrained", "full", control), ("untrained", "foreground", control)] {
                    let sweep = "\(SweepFixture.key)=\(c)"
                    rows.append(MatrixRow(experimentID: 1, runID: 1,
                                          cell: RunCell(cellKey: "\(sweep)/\(trainView)/\(method)/none/seed\(seed)", dataset: "builtin",
                                                        trainView: trainView, method: method, regularizer: "none", seed: seed, sweep: sweep),
                                          protocolName: "linear", probeView: "full", testView: "full", split: "test",
                                          top1: top1 + 0.01 * Double(seed), top5: 1, topK: 5, n: 100))
                }
            }
        }
        let dose = SweepFixture.report(rows).doseResponse(key: SweepFixture.key, figure: "full")
        #expect(dose.lines.map(\.label) == ["untrained (control)", "full / none", "foreground / none"])
        #expect(dose.lines[0].points.map { ($0.summary.mean * 1000).rounded() } == [305, 505])
        #expect(dose.lines[0].points.allSatisfy { $0.summary.n == 2 })
    }
}

/// Renders the HTML of an experiment report made of one part.
enum SweepHTML {
    static func html(_ report: Report) -> String { report.htmlSections().joined(separator: "\n") }

}
