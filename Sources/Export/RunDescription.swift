import Foundation
import ResultsStore

/// What a run is and where it came from, as (label, value) rows shared by both exporters: the
/// TensorBoard text summary shows them, MLflow stores them as tags.
enum RunDescription {
    /// Provenance rows of `run`: cell coordinates, status, hashes, commit, host, versions.
    static func provenance(of exported: ExportedRun, in experiment: Experiment) -> [(key: String, value: String)] {
        let run = exported.run
        var rows: [(key: String, value: String)] = [
            ("cell_key", run.cellKey),
            ("experiment", "\(experiment.name) (id \(experiment.id))"),
            ("run_id", String(run.id)),
            ("status", run.status.rawValue),
            ("dataset", run.cell.dataset),
            ("train_view", run.cell.trainView),
            ("method", run.cell.method),
            ("regularizer", run.cell.regularizer),
            ("seed", String(run.cell.seed)),
            ("config_sha256", run.provenance.configSHA256),
        ]
        if !run.cell.sweep.isEmpty { rows.append(("sweep", run.cell.sweep)) }
        if let hash = run.provenance.datasetSHA256 { rows.append(("dataset_sha256", hash)) }
        if let commit = run.provenance.gitCommit { rows.append(("git_commit", commit)) }
        if let dirty = run.provenance.gitDirty { rows.append(("git_dirty", dirty ? "true" : "false")) }
        if let host = run.host { rows.append(("host", host)) }
        if run.isLinked { rows.append(("trained_by_experiment", String(run.ownerExperimentID))) }
        if let error = run.error { rows.append(("error", error)) }
        for name in run.provenance.versions.keys.sorted() {
            rows.append(("version.\(name)", run.provenance.versions[name]!))
        }
        return rows
    }

    /// A two-column Markdown table (`|` in cells escaped, newlines as spaces).
    static func markdownTable(_ rows: [(key: String, value: String)], header: (String, String)) -> String {
        func cell(_ text: String) -> String {
            text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
        }
        var lines = ["| \(header.0) | \(header.1) |", "| --- | --- |"]
        for row in rows { lines.append("| \(cell(row.key)) | \(cell(row.value)) |") }
        return lines.joined(separator: "\n")
    }
}
