import Foundation
import TensorCore

/// How close the convolution kernels come to the machine's GEMM rate, measured in one process:
/// single-threaded SGEMM of the BLAS we link, on a large square and on each layer's own GEMM shape,
/// against each convolution pass on each kernel path this CPU runs, single-threaded; and the
/// whole training step against SGEMM on every worker.
public enum KernelEfficiency {
    /// One convolution layer of the reference workload.
    public struct Layer: Sendable {
        public var name: String
        public var inChannels: Int, outChannels: Int, size: Int, kernel: Int, stride: Int, padding: Int
        /// The stem's input gradient is never computed (its input is the image).
        public var passes: [ConvolutionPass] { name == "stem" ? [.forward, .weightGradient] : ConvolutionPass.allCases }

        public func geometry(images: Int) -> Conv2dGeometry {
            Conv2dGeometry(batch: images, inChannels: inChannels, height: size, width: size, outChannels: outChannels,
                           kernel: kernel, stride: stride, padding: padding)
        }
    }

    /// The distinct convolutions of `SmallResNet(width)` at `size` px (`ReferenceFlops` counts the
    /// same ones): stem, the stride-1 3 × 3 of each stage, the strided 3 × 3 and 1 × 1 shortcuts.
    public static func referenceLayers(width w: Int, size: Int) -> [Layer] {
        let s2 = (size - 1) / 2 + 1, s3 = (s2 - 1) / 2 + 1
        return [
            Layer(name: "stem", inChannels: 3, outChannels: w, size: size, kernel: 3, stride: 1, padding: 1),
            Layer(name: "layer1 3×3", inChannels: w, outChannels: w, size: size, kernel: 3, stride: 1, padding: 1),
            Layer(name: "layer2 3×3", inChannels: 2 * w, outChannels: 2 * w, size: s2, kernel: 3, stride: 1, padding: 1),
            Layer(name: "layer3 3×3", inChannels: 4 * w, outChannels: 4 * w, size: s3, kernel: 3, stride: 1, padding: 1),
            Layer(name: "layer2 3×3/2", inChannels: w, outChannels: 2 * w, size: size, kernel: 3, stride: 2, padding: 1),
            Layer(name: "layer2 1×1/2", inChannels: w, outChannels: 2 * w, size: size, kernel: 1, stride: 2, padding: 0),
            Layer(name: "layer3 3×3/2", inChannels: 2 * w, outChannels: 4 * w, size: s2, kernel: 3, stride: 2, padding: 1),
            Layer(name: "layer3 1×1/2", inChannels: 2 * w, outChannels: 4 * w, size: s2, kernel: 1, stride: 2, padding: 0),
        ]
    }

    /// One pass of one layer on one kernel path, single-threaded, beside SGEMM on the same shape.
    public struct KernelRow: Codable, Sendable {
        public var layer: String, pass: ConvolutionPass, kernels: String, stride: Int
        /// The GEMM of the same size: `m × n × k`.
        public var gemm: String
        public var gflops: Double, sgemmGflops: Double
        public var percentOfSgemm: Double

        enum CodingKeys: String, CodingKey { case layer, pass, kernels, stride, gemm, gflops, sgemmGflops = "sgemm_gflops", percentOfSgemm = "percent_of_sgemm" }

        init(layer: String, pass: ConvolutionPass, kernels: String, stride: Int, gemm: String, gflops: Double, sgemmGflops: Double) {
            (self.layer, self.pass, self.kernels, self.stride, self.gemm, self.gflops, self.sgemmGflops) = (layer, pass, kernels, stride, gemm, gflops, sgemmGflops)
            percentOfSgemm = 100 * gflops / sgemmGflops
        }
    }

    /// Everything one run measured.
    public struct Report: Codable, Sendable {
        public var blas: String
        public var workers: Int
        /// Single-threaded SGEMM, `squareSize`³, and the same on every worker (columns split).
        public var squareSize: Int
        public var sgemmOneThreadGflops: Double, sgemmAllWorkersGflops: Double
        public var rows: [KernelRow]
        /// The training step (w:px:batch) and its rate as a share of `sgemmAllWorkersGflops`.
        public var step: BenchmarkResult?
        public var stepPercentOfSgemm: Double?

        enum CodingKeys: String, CodingKey {
            case blas, workers, squareSize = "square_size", sgemmOneThreadGflops = "sgemm_1thread_gflops",
                 sgemmAllWorkersGflops = "sgemm_all_workers_gflops", rows, step, stepPercentOfSgemm = "step_percent_of_sgemm"
        }
    }

    /// Seconds of the fastest of `repeats` calls of `body` after one untimed call (the fastest,
    /// not the median: a single-threaded kernel on a shared machine is only ever slowed down).
    static func fastest(repeats: Int, _ body: () -> Void) -> Double {
        body()
        var best = Double.infinity
        for _ in 0..<repeats {
            let t0 = DispatchTime.now().uptimeNanoseconds
            body()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        return best
    }

    /// GFLOP/s of `C[m, n] = A[m, k] · B[k, n]` in the BLAS we link, on the calling thread.
    public static func sgemmGflops(m: Int, n: Int, k: Int, repeats: Int) -> Double {
        _ = BLAS.configureOnce
        var rng = SeededRNG(seed: 7)
        let a = Tensor.normal([m, k], rng: &rng), b = Tensor.normal([k, n], rng: &rng)
        let c = Tensor.zeros([m, n])
        let t = fastest(repeats: repeats) {
            BLAS.sgemm(transA: false, transB: false, m: m, n: n, k: k, a: a.pointer, lda: k, b: b.pointer, ldb: n,
                       c: c.storage.pointer, ldc: n)
        }
        return 2 * Double(m) * Double(n) * Double(k) / t / 1e9
    }

    /// GFLOP/s of `Tensor.matmul` of two `size`² matrices on every worker (columns split).
    public static func matmulAllWorkersGflops(size: Int, repeats: Int) -> Double {
        var rng = SeededRNG(seed: 8)
        let a = Tensor.normal([size, size], rng: &rng), b = Tensor.normal([size, size], rng: &rng)
        let t = fastest(repeats: repeats) { _ = Tensor.matmul(a, b) }
        return 2 * pow(Double(size), 3) / t / 1e9
    }

    /// Measures every pass of every layer on every kernel path this CPU runs (single-threaded),
    /// each beside single-threaded SGEMM of its GEMM shape (`columns` pixels), then the step.
    public static func measure(width: Int, size: Int, images: Int, columns: Int, squareSize: Int, repeats: Int, strideOneOnly: Bool = false,
                               step: (width: Int, size: Int, batch: Int)?, stepProtocol: BenchmarkProtocol,
                               progress: (String) -> Void) throws -> Report {
        let oneThread = sgemmGflops(m: squareSize, n: squareSize, k: squareSize, repeats: repeats)
        let allWorkers = matmulAllWorkersGflops(size: squareSize, repeats: repeats)
        progress(String(format: "SGEMM %d³: %.1f GFLOP/s on 1 thread, %.1f on %d workers", squareSize, oneThread, allWorkers, Parallel.activeWorkers))
        var rows: [KernelRow] = []
        var gemmCache: [String: Double] = [:]
        for layer in referenceLayers(width: width, size: size) where !strideOneOnly || layer.stride == 1 {
            let g = layer.geometry(images: images)
            var rng = SeededRNG(seed: 9)
            let x = Tensor.normal([g.batch, g.inChannels, g.height, g.width], rng: &rng)
            let w = Tensor.normal([g.outChannels, g.inChannels, g.kernelH, g.kernelW], rng: &rng)
            let dy = Tensor.normal([g.batch, g.outChannels, g.outHeight, g.outWidth], rng: &rng)
            for pass in layer.passes {
                let (m, n, k) = pass.gemmShape(g, columns: columns)
                let key = "\(m)×\(n)×\(k)"
                let sgemm = gemmCache[key] ?? sgemmGflops(m: m, n: n, k: k, repeats: repeats)
                gemmCache[key] = sgemm
                var measured: Set<String> = []
                for path in ConvolutionKernelPath.supported {
                    // A pass no implicit kernel takes runs im2col + OpenBLAS on every path: once.
                    let kernels = pass.kernels(g, on: path)
                    guard measured.insert(kernels).inserted else { continue }
                    let t = Parallel.withWorkerLimit(1) {
                        ConvolutionKernelPath.withPath(path) {
                            fastest(repeats: repeats) { _ = Tensor.conv2dPass(pass, g, x: x, weight: w, dy: dy) }
                        }
                    }
                    let row = KernelRow(layer: layer.name, pass: pass, kernels: kernels, stride: layer.stride, gemm: key,
                                        gflops: pass.flops(g) / t / 1e9, sgemmGflops: sgemm)
                    rows.append(row)
                    progress(String(format: "%@ %@ (%@): %.1f GFLOP/s = %.0f%% of SGEMM %@ (%.1f)", layer.name, pass.rawValue, kernels,
                                    row.gflops, row.percentOfSgemm, key, sgemm))
                }
            }
        }
        var stepResult: BenchmarkResult?
        if let step {
            stepResult = try ReferenceBenchmarks.simclrStep(width: step.width, size: step.size, batch: step.batch, protocol: stepProtocol)
            progress(String(format: "training step %d:%d:%d: %.1f GFLOP/s = %.0f%% of SGEMM on %d workers", step.width, step.size, step.batch,
                            stepResult!.gflops, 100 * stepResult!.gflops / allWorkers, Parallel.activeWorkers))
        }
        return Report(blas: BLAS.libraryDescription, workers: Parallel.activeWorkers, squareSize: squareSize,
                      sgemmOneThreadGflops: oneThread, sgemmAllWorkersGflops: allWorkers, rows: rows, step: stepResult,
                      stepPercentOfSgemm: stepResult.map { 100 * $0.gflops / allWorkers })
    }
}
