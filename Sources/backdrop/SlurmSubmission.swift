import ArgumentParser
import Foundation
import Harness
import ResultsStore

/// `backdrop reproduce SPEC --slurm`: writes the array and merge scripts of the experiment's
/// unfinished cells under `<results>/slurm/<experiment>/` and submits them with `sbatch` (the
/// merge job after the array, `--dependency=afterany`). A cell is submitted unless it is
/// finished in the main database (or reused there from an identical finished run, linked now),
/// or finished in a shard database of an earlier submission that is still to be merged — so
/// re-running the command after failed or cancelled tasks submits only what is left.
struct SlurmSubmission {
    let runner: MatrixRunner
    let inputs: SlurmScripts.Inputs
    let dryRun: Bool

    /// The cells to submit (array index → cell key), those finished in shards only (to be
    /// merged), and what was decided for the others.
    func plan() throws -> (tasks: [(index: Int, cellKey: String)], unmerged: Int, notes: [String]) {
        let context = try runner.makeContext()
        let spec = context.spec
        let keys = spec.cells().map(\.key)
        let inShards = try finishedInShards(spec)
        var finished: Set<String> = []
        var notes: [String] = []
        if dryRun, !FileManager.default.fileExists(atPath: inputs.database) {
            notes.append("main database \(inputs.database) does not exist yet")
        } else {
            let store = try ResultsDatabase(path: inputs.database, mode: dryRun ? .readOnly : .readWrite)
            let existing = try store.experiments().last { $0.name == spec.name && $0.specSHA256 == spec.specSHA256 }
            let experiment = dryRun ? existing : try runner.upsertExperiment(context, store: store)
            let plan = try MatrixPlan(cells: spec.cells(), experimentID: experiment?.id, store: store, context: context)
            for (cell, action) in plan.entries {
                switch action {
                case .done:
                    finished.insert(cell.key)
                case .reuse(let runID, let owner):
                    finished.insert(cell.key)
                    if let experiment, !dryRun {
                        try store.linkRun(experimentID: experiment.id, cellKey: cell.key, sweep: cell.sweep, runID: runID)
                    }
                    notes.append("\(cell.key): reused run \(runID) of experiment \(owner) (identical configuration and dataset)")
                case .resume, .run, .sameAs:
                    break
                }
            }
        }
        let unmerged = inShards.subtracting(finished).count
        finished.formUnion(inShards)
        let tasks = keys.filter { !finished.contains($0) }.map { (Shard.position(of: $0, in: keys)!, $0) }.sorted { $0.0 < $1.0 }
        return (tasks, unmerged, notes)
    }

    /// Cell keys finished (with this spec) in the shard databases of the experiment's Slurm folder.
    func finishedInShards(_ spec: ExperimentSpec) throws -> Set<String> {
        let shards = URL(fileURLWithPath: SlurmScripts.folder(resultsDirectory: inputs.resultsDirectory, experiment: spec.name))
            .appendingPathComponent("shards")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: shards.path)) ?? []
        var done: Set<String> = []
        let configs = Dictionary(spec.cells().map { ($0.key, $0.configSHA256) }, uniquingKeysWith: { a, _ in a })
        for file in files.sorted() where file.hasSuffix(".sqlite") {
            let path = shards.appendingPathComponent(file).path
            guard let store = try? ResultsDatabase(path: path, mode: .readOnly),
                  let experiment = try store.experiments().last(where: { $0.name == spec.name && $0.specSHA256 == spec.specSHA256 })
            else { continue }
            for run in try store.runs(experimentID: experiment.id)
            where run.status == .finished && configs[run.cellKey] == run.provenance.configSHA256 {
                done.insert(run.cellKey)
            }
        }
        return done
    }

    /// Writes the scripts and submits them (or, with `dryRun`, prints them and submits nothing).
    func run() throws {
        let (tasks, unmerged, notes) = try plan()
        for note in notes { FileHandle.standardError.write(Data((note + "\n").utf8)) }
        let scripts = SlurmScripts(inputs, tasks: tasks)
        if dryRun {
            print("# \(scripts.folder)/array.sbatch (\(tasks.count) of \(inputs.cellCount) cells)")
            print(tasks.isEmpty ? "# nothing to submit: every cell is finished" : scripts.array)
            print("# \(scripts.folder)/merge.sbatch (submitted with --dependency=afterany:<array job id>)")
            print(scripts.merge)
            return
        }
        let folder = URL(fileURLWithPath: scripts.folder)
        for sub in ["logs", "shards"] {
            try FileManager.default.createDirectory(at: folder.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        let arrayFile = folder.appendingPathComponent("array.sbatch"), mergeFile = folder.appendingPathComponent("merge.sbatch")
        try Data(scripts.array.utf8).write(to: arrayFile, options: .atomic)
        try Data(scripts.merge.utf8).write(to: mergeFile, options: .atomic)
        var arrayJob: String? = nil
        if !tasks.isEmpty {
            arrayJob = try Self.sbatch([arrayFile.path])
        } else if unmerged == 0 {
            print("nothing to submit: all \(inputs.cellCount) cells of \(inputs.experiment) are finished in \(inputs.database)")
            return
        }
        let mergeJob = try Self.sbatch((arrayJob.map { ["--dependency=afterany:\($0)"] } ?? []) + [mergeFile.path])
        try SlurmJobLog.append(SlurmJobLog.Submission(arrayJob: arrayJob, mergeJob: mergeJob, submittedAt: Date(),
                                                      tasks: tasks.map { .init(index: $0.index, cellKey: $0.cellKey) }), in: scripts.folder)
        if let arrayJob {
            print("submitted array job \(arrayJob): \(tasks.count) of \(inputs.cellCount) cells (tasks \(SlurmScripts.arraySpec(tasks.map(\.index))))")
        } else {
            print("every cell is finished; \(unmerged) only in shards, so only the merge is submitted")
        }
        print("submitted merge job \(mergeJob)" + (arrayJob.map { " (runs after array job \($0) ends)" } ?? ""))
        let ids = ([arrayJob, mergeJob].compactMap { $0 }).joined(separator: ",")
        print("follow with: squeue -j \(ids)   ·   backdrop status --experiment \(inputs.experiment) --db \(ShellQuoting.quote(inputs.database))"
              + "   ·   logs in \(scripts.folder)/logs/")
    }

    /// Submits with `sbatch --parsable` and returns the job id.
    static func sbatch(_ arguments: [String]) throws -> String {
        let result = try ExternalTool.run("sbatch", ["--parsable"] + arguments)
        guard result.status == 0 else {
            throw ValidationError("sbatch \(arguments.joined(separator: " ")) failed (status \(result.status)): "
                + result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        // `--parsable` prints `jobid` or `jobid;cluster`.
        return String(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ";").first ?? "")
    }
}
