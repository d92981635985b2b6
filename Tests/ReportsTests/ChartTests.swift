import Foundation
import TestSupport
import Testing
@testable import Reports
import ResultsStore

/// A store with hand-chosen per-step metrics: simclr runs of train view `full`, one per
/// (regularizer, seed), each logging the given values by step.
enum StepFixture {
    struct RunMetrics {
        var regularizer: String
        var seed: Int
        var values: [String: [(step: Int, value: Double)]]
        var sweep = ""
    }

    static func report(_ runs: [RunMetrics], maxCurvePoints: Int = 200) throws -> Report {
        let store = try ResultsDatabase.inMemory(clock: TestClock(1_750_000_000, tick: 1).closure)
        let experiment = try store.upsertExperiment(name: "steps", specSHA256: String(repeating: "cd", count: 32),
                                                    specPath: "steps.yaml", specText: "name: steps\n")
        for run in runs {
            let cell = RunCell(cellKey: "\(run.sweep)/full/simclr/\(run.regularizer)/seed\(run.seed)", dataset: "builtin", trainView: "full",
                               method: "simclr", regularizer: run.regularizer, seed: run.seed, sweep: run.sweep)
            let claim = try #require(try store.beginRun(experimentID: experiment.id, cell: cell,
                                                        provenance: RunProvenance(configJSON: "{}", configSHA256: "e\(run.seed)")).claim)
            let metrics = store.metricWriter(for: claim, batchSize: 16)
            for key in run.values.keys.sorted() {
                for (step, value) in run.values[key]! { try metrics.add(key: key, step: step, epoch: 0, value: value, wallTime: 1_750_000_000) }
            }
            try metrics.finish()
            try store.finishRun(claim)
        }
        return try Report(store: store, experiment: "steps", options: ReportOptions(maxCurvePoints: maxCurvePoints))
    }

    static func loss(_ values: [Double]) -> [String: [(step: Int, value: Double)]] {
        ["loss": values.enumerated().map { ($0.offset, $0.element) }]
    }
}

@Suite("Charts")
struct ChartTests {
    static func close(_ a: [Double], _ b: [Double]) -> Bool { a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) < 1e-9 } }

    @Test("nice ticks are 1, 2 or 5 × 10^k apart and cover the range", arguments: [
        (0.0, 1.0, 5, 0.0, [0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        (3.7, 8.2, 5, 0, [3, 4, 5, 6, 7, 8, 9]),
        (0, 0.0003, 5, 0, [0, 0.0001, 0.0002, 0.0003]),
        (0, 29, 5, 1, [0, 10, 20, 30]),
        (0, 3, 5, 1, [0, 1, 2, 3]),
        (4, 4, 5, 0, [3.6, 3.8, 4.0, 4.2, 4.4]),
        (0, 0, 5, 0, [-1, -0.5, 0, 0.5, 1]),
        (-3.13, 3.13, 6, 0, [-4, -2, 0, 2, 4]),
        (.nan, 1, 5, 0, [0, 0.2, 0.4, 0.6, 0.8, 1.0]),
    ])
    func niceTicks(lo: Double, hi: Double, target: Int, minimumStep: Double, expected: [Double]) {
        let ticks = NiceTicks(covering: lo, hi, target: target, minimumStep: minimumStep)
        #expect(Self.close(ticks.values, expected), "\(ticks.values)")
    }

    @Test("tick labels carry the decimals the step needs")
    func tickLabels() {
        let unit = NiceTicks(covering: 0, 1)
        #expect(unit.values.map(unit.label) == ["0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        let small = NiceTicks(covering: 0, 0.0003)
        #expect(small.label(0.0003) == "0.0003")
        let tiny = NiceTicks(covering: 0, 0.0003, target: 6)
        #expect(tiny.step < 1e-4 && tiny.label(0.0003) == "3.0e-04" && tiny.label(0) == "0")
        let steps = NiceTicks(covering: 0, 37_000, minimumStep: 1)
        #expect(steps.values.map(steps.label) == ["0", "10k", "20k", "30k", "40k"])
        let gap = NiceTicks(covering: -3.13, 3.13, target: 6)
        #expect(gap.values.map(gap.label) == ["-4", "-2", "0", "2", "4"])
    }

    @Test("a linear scale maps the domain onto the pixels and clamps what lies outside")
    func linearScale() {
        let y = LinearScale(domain: 0...10, from: 200, to: 100)
        #expect(y(0) == 200 && y(10) == 100 && y(2.5) == 175 && y(-5) == 200 && y(.infinity) == 200 && y(11) == 100)
    }

    @Test("loss panels keep each regularizer on its own axis; the base-loss panel compares them on one")
    func lossPanels() throws {
        let (_, report) = try SnapshotTests.fixtureReport()
        let blocks = report.lossBlocks()
        #expect(blocks.map(\.title) == ["simclr"])
        let panels = blocks[0].panels
        #expect(panels.map(\.title) == ["none", "icl-msr", "base loss, all regularizers"])
        // icl-msr trains on base + regularizer (ends near 8); a plain run's loss stays near 4–6.
        #expect(panels[1].yTicks.domain.contains(8) && panels[1].yTicks.domain.contains(10))
        #expect(!panels[0].yTicks.domain.contains(8) && panels[0].yTicks.domain.contains(4) && panels[0].yTicks.domain.contains(6.2))
        #expect(!panels[2].yTicks.domain.contains(8))
        #expect(panels[2].lines.map(\.key) == ["loss", "loss_base", "loss", "loss_base"])
        #expect(panels.allSatisfy { $0.yTicks.values.count >= 4 && $0.xTicks.values == [0, 10, 20, 30] })
        let svg = report.lossCurvesSVG()
        #expect(svg.components(separatedBy: ">step</text>").count - 1 == 3)
        #expect(svg.contains(">loss</text>") && svg.contains(">base loss</text>") && svg.contains("band = min–max over seeds"))
        #expect(svg.components(separatedBy: "<polygon").count - 1 == 8 && svg.components(separatedBy: "<polyline").count - 1 == 8)
        #expect(svg.contains(">train full</text>") && svg.contains(">train foreground</text>") && svg.contains("stroke-dasharray=\"6 3\""))
    }

    @Test("the band spans the seeds' min and max; the line is their mean")
    func bandOverSeeds() throws {
        let (_, report) = try SnapshotTests.fixtureReport()
        // Step 0 of the plain full runs: 4 + 2 + 0.1·seed for seeds 0–2.
        let bands = report.stepBands("loss", group: Report.CellGroup(method: "simclr", trainView: "full", regularizer: "none"))
        #expect(bands.count == 30)
        #expect(bands[0].step == 0 && bands[0].n == 3 && abs(bands[0].min - 6.0) < 1e-12 && abs(bands[0].max - 6.2) < 1e-12
                && abs(bands[0].mean - 6.1) < 1e-12)

        // Two seeds, two buckets of two steps each; a NaN is skipped.
        let report2 = try StepFixture.report([
            .init(regularizer: "none", seed: 0, values: StepFixture.loss([1, 2, 3, 4])),
            .init(regularizer: "none", seed: 1, values: StepFixture.loss([3, 4, .nan, 6])),
        ], maxCurvePoints: 2)
        let b = report2.stepBands("loss", group: Report.CellGroup(method: "simclr", trainView: "full", regularizer: "none"))
        #expect(b.count == 2)
        #expect(b[0] == StepBand(step: 0.5, mean: 2.5, min: 1.5, max: 3.5, n: 2))
        #expect(abs(b[1].step - 8.0 / 3) < 1e-12 && b[1].mean == 4.75 && b[1].min == 3.5 && b[1].max == 6 && b[1].n == 2)
    }

    @Test("edge cases: one seed draws no band, one step draws a dot, missing metrics omit their panels")
    func edgeCases() throws {
        let oneSeed = try StepFixture.report([.init(regularizer: "none", seed: 0, values: StepFixture.loss([3, 2, 1]))])
        let svg = oneSeed.lossCurvesSVG()
        #expect(!svg.contains("<polygon") && svg.contains("<polyline") && oneSeed.lossBlocks().flatMap(\.panels).count == 1)
        #expect(!oneSeed.hasLearningRateOrSimilarity && oneSeed.learningRateAndSimilarityBlocks().isEmpty)
        #expect(oneSeed.learningRateAndSimilaritySVG().contains("no lr, pos_sim or neg_sim metrics recorded"))

        let oneStep = try StepFixture.report([
            .init(regularizer: "none", seed: 0, values: ["loss": [(5, 2.0)], "lr": [(5, 0.1)]]),
            .init(regularizer: "none", seed: 1, values: ["loss": [(5, .infinity)], "lr": [(5, 0.1)]]),
        ])
        let one = oneStep.lossCurvesSVG()
        #expect(one.contains("<circle") && !one.contains("<polyline") && !one.contains("nan") && !one.contains("inf"))
        let panels = oneStep.learningRateAndSimilarityBlocks().flatMap(\.panels)
        #expect(panels.map(\.title) == ["learning rate"] && oneStep.hasLearningRateOrSimilarity)

        let nothing = try StepFixture.report([.init(regularizer: "none", seed: 0, values: ["loss": [(0, .nan)]])])
        #expect(nothing.lossBlocks().isEmpty && nothing.lossCurvesSVG().contains("no loss metrics recorded"))
    }

    @Test("sweep points get their own row of panels, in the points' order")
    func sweepBlocks() throws {
        let report = try StepFixture.report([10, 2].flatMap { weight in
            ["none", "icl-msr"].map { StepFixture.RunMetrics(regularizer: $0, seed: 0, values: StepFixture.loss([2, 1]), sweep: "iclmsr.weight=\(weight)") }
        })
        let blocks = report.lossBlocks()
        #expect(blocks.map(\.title) == ["simclr, iclmsr.weight=2", "simclr, iclmsr.weight=10"])
        #expect(blocks.allSatisfy { $0.panels.map(\.title) == ["none", "icl-msr"] })
        #expect(report.lossCurvesSVG().components(separatedBy: "<polyline").count - 1 == 4)
    }

    @Test("learning-rate and similarity panels: one per metric, labelled axes, a legend")
    func learningRateAndSimilarity() throws {
        let (_, report) = try SnapshotTests.fixtureReport()
        let panels = report.learningRateAndSimilarityBlocks().flatMap(\.panels)
        #expect(panels.map(\.title) == ["learning rate", "positive pairs", "negative pairs"])
        #expect(panels[0].yTicks.domain.contains(0.3) && panels[0].yTicks.domain.upperBound < 0.5)
        let svg = report.learningRateAndSimilaritySVG()
        #expect(svg.contains(">learning rate</text>") && svg.contains(">mean cosine</text>") && svg.contains(">none</text>") && svg.contains(">icl-msr</text>"))
    }

    @Test("heat-map: a colour bar with ticks every 20 % and chance level at 100 % / classes")
    func heatmapColourBar() throws {
        let (_, report) = try SnapshotTests.fixtureReport()
        #expect(report.classCount == 10)
        let svg = report.heatmapSVG(method: "simclr", protocolName: "linear")
        for tick in ["0", "20", "40", "60", "80", "100"] { #expect(svg.contains(">\(tick)</text>")) }
        // The bar starts at the grid's left edge (170) and is 360 px wide: 10 % lies at 206.
        #expect(svg.contains("chance 10 % (1/10)") && svg.contains("<line x1=\"206.0\""))
        #expect(svg.contains("80.2") && svg.contains("± 0.7 (3)") && !svg.contains("top-5"))
        let noClasses = SweepFixture.report().heatmapSVG(method: "simclr", protocolName: "linear")
        #expect(noClasses.contains(">100</text>") && !noClasses.contains("chance"))
    }

    @Test("effect chart: rows name train and test view, one small dot per seed, a note on multiplicity")
    func effectChart() throws {
        let (_, report) = try SnapshotTests.fixtureReport()
        let svg = report.effectsSVG(protocolName: "linear")
        #expect(svg.contains(">simclr · train full → test full</text>") && svg.contains(">simclr · train foreground → fg-gap</text>"))
        // 2 train views × (5 test views + 2 gaps), 3 seeds each.
        #expect(svg.components(separatedBy: "class=\"seed\"").count - 1 == 14 * 3)
        #expect(svg.contains("14 comparisons; intervals are per-comparison 95% t-intervals, not corrected for multiplicity."))
        #expect(svg.contains("icl-msr − none, top-1 (percentage points)"))
    }
}
