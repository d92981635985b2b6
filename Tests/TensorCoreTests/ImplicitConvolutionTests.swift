import Testing
@testable import TensorCore
import TestSupport

/// Geometries the implicit paths (`ImplicitConvolution`, AVX-512 and AVX2) take for the forward
/// pass (stride 1 or 2), the input gradient (stride 1, or stride 2 by phases), the weight gradient
/// (3 × 3, or 1 × 1 without padding; stride 1 or 2), or several (see
/// `pathSelection`).
/// `ConvolutionTests` checks each on every kernel path this CPU runs against the naive convolution
/// and by central differences (the input gradient is the flipped, channel-transposed convolution
/// of the output gradient when `handlesInputGradient`; the weight gradient comes from
/// `bd_weight_gradient_3x3_*` when `handlesWeightGradient`).
let implicitConvCases: [ConvCase] = [
    // One 16-pixel panel is one whole 4×4 image; bias added after the kernel.
    ConvCase(batch: 3, cin: 16, h: 4, w: 4, cout: 16, kh: 3, kw: 3, stride: 1, padding: 1, bias: true),
    // 6×8 planes: panels straddle output rows (segments of 8 + 8, 16, …); two output-channel blocks.
    ConvCase(batch: 2, cin: 16, h: 6, w: 8, cout: 32, kh: 3, kw: 3, stride: 1, padding: 1, bias: false),
    // Valid convolution (padding 0): 10×8 → 8×6; its input gradient pads by 2.
    ConvCase(batch: 2, cin: 16, h: 10, w: 8, cout: 16, kh: 3, kw: 3, stride: 1, padding: 0, bias: false),
    // Kernel larger than the image: most taps read padding.
    ConvCase(batch: 2, cin: 16, h: 4, w: 4, cout: 16, kh: 5, kw: 5, stride: 1, padding: 2, bias: true),
    // 1×1 convolution with more output than input channels.
    ConvCase(batch: 2, cin: 16, h: 4, w: 8, cout: 32, kh: 1, kw: 1, stride: 1, padding: 0, bias: false),
    // Stem-like: 3 input channels (forward implicit, input gradient through col2im).
    ConvCase(batch: 2, cin: 3, h: 8, w: 8, cout: 16, kh: 3, kw: 3, stride: 1, padding: 1, bias: false),
    // Non-square kernel (3×1, padding 1: 8×6 → 8×8): rows and columns have their own taps.
    ConvCase(batch: 2, cin: 16, h: 8, w: 6, cout: 16, kh: 3, kw: 1, stride: 1, padding: 1, bias: false),
    // Padding as large as the kernel: output 4×4 from a 2×2 input, border outputs all padding
    // (the 2×2 input plane is not a whole 16: input gradient through col2im).
    ConvCase(batch: 2, cin: 16, h: 2, w: 2, cout: 16, kh: 1, kw: 1, stride: 1, padding: 1, bias: true),
    // Weight-gradient tiles: 48 output channels (three 16-wide tiles), odd input channels.
    ConvCase(batch: 3, cin: 5, h: 8, w: 6, cout: 48, kh: 3, kw: 3, stride: 1, padding: 1, bias: false),
    // Two 32-wide weight-gradient tiles; 10 images split into 8 fixed slices.
    ConvCase(batch: 10, cin: 16, h: 4, w: 4, cout: 64, kh: 3, kw: 3, stride: 1, padding: 1, bias: false),
    // Padding beyond the kernel (3×3, padding 3: 4×4 → 8×8): the input gradient's taps all shift
    // forward.
    ConvCase(batch: 2, cin: 16, h: 4, w: 4, cout: 16, kh: 3, kw: 3, stride: 1, padding: 3, bias: false),
    // Stride 2 (forward and weight gradient implicit; input gradient through im2col, its output
    // rows narrower than 8): 8×8 → 4×4, a panel of four 4-pixel segments, each lane reading every
    // other input column.
    ConvCase(batch: 2, cin: 16, h: 8, w: 8, cout: 16, kh: 3, kw: 3, stride: 2, padding: 1, bias: false),
    // Stride 2, 16×16 → 8×8 with 5 input channels and a bias: two 8-pixel segments per panel.
    ConvCase(batch: 2, cin: 5, h: 16, w: 16, cout: 32, kh: 3, kw: 3, stride: 2, padding: 1, bias: true),
    // Stride 2 on an odd plane (7×7 → 4×4): the last column and row read past the input.
    ConvCase(batch: 2, cin: 16, h: 7, w: 7, cout: 16, kh: 3, kw: 3, stride: 2, padding: 1, bias: false),
    // Stride 2, output rows of 16 (4×32 → 2×16): one segment per panel, a 32-float window each;
    // its input gradient by phases, one 16-pixel phase row per panel.
    ConvCase(batch: 2, cin: 16, h: 4, w: 32, cout: 16, kh: 3, kw: 3, stride: 2, padding: 1, bias: false),
    // The 1×1 stride-2 shortcut (8×8 → 4×4): forward and weight gradient implicit, input gradient
    // through im2col (output rows narrower than 8).
    ConvCase(batch: 2, cin: 16, h: 8, w: 8, cout: 16, kh: 1, kw: 1, stride: 2, padding: 0, bias: false),
    // Stride 2, 16×16 → 8×8 (layer3-like): input gradient by phases, two 8-pixel phase rows per
    // panel, the odd phases summing two taps per axis.
    ConvCase(batch: 2, cin: 16, h: 16, w: 16, cout: 32, kh: 3, kw: 3, stride: 2, padding: 1, bias: false),
    // The 1×1 stride-2 shortcut with an 8-wide output: input gradient by phases, three of them
    // no tap reaches (zeros).
    ConvCase(batch: 3, cin: 16, h: 16, w: 16, cout: 16, kh: 1, kw: 1, stride: 2, padding: 0, bias: false),
    // An even kernel (4×4/2, padding 1: 8×16 → 4×8): every phase has 2 × 2 taps.
    ConvCase(batch: 2, cin: 16, h: 8, w: 16, cout: 16, kh: 4, kw: 4, stride: 2, padding: 1, bias: false),
    // A 1×1/2 weight gradient over three 8-channel input tiles and three 16-channel output tiles
    // (the input gradient, 24 channels, through col2im).
    ConvCase(batch: 3, cin: 24, h: 8, w: 8, cout: 48, kh: 1, kw: 1, stride: 2, padding: 0, bias: false),
    // Stride 1 with 16-wide output rows: one segment per panel, so the AVX-512 forward and input
    // gradient read the input directly; the first and last rows skip the tap row in the padding.
    ConvCase(batch: 2, cin: 16, h: 8, w: 16, cout: 32, kh: 3, kw: 3, stride: 1, padding: 1, bias: false),
    // A valid 3×3 (6×18 → 4×16) over 8 input channels: a direct forward from 18-wide input rows
    // (its input gradient, a 6×18 plane, through col2im).
    ConvCase(batch: 2, cin: 8, h: 6, w: 18, cout: 16, kh: 3, kw: 3, stride: 1, padding: 0, bias: true),
    // A 5×5 kernel on 4×16 planes: every panel skips one or two of its five tap rows.
    ConvCase(batch: 2, cin: 16, h: 4, w: 16, cout: 16, kh: 5, kw: 5, stride: 1, padding: 2, bias: false),
    // A one-row plane: each output sees only the middle tap row (the weight gradient's row of
    // taps inside the plane is the middle one alone).
    ConvCase(batch: 2, cin: 16, h: 1, w: 16, cout: 16, kh: 3, kw: 3, stride: 1, padding: 1, bias: false),
    // Stride 2 to a one-column output (32×2 → 16×1): the weight gradient's only pixel per row has
    // padding on the left and input on the right; a forward panel of 16 one-pixel segments.
    ConvCase(batch: 2, cin: 16, h: 32, w: 2, cout: 16, kh: 3, kw: 3, stride: 2, padding: 1, bias: false),
    // A one-column plane (16×1): only the middle tap column lies inside it.
    ConvCase(batch: 2, cin: 16, h: 16, w: 1, cout: 16, kh: 3, kw: 3, stride: 1, padding: 1, bias: false),
    // 8-wide rows and an odd batch: no image to pair the last one with, so packed panels (an even
    // batch with 8-wide rows, as the 6×8 and 3×1 cases above, pairs rows of two images).
    ConvCase(batch: 3, cin: 16, h: 8, w: 8, cout: 16, kh: 3, kw: 3, stride: 1, padding: 1, bias: false),
    // The 1×1/2 shortcut with 16-wide output rows (4×32 → 2×16): its one input-gradient phase reads
    // the output gradient directly on AVX-512 (as the 3×3/2 case with 16-wide rows above).
    ConvCase(batch: 2, cin: 16, h: 4, w: 32, cout: 32, kh: 1, kw: 1, stride: 2, padding: 0, bias: false),
]

@Suite struct ImplicitConvolutionTests {
    func geometry(_ c: ConvCase) -> Conv2dGeometry {
        Conv2dGeometry(batch: c.batch, inChannels: c.cin, height: c.h, width: c.w, outChannels: c.cout,
                       kernelH: c.kh, kernelW: c.kw, stride: c.stride, padding: c.padding)
    }

    @Test(arguments: ConvolutionKernelPath.allCases)
    func pathSelection(_ path: ConvolutionKernelPath) {
        let implicit = path != .blas
        let forward = implicitConvCases.map { ImplicitConvolution.handlesForward(geometry($0), on: path) }
        let input = implicitConvCases.map { ImplicitConvolution.handlesInputGradient(geometry($0), on: path) }
        let weight = implicitConvCases.map { ImplicitConvolution.handlesWeightGradient(geometry($0), on: path) }
        let i = implicit
        #expect(forward == [Bool](repeating: i, count: 28))
        #expect(input == [i, i, i, i, i, false, i, false, false, i, i] + [false, false, false, i, false] + [i, i, i, false] + [i, false, i, i, false, i, i, i])
        #expect(weight == [i, i, i, false, i, i, false, false, i, i, i] + [i, i, i, i, i] + [i, i, false, i] + [i, i, false, i, i, i, i, i])
        // Stride 3, channels or planes not in whole 16s: never implicit.
        let strided = Conv2dGeometry(batch: 2, inChannels: 16, height: 12, width: 12, outChannels: 16, kernelH: 3, kernelW: 3, stride: 3, padding: 1)
        let narrow = Conv2dGeometry(batch: 2, inChannels: 8, height: 8, width: 8, outChannels: 8, kernelH: 3, kernelW: 3, stride: 1, padding: 1)
        let smallPlane = Conv2dGeometry(batch: 2, inChannels: 16, height: 2, width: 2, outChannels: 16, kernelH: 3, kernelW: 3, stride: 1, padding: 1)
        for g in [strided, narrow, smallPlane] {
            #expect(!ImplicitConvolution.handlesForward(g, on: path) && !ImplicitConvolution.handlesInputGradient(g, on: path)
                    && !ImplicitConvolution.handlesWeightGradient(g, on: path))
        }
    }

    /// The AVX-512 and AVX2 builds run every output's sums in the same order: their forward pass,
    /// input gradient and weight gradient agree bit for bit (checked where this CPU runs both; the
    /// im2col path only approximately, `ConvolutionTests`).
    @Test(.enabled(if: ConvolutionKernelPath.supported.contains(.avx512), "this CPU runs one implicit build: nothing to compare"),
          arguments: implicitConvCases)
    func implicitBuildsAgreeBitForBit(_ c: ConvCase) {
        let implicit: [ConvolutionKernelPath] = [.avx512, .avx2]
        var rng = SeededRNG(seed: 44)
        let g = geometry(c)
        let x = rng.tensor([c.batch, c.cin, c.h, c.w]), w = rng.tensor([c.cout, c.cin, c.kh, c.kw])
        let dy = rng.tensor([c.batch, c.cout, g.outHeight, g.outWidth])
        let results = implicit.map { path in
            ConvolutionKernelPath.withPath(path) { ConvolutionPass.allCases.map { Tensor.conv2dPass($0, g, x: x, weight: w, dy: dy).scalars } }
        }
        #expect(results[0] == results[1])
    }

    /// `BACKDROP_KERNELS` values: names in any case, empty means the fastest, unknown or
    /// unsupported names are refused naming the variable and what to use.
    @Test func environmentValues() throws {
        #expect(try ConvolutionKernelPath.resolve(nil) == ConvolutionKernelPath.fastest)
        #expect(try ConvolutionKernelPath.resolve("  ") == ConvolutionKernelPath.fastest)
        #expect(try ConvolutionKernelPath.resolve("BLAS") == .blas)
        #expect(ConvolutionKernelPath.supported.last == .blas)
        do {
            _ = try ConvolutionKernelPath.resolve("sse2")
            Issue.record("sse2 accepted")
        } catch let error as InvalidOption {
            #expect(error.key == "BACKDROP_KERNELS")
            #expect(error.message.contains("avx512, avx2, blas"))
        }
        for path in ConvolutionKernelPath.allCases where !ConvolutionKernelPath.supported.contains(path) {
            #expect(throws: InvalidOption.self) { try ConvolutionKernelPath.resolve(path.rawValue) }
        }
        for path in ConvolutionKernelPath.supported { #expect(try ConvolutionKernelPath.resolve(path.rawValue) == path) }
    }

    /// `withPath` changes what provenance records, for the work inside it only.
    @Test func provenanceNameFollowsThePath() {
        for path in ConvolutionKernelPath.supported {
            ConvolutionKernelPath.withPath(path) { #expect(Tensor.convolutionKernels == path.provenanceName) }
        }
        #expect(Set(ConvolutionKernelPath.allCases.map(\.provenanceName)).count == 4)
    }

    /// Enough output (80 · 16 · 64 values) for the bias to be added by several workers: every
    /// output is the unbiased one plus its channel's bias (the kernel itself is checked above).
    @Test func biasAcrossWorkers() {
        var rng = SeededRNG(seed: 43)
        let x = rng.tensor([80, 16, 8, 8]), w = rng.tensor([16, 16, 3, 3]), b = rng.tensor([16])
        let biased = Tensor.conv2d(x, weight: w, bias: b, padding: 1).scalars, plain = Tensor.conv2d(x, weight: w, padding: 1).scalars
        #expect(biased.indices.allSatisfy { biased[$0] == plain[$0] + b.scalars[($0 / 64) % 16] })
    }

    /// The input gradient is written into an uninitialized tensor: garbage from the storage pool
    /// must not leak into it. Fill the pool with NaN-filled buffers of the gradient's size first.
    @Test func inputGradientIgnoresRecycledStorage() {
        // 16 · 16 · 8 · 8 = 16 384 floats: large enough for the storage pool to recycle.
        let c = ConvCase(batch: 16, cin: 16, h: 8, w: 8, cout: 16, kh: 3, kw: 3, stride: 1, padding: 1, bias: false)
        #expect(c.batch * c.cin * c.h * c.w >= StoragePool.minimumPooledCount)
        var rng = SeededRNG(seed: 42)
        let x = rng.tensor([c.batch, c.cin, c.h, c.w]), w = rng.tensor([c.cout, c.cin, c.kh, c.kw])
        let expected = Tensor.conv2dBackward(geometry(c), x: x, weight: w, dy: Tensor.ones([c.batch, c.cout, c.h, c.w]),
                                             needInput: true, needWeight: false).0!
        do { _ = (0..<4).map { _ in Tensor(shape: x.shape, [Float](repeating: .nan, count: x.count)) } }
        let again = Tensor.conv2dBackward(geometry(c), x: x, weight: w, dy: Tensor.ones([c.batch, c.cout, c.h, c.w]),
                                          needInput: true, needWeight: false).0!
        #expect(again.scalars == expected.scalars)
        #expect(!again.scalars.contains { $0.isNaN })
    }
}
