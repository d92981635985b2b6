import ArgumentParser
import BuildInfo
import Foundation
import Harness
import ResultsStore

/// `backdrop train --db DB [--experiment NAME]`: the run is recorded like a matrix cell — claimed,
/// its metrics, evaluations, checkpoints and provenance (config and dataset hashes, git state)
/// stored — into an ad-hoc experiment that `runs`, `matrix`, `compare` and `report` read like any
/// other. An identical run (same configuration and dataset hashes) already finished anywhere in
/// the database is linked instead of trained again.
extension TrainCommand {
    /// The ad-hoc experiment's identity: its name alone (every `train --db --experiment NAME`
    /// adds its cell to the same experiment), as a hash so it never equals a spec's hash.
    static func adHocSpecHash(name: String) -> String { ContentHash.sha256Hex(Data("ad-hoc experiment \(name)".utf8)) }

    func runRecorded(_ single: SingleCellSpec, database: String) throws {
        guard ExperimentSpec.isIdentifier(experiment) else {
            throw ValidationError("--experiment \(experiment): use letters, digits, '-', '_' and '.' only")
        }
        let dbFolder = URL(fileURLWithPath: database).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: dbFolder.isEmpty ? "." : dbFolder, withIntermediateDirectories: true)
        let store = try ResultsDatabase(path: database)
        var spec = single.spec
        spec.name = experiment
        var cell = single.cell
        let sha = try DatasetFiles.sha256(root: data)
        var context = ReproductionContext(spec: spec, specPath: "backdrop train", databasePath: database,
                                          resultsDirectory: dbFolder.isEmpty ? "." : dbFolder, datasetRoot: data,
                                          sources: RunSources(gitCommit: BuildInfo.gitCommit, gitDirty: BuildInfo.gitDirty, datasetSHA256: sha))
        context.cacheFolder = .some(noCache ? nil : cacheDir)
        cell.config.data = spec.datasetIdentity
        let e = try store.upsertExperiment(name: experiment, specSHA256: Self.adHocSpecHash(name: experiment), specPath: "backdrop train",
                                           specText: "", overrides: [ThisCommand.line])
        // An ad-hoc experiment holds each cell key once: another configuration under a finished key is refused.
        if let existing = try store.run(experimentID: e.id, cellKey: cell.key), existing.status == .finished,
           existing.provenance.configSHA256 != cell.configSHA256 || (existing.provenance.datasetSHA256 ?? sha) != sha {
            throw ValidationError("experiment \(experiment) (id \(e.id)) already has cell \(cell.key) trained with another configuration "
                + "or dataset; record this run under another --experiment")
        }
        // The same decision a matrix takes for each cell: done, reuse an identical run, or train.
        let runID: Int64
        switch try MatrixPlan(cells: [cell], experimentID: e.id, store: store, context: context).entries[0].action {
        case .done:
            guard let existing = try store.run(experimentID: e.id, cellKey: cell.key) else { throw ValidationError("the run was not recorded") }
            Self.note("cell \(cell.key) of experiment \(experiment) is already finished with this configuration (run \(existing.id))")
            runID = existing.id
        case .reuse(let same, let owner):
            try store.linkRun(experimentID: e.id, cellKey: cell.key, sweep: "", runID: same)
            Self.note("reused run \(same) of experiment \(owner): it finished with the same configuration "
                + "and dataset hashes, so it is linked into \(experiment), not retrained")
            runID = same
        case .run, .resume, .sameAs:
            let stop = StopRequest()
            let ctrlC = CtrlCHandler(stop, announce: "stopping after the current step (a checkpoint is written); Ctrl-C again to quit at once")
            defer { ctrlC.cancel() }
            let outcome = try CellRunner.run(cell, experimentID: e.id, store: store, context: context,
                                             progress: quiet ? nil : ProgressReporter(), stop: stop, checkpointDirectory: checkpointDir)
            switch outcome {
            case .stopped(let note):
                Self.note("\(note)\nresume with: \(ThisCommand.line)")
                throw ExitCode(MatrixRunner.ChildStatus.interrupted)
            case .failed(let message): throw ValidationError("the run failed: \(message)")
            case .busy: throw ValidationError("cell \(cell.key) of experiment \(experiment) is being trained by another process")
            case .finishedWithOtherConfig:
                throw ValidationError("experiment \(experiment) already has cell \(cell.key) with another configuration; use another --experiment")
            default: break
            }
            guard let run = try store.run(experimentID: e.id, cellKey: cell.key) else { throw ValidationError("the run was not recorded") }
            runID = run.id
        }
        print(Self.evaluationLines(try store.evaluations(runID: runID)))
        print("recorded as run \(runID) of experiment \(experiment) (id \(e.id)) in \(database); see: backdrop runs --db \(database) --experiment \(e.id)")
    }

    static func note(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }

    /// `protocol (probe view)  test view  top-1 / top-k` per stored evaluation (percent).
    static func evaluationLines(_ rows: [EvaluationRecord]) -> String {
        let header = "protocol (probe view)     test view          top-1 / top-k"
        return ([header] + rows.filter { $0.split == "test" }.map { r in
            let key = "\(r.protocolName) (\(r.probeView))"
            return key.padding(toLength: max(26, key.count + 1), withPad: " ", startingAt: 0)
                + r.testView.padding(toLength: max(19, r.testView.count + 1), withPad: " ", startingAt: 0)
                + String(format: "%.1f / %.1f", r.top1 * 100, r.top5 * 100)
        }).joined(separator: "\n")
    }
}


