import Foundation
import ResultsStore

/// Writes an experiment as an MLflow file store, the `mlruns` folder MLflow's `FileStore` reads
/// (`mlflow/store/tracking/file_store.py`):
///
///     <folder>/mlruns/<experiment id>/meta.yaml           the experiment
///     <folder>/mlruns/<experiment id>/tags/<key>           its tags
///     <folder>/mlruns/<experiment id>/<run id>/meta.yaml   one run per cell
///     …/<run id>/metrics/<name>                            lines `<timestamp ms> <value> <step>`
///     …/<run id>/params/<key>                              the flattened configuration
///     …/<run id>/tags/<key>                                `mlflow.runName` (the cell key), provenance
///     …/<run id>/artifacts/                                empty; FileStore requires it
///
/// The MLflow experiment id is Backdrop's experiment id, and each run id is 32 hex digits derived
/// from the experiment id and the cell key, so exporting again rewrites the same tree. Metrics
/// carry the names of the TensorBoard export: `train/<key>` and `eval/…` (``EvaluationScalar``).
/// MLflow 3 reads a file store only with `MLFLOW_ALLOW_FILE_STORE=true` in the environment.
public enum MLflowExport {
    /// What an export wrote.
    public struct Summary: Sendable, Equatable {
        /// `<folder>/mlruns/<experiment id>`.
        public var experimentFolder: URL
        public var runIDs: [String]
        public var metricValueCount: Int
    }

    /// Writes `experiment` into `<folder>/mlruns` (created if needed).
    ///
    /// - Parameter replace: Whether an existing `mlruns/<experiment id>` may be replaced (it is
    ///   deleted and written anew; other experiments in `mlruns` are left alone). Without it an
    ///   existing one stops the export before anything is written.
    /// - Throws: ``ExportError/destinationExists(paths:)``, or the file system's error.
    public static func write(_ experiment: ExportedExperiment, to folder: URL, replace: Bool) throws -> Summary {
        let store = folder.appendingPathComponent("mlruns", isDirectory: true).standardizedFileURL
        let experimentID = String(experiment.experiment.id)
        let experimentFolder = store.appendingPathComponent(experimentID, isDirectory: true)
        try ExportDestination.prepare([experimentFolder], replace: replace)
        // FileStore makes `.trash` when it opens a store; made here so a read-only copy opens too.
        try FileManager.default.createDirectory(at: store.appendingPathComponent(".trash"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: experimentFolder, withIntermediateDirectories: true)

        let e = experiment.experiment
        let created = MLflowFileStore.milliseconds(e.createdAt.timeIntervalSince1970)
        try MLflowFileStore.write(MLflowFileStore.yaml([
            "artifact_location": .string(experimentFolder.absoluteString.trimmingTrailingSlash),
            "creation_time": .integer(created),
            "experiment_id": .string(experimentID),
            "last_update_time": .integer(created),
            "lifecycle_stage": .string("active"),
            "name": .string(e.name),
        ]), to: experimentFolder, name: "meta.yaml")
        let tags = experimentFolder.appendingPathComponent("tags")
        try MLflowFileStore.write(e.specSHA256, to: tags, name: "backdrop.spec_sha256")
        if !e.specPath.isEmpty { try MLflowFileStore.write(e.specPath, to: tags, name: "backdrop.spec_path") }
        if !e.overrides.isEmpty { try MLflowFileStore.write(e.overrides.joined(separator: " "), to: tags, name: "backdrop.overrides") }

        var runIDs: [String] = []
        var values = 0
        for run in experiment.runs {
            let runID = Self.runID(experimentID: e.id, cellKey: run.run.cellKey)
            values += try writeRun(run, id: runID, experiment: e, into: experimentFolder.appendingPathComponent(runID, isDirectory: true))
            runIDs.append(runID)
        }
        return Summary(experimentFolder: experimentFolder, runIDs: runIDs, metricValueCount: values)
    }

    /// The stable MLflow run id of a cell: the first 32 hex digits of
    /// SHA-256(`backdrop experiment <id> cell <cell key>`).
    public static func runID(experimentID: Int64, cellKey: String) -> String {
        String(ContentHash.sha256Hex(Data("backdrop experiment \(experimentID) cell \(cellKey)".utf8)).prefix(32))
    }

    /// Writes one run folder; returns the number of metric values written.
    static func writeRun(_ exported: ExportedRun, id: String, experiment: Experiment, into folder: URL) throws -> Int {
        let run = exported.run
        let status: MLflowFileStore.Status = switch run.status {
        case .finished: .finished
        case .failed: .failed
        case .running: .running
        case .pending: .scheduled
        case .interrupted: .killed
        }
        try MLflowFileStore.write(MLflowFileStore.yaml([
            "artifact_uri": .string(folder.appendingPathComponent("artifacts").absoluteString.trimmingTrailingSlash),
            "end_time": run.finishedAt.map { .integer(MLflowFileStore.milliseconds($0.timeIntervalSince1970)) } ?? .null,
            "entry_point_name": .string(""),
            "experiment_id": .string(String(experiment.id)),
            "lifecycle_stage": .string("active"),
            "run_id": .string(id),
            "run_name": .string(run.cellKey),
            "source_name": .string(""),
            "source_type": .integer(Int64(MLflowFileStore.localSourceType)),
            "source_version": .string(""),
            "start_time": .integer(MLflowFileStore.milliseconds(exported.startTime)),
            "status": .integer(Int64(status.rawValue)),
            "tags": .emptyList,
            "user_id": .string("backdrop"),
        ]), to: folder, name: "meta.yaml")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("artifacts"), withIntermediateDirectories: true)

        let metrics = folder.appendingPathComponent("metrics")
        try FileManager.default.createDirectory(at: metrics, withIntermediateDirectories: true)
        var lines: [String: String] = [:]
        for metric in exported.metrics {   // by key, then step
            lines[MLflowFileStore.safeName("train/\(metric.key)"), default: ""] +=
                MLflowFileStore.metricLine(timestamp: metric.wallTime, value: metric.value, step: metric.step)
        }
        for scalar in exported.evaluationScalars {
            lines[MLflowFileStore.safeName(scalar.name), default: ""] +=
                MLflowFileStore.metricLine(timestamp: scalar.wallTime, value: scalar.value, step: scalar.step)
        }
        for (name, text) in lines { try MLflowFileStore.write(text, to: metrics, name: name) }

        let params = folder.appendingPathComponent("params")
        try FileManager.default.createDirectory(at: params, withIntermediateDirectories: true)
        for entry in exported.config.entries {
            try MLflowFileStore.write(entry.value.text, to: params, name: MLflowFileStore.safeName(entry.key))
        }

        let tags = folder.appendingPathComponent("tags")
        try MLflowFileStore.write(run.cellKey, to: tags, name: "mlflow.runName")
        try MLflowFileStore.write("backdrop", to: tags, name: "mlflow.source.name")
        if let commit = run.provenance.gitCommit { try MLflowFileStore.write(commit, to: tags, name: "mlflow.source.git.commit") }
        for row in RunDescription.provenance(of: exported, in: experiment) {
            try MLflowFileStore.write(row.value, to: tags, name: MLflowFileStore.safeName("backdrop.\(row.key)"))
        }
        return exported.metrics.count + exported.evaluationScalars.count
    }
}

extension String {
    /// The text without one trailing `/` (a folder URL's `absoluteString` ends in one).
    var trimmingTrailingSlash: String { hasSuffix("/") ? String(dropLast()) : self }
}
