import Foundation

extension Report {
    /// A dose-response as an inline SVG line chart: x = the swept value (ticks at every swept
    /// value; a log scale when ``prefersLogScale(_:)``), y = the
    /// mean over seeds (accuracies on 0–100 %, gaps on a symmetric scale around a dashed 0), error
    /// bars = the t-interval, one polyline per line (dodged a few pixels sideways so bars at one
    /// value do not overlap) with its legend entry on the right, and chance
    /// level (1 / classes) as a dashed line on accuracy charts when the class count is known.
    public func doseResponseSVG(_ dose: DoseResponse) -> String {
        let (left, top, plotW, plotH) = (58.0, 34.0, 340.0, 220.0)
        let legendX = left + plotW + 20
        let longest = dose.lines.map(\.label.count).max() ?? 0
        let width = legendX + max(80, 6.2 * Double(longest) + 30)
        let height = max(top + plotH + 48, top + 18 * Double(dose.lines.count) + 16)
        let (bottom, right) = (top + plotH, left + plotW)

        // x: the swept values, padded by 6 % of the plot on each side.
        let xs = dose.values.compactMap(Double.init)
        let logScale = Self.prefersLogScale(xs)
        func tx(_ x: Double) -> Double { logScale ? log10(x) : x }
        let (lo, hi) = (xs.map(tx).min() ?? 0, xs.map(tx).max() ?? 1)
        func px(_ x: Double) -> Double {
            hi > lo ? left + plotW * (0.06 + 0.88 * (tx(x) - lo) / (hi - lo)) : left + plotW / 2
        }

        // y in percent: 0–100 for accuracies; symmetric nice ticks around a dashed 0 for gaps.
        let area = PlotArea(left: left, top: top, right: right, bottom: bottom)
        let ticks: NiceTicks
        if dose.isGap {
            let plotted: [Double] = dose.lines.flatMap(\.points).flatMap { p -> [Double] in
                [p.summary.mean, p.interval?.lowerBound ?? 0, p.interval?.upperBound ?? 0]
            }
            let bound = plotted.filter(\.isFinite).map { abs($0) * 100 }.max() ?? 0
            ticks = NiceTicks(covering: -bound, bound)
        } else {
            ticks = NiceTicks(covering: 0, 100)
        }
        let yScale = area.yScale(ticks)
        func py(_ v: Double) -> Double { yScale(v * 100) }

        let title = Self.doseResponseTitle(dose)
        var out = [SVG.open(width: width, height: height, label: title)]
        out.append(SVG.text(4, 16, title, size: 12, weight: "bold"))
        out += area.yGrid(ticks, markZero: dose.isGap) { dose.isGap && $0 > 0 ? "+" + ticks.label($0) : ticks.label($0) }
        out.append(area.outline)
        for (value, x) in zip(dose.values, dose.values.map { Double($0) ?? 0 }) {
            out.append("<line x1=\"\(SVG.n(px(x)))\" y1=\"\(SVG.n(bottom))\" x2=\"\(SVG.n(px(x)))\" y2=\"\(SVG.n(bottom + 4))\" stroke=\"#555\"/>")
            out.append(SVG.text(px(x), bottom + 15, value, anchor: "middle", size: 10, fill: "#555"))
        }
        out.append(SVG.text((left + right) / 2, bottom + 32, dose.key + (logScale ? " (log scale)" : ""), anchor: "middle", size: 11))
        out.append(area.yTitle(dose.isGap ? "\(dose.figure) (pp)" : "top-1 on \(dose.figure) (%)", offset: 44))
        if !dose.isGap, let classes = classCount, classes > 0 {
            let y = py(1 / Double(classes))
            out.append("<line x1=\"\(SVG.n(left))\" y1=\"\(SVG.n(y))\" x2=\"\(SVG.n(right))\" y2=\"\(SVG.n(y))\" stroke=\"#888\" stroke-dasharray=\"5 4\"/>")
            out.append(SVG.text(right - 4, y - 4, "chance (1/\(classes))", anchor: "end", size: 9, fill: "#777"))
        }
        if dose.lines.isEmpty { out.append(SVG.text(left + 8, top + 20, "no cells with this figure", fill: "#555")) }
        for (k, line) in dose.lines.enumerated() {
            let colour = SVG.palette[k % SVG.palette.count]
            // Lines are dodged sideways by a few pixels so that error bars at one value stay apart.
            let dx = (Double(k) - Double(dose.lines.count - 1) / 2) * min(4, 24 / Double(dose.lines.count))
            let points = line.points.map { "\(SVG.n(px($0.x) + dx)),\(SVG.n(py($0.summary.mean)))" }.joined(separator: " ")
            out.append("<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.8\" points=\"\(points)\"><title>\(Format.html(line.label))</title></polyline>")
            for p in line.points {
                let x = px(p.x) + dx
                if let ci = p.interval {
                    let (a, b) = (py(ci.lowerBound), py(ci.upperBound))
                    out.append("<line x1=\"\(SVG.n(x))\" y1=\"\(SVG.n(a))\" x2=\"\(SVG.n(x))\" y2=\"\(SVG.n(b))\" stroke=\"\(colour)\" stroke-width=\"1.2\"/>")
                    for y in [a, b] {
                        out.append("<line x1=\"\(SVG.n(x - 4))\" y1=\"\(SVG.n(y))\" x2=\"\(SVG.n(x + 4))\" y2=\"\(SVG.n(y))\" stroke=\"\(colour)\" stroke-width=\"1.2\"/>")
                    }
                }
                let mean = dose.isGap ? Format.signedPoints(p.summary.mean) : Format.percent(p.summary.mean)
                let ci = p.interval.map { " [\(Format.percent($0.lowerBound)), \(Format.percent($0.upperBound))]" } ?? ""
                out.append("<circle cx=\"\(SVG.n(x))\" cy=\"\(SVG.n(py(p.summary.mean)))\" r=\"3\" fill=\"\(colour)\"><title>"
                           + Format.html("\(line.label), \(dose.key)=\(p.value): \(mean)\(ci) (n \(p.summary.n))") + "</title></circle>")
            }
            let ly = top + 8 + 18 * Double(k)
            out.append("<line x1=\"\(SVG.n(legendX))\" y1=\"\(SVG.n(ly))\" x2=\"\(SVG.n(legendX + 18))\" y2=\"\(SVG.n(ly))\" stroke=\"\(colour)\" stroke-width=\"2\"/>")
            out.append(SVG.text(legendX + 24, ly + 4, line.label, size: 11))
        }
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }

    /// Whether swept values read better on a log axis: all positive, spanning a factor of 10 or
    /// more, and more evenly spaced in log10 than linearly (smallest/largest gap between
    /// neighbours). `[0.1, 1, 10]` is; `[0.1, 0.5, 0.9, 1.0]` (a probability) is not — on a log
    /// axis its last two values would nearly coincide.
    static func prefersLogScale(_ values: [Double]) -> Bool {
        let xs = Array(Set(values)).sorted()
        guard let first = xs.first, let last = xs.last, first > 0, last / first >= 10 else { return false }
        if xs.count == 2 { return true }
        func evenness(_ ys: [Double]) -> Double {
            let gaps = zip(ys.dropFirst(), ys).map { $0 - $1 }
            return (gaps.min() ?? 0) / (gaps.max() ?? 1)
        }
        return evenness(xs.map(log10)) > evenness(xs)
    }
}
