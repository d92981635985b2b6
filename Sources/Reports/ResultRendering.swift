import Foundation
import ResultsStore

/// How a ``QueryResult`` is printed (`--format` of `backdrop query`, `runs`, `matrix`, `compare`).
public enum ResultFormat: String, CaseIterable, Sendable {
    /// Aligned text columns, a dashed rule under the header and a `(n rows)` line.
    case table
    /// RFC 4180 CSV: a header line, fields quoted when they hold a comma, quote or line break.
    case csv
    /// A pretty-printed JSON array of objects (column → value, keys sorted).
    case json
}

extension QueryResult {
    /// The result as an aligned text table, CSV or a JSON array of objects.
    ///
    /// Values print as ``QueryValue/description`` (NULL as empty text) in the table and CSV; JSON
    /// keeps their types (`null`, integers, reals, strings; blobs as `x'…'` text). No trailing
    /// newline.
    ///
    /// - Parameter format: ``ResultFormat/table``, ``ResultFormat/csv`` or ``ResultFormat/json``.
    public func rendered(as format: ResultFormat) -> String {
        switch format {
        case .table: return textTable
        case .csv: return ([columns] + rows.map { $0.map(\.description) }).map(Format.csvLine).joined(separator: "\n")
        case .json: return json
        }
    }

    private var textTable: String {
        let cells = [columns] + rows.map { $0.map(\.description) }
        var widths = columns.map { _ in 0 }
        for row in cells { for (i, c) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
        func line(_ row: [String]) -> String {
            row.enumerated().map { i, c in c + String(repeating: " ", count: widths[i] - c.count) }
                .joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        var out = [line(columns), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")]
        out += rows.map { line($0.map(\.description)) }
        out.append("(\(rows.count) row\(rows.count == 1 ? "" : "s"))")
        return out.joined(separator: "\n")
    }

    private var json: String {
        let objects: [[String: Any]] = rows.map { row in
            var object: [String: Any] = [:]
            for (column, value) in zip(columns, row) { object[column] = value.jsonValue }
            return object
        }
        let data = (try? JSONSerialization.data(withJSONObject: objects, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])) ?? Data("[]".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

/// Timestamps as the tables print them: UTC, `2026-12-02 21:13` (or with `:05` seconds).
enum UTCTime {
    static func string(_ date: Date, seconds: Bool) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = seconds ? "yyyy-MM-dd HH:mm:ss" : "yyyy-MM-dd HH:mm"
        return f.string(from: date)
    }
}
