import ArgumentParser
import CommandLineOptions
import Foundation
import ReferenceWorkloads

/// `backdrop-bench simclr-step`: times the reference SimCLR training step (`PlainStepper`).
struct SimCLRStepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simclr-step",
        abstract: "Time the reference SimCLR training step (Contrastive.SimCLR through PlainStepper, as backdrop train runs it).")
    @Option var width = 32
    @Option var size = 32
    @Option var batch = 256
    @OptionGroup var timing: TimingOptions
    @OptionGroup var threads: ThreadsOption
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        try threads.configure()
        let r = try ReferenceBenchmarks.simclrStep(width: width, size: size, batch: batch, protocol: timing.benchmarkProtocol,
                                                   progress: json ? nil : { print($0) })
        print(json ? try encodeJSON(r) : describe(r))
    }
}
