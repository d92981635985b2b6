import Foundation
import ResultsStore

/// Where every number of a report came from: the experiment's spec (as written and resolved),
/// its overrides, the builds, machines and libraries its runs recorded, and one line per run with
/// its host, times, duration, commit, hashes, kernels and checkpoint.
///
/// Read from the database only (the stored `runs.versions_json`, `git_commit`, timestamps and the
/// `checkpoints` table), so it says what was true when each run ran, not what is true now.
struct ProvenanceSection: Sendable {
    let experiment: Experiment
    let runs: [Run]
    /// Run id → its latest recorded checkpoint.
    let checkpoints: [Int64: Checkpoint]

    init(store: ResultsDatabase, experiment: Experiment, runs: [Run]) throws {
        self.experiment = experiment
        self.runs = runs
        var checkpoints: [Int64: Checkpoint] = [:]
        for run in runs { checkpoints[run.id] = try store.latestCheckpoint(runID: run.id) }
        self.checkpoints = checkpoints
    }

    /// `3657835ec594`, `3657835ec594 (dirty)`, or `unknown`.
    static func commit(_ p: RunProvenance) -> String {
        guard let c = p.gitCommit, c != "unknown" else { return "unknown" }
        return String(c.prefix(12)) + (p.gitDirty == true ? " (dirty)" : "")
    }

    /// `4m 05s`, `12s`, `1h 03m` — from the first start to the finish of the last attempt.
    static func duration(_ run: Run) -> String {
        guard let start = run.startedAt, let end = run.finishedAt, end >= start else { return "-" }
        let s = Int(end.timeIntervalSince(start).rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return String(format: "%dm %02ds", s / 60, s % 60) }
        return String(format: "%dh %02dm", s / 3600, (s % 3600) / 60)
    }

    /// Each distinct value of `values` with how many runs recorded it, most common first:
    /// `im2col-openblas (24 runs)`; `-` when none did.
    static func tally(_ values: [String]) -> String {
        var counts: [String: Int] = [:]
        for v in values { counts[v, default: 0] += 1 }
        guard !counts.isEmpty else { return "-" }
        return counts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }
            .map { "\($0.key) (\($0.value) run\($0.value == 1 ? "" : "s"))" }.joined(separator: "; ")
    }

    /// Label → tally of what the runs recorded: build, hosts, CPU (with the processors the host
    /// had online), the worker threads the run used (`--threads`, `BACKDROP_THREADS`, its affinity
    /// mask or cgroup quota), kernels, libraries.
    var environment: [(label: String, value: String)] {
        let recorded = runs.filter { $0.startedAt != nil }
        func versions(_ key: String) -> [String] { recorded.compactMap { $0.provenance.versions[key] } }
        return [
            ("Built from commit", Self.tally(recorded.map { Self.commit($0.provenance) })),
            ("Backdrop", Self.tally(versions("backdrop"))),
            ("Hosts", Self.tally(recorded.compactMap(\.host))),
            ("CPU", Self.tally(recorded.compactMap { r in r.provenance.versions["cpu"].map { cpu in
                cpu + (r.provenance.versions["cpus"].map { ", \($0) CPUs online" } ?? "") } })),
            ("Worker threads", Self.tally(versions("threads"))),
            ("Convolution kernels", Self.tally(versions("convolution"))),
            ("BLAS", Self.tally(versions("blas"))),
            ("libpng", Self.tally(versions("libpng"))),
            ("SQLite", Self.tally(versions("sqlite"))),
            ("Swift", Self.tally(versions("swift"))),
            ("OS", Self.tally(versions("os"))),
        ]
    }

    /// The spec line: path, hash, creation time and overrides.
    var specLine: String {
        let overrides = experiment.overrides.isEmpty ? "none" : experiment.overrides.joined(separator: "; ")
        return "Spec \(experiment.specPath) (resolved spec sha256 \(experiment.specSHA256.prefix(12))), experiment id "
            + "\(experiment.id), created \(UTCTime.string(experiment.createdAt, seconds: true)) UTC; overrides: \(overrides)."
    }

    /// One row per run of the experiment (linked runs name the experiment that trained them):
    /// status, where and when it ran, and how it ended.
    var runTable: ReportTable {
        ReportTable(
            title: "Runs",
            headers: ["cell", "run", "status", "attempts", "host", "started (UTC)", "finished (UTC)", "duration", "commit",
                      "bad samples", "error"],
            labelColumns: 11,
            rows: runs.map { run in
                let p = run.provenance
                let id = run.isLinked ? "\(run.id) (from experiment \(run.ownerExperimentID))" : String(run.id)
                return [.text(run.cellKey), .text(id), .text(run.status.rawValue), .text(String(run.attempts)), .text(run.host ?? "-"),
                        .text(run.startedAt.map { UTCTime.string($0, seconds: true) } ?? "-"),
                        .text(run.finishedAt.map { UTCTime.string($0, seconds: true) } ?? "-"), .text(Self.duration(run)),
                        .text(Self.commit(p)), .text(String(p.badSamples)), .text(run.error ?? "")]
            }, wrapsText: true)
    }

    /// One row per run: what it was made from (configuration and dataset hashes), the convolution
    /// kernels it ran on and its latest checkpoint.
    var inputTable: ReportTable {
        ReportTable(
            title: "Inputs and checkpoints",
            headers: ["cell", "config sha256", "dataset sha256", "kernels", "checkpoint"],
            labelColumns: 5,
            rows: runs.map { run in
                let p = run.provenance
                return [.text(run.cellKey), .text(String(p.configSHA256.prefix(12))), .text(p.datasetSHA256.map { String($0.prefix(12)) } ?? "-"),
                        .text(p.versions["convolution"] ?? "-"), .text(checkpoints[run.id].map { "\($0.path) (epoch \($0.epoch))" } ?? "-")]
            }, wrapsText: true)
    }

    /// Markdown under headings of `level` (`##`): spec line, environment list, spec as written
    /// and resolved, runs.
    func markdown(level: Int) -> String {
        let h = String(repeating: "#", count: level)
        var out = "\n\(specLine)\n\n"
        out += environment.map { "- \($0.label): \(Self.markdownText($0.value))" }.joined(separator: "\n") + "\n"
        if !experiment.specSource.isEmpty {
            out += "\n\(h) Spec as written\n\n```yaml\n\(experiment.specSource.trimmingCharacters(in: .newlines))\n```\n"
        }
        if !experiment.specText.isEmpty {
            out += "\n\(h) Resolved spec (canonical JSON; its sha256 identifies the experiment)\n\n```json\n\(experiment.specText)\n```\n"
        }
        for var table in [runTable, inputTable] {
            table.rows = table.rows.map { $0.map { .text(Self.markdownText($0.plain)) } }
            out += "\n\(h) \(table.title)\n\n" + table.markdown + "\n"
        }
        return out
    }

    /// The same content in HTML; the spec texts fold away (`<details>`).
    var html: [String] {
        var body = ["<h2>Provenance</h2>", "<p class=\"meta\">\(Format.html(specLine))</p>", "<table>\n<tbody>"]
        body += environment.map { "<tr><th>\(Format.html($0.label))</th><td>\(Format.html($0.value))</td></tr>" }
        body.append("</tbody>\n</table>")
        if !experiment.specSource.isEmpty {
            body.append("<details><summary>Spec as written</summary>\n<pre>\(Format.html(experiment.specSource))</pre>\n</details>")
        }
        if !experiment.specText.isEmpty {
            body.append("<details><summary>Resolved spec (canonical JSON)</summary>\n<pre>\(Format.html(experiment.specText))</pre>\n</details>")
        }
        for table in [runTable, inputTable] {
            body.append("<h3>\(Format.html(table.title))</h3>")
            body.append(table.html)
        }
        return body
    }

    /// Text safe inside a Markdown table cell (pipes escaped, line breaks flattened).
    static func markdownText(_ s: String) -> String {
        s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }
}
