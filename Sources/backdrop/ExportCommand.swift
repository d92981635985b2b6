import ArgumentParser
import Export
import Foundation
import ResultsStore

/// `backdrop export tensorboard|mlflow`: write an experiment in a format TensorBoard or MLflow reads.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write an experiment's runs as TensorBoard event files or an MLflow file store.",
        discussion: """
        The database is opened read-only and never modified. Each cell becomes one run: its per-step metrics as \
        train/<key>, its evaluation results as eval/<protocol>/<test view>/top1 (eval/<protocol>-<view>-probe/… for a \
        probe fitted on another view), its flattened configuration as hyperparameters (MLflow params), and its cell key, \
        commit, dataset hash and status. Only the experiment's own paths are written (TensorBoard: one folder per cell; \
        MLflow: mlruns/<experiment id>); when one exists the export stops unless --force replaces it.
        """,
        subcommands: [ExportTensorBoardCommand.self, ExportMLflowCommand.self])
}

/// The options both export formats take.
struct ExportOptions: ParsableArguments {
    @Option(help: "Results database.") var db = "Results/backdrop.sqlite"
    @Option(help: ArgumentHelp(QueryOutputOptions.experimentHelp)) var experiment: String?
    @Option(help: "Output folder (created if needed).") var out: String
    @Flag(help: "Replace the experiment's paths in --out when they exist (nothing else in --out is touched).")
    var force = false

    /// The experiment read from the database, opened read-only.
    func load() throws -> ExportedExperiment {
        let store = try ResultsDatabase(path: db, mode: .readOnly)
        let exported = try ExportedExperiment(store: store, experiment: try store.resolveExperiment(experiment))
        try store.close()
        if !exported.skippedCellKeys.isEmpty {
            note("left out \(exported.skippedCellKeys.count) cell(s) that never started: \(exported.skippedCellKeys.joined(separator: ", "))")
        }
        return exported
    }

    var outURL: URL { URL(fileURLWithPath: out, isDirectory: true) }

    func note(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }
}

/// `backdrop export tensorboard`: one event file per cell.
struct ExportTensorBoardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tensorboard",
        abstract: "Write TensorBoard event files: <out>/<cell key, / as ->/events.out.tfevents.<start>.<host>.",
        discussion: "View them with: tensorboard --logdir <out>")
    @OptionGroup var options: ExportOptions

    func run() throws {
        let exported = try options.load()
        let summary = try TensorBoardExport.write(exported, to: options.outURL, replace: options.force)
        options.note("wrote \(summary.files.count) run(s), \(summary.scalarCount) scalars of experiment \(exported.experiment.name) "
            + "(id \(exported.experiment.id)) to \(options.out); view with: tensorboard --logdir \(options.out)")
    }
}

/// `backdrop export mlflow`: an MLflow file store.
struct ExportMLflowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mlflow",
        abstract: "Write an MLflow file store: <out>/mlruns/<experiment id>/<run id>/{meta.yaml,metrics,params,tags}.",
        discussion: """
        The MLflow experiment id is the Backdrop experiment id; run ids are derived from it and the cell key, so \
        exporting again rewrites the same tree. MLflow 3 reads a file store only when MLFLOW_ALLOW_FILE_STORE=true: \
        MLFLOW_ALLOW_FILE_STORE=true mlflow ui --backend-store-uri <out>/mlruns
        """)
    @OptionGroup var options: ExportOptions

    func run() throws {
        let exported = try options.load()
        let summary = try MLflowExport.write(exported, to: options.outURL, replace: options.force)
        let store = summary.experimentFolder.deletingLastPathComponent().path
        options.note("wrote \(summary.runIDs.count) run(s), \(summary.metricValueCount) metric values of experiment "
            + "\(exported.experiment.name) (id \(exported.experiment.id)) to \(summary.experimentFolder.path); "
            + "view with: MLFLOW_ALLOW_FILE_STORE=true mlflow ui --backend-store-uri \(store)")
    }
}
