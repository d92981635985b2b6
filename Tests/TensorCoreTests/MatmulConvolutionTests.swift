import Testing
@testable import TensorCore
import TestSupport

struct TransposeCase: Sendable, CustomTestStringConvertible {
    let transposeA: Bool, transposeB: Bool
    var testDescription: String { "\(transposeA ? "Aᵀ" : "A")·\(transposeB ? "Bᵀ" : "B")" }
}
let transposeCases = [false, true].flatMap { a in [false, true].map { TransposeCase(transposeA: a, transposeB: $0) } }

@Suite struct MatmulTests {
    func operands(_ c: TransposeCase, m: Int, k: Int, n: Int, rng: inout SeededRNG) -> (Tensor, Tensor) {
        (rng.tensor(c.transposeA ? [k, m] : [m, k]), rng.tensor(c.transposeB ? [n, k] : [k, n]))
    }

    @Test(arguments: transposeCases)
    func forwardMatchesNaive(_ c: TransposeCase) {
        var rng = SeededRNG(seed: 20)
        for (m, k, n) in [(1, 1, 1), (3, 5, 4), (7, 2, 9)] {
            let (a, b) = operands(c, m: m, k: k, n: n, rng: &rng)
            let y = Tensor.matmul(a, b, transposeA: c.transposeA, transposeB: c.transposeB)
            #expect(y.shape == [m, n])
            expectClose(y, naiveMatmul(a, b, transposeA: c.transposeA, transposeB: c.transposeB), tol: 1e-5, "\(m)×\(k)×\(n)")
        }
    }

    /// Large enough (m·n·k ≥ 2²⁰) to take the parallel paths in `gemm`, which split C along its
    /// longer side: columns for 67 × 121 (each worker gets a slice of op(B)), rows for 121 × 67.
    @Test(arguments: transposeCases)
    func parallelPathMatchesNaive(_ c: TransposeCase) {
        var rng = SeededRNG(seed: 21)
        for (m, k, n) in [(67, 130, 121), (121, 130, 67)] {
            #expect(m * n * k >= 1 << 20)
            let (a, b) = operands(c, m: m, k: k, n: n, rng: &rng)
            let y = Tensor.matmul(a, b, transposeA: c.transposeA, transposeB: c.transposeB)
            expectClose(y, naiveMatmul(a, b, transposeA: c.transposeA, transposeB: c.transposeB), tol: 2e-5, "\(m)×\(k)×\(n)")
        }
    }

    @Test(arguments: transposeCases)
    func gradients(_ c: TransposeCase) {
        var rng = SeededRNG(seed: 22)
        let (a, b) = operands(c, m: 3, k: 4, n: 5, rng: &rng)
        expectGradient([a, b], c.testDescription) { Tensor.matmul($0[0], $0[1], transposeA: c.transposeA, transposeB: c.transposeB) }
        // Only one side tracked.
        expectGradient([a], "\(c.testDescription) (A only)") { Tensor.matmul($0[0], b, transposeA: c.transposeA, transposeB: c.transposeB) }
        expectGradient([b], "\(c.testDescription) (B only)") { Tensor.matmul(a, $0[0], transposeA: c.transposeA, transposeB: c.transposeB) }
    }

    @Test func smallNetworkEndToEnd() {
        // conv → batchNorm → tanh → avgPool → flatten → matmul + bias → crossEntropy, all at once.
        var rng = SeededRNG(seed: 23)
        let inputs = [rng.tensor([3, 2, 4, 4]), rng.tensor([3, 2, 3, 3], -0.5, 0.5), rng.tensor([3], 0.5, 1.5),
                      rng.tensor([3]), rng.tensor([12, 4], -0.5, 0.5), rng.tensor([4])]
        expectGradient(inputs, eps: 1e-3, atol: 5e-3, "network") { t in
            let h = Tensor.conv2d(t[0], weight: t[1], padding: 1)
            let n = Tensor.batchNorm(h, gamma: t[2], beta: t[3], eps: 1e-5).0.tanh()
            let p = n.avgPooled(kernel: 2).reshaped([3, 12])
            return (p.matmul(t[4]) + t[5]).crossEntropy(targets: [1, 3, 0])
        }
    }

    @Test func handValuesAndEmptyInnerExtent() {
        let a = Tensor(shape: [2, 2], [1, 2, 3, 4]), b = Tensor(shape: [2, 1], [5, 6])
        #expect(a.matmul(b).scalars == [17, 39])
        #expect(Tensor.matmul(a, a, transposeA: true).scalars == [10, 14, 14, 20])
        let z = Tensor.matmul(Tensor.zeros([2, 0]), Tensor.zeros([0, 3]))
        #expect(z.shape == [2, 3] && z.scalars == [Float](repeating: 0, count: 6))
    }
}

struct ConvCase: Sendable, CustomTestStringConvertible {
    let batch: Int, cin: Int, h: Int, w: Int, cout: Int, kh: Int, kw: Int, stride: Int, padding: Int, bias: Bool
    var testDescription: String {
        "x[\(batch),\(cin),\(h),\(w)] k\(kh)×\(kw) s\(stride) p\(padding)\(bias ? " +b" : "") → \(cout)"
    }
}

/// Forward sweep: kernels {1, 3, 5, 3×1}, strides {1, 2, 3}, paddings {0, 1, 2}, ± bias, on a
/// non-square input; plus inputs narrower than the kernel's reach into the right padding.
let convForwardCases: [ConvCase] = {
    var cases: [ConvCase] = []
    for (kh, kw) in [(1, 1), (3, 3), (5, 5), (3, 1)] {
        for stride in [1, 2, 3] { for padding in [0, 1, 2] { for bias in [false, true] {
            cases.append(ConvCase(batch: 3, cin: 2, h: 6, w: 7, cout: 3, kh: kh, kw: kw, stride: stride, padding: padding, bias: bias))
        } } }
    }
    // Kernel reaches past the right edge by less than one stride (W + p < kw ≤ W + 2p).
    cases.append(ConvCase(batch: 2, cin: 1, h: 3, w: 1, cout: 2, kh: 3, kw: 3, stride: 2, padding: 1, bias: false))
    cases.append(ConvCase(batch: 1, cin: 2, h: 2, w: 2, cout: 2, kh: 5, kw: 5, stride: 2, padding: 2, bias: true))
    cases.append(ConvCase(batch: 2, cin: 1, h: 4, w: 3, cout: 1, kh: 1, kw: 6, stride: 3, padding: 2, bias: false))
    // Strided convolutions whose output is exactly the input divided by the stride take the
    // phase-plane path (im2col/col2im by shifted copies of the input's s² phase planes; the input
    // gradient is written, not accumulated): ResNet's 3×3/s2/p1 and 1×1/s2 shortcut, its 7×7/s2/p3
    // stem, kernels smaller than, equal to and larger than the stride, non-square planes.
    for (h, w, k, stride, padding) in [(8, 6, 3, 2, 1), (8, 6, 1, 2, 0), (6, 6, 3, 3, 0), (6, 6, 1, 3, 0), (10, 10, 7, 2, 3),
                                       (8, 8, 2, 2, 0), (8, 8, 5, 2, 2), (4, 8, 3, 2, 1), (6, 9, 3, 3, 1)] {
        for bias in [false, true] {
            cases.append(ConvCase(batch: 3, cin: 2, h: h, w: w, cout: 3, kh: k, kw: k, stride: stride, padding: padding, bias: bias))
        }
    }
    return cases
}()

@Suite struct ConvolutionTests {
    func make(_ c: ConvCase, seed: UInt64) -> (Tensor, Tensor, Tensor?) {
        var rng = SeededRNG(seed: seed)
        let x = rng.tensor([c.batch, c.cin, c.h, c.w])
        let w = rng.tensor([c.cout, c.cin, c.kh, c.kw])
        return (x, w, c.bias ? rng.tensor([c.cout]) : nil)
    }

    /// Every geometry on every kernel path this CPU runs (`avx512`, `avx2`, `blas`).
    @Test(arguments: convForwardCases + implicitConvCases, ConvolutionKernelPath.supported)
    func forwardMatchesNaive(_ c: ConvCase, _ path: ConvolutionKernelPath) {
        let (x, w, b) = make(c, seed: 30)
        let y = ConvolutionKernelPath.withPath(path) { Tensor.conv2d(x, weight: w, bias: b, stride: c.stride, padding: c.padding) }
        expectClose(y, naiveConv2d(x, weight: w, bias: b, stride: c.stride, padding: c.padding), tol: 1e-5)
    }

    @Test(arguments: convForwardCases + implicitConvCases, ConvolutionKernelPath.supported)
    func gradients(_ c: ConvCase, _ path: ConvolutionKernelPath) {
        let (x, w, b) = make(c, seed: 31)
        let inputs = [x, w] + (b.map { [$0] } ?? [])
        ConvolutionKernelPath.withPath(path) {
            expectGradient(inputs, "\(c.testDescription) on \(path)") { t in
                Tensor.conv2d(t[0], weight: t[1], bias: t.count > 2 ? t[2] : nil, stride: c.stride, padding: c.padding)
            }
        }
    }

    /// Batches that exercise the im2col chunking: 8×8 planes give 16 images per GEMM, so batch 20
    /// is one full chunk plus a partial one (and two workers on a 2-core machine); batch 17 leaves
    /// a final single-image chunk; batch 1 is the degenerate case.
    @Test(arguments: [1, 17, 20])
    func chunkedBatches(_ batch: Int) {
        let c = ConvCase(batch: batch, cin: 2, h: 8, w: 8, cout: 3, kh: 3, kw: 3, stride: 1, padding: 1, bias: true)
        let g = Conv2dGeometry(batch: batch, inChannels: 2, height: 8, width: 8, outChannels: 3,
                               kernelH: 3, kernelW: 3, stride: 1, padding: 1)
        #expect(g.imagesPerChunk == min(batch, 16))
        #expect(g.chunkCount == (batch + 15) / 16)
        let (x, w, b) = make(c, seed: 32)
        expectClose(Tensor.conv2d(x, weight: w, bias: b, padding: 1), naiveConv2d(x, weight: w, bias: b, stride: 1, padding: 1), tol: 1e-5)
        // Every input element of a big batch: check x, w and b (x is 20·2·64 = 2560 elements).
        expectGradient([x, w, b!], c.testDescription) { Tensor.conv2d($0[0], weight: $0[1], bias: $0[2], padding: 1) }
    }

    @Test func stridedChunkedBatchWithPadding() {
        // 5×5 output planes → 41 images per chunk; batch 45 splits into 41 + 4.
        var rng = SeededRNG(seed: 33)
        let x = rng.tensor([45, 1, 9, 9]), w = rng.tensor([2, 1, 3, 3])
        let g = Conv2dGeometry(batch: 45, inChannels: 1, height: 9, width: 9, outChannels: 2, kernelH: 3, kernelW: 3, stride: 2, padding: 1)
        #expect(g.outPlane == 25 && g.imagesPerChunk == 41 && g.chunkCount == 2)
        expectClose(Tensor.conv2d(x, weight: w, stride: 2, padding: 1), naiveConv2d(x, weight: w, stride: 2, padding: 1), tol: 1e-5)
        expectGradient([w], "weight gradient over two chunks") { Tensor.conv2d(x, weight: $0[0], stride: 2, padding: 1) }
    }

    @Test func onlyOneInputTracked() {
        var rng = SeededRNG(seed: 34)
        let x = rng.tensor([2, 2, 4, 4]), w = rng.tensor([3, 2, 3, 3]), b = rng.tensor([3])
        expectGradient([x], "x only") { Tensor.conv2d($0[0], weight: w, bias: b, padding: 1) }
        expectGradient([w], "w only") { Tensor.conv2d(x, weight: $0[0], bias: b, padding: 1) }
        expectGradient([b], "bias only") { Tensor.conv2d(x, weight: w, bias: $0[0], padding: 1) }
    }

    @Test func torchGoldenValues() {
        // torch.nn.functional.conv2d(x, w, b, stride, padding=1), x = arange(1…18)/10 as [1,2,3,3],
        // w [2,2,1,2] = [1,-1,.5,2, 0,1,-2,.25], b = [.5,-1].
        let x = Tensor(shape: [1, 2, 3, 3], (1...18).map { Float($0) / 10 })
        let w = Tensor(shape: [2, 2, 1, 2], [1, -1, 0.5, 2, 0, 1, -2, 0.25]), b = Tensor(shape: [2], [0.5, -1])
        let y = Tensor.conv2d(x, weight: w, bias: b, stride: 1, padding: 1)
        #expect(y.shape == [1, 2, 5, 4])
        expectClose(y, [0.5, 0.5, 0.5, 0.5, 2.4, 3.1, 3.35, 1.4, 2.7, 3.85, 4.1, 1.85, 3.0, 4.6, 4.85, 2.3, 0.5, 0.5, 0.5, 0.5,
                        -1, -1, -1, -1, -0.65, -2.525, -2.6, -3.4, -0.275, -2.75, -2.825, -4.0, 0.1, -2.975, -3.05, -4.6, -1, -1, -1, -1],
                    tol: 1e-5)
        let y2 = Tensor.conv2d(x, weight: w, bias: b, stride: 2, padding: 1)
        #expect(y2.shape == [1, 2, 3, 2])
        expectClose(y2, [0.5, 0.5, 2.7, 4.1, 0.5, 0.5, -1, -1, -0.275, -2.825, -1, -1], tol: 1e-5)
    }
}
