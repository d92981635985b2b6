import Foundation
import GRDB

/// Whether two finished runs of one cell — one in the target database, one in a shard — hold the
/// same result: the same configuration hash, the same dataset hash and the same evaluations.
///
/// Evaluations are matched by `(protocol, probe_view, test_view, split)` and compared on every
/// column but `id`, `run_id` and `created_at` (top-1, top-5, `n`, the probe's parameters, …).
/// Metrics, parameters and timestamps are not compared: the evaluations are the result.
enum RunComparison {
    /// The evaluation columns that are bookkeeping, not result.
    static let ignoredEvaluationColumns: Set<String> = ["id", "run_id", "created_at"]
    /// How many differing evaluations a message lists before "and N more".
    static let listedEvaluations = 3

    /// What differs between the target's run and the shard's (empty when they are identical),
    /// each as "what: target value vs shard value".
    static func differences(target: Row, targetEvaluations: [Row], shard: Row, shardEvaluations: [Row]) -> [String] {
        var found: [String] = []
        for (column, label) in [("config_sha256", "config sha256"), ("dataset_sha256", "dataset sha256")] {
            let a: DatabaseValue = target[column], b: DatabaseValue = shard[column]
            if a != b { found.append("\(label) \(abbreviated(a)) vs \(abbreviated(b))") }
        }
        return found + evaluationDifferences(targetEvaluations, shardEvaluations)
    }

    /// The differing evaluations, listed up to ``listedEvaluations``.
    static func evaluationDifferences(_ target: [Row], _ shard: [Row]) -> [String] {
        let a = keyed(target), b = keyed(shard)
        var lines: [String] = []
        for key in Set(a.keys).union(b.keys).sorted() {
            switch (a[key], b[key]) {
            case let (x?, y?):
                let columns = Set(x.keys).union(y.keys).sorted().filter { x[$0] != y[$0] }
                if !columns.isEmpty {
                    let values = columns.map { "\($0) \(text(x[$0])) vs \(text(y[$0]))" }
                    lines.append("evaluation \(key): \(values.joined(separator: ", "))")
                }
            case (_?, nil):
                lines.append("evaluation \(key) only in the target")
            case (nil, _?):
                lines.append("evaluation \(key) only in the shard")
            case (nil, nil):
                break
            }
        }
        guard lines.count > listedEvaluations else { return lines }
        return Array(lines.prefix(listedEvaluations)) + ["and \(lines.count - listedEvaluations) more differing evaluations"]
    }

    /// Evaluations by `protocol probe P, test T, split S` → their compared columns.
    static func keyed(_ rows: [Row]) -> [String: [String: DatabaseValue]] {
        var result: [String: [String: DatabaseValue]] = [:]
        for row in rows {
            let key = "\(text(row["protocol"])) probe \(text(row["probe_view"])), test \(text(row["test_view"])), split \(text(row["split"]))"
            var values: [String: DatabaseValue] = [:]
            for (column, value) in zip(row.columnNames, row.databaseValues) where !ignoredEvaluationColumns.contains(column) {
                values[column] = value
            }
            result[key] = values
        }
        return result
    }

    /// A hash shortened to its first 8 digits and `…`, or `NULL`.
    static func abbreviated(_ value: DatabaseValue) -> String {
        guard let string = String.fromDatabaseValue(value) else { return "NULL" }
        return string.count > 12 ? String(string.prefix(8)) + "…" : string
    }

    /// A stored value as text: strings bare, numbers as SQLite shows them, `NULL`.
    static func text(_ value: DatabaseValue?) -> String {
        guard let value, !value.isNull else { return "NULL" }
        if let string = String.fromDatabaseValue(value) { return string }
        return value.description
    }
}
