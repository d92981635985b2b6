import ArgumentParser
import BuildInfo
import TensorCore

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

    /// Checks the environment the kernels read (`BACKDROP_KERNELS`, `BACKDROP_STREAMING_MIN_BYTES`)
    /// before any command runs, so a bad value stops with its message instead of being ignored.
    static func main() {
        do { try Tensor.checkKernelEnvironment() } catch { exit(withError: error) }
        main(nil)
    }
}
