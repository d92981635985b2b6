import ArgumentParser
import Foundation
import Reports
import ResultsStore

extension ResultFormat: ExpressibleByArgument {}
extension ComparisonAxis: ExpressibleByArgument {}

/// The database and output format every read-only command takes.
struct QueryOutputOptions: ParsableArguments {
    @Option(help: "Results database.") var db = "Results/backdrop.sqlite"
    @Option(help: "Output format: table, csv or json.") var format: ResultFormat = .table

    /// The help of every `--experiment` that names one experiment.
    static let experimentHelp = "Experiment name (the latest of that name) or id (`backdrop experiments`); default: the latest experiment."

    /// Runs `body` and prints its result (errors print as `Error: <message>`, exit status 1).
    func print(_ body: () throws -> QueryResult) throws {
        Swift.print(try body().rendered(as: format))
    }

    /// Opens the database read-only, resolves `experiment` (the latest of that name, or the latest
    /// experiment when nil) and prints what `body` makes of them.
    func print(experiment: String?, _ body: (ResultsDatabase, Experiment) throws -> QueryResult) throws {
        try print {
            let store = try ResultsDatabase(path: db, mode: .readOnly)
            return try body(store, try store.resolveExperiment(experiment))
        }
    }
}

/// `backdrop query "<SQL>"`: one read-only statement.
struct QueryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Run one read-only SQL statement against the results database.",
        discussion: """
        The database is opened read-only and statements that could write (INSERT, UPDATE, DELETE, DROP, ATTACH, \
        setting pragmas, …) are refused. Tables: experiments, runs, params, metrics, evaluations, checkpoints; \
        views: matrix_cells, matrix_series, matrix_summary, cell_gaps. Example: \
        backdrop query "SELECT method, train_view, regularizer, test_view, AVG(top1) FROM matrix_series \
        WHERE protocol = 'linear' GROUP BY 1, 2, 3, 4"
        """)

    @Argument(help: "One SQL statement.") var sql: String
    @Option(help: "Most rows the result may hold; a query returning more fails (add LIMIT or raise this).")
    var maxRows = QueryLimits.standard.maxRows
    @Option(help: "Seconds the statement may run before it is stopped (0: no limit). Ctrl-C also stops it.")
    var timeout = QueryLimits.standard.timeout ?? 0

    @OptionGroup var output: QueryOutputOptions

    func validate() throws {
        guard maxRows >= 1 else { throw ValidationError("--max-rows must be at least 1 (got \(maxRows))") }
        guard timeout.isFinite, timeout >= 0, timeout <= 31_536_000 else {
            throw ValidationError("--timeout must be between 0 (no limit) and 31536000 seconds (got \(timeout))")
        }
    }

    func run() throws {
        let limits = QueryLimits(maxRows: maxRows, timeout: timeout > 0 ? timeout : nil)
        let interruption = QueryInterruption()
        let sigint = CtrlCHandler(interruption)
        defer { sigint.cancel() }
        try output.print {
            try ResultsDatabase.readOnlyQuery(path: output.db, sql: sql, limits: limits, interruption: interruption)
        }
    }
}

/// `backdrop experiments`: every experiment with its overrides and progress.
struct ExperimentsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "experiments",
        abstract: "List the experiments: id, name, created, spec hash, overrides, cells done/total, reused, failed, running.",
        discussion: """
        An experiment is one resolved spec (its name plus the hash of the spec with its --set overrides). Editing a spec \
        makes a new experiment of the same name; its cells that finished identically before (same configuration and \
        dataset hashes) are reused, not retrained. Every command that takes --experiment accepts a name (the latest \
        experiment of that name) or an id from this list.
        """)
    @OptionGroup var output: QueryOutputOptions

    func run() throws {
        try output.print { ExperimentsTable(try ResultsDatabase(path: output.db, mode: .readOnly).experimentOverview()).queryResult }
    }
}

/// `backdrop runs`: the runs of an experiment.
struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "runs", abstract: "List the runs (cells) of an experiment with status and provenance.")
    @Option(help: ArgumentHelp(QueryOutputOptions.experimentHelp)) var experiment: String?
    @OptionGroup var output: QueryOutputOptions

    func run() throws {
        try output.print(experiment: experiment) { store, e in RunsTable(try store.runListing(experimentID: e.id)).queryResult }
    }
}

/// `backdrop matrix`: mean ± std over seeds per cell and test view.
struct MatrixCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "matrix", abstract: "Print the matrix: top-1 mean ± std (n seeds) per method, train view, regularizer, protocol and test view.",
        discussion: """
        --format table prints one column per test view (`mean ± std (n)`, percent). --format csv and json print the tidy \
        form instead, one row per cell group and test view with the numbers in their own columns: method, train_view, \
        regularizer, the swept keys, protocol, test_view, mean, std, n, ci_low, ci_high (percent; ci = 95% t-interval \
        of the mean over seeds, empty for one seed).
        """)
    @Option(help: ArgumentHelp(QueryOutputOptions.experimentHelp)) var experiment: String?
    @Option(help: "Probe series: train-view (the probe fitted on each cell's train view), same-as-test, or a fixed probe view such as full or foreground.")
    var probe = "train-view"
    @OptionGroup var output: QueryOutputOptions

    func run() throws {
        try output.print(experiment: experiment) { store, e in
            let table = MatrixTable(try store.matrixRows(experimentID: e.id, probe: ProbeSeries(rawValue: probe)))
            return output.format == .table ? table.queryResult : table.tidyResult
        }
    }
}

/// `backdrop compare --by regularizer`: paired per-seed differences along one axis.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare", abstract: "Compare along one axis: mean top-1 per value and paired per-seed deltas with 95% intervals.")
    @Option(help: "Axis: regularizer, train_view or method.") var by: ComparisonAxis = .regularizer
    @Option(help: ArgumentHelp(QueryOutputOptions.experimentHelp)) var experiment: String?
    @Option(help: "Probe series: train-view, same-as-test, or a fixed probe view such as full or foreground (--by train_view is only an encoder comparison under a fixed probe).")
    var probe = "train-view"
    @OptionGroup var output: QueryOutputOptions

    func run() throws {
        try output.print(experiment: experiment) { store, e in
            Comparison(try store.matrixRows(experimentID: e.id, probe: ProbeSeries(rawValue: probe)), by: by).queryResult
        }
    }
}

/// `backdrop report`: render an experiment's tables and charts from the database alone.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Render table.md, table.csv, table.tex and report.html for an experiment into Results/reports/<experiment>/.",
        discussion: "Reads the database only (opened read-only); rendering twice writes the same bytes.")
    @Option(help: ArgumentHelp(QueryOutputOptions.experimentHelp)) var experiment: String?
    @Option(help: "Results database.") var db = "Results/backdrop.sqlite"
    @Option(help: "Folder holding one report folder per experiment.") var out = "Results/reports"
    @Flag(help: "Also print table.md.") var print = false

    func run() throws {
        let store = try ResultsDatabase(path: db, mode: .readOnly)
        let resolved = try store.resolveExperiment(experiment)
        // By id, so an older experiment of a name is reported as asked, not the latest of that name.
        let files = try ReportWriter.render(store: store, experiment: "#\(resolved.id)",
                                            into: URL(fileURLWithPath: out).appendingPathComponent(resolved.name))
        if print { Swift.print(try String(contentsOf: files.markdown, encoding: .utf8)) }
        for file in files.all { FileHandle.standardError.write(Data("wrote \(file.path)\n".utf8)) }
    }
}

/// `backdrop findings`: the paper's claims judged from the database, as one Markdown document.
struct FindingsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "findings",
        abstract: "Write the findings document (claims (a) and (b) judged under fixed probes, with intervals) from the database.",
        discussion: """
            Each --experiment (the latest of that name) is one budget. Every row is a paired per-seed difference of top-1 \
            accuracy under a fixed probe, with its 95% t-interval and a verdict (holds, contradicted, inconclusive). \
            The document quotes the command that made it and contains no clock, so --check can verify it: \
            it exits 1, naming the first differing line, when the file no longer matches the database.
            """)
    @Option(help: "Results database.") var db = "Results/backdrop.sqlite"
    @Option(help: "Experiment name (the latest of that name) or id, repeatable, in reading order (e.g. --experiment table1-quick --experiment table1-medium).")
    var experiment: [String] = []
    @Option(help: "Output file (default: print to standard output).") var out: String?
    @Flag(help: "Verify that --out matches what the database gives now, instead of writing it.") var check = false

    func validate() throws {
        guard !experiment.isEmpty else { throw ValidationError("name at least one --experiment (backdrop runs lists them)") }
        if check && out == nil { throw ValidationError("--check needs --out FILE, the document to verify") }
    }

    /// The command line quoted in the document: what regenerates it.
    var regeneratingCommand: String {
        var words = ["backdrop", "findings"]
        if db != "Results/backdrop.sqlite" { words += ["--db", db] }
        for e in experiment { words += ["--experiment", e] }
        if let out { words += ["--out", out] }
        return words.joined(separator: " ")
    }

    func run() throws {
        let store = try ResultsDatabase(path: db, mode: .readOnly)
        let text = try FindingsDocument(store: store, experiments: experiment, command: regeneratingCommand).markdown
        guard let out else { Swift.print(text, terminator: ""); return }
        let url = URL(fileURLWithPath: out)
        if check {
            guard let existing = try? String(contentsOf: url, encoding: .utf8) else {
                throw ValidationError("\(out): cannot read the document to check; write it first without --check")
            }
            guard existing != text else { FileHandle.standardError.write(Data("\(out) matches the database\n".utf8)); return }
            let old = existing.components(separatedBy: "\n"), new = text.components(separatedBy: "\n")
            let line = (0..<min(old.count, new.count)).first { old[$0] != new[$0] } ?? min(old.count, new.count)
            FileHandle.standardError.write(Data("\(out) differs from the database from line \(line + 1):\n  file: \(line < old.count ? old[line] : "(end)")\n  now:  \(line < new.count ? new[line] : "(end)")\nregenerate it: \(regeneratingCommand)\n".utf8))
            throw ExitCode(1)
        }
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url, options: .atomic)
        FileHandle.standardError.write(Data("wrote \(out)\n".utf8))
    }
}
