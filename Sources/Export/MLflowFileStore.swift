import Foundation

/// The pieces of MLflow's file store format (`mlflow/store/tracking/file_store.py`, `FileStore`)
/// that the exporter writes: YAML metadata files, metric lines, and the names MLflow accepts.
enum MLflowFileStore {
    /// `RunStatus` as `meta.yaml` stores it (`mlflow.entities.RunStatus`): RUNNING 1,
    /// SCHEDULED 2, FINISHED 3, FAILED 4, KILLED 5.
    enum Status: Int {
        /// MLflow's `RunStatus` numbers; `killed` is a run stopped by its user (Backdrop's `interrupted`).
        case running = 1, scheduled = 2, finished = 3, failed = 4, killed = 5
    }

    /// `SourceType.LOCAL`, what `FileStore` writes for every run.
    static let localSourceType = 4

    /// A `meta.yaml` value.
    enum YAMLValue {
        case string(String)
        case integer(Int64)
        case null
        /// `[]` (the legacy `tags: []` of a run's meta.yaml).
        case emptyList
    }

    /// A flat YAML mapping, keys sorted as PyYAML's `safe_dump` sorts them; strings are
    /// double-quoted with JSON escapes, which YAML's double-quoted style reads the same.
    static func yaml(_ fields: [String: YAMLValue]) -> String {
        fields.keys.sorted().map { key in
            let value: String
            switch fields[key]! {
            case .string(let text): value = quoted(text)
            case .integer(let number): value = String(number)
            case .null: value = "null"
            case .emptyList: value = "[]"
            }
            return "\(key): \(value)\n"
        }.joined()
    }

    static func quoted(_ text: String) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(text)) ?? Data("\"\"".utf8), as: UTF8.self)
    }

    /// One line of a metric file: `<timestamp ms> <value> <step>` (`FileStore._get_metric_from_line`
    /// reads 2, 3 or 5 space-separated fields; NaN and infinities print as `nan`, `inf`, `-inf`,
    /// which Python's `float` reads).
    static func metricLine(timestamp: Double, value: Double, step: Int) -> String {
        "\(milliseconds(timestamp)) \(value) \(step)\n"
    }

    /// Seconds since the Unix epoch as MLflow's integer milliseconds.
    static func milliseconds(_ seconds: Double) -> Int64 {
        Int64((seconds * 1000).rounded())
    }

    /// `name` made into a metric, param or tag name MLflow accepts (`utils/validation.py`: only
    /// letters, digits, `_`, `-`, `.`, space, `:` and `/`, and the name must be a normalized
    /// relative path): other characters become `_`, as does an empty, `.` or `..` path component.
    static func safeName(_ name: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-. :")
        let cleaned = String(name.map { $0 == "/" || allowed.contains($0) ? $0 : "_" })
        return cleaned.split(separator: "/", omittingEmptySubsequences: false)
            .map { $0.isEmpty || $0 == "." || $0 == ".." ? "_" : String($0) }
            .joined(separator: "/")
    }

    /// Writes `text` to `folder/name`, creating the folders `name`'s `/`s imply (MLflow keeps a
    /// metric `train/loss` in `metrics/train/loss`).
    static func write(_ text: String, to folder: URL, name: String) throws {
        let file = folder.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: file)
    }
}
