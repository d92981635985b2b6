import Foundation
import ResultsStore

/// How stored claim verdicts print: `backdrop claims` (text, markdown, JSON) and the "Claims"
/// section at the top of `table.md` and `report.html`. Differences are percentage points.
public enum ClaimTable {
    /// The output formats of `backdrop claims`.
    public enum Style: String, CaseIterable, Sendable {
        case text, markdown, json
    }

    static let headers = ["claim", "metric", "comparison (treatment vs baseline)", "estimate", "95% CI", "n", "pairing", "p", "Holm p", "verdict"]

    static func cells(_ r: ClaimRecord) -> [String] {
        let estimate = r.estimate.map(Format.signedPoints) ?? "-"
        let interval = r.lower.flatMap { lo in r.upper.map { "[\(Format.signedPoints(lo)), \(Format.signedPoints($0))]" } } ?? "n/a"
        func p(_ x: Double?) -> String { x.map { $0 < 0.0001 ? "<0.0001" : String(format: "%.4f", $0) } ?? "-" }
        return [r.name, r.metric, comparison(r), estimate, interval,
                String(r.n), r.paired ? "paired" : "unpaired", p(r.pValue), p(r.adjustedP), r.verdict]
    }

    /// `simclr/full/none > untrained/full/none` (the stated direction between the two groups), or
    /// `treatment > baseline` for a row stored without group labels.
    static func comparison(_ r: ClaimRecord) -> String {
        let sign = r.direction == .greater ? ">" : "<"
        return "\(r.treatment.isEmpty ? "treatment" : r.treatment) \(sign) \(r.baseline.isEmpty ? "baseline" : r.baseline)"
    }

    static func reportTable(_ records: [ClaimRecord]) -> ReportTable {
        ReportTable(title: "Claims", headers: headers, labelColumns: 3, rows: records.map { cells($0).map(TableCell.text) }, wrapsText: true)
    }

    /// The verdict table in `style`, followed (text, markdown) by the correction note.
    public static func rendered(_ records: [ClaimRecord], style: Style) -> String {
        switch style {
        case .text:
            let result = QueryResult(columns: headers, rows: records.map { cells($0).map(QueryValue.text) })
            return result.rendered(as: .table) + "\n" + ClaimJudge.correctionNote
        case .markdown:
            return reportTable(records).markdown + "\n\n" + ClaimJudge.correctionNote
        case .json:
            return json(records)
        }
    }

    /// A JSON array: one object per claim with the raw numbers (fractions, not points).
    static func json(_ records: [ClaimRecord]) -> String {
        func real(_ x: Double?) -> QueryValue { x.map(QueryValue.real) ?? .null }
        let columns = ["name", "metric", "direction", "treatment", "baseline", "estimate", "lower", "upper", "n", "paired", "p_value", "adjusted_p", "verdict", "correction"]
        let rows: [[QueryValue]] = records.map { r in
            [.text(r.name), .text(r.metric), .text(r.direction.rawValue), .text(r.treatment), .text(r.baseline), real(r.estimate), real(r.lower), real(r.upper),
             .integer(Int64(r.n)), .integer(r.paired ? 1 : 0), real(r.pValue), real(r.adjustedP), .text(r.verdict), .text("holm")]
        }
        return QueryResult(columns: columns, rows: rows).rendered(as: .json)
    }

    /// The "Claims" section of `table.md` (empty when there are no claims).
    static func markdownSection(_ records: [ClaimRecord]) -> String {
        guard !records.isEmpty else { return "" }
        return "\n## Claims\n\n" + reportTable(records).markdown + "\n\n" + ClaimJudge.correctionNote + "\n"
    }

    /// The "Claims" section of `report.html` (nothing when there are no claims).
    static func htmlSection(_ records: [ClaimRecord]) -> [String] {
        guard !records.isEmpty else { return [] }
        return ["<h2>Claims</h2>", reportTable(records).html, "<p class=\"legend\">\(Format.html(ClaimJudge.correctionNote))</p>"]
    }
}
