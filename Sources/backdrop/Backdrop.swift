import ArgumentParser
import BuildInfo

/// The `backdrop` command line: thin subcommands that parse options and call the library rooms.
@main
struct Backdrop: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backdrop",
        abstract: "Contrastive learning on full images vs. foregrounds (ICL-MSR reproduction).",
        version: BuildInfo.versionLine,
        subcommands: [DatasetCommand.self, TrainCommand.self, ReproduceCommand.self, ReproduceCellCommand.self,
                      QueryCommand.self, ExperimentsCommand.self, RunsCommand.self, MatrixCommand.self, CompareCommand.self, ReportCommand.self,
                      FindingsCommand.self, ClaimsCommand.self, ExportCommand.self, ServeCommand.self, MergeCommand.self, StatusCommand.self]
    )
}
