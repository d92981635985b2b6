import Foundation
import ResultsStore

/// One dose-response: a figure (linear top-1 on a test view, or a gap) of a fixed-probe report
/// against the values of one swept key, over seeds, one line per cell group.
///
/// With several swept keys the other keys are held: a line per group and per value of the other
/// keys (`held`), so no point mixes cells of different sweep points.
public struct DoseResponse: Sendable, Equatable {
    /// One swept value of a line: the figure over the seeds of the cells at that point.
    public struct Point: Sendable, Equatable {
        /// The swept value as the spec wrote it (`0.9`), and as a number.
        public var value: String
        public var x: Double
        /// Mean, sample std and number of seeds of the figure (per-seed gaps for a gap).
        public var summary: Summary
        /// `mean ± t_{(1+level)/2, n−1} · sd / √n`; nil for a single seed.
        public var interval: ClosedRange<Double>?
    }

    /// One line: a cell group (method, train view, regularizer) at fixed values of the other keys.
    public struct Line: Sendable, Equatable {
        /// The legend label, e.g. `full / icl-msr · iclmsr.weight=10` (the method leads when the
        /// report has several).
        public var label: String
        public var method, trainView, regularizer: String
        /// The other swept keys' values (`k=v, k=v`); empty when one key is swept.
        public var held: String
        /// Ordered by the swept value.
        public var points: [Point]
    }

    /// The swept key on the x axis.
    public var key: String
    /// A test view (linear top-1) or a gap name (`fg-gap`, `bg-gap`).
    public var figure: String
    public var protocolName: String
    /// The probe series (`fixed:full`).
    public var probe: String
    /// Every value of the key, ordered (the x ticks).
    public var values: [String]
    public var lines: [Line]
    /// The confidence level of the intervals (0.95).
    public var level: Double

    /// Whether the figure is a gap (signed, in percentage points) rather than an accuracy.
    public var isGap: Bool { Gap(rawValue: figure) != nil }
}

extension Summary {
    /// The two-sided Student-t interval of the mean, `mean ± t_{(1+level)/2, n−1} · sd / √n`; nil
    /// when n < 2.
    public func tInterval(level: Double = 0.95) -> ClosedRange<Double>? {
        guard let sd = std, n > 1 else { return nil }
        let half = StudentT.quantile((1 + level) / 2, degreesOfFreedom: Double(n - 1)) * sd / Double(n).squareRoot()
        return (mean - half)...(mean + half)
    }
}

extension Report {
    /// The section of the dose-response tables and charts.
    static let doseResponseSection = "Dose-response"

    /// The swept keys whose every value is a finite number (the x axes of the dose-response charts).
    public var numericSweepKeys: [String] {
        sweepKeys.filter { key in
            let values = sweepValues(of: key)
            return !values.isEmpty && values.allSatisfy { Double($0)?.isFinite == true }
        }
    }

    /// Every dose-response of this report: under a fixed probe with a sweep, linear top-1 on each
    /// test view and the fg- and bg-gap (``effectFigures``) against each numeric swept key; empty
    /// otherwise (no sweep, the train-view probe, no linear evaluation).
    public func doseResponses() -> [DoseResponse] {
        guard hasSweep, case .fixed = options.probe, protocols.contains("linear") else { return [] }
        return numericSweepKeys.flatMap { key in
            effectFigures.map { doseResponse(key: key, figure: $0) }.filter { !$0.lines.isEmpty }
        }
    }

    /// `figure` (a test view: top-1; or a gap, per seed then summarized) of `protocolName` against
    /// the values of the swept `key`: one line per method × train view × regularizer × values of
    /// the other keys, one point per value with cells that have the figure.
    public func doseResponse(key: String, figure: String, protocolName: String = "linear") -> DoseResponse {
        var held: [String] = []
        var pointsByHeld: [String: [(value: String, sweep: String)]] = [:]
        for sweep in sweeps {
            let pairs = RunCell.parseSweep(sweep)
            guard let value = pairs.first(where: { $0.key == key })?.value, Double(value) != nil else { continue }
            let other = pairs.filter { $0.key != key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
            if pointsByHeld[other] == nil { held.append(other) }
            pointsByHeld[other, default: []].append((value, sweep))
        }
        let severalMethods = methods.filter { $0 != Report.untrained }.count > 1
        var lines: [DoseResponse.Line] = []
        for method in methods {
            var groups: [(trainView: String, regularizer: String)] = []
            for row in tableRows(method: method) where !groups.contains(where: { $0 == (row.trainView, row.regularizer) }) {
                groups.append((row.trainView, row.regularizer))
            }
            // The untrained control is the seed's initial encoder whatever the train view: under a
            // fixed probe its cells of every train view measure the same thing, so it is one line.
            let isControl = method == Report.untrained
            if isControl { groups = Array(groups.prefix(1)) }
            for group in groups {
                for other in held {
                    let points = (pointsByHeld[other] ?? []).compactMap { value, sweep -> DoseResponse.Point? in
                        let bySeed = figureValues(method: method, trainView: group.trainView, regularizer: group.regularizer,
                                                  protocolName: protocolName, figure: figure, sweep: sweep)
                        guard let summary = Summary(sortedValues(bySeed)), let x = Double(value) else { return nil }
                        return DoseResponse.Point(value: value, x: x, summary: summary, interval: summary.tInterval(level: options.confidenceLevel))
                    }.sorted { $0.x < $1.x }
                    guard !points.isEmpty else { continue }
                    let name = isControl ? ["untrained (control)"] : (severalMethods ? [method] : []) + ["\(group.trainView) / \(group.regularizer)"]
                    let label = (name + (other.isEmpty ? [] : [other])).joined(separator: " · ")
                    lines.append(DoseResponse.Line(label: label, method: method, trainView: group.trainView, regularizer: group.regularizer,
                                                   held: other, points: points))
                }
            }
        }
        return DoseResponse(key: key, figure: figure, protocolName: protocolName, probe: options.probe.rawValue,
                            values: sweepValues(of: key), lines: lines, level: options.confidenceLevel)
    }

    /// A dose-response's title: what is drawn against what, under which probe.
    static func doseResponseTitle(_ dose: DoseResponse) -> String {
        let what = dose.isGap ? "\(dose.figure) (pp)" : "top-1 on \(dose.figure) (%)"
        return "\(protocolTitle(dose.protocolName)) \(what) vs \(dose.key), probe \(dose.probe)"
    }

    /// The dose-response tables of `table.md` (and `table.tex`): per line and swept value, the
    /// mean, its t-interval and the number of seeds.
    func doseResponseTables() -> [ReportTable] {
        let percent = Int((options.confidenceLevel * 100).rounded())
        return doseResponses().map { (dose: DoseResponse) -> ReportTable in
            let mean: (Double) -> String = { dose.isGap ? Format.signedPoints($0) : Format.percent($0) }
            return ReportTable(
                title: "\(Self.doseResponseTitle(dose)): mean [\(percent)% t-interval] (n seeds)",
                headers: ["line", dose.key, "mean", "\(percent)% CI", "n"], labelColumns: 2,
                rows: dose.lines.flatMap { (line: DoseResponse.Line) -> [[TableCell]] in
                    line.points.map { p -> [TableCell] in
                        let ci: String = p.interval.map { "[\(mean($0.lowerBound)), \(mean($0.upperBound))]" } ?? "n/a"
                        return [.text(line.label), .text(p.value), .text(mean(p.summary.mean)), .text(ci), .count(p.summary.n)]
                    }
                })
        }
    }
}
