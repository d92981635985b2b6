import Foundation
import ResultsStore

/// One experiment as the exporters write it, read from the results database once: its runs
/// (through `experiment_cells`, so a run linked from another experiment appears under this one's
/// cell key), each with every per-step metric, its evaluations and its flattened configuration.
///
/// Only runs that started are exported; planned (`pending`) cells hold nothing to show and are
/// listed in ``skippedCellKeys``.
public struct ExportedExperiment: Sendable {
    public var experiment: Experiment
    public var runs: [ExportedRun]
    /// Cell keys of the runs that never started (left out).
    public var skippedCellKeys: [String]

    /// Reads experiment `experiment` from `store` (open it read-only).
    public init(store: ResultsDatabase, experiment: Experiment) throws {
        self.experiment = experiment
        var runs: [ExportedRun] = []
        var skipped: [String] = []
        for run in try store.runs(experimentID: experiment.id) {
            guard let startedAt = run.startedAt else {
                skipped.append(run.cellKey)
                continue
            }
            var metrics: [Metric] = []
            for key in try store.metricKeys(runID: run.id) { metrics += try store.metrics(runID: run.id, key: key) }
            runs.append(ExportedRun(run: run, startTime: startedAt.timeIntervalSince1970, metrics: metrics,
                                    evaluations: try store.evaluations(runID: run.id),
                                    config: FlatConfig(json: run.provenance.configJSON)))
        }
        self.runs = runs
        skippedCellKeys = skipped
    }
}

/// One run of an exported experiment.
public struct ExportedRun: Sendable {
    /// The run as a member of the experiment (its cell key is the experiment's).
    public var run: Run
    /// `runs.started_at` (first attempt), seconds since the Unix epoch.
    public var startTime: Double
    /// Every per-step metric, by key, then step.
    public var metrics: [Metric]
    public var evaluations: [EvaluationRecord]
    public var config: FlatConfig

    /// The last optimizer step a metric was recorded at (0 without metrics): the step evaluation
    /// scalars are placed at.
    public var lastStep: Int { metrics.map(\.step).max() ?? 0 }

    /// The evaluation results as named scalars (see ``EvaluationScalar``), in stored order.
    public var evaluationScalars: [EvaluationScalar] {
        evaluations.flatMap { EvaluationScalar.scalars(of: $0, trainView: run.cell.trainView, step: lastStep) }
    }

    /// A directory name for the cell: its key with `/` replaced by `-`, as Backdrop names a cell's
    /// folders elsewhere (`full/simclr/none/seed0` → `full-simclr-none-seed0`).
    public var directoryName: String {
        let name = run.cellKey.replacingOccurrences(of: "/", with: "-")
        return name.isEmpty || name == "." || name == ".." ? "run-\(run.id)" : name
    }
}

/// One evaluation result as a scalar: `eval/<protocol>/<test view>/top1` (and `top<k>`) for the
/// probe fitted on the run's own train view — the series `backdrop matrix` shows — and
/// `eval/<protocol>-<probe view>-probe/<test view>/top1` for a probe fitted on another view;
/// a split other than `test` is prefixed, `eval-<split>/…`. The second accuracy is top-k with
/// the evaluation's k (`top5`, or fewer classes' `top<k>`; none when k is 1).
public struct EvaluationScalar: Sendable, Equatable {
    public var name: String
    /// An accuracy as a fraction in [0, 1].
    public var value: Double
    public var step: Int
    /// When the evaluation was recorded, seconds since the Unix epoch.
    public var wallTime: Double

    static func scalars(of e: EvaluationRecord, trainView: String, step: Int) -> [EvaluationScalar] {
        let root = e.split == "test" ? "eval" : "eval-\(e.split)"
        let protocolPart = e.probeView == trainView ? e.protocolName : "\(e.protocolName)-\(e.probeView)-probe"
        let prefix = "\(root)/\(protocolPart)/\(e.testView)"
        let wallTime = e.createdAt.timeIntervalSince1970
        let top1 = EvaluationScalar(name: "\(prefix)/top1", value: e.top1, step: step, wallTime: wallTime)
        guard e.topK != 1 else { return [top1] }
        return [top1, EvaluationScalar(name: "\(prefix)/top\(e.topK)", value: e.top5, step: step, wallTime: wallTime)]
    }
}
