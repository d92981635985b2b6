import Foundation
import ResultsStore

/// `docs/ICL-MSR-Findings.md`: the answer to the paper's two claims, generated from the results
/// database (no hand-typed number). Each experiment is one budget; each row is a paired per-seed
/// difference of top-1 accuracy under a fixed probe, with its t-interval and, for a claim, its
/// ``Verdict``.
///
/// A pure function of the database content and `command` (no clock): regenerating from the same
/// database gives the same bytes, which is how `backdrop findings --check` verifies a document.
public struct FindingsDocument: Sendable {
    public let experiments: [ExperimentFindings]
    /// The command line that regenerates the document, quoted in its header.
    public let command: String
    public let confidenceLevel: Double

    /// - Parameters: experiments: experiment names (the latest of each name), in reading order.
    public init(store: ResultsDatabase, experiments names: [String], command: String, confidenceLevel: Double = 0.95) throws {
        experiments = try names.map { try ExperimentFindings(store: store, experiment: $0, confidenceLevel: confidenceLevel) }
        self.command = command
        self.confidenceLevel = confidenceLevel
    }

    var percent: Int { Int((confidenceLevel * 100).rounded()) }

    /// The whole document.
    public var markdown: String {
        var out = """
        # ICL-MSR findings (generated)

        Generated from the results database by `\(command)`. Do not edit by hand: rerun the command after new runs;
        adding `--check` verifies that this file still matches the database.

        **How to read.** Every row is a paired difference `A − B` of top-1 accuracy on the test split, in percentage
        points: for each seed, the cell of group A minus the cell of group B with the same seed, then the mean and its
        \(percent)% t-interval (mean ± t·sd/√n, n = number of seed pairs). Both groups are read out by the *same fixed
        probe* (a linear classifier, or a kNN bank, fitted on the named view of the train split for every encoder), so
        a difference is the encoders'. `untrained` is the seed-matched initial encoder, evaluated the same way.
        A claim **holds** when its interval excludes 0 on the claimed side, is **contradicted** when it excludes 0 on
        the other side, and is **inconclusive** otherwise (or with fewer than 2 pairs). Intervals are per row, with no
        correction for the number of rows: expect about one in twenty true-null rows to come out decided.

        """
        out += "\n## Experiments\n\n" + experimentTable.markdown + "\n"
        out += section(title: "Claim (a): the train view decides which test view an encoder serves",
                       text: "The paper: a contrastive model trained on full images does better on full images than on foregrounds, "
                           + "and the reverse when trained on foregrounds. Measured here on the encoders alone: each train view's "
                           + "encoder against the untrained one on its own view, and the two train views head to head, each under "
                           + "the probe fitted on the view it is tested on.",
                       rows: \.trainView, judged: true)
        out += section(title: "Where the full-image encoder's effect lies",
                       text: "Trained on full images − untrained, fixed full probe, on the views that separate object from "
                           + "background: a gain on `only-background` (object painted out) and none on `mixed-random` (object on "
                           + "another class's background) means what the encoder learnt is the background. Descriptive: the "
                           + "last columns say on which side of 0 the interval lies.",
                       rows: \.effectLocation, judged: false)
        out += section(title: "Claim (b): regularizers against the plain run",
                       text: "The paper: ICL-MSR improves contrastive methods. Each regularizer (ICL-MSR, its variants, and the "
                           + "interventional baselines such as background-swap) against the plain run of the same method, train "
                           + "view and seed; claimed `> 0` on the train view's own view (its probe), on `full` and on `mixed-random` "
                           + "(full probe).",
                       rows: \.regularizers, judged: true)
        out += "\n## Tally\n\n" + tally + "\n"
        return out
    }

    /// One row per experiment: id, spec, budget, cells, commits, data as of.
    var experimentTable: ReportTable {
        ReportTable(title: "Experiments", headers: ["experiment", "id", "spec sha256", "budget", "methods", "seeds", "runs finished", "git commit", "last run finished (UTC)"],
                    labelColumns: 9, rows: experiments.map { e in
            let finished = e.runs.filter { $0.status == .finished }
            let methods = Report.ordered(Set(e.trainedRuns.map(\.cell.method)), by: Report.methodOrder)
            let seeds = Set(finished.map(\.cell.seed)).sorted().map(String.init).joined(separator: ", ")
            let commits = Set(finished.map { run -> String in
                guard let c = run.provenance.gitCommit else { return "unknown" }
                return String(c.prefix(10)) + (run.provenance.gitDirty == true ? "+dirty" : "")
            }).sorted().joined(separator: ", ")
            let last = finished.compactMap(\.finishedAt).max().map(Self.utc) ?? "-"
            return [.text(e.experiment.name), .text(String(e.experiment.id)), .text(String(e.experiment.specSHA256.prefix(12))),
                    .text(e.budget), .text(methods.joined(separator: ", ")), .text(seeds),
                    .text("\(finished.count) of \(e.runs.count)"), .text(commits), .text(last)]
        })
    }

    static func utc(_ date: Date) -> String { UTCTime.string(date, seconds: false) }

    /// A section: its text, then one table per experiment (or a line when it has no row).
    func section(title: String, text: String, rows: KeyPath<ExperimentFindings, [FindingRow]>, judged: Bool) -> String {
        var out = "\n## \(title)\n\n\(text)\n"
        for e in experiments {
            out += "\n### \(e.experiment.name)\n\n"
            let found = e[keyPath: rows]
            out += found.isEmpty ? "No cells of this experiment make these comparisons.\n"
                                 : table(found, protocols: e.protocols, judged: judged, swept: e.sweeps.contains { !$0.isEmpty }).markdown + "\n"
        }
        return out
    }

    /// The rows of one section; `swept` adds a `sweep point` column after `method` naming the
    /// point both groups of a row share.
    func table(_ rows: [FindingRow], protocols: [String], judged: Bool, swept: Bool = false) -> ReportTable {
        var headers = ["method"] + (swept ? ["sweep point"] : []) + ["A − B", "test view", "probe"]
        if judged { headers.append("claimed") }
        for p in protocols { headers += ["\(Report.protocolTitle(p)) Δ (pp) [\(percent)% CI] (n)", judged ? "verdict" : "interval"] }
        return ReportTable(title: "", headers: headers, labelColumns: headers.count, rows: rows.map { row in
            var cells: [TableCell] = [.text(row.method)] + (swept ? [TableCell.text(Report.sweepTitle(row.sweep))] : [TableCell]())
                + [.text(row.comparison), .text(row.figure), .text(row.probe)]
            if judged { cells.append(.text(row.direction?.rawValue ?? "")) }
            for p in protocols {
                cells.append(.text(row.deltas[p].map(Format.deltaWithCount) ?? "-"))
                if judged { cells.append(.text(row.verdict(p).map { "**\($0.rawValue)**" } ?? "-")) }
                else { cells.append(.text(Self.side(row.deltas[p]))) }
            }
            return cells
        })
    }

    /// Where a descriptive row's interval lies: `> 0`, `< 0`, `includes 0`, or `n/a`.
    static func side(_ d: PairedDelta?) -> String {
        guard let ci = d?.interval else { return "n/a" }
        return ci.lowerBound > 0 ? "> 0" : ci.upperBound < 0 ? "< 0" : "includes 0"
    }

    /// Counts of verdicts per experiment and section (linear probe, then kNN).
    var tally: String {
        var lines = ["| experiment | section | protocol | holds | contradicted | inconclusive |", "|---|---|---|---:|---:|---:|"]
        for e in experiments {
            for (name, rows) in [("claim (a)", e.trainView), ("claim (b)", e.regularizers)] where !rows.isEmpty {
                for p in e.protocols {
                    let verdicts = rows.compactMap { $0.verdict(p) }
                    let count = { (v: Verdict) in verdicts.filter { $0 == v }.count }
                    lines.append("| \(e.experiment.name) | \(name) | \(Report.protocolTitle(p)) | \(count(.holds)) | \(count(.contradicted)) | \(count(.inconclusive)) |")
                }
            }
        }
        return lines.joined(separator: "\n")
    }
}
