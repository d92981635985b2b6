import Foundation

// Axis arithmetic and drawing shared by the report's charts: "nice" tick values (1, 2 or 5 × 10ᵏ
// apart), linear maps from data to pixels, and the light grid, tick labels and axis titles
// around a plot area. Every chart draws its axes with these, so they all look and read alike.

/// Tick values 1, 2 or 5 × 10ᵏ apart that cover a data range, first and last tick outside or on
/// the data (so the axis ends on labelled values).
struct NiceTicks: Equatable {
    /// The ticks, ascending, `step` apart.
    let values: [Double]
    let step: Double

    /// Ticks covering `lo...hi` with about `target` intervals (the smallest nice step at least
    /// `(hi − lo) / target`, and at least `minimumStep`: 1 for whole numbers such as steps). A
    /// zero-width range is widened by 10 % of its value each way (± 1 around 0); non-finite
    /// bounds give 0...1.
    init(covering lo: Double, _ hi: Double, target: Int = 5, minimumStep: Double = 0) {
        var (lo, hi) = lo.isFinite && hi.isFinite ? (min(lo, hi), max(lo, hi)) : (0, 1)
        if hi == lo {
            let pad = lo == 0 ? 1 : abs(lo) * 0.1
            (lo, hi) = (lo - pad, hi + pad)
        }
        let rough = (hi - lo) / Double(max(1, target))
        let magnitude = pow(10, floor(log10(rough)))
        let step = max(minimumStep, ([1.0, 2, 5, 10].first { $0 * magnitude >= rough * (1 - 1e-9) } ?? 10) * magnitude)
        let first = Int(floor(lo / step + 1e-9)), last = Int(ceil(hi / step - 1e-9))
        self.step = step
        values = (first...max(first + 1, last)).map { Double($0) * step }
    }

    var domain: ClosedRange<Double> { values[0]...values[values.count - 1] }

    /// A tick's label with as many decimals as the step needs (`0.25` → 2); steps below 10⁻⁴ in
    /// scientific notation (`3.0e-04`), whole thousands of a step of 1000 or more as `20k`.
    func label(_ value: Double) -> String {
        if abs(value) < step * 1e-6 { return "0" }
        if step >= 1000, (value / 1000).rounded() == value / 1000 { return String(format: "%.0fk", value / 1000) }
        let decimals = max(0, Int(-floor(log10(step) + 1e-9)))
        if decimals > 4 {
            let largest = values.map(abs).max() ?? abs(value)
            let mantissa = max(0, Int(floor(log10(largest) + 1e-9) - floor(log10(step) + 1e-9)))
            return String(format: "%.\(mantissa)e", value)
        }
        return String(format: "%.\(decimals)f", value)
    }
}

/// A linear map from a data domain onto a pixel interval (`from` is where the domain's lower
/// bound lands; pass the bottom pixel as `from` for an upward y axis). Values outside the domain
/// are clamped to its edge; non-finite values land on the lower bound.
struct LinearScale {
    var domain: ClosedRange<Double>
    var from: Double, to: Double

    func callAsFunction(_ value: Double) -> Double {
        let v = value.isFinite ? min(max(value, domain.lowerBound), domain.upperBound) : domain.lowerBound
        let width = domain.upperBound - domain.lowerBound
        return width > 0 ? from + (v - domain.lowerBound) / width * (to - from) : (from + to) / 2
    }
}

/// A plot area in SVG pixels and the axis pieces drawn around it.
struct PlotArea {
    var left, top, right, bottom: Double

    var width: Double { right - left }
    var height: Double { bottom - top }
    var centreX: Double { (left + right) / 2 }
    var centreY: Double { (top + bottom) / 2 }

    /// The x scale of `ticks` across the area.
    func xScale(_ ticks: NiceTicks) -> LinearScale { LinearScale(domain: ticks.domain, from: left, to: right) }
    /// The y scale of `ticks` up the area.
    func yScale(_ ticks: NiceTicks) -> LinearScale { LinearScale(domain: ticks.domain, from: bottom, to: top) }

    static let gridColour = "#e8e8e8", labelColour = "#555", zeroColour = "#444"

    /// The thin grey outline of the area.
    var outline: String {
        "<rect x=\"\(SVG.n(left))\" y=\"\(SVG.n(top))\" width=\"\(SVG.n(width))\" height=\"\(SVG.n(height))\" fill=\"none\" stroke=\"#bbb\"/>"
    }

    /// Horizontal grid lines at the y ticks with their labels left of the area; with
    /// `markZero`, the line at 0 dark and dashed.
    func yGrid(_ ticks: NiceTicks, markZero: Bool = false, label: (Double) -> String) -> [String] {
        let y = yScale(ticks)
        return ticks.values.flatMap { v -> [String] in
            let zero = markZero && abs(v) < ticks.step * 1e-6
            return [Self.line(left, y(v), right, y(v), zero: zero), SVG.text(left - 4, y(v) + 3.5, label(v), anchor: "end", size: 9, fill: Self.labelColour)]
        }
    }

    /// Vertical grid lines at the x ticks with their labels under the area; with `markZero`,
    /// the line at 0 dark and dashed.
    func xGrid(_ ticks: NiceTicks, markZero: Bool = false, label: (Double) -> String) -> [String] {
        let x = xScale(ticks)
        return ticks.values.flatMap { v -> [String] in
            let zero = markZero && abs(v) < ticks.step * 1e-6
            return [Self.line(x(v), top, x(v), bottom, zero: zero), SVG.text(x(v), bottom + 12, label(v), anchor: "middle", size: 9, fill: Self.labelColour)]
        }
    }

    /// The x axis title, centred under the tick labels.
    func xTitle(_ title: String) -> String { SVG.text(centreX, bottom + 25, title, anchor: "middle", size: 10, fill: Self.labelColour) }

    /// The y axis title, rotated, centred `offset` px left of the area.
    func yTitle(_ title: String, offset: Double = 40) -> String {
        let (x, y) = (left - offset, centreY)
        return "<text x=\"\(SVG.n(x))\" y=\"\(SVG.n(y))\" font-size=\"10\" text-anchor=\"middle\" fill=\"\(Self.labelColour)\" "
            + "transform=\"rotate(-90 \(SVG.n(x)) \(SVG.n(y)))\">\(Format.html(title))</text>"
    }

    static func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, zero: Bool = false) -> String {
        "<line x1=\"\(SVG.n(x1))\" y1=\"\(SVG.n(y1))\" x2=\"\(SVG.n(x2))\" y2=\"\(SVG.n(y2))\" stroke=\"\(zero ? zeroColour : gridColour)\""
            + (zero ? " stroke-dasharray=\"4 3\"" : "") + "/>"
    }
}
