import Foundation
import ResultsStore

/// Inline SVG charts of a report. Coordinates are printed with one decimal so the output is
/// byte-stable.
enum SVG {
    static func n(_ x: Double) -> String {
        let s = String(format: "%.1f", x)
        return s == "-0.0" ? "0.0" : s
    }

    /// The legend row under a chart's title: a short line in each colour and its label, 120 px apart.
    static func legendRow(_ entries: [(label: String, colour: String)]) -> [String] {
        entries.enumerated().flatMap { k, entry -> [String] in
            let x = 4 + Double(k) * 120
            return ["<line x1=\"\(n(x))\" y1=\"32\" x2=\"\(n(x + 18))\" y2=\"32\" stroke=\"\(entry.colour)\" stroke-width=\"2\"/>",
                    text(x + 22, 36, entry.label, size: 11)]
        }
    }

    static func text(_ x: Double, _ y: Double, _ s: String, anchor: String = "start", size: Int = 11,
                     fill: String = "#222", weight: String? = nil) -> String {
        "<text x=\"\(n(x))\" y=\"\(n(y))\" font-size=\"\(size)\" text-anchor=\"\(anchor)\" fill=\"\(fill)\""
            + (weight.map { " font-weight=\"\($0)\"" } ?? "") + ">\(Format.html(s))</text>"
    }

    static func open(width: Double, height: Double, label: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(n(width))\" height=\"\(n(height))\" viewBox=\"0 0 \(n(width)) \(n(height))\" "
            + "font-family=\"Helvetica, Arial, sans-serif\" role=\"img\" aria-label=\"\(Format.html(label))\">"
    }

    /// A sequential blue scale (ColorBrewer "Blues") for t in [0, 1].
    static func blues(_ t: Double) -> String {
        let stops: [(Double, Double, Double)] = [(247, 251, 255), (198, 219, 239), (107, 174, 214), (33, 113, 181), (8, 48, 107)]
        // A non-finite t (from a hand-edited database) draws as the lowest stop instead of trapping.
        let x = (t.isFinite ? min(max(t, 0), 1) : 0) * Double(stops.count - 1)
        let i = min(Int(x), stops.count - 2)
        let f = x - Double(i)
        let (a, b) = (stops[i], stops[i + 1])
        func c(_ u: Double, _ v: Double) -> String {
            let hex = String(Int((u + (v - u) * f).rounded()), radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }
        return "#" + c(a.0, b.0) + c(a.1, b.1) + c(a.2, b.2)
    }

    static let palette = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1"]
}

extension Report {
    /// The matrix of one method and protocol as a heat-map: rows train view × regularizer,
    /// columns test views, colour = mean top-1 on a fixed 0–100 % scale, labels mean and std.
    public func heatmapSVG(method: String, protocolName: String = "linear") -> String {
        let views = testViews
        let rowsOfTable = tableRows(method: method)
        let longestRow = rowsOfTable.map { "\($0.trainView) / \($0.regularizer) / \(Self.sweepTitle($0.sweep))".count }.max() ?? 0
        let (left, top, cw, ch) = (hasSweep ? max(170, 6.2 * Double(longestRow) + 16) : 170.0, 44.0, 112.0, 40.0)
        let width = left + cw * Double(views.count) + 10
        let height = top + ch * Double(rowsOfTable.count) + 28
        let title = "\(method): \(Self.protocolTitle(protocolName)) top-1 (%)"
        var out = [SVG.open(width: width, height: height, label: title)]
        out.append(SVG.text(4, 16, title, size: 13, weight: "bold"))
        for (j, view) in views.enumerated() {
            out.append(SVG.text(left + cw * (Double(j) + 0.5), top - 8, view, anchor: "middle"))
        }
        for (i, row) in rowsOfTable.enumerated() {
            let y = top + ch * Double(i)
            let rowLabel = "\(row.trainView) / \(row.regularizer)" + (row.sweep.isEmpty ? "" : " / \(Self.sweepTitle(row.sweep))")
            out.append(SVG.text(left - 8, y + ch / 2 + 4, rowLabel, anchor: "end"))
            for (j, view) in views.enumerated() {
                let x = left + cw * Double(j)
                let s = summary(method: method, trainView: row.trainView, regularizer: row.regularizer,
                                protocolName: protocolName, testView: view, sweep: row.sweep)
                let fill = s.map { SVG.blues($0.mean) } ?? "#eeeeee"
                out.append("<rect x=\"\(SVG.n(x))\" y=\"\(SVG.n(y))\" width=\"\(SVG.n(cw - 2))\" height=\"\(SVG.n(ch - 2))\" fill=\"\(fill)\"><title>\(Format.html("\(row.trainView)/\(row.regularizer)\(row.sweep.isEmpty ? "" : "/" + Self.sweepTitle(row.sweep)) on \(view): \(Format.summary(s))"))</title></rect>")
                if let s {
                    let ink = s.mean > 0.55 ? "#ffffff" : "#111111"
                    out.append(SVG.text(x + cw / 2 - 1, y + 17, Format.percent(s.mean), anchor: "middle", size: 13, fill: ink, weight: "bold"))
                    out.append(SVG.text(x + cw / 2 - 1, y + 31, s.std.map { "± \(Format.percent($0)) (\(s.n))" } ?? "(\(s.n))",
                                        anchor: "middle", size: 10, fill: ink))
                }
            }
        }
        out.append(SVG.text(4, height - 8, "colour: 0 % (white) to 100 % (dark blue)", size: 10, fill: "#555"))
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }

    /// Training curves of `options.lossKey`: one panel per method × train view, one line per
    /// run (colour = regularizer), averaged into at most `maxCurvePoints` points.
    public func lossCurvesSVG() -> String {
        struct Panel { var method, trainView: String; var runs: [Run] }
        var panels: [Panel] = []
        let finished = runs.filter { $0.status == .finished && !(curves[$0.id]?.isEmpty ?? true) }
        let methodNames = Self.ordered(Set(finished.map(\.cell.method)), by: Self.methodOrder)
        for method in methodNames {
            let views = Self.ordered(Set(finished.filter { $0.cell.method == method }.map(\.cell.trainView)), by: Self.trainViewOrder)
            for view in views {
                let rs = finished.filter { $0.cell.method == method && $0.cell.trainView == view }
                    .sorted { ($0.cell.regularizer, $0.cell.seed) < ($1.cell.regularizer, $1.cell.seed) }
                panels.append(Panel(method: method, trainView: view, runs: rs))
            }
        }
        let regs = Self.ordered(Set(finished.map(\.cell.regularizer)), by: [options.baseline, "icl-msr"])
        let (pw, ph, cols) = (340.0, 210.0, 2)
        let rowsCount = max(1, (panels.count + cols - 1) / cols)
        let width = pw * Double(cols) + 10
        let height = 46 + ph * Double(rowsCount)
        let title = "Training \(options.lossKey) per cell (one line per seed)"
        var out = [SVG.open(width: width, height: height, label: title)]
        out.append(SVG.text(4, 16, title, size: 13, weight: "bold"))
        out += SVG.legendRow(regs.enumerated().map { ($1, SVG.palette[$0 % SVG.palette.count]) })
        if panels.isEmpty { out.append(SVG.text(4, 70, "no \(options.lossKey) metrics recorded", fill: "#555")) }
        for (p, panel) in panels.enumerated() {
            let ox = Double(p % cols) * pw, oy = 46 + Double(p / cols) * ph
            let (l, r, t, b) = (ox + 48, ox + pw - 12, oy + 22, oy + ph - 30)
            let series = panel.runs.map { run in (run, downsample(curves[run.id] ?? [], to: options.maxCurvePoints)) }
            let points = series.flatMap { $0.1 }.filter { $0.value.isFinite }
            guard let minStep = points.map(\.step).min(), let maxStep = points.map(\.step).max(),
                  let lo = points.map(\.value).min(), let hi = points.map(\.value).max() else { continue }
            let xSpan = Double(max(1, maxStep - minStep)), ySpan = hi > lo ? hi - lo : 1
            func px(_ s: Double) -> Double { l + (s - Double(minStep)) / xSpan * (r - l) }
            func py(_ v: Double) -> Double { b - (v - lo) / ySpan * (b - t) }
            out.append(SVG.text(ox + 48, oy + 14, "\(panel.method), train \(panel.trainView)", size: 12, weight: "bold"))
            out.append("<rect x=\"\(SVG.n(l))\" y=\"\(SVG.n(t))\" width=\"\(SVG.n(r - l))\" height=\"\(SVG.n(b - t))\" fill=\"none\" stroke=\"#bbb\"/>")
            out.append(SVG.text(l - 4, t + 4, String(format: "%.3g", hi), anchor: "end", size: 9, fill: "#555"))
            out.append(SVG.text(l - 4, b, String(format: "%.3g", lo), anchor: "end", size: 9, fill: "#555"))
            out.append(SVG.text(l, b + 12, String(format: "%.0f", minStep), anchor: "start", size: 9, fill: "#555"))
            out.append(SVG.text(r, b + 12, String(format: "%.0f", maxStep), anchor: "end", size: 9, fill: "#555"))
            out.append(SVG.text((l + r) / 2, b + 24, "step", anchor: "middle", size: 9, fill: "#555"))
            for (run, pts) in series {
                let color = SVG.palette[(regs.firstIndex(of: run.cell.regularizer) ?? 0) % SVG.palette.count]
                let d = pts.filter { $0.value.isFinite }.map { "\(SVG.n(px($0.step))),\(SVG.n(py($0.value)))" }.joined(separator: " ")
                out.append("<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.3\" stroke-opacity=\"0.85\" points=\"\(d)\"><title>\(Format.html(run.cellKey))</title></polyline>")
            }
        }
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }

    /// Bucket means of a curve: at most `count` points (step = bucket mean step).
    func downsample(_ metrics: [Metric], to count: Int) -> [(step: Double, value: Double)] {
        let finite = metrics.filter { $0.value.isFinite }
        guard finite.count > count, count > 0 else { return finite.map { (Double($0.step), $0.value) } }
        var out: [(step: Double, value: Double)] = []
        for b in 0..<count {
            let lo = b * finite.count / count, hi = (b + 1) * finite.count / count
            guard hi > lo else { continue }
            let slice = finite[lo..<hi]
            out.append((slice.map { Double($0.step) }.reduce(0, +) / Double(slice.count),
                        slice.map(\.value).reduce(0, +) / Double(slice.count)))
        }
        return out
    }

    /// The paired regularizer effects (top-1 of `protocolName`) as an error-bar chart: one row per
    /// method × train view × figure, dot = mean delta, whiskers = confidence interval.
    public func effectsSVG(protocolName: String = "linear") -> String {
        let items = effects.compactMap { e in e.deltas[protocolName].map { (e, $0) } }
        let labels = items.map { e, _ in
            "\(e.method) · \(e.trainView) · \(e.treatment)" + (e.sweep.isEmpty ? "" : " · \(Self.sweepTitle(e.sweep))") + " · \(e.figure)"
        }
        let longest = labels.map(\.count).max() ?? 0
        let (left, right, top, rowH) = (max(160, 6.4 * Double(longest) + 16), 40.0, 52.0, 22.0)
        let plotW = 420.0
        let width = left + plotW + right
        let height = top + rowH * Double(max(items.count, 1)) + 40
        let bound = items.flatMap { [$0.1.summary.mean, $0.1.interval?.lowerBound ?? 0, $0.1.interval?.upperBound ?? 0] }
            .map(abs).max() ?? 0
        let steps: [Double] = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1]
        let scale = steps.first { $0 >= bound } ?? 1
        func px(_ v: Double) -> Double { left + (v + scale) / (2 * scale) * plotW }
        let title = "\(Self.protocolTitle(protocolName)) top-1: paired delta vs \(options.baseline) (pp), \(Int((options.confidenceLevel * 100).rounded()))% CI"
        var out = [SVG.open(width: width, height: height, label: title)]
        out.append(SVG.text(4, 16, title, size: 13, weight: "bold"))
        let axisY = top + rowH * Double(max(items.count, 1)) + 6
        for tick in [-scale, -scale / 2, 0, scale / 2, scale] {
            out.append("<line x1=\"\(SVG.n(px(tick)))\" y1=\"\(SVG.n(top - 10))\" x2=\"\(SVG.n(px(tick)))\" y2=\"\(SVG.n(axisY))\" stroke=\"\(tick == 0 ? "#444" : "#ddd")\"\(tick == 0 ? " stroke-dasharray=\"4 3\"" : "")/>")
            out.append(SVG.text(px(tick), axisY + 14, tick == 0 ? "0" : Format.signedPoints(tick), anchor: "middle", size: 10, fill: "#555"))
        }
        if items.isEmpty { out.append(SVG.text(left, top + 12, "no paired runs", fill: "#555")) }
        for (i, (_, d)) in items.enumerated() {
            let y = top + rowH * Double(i) + rowH / 2
            let color = d.interval.map { $0.lowerBound > 0 || $0.upperBound < 0 } == true ? "#c0392b" : "#2c3e50"
            out.append(SVG.text(left - 8, y + 4, labels[i], anchor: "end", size: 11))
            if let ci = d.interval {
                let (a, b) = (px(max(-scale, ci.lowerBound)), px(min(scale, ci.upperBound)))
                out.append("<line x1=\"\(SVG.n(a))\" y1=\"\(SVG.n(y))\" x2=\"\(SVG.n(b))\" y2=\"\(SVG.n(y))\" stroke=\"\(color)\" stroke-width=\"1.5\"/>")
                for x in [a, b] {
                    out.append("<line x1=\"\(SVG.n(x))\" y1=\"\(SVG.n(y - 5))\" x2=\"\(SVG.n(x))\" y2=\"\(SVG.n(y + 5))\" stroke=\"\(color)\" stroke-width=\"1.5\"/>")
                }
            }
            out.append("<circle cx=\"\(SVG.n(px(d.summary.mean)))\" cy=\"\(SVG.n(y))\" r=\"4\" fill=\"\(color)\"><title>\(Format.html("\(Format.delta(d)) (n \(d.summary.n))"))</title></circle>")
        }
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }
}
