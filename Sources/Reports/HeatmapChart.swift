import Foundation

extension Report {
    /// The matrix of one method and protocol as a heat-map: rows train view × regularizer (×
    /// sweep point), columns test views; colour = mean top-1 over seeds on a fixed 0–100 % scale
    /// (the same for every heat-map, so colours compare across methods and protocols), cell labels
    /// mean and ± std (n seeds). Under the grid a colour bar shows the scale with ticks every 20 %
    /// and, when the class count is known, chance level (100 % / classes) marked on it.
    public func heatmapSVG(method: String, protocolName: String = "linear") -> String {
        let views = testViews
        let rowsOfTable = tableRows(method: method)
        let longestRow = rowsOfTable.map { "\($0.trainView) / \($0.regularizer) / \(Self.sweepTitle($0.sweep))".count }.max() ?? 0
        let (left, top, cw, ch) = (hasSweep ? max(170, 6.2 * Double(longestRow) + 16) : 170.0, 44.0, 112.0, 40.0)
        let gridBottom = top + ch * Double(rowsOfTable.count)
        let width = max(left + cw * Double(views.count) + 10, left + Self.colourBarWidth + 30)
        let height = gridBottom + 56
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
                out.append("<rect x=\"\(SVG.n(x))\" y=\"\(SVG.n(y))\" width=\"\(SVG.n(cw - 2))\" height=\"\(SVG.n(ch - 2))\" fill=\"\(fill)\"><title>\(Format.html("\(rowLabel) on \(view): \(Format.summary(s))"))</title></rect>")
                if let s {
                    let ink = s.mean > 0.55 ? "#ffffff" : "#111111"
                    out.append(SVG.text(x + cw / 2 - 1, y + 17, Format.percent(s.mean), anchor: "middle", size: 13, fill: ink, weight: "bold"))
                    out.append(SVG.text(x + cw / 2 - 1, y + 31, s.std.map { "± \(Format.percent($0)) (\(s.n))" } ?? "(\(s.n))",
                                        anchor: "middle", size: 10, fill: ink))
                }
            }
        }
        out += heatmapColourBar(left: left, top: gridBottom + 8)
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }

    static let colourBarWidth = 360.0

    /// The heat-map's colour scale: 50 steps of 2 % from 0 to 100 %, ticks every 20 % under it,
    /// its title left of it, and chance level (when the class count is known) as a dark mark
    /// across the bar labelled above it.
    func heatmapColourBar(left: Double, top: Double) -> [String] {
        let area = PlotArea(left: left, top: top + 18, right: left + Self.colourBarWidth, bottom: top + 28)
        let ticks = NiceTicks(covering: 0, 100)
        let x = area.xScale(ticks)
        var out = [SVG.text(area.left - 8, area.bottom - 1, "top-1 (%)", anchor: "end", size: 10, fill: PlotArea.labelColour)]
        let steps = 50
        for k in 0..<steps {
            let (a, b) = (100 * Double(k) / Double(steps), 100 * Double(k + 1) / Double(steps))
            // Each step overlaps the next by half a pixel so that no hairline gap shows between them.
            out.append("<rect x=\"\(SVG.n(x(a)))\" y=\"\(SVG.n(area.top))\" width=\"\(SVG.n(x(b) - x(a) + (k + 1 < steps ? 0.5 : 0)))\" "
                       + "height=\"\(SVG.n(area.height))\" fill=\"\(SVG.blues((a + b) / 200))\"/>")
        }
        out.append(area.outline)
        for v in ticks.values {
            out.append("<line x1=\"\(SVG.n(x(v)))\" y1=\"\(SVG.n(area.bottom))\" x2=\"\(SVG.n(x(v)))\" y2=\"\(SVG.n(area.bottom + 3))\" stroke=\"#555\"/>")
            out.append(SVG.text(x(v), area.bottom + 13, ticks.label(v), anchor: "middle", size: 9, fill: PlotArea.labelColour))
        }
        if let classes = classCount, classes > 0 {
            let chance = 100 / Double(classes), cx = x(chance)
            out.append("<line x1=\"\(SVG.n(cx))\" y1=\"\(SVG.n(area.top - 3))\" x2=\"\(SVG.n(cx))\" y2=\"\(SVG.n(area.bottom + 3))\" stroke=\"#c0392b\" stroke-width=\"2\"/>")
            out.append(SVG.text(cx, area.top - 6, "chance \(Self.percentLabel(chance)) % (1/\(classes))", anchor: cx + 120 < area.right ? "start" : "end",
                                size: 9, fill: "#c0392b"))
        }
        return out
    }

    /// A percentage with one decimal, or none when it is whole (`10`, `2.5`, `33.3`).
    static func percentLabel(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(format: "%.0f", rounded) : String(format: "%.1f", rounded)
    }
}
