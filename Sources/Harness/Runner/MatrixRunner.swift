import Foundation
import ImageData
import ResultsStore
#if canImport(Glibc)
import Glibc
#endif

/// Runs an experiment's whole matrix: prepares the dataset, plans every cell in the database,
/// then runs the cells that are not finished in up to `jobs` child processes (whose command line
/// the caller provides: `Options.childCommand`; `jobs == 1` runs them one at a time), which the
/// store's atomic claims keep from ever running a cell twice, even across concurrent
/// reproductions of the same spec. A child that crashes (a trap, a signal) takes only its cell
/// down: the cell is recorded `failed` with the signal and the child's last output lines. Without
/// a child command (tests, library use) every cell runs in this process.
public struct MatrixRunner {
    public struct Options: Sendable {
        public var specPath: String
        public var overrides: [String] = []
        public var databasePath: String = "Results/backdrop.sqlite"
        public var resultsDirectory: String = "Results"
        public var jobs: Int = 1
        /// Tests: each cell stops before this step and the process kills itself with SIGKILL.
        /// With `jobs == 1` the cells then run in this process, so the runner itself is killed.
        public var killAfterSteps: Int? = nil
        /// Tests: each cell stops before this step and its process traps (`fatalError`), as a
        /// crash inside training would.
        public var crashAfterSteps: Int? = nil
        /// The command line (executable first) of a child process that runs one cell;
        /// nil: every cell runs in this process. The front end that owns the command line builds it.
        public var childCommand: (@Sendable (ChildRequest) -> [String])? = nil
        /// Only these cell keys (nil: all).
        public var cellKeys: Set<String>? = nil
        /// Only this slice of the matrix (`--shard I/N`; nil: all). A shard database belongs to
        /// the one task that runs its slice, so a `running` claim found in it was left by an
        /// earlier attempt of that task (cancelled, timed out, its node lost — on whatever host)
        /// and is taken over at once instead of after the 600 s heartbeat timeout.
        public var shard: Shard? = nil
        /// Ctrl-C: once requested, no further cell starts, running cells stop after their current
        /// step with a checkpoint (child processes are sent SIGINT) and are recorded `interrupted`.
        public var stop: StopRequest? = nil
        /// The source revision stored with every run (the command line passes its build's).
        public var revision: SourceRevision = .unrecorded

        public init(specPath: String) { self.specPath = specPath }
    }

    /// What the parent decides for one child process, beyond the options the caller already
    /// holds (spec, overrides, database, results folder): which cell, its matrix position, and the
    /// provenance computed once for every cell.
    public struct ChildRequest: Sendable {
        public var cellKey: String
        /// Matrix position for progress lines (`3/12`).
        public var position: String
        public var sources: RunSources
    }

    /// What a reproduction did.
    public struct Summary: Sendable {
        public var experiment: String
        public var experimentID: Int64
        public var outcomes: [(cell: String, outcome: CellOutcome)]
        /// The claims of the spec that ran (`claims:`), to be judged on what it left in the database.
        public var claims: [Claim] = []
        public var failed: Int { outcomes.filter { if case .failed = $0.outcome { return true }; return false }.count }
        public var trained: Int { outcomes.filter { if case .finished = $0.outcome { return true }; return false }.count }
        /// Cells stopped by Ctrl-C (recorded `interrupted`).
        public var interrupted: Int { outcomes.filter { if case .stopped = $0.outcome { return true }; return false }.count }
        /// Cells left unstarted because of Ctrl-C.
        public var notStarted: Int = 0
    }

    public let options: Options
    let log: @Sendable (String) -> Void

    /// - Parameter log: where progress and status lines go (default: standard error).
    public init(options: Options, log: (@Sendable (String) -> Void)? = nil) {
        self.options = options
        self.log = log ?? { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
    }

    /// Runs the matrix.
    /// - Returns: each cell's outcome; `summary.failed` is the exit status of `backdrop reproduce`.
    public func run() throws -> Summary {
        let context = try makeContext()
        let spec = context.spec
        let store = try ResultsDatabase(path: options.databasePath)
        let experiment = try upsertExperiment(context, store: store)
        let cells = selectedCells(of: spec)
        let plan = try MatrixPlan(cells: cells, experimentID: experiment.id, store: store, context: context)
        var outcomes: [String: CellOutcome] = [:]
        var todo: [MatrixCell] = []
        for (cell, action) in plan.entries {
            switch action {
            case .done:
                outcomes[cell.key] = .skipped
            case .reuse(let runID, let owner):
                try store.linkRun(experimentID: experiment.id, cellKey: cell.key, sweep: cell.sweep, runID: runID)
                outcomes[cell.key] = .reused(runID: runID, experimentID: owner)
            case .resume, .run:
                todo.append(cell)
            case .sameAs:
                break   // linked below, once the identical cell has run
            }
        }
        let counts = plan.counts
        log("experiment \(spec.name) (id \(experiment.id)): \(cells.count) cells (\(Self.shape(of: spec))"
            + (options.shard.map { "; shard \($0) of \(spec.cells().count) cells" } ?? "") + "), \(counts.done) already finished, "
            + "\(counts.reuse) reused from identical runs, \(todo.count) to run\(counts.resume > 0 ? " (\(counts.resume) resuming)" : ""); "
            + "\(Self.describeDatasets(context)); db \(options.databasePath)")
        let total = cells.count
        let position = { (cell: MatrixCell) in "\((cells.firstIndex(of: cell) ?? 0) + 1)/\(total)" }

        packSplits(of: todo, context: context)
        let progress = MatrixProgress(cellsToRun: todo.count)
        let log = self.log
        let ended = { (cell: MatrixCell, outcome: CellOutcome) in
            let result = MatrixProgress.result(of: outcome, cell: cell, experimentID: experiment.id, store: store)
            log(progress.cellEnded(cell.key, outcome: outcome, result: result))
        }
        if options.childCommand == nil || (options.jobs <= 1 && options.killAfterSteps != nil) {
            for cell in todo {
                if options.stop?.isRequested == true { break }
                let outcome = try runInProcess(cell, position: position(cell), experimentID: experiment.id, store: store, context: context)
                outcomes[cell.key] = outcome
                ended(cell, outcome)
            }
        } else {
            let results = try runChildren(todo, position: position, context: context, experimentID: experiment.id, store: store,
                                          cellEnded: ended)
            outcomes.merge(results) { $1 }
        }
        for case let (cell, .sameAs(first)) in plan.entries {
            // After Ctrl-C an identical cell may not have run: the next reproduction links it.
            if options.stop?.isRequested == true, outcomes[first].map({ if case .finished = $0 { return false }; return true }) ?? true {
                continue
            }
            outcomes[cell.key] = try linkIdentical(cell, to: first, experimentID: experiment.id, store: store, context: context)
        }
        let notStarted = Set(plan.entries.map(\.cell).filter { outcomes[$0.key] == nil }.map(\.key))
        let ordered = cells.filter { !notStarted.contains($0.key) }.map { ($0.key, outcomes[$0.key] ?? .skipped) }
        var summary = Summary(experiment: spec.name, experimentID: experiment.id, outcomes: ordered, claims: spec.claims ?? [])
        summary.notStarted = notStarted.count
        let busy = ordered.filter { $0.1 == .busy }.count
        let reused = ordered.filter { if case .reused = $0.1 { return true }; return false }.count
        log("experiment \(spec.name): \(summary.trained) trained, \(reused) reused, \(ordered.count - summary.trained - summary.failed - busy - reused) "
            + "skipped, \(busy) running elsewhere, \(summary.failed) failed"
            + (options.stop?.isRequested == true ? ", \(summary.interrupted) interrupted, \(summary.notStarted) not started (Ctrl-C)" : ""))
        for (key, outcome) in ordered {
            if case .failed(let message) = outcome { log("  FAILED \(key): \(message)") }
        }
        return summary
    }

    /// The spec's cells this runner runs: all, or those of `options.cellKeys` and of `options.shard`.
    public func selectedCells(of spec: ExperimentSpec) -> [MatrixCell] {
        var cells = spec.cells()
        if let keys = options.cellKeys { cells = cells.filter { keys.contains($0.key) } }
        if let shard = options.shard {
            let slice = Set(shard.select(spec.cells().map(\.key)))
            cells = cells.filter { slice.contains($0.key) }
        }
        return cells
    }

    /// Links `cell` to the run of the identical cell `first` of the same matrix, which has just run.
    func linkIdentical(_ cell: MatrixCell, to first: String, experimentID: Int64, store: ResultsDatabase,
                       context: ReproductionContext) throws -> CellOutcome {
        guard let run = try store.reusableRun(configSHA256: cell.configSHA256, datasetSHA256: try context.dataset(for: cell).sha256) else {
            return .failed("its identical cell \(first) did not finish; rerun to train it")
        }
        try store.linkRun(experimentID: experimentID, cellKey: cell.key, sweep: cell.sweep, runID: run.id)
        log("[cell \(cell.key)] reused run \(run.id) of its identical cell \(first)")
        return .reused(runID: run.id, experimentID: run.experimentID)
    }

    /// Decodes the splits the cells to run read (once per image size) into the packed cache
    /// before any cell starts, so that every cell maps them instead of decoding. A split that
    /// cannot be loaded is left to the cells, which record the error.
    func packSplits(of cells: [MatrixCell], context: ReproductionContext) {
        var done: Set<String> = []
        for cell in cells {
            guard let options = try? context.datasetOptions(for: cell) else { continue }
            var relaxed = options
            relaxed.requireMasks = false
            for split in ["train", "test"] + (options.pretrainSplit.map { [$0] } ?? []) where done.insert("\(cell.config.data)@\(split)@\(options.size)").inserted {
                do {
                    _ = try Dataset.load(root: context.dataset(for: cell).root, split: split, options: relaxed, log: log)
                } catch {
                    log("could not pack the \(split) split (\(options.size) px) ahead of the cells; each cell will report it")
                }
            }
        }
    }

    /// Runs the one cell `key` of the spec in this process, as a child process of `run()` does
    /// (the provenance comes from the parent, so every cell of a reproduction records the same).
    /// - Throws: `SpecError` when the spec has no such cell.
    public func runOneCell(key: String, position: String, datasetSHA256: String?) throws -> CellOutcome {
        let context = try makeContext(datasetSHA256: datasetSHA256, onlyCell: key)
        guard let cell = context.spec.cells().first(where: { $0.key == key }) else {
            throw SpecError(location: options.specPath, key: "", message: "the spec has no cell \(key)")
        }
        let store = try ResultsDatabase(path: options.databasePath)
        let experiment = try upsertExperiment(context, store: store)
        return try runInProcess(cell, position: position, experimentID: experiment.id, store: store, context: context)
    }

    /// The experiment's row (created on first use; the spec's canonical JSON pins it).
    public func upsertExperiment(_ context: ReproductionContext, store: ResultsDatabase) throws -> Experiment {
        let spec = context.spec
        let source = FileManager.default.contents(atPath: options.specPath).map { String(decoding: $0, as: UTF8.self) } ?? ""
        return try store.upsertExperiment(name: spec.name, specSHA256: spec.specSHA256, specPath: options.specPath, specText: spec.canonicalJSON,
                                          specSource: source, overrides: options.overrides, cellCount: spec.cells().count)
    }

    /// Runs one cell here with progress lines prefixed by its matrix position.
    public func runInProcess(_ cell: MatrixCell, position: String, experimentID: Int64, store: ResultsDatabase,
                             context: ReproductionContext) throws -> CellOutcome {
        let prefix = "[cell \(position) \(cell.key)]"
        let log = self.log
        let progress = ProgressReporter { log("\(prefix) \($0)") }
        log("\(prefix) starting")
        let outcome = try CellRunner.run(cell, experimentID: experimentID, store: store, context: context, progress: progress,
                                         stepLimit: options.killAfterSteps ?? options.crashAfterSteps, stop: options.stop,
                                         staleAfter: options.shard == nil ? 600 : 0)
        if outcome == .interrupted, let step = options.crashAfterSteps, options.killAfterSteps == nil {
            fatalError("\(prefix) crashing at step \(step) (test option --crash-after-steps)")
        }
        if outcome == .interrupted, options.killAfterSteps != nil {
            log("\(prefix) stopping at step \(options.killAfterSteps!) with SIGKILL (test option)")
            kill(getpid(), SIGKILL)
        }
        switch outcome {
        case .finished(_, let seconds): log("\(prefix) \(outcome.label) in \(ProgressReporter.duration(seconds))")
        case .failed(let message): log("\(prefix) FAILED: \(message)")
        default: log("\(prefix) \(outcome.label)")
        }
        return outcome
    }

    /// Runs cells in child processes, at most `jobs` at a time. Each child's standard error is
    /// passed through to `log` line by line; its last lines explain a crash.
    func runChildren(_ cells: [MatrixCell], position: (MatrixCell) -> String, context: ReproductionContext, experimentID: Int64,
                     store: ResultsDatabase, cellEnded: (MatrixCell, CellOutcome) -> Void = { _, _ in }) throws -> [String: CellOutcome] {
        var queue = cells[...]
        var running: [(cell: MatrixCell, process: Process, output: ChildOutput)] = []
        var outcomes: [String: CellOutcome] = [:]
        var forwarded = false
        while !queue.isEmpty || !running.isEmpty {
            if options.stop?.isRequested == true {
                queue = []
                // A Ctrl-C in the terminal reaches the children too; a SIGINT sent to this
                // process alone is passed on, once, so each child stops at a step boundary.
                if !forwarded { for entry in running { kill(entry.process.processIdentifier, SIGINT) } }
                forwarded = true
            }
            while running.count < max(options.jobs, 1), let cell = queue.popFirst() {
                let command = options.childCommand!(ChildRequest(cellKey: cell.key, position: position(cell), sources: try context.sources(for: cell)))
                let process = Process()
                process.executableURL = URL(fileURLWithPath: command[0])
                process.arguments = Array(command.dropFirst())
                let output = ChildOutput(log: log)
                process.standardError = output.pipe
                try process.run()
                running.append((cell, process, output))
            }
            Thread.sleep(forTimeInterval: 0.1)
            var still: [(cell: MatrixCell, process: Process, output: ChildOutput)] = []
            for entry in running {
                if entry.process.isRunning { still.append(entry); continue }
                entry.process.waitUntilExit()
                let lastLines = entry.output.finish()
                let outcome = try childOutcome(entry.cell, status: entry.process.terminationStatus,
                                               reason: entry.process.terminationReason, lastLines: lastLines,
                                               experimentID: experimentID, store: store)
                outcomes[entry.cell.key] = outcome
                cellEnded(entry.cell, outcome)
            }
            running = still
        }
        return outcomes
    }

    /// Reads back what a child did; a child that died without releasing its claim has the cell
    /// recorded as failed (a rerun resumes it from its checkpoint).
    func childOutcome(_ cell: MatrixCell, status: Int32, reason: Process.TerminationReason, lastLines: [String] = [],
                      experimentID: Int64, store: ResultsDatabase) throws -> CellOutcome {
        let run = try store.run(experimentID: experimentID, cellKey: cell.key)
        switch run?.status {
        case .finished?:
            if status == 0, let run, run.provenance.configSHA256 == cell.configSHA256 { return .finished(resumed: false, seconds: 0) }
            return .skipped
        case .failed?: return .failed(run?.error ?? "failed")
        case .interrupted?: return .stopped(note: run?.error ?? "interrupted (Ctrl-C)")
        case .running?:
            if status == ChildStatus.busy { return .busy }
            let how = Self.describeDeath(status: status, bySignal: reason == .uncaughtSignal, lastLines: lastLines)
            // The child is gone, so its claim is stale: take it over and record the failure.
            let provenance = RunProvenance(configJSON: cell.configJSON, configSHA256: cell.configSHA256)
            if options.killAfterSteps != nil { return .interrupted }
            if case .claimed(let claim) = try store.beginRun(experimentID: experimentID, cell: cell.runCell, provenance: provenance) {
                try store.failRun(claim, error: "the cell's process \(how)")
            }
            return .failed("the cell's process \(how)")
        default:
            return .failed("the cell's process exited with status \(status) before claiming the cell")
        }
    }

    /// "was killed by signal 4 (SIGILL); last output: …" or "exited with status 2; …": how a
    /// child ended, with its trap message or else the last lines it wrote to standard error (at most 5).
    static func describeDeath(status: Int32, bySignal: Bool, lastLines: [String]) -> String {
        var text = bySignal ? "was killed by signal \(status)\(ChildOutput.signalName(status).map { " (\($0))" } ?? "")"
                            : "exited with status \(status)"
        let lines = lastLines.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        // A trap prints its message and then a long backtrace: the message is what explains it.
        let fatal = lines.last { $0.contains("Fatal error") || $0.contains("Precondition failed") || $0.contains("Assertion failed") }
        let tail = fatal.map { [$0] } ?? Array(lines.suffix(5))
        if !tail.isEmpty { text += "; last output: " + tail.joined(separator: " | ") }
        return text
    }

    /// Exit statuses of a child process that runs one cell.
    public enum ChildStatus {
        public static let done: Int32 = 0
        public static let failed: Int32 = 1
        public static let busy: Int32 = 3
        /// Stopped by Ctrl-C and recorded `interrupted` (128 + SIGINT, as shells report it).
        public static let interrupted: Int32 = 130
    }
}
