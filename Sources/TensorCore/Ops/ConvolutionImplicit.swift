import CKernels

/// Convolutions as implicit GEMMs (`CKernels/implicit_conv.c`, `implicit_conv_avx2.c`):
/// the patch matrix is packed 16 output pixels at a time straight from the input into a
/// cache-resident panel and multiplied by an AVX-512 or AVX2 + FMA micro-kernel
/// (`ConvolutionKernelPath`), so the im2col write, OpenBLAS's re-packing of it and the output
/// channel gather all disappear. Where a panel's pixels lie in one output row (or one row of two
/// images) at stride 1, the AVX-512 micro-kernel reads them from the input itself
/// (`implicit_conv_direct.c`) and skips the tap rows in the padding — the same sums.
///
/// - Forward, stride 1 or 2: taps shifted by `tap − padding`; with stride 2 each patch row is
///   packed from a 32-float window of the input row, its even elements kept (one lane permute).
/// - Input gradient: the convolution of the output gradient with the weights flipped in space and
///   transposed in channels (no `dCol` product, no `col2im` scatter-add); for stride 2, four such
///   stride-1 convolutions, one per phase of the input plane (even/odd rows × even/odd columns),
///   interleaved into `dx` block by block (`bd_implicit_conv_phases`).
/// - Weight gradient, 3 × 3 or 1 × 1 (padding 0), stride 1 or 2 (`implicit_weight_gradient*.c`):
///   reads the input and the output gradient directly.
///
/// Outputs of `BatchNormPasses`' streaming size are written with streaming stores (the same values).
///
/// Used on the `avx512` and `avx2` paths when the shapes tile by 16; every other case keeps the
/// im2col + OpenBLAS path in `Convolution.swift`. (An earlier phase-plane version of the strided passes, with separate split
/// and merge passes over whole tensors, was no faster; the phases of the input gradient now meet
/// in a block's scratch and each `dx` row is written once; BENCHMARKS.md.)
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

    /// The input gradient of `g` runs implicitly on `path`: input channels in whole 16s; stride 1
    /// with the input plane in whole 16s, or stride 2 by phases — an input plane of exactly twice
    /// the output's height and width, output rows in whole 8s and the output plane in whole 16s.
    static func handlesInputGradient(_ g: Conv2dGeometry, on path: ConvolutionKernelPath = .current) -> Bool {
        guard isImplicit(g, strides: 1...2, on: path) && g.inChannels % 16 == 0 else { return false }
        if g.stride == 1 { return (g.height * g.width) % 16 == 0 }
        return g.height == 2 * g.outHeight && g.width == 2 * g.outWidth && g.outWidth % 8 == 0 && g.outPlane % 16 == 0
    }

    /// The weight gradient of `g` runs implicitly on `path`: stride 1 or 2, output channels and
    /// output plane in whole 16s, and a 3 × 3 kernel or a 1 × 1 one without padding whose input
    /// channels come in whole 8s.
    static func handlesWeightGradient(_ g: Conv2dGeometry, on path: ConvolutionKernelPath = .current) -> Bool {
        let kernel = (g.kernelH == 3 && g.kernelW == 3) || (g.kernelH == 1 && g.kernelW == 1 && g.padding == 0 && g.inChannels % 8 == 0)
        return isImplicit(g, strides: 1...2, on: path) && kernel && g.outChannels % 16 == 0 && g.outPlane % 16 == 0
    }

    /// `y[N, Co, Ho, Wo] = conv2d(x, w)` for `handlesForward(g)`; `w` is `[Co, Ci, kh, kw]`.
    static func forward(_ g: Conv2dGeometry, on path: ConvolutionKernelPath, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                        _ y: UnsafeMutablePointer<Float>) {
        if WinogradConvolution.handles(g, on: path) { return WinogradConvolution.forward(g, x, w, y) }
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
        if g.stride == 2 { return stridedInputGradient(g, on: path, dy, w, dx) }
        if WinogradConvolution.handlesInputGradient(g, on: path) { return WinogradConvolution.inputGradient(g, dy, w, dx) }
        let (Ci, Co, kh, kw, p) = (g.inChannels, g.outChannels, g.kernelH, g.kernelW, g.padding)
        let flipped = flippedTransposedWeights(g, w)
        let d = descriptor(batch: g.batch, input: (Co, g.outHeight, g.outWidth), output: (Ci, g.height, g.width),
                           rows: (0..<kh).map { $0 - (kh - 1 - p) }, columns: (0..<kw).map { $0 - (kw - 1 - p) })
        run(d, on: path, input: dy, weights: flipped.pointer, output: dx)
    }

    /// `w` `[Co][Ci][kh][kw]` flipped in space and transposed in channels, `[Ci][Co][kh][kw]`: the
    /// weights of the convolution of the output gradient that gives the input gradient.
    static func flippedTransposedWeights(_ g: Conv2dGeometry, _ w: UnsafePointer<Float>) -> TensorStorage {
        let (Ci, Co, kh, kw) = (g.inChannels, g.outChannels, g.kernelH, g.kernelW)
        let flipped = TensorStorage(uninitializedCount: Ci * Co * kh * kw)
        var q = flipped.pointer
        for ci in 0..<Ci { for co in 0..<Co { for ty in 0..<kh { for tx in 0..<kw {
            q.pointee = w[((co * Ci + ci) * kh + kh - 1 - ty) * kw + kw - 1 - tx]; q += 1
        } } } }
        return flipped
    }

    /// `inputGradient` of a stride-2 `g` by phases: `dx[ci, 2a + py, 2b + px]` sums the taps
    /// `ky ≡ py + p`, `kx ≡ px + p (mod 2)`, tap (ky, kx) reading
    /// `dy[co, a + (py + p − ky) / 2, b + (px + p − kx) / 2]` — a stride-1 convolution of `dy` per
    /// phase (`bd_implicit_conv_phases`); a phase no tap reaches (the odd rows and columns of a
    /// 1 × 1 shortcut) is written as zeros.
    private static func stridedInputGradient(_ g: Conv2dGeometry, on path: ConvolutionKernelPath, _ dy: UnsafePointer<Float>,
                                             _ w: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>) {
        let (Ci, Co, kh, kw, p) = (g.inChannels, g.outChannels, g.kernelH, g.kernelW, g.padding)
        /// The kernel taps that reach phase `phase` of an axis of `k` taps, with their shifts in `dy`.
        func taps(_ phase: Int, _ k: Int) -> [(tap: Int, shift: Int)] {
            (0..<k).filter { (phase + p - $0) % 2 == 0 }.map { ($0, (phase + p - $0) / 2) }
        }
        var phases = [bd_implicit_conv](), offsets = [Int](), packedCount = 0
        var flipped = [[Float]]()   // per phase: [Ci][Co][rows][columns]
        for phase in 0..<4 {
            let rows = taps(phase / 2, kh), columns = taps(phase % 2, kw)
            var d = bd_implicit_conv()
            if rows.isEmpty || columns.isEmpty {
                (d.batch, d.out_channels, d.out_height, d.out_width) = (g.batch, Ci, g.outHeight, g.outWidth)
                flipped.append([])
            } else {
                d = descriptor(batch: g.batch, input: (Co, g.outHeight, g.outWidth), output: (Ci, g.outHeight, g.outWidth),
                               rows: rows.map(\.shift), columns: columns.map(\.shift))
                var values = [Float](); values.reserveCapacity(Ci * Co * rows.count * columns.count)
                for ci in 0..<Ci { for co in 0..<Co { for r in rows { for c in columns {
                    values.append(w[((co * Ci + ci) * kh + r.tap) * kw + c.tap])
                } } } }
                flipped.append(values)
            }
            phases.append(d); offsets.append(packedCount); packedCount += flipped[phase].count
        }
        let packed = TensorStorage(uninitializedCount: max(packedCount, 1))
        for phase in 0..<4 where !flipped[phase].isEmpty {
            var d = phases[phase]
            flipped[phase].withUnsafeBufferPointer { bd_implicit_conv_pack_weights(&d, $0.baseAddress!, packed.pointer + offsets[phase]) }
        }
        var all = bd_implicit_conv_phases()
        all.phase = (phases[0], phases[1], phases[2], phases[3])
        all.weight_offset = (offsets[0], offsets[1], offsets[2], offsets[3])
        all.stream_output = streamingFlag(count: g.batch * Ci * g.height * g.width, output: dx)
        let kernel = path.usesAVX512 ? bd_implicit_conv_phases_avx512 : bd_implicit_conv_phases_avx2
        let scratchCount = bd_implicit_conv_phases_scratch_count(&all)
        let shared = all
        nonisolated(unsafe) let (dy, w, dx) = (dy, UnsafePointer(packed.pointer), dx)
        forEachPanelClaim(panels: g.batch * g.outPlane / 16, scratchCount: scratchCount) { begin, end, scratch in
            var all = shared
            kernel(&all, dy, w, dx, begin, end, scratch)
        }
        withExtendedLifetime(packed) {}
    }

    /// `dW[Co, Ci, kh, kw]` (3 × 3 or 1 × 1) from `x[N, Ci, H, W]` and `dy[N, Co, Ho, Wo]` for `handlesWeightGradient(g)`.
    /// Images are summed in `groups` fixed slices (each into its own partial, the partials then in
    /// order), so the result does not depend on the worker count or on which worker took which slice.
    static func weightGradient(_ g: Conv2dGeometry, on path: ConvolutionKernelPath, _ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                               groups: Int) -> TensorStorage {
        if WinogradConvolution.handlesWeightGradient(g, on: path) { return WinogradConvolution.weightGradient(g, x, dy, groups: groups) }
        var shape = bd_weight_gradient_shape(batch: g.batch, in_channels: g.inChannels, height: g.height, width: g.width,
                                     out_channels: g.outChannels, padding: g.padding, stride: g.stride, kernel: g.kernelH)
        let kernel = switch (path.usesAVX512, g.kernelH == 1) {
        case (true, false): bd_weight_gradient_3x3_avx512
        case (false, false): bd_weight_gradient_3x3_avx2
        case (true, true): bd_weight_gradient_1x1_avx512
        case (false, true): bd_weight_gradient_1x1_avx2
        }
        let s = shape
        nonisolated(unsafe) let (x, dy) = (x, dy)
        return sliceWeightGradient(g, groups: groups, scratchCount: bd_weight_gradient_scratch_count(&shape)) { begin, end, partial, scratch in
            var s = s
            kernel(&s, x, dy, begin, end, partial, scratch)
        }
    }

    /// Sums a weight gradient `[K][Co]` (transposed) over `groups` fixed slices of the images, each
    /// added by `slice(imageBegin, imageEnd, partial, scratch)` into its own zeroed partial, the
    /// partials then combined in order — so the result does not depend on the worker count or on
    /// which worker took which slice.
    static func sliceWeightGradient(_ g: Conv2dGeometry, groups: Int, scratchCount: Int,
                                    _ slice: @Sendable (Int, Int, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void) -> TensorStorage {
        let K = g.patchSize, Co = g.outChannels, slices = min(groups, g.batch), batch = g.batch
        let partials = (0..<slices).map { _ in TensorStorage(repeating: 0, count: K * Co) }
        nonisolated(unsafe) let pointers = partials.map(\.pointer)
        Parallel.forEachWorker(slices) { _, claim in
            let scratch = TensorStorage(uninitializedCount: scratchCount)
            while let index = claim() {
                slice(batch * index / slices, batch * (index + 1) / slices, pointers[index], scratch.pointer)
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
        let panelKernel = path.usesAVX512 ? bd_implicit_conv_panels_avx512 : bd_implicit_conv_panels_avx2
        var d = d
        d.stream_output = streamingFlag(count: d.batch * d.out_channels * d.out_height * d.out_width, output: output)
        let packed = TensorStorage(uninitializedCount: d.out_channels * d.in_channels * d.taps_y * d.taps_x)
        bd_implicit_conv_pack_weights(&d, weights, packed.pointer)
        let scratchCount = bd_implicit_conv_scratch_count(&d)
        let shared = d
        nonisolated(unsafe) let (x, w, y) = (input, UnsafePointer(packed.pointer), output)
        forEachPanelClaim(panels: d.batch * d.out_height * d.out_width / 16, scratchCount: scratchCount) { begin, end, scratch in
            var d = shared
            panelKernel(&d, x, w, y, begin, end, scratch)
        }
        withExtendedLifetime(packed) {}
    }

    /// The descriptors' `stream_output`: 1 when an output of `count` floats at `output` goes out with
    /// streaming stores — `BatchNormPasses`' size rule, and a 64-byte-aligned start (the kernels
    /// stream whole rows), else 0.
    static func streamingFlag(count: Int, output: UnsafeMutablePointer<Float>) -> Int {
        BatchNormPasses.current.streams(count: count) && Int(bitPattern: output) % 64 == 0 ? 1 : 0
    }

    /// Runs `body(begin, end, scratch)` over `0 ..< panels` in claims of `panelsPerClaim` panels
    /// across workers, each worker with its own `scratchCount` floats of scratch.
    private static func forEachPanelClaim(panels: Int, scratchCount: Int,
                                          _ body: @Sendable (Int, Int, UnsafeMutablePointer<Float>) -> Void) {
        Parallel.forEachWorker((panels + panelsPerClaim - 1) / panelsPerClaim) { _, claim in
            let scratch = TensorStorage(uninitializedCount: scratchCount)
            while let item = claim() {
                let begin = item * panelsPerClaim
                body(begin, min(panels, begin + panelsPerClaim), scratch.pointer)
            }
        }
    }
}
