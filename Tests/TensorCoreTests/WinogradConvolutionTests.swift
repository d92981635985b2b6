import Testing
@testable import TensorCore
import TestSupport

/// 3 × 3, stride-1, padding-1 geometries the `avx512-winograd` path runs by F(2 × 2, 3 × 3), one
/// per block shape and edge: a block per output-row pair and 32 columns (a single row pair; 64- and
/// 96-wide rows whose blocks take their edge columns from the neighbouring block), 2 row pairs of
/// a 16-wide plane, 4 of an 8-wide one; input channels not in whole 16s (forward only), one output
/// channel block or three.
let winogradCases: [ConvCase] = [
    ConvCase(batch: 2, cin: 16, h: 2, w: 32, cout: 16, kh: 3, kw: 3, stride: 1, padding: 1, bias: false),
    ConvCase(batch: 2, cin: 16, h: 4, w: 64, cout: 32, kh: 3, kw: 3, stride: 1, padding: 1, bias: true),
    ConvCase(batch: 1, cin: 32, h: 6, w: 96, cout: 16, kh: 3, kw: 3, stride: 1, padding: 1, bias: false),
    ConvCase(batch: 3, cin: 16, h: 8, w: 16, cout: 48, kh: 3, kw: 3, stride: 1, padding: 1, bias: false),
    ConvCase(batch: 2, cin: 32, h: 4, w: 16, cout: 16, kh: 3, kw: 3, stride: 1, padding: 1, bias: false),
    ConvCase(batch: 1, cin: 16, h: 8, w: 8, cout: 32, kh: 3, kw: 3, stride: 1, padding: 1, bias: false),
    ConvCase(batch: 2, cin: 48, h: 16, w: 8, cout: 16, kh: 3, kw: 3, stride: 1, padding: 1, bias: true),
    ConvCase(batch: 2, cin: 5, h: 4, w: 32, cout: 16, kh: 3, kw: 3, stride: 1, padding: 1, bias: false),
    ConvCase(batch: 2, cin: 1, h: 8, w: 8, cout: 16, kh: 3, kw: 3, stride: 1, padding: 1, bias: false),
]

@Suite(.enabled(if: ConvolutionKernelPath.supported.contains(.avx512Winograd), "this CPU has no AVX-512"))
struct WinogradConvolutionTests {
    func geometry(_ c: ConvCase) -> Conv2dGeometry {
        Conv2dGeometry(batch: c.batch, inChannels: c.cin, height: c.h, width: c.w, outChannels: c.cout,
                       kernelH: c.kh, kernelW: c.kw, stride: c.stride, padding: c.padding)
    }

    func geometry(_ n: Int, _ ci: Int, _ h: Int, _ w: Int, _ co: Int, kernel: Int = 3, stride: Int = 1, padding: Int = 1) -> Conv2dGeometry {
        Conv2dGeometry(batch: n, inChannels: ci, height: h, width: w, outChannels: co, kernelH: kernel, kernelW: kernel,
                       stride: stride, padding: padding)
    }

    /// Which convolutions the path takes by Winograd, and only on that path.
    @Test func selection() {
        let path = ConvolutionKernelPath.avx512Winograd
        for c in winogradCases {
            #expect(WinogradConvolution.handles(geometry(c), on: path), "\(c.testDescription)")
            #expect(WinogradConvolution.handlesInputGradient(geometry(c), on: path) == (c.cin % 16 == 0), "\(c.testDescription)")
            #expect(WinogradConvolution.handlesWeightGradient(geometry(c), on: path) == (c.cin % 16 == 0), "\(c.testDescription)")
            for other in [ConvolutionKernelPath.avx512, .avx2, .blas] {
                #expect(!WinogradConvolution.handles(geometry(c), on: other) && !WinogradConvolution.handlesInputGradient(geometry(c), on: other)
                        && !WinogradConvolution.handlesWeightGradient(geometry(c), on: other))
            }
        }
        let refused = [
            geometry(2, 16, 6, 16, 16),            // 16-wide rows, a height not in whole 4s
            geometry(2, 16, 4, 8, 16),             // 8-wide rows, a height not in whole 8s
            geometry(2, 16, 3, 32, 16),            // an odd height
            geometry(2, 16, 4, 24, 16),            // a width neither 8, 16 nor a multiple of 32
            geometry(2, 16, 4, 4, 16),             // 4-wide rows
            geometry(2, 16, 4, 32, 24),            // output channels not in whole 16s
            geometry(2, 16, 8, 32, 16, stride: 2),
            geometry(2, 16, 4, 32, 16, padding: 0),
            geometry(2, 16, 4, 32, 16, padding: 2),
            geometry(2, 16, 4, 32, 16, kernel: 5, padding: 2),
            geometry(2, 16, 4, 32, 16, kernel: 1, padding: 0),
        ]
        for g in refused {
            #expect(!WinogradConvolution.handles(g, on: path) && !WinogradConvolution.handlesWeightGradient(g, on: path), "\(g)")
        }
        // The input gradient maps Co → Ci channels: Ci must come in whole 16s.
        #expect(!WinogradConvolution.handlesInputGradient(geometry(2, 24, 4, 32, 16), on: path))
        #expect(WinogradConvolution.handlesInputGradient(geometry(2, 16, 4, 32, 24), on: path))
    }

    /// `w` `[Co, Ci, 3, 3]` flipped in space and transposed in channels: `[Ci, Co, 3, 3]`.
    func flippedTransposed(_ w: Tensor) -> Tensor {
        let (co, ci) = (w.shape[0], w.shape[1]), v = w.scalars
        var out = [Float](repeating: 0, count: v.count)
        for o in 0..<co { for i in 0..<ci { for t in 0..<9 { out[(i * co + o) * 9 + 8 - t] = v[(o * ci + i) * 9 + t] } } }
        return Tensor(shape: [ci, co, 3, 3], out)
    }

    /// Largest |a − b|.
    func maxError(_ a: Tensor, _ b: Tensor) -> Float { zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0 }

    /// `dW[co, ci, ky, kx] = Σ dy[b, co, y, x] · x[b, ci, y + ky − 1, x + kx − 1]`, summed in double.
    func naiveWeightGradient(_ x: Tensor, _ dy: Tensor) -> Tensor {
        let (n, ci, h, w, co) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3], dy.shape[1])
        let xs = x.scalars, ds = dy.scalars
        var out = [Float](repeating: 0, count: co * ci * 9)
        for o in 0..<co { for i in 0..<ci { for ky in 0..<3 { for kx in 0..<3 {
            var s = 0.0
            for b in 0..<n { for y in 0..<h { for xx in 0..<w {
                let iy = y + ky - 1, ix = xx + kx - 1
                guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                s += Double(ds[((b * co + o) * h + y) * w + xx]) * Double(xs[((b * ci + i) * h + iy) * w + ix])
            } } }
            out[((o * ci + i) * 3 + ky) * 3 + kx] = Float(s)
        } } } }
        return Tensor(shape: [co, ci, 3, 3], out)
    }

    /// The forward pass, input gradient and weight gradient (those two where the input channels
    /// come in whole 16s) against a double-precision reference: within the suite's tolerance, and no more than 4× the direct AVX-512 kernel's own error (plus 2e-7 of
    /// the outputs' magnitude, for cases where the direct sums happen to be nearly exact) — the
    /// transforms' round-off is of the direct sums' order, not a lower precision.
    @Test(arguments: winogradCases)
    func matchesDoublePrecision(_ c: ConvCase) {
        var rng = SeededRNG(seed: 61)
        let g = geometry(c)
        let x = rng.tensor([c.batch, c.cin, c.h, c.w]), w = rng.tensor([c.cout, c.cin, 3, 3]), dy = rng.tensor([c.batch, c.cout, c.h, c.w])
        var passes: [(ConvolutionPass, Tensor)] = [(.forward, naiveConv2d(x, weight: w, stride: 1, padding: 1))]
        if c.cin % 16 == 0 {
            passes.append((.inputGradient, naiveConv2d(dy, weight: flippedTransposed(w), stride: 1, padding: 1)))
            passes.append((.weightGradient, naiveWeightGradient(x, dy)))
        }
        for (pass, reference) in passes {
            let winograd = ConvolutionKernelPath.withPath(.avx512Winograd) { Tensor.conv2dPass(pass, g, x: x, weight: w, dy: dy) }
            let direct = ConvolutionKernelPath.withPath(.avx512) { Tensor.conv2dPass(pass, g, x: x, weight: w, dy: dy) }
            expectClose(winograd, reference, tol: 1e-5, "\(pass) \(c.testDescription)")
            let scale = reference.scalars.map(abs).max() ?? 1
            let (e, d) = (maxError(winograd, reference), maxError(direct, reference))
            #expect(e <= 4 * d + 2e-7 * scale, "\(pass) \(c.testDescription): Winograd error \(e), direct \(d), |y| ≤ \(scale)")
            #expect(winograd.scalars != direct.scalars, "\(pass) \(c.testDescription): the direct kernel ran")
        }
    }

    /// Central differences through autograd on the Winograd path (every pass by Winograd).
    @Test(arguments: [winogradCases[0], winogradCases[5]])
    func gradients(_ c: ConvCase) {
        var rng = SeededRNG(seed: 62)
        let x = rng.tensor([c.batch, c.cin, c.h, c.w]), w = rng.tensor([c.cout, c.cin, 3, 3])
        ConvolutionKernelPath.withPath(.avx512Winograd) {
            expectGradient([x, w], "\(c.testDescription) on avx512-winograd") { t in Tensor.conv2d(t[0], weight: t[1], padding: 1) }
        }
    }

    /// Blocks (and the weight gradient's image slices) split across workers give the same bits as
    /// one worker (each output's sums in one order): 64-wide rows, so blocks meet mid-row.
    @Test func sameBitsOnOneWorker() {
        var rng = SeededRNG(seed: 63)
        let c = winogradCases[1], g = geometry(c)
        let x = rng.tensor([8, c.cin, c.h, c.w]), w = rng.tensor([c.cout, c.cin, 3, 3]), dy = rng.tensor([8, c.cout, c.h, c.w])
        let g8 = Conv2dGeometry(batch: 8, inChannels: g.inChannels, height: g.height, width: g.width, outChannels: g.outChannels,
                                kernelH: 3, kernelW: 3, stride: 1, padding: 1)
        let run = {
            ConvolutionKernelPath.withPath(.avx512Winograd) {
                ConvolutionPass.allCases.map { Tensor.conv2dPass($0, g8, x: x, weight: w, dy: dy).scalars }
            }
        }
        let one = Parallel.withWorkerLimit(1) { run() }
        #expect(one == run())
    }
}
