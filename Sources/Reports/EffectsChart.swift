import Foundation
import ResultsStore

extension Report {
    /// The paired regularizer effects (top-1 of `protocolName`, treatment − baseline, paired by
    /// seed) as an interval chart: one row per comparison — method, train view (and sweep point)
    /// → test view or gap — with the mean difference as a large dot, its per-comparison
    /// t-interval as whiskers (red when it excludes 0), and each seed's difference as a small dot
    /// just under it. A note under the axis says how many comparisons the chart holds and that
    /// the intervals are not corrected for multiplicity.
    public func effectsSVG(protocolName: String = "linear") -> String {
        let items = effects.compactMap { e in e.deltas[protocolName].map { (row: e, delta: $0) } }
        let treatments = Self.ordered(Set(items.map(\.row.treatment)), by: ["icl-msr"])
        let labels = items.map { Self.effectLabel($0.row, namingTreatment: treatments.count > 1) }
        let level = Int((options.confidenceLevel * 100).rounded())
        let longest = labels.map(\.count).max() ?? 0
        let (left, top, rowH, plotW) = (max(160, 6.4 * Double(longest) + 16), 52.0, 24.0, 420.0)
        let area = PlotArea(left: left, top: top - 10, right: left + plotW, bottom: top + rowH * Double(max(items.count, 1)) + 4)
        let width = area.right + 40
        let height = area.bottom + 68
        // The axis, in percentage points, symmetric around 0 and wide enough for every seed's difference.
        let plotted: [Double] = items.flatMap { item -> [Double] in
            let d = item.delta
            return [d.summary.mean, d.interval?.lowerBound ?? 0, d.interval?.upperBound ?? 0] + d.deltas
        }
        let bound = plotted.filter(\.isFinite).map { abs($0) * 100 }.max() ?? 0
        let ticks = NiceTicks(covering: -bound, bound, target: 6)
        let x = area.xScale(ticks)
        let contrast = treatments.count == 1 ? "\(treatments[0]) − \(options.baseline)" : "regularizer − \(options.baseline)"
        let title = "\(Self.protocolTitle(protocolName)) top-1: regularizer effect \(contrast), paired by seed (pp), \(level)% CI"
        var out = [SVG.open(width: width, height: height, label: title)]
        out.append(SVG.text(4, 16, title, size: 13, weight: "bold"))
        out += area.xGrid(ticks, markZero: true) { $0 > 0 ? "+" + ticks.label($0) : ticks.label($0) }
        out.append(area.xTitle("\(contrast), top-1 (percentage points)"))
        if items.isEmpty { out.append(SVG.text(left, top + 12, "no paired runs", fill: "#555")) }
        for (i, item) in items.enumerated() {
            let d = item.delta
            let y = top + rowH * Double(i) + rowH / 2 - 3
            let colour = d.interval.map { $0.lowerBound > 0 || $0.upperBound < 0 } == true ? "#c0392b" : "#2c3e50"
            out.append(SVG.text(left - 8, y + 4, labels[i], anchor: "end", size: 11))
            if let ci = d.interval {
                let (a, b) = (x(ci.lowerBound * 100), x(ci.upperBound * 100))
                out.append("<line x1=\"\(SVG.n(a))\" y1=\"\(SVG.n(y))\" x2=\"\(SVG.n(b))\" y2=\"\(SVG.n(y))\" stroke=\"\(colour)\" stroke-width=\"1.5\"/>")
                for end in [a, b] {
                    out.append("<line x1=\"\(SVG.n(end))\" y1=\"\(SVG.n(y - 5))\" x2=\"\(SVG.n(end))\" y2=\"\(SVG.n(y + 5))\" stroke=\"\(colour)\" stroke-width=\"1.5\"/>")
                }
            }
            for (seedIndex, delta) in d.deltas.enumerated() where delta.isFinite {
                out.append("<circle class=\"seed\" cx=\"\(SVG.n(x(delta * 100)))\" cy=\"\(SVG.n(y + 7))\" r=\"1.8\" fill=\"\(colour)\" fill-opacity=\"0.55\">"
                           + "<title>\(Format.html("pair \(seedIndex + 1) of \(d.deltas.count): \(Format.signedPoints(delta))"))</title></circle>")
            }
            out.append("<circle cx=\"\(SVG.n(x(d.summary.mean * 100)))\" cy=\"\(SVG.n(y))\" r=\"4\" fill=\"\(colour)\"><title>\(Format.html("\(labels[i]): \(Format.delta(d)) (n \(d.summary.n))"))</title></circle>")
        }
        let count = items.count == 1 ? "1 comparison" : "\(items.count) comparisons"
        out.append(SVG.text(4, area.bottom + 44, "\(count); intervals are per-comparison \(level)% t-intervals, not corrected for multiplicity.", size: 10, fill: "#555"))
        out.append(SVG.text(4, area.bottom + 58, "Large dot: mean over seeds; small dots under it: each seed's difference; red: the interval excludes 0.", size: 10, fill: "#555"))
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }

    /// How an effect row reads: `simclr · train full → test foreground` (a gap: `→ fg-gap`), the
    /// sweep point after the train view, the treatment first when a chart holds several.
    static func effectLabel(_ row: EffectRow, namingTreatment: Bool) -> String {
        let figure = Gap(rawValue: row.figure) == nil ? "test \(row.figure)" : row.figure
        return "\(row.method) · " + (namingTreatment ? "\(row.treatment) · " : "") + "train \(row.trainView)"
            + (row.sweep.isEmpty ? "" : " · \(sweepTitle(row.sweep))") + " → \(figure)"
    }
}
