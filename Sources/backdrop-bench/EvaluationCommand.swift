import ArgumentParser
import Foundation
import ReferenceWorkloads

/// `backdrop-bench evaluation`: times the frozen-feature protocols.
struct EvaluationCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluation",
        abstract: "Time the linear probe (L-BFGS) and weighted kNN on synthetic frozen features.",
        discussion: "Defaults are IN-9-sized: 45 405 train and 4 050 test features of a ResNet-18 (512-d), 9 classes.")
    @Option(help: "Train (probe-fitting, kNN memory bank) features.") var train = 45_405
    @Option(help: "Test features.") var test = 4_050
    @Option(help: "Feature dimension.") var dimension = 512
    @Option(help: "Classes.") var classes = 9
    @Option(help: "Spread of each class around its centre (larger: harder, more L-BFGS iterations).") var noise: Float = 8
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard train >= 1, test >= 1, dimension >= 1, classes >= 2, noise >= 0 else {
            throw ValidationError("--train, --test and --dimension must be ≥ 1, --classes ≥ 2 and --noise ≥ 0")
        }
    }

    func run() throws {
        let r = ReferenceBenchmarks.evaluation(train: train, test: test, dimension: dimension, classes: classes, noise: noise)
        if json { print(try encodeJSON(r)); return }
        print(String(format: "evaluation train=%d test=%d d=%d classes=%d", r.train, r.test, r.dimension, r.classes))
        print(String(format: "  linear probe: %.2f s, %d L-BFGS iterations (%.1f ms each), train top-1 %.1f%%",
                     r.probeSeconds, r.probeIterations, 1000 * r.probeSecondsPerIteration, 100 * r.probeTrainTop1))
        print(String(format: "  kNN (k 20): %.2f s, %.0f test features/s, top-1 %.1f%%", r.knnSeconds, r.knnQueriesPerSecond, 100 * r.knnTop1))
    }
}
