import CKernels

/// 3 × 3, stride-1, padding-1 convolutions by Winograd's minimal filtering — the forward pass and
/// input gradient by F(2 × 2, 3 × 3) (Lavin & Gray, CVPR 2016; `CKernels/winograd_conv.c`), on the
/// `avx512-winograd` kernel path: each block of 16 output tiles of 2 × 2 pixels has its 4 × 4 input
/// tiles transformed into a cache-resident scratch, multiplied by the transformed weights
/// (16 products of [16 output channels × Ci] by [Ci × 16 tiles]) and transformed back into the
/// output rows — 16 multiplies per 4 outputs and input channel instead of 36.
///
/// The transforms add, subtract and halve before the products, so the sums differ from the direct
/// kernels' by round-off (of the same order: `ConvolutionTests` holds every path to 1e-5 against
/// a double-precision reference). Blocks are split across workers and each output's sums run in
/// one fixed order, so results do not depend on the worker count. The weight gradient (input
/// channels in whole 16s) runs by F(3 × 3, 2 × 2), the same transforms transposed, its products
/// summed over fixed slices of the images; every other convolution takes the `avx512` path's
/// kernels.
enum WinogradConvolution {
    /// Blocks (16 tiles, 64 output pixels each) claimed per work item.
    static let blocksPerClaim = 4

    /// The descriptor of a 3 × 3, stride-1, padding-1 convolution from `inChannels` to
    /// `outChannels` channels on `height × width` planes.
    static func descriptor(batch: Int, inChannels: Int, outChannels: Int, height: Int, width: Int) -> bd_winograd_conv {
        bd_winograd_conv(batch: batch, in_channels: inChannels, out_channels: outChannels, height: height, width: width, stream_output: 0)
    }

    /// `g` is a 3 × 3, stride-1, padding-1 convolution, on the Winograd path.
    private static func isWinograd(_ g: Conv2dGeometry, on path: ConvolutionKernelPath) -> Bool {
        path == .avx512Winograd && g.kernelH == 3 && g.kernelW == 3 && g.stride == 1 && g.padding == 1
    }

    /// The forward pass of `g` runs by Winograd on `path`: a 3 × 3, stride-1, padding-1 convolution,
    /// output channels in whole 16s, the plane as `bd_winograd_supports` needs (an even height and
    /// a width that is a multiple of 32, or width 16 and height a multiple of 4, or width 8 and
    /// height a multiple of 8).
    static func handles(_ g: Conv2dGeometry, on path: ConvolutionKernelPath) -> Bool {
        guard isWinograd(g, on: path) else { return false }
        var d = descriptor(batch: g.batch, inChannels: g.inChannels, outChannels: g.outChannels, height: g.height, width: g.width)
        return bd_winograd_supports(&d) != 0
    }

    /// The input gradient of `g` runs by Winograd on `path` (the same convolution from `Co` to `Ci`
    /// channels: input channels in whole 16s).
    static func handlesInputGradient(_ g: Conv2dGeometry, on path: ConvolutionKernelPath) -> Bool {
        guard isWinograd(g, on: path) else { return false }
        var d = descriptor(batch: g.batch, inChannels: g.outChannels, outChannels: g.inChannels, height: g.height, width: g.width)
        return bd_winograd_supports(&d) != 0
    }

    /// The weight gradient of `g` runs by Winograd (F(3 × 3, 2 × 2)) on `path`: `handles(g)` and
    /// input channels in whole 16s.
    static func handlesWeightGradient(_ g: Conv2dGeometry, on path: ConvolutionKernelPath) -> Bool {
        handles(g, on: path) && g.inChannels % 16 == 0
    }

    /// `dW[Co, Ci, 3, 3]`, transposed as `[Ci·9][Co]` partials summed over `groups` fixed slices of
    /// the images (`ImplicitConvolution.sliceWeightGradient`), for `handlesWeightGradient(g)`.
    static func weightGradient(_ g: Conv2dGeometry, _ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, groups: Int) -> TensorStorage {
        var d = descriptor(batch: g.batch, inChannels: g.inChannels, outChannels: g.outChannels, height: g.height, width: g.width)
        let shared = d
        nonisolated(unsafe) let (x, dy) = (x, dy)
        return ImplicitConvolution.sliceWeightGradient(g, groups: groups, scratchCount: bd_winograd_weight_gradient_scratch_count(&d)) {
            begin, end, partial, scratch in
            var d = shared
            bd_winograd_weight_gradient_avx512(&d, x, dy, begin, end, partial, scratch)
        }
    }

    /// `y[N, Co, H, W] = conv2d(x, w)` for `handles(g)`; `w` is `[Co, Ci, 3, 3]`.
    static func forward(_ g: Conv2dGeometry, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        let d = descriptor(batch: g.batch, inChannels: g.inChannels, outChannels: g.outChannels, height: g.height, width: g.width)
        run(d, input: x, weights: w, output: y)
    }

    /// `dx[N, Ci, H, W]` (written) from `dy[N, Co, H, W]` for `handlesInputGradient(g)`: the
    /// convolution of `dy` with `w` flipped in space and transposed in channels.
    static func inputGradient(_ g: Conv2dGeometry, _ dy: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>) {
        let flipped = ImplicitConvolution.flippedTransposedWeights(g, w)
        let d = descriptor(batch: g.batch, inChannels: g.outChannels, outChannels: g.inChannels, height: g.height, width: g.width)
        run(d, input: dy, weights: flipped.pointer, output: dx)
        withExtendedLifetime(flipped) {}
    }

    /// Transforms `weights` `[out_channels][in_channels][3][3]` and writes every block of `d`,
    /// blocks split across workers.
    private static func run(_ d: bd_winograd_conv, input: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                            output: UnsafeMutablePointer<Float>) {
        var d = d
        precondition(bd_winograd_supports(&d) != 0, "Winograd convolution: unsupported shape \(d)")
        d.stream_output = ImplicitConvolution.streamingFlag(count: d.batch * d.out_channels * d.height * d.width, output: output)
        let transformed = TensorStorage(uninitializedCount: bd_winograd_weight_count(&d))
        bd_winograd_transform_weights(&d, weights, transformed.pointer)
        let blocks = bd_winograd_block_count(&d), scratchCount = bd_winograd_scratch_count(&d)
        let shared = d
        nonisolated(unsafe) let (x, u, y) = (input, UnsafePointer(transformed.pointer), output)
        Parallel.forEachWorker((blocks + blocksPerClaim - 1) / blocksPerClaim) { _, claim in
            let scratch = TensorStorage(uninitializedCount: scratchCount)
            var d = shared
            while let item = claim() {
                let begin = item * blocksPerClaim
                bd_winograd_blocks_avx512(&d, x, u, y, begin, min(blocks, begin + blocksPerClaim), scratch.pointer)
            }
        }
        withExtendedLifetime(transformed) {}
    }
}
