import Foundation
import ResultsStore

/// What a report shows and how.
public struct ReportOptions: Sendable {
    /// The probe series of the matrix (default: probe fitted on the cell's train view).
    public var probe: ProbeSeries
    /// The evaluated split.
    public var split: String
    /// The regularizer the others are compared with (paired per seed).
    public var baseline: String
    /// The metric drawn as training curves.
    public var lossKey: String
    /// Curves are averaged into at most this many points.
    public var maxCurvePoints: Int
    /// Two-sided confidence level of the paired-delta intervals.
    public var confidenceLevel: Double

    public init(probe: ProbeSeries = .trainView, split: String = "test", baseline: String = "none",
                lossKey: String = "loss", maxCurvePoints: Int = 200, confidenceLevel: Double = 0.95) {
        self.probe = probe
        self.split = split
        self.baseline = baseline
        self.lossKey = lossKey
        self.maxCurvePoints = maxCurvePoints
        self.confidenceLevel = confidenceLevel
    }
}

/// The accuracy a table cell aggregates.
public enum Measure: String, Sendable, CaseIterable {
    case top1, top5
}

/// One row of the paired-effect table: `treatment − baseline` of one figure, paired by seed.
public struct EffectRow: Sendable, Equatable {
    public var method: String
    public var trainView: String
    public var treatment: String
    /// A test view, or a gap name (`fg-gap`, `bg-gap`).
    public var figure: String
    /// Protocol → delta (top-1).
    public var deltas: [String: PairedDelta]
    /// The sweep point both sides share (`key=value,…`); empty without a sweep.
    public var sweep: String = ""
}

/// The data of one experiment's report, read from a ``ResultsDatabase``, and its renderings.
///
/// Everything is a pure function of the database content (no clock, no randomness): rendering
/// twice gives the same bytes, and the store is only read.
public struct Report: Sendable {
    public let experiment: Experiment
    public let runs: [Run]
    public let rows: [MatrixRow]
    /// Run id → the `lossKey` metric by step (finished runs).
    public let curves: [Int64: [Metric]]
    /// Metric key (``StepMetricKey/charted``) → run id → its values by step (finished runs).
    public let stepMetrics: [String: [Int64: [Metric]]]
    /// Metric key (`EpochDiagnosticKey.reported`) → run id → the per-epoch values (finished runs).
    public let diagnostics: [String: [Int64: [Metric]]]
    public let options: ReportOptions

    /// Canonical orders; values not listed follow alphabetically.
    public static let testViewOrder = ["full", "foreground", "foreground-crop", "only-background", "only-background-tiled", "mixed-same", "mixed-random"]
    public static let trainViewOrder = ["full", "foreground", "foreground-crop"]
    public static let methodOrder = [untrained, "simclr", "mocov2", "byol", "simsiam", "barlowtwins"]
    /// The `method` of the untrained-encoder control cells.
    public static let untrained = "untrained"
    public static let protocolOrder = ["linear", "knn"]

    /// Reads the experiment called `experiment` (the latest of that name; the latest experiment
    /// when nil) from `store`.
    public init(store: ResultsDatabase, experiment name: String?, options: ReportOptions = ReportOptions()) throws {
        let experiment = try store.resolveExperiment(name)
        self.experiment = experiment
        self.options = options
        runs = try store.runs(experimentID: experiment.id)
        rows = try store.matrixRows(experimentID: experiment.id, probe: options.probe, split: options.split)
        let finished = Set(runs.filter { $0.status == .finished }.map(\.id))
        curves = try store.metricSeries(experimentID: experiment.id, key: options.lossKey).filter { finished.contains($0.key) }
        var stepMetrics: [String: [Int64: [Metric]]] = [:]
        for key in StepMetricKey.charted where key != options.lossKey {
            stepMetrics[key] = try store.metricSeries(experimentID: experiment.id, key: key).filter { finished.contains($0.key) }
        }
        self.stepMetrics = stepMetrics
        var diagnostics: [String: [Int64: [Metric]]] = [:]
        for key in EpochDiagnosticKey.reported {
            diagnostics[key] = try store.metricSeries(experimentID: experiment.id, key: key).filter { finished.contains($0.key) }
        }
        self.diagnostics = diagnostics
        index = Self.makeIndex(rows)
        sweeps = Self.orderedSweeps(rows)
        classCount = try store.classCount(experimentID: experiment.id)
    }

    /// A report over given data (tests, previews).
    ///
    /// - Parameters:
    ///   - curves: run id → the `lossKey` metric.
    ///   - stepMetrics: metric key (``StepMetricKey/charted``) → run id → its values.
    ///   - classCount: the number of classes, when known (draws chance level in the heat-maps'
    ///     colour bars and the dose-response charts).
    public init(experiment: Experiment, runs: [Run], rows: [MatrixRow], curves: [Int64: [Metric]],
                stepMetrics: [String: [Int64: [Metric]]] = [:], diagnostics: [String: [Int64: [Metric]]] = [:],
                options: ReportOptions = ReportOptions(), classCount: Int? = nil) {
        self.experiment = experiment
        self.runs = runs
        self.rows = rows
        self.curves = curves
        self.stepMetrics = stepMetrics
        self.diagnostics = diagnostics
        self.options = options
        self.classCount = classCount
        index = Self.makeIndex(rows)
        sweeps = Self.orderedSweeps(rows)
    }

    /// The sweep points of the rows in order (``orderedSweeps(_:)``); `[""]` without a sweep.
    public let sweeps: [String]
    /// The number of classes every finished evaluation records (`evaluations.class_count`); nil
    /// when none does or they differ.
    public let classCount: Int?

    // MARK: Indexing

    struct Key: Hashable {
        var method, trainView, regularizer, protocolName, testView: String
        var sweep: String = ""
    }

    /// Key → seed → (top1, top5).
    let index: [Key: [Int: (top1: Double, top5: Double)]]

    static func makeIndex(_ rows: [MatrixRow]) -> [Key: [Int: (top1: Double, top5: Double)]] {
        var index: [Key: [Int: (top1: Double, top5: Double)]] = [:]
        for r in rows {
            let key = Key(method: r.cell.method, trainView: r.cell.trainView, regularizer: r.cell.regularizer,
                          protocolName: r.protocolName, testView: r.testView, sweep: r.cell.sweep)
            index[key, default: [:]][r.cell.seed] = (r.top1, r.top5)
        }
        return index
    }

    static func ordered(_ values: Set<String>, by order: [String]) -> [String] {
        order.filter(values.contains) + values.subtracting(order).sorted()
    }

    public var methods: [String] { Self.ordered(Set(rows.map(\.cell.method)), by: Self.methodOrder) }
    public var protocols: [String] { Self.ordered(Set(rows.map(\.protocolName)), by: Self.protocolOrder) }
    public var testViews: [String] { Self.ordered(Set(rows.map(\.testView)), by: Self.testViewOrder) }
    public func trainViews(method: String) -> [String] {
        Self.ordered(Set(rows.filter { $0.cell.method == method }.map(\.cell.trainView)), by: Self.trainViewOrder)
    }
    public func regularizers(method: String) -> [String] {
        Self.ordered(Set(rows.filter { $0.cell.method == method }.map(\.cell.regularizer)), by: [options.baseline, "icl-msr"])
    }
    /// The (train view, regularizer, sweep point) rows of a method's tables; the sweep point runs
    /// fastest (empty without a sweep).
    public func tableRows(method: String) -> [(trainView: String, regularizer: String, sweep: String)] {
        let present = Set(rows.filter { $0.cell.method == method }.map { "\($0.cell.trainView)\u{1}\($0.cell.regularizer)\u{1}\($0.cell.sweep)" })
        return trainViews(method: method).flatMap { tv in
            regularizers(method: method).flatMap { reg in
                sweeps.filter { present.contains("\(tv)\u{1}\(reg)\u{1}\($0)") }.map { (tv, reg, $0) }
            }
        }
    }
    public func hasProtocol(_ p: String, method: String) -> Bool {
        rows.contains { $0.protocolName == p && $0.cell.method == method }
    }

    // MARK: Figures

    /// Per-seed values of one accuracy.
    public func values(method: String, trainView: String, regularizer: String, protocolName: String,
                       testView: String, measure: Measure = .top1, sweep: String = "") -> [Int: Double] {
        let key = Key(method: method, trainView: trainView, regularizer: regularizer, protocolName: protocolName, testView: testView, sweep: sweep)
        return (index[key] ?? [:]).mapValues { measure == .top1 ? $0.top1 : $0.top5 }
    }

    /// Per-seed values of a gap (seeds that have both views).
    public func gapValues(method: String, trainView: String, regularizer: String, protocolName: String, gap: Gap,
                          sweep: String = "") -> [Int: Double] {
        func v(_ view: String) -> [Int: Double] {
            values(method: method, trainView: trainView, regularizer: regularizer, protocolName: protocolName, testView: view, sweep: sweep)
        }
        let accuracies = Dictionary(uniqueKeysWithValues: [gap.views.from, gap.views.minus].compactMap { $0 }.map { ($0, v($0)) })
        var out: [Int: Double] = [:]
        for seed in accuracies[gap.views.from]!.keys { out[seed] = gap.value { accuracies[$0]?[seed] } }
        return out
    }

    /// Per-seed values of a figure name: a test view or a gap (`fg-gap`, `bg-gap`).
    func figureValues(method: String, trainView: String, regularizer: String, protocolName: String, figure: String,
                      sweep: String = "") -> [Int: Double] {
        if let gap = Gap(rawValue: figure) {
            return gapValues(method: method, trainView: trainView, regularizer: regularizer, protocolName: protocolName, gap: gap, sweep: sweep)
        }
        return values(method: method, trainView: trainView, regularizer: regularizer, protocolName: protocolName, testView: figure, sweep: sweep)
    }

    /// Mean ± std over seeds of one accuracy, or nil when absent.
    public func summary(method: String, trainView: String, regularizer: String, protocolName: String,
                        testView: String, measure: Measure = .top1, sweep: String = "") -> Summary? {
        Summary(sortedValues(values(method: method, trainView: trainView, regularizer: regularizer,
                                    protocolName: protocolName, testView: testView, measure: measure, sweep: sweep)))
    }

    /// Mean ± std over seeds of a gap.
    public func gapSummary(method: String, trainView: String, regularizer: String, protocolName: String, gap: Gap,
                           sweep: String = "") -> Summary? {
        Summary(sortedValues(gapValues(method: method, trainView: trainView, regularizer: regularizer,
                                       protocolName: protocolName, gap: gap, sweep: sweep)))
    }

    func sortedValues(_ bySeed: [Int: Double]) -> [Double] { bySeed.keys.sorted().map { bySeed[$0]! } }

    /// The figures of the effect table: every test view, then fg-gap and bg-gap.
    public var effectFigures: [String] {
        let views = testViews
        var figures = views
        if views.contains("full") && views.contains("foreground") { figures.append(Gap.fg.rawValue) }
        if views.contains("mixed-same") && views.contains("mixed-random") { figures.append(Gap.bg.rawValue) }
        return figures
    }

    /// Paired per-seed deltas `treatment − baseline` (same method, train view, sweep point, seed,
    /// figure) for every non-baseline regularizer, top-1 of each protocol.
    public var effects: [EffectRow] {
        var out: [EffectRow] = []
        for method in methods {
            let treatments = regularizers(method: method).filter { $0 != options.baseline }
            guard regularizers(method: method).contains(options.baseline) else { continue }
            for treatment in treatments {
                for trainView in trainViews(method: method) {
                    for sweep in sweeps {
                        for figure in effectFigures {
                            let deltas = pairedDeltas(baseline: CellGroup(method: method, trainView: trainView, regularizer: options.baseline, sweep: sweep),
                                                      treatment: CellGroup(method: method, trainView: trainView, regularizer: treatment, sweep: sweep),
                                                      figure: figure)
                            if !deltas.isEmpty {
                                out.append(EffectRow(method: method, trainView: trainView, treatment: treatment, figure: figure, deltas: deltas, sweep: sweep))
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Protocol → the paired per-seed delta `treatment − baseline` of one figure under this
    /// report's probe, each group at its own sweep point (protocols where no seed pairs are left out).
    func pairedDeltas(baseline: CellGroup, treatment: CellGroup, figure: String) -> [String: PairedDelta] {
        var deltas: [String: PairedDelta] = [:]
        for p in protocols {
            let base = figureValues(method: baseline.method, trainView: baseline.trainView, regularizer: baseline.regularizer,
                                    protocolName: p, figure: figure, sweep: baseline.sweep)
            let treat = figureValues(method: treatment.method, trainView: treatment.trainView, regularizer: treatment.regularizer,
                                     protocolName: p, figure: figure, sweep: treatment.sweep)
            deltas[p] = PairedDelta(baseline: base, treatment: treat, level: options.confidenceLevel)
        }
        return deltas
    }

    /// Paired per-seed deltas `trained − untrained` under this report's probe: each trained row
    /// (method, train view, regularizer) against the untrained control of the same train view and
    /// seed (and sweep point), for every figure. Empty without control cells.
    public var encoderEffects: [EffectRow] {
        guard methods.contains(Self.untrained) else { return [] }
        var out: [EffectRow] = []
        for method in methods where method != Self.untrained {
            for row in tableRows(method: method) {
                for figure in effectFigures {
                    let deltas = pairedDeltas(baseline: CellGroup(method: Self.untrained, trainView: row.trainView, regularizer: options.baseline, sweep: row.sweep),
                                              treatment: CellGroup(method: method, trainView: row.trainView, regularizer: row.regularizer, sweep: row.sweep),
                                              figure: figure)
                    if !deltas.isEmpty {
                        out.append(EffectRow(method: method, trainView: row.trainView, treatment: row.regularizer, figure: figure, deltas: deltas,
                                             sweep: row.sweep))
                    }
                }
            }
        }
        return out
    }

    /// Runs by id.
    func run(_ id: Int64) -> Run? { runs.first { $0.id == id } }

    static func protocolTitle(_ p: String) -> String {
        switch p {
        case "linear": return "Linear"
        case "knn": return "kNN"
        default: return p
        }
    }
}
