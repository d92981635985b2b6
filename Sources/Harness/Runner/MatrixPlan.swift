import Foundation
import ResultsStore

/// What a reproduction will do with each cell, decided from the database before anything runs
/// (and printed by `backdrop reproduce --dry-run`):
///
/// - `done`: this experiment already has the cell finished with the same configuration and
///   dataset hashes (trained here, or linked earlier);
/// - `reuse`: a run with the same configuration and dataset hashes finished in another
///   experiment (or under another cell key): it is linked, not retrained;
/// - `resume`: the cell's own run was interrupted or failed with this configuration and its
///   checkpoint is on disk: training continues from it;
/// - `run`: trained from scratch;
/// - `sameAs`: identical (configuration and dataset) to an earlier cell of this plan that runs
///   (a sweep over a key some cells do not use, such as `iclmsr.weight` for the `none` cells): it
///   is linked to that cell's run once it finishes.
public struct MatrixPlan: Sendable {
    public enum Action: Sendable, Equatable {
        case done
        case reuse(runID: Int64, experimentID: Int64)
        case resume(epoch: Int?)
        case run
        case sameAs(cellKey: String)

        public var label: String {
            switch self {
            case .done: return "done"
            case .reuse(let run, let experiment): return "reuse run \(run) (experiment \(experiment))"
            case .resume(let epoch): return epoch.map { "resume from the epoch-\($0) checkpoint" } ?? "resume from its checkpoint"
            case .run: return "run"
            case .sameAs(let key): return "reuse the run of \(key) (identical cell of this matrix)"
            }
        }
    }

    public var entries: [(cell: MatrixCell, action: Action)]

    /// Decides every cell's action.
    /// - Parameters:
    ///   - experimentID: this spec's experiment row, nil when it does not exist yet (a dry run).
    ///   - store: the database, nil when there is none yet (every cell then runs).
    public init(cells: [MatrixCell], experimentID: Int64?, store: ResultsDatabase?, context: ReproductionContext) throws {
        let finished = try experimentID.map { try store?.finishedCellHashes(experimentID: $0) ?? [:] } ?? [:]
        var entries: [(cell: MatrixCell, action: Action)] = []
        var trainedHere: [String: String] = [:]   // config + dataset hash → the first cell of this plan that trains it
        for cell in cells {
            let dataset = try context.dataset(for: cell).sha256
            let identity = cell.configSHA256 + dataset
            // A finished run without a dataset hash predates it being recorded and counts as current.
            if let done = finished[cell.key], done.config == cell.configSHA256, (done.dataset ?? dataset) == dataset {
                entries.append((cell, .done))
                continue
            }
            if let store, let run = try store.reusableRun(configSHA256: cell.configSHA256, datasetSHA256: dataset),
               run.experimentID != experimentID || run.cellKey != cell.key {
                entries.append((cell, .reuse(runID: run.id, experimentID: run.experimentID)))
                continue
            }
            if let first = trainedHere[identity] {
                entries.append((cell, .sameAs(cellKey: first)))
                continue
            }
            trainedHere[identity] = cell.key
            entries.append((cell, try Self.resumeOrRun(cell, dataset: dataset, experimentID: experimentID, store: store, context: context)))
        }
        self.entries = entries
    }

    /// `resume` when the cell's own unfinished run has this configuration and dataset and its
    /// checkpoint file exists (`CellRunner.prepareCheckpoint` still verifies it), else `run`.
    static func resumeOrRun(_ cell: MatrixCell, dataset: String, experimentID: Int64?, store: ResultsDatabase?,
                            context: ReproductionContext) throws -> Action {
        guard let experimentID, let store, let run = try store.run(experimentID: experimentID, cellKey: cell.key),
              [.failed, .running, .interrupted].contains(run.status),
              run.provenance.configSHA256 == cell.configSHA256, (run.provenance.datasetSHA256 ?? dataset) == dataset else { return .run }
        let checkpoint = TrainingCell.checkpointURL(in: context.checkpointDirectory(for: cell))
        guard FileManager.default.fileExists(atPath: checkpoint.path) else { return .run }
        return .resume(epoch: try store.latestCheckpoint(runID: run.id)?.epoch)
    }

    /// Cells per action label (`run`, `reuse`, `resume`, `done`).
    public var counts: (run: Int, reuse: Int, resume: Int, done: Int) {
        var c = (run: 0, reuse: 0, resume: 0, done: 0)
        for e in entries {
            switch e.action {
            case .done: c.done += 1
            case .reuse, .sameAs: c.reuse += 1
            case .resume: c.resume += 1
            case .run: c.run += 1
            }
        }
        return c
    }

    /// The dry-run listing: one line per cell, `action  key  config-hash`.
    public var listing: String {
        let width = entries.map(\.cell.key.count).max() ?? 0
        return entries.map { e in
            let (kind, detail): (String, String)
            switch e.action {
            case .done: (kind, detail) = ("done", "")
            case .run: (kind, detail) = ("run", "")
            case .reuse, .sameAs: (kind, detail) = ("reuse", "  " + e.action.label)
            case .resume: (kind, detail) = ("resume", "  " + e.action.label)
            }
            return "\(kind.padding(toLength: 6, withPad: " ", startingAt: 0))  \(e.cell.key.padding(toLength: width, withPad: " ", startingAt: 0))  config \(e.cell.configSHA256.prefix(12))\(detail)"
        }.joined(separator: "\n")
    }
}
