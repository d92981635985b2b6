import Foundation
import ResultsStore

/// The per-epoch stratum–background check in a report (`evaluation.epochDiagnostics`; the
/// metric rows `diag_*` that `Harness.EpochDiagnostics` writes at the last step of a measured
/// epoch).
public enum EpochDiagnosticKey {
    /// Top-1 on the test split's `only-background` view under the fixed probe.
    public static let backgroundReliance = "diag_background_reliance"
    /// Top-1 on the test split's `full` view under the same probe.
    public static let fullAccuracy = "diag_full_accuracy"
    /// NMI(argmax stratum, background family) of the train images (ICL-MSR cells only).
    public static let stratumBackground = "diag_stratum_background_nmi"
    /// NMI(argmax stratum, class): the control.
    public static let stratumClass = "diag_stratum_class_nmi"

    /// The keys a report reads, in the order of its table's columns.
    public static let reported = [backgroundReliance, fullAccuracy, stratumBackground, stratumClass]
}

/// One cell group's value of one key after one epoch, over its seeds.
public struct EpochBand: Sendable, Equatable {
    /// Epochs completed (the metric row's 0-based epoch + 1).
    public var epoch: Int
    public var mean: Double
    public var min: Double
    public var max: Double
    public var n: Int
}

extension Report {
    /// A group of cells that differ only by seed.
    public struct CellGroup: Hashable, Sendable {
        public var method, trainView, regularizer: String
        /// The sweep point (`key=value,…`); empty without a sweep.
        public var sweep: String = ""
        var label: String { "\(method) · \(trainView) · \(regularizer)" + (sweep.isEmpty ? "" : " · \(sweep)") }

        /// Whether `run` is one of the group's seeds.
        func contains(_ run: Run) -> Bool {
            run.cell.method == method && run.cell.trainView == trainView && run.cell.regularizer == regularizer && run.cell.sweep == sweep
        }
    }

    /// Whether any finished run recorded the stratum–background check.
    public var hasEpochDiagnostics: Bool { !(diagnostics[EpochDiagnosticKey.backgroundReliance]?.isEmpty ?? true) }

    /// The groups that recorded `key`, in the report's method / train view / regularizer order.
    func diagnosticGroups(_ key: String) -> [CellGroup] {
        orderedGroups(ofRuns: Set((diagnostics[key] ?? [:]).filter { !$0.value.isEmpty }.keys))
    }

    /// The groups of the runs `ids`, in report order.
    func orderedGroups(ofRuns ids: Set<Int64>) -> [CellGroup] {
        orderedGroups(of: Set(runs.filter { ids.contains($0.id) }.map { CellGroup(method: $0.cell.method, trainView: $0.cell.trainView, regularizer: $0.cell.regularizer, sweep: $0.cell.sweep) }))
    }

    /// `groups` in the report's method / train view / regularizer order, then by sweep point.
    func orderedGroups(of groups: Set<CellGroup>) -> [CellGroup] {
        groups.sorted { a, b in
            func rank(_ g: CellGroup) -> [Int] {
                [Self.methodOrder.firstIndex(of: g.method) ?? 99, Self.trainViewOrder.firstIndex(of: g.trainView) ?? 99,
                 [options.baseline, "icl-msr"].firstIndex(of: g.regularizer) ?? 99]
            }
            let (ra, rb) = (rank(a), rank(b))
            if ra != rb { return ra.lexicographicallyPrecedes(rb) }
            if (a.method, a.trainView, a.regularizer) != (b.method, b.trainView, b.regularizer) {
                return (a.method, a.trainView, a.regularizer) < (b.method, b.trainView, b.regularizer)
            }
            return Self.sweepPrecedes(a.sweep, b.sweep)
        }
    }

    /// Mean, min and max over the group's seeds of `key` at each measured epoch.
    public func epochBands(_ key: String, group: CellGroup) -> [EpochBand] {
        var byEpoch: [Int: [Double]] = [:]
        for run in runs where group.contains(run) {
            for m in diagnostics[key]?[run.id] ?? [] where m.value.isFinite { byEpoch[m.epoch + 1, default: []].append(m.value) }
        }
        return byEpoch.keys.sorted().map { e in
            let v = byEpoch[e]!
            return EpochBand(epoch: e, mean: v.reduce(0, +) / Double(v.count), min: v.min()!, max: v.max()!, n: v.count)
        }
    }

    /// Background reliance per epoch: one panel per method × train view, one colour per
    /// regularizer; solid = `only-background` top-1, dashed = `full` top-1 under the same fixed
    /// probe; line = mean over seeds, band = min–max.
    public func backgroundRelianceSVG() -> String {
        epochPanelsSVG(title: "Background reliance per epoch: fixed-probe top-1 on only-background (solid) and full (dashed) test images",
                       yLabel: "top-1 (%)", range: 0...1, tickLabel: { String(format: "%.0f", $0 * 100) },
                       series: [(EpochDiagnosticKey.backgroundReliance, false), (EpochDiagnosticKey.fullAccuracy, true)])
    }

    /// Stratum alignment per epoch (ICL-MSR groups): solid = NMI(argmax stratum, background family),
    /// dashed = NMI(argmax stratum, class), mean over seeds with the min–max band.
    public func stratumAlignmentSVG() -> String {
        epochPanelsSVG(title: "Stratum alignment per epoch: NMI with the background family (solid) and with the class (dashed)",
                       yLabel: "NMI", range: 0...1, tickLabel: { String(format: "%.2g", $0) },
                       series: [(EpochDiagnosticKey.stratumBackground, false), (EpochDiagnosticKey.stratumClass, true)])
    }

    /// Panels of per-epoch bands: the groups that recorded `series[0]`, one panel per method ×
    /// train view, a colour per regularizer, one line style per series.
    func epochPanelsSVG(title: String, yLabel: String, range: ClosedRange<Double>, tickLabel: (Double) -> String,
                        series: [(key: String, dashed: Bool)]) -> String {
        let groups = diagnosticGroups(series[0].key)
        var panels: [(method: String, trainView: String)] = []
        for g in groups where !panels.contains(where: { $0 == (g.method, g.trainView) }) { panels.append((g.method, g.trainView)) }
        // Colours follow the regularizers of the reliance chart, so both charts colour a regularizer alike.
        let colours = Self.ordered(Set((diagnosticGroups(EpochDiagnosticKey.backgroundReliance) + groups).map(\.regularizer)),
                                   by: [options.baseline, "icl-msr"])
        func colour(_ regularizer: String) -> String { SVG.palette[(colours.firstIndex(of: regularizer) ?? 0) % SVG.palette.count] }
        let regs = colours.filter { r in groups.contains { $0.regularizer == r } }
        let (pw, ph, cols) = (340.0, 220.0, 2)
        let width = pw * Double(cols) + 10
        let height = 46 + ph * Double(max(1, (panels.count + cols - 1) / cols))
        var out = [SVG.open(width: width, height: height, label: title)]
        out.append(SVG.text(4, 16, title, size: 12, weight: "bold"))
        out += SVG.legendRow(regs.map { ($0, colour($0)) })
        if panels.isEmpty { out.append(SVG.text(4, 70, "no \(series[0].key) metrics recorded", fill: "#555")) }
        for (p, panel) in panels.enumerated() {
            let ox = Double(p % cols) * pw, oy = 46 + Double(p / cols) * ph
            let area = PlotArea(left: ox + 48, top: oy + 22, right: ox + pw - 12, bottom: oy + ph - 34)
            let inPanel = groups.filter { $0.method == panel.method && $0.trainView == panel.trainView }
            let bands = inPanel.flatMap { g in series.map { s in (g, s, epochBands(s.key, group: g)) } }
            let epochs = bands.flatMap { $0.2.map(\.epoch) }
            let yTicks = NiceTicks(covering: range.lowerBound, range.upperBound)
            let xTicks = NiceTicks(covering: 0, Double(max(1, epochs.max() ?? 1)), minimumStep: 1)
            let (xScale, yScale) = (area.xScale(xTicks), area.yScale(yTicks))
            func px(_ e: Int) -> Double { xScale(Double(e)) }
            func py(_ v: Double) -> Double { yScale(v) }
            out.append(SVG.text(area.left, oy + 14, "\(panel.method), train \(panel.trainView)", size: 12, weight: "bold"))
            out += area.yGrid(yTicks, label: tickLabel)
            out += area.xGrid(xTicks, label: xTicks.label)
            out.append(area.outline)
            out.append(area.xTitle("epoch"))
            out.append(area.yTitle(yLabel, offset: 36))
            for (group, s, points) in bands where !points.isEmpty {
                let color = colour(group.regularizer)
                let upper = points.map { "\(SVG.n(px($0.epoch))),\(SVG.n(py($0.max)))" }
                let lower = points.reversed().map { "\(SVG.n(px($0.epoch))),\(SVG.n(py($0.min)))" }
                out.append("<polygon points=\"\((upper + lower).joined(separator: " "))\" fill=\"\(color)\" fill-opacity=\"0.15\" stroke=\"none\"/>")
                let line = points.map { "\(SVG.n(px($0.epoch))),\(SVG.n(py($0.mean)))" }.joined(separator: " ")
                let dash = s.dashed ? " stroke-dasharray=\"5 3\"" : ""
                out.append("<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.6\"\(dash) points=\"\(line)\"><title>\(Format.html("\(group.label): \(s.key)"))</title></polyline>")
                for pt in points {
                    out.append("<circle cx=\"\(SVG.n(px(pt.epoch)))\" cy=\"\(SVG.n(py(pt.mean)))\" r=\"2\" fill=\"\(color)\"/>")
                }
            }
        }
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }

    /// `table.md`'s per-epoch table: each group's mean over seeds (n) of every reported key (with
    /// a sweep, one column per swept key after the regularizer).
    public var epochDiagnosticsMarkdown: String {
        let groups = diagnosticGroups(EpochDiagnosticKey.backgroundReliance)
        let keys = Self.sweepKeys(of: groups.map(\.sweep))
        let sweepHeader = keys.map { " \($0) |" }.joined(), sweepRule = String(repeating: "---|", count: keys.count)
        var lines = ["| method | train view | regularizer |\(sweepHeader) epoch | only-bg top-1 | full top-1 | NMI stratum–bg | NMI stratum–class | seeds |",
                     "|---|---|---|\(sweepRule)---:|---:|---:|---:|---:|---:|"]
        for g in groups {
            let bands = EpochDiagnosticKey.reported.map { key in Dictionary(uniqueKeysWithValues: epochBands(key, group: g).map { ($0.epoch, $0) }) }
            for epoch in bands[0].keys.sorted() {
                let cells = bands.enumerated().map { i, b -> String in
                    guard let v = b[epoch] else { return "-" }
                    return i < 2 ? Format.percent(v.mean) : String(format: "%.3f", v.mean)
                }
                let sweep = Self.sweepFields(g.sweep, keys: keys).map { " \($0) |" }.joined()
                lines.append("| \(g.method) | \(g.trainView) | \(g.regularizer) |\(sweep) \(epoch) | " + cells.joined(separator: " | ") + " | \(bands[0][epoch]!.n) |")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// How to read the check, once above its figures.
    static let epochDiagnosticsGuide = "Measured at the end of every N-th epoch without changing training. Background reliance: a linear probe "
        + "fitted on the train split's fixed probe view (full by default), read on the test split's only-background images (the object "
        + "filled, the background kept) and on its full images; chance is 1/classes, and only-background close to full means the "
        + "read-out works from the background alone. Stratum alignment (ICL-MSR cells on the built-in dataset): every train image gets "
        + "the stratum its compared vector is closest to (cosine); NMI with the background family near 1 means the strata sort images by "
        + "background, NMI with the class is the control (a stratum that follows the class is not a background stratum). "
        + "Lines: mean over seeds; bands: min to max."
}
