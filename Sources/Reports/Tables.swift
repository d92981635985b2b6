import Foundation
import ResultsStore

/// Number formatting shared by every output: fractions shown as percentages with one decimal.
enum Format {
    /// `0.9351` → `93.5` (no sign; `-0.0` shows as `0.0`).
    static func percent(_ x: Double) -> String {
        let s = String(format: "%.1f", x * 100)
        return s == "-0.0" ? "0.0" : s
    }

    /// `0.023` → `+2.3`, `-0.004` → `-0.4`, `0` → `+0.0` (percentage points).
    static func signedPoints(_ x: Double) -> String {
        let s = percent(x)
        return s.hasPrefix("-") ? s : "+" + s
    }

    /// `93.5 ± 1.2 (3)`, or `93.5 (1)` for a single seed.
    static func summary(_ s: Summary?, signed: Bool = false) -> String {
        guard let s else { return "-" }
        let mean = signed ? signedPoints(s.mean) : percent(s.mean)
        guard let std = s.std else { return "\(mean) (\(s.n))" }
        return "\(mean) ± \(percent(std)) (\(s.n))"
    }

    /// `+2.3 [-0.4, +5.0]`, or `+2.3 [n/a]` without an interval.
    static func delta(_ d: PairedDelta?) -> String {
        guard let d else { return "-" }
        guard let ci = d.interval else { return "\(signedPoints(d.summary.mean)) [n/a]" }
        return "\(signedPoints(d.summary.mean)) [\(signedPoints(ci.lowerBound)), \(signedPoints(ci.upperBound))]"
    }

    /// `+2.3 [-0.4, +5.0] (3)`, or `+2.3 (1)` for a single pair: the delta and its number of pairs.
    static func deltaWithCount(_ d: PairedDelta) -> String {
        (d.interval == nil ? signedPoints(d.summary.mean) : delta(d)) + " (\(d.summary.n))"
    }

    static func html(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func tex(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "\\": out += "\\textbackslash{}"
            case "_", "%", "&", "#", "$", "{", "}": out += "\\\(ch)"
            case "~": out += "\\textasciitilde{}"
            case "^": out += "\\textasciicircum{}"
            case "±": out += "$\\pm$"
            case "Δ": out += "$\\Delta$"
            case "−": out += "$-$"
            case "·": out += "$\\cdot$"
            case "√": out += "$\\surd$"
            default: out.append(ch)
            }
        }
        return out
    }

    /// One CSV field (RFC 4180): quoted, with quotes doubled, when it holds a comma, a quote or a
    /// line break.
    static func csv(_ s: String) -> String {
        s.contains(where: { ",\"\n\r".contains($0) }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    /// One CSV record: the fields quoted as needed and joined by commas (no line break).
    static func csvLine(_ fields: [String]) -> String { fields.map(csv).joined(separator: ",") }
}

/// A table cell: plain text or a number that each format typesets its own way.
enum TableCell {
    case text(String)
    case summary(Summary?, signed: Bool)
    case delta(PairedDelta?)
    case count(Int?)

    var plain: String {
        switch self {
        case .text(let s): return s
        case .summary(let s, let signed): return Format.summary(s, signed: signed)
        case .delta(let d): return Format.delta(d)
        case .count(let n): return n.map(String.init) ?? "-"
        }
    }

    var tex: String {
        switch self {
        case .text(let s): return Format.tex(s)
        case .summary(let s, let signed):
            guard let s else { return "--" }
            let mean = signed ? Format.signedPoints(s.mean) : Format.percent(s.mean)
            guard let std = s.std else { return "$\(mean)$ (\(s.n))" }
            return "$\(mean) \\pm \(Format.percent(std))$ (\(s.n))"
        case .delta(let d):
            guard let d else { return "--" }
            guard let ci = d.interval else { return "$\(Format.signedPoints(d.summary.mean))$ [n/a]" }
            return "$\(Format.signedPoints(d.summary.mean))$ [$\(Format.signedPoints(ci.lowerBound))$, $\(Format.signedPoints(ci.upperBound))$]"
        case .count(let n): return n.map(String.init) ?? "--"
        }
    }

    var isNumeric: Bool {
        if case .text = self { return false }
        return true
    }
}

/// A titled table rendered to Markdown, HTML and LaTeX (booktabs).
struct ReportTable {
    var title: String
    var headers: [String]
    /// Leading text columns (left-aligned); the rest are right-aligned numbers.
    var labelColumns: Int
    var rows: [[TableCell]]
    /// HTML: let the text columns wrap (tables whose sentences would overflow the page).
    var wrapsText = false

    var markdown: String {
        var lines = ["| " + headers.joined(separator: " | ") + " |"]
        lines.append("|" + headers.indices.map { $0 < labelColumns ? "---|" : "---:|" }.joined())
        for row in rows { lines.append("| " + row.map(\.plain).joined(separator: " | ") + " |") }
        return lines.joined(separator: "\n")
    }

    var html: String {
        var out = wrapsText ? "<table class=\"wrap\">\n<thead><tr>" : "<table>\n<thead><tr>"
        for (i, h) in headers.enumerated() { out += "<th\(i < labelColumns ? "" : " class=\"num\"")>\(Format.html(h))</th>" }
        out += "</tr></thead>\n<tbody>\n"
        for row in rows {
            out += "<tr>"
            for (i, cell) in row.enumerated() { out += "<td\(i < labelColumns ? "" : " class=\"num\"")>\(Format.html(cell.plain))</td>" }
            out += "</tr>\n"
        }
        return out + "</tbody>\n</table>"
    }

    var latex: String {
        let spec = String(repeating: "l", count: labelColumns) + String(repeating: "r", count: headers.count - labelColumns)
        var lines = [
            "\\begin{table}[ht]", "\\centering", "\\caption{\(Format.tex(title))}", "\\begin{tabular}{\(spec)}", "\\toprule",
            headers.map(Format.tex).joined(separator: " & ") + " \\\\", "\\midrule",
        ]
        for row in rows { lines.append(row.map(\.tex).joined(separator: " & ") + " \\\\") }
        lines += ["\\bottomrule", "\\end{tabular}", "\\end{table}"]
        return lines.joined(separator: "\n")
    }
}

extension Report {
    /// The accuracy table of one method: rows train view × regularizer, columns test views.
    func accuracyTable(method: String, protocolName: String, measure: Measure) -> ReportTable {
        let label = measure == .top1 ? "top-1" : "top-5"
        let views = testViews
        return ReportTable(
            title: "\(method): \(Self.protocolTitle(protocolName)) \(label) accuracy (%), mean ± std (n seeds)",
            headers: ["train view", "regularizer"] + sweepKeys + views, labelColumns: 2 + sweepKeys.count,
            rows: tableRows(method: method).map { row in
                [.text(row.trainView), .text(row.regularizer)] + sweepCells(row.sweep) + views.map { view in
                    .summary(summary(method: method, trainView: row.trainView, regularizer: row.regularizer,
                                     protocolName: protocolName, testView: view, measure: measure, sweep: row.sweep), signed: false)
                }
            })
    }

    /// The gap table of one method and protocol (top-1, percentage points).
    func gapTable(method: String, protocolName: String) -> ReportTable {
        ReportTable(
            title: "\(method): \(Self.protocolTitle(protocolName)) top-1 gaps (pp), mean ± std (n seeds)",
            headers: ["train view", "regularizer"] + sweepKeys + ["fg-gap", "bg-gap", "only-bg acc"], labelColumns: 2 + sweepKeys.count,
            rows: tableRows(method: method).map { row in
                [.text(row.trainView), .text(row.regularizer)] + sweepCells(row.sweep) + Gap.allCases.map { gap in
                    .summary(gapSummary(method: method, trainView: row.trainView, regularizer: row.regularizer,
                                        protocolName: protocolName, gap: gap, sweep: row.sweep), signed: gap != .onlyBackground)
                }
            })
    }

    /// The paired-effect table: one row per method × train view × figure.
    func effectTable() -> ReportTable {
        let protocols = self.protocols
        var headers = ["method", "train view"] + sweepKeys + ["effect", "figure"]
        for p in protocols { headers += ["\(Self.protocolTitle(p)) top-1 Δ (pp) [\(Int((options.confidenceLevel * 100).rounded()))% CI]", "n"] }
        return ReportTable(
            title: "Regularizer effect: paired per-seed deltas vs \(options.baseline) (pp), \(Int((options.confidenceLevel * 100).rounded()))% t-interval",
            headers: headers, labelColumns: 4 + sweepKeys.count,
            rows: effects.map { e in
                [.text(e.method), .text(e.trainView)] + sweepCells(e.sweep) + [.text("\(e.treatment) − \(options.baseline)"), .text(e.figure)]
                    + protocols.flatMap { p -> [TableCell] in [.delta(e.deltas[p]), .count(e.deltas[p]?.summary.n)] }
            })
    }

    /// The encoder-effect table: trained − untrained (same probe, train view and seed).
    func encoderEffectTable() -> ReportTable {
        let protocols = self.protocols
        var headers = ["method", "train view", "regularizer"] + sweepKeys + ["figure"]
        for p in protocols { headers += ["\(Self.protocolTitle(p)) top-1 Δ (pp) [\(Int((options.confidenceLevel * 100).rounded()))% CI]", "n"] }
        return ReportTable(
            title: "Encoder effect: trained − untrained encoder of the same seed (pp), \(options.probe.title), "
                + "\(Int((options.confidenceLevel * 100).rounded()))% t-interval",
            headers: headers, labelColumns: 4 + sweepKeys.count,
            rows: encoderEffects.map { e in
                [.text(e.method), .text(e.trainView), .text(e.treatment)] + sweepCells(e.sweep) + [.text(e.figure)]
                    + protocols.flatMap { p -> [TableCell] in [.delta(e.deltas[p]), .count(e.deltas[p]?.summary.n)] }
            })
    }

    /// Whether the top-k tables say anything: not when k reaches the number of classes (every
    /// evaluation's `top_k` ≥ the class count), where top-k accuracy is 100% by construction.
    /// Unknown class count: shown.
    var showsTopK: Bool {
        guard let classes = classCount else { return true }
        return rows.contains { $0.topK < classes }
    }

    /// Every table of the report, in reading order, grouped by method (the effect tables last).
    func tables() -> [(section: String, tables: [ReportTable])] {
        var sections: [(String, [ReportTable])] = []
        for method in methods {
            var tables: [ReportTable] = []
            for p in protocols where hasProtocol(p, method: method) {
                tables.append(accuracyTable(method: method, protocolName: p, measure: .top1))
                if p == "linear" && showsTopK { tables.append(accuracyTable(method: method, protocolName: p, measure: .top5)) }
            }
            for p in protocols where hasProtocol(p, method: method) { tables.append(gapTable(method: method, protocolName: p)) }
            sections.append((method, tables))
        }
        if !encoderEffects.isEmpty { sections.append(("Encoder effect", [encoderEffectTable()])) }
        if !effects.isEmpty { sections.append(("Regularizer effect", [effectTable()])) }
        let dose = doseResponseTables()
        if !dose.isEmpty { sections.append((Self.doseResponseSection, dose)) }
        return sections
    }

    var finishedRuns: Int { runs.filter { $0.status == .finished }.count }

    /// One line saying what the numbers are.
    var legend: String {
        "Accuracies in %, mean ± sample std over seeds, (n) = number of seeds; gaps and deltas in percentage points (pp). "
            + "Probe series `\(options.probe.rawValue)`: \(options.probe.title); split: \(options.split). "
            + "Deltas pair runs with the same seed, method and train view\(hasSweep ? " at the same sweep point" : ""); "
            + "intervals are mean ± t(0.975, n−1)·sd/√n."
    }

    var header: String {
        "Experiment `\(experiment.name)` (id \(experiment.id), spec sha256 \(experiment.specSHA256.prefix(12))): "
            + "\(finishedRuns) of \(runs.count) runs finished."
    }

    /// `table.md` of this probe series alone.
    public var markdown: String {
        "# Backdrop results: \(experiment.name)\n\n\(header)\n\n\(legend)\n" + markdownSections(level: 2)
    }

    /// The sections (`level` hashes) and their tables (one more), or a line saying there is nothing.
    func markdownSections(level: Int) -> String {
        let h = String(repeating: "#", count: level)
        var out = ""
        for (section, tables) in tables() {
            out += "\n\(h) \(section)\n"
            for table in tables { out += "\n\(h)# \(table.title)\n\n\(table.markdown)\n" }
        }
        if rows.isEmpty { out += "\nNo finished run has evaluations yet.\n" }
        return out
    }

    /// `table.tex`: booktabs tables (needs `\usepackage{booktabs}`).
    public var latex: String {
        var out = "% Backdrop results: \(Format.tex(experiment.name)); needs \\usepackage{booktabs}\n"
        for (_, tables) in tables() { for table in tables { out += "\n" + table.latex + "\n" } }
        return out
    }

    /// `table.csv`: one tidy row per figure, numbers in % (points for gaps and deltas), one decimal.
    ///
    /// Columns: `section` (accuracy | gap | effect), `method`, `train_view`, `regularizer`
    /// (`icl-msr - none` for effects), `protocol`, `measure` (top1 | top5), `figure` (a test view
    /// or a gap), `mean`, `std`, `n`, `ci_low`, `ci_high`. With a sweep, one column per swept key
    /// (named by the key, holding the cell's value) follows `regularizer`.
    public var csv: String {
        let keys = sweepKeys.map(Format.csv).joined(separator: ",")
        var lines = ["section,method,train_view,regularizer," + (keys.isEmpty ? "" : keys + ",") + "protocol,measure,figure,mean,std,n,ci_low,ci_high"]
        func line(_ fields: [String]) { lines.append(Format.csvLine(fields)) }
        func nums(_ s: Summary?) -> [String] {
            guard let s else { return ["", "", ""] }
            return [Format.percent(s.mean), s.std.map(Format.percent) ?? "", String(s.n)]
        }
        for method in methods {
            for p in protocols where hasProtocol(p, method: method) {
                for row in tableRows(method: method) {
                    for measure in Measure.allCases {
                        for view in testViews {
                            guard let s = summary(method: method, trainView: row.trainView, regularizer: row.regularizer,
                                                  protocolName: p, testView: view, measure: measure, sweep: row.sweep) else { continue }
                            line(["accuracy", method, row.trainView, row.regularizer] + sweepFields(row.sweep) + [p, measure.rawValue, view]
                                 + nums(s) + ["", ""])
                        }
                    }
                    for gap in Gap.allCases {
                        guard let s = gapSummary(method: method, trainView: row.trainView, regularizer: row.regularizer,
                                                 protocolName: p, gap: gap, sweep: row.sweep) else { continue }
                        line(["gap", method, row.trainView, row.regularizer] + sweepFields(row.sweep) + [p, "top1", gap.rawValue] + nums(s) + ["", ""])
                    }
                }
            }
        }
        let tables: [(section: String, rows: [EffectRow], label: (EffectRow) -> String)] = [
            ("effect", effects, { "\($0.treatment) - \(self.options.baseline)" }),
            ("encoder-effect", encoderEffects, { "\($0.treatment) - \(Self.untrained)" }),
        ]
        for (section, rows, label) in tables {
            for e in rows {
                for p in protocols {
                    guard let d = e.deltas[p] else { continue }
                    line([section, e.method, e.trainView, label(e)] + sweepFields(e.sweep) + [p, "top1", e.figure]
                         + nums(d.summary) + [d.interval.map { Format.percent($0.lowerBound) } ?? "",
                                              d.interval.map { Format.percent($0.upperBound) } ?? ""])
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
