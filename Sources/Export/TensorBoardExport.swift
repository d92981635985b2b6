import Foundation
import ResultsStore

/// Writes an experiment as TensorBoard event files: one run folder per cell,
/// `<folder>/<cell key with / as ->/events.out.tfevents.<start second>.<host>`, so
/// `tensorboard --logdir <folder>` shows one run per cell.
///
/// Each file is a TFRecord file (``TFRecord``) of `Event` protobufs (``TensorBoardEvent``):
/// the `brain.Event:2` file version; the run's hyperparameters (its flattened configuration, for
/// the HParams dashboard); two text summaries, `run/provenance` and `run/config`; then every
/// per-step metric as scalar `train/<key>` at its step and wall time, and the evaluation results
/// as scalars `eval/…` (``EvaluationScalar``) at the run's last step, all in step order (TensorBoard
/// drops events whose step goes back). The file name depends only on the run, so exporting
/// again rewrites the same file.
public enum TensorBoardExport {
    /// What an export wrote.
    public struct Summary: Sendable, Equatable {
        public var files: [URL]
        public var scalarCount: Int
    }

    /// Writes `experiment` into `folder` (created if needed).
    ///
    /// - Parameter replace: Whether run folders that exist already may be replaced (each is
    ///   deleted and written anew; other contents of `folder` are left alone). Without it an
    ///   existing run folder stops the export before anything is written.
    /// - Throws: ``ExportError/destinationExists(paths:)``, or the file system's error.
    public static func write(_ experiment: ExportedExperiment, to folder: URL, replace: Bool) throws -> Summary {
        let runFolders = experiment.runs.map { folder.appendingPathComponent($0.directoryName, isDirectory: true) }
        try ExportDestination.prepare(runFolders, replace: replace)
        var files: [URL] = []
        var scalars = 0
        for (run, runFolder) in zip(experiment.runs, runFolders) {
            try FileManager.default.createDirectory(at: runFolder, withIntermediateDirectories: true)
            let (records, count) = events(of: run, in: experiment.experiment)
            let file = runFolder.appendingPathComponent(fileName(of: run))
            try TFRecord.file(records).write(to: file, options: .atomic)
            files.append(file)
            scalars += count
        }
        return Summary(files: files, scalarCount: scalars)
    }

    /// `events.out.tfevents.<start time, whole seconds>.<host>`, the name TensorFlow's writers use.
    static func fileName(of run: ExportedRun) -> String {
        let host = (run.run.host ?? "backdrop").replacingOccurrences(of: "/", with: "_")
        return "events.out.tfevents.\(Int64(run.startTime.rounded(.down))).\(host)"
    }

    /// The run's event records, and how many of them are scalars.
    static func events(of run: ExportedRun, in experiment: Experiment) -> (records: [[UInt8]], scalars: Int) {
        let start = run.startTime
        var records = [TensorBoardEvent.fileVersion(wallTime: start)]
        records.append(TensorBoardEvent.hparams(run.config.entries.map { ($0.key, $0.value.hparam) },
                                                groupName: run.run.cellKey, startTime: start, wallTime: start))
        let provenance = RunDescription.provenance(of: run, in: experiment)
        records.append(TensorBoardEvent.text(tag: "run/provenance",
                                             markdown: RunDescription.markdownTable(provenance, header: ("field", "value")),
                                             step: 0, wallTime: start))
        let config = run.config.entries.map { (key: $0.key, value: $0.value.text) }
        records.append(TensorBoardEvent.text(tag: "run/config",
                                             markdown: RunDescription.markdownTable(config, header: ("key", "value")),
                                             step: 0, wallTime: start))
        let metrics = run.metrics.sorted { ($0.step, $0.key) < ($1.step, $1.key) }
        for metric in metrics {
            records.append(TensorBoardEvent.scalar(tag: "train/\(metric.key)", value: metric.value,
                                                   step: Int64(metric.step), wallTime: metric.wallTime))
        }
        let evaluations = run.evaluationScalars
        for scalar in evaluations {
            records.append(TensorBoardEvent.scalar(tag: scalar.name, value: scalar.value,
                                                   step: Int64(scalar.step), wallTime: scalar.wallTime))
        }
        return (records, metrics.count + evaluations.count)
    }
}
