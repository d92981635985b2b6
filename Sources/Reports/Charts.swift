import Foundation

/// Drawing primitives of a report's inline SVG charts (the charts themselves: `HeatmapChart`,
/// `EffectsChart`, `TrainingCurvesChart`, `DoseResponseChart`, the per-epoch panels; their axes:
/// `ChartAxes`). Coordinates are printed with one decimal so the output is byte-stable.
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

    /// Line dash patterns told apart at a glance (solid first); `nil` is solid.
    static let dashes: [String?] = [nil, "6 3", "2 2", "8 3 2 3"]

    /// ` stroke-dasharray="…"` for a dash pattern, empty for solid.
    static func dashAttribute(_ dash: String?) -> String { dash.map { " stroke-dasharray=\"\($0)\"" } ?? "" }

    /// A legend row at height `y`: a short line sample (colour and dash) and its label per entry,
    /// spaced by the labels' lengths.
    static func legend(_ entries: [(label: String, colour: String, dash: String?)], x: Double = 4, y: Double) -> [String] {
        var elements: [String] = [], cursor = x
        for entry in entries {
            elements.append("<line x1=\"\(n(cursor))\" y1=\"\(n(y))\" x2=\"\(n(cursor + 22))\" y2=\"\(n(y))\" stroke=\"\(entry.colour)\" stroke-width=\"2\"\(dashAttribute(entry.dash))/>")
            elements.append(text(cursor + 26, y + 4, entry.label, size: 11))
            cursor += 26 + 6.4 * Double(entry.label.count) + 18
        }
        return elements
    }
}
