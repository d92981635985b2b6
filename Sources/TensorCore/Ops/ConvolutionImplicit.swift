import CKernels

/// Convolutions as implicit GEMMs (`CKernels/implicit_conv.c`, `implicit_conv_avx2.c`):
/// the patch matrix is packed 16 output pixels at a time straight from the input into a
/// cache-resident panel and multiplied by an AVX-512 or AVX2 + FMA micro-kernel
/// (`ConvolutionKernelPath`), so the im2col write, OpenBLAS's re-packing of it and the output
/// channel gather all disappear.
///
/// - Forward, stride 1 or 2: taps shifted by `tap − padding`; with stride 2 each patch row is
///   packed from a 32-float window of the input row, its even elements kept (one lane permute).
/// - Input gradient: the convolution of the output gradient with the weights flipped in space and
///   transposed in channels (no `dCol` product, no `col2im` scatter-add).
/// - Weight gradient, 3 × 3, stride 1 or 2 (`implicit_weight_gradient*.c`): reads the input and
///   the output gradient directly.
///
/// Outputs of `BatchNormPasses`' streaming size are written with streaming stores (the same values).
///
/// Used on the `avx512` and `avx2` paths when the shapes tile by 16; every other case — the input
/// gradients of strided convolutions and the weight gradients of strided 1 × 1 ones included —
/// keeps the im2col + OpenBLAS path in `Convolution.swift`. (Strided convolutions through phase planes were measured implicitly too
/// and were no faster: the phase split and merge passes cost what the kernel saved; the forward
/// pass's direct stride-2 packer has no such pass; BENCHMARKS.md.)
enum ImplicitConvolution {
    /// Panels claimed per work item: 4 blocks of `BD_PANELS_PER_BLOCK`.
    static let panelsPerClaim = 16

    /// An implicit path, a stride in `strides`, a kernel within `BD_MAX_TAPS` rows and columns:
    /// what every implicit case needs before its own channel and plane conditions.
    static func isImplicit(_ g: Conv2dGeometry, strides: ClosedRange<Int> = 1...1, on path: ConvolutionKernelPath) -> Bool {
        path != .blas && strides.contains(g.stride) && g.kernelH <= Int(BD_MAX_TAPS) && g.kernelW <= Int(BD_MAX_TAPS)
    }

    /// The forward convolution `g` runs implicitly on `path`: stride 1 or 2, output channels and
    /// output plane in whole 16s.
    static func handlesForward(_ g: Conv2dGeometry, on path: ConvolutionKernelPath = .current) -> Bool {
        isImplicit(g, strides: 1...2, on: path) && g.outChannels % 16 == 0 && g.outPlane % 16 == 0
    }

    /// The input gradient of `g` runs implicitly on `path`: input channels and input plane in
    /// whole 16s.
    static func handlesInputGradient(_ g: Conv2dGeometry, on path: ConvolutionKernelPath = .current) -> Bool {
        isImplicit(g, on: path) && g.inChannels % 16 == 0 && (g.height * g.width) % 16 == 0
    }

    /// The weight gradient of `g` runs implicitly on `path`: 3 × 3 kernel, stride 1 or 2, output
    /// channels and output plane in whole 16s.
    static func handlesWeightGradient(_ g: Conv2dGeometry, on path: ConvolutionKernelPath = .current) -> Bool {
        isImplicit(g, strides: 1...2, on: path) && g.kernelH == 3 && g.kernelW == 3 && g.outChannels % 16 == 0 && g.outPlane % 16 == 0
    }

    /// `y[N, Co, Ho, Wo] = conv2d(x, w)` for `handlesForward(g)`; `w` is `[Co, Ci, kh, kw]`.
    static func forward(_ g: Conv2dGeometry, on path: ConvolutionKernelPath, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                        _ y: UnsafeMutablePointer<Float>) {
        let p = g.padding
        var d = descriptor(batch: g.batch, input: (g.inChannels, g.height, g.width), output: (g.outChannels, g.outHeight, g.outWidth),
                           rows: (0..<g.kernelH).map { $0 - p }, columns: (0..<g.kernelW).map { $0 - p })
        d.stride = g.stride
        run(d, on: path, input: x, weights: w, output: y)
    }

    /// `dx[N, Ci, H, W]` (written, not accumulated) from `dy[N, Co, Ho, Wo]` for
    /// `handlesInputGradient(g)`: `dx[ci, iy, ix] = Σ dy[co, iy + ty − (kh − 1 − p), ix + tx − (kw − 1 − p)]
    /// · w[co, ci, kh − 1 − ty, kw − 1 − tx]`.
    static func inputGradient(_ g: Conv2dGeometry, on path: ConvolutionKernelPath, _ dy: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                              _ dx: UnsafeMutablePointer<Float>) {
        let (Ci, Co, kh, kw, p) = (g.inChannels, g.outChannels, g.kernelH, g.kernelW, g.padding)
        let flipped = TensorStorage(uninitializedCount: Ci * Co * kh * kw)   // [Ci][Co][kh][kw]
        var q = flipped.pointer
        for ci in 0..<Ci { for co in 0..<Co { for ty in 0..<kh { for tx in 0..<kw {
            q.pointee = w[((co * Ci + ci) * kh + kh - 1 - ty) * kw + kw - 1 - tx]; q += 1
        } } } }
        let d = descriptor(batch: g.batch, input: (Co, g.outHeight, g.outWidth), output: (Ci, g.height, g.width),
                           rows: (0..<kh).map { $0 - (kh - 1 - p) }, columns: (0..<kw).map { $0 - (kw - 1 - p) })
        run(d, on: path, input: dy, weights: flipped.pointer, output: dx)
    }

    /// `dW[Co, Ci, 3, 3]` from `x[N, Ci, H, W]` and `dy[N, Co, Ho, Wo]` for `handlesWeightGradient(g)`.
    /// Images are summed in `groups` fixed slices (each into its own partial, the partials then in
    /// order), so the result does not depend on the worker count or on which worker took which slice.
    static func weightGradient(_ g: Conv2dGeometry, on path: ConvolutionKernelPath, _ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                               groups: Int) -> TensorStorage {
        let K = g.patchSize, Co = g.outChannels, slices = min(groups, g.batch)
        var shape = bd_conv3x3_shape(batch: g.batch, in_channels: g.inChannels, height: g.height, width: g.width,
                                     out_channels: Co, padding: g.padding, stride: g.stride)
        let scratchCount = bd_weight_gradient_scratch_count(&shape)
        let partials = (0..<slices).map { _ in TensorStorage(repeating: 0, count: K * Co) }
        let s = shape
        let kernel = path == .avx512 ? bd_weight_gradient_3x3_avx512 : bd_weight_gradient_3x3_avx2
        nonisolated(unsafe) let (x, dy, pointers) = (x, dy, partials.map(\.pointer))
        Parallel.forEachWorker(slices) { _, claim in
            let scratch = TensorStorage(uninitializedCount: scratchCount)
            var s = s
            while let slice = claim() {
                kernel(&s, x, dy, s.batch * slice / slices, s.batch * (slice + 1) / slices, pointers[slice], scratch.pointer)
            }
        }
        return Tensor.combineWeightGradientPartials(partials, outChannels: Co, patchSize: K, transposed: true)
    }

    /// A `bd_implicit_conv` from (channels, height, width) of input and output and the tap shifts.
    static func descriptor(batch: Int, input: (Int, Int, Int), output: (Int, Int, Int), rows: [Int], columns: [Int]) -> bd_implicit_conv {
        precondition(!rows.isEmpty && rows.count <= Int(BD_MAX_TAPS) && !columns.isEmpty && columns.count <= Int(BD_MAX_TAPS),
                     "implicit convolution: \(rows.count) × \(columns.count) taps (1…\(BD_MAX_TAPS) each)")
        var d = bd_implicit_conv()
        d.batch = batch
        (d.in_channels, d.in_height, d.in_width) = input
        (d.out_channels, d.out_height, d.out_width) = output
        (d.taps_y, d.taps_x) = (rows.count, columns.count)
        withUnsafeMutableBytes(of: &d.tap_row) { raw in for (i, v) in rows.enumerated() { raw.storeBytes(of: v, toByteOffset: i * MemoryLayout<Int>.stride, as: Int.self) } }
        withUnsafeMutableBytes(of: &d.tap_col) { raw in for (i, v) in columns.enumerated() { raw.storeBytes(of: v, toByteOffset: i * MemoryLayout<Int>.stride, as: Int.self) } }
        return d
    }

    /// Packs `weights` `[out_channels][K]` and writes every output panel of `d`, panels split
    /// across workers.
    private static func run(_ d: bd_implicit_conv, on path: ConvolutionKernelPath, input: UnsafePointer<Float>,
                            weights: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
        precondition(path != .blas, "implicit convolution on the blas path")
        let panelKernel = path == .avx512 ? bd_implicit_conv_panels_avx512 : bd_implicit_conv_panels_avx2
        var d = d
        // Large outputs go out with streaming stores (`BatchNormPasses`' rule; they need 64-byte rows).
        let outputCount = d.batch * d.out_channels * d.out_height * d.out_width
        d.stream_output = BatchNormPasses.current.streams(count: outputCount) && Int(bitPattern: output) % 64 == 0 ? 1 : 0
        let packed = TensorStorage(uninitializedCount: d.out_channels * d.in_channels * d.taps_y * d.taps_x)
        bd_implicit_conv_pack_weights(&d, weights, packed.pointer)
        let panels = d.batch * d.out_height * d.out_width / 16
        let scratchCount = bd_implicit_conv_scratch_count(&d)
        let shared = d
        nonisolated(unsafe) let (x, w, y) = (input, UnsafePointer(packed.pointer), output)
        Parallel.forEachWorker((panels + panelsPerClaim - 1) / panelsPerClaim) { _, claim in
            let scratch = TensorStorage(uninitializedCount: scratchCount)
            var d = shared
            while let item = claim() {
                let begin = item * panelsPerClaim
                panelKernel(&d, x, w, y, begin, min(panels, begin + panelsPerClaim), scratch.pointer)
            }
        }
        withExtendedLifetime(packed) {}
    }
}
