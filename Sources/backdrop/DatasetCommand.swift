import ArgumentParser
import ImageData

/// `backdrop dataset …`: generate, validate and preview image datasets.
struct DatasetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataset",
        abstract: "Generate, check and preview image datasets.",
        subcommands: []
    )
}
