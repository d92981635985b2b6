import ArgumentParser
import Foundation
import Harness
import ResultsStore

/// `backdrop status --experiment NAME`: where each cell of an experiment stands, across the main
/// database, the shard databases of a cluster run and Slurm's own view of its jobs.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Where each cell of an experiment stands: finished, running, failed, interrupted or pending — in the main database, "
            + "in shard databases not merged yet, and in Slurm (squeue/sacct) for submitted cells.",
        discussion: """
        Reads the main database (read-only; it need not exist yet), the shard databases under \
        <results-dir>/slurm/<experiment>/shards/ and the job log jobs.json there, and asks Slurm about the submitted \
        array tasks when squeue (running and pending tasks) and sacct (ended tasks, when accounting is enabled) are \
        on PATH. A cell's status is the most advanced one found (finished > running > interrupted > failed > pending).
        """)
    @Option(help: "Experiment name (the latest of that name) or id.") var experiment: String
    @OptionGroup var output: QueryOutputOptions
    @Option(help: "Folder of the cluster runs' shard databases and job logs (<results-dir>/slurm/<experiment>/).") var resultsDir = "Results"

    func run() throws {
        let main = FileManager.default.fileExists(atPath: output.db) ? try ResultsDatabase(path: output.db, mode: .readOnly) : nil
        let name = (try? main?.resolveExperiment(experiment))??.name ?? experiment
        let folder = SlurmScripts.folder(resultsDirectory: resultsDir, experiment: name)
        let submissions = try SlurmJobLog.read(in: folder)
        let status = try ClusterStatus(experiment: experiment, main: main, shardFolder: folder + "/shards", submissions: submissions,
                                       slurmStates: Self.slurmStates(jobs: submissions.compactMap(\.arrayJob)))
        guard !status.cells.isEmpty || status.cellCount != nil else {
            throw ValidationError("no experiment \(experiment) in \(output.db) or in \(folder)")
        }
        try output.print { status.table }
        FileHandle.standardError.write(Data((status.summary + "\n").utf8))
    }

    /// Array task id (`12_3`) → state, from `sacct` (ended tasks) overridden by `squeue` (live ones).
    static func slurmStates(jobs: [String]) -> [String: String] {
        guard !jobs.isEmpty else { return [:] }
        var states: [String: String] = [:]
        let list = jobs.joined(separator: ",")
        if ExternalTool.isAvailable("sacct"), let r = try? ExternalTool.run("sacct", ["-n", "-P", "-X", "-j", list, "-o", "JobID,State"]), r.status == 0 {
            for line in r.stdout.split(separator: "\n") {
                let f = line.split(separator: "|", maxSplits: 1).map(String.init)
                if f.count == 2 { states[f[0]] = f[1] }
            }
        }
        if ExternalTool.isAvailable("squeue"), let r = try? ExternalTool.run("squeue", ["-h", "-r", "-j", list, "-o", "%i|%T"]), r.status == 0 {
            for line in r.stdout.split(separator: "\n") {
                let f = line.split(separator: "|", maxSplits: 1).map(String.init)
                if f.count == 2 { states[f[0]] = f[1] }
            }
        }
        return states
    }
}
