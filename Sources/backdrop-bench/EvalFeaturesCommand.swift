import ArgumentParser
import CommandLineOptions
import Foundation
import ReferenceWorkloads

/// `backdrop-bench eval-features`: times eval-mode feature extraction.
struct EvalFeatures: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "eval-features", abstract: "Time eval-mode backbone feature extraction.")
    @Option var width = 32
    @Option var size = 32
    @Option var batch = 512
    @OptionGroup var timing: TimingOptions
    @OptionGroup var threads: ThreadsOption
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        try threads.configure()
        let r = try ReferenceBenchmarks.evalFeatures(width: width, size: size, batch: batch, protocol: timing.benchmarkProtocol)
        print(json ? try encodeJSON(r) : describe(r))
    }
}
