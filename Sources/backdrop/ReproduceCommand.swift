import ArgumentParser
import CommandLineOptions
import Foundation
import BuildInfo
import Harness
import Reports
import ResultsStore
import CProcessControl

/// Options shared by `reproduce` and its hidden per-cell child.
struct ReproduceOptions: ParsableArguments {
    @Argument(help: "Experiment spec (YAML), e.g. Experiments/table1-quick.yaml.") var spec: String
    @Option(help: "Results database.") var db = "Results/backdrop.sqlite"
    @Option(help: "Folder for generated datasets and checkpoints.") var resultsDir = "Results"
    @Option(name: .customLong("set"), help: "Override a spec value: key.path=value (repeatable), e.g. --set train.epochs=5.")
    var overrides: [String] = []
    @Option(help: .hidden) var killAfterSteps: Int?
    @Option(help: ArgumentHelp("Run only slice I of N of the matrix (0 ≤ I < N; the cells sorted by key, position mod N), e.g. --shard 3/8; "
            + "use a database of its own per slice and merge them with backdrop merge."))
    var shard: String?
    @Option(help: .hidden) var crashAfterSteps: Int?
    @OptionGroup var threads: ThreadsOption

    func runnerOptions() -> MatrixRunner.Options {
        var o = MatrixRunner.Options(specPath: spec)
        o.overrides = overrides
        o.databasePath = db
        o.resultsDirectory = resultsDir
        o.killAfterSteps = killAfterSteps
        o.crashAfterSteps = crashAfterSteps
        o.shard = shard.flatMap { try? Shard(parsing: $0) }
        o.revision = SourceRevision(commit: BuildInfo.gitCommit, dirty: BuildInfo.gitDirty)
        return o
    }

    /// The command line of `backdrop reproduce-cell` for one cell: what `reproduce --jobs N`
    /// starts in each child process (these options, plus the cell, its position and the dataset hash the parent computed).
    /// - Parameter threads: each child's `--threads` (the parent's count shared among its jobs, `childThreads`).
    func childCommand(executable: String, threads: Int) -> @Sendable (MatrixRunner.ChildRequest) -> [String] {
        var shared = [spec, "--db", db, "--results-dir", resultsDir, "--threads", String(threads)]
        for o in overrides { shared += ["--set", o] }
        if let k = killAfterSteps { shared += ["--kill-after-steps", String(k)] }
        if let k = crashAfterSteps { shared += ["--crash-after-steps", String(k)] }
        if let shard { shared += ["--shard", shard] }
        return { [shared] r in
            var arguments = [executable, "reproduce-cell"] + shared
            arguments += ["--cell", r.cellKey, "--position", r.position,
                          "--dataset-sha256", r.sources.datasetSHA256]
            return arguments
        }
    }

    /// The threads of each of `jobs` cells run at once on `available` threads: an equal share, at least 1.
    static func childThreads(available: Int, jobs: Int) -> Int { max(1, available / max(1, jobs)) }
}

/// `backdrop reproduce`: run an experiment's matrix into the results database.
struct ReproduceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reproduce",
        abstract: "Run every cell of an experiment spec (train, evaluate, record) into the results database.",
        discussion: """
        Generates the built-in dataset when the spec uses it and it is absent, expands the matrix \
        (train view × method × regularizer × seed × sweep point), skips cells already finished with the same configuration \
        and dataset hashes (a cell finished on an edited dataset is trained again), links instead of retraining a cell \
        whose identical run (same configuration and dataset hashes) finished in another experiment, resumes interrupted cells \
        from their last checkpoint (Results/checkpoints/<experiment>-<spec hash>/<cell>-<config hash>/, verified against the \
        sha256 recorded for it; a damaged one is set aside and the cell restarts from scratch), and \
        evaluates every finished model on every test view. Several reproductions may share one database. \
        Every cell runs in its own child process (one at a time with --jobs 1), so a cell that crashes is recorded \
        failed with its signal and last output lines while the others continue; the exit status is the number of \
        failed cells (at most 100). Killing the reproduction stops its cells too. Ctrl-C stops cleanly: no further \
        cell starts, each running cell stops after its current step, writes a checkpoint and is recorded as interrupted, \
        the command to resume is printed and the exit status is 130; a second Ctrl-C quits at once.
        """)

    @OptionGroup var options: ReproduceOptions
    @Option(help: "Cells run in parallel, each in its own process.") var jobs = 1
    @Flag(help: "Only prepare (generate if absent) the spec's datasets and print their folders (one per line).") var datasetOnly = false
    @Flag(help: "Print the resolved spec and each cell as run / reuse / resume / done, and change nothing in the database.")
    var dryRun = false
    @Flag(help: ArgumentHelp("Submit the unfinished cells to Slurm: an array job (one task per cell, each into its own shard database under "
          + "<results>/slurm/<experiment>/) and a job after it that merges the shards into --db and renders the report."))
    var slurm = false
    @Option(name: .customLong("slurm-arg"), parsing: .unconditionalSingleValue,
            help: "With --slurm: an #SBATCH option for both jobs (repeatable), e.g. --slurm-arg --partition=cpu.")
    var slurmArguments: [String] = []
    @Option(help: "With --slurm: at most this many array tasks at once.") var maxParallel: Int?

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
        if let shard = options.shard { do { _ = try Shard(parsing: shard) } catch let e as SpecError { throw ValidationError(e.message) } }
        if slurm, options.shard != nil { throw ValidationError("--slurm makes its own shards (one per cell); drop --shard") }
        if slurm, datasetOnly { throw ValidationError("--dataset-only and --slurm do not go together") }
        if !slurm, !slurmArguments.isEmpty || maxParallel != nil { throw ValidationError("--slurm-arg and --max-parallel apply only with --slurm") }
        if let maxParallel, maxParallel < 1 { throw ValidationError("--max-parallel must be at least 1") }
        if slurm, options.threads.threads != nil {
            throw ValidationError("--threads applies to local runs: under --slurm each array task uses the CPUs Slurm allots it; "
                                  + "ask for them with e.g. --slurm-arg --cpus-per-task=8")
        }
    }

    func run() throws {
        var o = options.runnerOptions()
        o.jobs = jobs
        if slurm { return try submitToSlurm(o) }
        let available = try options.threads.configure()
        o.childCommand = options.childCommand(executable: Self.currentExecutable(),
                                              threads: ReproduceOptions.childThreads(available: available, jobs: jobs))
        let stop = StopRequest()
        o.stop = stop
        let runner = MatrixRunner(options: o)
        do {
            if datasetOnly {
                let context = try runner.makeContext(datasetSHA256: "")
                print(Set(context.datasets.values.map(\.root)).sorted().joined(separator: "\n"))
                return
            }
            if dryRun {
                print(try runner.dryRun())
                return
            }
            let ctrlC = CtrlCHandler(stop, announce: "stopping: no further cell starts; each running cell stops after its current step, "
                                     + "writes a checkpoint and is recorded as interrupted (Ctrl-C again to quit at once)")
            defer { ctrlC.cancel() }
            let summary = try runner.run()
            if stop.isRequested {
                FileHandle.standardError.write(Data(("interrupted: \(summary.interrupted) cells stopped, \(summary.notStarted) not started; "
                    + "resume with: \(ThisCommand.line)\n").utf8))
                throw ExitCode(MatrixRunner.ChildStatus.interrupted)
            }
            try printClaims(summary.claims, experimentID: summary.experimentID)
            if summary.failed > 0 { throw ExitCode(Int32(min(summary.failed, 100))) }
        } catch let e as SpecError {
            throw ValidationError(e.description)
        }
    }

    /// `--slurm`: the array and merge jobs of the unfinished cells (see `SlurmSubmission`).
    func submitToSlurm(_ runnerOptions: MatrixRunner.Options) throws {
        let absolute = { (path: String) in URL(fileURLWithPath: path).standardizedFileURL.path }
        do {
            let spec = try ExperimentSpec.load(path: options.spec, overrides: options.overrides)
            var inputs = SlurmScripts.Inputs(experiment: spec.name, executable: Self.currentExecutable(), specPath: absolute(options.spec),
                                             overrides: options.overrides, database: absolute(options.db),
                                             resultsDirectory: absolute(options.resultsDir), cellCount: spec.cells().count)
            inputs.slurmArguments = slurmArguments
            inputs.maxParallel = maxParallel
            var o = runnerOptions
            o.specPath = inputs.specPath
            o.databasePath = inputs.database
            o.resultsDirectory = inputs.resultsDirectory
            try SlurmSubmission(runner: MatrixRunner(options: o), inputs: inputs, dryRun: dryRun).run()
        } catch let e as SpecError {
            throw ValidationError(e.description)
        }
    }

    /// Judges and stores the claims of the spec that ran on what the reproduction left in the
    /// database and prints their verdicts (nothing when the spec states no claims).
    func printClaims(_ claims: [Claim], experimentID: Int64) throws {
        guard !claims.isEmpty else { return }
        let store = try ResultsDatabase(path: options.db)
        let records = try ClaimVerdicts.judgeAndStore(claims, store: store, experimentID: experimentID)
        print("\nClaims\n" + ClaimTable.rendered(records, style: .text))
    }

    /// This executable's path (children re-run it).
    static func currentExecutable() -> String {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    }
}

/// `backdrop reproduce-cell` (hidden): one cell of a reproduction, run by `reproduce --jobs N`.
struct ReproduceCellCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reproduce-cell", abstract: "Run one cell of a reproduction (used by reproduce --jobs).", shouldDisplay: false)

    @OptionGroup var options: ReproduceOptions
    @Option(help: "The cell key.") var cell: String
    @Option(help: "Matrix position shown in progress lines (3/12).") var position = "?"
    @Option(help: "Dataset SHA-256 computed by the parent.") var datasetSha256: String?

    func run() throws {
        Self.stopWithParent()
        try options.threads.configure()
        // Ctrl-C reaches this child from the terminal and again from its parent: each one only
        // asks the cell to stop at a step boundary (the parent handles a second Ctrl-C).
        var runnerOptions = options.runnerOptions()
        let stop = StopRequest()
        runnerOptions.stop = stop
        let ctrlC = CtrlCHandler(stop, secondQuits: false, announce: nil)
        defer { ctrlC.cancel() }
        let runner = MatrixRunner(options: runnerOptions)
        let outcome: CellOutcome
        do {
            outcome = try runner.runOneCell(key: cell, position: position, datasetSHA256: datasetSha256)
        } catch let e as SpecError {
            throw ValidationError(e.description)
        }
        switch outcome {
        case .failed: throw ExitCode(MatrixRunner.ChildStatus.failed)
        case .busy: throw ExitCode(MatrixRunner.ChildStatus.busy)
        case .stopped: throw ExitCode(MatrixRunner.ChildStatus.interrupted)
        default: return
        }
    }

    /// Asks the kernel to send SIGTERM to this child when the `reproduce` that started it dies
    /// (even by `kill -9`), so no cell keeps training as an orphan; its claim is then taken over
    /// by the next reproduction. A parent already gone before the request took effect (this
    /// process was re-parented) ends the child at once.
    static func stopWithParent() {
        let parent = getppid()
        if backdrop_set_parent_death_signal(SIGTERM) == 0, getppid() != parent || parent == 1 {
            FileHandle.standardError.write(Data("reproduce-cell: the reproduction that started this cell is gone; stopping\n".utf8))
            Foundation.exit(MatrixRunner.ChildStatus.failed)
        }
    }
}
