import Foundation
import Testing
@testable import Reports
import ResultsStore

/// Claims judged on hand-made matrix rows; goldens computed once with SciPy
/// (`scipy.stats.t.sf`, `ttest_rel`, `ttest_ind(equal_var=False)`).
@Suite("Claims judged with intervals")
struct ClaimJudgingTests {
    @Test("two-sided t p-values match SciPy", arguments: [
        (2.776445105197799, 4.0, 0.04999999999999976), (1.0, 1.0, 0.5000000000000001), (0.5, 10.0, 0.627893605742973),
        (3.0, 2.5, 0.07257609554903183), (-2.0, 7.0, 0.08561932856297605), (10.0, 3.0, 0.0021283990584141503),
        (0.0, 5.0, 1.0), (1.96, 1000.0, 0.050273184955748736),
    ])
    func pValues(t: Double, df: Double, expected: Double) {
        #expect(abs(StudentT.twoSidedPValue(t, degreesOfFreedom: df) - expected) < 1e-10)
    }

    @Test("paired difference: mean of per-seed deltas, t-interval and p as ttest_rel")
    func pairedDifference() throws {
        let d = try #require(ClaimDifference(treatment: [0: 0.80, 1: 0.82, 2: 0.85], baseline: [0: 0.70, 1: 0.74, 2: 0.73]))
        #expect(d.paired && d.n == 3 && d.degreesOfFreedom == 2)
        #expect(abs(d.estimate - 0.1) < 1e-12)
        let ci = try #require(d.interval)
        #expect(abs(ci.lowerBound - 0.05031724576499337) < 1e-9 && abs(ci.upperBound - 0.14968275423500665) < 1e-9)
        #expect(abs(try #require(d.pValue) - 0.013072457560346537) < 1e-9)
    }

    @Test("groups without shared seeds: Welch interval, Welch–Satterthwaite df, p as ttest_ind(equal_var=False)")
    func welchDifference() throws {
        let d = try #require(ClaimDifference(treatment: [0: 0.80, 1: 0.82, 2: 0.85, 3: 0.83], baseline: [10: 0.70, 11: 0.74, 12: 0.73]))
        #expect(!d.paired && d.n == 7)
        #expect(abs(try #require(d.degreesOfFreedom) - 4.45454545454545) < 1e-9)
        let ci = try #require(d.interval)
        #expect(abs(ci.lowerBound - 0.0592449270788722) < 1e-9 && abs(ci.upperBound - 0.1440884062544614) < 1e-9)
        #expect(abs(try #require(d.pValue) - 0.0021096993051459337) < 1e-9)
    }

    @Test("Holm adjustment against hand-computed values; untested claims stay out of the family")
    func holm() {
        // Sorted: 0.005×4 = 0.02, 0.01×3 = 0.03, 0.03×2 = 0.06, 0.04×1 = 0.04 → running max 0.06.
        let adjusted = ClaimJudge.holm([0.01, 0.04, 0.03, 0.005])
        for (a, e) in zip(adjusted, [0.03, 0.06, 0.06, 0.02]) { #expect(abs(a! - e) < 1e-12) }
        let partial = ClaimJudge.holm([0.01, nil, 0.04])
        #expect(partial[1] == nil && abs(partial[0]! - 0.02) < 1e-12 && abs(partial[2]! - 0.04) < 1e-12)
        #expect(ClaimJudge.holm([0.6, 0.7]).map { $0! } == [1.0, 1.0])
    }

    @Test("holds, contradicted and inconclusive, paired and unpaired")
    func verdicts() {
        let rows = Rows()
            .add(trainView: "full", regularizer: "none", seeds: [0, 1, 2], values: [0.70, 0.74, 0.73])
            .add(trainView: "full", regularizer: "icl-msr", seeds: [0, 1, 2], values: [0.80, 0.82, 0.85])
            .add(trainView: "full", regularizer: "swap", seeds: [0, 1, 2], values: [0.71, 0.73, 0.74])
            .add(trainView: "foreground", regularizer: "none", seeds: [10, 11, 12, 13], values: [0.80, 0.82, 0.85, 0.83])
            .add(trainView: "foreground", regularizer: "icl-msr", seeds: [7], values: [0.9])
        let claims = [
            claim("paired-holds", .greater, treatment: sel("full", "icl-msr"), baseline: sel("full", "none")),
            claim("paired-contradicted", .less, treatment: sel("full", "icl-msr"), baseline: sel("full", "none")),
            claim("paired-inconclusive", .greater, treatment: sel("full", "swap"), baseline: sel("full", "none")),
            claim("welch-holds", .greater, treatment: sel("foreground", "none"), baseline: sel("full", "none")),
            claim("too-few", .greater, treatment: sel("foreground", "icl-msr"), baseline: sel("full", "none")),
        ]
        let judged = ClaimJudge.judge(claims, rows: ["full": rows.rows])
        #expect(judged.map(\.verdict) == [.holds, .contradicted, .inconclusive, .holds, .inconclusive])
        #expect(judged.map { $0.difference?.paired } == [true, true, true, false, false])
        #expect(judged[4].difference?.interval == nil && judged[4].adjustedP == nil)
        // Four tested claims: the smallest p (Welch, 0.0021) is multiplied by 4.
        #expect(abs(judged[3].adjustedP! - 4 * 0.0021096993051459337) < 1e-9)
    }

    @Test("an interval that excludes 0 is inconclusive when the Holm-adjusted p is not below 0.05")
    func holmDecides() {
        let rows = Rows()
            .add(trainView: "full", regularizer: "none", seeds: [0, 1, 2, 3], values: [0.5, 0.5, 0.5, 0.5])
            .add(trainView: "full", regularizer: "icl-msr", seeds: [0, 1, 2, 3], values: [0.52, 0.55, 0.58, 0.53])
            .add(trainView: "foreground", regularizer: "none", seeds: [0, 1, 2], values: [0.5, 0.5, 0.5])
            .add(trainView: "foreground", regularizer: "icl-msr", seeds: [0, 1, 2], values: [0.51, 0.48, 0.52])
        let alone = claim("alone", .greater, treatment: sel("full", "icl-msr"), baseline: sel("full", "none"))
        let other = claim("other", .greater, treatment: sel("foreground", "icl-msr"), baseline: sel("foreground", "none"))
        let single = ClaimJudge.judge([alone], rows: ["full": rows.rows])[0]
        #expect(single.verdict == .holds && abs(single.difference!.pValue! - 0.042408926767124544) < 1e-9)
        let both = ClaimJudge.judge([alone, other], rows: ["full": rows.rows])
        #expect(both[0].difference!.interval!.lowerBound > 0)
        #expect(abs(both[0].adjustedP! - 2 * 0.042408926767124544) < 1e-9)
        #expect(both.map(\.verdict) == [.inconclusive, .inconclusive])
    }

    @Test("two test views of the same cells, and a gap, are read per run")
    func testViewsAndGaps() throws {
        var rows = Rows()
        for (view, values) in [("full", [0.8, 0.82, 0.81]), ("foreground", [0.6, 0.65, 0.61])] {
            rows = rows.add(trainView: "full", regularizer: "none", seeds: [0, 1, 2], values: values, testView: view)
        }
        var treatment = sel("full", "none"), baseline = sel("full", "none")
        (treatment.testView, baseline.testView) = ("full", "foreground")
        let views = claim("views", .greater, treatment: treatment, baseline: baseline)
        #expect(views.metricDescription == "linear top1 on full vs foreground, probe full")
        let judged = ClaimJudge.judge([views], rows: ["full": rows.rows])[0]
        #expect(judged.verdict == .holds && judged.difference?.paired == true)
        let record = judged.record(experimentID: 1, position: 0)
        #expect(record.treatment == "\(views.treatment.method)/full/none on full" && record.baseline == "\(views.baseline.method)/full/none on foreground")
        #expect(abs(judged.difference!.estimate - (0.8 + 0.82 + 0.81 - 0.6 - 0.65 - 0.61) / 3) < 1e-12)
        let gap = ClaimJudge.values(Claim(name: "g", metric: ClaimMetric(protocolName: "linear", probe: "full", testView: "fg-gap"),
                                          direction: .greater, treatment: sel("full", "none"), baseline: sel("full", "none")),
                                    sel("full", "none"), rows.rows)
        #expect(gap.keys.sorted() == [0, 1, 2] && abs(gap[1]! - 0.17) < 1e-12)
    }

    @Test("records render as text, markdown and JSON with the Holm note")
    func rendering() {
        let r = ClaimRecord(experimentID: 1, position: 0, name: "c", metric: "linear top1 on full, probe full", direction: .greater,
                            estimate: 0.1, lower: 0.05, upper: 0.15, n: 3, paired: true, pValue: 0.013, adjustedP: 0.026, verdict: "holds")
        let markdown = ClaimTable.rendered([r], style: .markdown)
        #expect(markdown.contains("| c | linear top1 on full, probe full | treatment > baseline | +10.0 | [+5.0, +15.0] | 3 | paired | 0.0130 | 0.0260 | holds |"))
        var named = r
        (named.treatment, named.baseline) = ("simclr/full/icl-msr @ k=1", "simclr/full/none @ k=1")
        named.direction = .less
        #expect(ClaimTable.rendered([named], style: .markdown).contains("| c | linear top1 on full, probe full | simclr/full/icl-msr @ k=1 < simclr/full/none @ k=1 |"))
        #expect(ClaimTable.rendered([named], style: .json).contains("\"treatment\" : \"simclr/full/icl-msr @ k=1\""))
        #expect(markdown.contains("Holm"))
        #expect(ClaimTable.rendered([r], style: .text).contains("Holm"))
        #expect(ClaimTable.rendered([r], style: .json).contains("\"adjusted_p\""))
        #expect(ClaimTable.markdownSection([]).isEmpty && ClaimTable.htmlSection([]).isEmpty)
    }

    // MARK: Fixture

    struct Rows {
        var rows: [MatrixRow] = []
        func add(trainView: String, regularizer: String, seeds: [Int], values: [Double], testView: String = "full") -> Rows {
            var copy = self
            for (seed, value) in zip(seeds, values) {
                let key = "\(trainView)/simclr/\(regularizer)/seed\(seed)"
                let runID = key.utf8.reduce(Int64(7)) { ($0 &* 31 &+ Int64($1)) % 1_000_000_007 }
                let cell = RunCell(cellKey: key, dataset: "builtin", trainView: trainView, method: "simclr", regularizer: regularizer, seed: seed)
                copy.rows.append(MatrixRow(experimentID: 1, runID: runID, cell: cell, protocolName: "linear", probeView: "full",
                                           testView: testView, split: "test", top1: value, top5: 1, topK: 5, n: 100))
                copy.rows.append(MatrixRow(experimentID: 1, runID: runID, cell: cell, protocolName: "knn", probeView: "full",
                                           testView: testView, split: "test", top1: 1 - value, top5: 1, topK: 5, n: 100))
            }
            return copy
        }
    }

    func sel(_ trainView: String, _ regularizer: String) -> CellSelector {
        CellSelector(method: "simclr", regularizer: regularizer, trainView: trainView)
    }

    func claim(_ name: String, _ direction: ClaimComparison, treatment: CellSelector, baseline: CellSelector) -> Claim {
        Claim(name: name, metric: ClaimMetric(protocolName: "linear", probe: "full", testView: "full"), direction: direction,
              treatment: treatment, baseline: baseline)
    }
}
