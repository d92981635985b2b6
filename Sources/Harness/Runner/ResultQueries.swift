import Foundation
import Reports
import ResultsStore

/// How query results are printed.
public enum ResultFormat: String, CaseIterable, Sendable {
    case table, csv, json
}

/// Read-only questions to the results database behind `backdrop query`, `runs`, `matrix` and
/// `compare`. Every function opens the file with `SQLITE_OPEN_READONLY` through the store's
/// guarded query API, so none of them can change the database.
public enum ResultQueries {
    /// Any single read-only statement (a write is refused with `ResultsStoreError.notReadOnly`).
    public static func query(database: String, sql: String) throws -> QueryResult {
        try ResultsDatabase.readOnlyQuery(path: database, sql: sql)
    }

    /// The experiment `name` (latest of that name), or the latest experiment.
    static func experimentID(database: String, name: String?) throws -> (id: Int64, name: String) {
        let store = try ResultsDatabase(path: database, mode: .readOnly)
        let e = try store.resolveExperiment(name)
        return (e.id, e.name)
    }

    /// One line per run of the experiment: cell, status, attempts, duration, error.
    public static func runs(database: String, experiment: String?) throws -> QueryResult {
        let e = try experimentID(database: database, name: experiment)
        return try query(database: database, sql: """
            SELECT r.id, r.cell_key, r.status, r.attempts,
                   CAST(ROUND(COALESCE(r.finished_at, r.heartbeat_at) - r.started_at) AS INTEGER) AS seconds,
                   r.bad_samples, substr(r.config_sha256, 1, 12) AS config, substr(r.git_commit, 1, 10) AS git,
                   r.git_dirty AS dirty, COALESCE(r.error, '') AS error
            FROM runs r WHERE r.experiment_id = \(e.id) ORDER BY r.id
            """)
    }

    /// The matrix: rows method × train view × regularizer × protocol, one column per test view
    /// holding `mean ± std (n)` of top-1 (percent) over seeds.
    public static func matrix(database: String, experiment: String?, probe: ProbeSeries = .trainView) throws -> QueryResult {
        let e = try experimentID(database: database, name: experiment)
        let raw = try query(database: database, sql: """
            SELECT method, train_view, regularizer, protocol, test_view, seed, top1 FROM matrix_series
            WHERE experiment_id = \(e.id) AND probe = '\(probe.rawValue)' AND split = 'test'
            ORDER BY method, train_view, CASE regularizer WHEN 'none' THEN 0 ELSE 1 END, regularizer, protocol, test_view, seed
            """)
        let views = orderedViews(raw.rows.map { $0[4].description })
        var groups: [[String]: [String: [Double]]] = [:]
        var order: [[String]] = []
        for row in raw.rows {
            let key = [row[0], row[1], row[2], row[3]].map(\.description)
            if groups[key] == nil { order.append(key) }
            groups[key, default: [:]][row[4].description, default: []].append(row[6].double)
        }
        let rows: [[QueryValue]] = order.map { key in
            key.map { QueryValue.text($0) } + views.map { view in
                guard let xs = groups[key]?[view], !xs.isEmpty else { return .null }
                return .text(Statistics.describe(xs))
            }
        }
        return QueryResult(columns: ["method", "train_view", "regularizer", "protocol"] + views, rows: rows)
    }

    /// Paired comparison along one axis (`regularizer`, `train_view` or `method`): per group of
    /// the other coordinates and test view, the mean top-1 of each value and the mean paired
    /// per-seed difference (later value − first value) with its t-based 95% interval.
    public static func compare(database: String, experiment: String?, by axis: String, probe: ProbeSeries = .trainView) throws -> QueryResult {
        let axes = ["regularizer", "train_view", "method"]
        guard axes.contains(axis) else {
            throw SpecError(location: "--by", key: "by", message: "cannot compare by '\(axis)'; use \(axes.joined(separator: ", "))")
        }
        let others = axes.filter { $0 != axis }
        let e = try experimentID(database: database, name: experiment)
        let raw = try query(database: database, sql: """
            SELECT \(others.joined(separator: ", ")), protocol, test_view, \(axis), seed, top1 FROM matrix_series
            WHERE experiment_id = \(e.id) AND probe = '\(probe.rawValue)' AND split = 'test'
            ORDER BY \(others.joined(separator: ", ")), protocol, test_view, \(axis), seed
            """)
        var values: [String] = []
        for row in raw.rows where !values.contains(row[4].description) { values.append(row[4].description) }
        if axis == "regularizer", let i = values.firstIndex(of: "none") { values.insert(values.remove(at: i), at: 0) }
        var order: [[String]] = []
        var table: [[String]: [String: [Int64: Double]]] = [:]
        for row in raw.rows {
            let key = (0..<4).map { row[$0].description }
            if table[key] == nil { order.append(key) }
            table[key, default: [:]][row[4].description, default: [:]][row[5].integer] = row[6].double
        }
        order.sort { a, b in
            a[0..<3] != b[0..<3] ? a.lexicographicallyPrecedes(b) : viewRank(a[3]) < viewRank(b[3])
        }
        guard let base = values.first else {
            return QueryResult(columns: others + ["protocol", "test_view"], rows: [])
        }
        var columns = others + ["protocol", "test_view"] + values.map { "\($0) top1" }
        for v in values.dropFirst() { columns.append("Δ \(v) − \(base) [95% CI] (n)") }
        let rows: [[QueryValue]] = order.map { key in
            let byValue = table[key] ?? [:]
            var row = key.map { QueryValue.text($0) }
            for v in values {
                let xs = Array((byValue[v] ?? [:]).values)
                row.append(xs.isEmpty ? .null : .text(Statistics.describe(xs)))
            }
            for v in values.dropFirst() {
                let delta = Statistics.pairedDelta(baseline: byValue[base] ?? [:], treatment: byValue[v] ?? [:])
                row.append(delta.map { .text($0) } ?? .null)
            }
            return row
        }
        return QueryResult(columns: columns, rows: rows)
    }

    static let viewOrder = ["full", "foreground", "only-background", "mixed-same", "mixed-random"]
    static func viewRank(_ v: String) -> Int { viewOrder.firstIndex(of: v) ?? viewOrder.count }
    static func orderedViews(_ views: [String]) -> [String] {
        Array(Set(views)).sorted { (viewRank($0), $0) < (viewRank($1), $1) }
    }

    // MARK: Rendering

    /// Renders a result as an aligned text table, CSV (RFC 4180 quoting) or a JSON array of
    /// objects (column → value).
    public static func render(_ result: QueryResult, as format: ResultFormat) -> String {
        switch format {
        case .table:
            let cells = [result.columns] + result.rows.map { $0.map(\.description) }
            var widths = result.columns.map { _ in 0 }
            for row in cells { for (i, c) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
            func line(_ row: [String]) -> String {
                row.enumerated().map { i, c in c + String(repeating: " ", count: widths[i] - c.count) }
                    .joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
            }
            var out = [line(result.columns), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")]
            out += result.rows.map { line($0.map(\.description)) }
            out.append("(\(result.rows.count) row\(result.rows.count == 1 ? "" : "s"))")
            return out.joined(separator: "\n")
        case .csv:
            func field(_ s: String) -> String {
                s.contains(where: { ",\"\n\r".contains($0) }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
            }
            return ([result.columns] + result.rows.map { $0.map(\.description) }).map { $0.map(field).joined(separator: ",") }
                .joined(separator: "\n")
        case .json:
            let objects: [[String: Any]] = result.rows.map { row in
                var o: [String: Any] = [:]
                for (c, v) in zip(result.columns, row) { o[c] = v.jsonValue }
                return o
            }
            let data = (try? JSONSerialization.data(withJSONObject: objects, options: [.prettyPrinted, .sortedKeys])) ?? Data("[]".utf8)
            return String(decoding: data, as: UTF8.self)
        }
    }
}

extension QueryValue {
    var double: Double {
        switch self {
        case .integer(let v): return Double(v)
        case .real(let v): return v
        case .text(let s): return Double(s) ?? .nan
        default: return .nan
        }
    }

    var integer: Int64 {
        switch self {
        case .integer(let v): return v
        case .real(let v): return Int64(v)
        case .text(let s): return Int64(s) ?? 0
        default: return 0
        }
    }
}

/// Formatting of the canned comparisons (percent, one decimal), on the statistics of `Reports`
/// (one implementation of the summary and the Student-t interval for every output).
enum Statistics {
    static func pct(_ x: Double) -> String { String(format: "%.1f", 100 * x) }

    /// `93.5 ± 1.2 (3)`.
    static func describe(_ xs: [Double]) -> String {
        guard let s = Summary(xs) else { return "" }
        return "\(pct(s.mean))\(s.std.map { " ± \(pct($0))" } ?? "") (\(s.n))"
    }

    /// `+2.1 [−0.4, +4.6] (3)`: mean of the per-seed differences `treatment − baseline` and the
    /// t-based 95% interval; nil when no seed is in both.
    static func pairedDelta(baseline: [Int64: Double], treatment: [Int64: Double]) -> String? {
        let bySeed = { (d: [Int64: Double]) in Dictionary(uniqueKeysWithValues: d.map { (Int($0.key), $0.value) }) }
        guard let d = PairedDelta(baseline: bySeed(baseline), treatment: bySeed(treatment)) else { return nil }
        func signed(_ x: Double) -> String { (x >= 0 ? "+" : "") + pct(x) }
        guard let ci = d.interval else { return "\(signed(d.summary.mean)) (1)" }
        return "\(signed(d.summary.mean)) [\(signed(ci.lowerBound)), \(signed(ci.upperBound))] (\(d.summary.n))"
    }
}
