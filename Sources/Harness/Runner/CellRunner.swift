import Evaluation
import ImageData
import Foundation
import ResultsStore

/// Everything the cells of one reproduction share.
public struct ReproductionContext: Sendable {
    public var spec: ExperimentSpec
    public var specPath: String
    /// The results database file.
    public var databasePath: String
    /// `Results/`: datasets, checkpoints and reports live below it.
    public var resultsDirectory: String
    /// The dataset folder of the spec (of its first sweep point).
    public var datasetRoot: String
    /// The git state and tool versions; `datasetSHA256` is that of `datasetRoot`.
    public var sources: RunSources
    /// Every prepared dataset by its identity (`MatrixCell.config.data` before binding:
    /// `builtin:<hash>` or the folder as the spec gives it): a sweep over dataset keys has several.
    public var datasets: [String: PreparedDataset]

    /// A dataset folder ready to train on, and the SHA-256 of its content.
    public struct PreparedDataset: Sendable, Equatable {
        public var root: String
        public var sha256: String
    }

    public init(spec: ExperimentSpec, specPath: String, databasePath: String, resultsDirectory: String, datasetRoot: String, sources: RunSources,
                datasets: [String: PreparedDataset]? = nil) {
        self.spec = spec
        self.specPath = specPath
        self.databasePath = databasePath
        self.resultsDirectory = resultsDirectory
        self.datasetRoot = datasetRoot
        self.sources = sources
        self.datasets = datasets ?? [spec.datasetIdentity: PreparedDataset(root: datasetRoot, sha256: sources.datasetSHA256)]
    }

    /// The prepared dataset `cell` trains on.
    /// - Throws: `SpecError` when its dataset was not prepared (a child process prepares only its own).
    public func dataset(for cell: MatrixCell) throws -> PreparedDataset {
        guard let d = datasets[cell.config.data] else {
            throw SpecError(location: specPath, key: "dataset", message: "the dataset of cell \(cell.key) was not prepared")
        }
        return d
    }

    /// The provenance of `cell`'s run: the shared git state and versions, its own dataset hash.
    public func sources(for cell: MatrixCell) throws -> RunSources {
        var s = sources
        s.datasetSHA256 = try dataset(for: cell).sha256
        return s
    }

    /// `Results/checkpoints/<experiment>-<spec hash, 12 hex>/<cell>-<config hash, 16 hex>/`.
    ///
    /// One folder per run, never per name: a run is one cell of one `experiments` row, which the
    /// name and the spec hash identify. A `--set` variant (same name and cell keys, another spec
    /// hash, its own row) never reads, replaces or deletes the original's checkpoint, even for a
    /// cell whose configuration the override left unchanged.
    public func checkpointDirectory(for cell: MatrixCell) -> String {
        URL(fileURLWithPath: resultsDirectory).appendingPathComponent("checkpoints")
            .appendingPathComponent("\(spec.name)-\(spec.specSHA256.prefix(12))")
            .appendingPathComponent("\(cell.directoryName)-\(cell.configSHA256.prefix(16))").path
    }

    /// `Results/datasets/cache/`: the packed splits every cell maps.
    public var cacheDirectory: String {
        URL(fileURLWithPath: resultsDirectory).appendingPathComponent("datasets").appendingPathComponent("cache").path
    }

    /// Where cells read the packed cache: `cacheDirectory` by default; another folder, or nil
    /// for no cache (`backdrop train --cache-dir` / `--no-cache`).
    public var cacheFolder: String?? = .none

    /// How `cell` reads the dataset: the spec's mask format and policy, the cell's image size, the packed cache.
    public func datasetOptions(for cell: MatrixCell) throws -> DatasetOptions {
        var options = try cell.dataset.options(size: cell.config.imageSize)
        options.cacheDirectory = cacheFolder ?? cacheDirectory
        return options
    }
}

/// What happened to one cell.
public enum CellOutcome: Sendable, Equatable {
    /// Trained (or resumed) and evaluated now.
    case finished(resumed: Bool, seconds: Double)
    /// Already finished with the same configuration hash.
    case skipped
    /// Finished earlier under another configuration hash (not rerun: the experiment row pins the spec).
    case finishedWithOtherConfig(String)
    /// Another live process holds the cell.
    case busy
    /// Recorded as failed with this error.
    case failed(String)
    /// Stopped at the step limit (the claim is left as a killed process would leave it).
    case interrupted
    /// Stopped on request (Ctrl-C) after `step` steps: checkpoint written, run recorded as
    /// `interrupted`, claim released; the next reproduction resumes it.
    case stopped(note: String)
    /// An identical run (same configuration and dataset hashes) finished elsewhere and was linked.
    case reused(runID: Int64, experimentID: Int64)

    public var label: String {
        switch self {
        case .finished(let resumed, _): return resumed ? "finished (resumed)" : "finished"
        case .skipped: return "skipped (already finished)"
        case .finishedWithOtherConfig: return "skipped (finished under another config hash)"
        case .busy: return "skipped (running in another process)"
        case .failed: return "FAILED"
        case .interrupted: return "interrupted"
        case .stopped(let note): return note
        case .reused(let run, let experiment): return "reused run \(run) of experiment \(experiment) (identical configuration and dataset)"
        }
    }
}

/// Passes the training loop's metrics to the store's batched writer.
final class StoreMetricSink: MetricSink {
    let writer: MetricWriter
    init(writer: MetricWriter) { self.writer = writer }
    func record(_ records: [MetricRecord]) throws {
        try writer.add(records.map { Metric(key: $0.key, step: $0.step, epoch: $0.epoch, value: $0.value, wallTime: $0.wallTime) })
    }
    func flush() throws { try writer.flush() }
}

/// Runs one cell against the results database: claim it atomically, resume from its checkpoint,
/// train, evaluate on every test view, record everything, release the claim.
public enum CellRunner {
    /// - Parameters:
    ///   - cell: the cell (from `ExperimentSpec.cells()`).
    ///   - experimentID: its experiment's row.
    ///   - store: the open database.
    ///   - context: the reproduction's shared inputs.
    ///   - progress: progress lines (already prefixed with the cell's position), nil: silent.
    ///   - stepLimit: stop training before this global step and return `.interrupted` without
    ///     releasing the claim (what a killed process leaves behind); tests only.
    ///   - stop: a Ctrl-C request: training stops after its current step with a checkpoint, and
    ///     the run is recorded as `interrupted` (`.stopped`).
    ///   - owner: the claimant (default: this process).
    ///   - staleAfter: seconds without a heartbeat after which another process's running claim is
    ///     taken over (see `beginRun`).
    ///   - checkpointDirectory: where its checkpoint lives (default: `context.checkpointDirectory(for:)`).
    public static func run(_ cell: MatrixCell, experimentID: Int64, store: ResultsDatabase, context: ReproductionContext,
                           progress: ProgressReporter? = nil, stepLimit: Int? = nil, stop: StopRequest? = nil,
                           owner: RunOwner = .current, staleAfter: TimeInterval = 600, checkpointDirectory: String? = nil) throws -> CellOutcome {
        let sources = try context.sources(for: cell)
        let provenance = RunProvenance(configJSON: cell.configJSON, configSHA256: cell.configSHA256, gitCommit: sources.gitCommit,
                                       gitDirty: sources.gitDirty, datasetSHA256: sources.datasetSHA256, versions: sources.versions)
        let claim: RunClaim
        switch try store.beginRun(experimentID: experimentID, cell: cell.runCell, provenance: provenance, staleAfter: staleAfter, owner: owner) {
        case .finished(let run):
            return run.provenance.configSHA256 == cell.configSHA256 ? .skipped : .finishedWithOtherConfig(run.provenance.configSHA256)
        case .busy:
            return .busy
        case .claimed(let c):
            claim = c
        }

        let directory = checkpointDirectory ?? context.checkpointDirectory(for: cell)
        let writer = store.metricWriter(for: claim)
        let started = Date()
        do {
            try prepareCheckpoint(in: directory, cell: cell, claim: claim, store: store, context: context, progress: progress)
            try store.recordParams(Self.params(of: cell), for: claim)
            var config = cell.config
            config.data = try context.dataset(for: cell).root
            let result = try TrainingCell.run(
                config, checkpointDirectory: directory, sink: StoreMetricSink(writer: writer), progress: progress,
                datasetOptions: try context.datasetOptions(for: cell),
                checkpointWritten: { position, url in
                    let sha = try ContentHash.sha256Hex(fileAt: url)
                    try store.recordCheckpoint(epoch: position.epoch, path: url.path, sha256: sha, for: claim)
                },
                stepLimit: stepLimit, stop: stop)
            try writer.finish()
            for e in result.evaluations { try store.recordEvaluation(Self.record(e), for: claim) }
            try store.recordBadSamples(result.badSamples, for: claim)
            try store.finishRun(claim)
            return .finished(resumed: result.resumed, seconds: Date().timeIntervalSince(started))
        } catch let interruption as TrainingInterrupted {
            try? writer.flush()
            guard interruption.requested else { return .interrupted }
            let at = interruption.position
            let note = "interrupted (Ctrl-C) at epoch \(at.epoch + 1), step \(at.step); the next reproduction resumes it from its checkpoint"
            try store.interruptRun(claim, note: note)
            return .stopped(note: note)
        } catch let error as ResultsStoreError {
            if case .claimLost = error { return .failed("\(error)") }
            try? store.failRun(claim, error: "\(error)")
            return .failed("\(error)")
        } catch {
            try? writer.flush()
            let message = String(describing: error)
            try? store.failRun(claim, error: message)
            return .failed(message)
        }
    }

    /// Leaves in `directory` only a checkpoint the claimed run may resume, or none.
    ///
    /// Stale temporaries of an interrupted write are removed. A checkpoint is kept only when an
    /// earlier unfinished attempt of this run, with the same configuration and dataset hashes,
    /// wrote it (anything else starts over, so the stored metrics are complete) and it passes
    /// `CheckpointGuard.problem(with:expectedSHA256:)` against the sha256 the run recorded; a
    /// checkpoint that fails is reported, set aside as `*.rejected-<time>` and the run restarts
    /// from scratch.
    static func prepareCheckpoint(in directory: String, cell: MatrixCell, claim: RunClaim, store: ResultsDatabase,
                                  context: ReproductionContext, progress: ProgressReporter?) throws {
        for path in CheckpointGuard.removeStaleTemporaries(in: directory) {
            progress?.message("removed \(path): a temporary file left by an interrupted checkpoint write")
        }
        let checkpoint = TrainingCell.checkpointURL(in: directory)
        let dataset = try context.dataset(for: cell).sha256
        let resumable = [.failed, .running, .interrupted].contains(claim.previousStatus)
            && (claim.previousConfigSHA256 ?? cell.configSHA256) == cell.configSHA256
            && (claim.previousDatasetSHA256 ?? dataset) == dataset
        if claim.previousStatus != nil, !resumable || !FileManager.default.fileExists(atPath: checkpoint.path) {
            try store.forgetCheckpoints(for: claim)
        }
        guard FileManager.default.fileExists(atPath: checkpoint.path) else { return }
        guard resumable else {
            try FileManager.default.removeItem(at: checkpoint)
            return
        }
        let expected = try store.latestCheckpoint(runID: claim.runID)?.sha256
        guard let problem = CheckpointGuard.problem(with: checkpoint, expectedSHA256: expected) else { return }
        let aside = try CheckpointGuard.setAside(checkpoint)
        try store.forgetCheckpoints(for: claim)
        progress?.message("checkpoint \(checkpoint.path) cannot be resumed: \(problem); moved it to \(aside.lastPathComponent) "
            + "and restarting the cell from scratch")
    }

    /// Every resolved option of the cell as dotted keys (`train.optimizer.baseLearningRate`).
    static func params(of cell: MatrixCell) -> [String: String] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(cell.configJSON.utf8)) else { return [:] }
        var out: [String: String] = [:]
        func walk(_ value: Any, _ path: String) {
            switch value {
            case let d as [String: Any]: for (k, v) in d { walk(v, path.isEmpty ? k : "\(path).\(k)") }
            case let a as [Any]:
                let text = (try? JSONSerialization.data(withJSONObject: a, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) }
                out[path] = text ?? "\(a)"
            case is NSNull: out[path] = "null"
            default: out[path] = "\(value)"
            }
        }
        walk(object, "")
        return out
    }

    /// An evaluation row as the store keeps it.
    static func record(_ e: EvaluationResult) -> EvaluationRecord {
        var parameters = "{}"
        if let probe = e.probe {
            parameters = CanonicalJSON.string(probe)
        } else if let k = e.k {
            parameters = "{\"k\":\(k),\"temperature\":\(e.temperature ?? 0)}"
        }
        return EvaluationRecord(protocolName: e.evaluationProtocol.rawValue, probeView: e.probeView, testView: e.testView, split: e.split,
                          top1: e.top1, top5: e.top5, topK: e.topK, n: e.n, trainCount: e.trainCount, classCount: e.classCount,
                          featureDimension: e.featureDimension, k: e.k, temperature: e.temperature, featureSource: e.featureSource,
                          protocolParams: parameters)
    }
}
