import ArgumentParser
import Foundation
import ReferenceWorkloads
import TensorCore

/// Reference workloads for performance and PyTorch parity (see BENCHMARKS.md).
@main
struct BackdropBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backdrop-bench",
        abstract: "Reference workloads: PyTorch parity and throughput benchmarks.",
        subcommands: [Parity.self, SimCLRStepCommand.self, EvalFeatures.self, EvaluationCommand.self, Suite.self, KernelsCommand.self, MetaStepCommand.self])

    /// Checks the kernels' environment (`Tensor.checkKernelEnvironment`) before any workload runs
    /// (see `Backdrop.main`).
    static func main() {
        do { try Tensor.checkKernelEnvironment() } catch { exit(withError: error) }
        main(nil)
    }
}

/// The timing protocol shared by every benchmark command (the same as torch_ref.py's).
struct TimingOptions: ParsableArguments {
    @Option(help: "Untimed steps first.") var warmup = 3
    @Option(help: "Timed steps per repeat.") var steps = 10
    @Option(help: "Repeats; the median is reported.") var repeats = 3
    var benchmarkProtocol: BenchmarkProtocol { .init(warmup: warmup, steps: steps, repeats: repeats) }
    var arguments: [String] { ["--warmup", "\(warmup)", "--steps", "\(steps)", "--repeats", "\(repeats)"] }
}

func encodeJSON<T: Encodable>(_ value: T) throws -> String {
    let e = JSONEncoder(); e.outputFormatting = [.sortedKeys]
    return String(decoding: try e.encode(value), as: UTF8.self)
}

func describe(_ r: BenchmarkResult) -> String {
    String(format: "%@ w=%d res=%d batch=%d: %.1f images/s, step %.0f ms, %.1f GFLOP/s, peak RSS %.0f MB",
           r.name, r.width, r.size, r.batch, r.imagesPerSecond, r.stepMilliseconds, r.gflops, r.peakRSSMegabytes)
}

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
