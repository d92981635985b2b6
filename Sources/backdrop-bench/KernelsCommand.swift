import ArgumentParser
import Foundation
import ReferenceWorkloads
import TensorCore

/// `backdrop-bench kernels`: each convolution kernel against the machine's SGEMM, in one run.
struct KernelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "Convolution kernels against single-threaded SGEMM of the linked BLAS, and the training step against SGEMM on every worker.",
        discussion: """
        Measured in one process: SGEMM of a square (1 thread, then every worker through Tensor.matmul); for each \
        convolution of SmallResNet(--width) at --size px, each pass (forward, input gradient, weight gradient) on \
        every kernel path this CPU runs (avx512-winograd, avx512, avx2, blas), single-threaded, as GFLOP/s and as a \
        share of single-threaded SGEMM on the GEMM of the same size (m × n × k, n = --columns pixels); then the \
        SimCLR training step (--step w:px:batch) as a share of the every-worker SGEMM rate. Kernel times are the \
        fastest of --kernel-repeats calls (a shared machine only ever slows a single thread down). GFLOP/s always \
        count a direct convolution's multiply-adds: kernels that skip padding taps, and Winograd's 2.25× fewer \
        multiplies, show as more than SGEMM's rate.
        """)
    @Option(help: "Backbone width of the layer shapes.") var width = 32
    @Option(help: "Image size of the layer shapes.") var size = 32
    @Option(help: "Images per convolution call (the training step sends 2 × batch).") var images = 64
    @Option(help: "Pixels (GEMM columns) of the layer-shape SGEMM.") var columns = 4096
    @Option(help: "Size of the square SGEMM.") var square = 2048
    @Option(help: "Timed calls per kernel; the fastest counts.") var kernelRepeats = 5
    @Option(help: "w:px:batch of the training step ('' to skip).") var step = "32:32:256"
    @OptionGroup var timing: TimingOptions
    @Flag(help: "Only the stride-1 layers (the ones the implicit kernels take).") var strideOneOnly = false
    @Option(help: "Write every figure as JSON here.") var jsonOut: String?

    func validate() throws {
        for (name, v) in [("--width", width), ("--size", size), ("--images", images), ("--columns", columns), ("--square", square), ("--kernel-repeats", kernelRepeats)] where v < 1 {
            throw ValidationError("\(name) must be ≥ 1, got \(v)")
        }
        _ = try stepShape()
    }

    func stepShape() throws -> (width: Int, size: Int, batch: Int)? {
        if step.isEmpty { return nil }
        let v = step.split(separator: ":").compactMap { Int($0) }
        guard v.count == 3, v.allSatisfy({ $0 > 0 }) else { throw ValidationError("--step: '\(step)' is not w:px:batch with positive integers") }
        return (v[0], v[1], v[2])
    }

    func run() throws {
        let progress: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
        let r = try KernelEfficiency.measure(width: width, size: size, images: images, columns: columns, squareSize: square, repeats: kernelRepeats, strideOneOnly: strideOneOnly,
                                             step: try stepShape(), stepProtocol: timing.benchmarkProtocol, progress: progress)
        print("BLAS: \(r.blas); \(r.workers) workers")
        print(String(format: "SGEMM %d³: %.1f GFLOP/s on 1 thread, %.1f on %d workers", r.squareSize, r.sgemmOneThreadGflops, r.sgemmAllWorkersGflops, r.workers))
        print("")
        print("| layer | pass | kernels | GFLOP/s (1 thread) | SGEMM same shape (m×n×k) | GFLOP/s | % of SGEMM |")
        print("|---|---|---|---|---|---|---|")
        for row in r.rows {
            print(String(format: "| %@ | %@ | %@ | %.1f | %@ | %.1f | %.0f%% |", row.layer, row.pass.rawValue, row.kernels, row.gflops, row.gemm,
                         row.sgemmGflops, row.percentOfSgemm))
        }
        if let s = r.step, let p = r.stepPercentOfSgemm {
            print("")
            print(String(format: "training step %d:%d:%d (%@): %.1f images/s, %.1f GFLOP/s = %.0f%% of SGEMM on %d workers (%.1f)",
                         s.width, s.size, s.batch, s.kernels ?? "?", s.imagesPerSecond, s.gflops, p, r.workers, r.sgemmAllWorkersGflops))
        }
        if let jsonOut { try Data(try encodeJSON(r).utf8).write(to: URL(fileURLWithPath: jsonOut)) }
    }
}
