import Foundation
import ResultsStore

/// Renders an experiment's report from the results database into a folder.
///
/// ```swift
/// let store = try ResultsDatabase(path: "Results/backdrop.sqlite", mode: .readOnly)
/// let files = try ReportWriter.render(store: store, experiment: "table1-quick",
///                                     into: URL(fileURLWithPath: "Results/reports/table1-quick"))
/// print(try String(contentsOf: files.markdown, encoding: .utf8))
/// ```
///
/// The database is only read (open it `.readOnly` to have SQLite enforce that); the output is a
/// pure function of its content, so rendering twice writes the same bytes.
public enum ReportWriter {
    /// The files a render wrote.
    public struct Files: Sendable, Equatable {
        public var markdown: URL
        public var csv: URL
        public var latex: URL
        public var html: URL
        /// `provenance.md`: spec, overrides, builds, machines, libraries and one line per run.
        public var provenance: URL

        public var all: [URL] { [markdown, csv, latex, html, provenance] }
    }

    /// Writes `table.md`, `table.csv`, `table.tex`, `report.html` and `provenance.md` into `directory` (created
    /// if needed, existing files replaced).
    ///
    /// - Parameters:
    ///   - store: The results database.
    ///   - experiment: The experiment's name (the latest experiment of that name), or nil for the
    ///     most recently created experiment.
    ///   - directory: The output folder, e.g. `Results/reports/<experiment>/`.
    ///   - options: Probe series, baseline, curves (defaults follow EXPERIMENT.md).
    /// - Returns: The written files.
    /// - Throws: `ResultsStoreError.unknownExperiment` naming the known experiments, or a file error.
    @discardableResult
    public static func render(store: ResultsDatabase, experiment: String?, into directory: URL,
                              options: ReportOptions = ReportOptions()) throws -> Files {
        let report = try ExperimentReport(store: store, experiment: experiment, options: options)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let files = Files(markdown: directory.appendingPathComponent("table.md"),
                          csv: directory.appendingPathComponent("table.csv"),
                          latex: directory.appendingPathComponent("table.tex"),
                          html: directory.appendingPathComponent("report.html"),
                          provenance: directory.appendingPathComponent("provenance.md"))
        try Data(report.markdown.utf8).write(to: files.markdown, options: .atomic)
        try Data(report.csv.utf8).write(to: files.csv, options: .atomic)
        try Data(report.latex.utf8).write(to: files.latex, options: .atomic)
        try Data(report.html.utf8).write(to: files.html, options: .atomic)
        try Data(report.provenanceMarkdown.utf8).write(to: files.provenance, options: .atomic)
        return files
    }
}

extension Report {
    static let css = """
        body { font-family: -apple-system, "Helvetica Neue", Arial, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; padding: 0 1em; }
        h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: .2em; } h3 { font-size: 1em; margin-top: 1.5em; }
        table { border-collapse: collapse; margin: .5em 0 1em; font-size: .9em; }
        th, td { padding: .25em .7em; border-bottom: 1px solid #e4e4e4; text-align: left; white-space: nowrap; }
        table.wrap th:not(.num), table.wrap td:not(.num) { white-space: normal; min-width: 6em; }
        thead th { border-bottom: 2px solid #444; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
        .legend, .meta { color: #555; font-size: .9em; } figure { margin: 1em 0; } svg { max-width: 100%; height: auto; }
        code { background: #f4f4f4; padding: 0 .2em; }
        """

    /// A self-contained HTML page around `body`.
    static func htmlDocument(title: String, body: [String]) -> String {
        """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <title>\(Format.html(title))</title>
            <style>
            \(Self.css)
            </style>
            </head>
            <body>
            \(body.joined(separator: "\n"))
            </body>
            </html>

            """
    }

    /// The heat-maps and tables of this probe series (`h2` sections, `h3` tables).
    func htmlSections() -> [String] {
        var body: [String] = []
        if !rows.isEmpty {
            body.append("<h2>Matrix heat-maps</h2>")
            for method in methods {
                for p in protocols where hasProtocol(p, method: method) {
                    body.append("<figure>\n" + heatmapSVG(method: method, protocolName: p) + "</figure>")
                }
            }
        }
        for (section, tables) in tables() {
            body.append("<h2>\(Format.html(section))</h2>")
            if section == "Regularizer effect" {
                for p in protocols { body.append("<figure>\n" + effectsSVG(protocolName: p) + "</figure>") }
            }
            if section == Self.doseResponseSection {
                for dose in doseResponses() { body.append("<figure>\n" + doseResponseSVG(dose) + "</figure>") }
            }
            for table in tables { body.append("<h3>\(Format.html(table.title))</h3>\n" + table.html) }
        }
        return body
    }

    /// The latest finish time of the experiment's runs (the report's only timestamp; it comes
    /// from the database, never from the clock).
    var dataAsOf: String? {
        guard let last = runs.compactMap(\.finishedAt).max() else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: last)
    }
}
