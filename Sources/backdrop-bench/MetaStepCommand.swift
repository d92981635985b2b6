import ArgumentParser
import Contrastive
import Foundation
import ReferenceWorkloads

/// `backdrop-bench meta-step`: the ICL-MSR step against the plain step of each method.
struct MetaStepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meta-step",
        abstract: "Time the ICL-MSR step (default options) against the plain step of each method, alternated in one process.",
        discussion: """
        For each method a plain and an ICL-MSR stepper are built as `backdrop train` builds a cell
        (the method's recipe optimizer at its batch-scaled rate, default head widths, default
        ICL-MSR options) from the same initial model, and step on the same two fixed random views.
        After --warmup steps of each, every timed step of one is followed by a step of the other,
        so both see the same machine conditions. Each repeat gives both mean step times and their
        ratio; the medians over repeats are reported, with the ICL-MSR step's phases (mean ms per
        step). Defaults: `backdrop train`'s shape (SmallResNet width 16, 32 px, batch 128) and
        MoCo v2's default queue of 4096.
        """)
    @Option(help: "Comma-separated methods.") var methods = MethodName.allCases.map(\.rawValue).joined(separator: ",")
    @Option var width = 16
    @Option var size = 32
    @Option var batch = 128
    @Option(help: "MoCo v2's queue length.") var queue = 4096
    @Option(help: "Untimed steps of each stepper first.") var warmup = 2
    @Option(help: "Timed plain+ICL-MSR pairs per repeat.") var steps = 4
    @Option(help: "Repeats; medians are reported.") var repeats = 3
    @Option(help: "ICL-MSR's finite difference: central (default, two perturbed forwards) or reflected (one).")
    var finiteDifference = ICLMSROptions.FiniteDifference.central.rawValue
    @Option(help: "ICL-MSR's meta step every N iterations (default: ICL-MSR's default). --steps is rounded up to a multiple of it, so every repeat holds the same number of meta steps.")
    var metaInterval = ICLMSROptions.defaultMetaInterval
    @Flag(help: "Print one JSON array, one object per method.") var json = false

    func validate() throws {
        for name in methods.split(separator: ",") where MethodName(rawValue: String(name)) == nil {
            throw ValidationError("--methods: unknown method '\(name)'; use \(MethodName.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard ICLMSROptions.FiniteDifference(rawValue: finiteDifference) != nil else {
            throw ValidationError("--finite-difference: unknown '\(finiteDifference)'; use central or reflected")
        }
        guard metaInterval >= 1 else { throw ValidationError("--meta-interval: must be at least 1") }
        guard [width, size, batch, queue, steps, repeats].allSatisfy({ $0 > 0 }), warmup >= 0, batch >= 2 else {
            throw ValidationError("--width, --size, --queue, --steps, --repeats must be ≥ 1, --batch ≥ 2, --warmup ≥ 0")
        }
    }

    func run() throws {
        let shape = MetaStepShape(width: width, size: size, batch: batch, queueSize: queue)
        let cycleSteps = (steps + metaInterval - 1) / metaInterval * metaInterval
        let timing = BenchmarkProtocol(warmup: warmup, steps: cycleSteps, repeats: repeats)
        var rows: [MetaStepResult] = []
        for name in methods.split(separator: ",").compactMap({ MethodName(rawValue: String($0)) }) {
            var options = ICLMSROptions()
            options.finiteDifference = ICLMSROptions.FiniteDifference(rawValue: finiteDifference)!
            options.metaInterval = metaInterval
            let row = try ReferenceBenchmarks.metaStep(method: name, shape: shape, options: options, protocol: timing,
                                                       progress: json ? nil : { FileHandle.standardError.write(Data(($0 + "\n").utf8)) })
            rows.append(row)
        }
        if json { print(try encodeJSON(rows)); return }
        print("SmallResNet w=\(width), \(size) px, batch \(batch) (MoCo v2 queue \(queue)); ICL-MSR defaults, finiteDifference \(finiteDifference), "
              + "metaInterval \(metaInterval); \(warmup) warm-up, \(repeats) × \(cycleSteps) alternated steps")
        print("| method | plain ms/step | ICL-MSR ms/step | ratio | ratio per repeat |")
        print("|---|---|---|---|---|")
        for r in rows {
            print(String(format: "| %@ | %.0f | %.0f | %.2f× | %@ |", r.method, r.plainMilliseconds, r.iclmsrMilliseconds, r.ratio,
                         r.ratioRepeats.map { String(format: "%.2f", $0) }.joined(separator: ", ")))
        }
        print("\nICL-MSR step by phase, ms (mean per step, meta steps spread over all \(cycleSteps); in plain-step units in parentheses):")
        let phases = ICLMSRPhase.allCases.filter { p in rows.contains { $0.phaseMilliseconds[p.rawValue] != nil } }
        print("| method | " + phases.map(\.rawValue).joined(separator: " | ") + " |")
        print("|---|" + String(repeating: "---|", count: phases.count))
        for r in rows {
            let cells = phases.map { p in
                r.phaseMilliseconds[p.rawValue].map { String(format: "%.0f (%.2f)", $0, $0 / r.plainMilliseconds) } ?? "—"
            }
            print("| \(r.method) | " + cells.joined(separator: " | ") + " |")
        }
    }
}
