import CKernels

/// Stride-1 convolutions as implicit GEMMs (`CKernels/implicit_conv.c`): the patch matrix is
/// packed 16 output pixels at a time straight from the input into a cache-resident panel and
/// multiplied by an AVX-512 micro-kernel, so the im2col write, OpenBLAS's re-packing of it and
/// the output channel gather all disappear. The input gradient of a stride-1 convolution is the
/// same routine run on the output gradient with flipped, channel-transposed weights, which also
/// removes the `dCol` product and the `col2im` scatter-add.
///
/// The weight gradient of a 3 × 3 stride-1 convolution (`implicit_weight_gradient.c`) likewise
/// reads the input and the output gradient directly, replacing im2col, the output-gradient channel
/// gather and OpenBLAS's packing.
///
/// Used when the CPU has AVX-512 and the shapes tile by 16; every other case keeps the
/// im2col + OpenBLAS path in `Convolution.swift`.
enum ImplicitConvolution {
    /// Whether this CPU (and OS) run the AVX-512 kernels.
    static let isAvailable = bd_implicit_conv_available() != 0

    /// Panels claimed per work item: 4 blocks of `BD_PANELS_PER_BLOCK`.
    static let panelsPerClaim = 16

    /// The forward convolution `g` runs implicitly: stride 1, output channels and output plane in
    /// whole 16s, kernel at most `BD_MAX_KERNEL_W` wide.
    static func handlesForward(_ g: Conv2dGeometry) -> Bool {
        isAvailable && g.stride == 1 && g.outChannels % 16 == 0 && g.outPlane % 16 == 0 && g.kernelW <= Int(BD_MAX_KERNEL_W)
    }

    /// The input gradient of `g` runs implicitly: stride 1, square kernel with `padding < kernel`
    /// (so the gradient convolution's padding `kernel − 1 − padding` is ≥ 0), input channels and
    /// input plane in whole 16s, kernel at most `BD_MAX_KERNEL_W` wide.
    static func handlesInputGradient(_ g: Conv2dGeometry) -> Bool {
        isAvailable && g.stride == 1 && g.kernelH == g.kernelW && g.padding < g.kernelH && g.kernelW <= Int(BD_MAX_KERNEL_W)
            && g.inChannels % 16 == 0 && (g.height * g.width) % 16 == 0
    }

    /// The weight gradient of `g` runs implicitly: 3 × 3 kernel, stride 1, output channels and
    /// output plane in whole 16s.
    static func handlesWeightGradient(_ g: Conv2dGeometry) -> Bool {
        isAvailable && g.stride == 1 && g.kernelH == 3 && g.kernelW == 3 && g.outChannels % 16 == 0 && g.outPlane % 16 == 0
    }

    /// `y[N, Co, Ho, Wo] = conv2d(x, w)` for `handlesForward(g)`; `w` is `[Co, Ci, kh, kw]`.
    static func forward(_ g: Conv2dGeometry, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        var shape = bd_conv_shape(batch: g.batch, in_channels: g.inChannels, height: g.height, width: g.width,
                                  out_channels: g.outChannels, kernel_h: g.kernelH, kernel_w: g.kernelW, padding: g.padding)
        run(&shape, input: x, weight: w, flipTranspose: false, output: y)
    }

    /// `dx[N, Ci, H, W]` (written, not accumulated) from `dy[N, Co, Ho, Wo]` for
    /// `handlesInputGradient(g)`: the convolution of `dy` with `w[co, ci, kh−1−ky, kw−1−kx]`
    /// (Ci output channels), padding `kh − 1 − padding`.
    static func inputGradient(_ g: Conv2dGeometry, _ dy: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>) {
        var shape = bd_conv_shape(batch: g.batch, in_channels: g.outChannels, height: g.outHeight, width: g.outWidth,
                                  out_channels: g.inChannels, kernel_h: g.kernelH, kernel_w: g.kernelW,
                                  padding: g.kernelH - 1 - g.padding)
        run(&shape, input: dy, weight: w, flipTranspose: true, output: dx)
    }

    /// `dW[Co, Ci, 3, 3]` from `x[N, Ci, H, W]` and `dy[N, Co, Ho, Wo]` for `handlesWeightGradient(g)`.
    /// Images are summed in `groups` fixed slices (each into its own partial, the partials then in
    /// order), so the result does not depend on the worker count or on which worker took which slice.
    static func weightGradient(_ g: Conv2dGeometry, _ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, groups: Int) -> TensorStorage {
        let K = g.patchSize, Co = g.outChannels, slices = min(groups, g.batch)
        var shape = bd_conv_shape(batch: g.batch, in_channels: g.inChannels, height: g.height, width: g.width,
                                  out_channels: Co, kernel_h: 3, kernel_w: 3, padding: g.padding)
        let scratchCount = bd_weight_gradient_scratch_count(&shape)
        let partials = (0..<slices).map { _ in TensorStorage(repeating: 0, count: K * Co) }
        let s = shape
        nonisolated(unsafe) let (x, dy, pointers) = (x, dy, partials.map(\.pointer))
        Parallel.forEachWorker(slices) { _, claim in
            let scratch = TensorStorage(uninitializedCount: scratchCount)
            var s = s
            while let slice = claim() {
                bd_weight_gradient_3x3(&s, x, dy, s.batch * slice / slices, s.batch * (slice + 1) / slices, pointers[slice], scratch.pointer)
            }
        }
        let total = partials[0]
        for p in partials.dropFirst() { Vector.accumulate(p.pointer, into: total.pointer, total.count) }
        let dw = TensorStorage(uninitializedCount: Co * K)
        for k in 0..<K { for c in 0..<Co { dw.pointer[c * K + k] = total.pointer[k * Co + c] } }
        return dw
    }

    private static func run(_ shape: inout bd_conv_shape, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                            flipTranspose: Bool, output: UnsafeMutablePointer<Float>) {
        let outPlane = (shape.height + 2 * shape.padding - shape.kernel_h + 1) * (shape.width + 2 * shape.padding - shape.kernel_w + 1)
        let packed = TensorStorage(uninitializedCount: shape.out_channels * shape.in_channels * shape.kernel_h * shape.kernel_w)
        bd_pack_conv_weights(&shape, weight, flipTranspose ? 1 : 0, packed.pointer)
        let panels = shape.batch * outPlane / 16
        let scratchCount = bd_implicit_conv_scratch_count(&shape)
        let s = shape
        nonisolated(unsafe) let (x, w, y) = (input, UnsafePointer(packed.pointer), output)
        Parallel.forEachWorker((panels + panelsPerClaim - 1) / panelsPerClaim) { _, claim in
            let scratch = TensorStorage(uninitializedCount: scratchCount)
            var s = s
            while let item = claim() {
                let begin = item * panelsPerClaim
                bd_implicit_conv_panels(&s, x, w, y, begin, min(panels, begin + panelsPerClaim), scratch.pointer)
            }
        }
        withExtendedLifetime(packed) {}
    }
}
