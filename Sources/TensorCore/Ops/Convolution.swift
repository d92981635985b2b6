// 2-D convolution (NCHW). Convolutions that tile by 16 run in the AVX-512 or AVX2 implicit-GEMM
// kernels (`ConvolutionImplicit.swift`, `ConvolutionKernelPath`) when the CPU has them — every
// pass at stride 1 or 2 (the weight gradient for 3 × 3 and 1 × 1 kernels); everything else by
// batched im2col + single-threaded SGEMM, images split across workers.

/// Geometry of one conv2d call.
public struct Conv2dGeometry: Sendable, Equatable {
    public let batch: Int, inChannels: Int, height: Int, width: Int
    public let outChannels: Int, kernelH: Int, kernelW: Int, stride: Int, padding: Int
    public var outHeight: Int { (height + 2 * padding - kernelH) / stride + 1 }
    public var outWidth: Int { (width + 2 * padding - kernelW) / stride + 1 }
    /// Rows of the im2col matrix: `inChannels · kernelH · kernelW`.
    public var patchSize: Int { inChannels * kernelH * kernelW }
    public var outPlane: Int { outHeight * outWidth }
    /// Images per GEMM: enough columns (≥ 1024) for SGEMM to run near its peak on small planes.
    public var imagesPerChunk: Int { max(1, min(batch, (1024 + outPlane - 1) / outPlane)) }
    public var chunkCount: Int { (batch + imagesPerChunk - 1) / imagesPerChunk }
}

enum ConvKernels {
    /// Writes the patches of images `images` of `x` into `col` `[patchSize, images.count · outPlane]`.
    /// Stride 1 with `outWidth == width` (e.g. 3×3, padding 1): each patch row is the input plane
    /// shifted by a constant offset, so whole blocks copy at once and only edges need fixing.
    static func isShiftable(_ g: Conv2dGeometry) -> Bool { g.stride == 1 && g.outWidth == g.width }

    /// Valid output ranges of kernel tap (i, j): rows `oy` and columns `ox` whose input pixel exists.
    @inline(__always)
    static func validRange(_ g: Conv2dGeometry, _ i: Int, _ j: Int) -> (oy: Range<Int>, ox: Range<Int>) {
        let (H, W, Ho, Wo, s, p) = (g.height, g.width, g.outHeight, g.outWidth, g.stride, g.padding)
        // Integer division truncates toward zero: a negative numerator means "no valid index".
        let oyLo = min(Ho, max(0, (p - i + s - 1) / s)), oyHi = min(Ho, max(oyLo, H - 1 + p - i < 0 ? 0 : (H - 1 + p - i) / s + 1))
        let oxLo = min(Wo, max(0, (p - j + s - 1) / s)), oxHi = min(Wo, max(oxLo, W - 1 + p - j < 0 ? 0 : (W - 1 + p - j) / s + 1))
        return (oyLo..<oyHi, oxLo..<oxHi)
    }

    /// Zeroes columns `0..<lo` and `hi..<width` of `rows` in a row-major plane of `width` columns:
    /// the padding of a shifted patch row. Strided single stores, column by column — the edges are
    /// 1–3 floats per row, too short for a `memset` call each.
    @inline(__always)
    static func zeroEdgeColumns(_ plane: UnsafeMutablePointer<Float>, rows: Range<Int>, width: Int, lo: Int, hi: Int) {
        guard !rows.isEmpty else { return }
        for k in 0..<width where k < lo || k >= hi {
            var q = plane + rows.lowerBound * width + k
            for _ in rows { q.pointee = 0; q += width }
        }
    }

    static func im2col(_ g: Conv2dGeometry, _ x: UnsafePointer<Float>, images: Range<Int>, _ col: UnsafeMutablePointer<Float>) {
        if isShiftable(g) { im2colShifted(g, x, images: images, col) }
        else if isPhaseShiftable(g) { im2colPhases(g, x, images: images, col) }
        else { im2colGeneric(g, x, images: images, col) }
    }

    /// `isShiftable(g)`: each patch row is the input plane shifted by a constant offset.
    @inline(never)
    static func im2colShifted(_ g: Conv2dGeometry, _ x: UnsafePointer<Float>, images: Range<Int>, _ col: UnsafeMutablePointer<Float>) {
        let hw = g.outPlane, ld = images.count * hw
        let (H, W, p) = (g.height, g.width, g.padding)
        for c in 0..<g.inChannels { for i in 0..<g.kernelH { for j in 0..<g.kernelW {
            let row = col + ((c * g.kernelH + i) * g.kernelW + j) * ld
            let (oy, ox) = validRange(g, i, j)
            let shift = (i - p) * W + (j - p)
            for (bi, b) in images.enumerated() {
                let plane = x + (b * g.inChannels + c) * H * W, dst = row + bi * hw
                guard !oy.isEmpty, !ox.isEmpty else { dst.update(repeating: 0, count: hw); continue }
                let start = oy.lowerBound * W + ox.lowerBound, end = (oy.upperBound - 1) * W + ox.upperBound
                dst.update(repeating: 0, count: oy.lowerBound * W)
                (dst + start).update(from: plane + start + shift, count: end - start)
                (dst + oy.upperBound * W).update(repeating: 0, count: (g.outHeight - oy.upperBound) * W)
                zeroEdgeColumns(dst, rows: oy, width: W, lo: ox.lowerBound, hi: ox.upperBound)
            }
        } } }
    }

    /// Any geometry: one copy (stride 1) or gather (stride > 1) per output row.
    @inline(never)
    static func im2colGeneric(_ g: Conv2dGeometry, _ x: UnsafePointer<Float>, images: Range<Int>, _ col: UnsafeMutablePointer<Float>) {
        let hw = g.outPlane, ld = images.count * hw
        let (H, W, Ho, Wo, s, p) = (g.height, g.width, g.outHeight, g.outWidth, g.stride, g.padding)
        for c in 0..<g.inChannels { for i in 0..<g.kernelH { for j in 0..<g.kernelW {
            let row = col + ((c * g.kernelH + i) * g.kernelW + j) * ld
            let columns = validRange(g, i, j).ox   // 0 ≤ ox·s − p + j < W
            let (oxLo, oxHi) = (columns.lowerBound, columns.upperBound)
            for (bi, b) in images.enumerated() {
                let plane = x + (b * g.inChannels + c) * H * W
                let dst0 = row + bi * hw
                for oy in 0..<Ho {
                    let dst = dst0 + oy * Wo
                    let iy = oy * s - p + i
                    if iy < 0 || iy >= H { dst.update(repeating: 0, count: Wo); continue }
                    let src = plane + iy * W - p + j
                    if oxLo > 0 { dst.update(repeating: 0, count: oxLo) }
                    if s == 1 { (dst + oxLo).update(from: src + oxLo, count: oxHi - oxLo) }
                    else { for ox in oxLo..<oxHi { dst[ox] = src[ox * s] } }
                    if oxHi < Wo { (dst + oxHi).update(repeating: 0, count: Wo - oxHi) }
                }
            }
        } } }
    }

    /// A square "same" convolution (stride 1, k = 2·padding + 1): its centre tap maps every output
    /// pixel onto the input pixel at the same place, so `col2im` can *write* that tap and need not
    /// start from a zeroed gradient.
    static func centreTapCoversInput(_ g: Conv2dGeometry) -> Bool {
        g.stride == 1 && g.kernelH == 2 * g.padding + 1 && g.kernelW == 2 * g.padding + 1
    }

    /// Adds the columns of `col` `[patchSize, images.count · outPlane]` back into `dx`, which must
    /// be zero for these images — except when `centreTapCoversInput(g)` (the centre tap is written
    /// first) or `isPhaseShiftable(g)` (every pixel is written from its phase plane): then `dx` may
    /// hold anything.
    /// `col` is scratch: the shiftable fast path zeroes its padding entries before a block add.
    static func col2im(_ g: Conv2dGeometry, _ col: UnsafeMutablePointer<Float>, images: Range<Int>, _ dx: UnsafeMutablePointer<Float>) {
        let hw = g.outPlane, ld = images.count * hw
        if isPhaseShiftable(g) { col2imPhases(g, col, images: images, dx); return }
        if isShiftable(g) {
            let (H, W, p) = (g.height, g.width, g.padding)
            let writeCentre = centreTapCoversInput(g)
            // Centre tap first, so that it can overwrite whatever `dx` held.
            let taps = [(p, p)].filter { _ in writeCentre }
                + (0..<g.kernelH).flatMap { i in (0..<g.kernelW).map { (i, $0) } }.filter { !writeCentre || $0 != (p, p) }
            for c in 0..<g.inChannels { for (i, j) in taps {
                let row = col + ((c * g.kernelH + i) * g.kernelW + j) * ld
                let (oy, ox) = validRange(g, i, j)
                guard !oy.isEmpty, !ox.isEmpty else { continue }
                let shift = (i - p) * W + (j - p)
                for (bi, b) in images.enumerated() {
                    let plane = dx + (b * g.inChannels + c) * H * W, src = row + bi * hw
                    if writeCentre && i == p && j == p { plane.update(from: src, count: H * W); continue }
                    zeroEdgeColumns(src, rows: oy, width: W, lo: ox.lowerBound, hi: ox.upperBound)
                    let start = oy.lowerBound * W + ox.lowerBound, end = (oy.upperBound - 1) * W + ox.upperBound
                    Vector.accumulate(src + start, into: plane + start + shift, end - start)
                }
            } }
            return
        }
        let (H, W, Ho, Wo, s, p) = (g.height, g.width, g.outHeight, g.outWidth, g.stride, g.padding)
        for c in 0..<g.inChannels { for i in 0..<g.kernelH { for j in 0..<g.kernelW {
            let row = col + ((c * g.kernelH + i) * g.kernelW + j) * ld
            let columns = validRange(g, i, j).ox
            let (oxLo, oxHi) = (columns.lowerBound, columns.upperBound)
            for (bi, b) in images.enumerated() {
                let plane = dx + (b * g.inChannels + c) * H * W
                let src0 = row + bi * hw
                for oy in 0..<Ho {
                    let iy = oy * s - p + i
                    if iy < 0 || iy >= H { continue }
                    let src = src0 + oy * Wo
                    let dst = plane + iy * W - p + j
                    if s == 1 { for ox in oxLo..<oxHi { dst[ox] += src[ox] } }
                    else { for ox in oxLo..<oxHi { dst[ox * s] += src[ox] } }
                }
            }
        } } }
    }

    /// Copies NCHW planes `[nb][C][hw]` into a `[C][nb·hw]` matrix (or back when `reverse`).
    static func gatherChannels(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
                               channels: Int, images: Int, plane: Int, reverse: Bool) {
        for b in 0..<images { for c in 0..<channels {
            let nchw = (b * channels + c) * plane, mat = c * images * plane + b * plane
            if reverse { (dst + nchw).update(from: src + mat, count: plane) }
            else { (dst + mat).update(from: src + nchw, count: plane) }
        } }
    }
}

extension Tensor {
    /// The convolution kernels that run here (`ConvolutionKernelPath.current.provenanceName`):
    /// `"avx512-implicit"` or `"avx2-implicit"` (stride-1 convolutions in those implicit-GEMM
    /// kernels, the rest im2col + OpenBLAS) or `"im2col-openblas"`. The implicit and im2col paths
    /// sum in different orders, so a long training run ends in different float32 round-off; run
    /// provenance records which one produced a result.
    public static var convolutionKernels: String { ConvolutionKernelPath.current.provenanceName }

    /// 2-D convolution (cross-correlation, as `torch.nn.functional.conv2d`).
    ///
    /// - Parameters:
    ///   - x: `[N, Cin, H, W]`.
    ///   - weight: `[Cout, Cin, kh, kw]`.
    ///   - bias: `[Cout]` or `nil`.
    /// - Returns: `[N, Cout, Ho, Wo]` with `Ho = (H + 2·padding − kh) / stride + 1` (same for W).
    public static func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0) -> Tensor {
        precondition(x.rank == 4, "conv2d: input must be [N, C, H, W], got \(x.shape)")
        precondition(weight.rank == 4 && weight.shape[1] == x.shape[1],
                     "conv2d: weight \(weight.shape) does not match input \(x.shape) (expected [Cout, \(x.shape[1]), kh, kw])")
        precondition(stride >= 1 && padding >= 0, "conv2d: stride \(stride) must be ≥ 1 and padding \(padding) ≥ 0")
        if let bias { precondition(bias.shape == [weight.shape[0]], "conv2d: bias \(bias.shape) must be [\(weight.shape[0])]") }
        let g = Conv2dGeometry(batch: x.shape[0], inChannels: x.shape[1], height: x.shape[2], width: x.shape[3],
                               outChannels: weight.shape[0], kernelH: weight.shape[2], kernelW: weight.shape[3],
                               stride: stride, padding: padding)
        precondition(g.height + 2 * padding >= g.kernelH && g.width + 2 * padding >= g.kernelW, "conv2d: kernel \(weight.shape[2])×\(weight.shape[3]) with padding \(padding) is larger than input \(x.shape)")
        let out = Tensor.uninitialized([g.batch, g.outChannels, g.outHeight, g.outWidth])
        conv2dForward(g, x.pointer, weight.pointer, bias?.pointer, out.storage.pointer)
        var inputs = [x, weight]
        if let bias { inputs.append(bias) }
        return record("conv2d", result: out, inputs: inputs) { dy in
            let (dx, dw) = conv2dBackward(g, x: x, weight: weight, dy: dy, needInput: x.isTracked, needWeight: weight.isTracked)
            var grads: [Tensor?] = [dx, dw]
            if bias != nil { grads.append(dy.sum(axes: [0, 2, 3])) }
            return grads
        }
    }

    static func conv2dForward(_ g: Conv2dGeometry, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                              _ bias: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>) {
        let nb = g.imagesPerChunk, hw = g.outPlane, K = g.patchSize, Co = g.outChannels
        nonisolated(unsafe) let (x, w, y, bias) = (x, w, y, bias)
        let path = ConvolutionKernelPath.current
        if ImplicitConvolution.handlesForward(g, on: path) {
            ImplicitConvolution.forward(g, on: path, x, w, y)
            if let bias {
                Parallel.forEachChunk(g.batch, costPerItem: g.outChannels * g.outPlane, minimumWork: 1 << 16) { images in
                    addBias(g, bias, y, images: images)
                }
            }
            return
        }
        Parallel.forEachWorker(g.chunkCount) { _, claim in
            // Scratch from the storage pool: no fresh pages per call.
            let colStorage = TensorStorage(uninitializedCount: K * nb * hw)
            let tmpStorage = nb > 1 ? TensorStorage(uninitializedCount: Co * nb * hw) : nil
            let col = colStorage.pointer, tmp = tmpStorage?.pointer
            while let chunk = claim() {
                let images = (chunk * nb)..<min(g.batch, (chunk + 1) * nb)
                let L = images.count * hw
                ConvKernels.im2col(g, x, images: images, col)
                let target = images.count > 1 ? tmp! : y + images.lowerBound * Co * hw
                BLAS.sgemm(transA: false, transB: false, m: Co, n: L, k: K, a: w, lda: K, b: col, ldb: L, c: target, ldc: L)
                if images.count > 1 {
                    ConvKernels.gatherChannels(tmp!, y + images.lowerBound * Co * hw, channels: Co, images: images.count, plane: hw, reverse: true)
                }
                if let bias { addBias(g, bias, y, images: images) }
            }
        }
    }

    /// `y[b, c, :, :] += bias[c]` for the images `images`.
    static func addBias(_ g: Conv2dGeometry, _ bias: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, images: Range<Int>) {
        let hw = g.outPlane, Co = g.outChannels
        for b in images { for c in 0..<Co {
            let p = y + (b * Co + c) * hw, v = bias[c]
            for t in 0..<hw { p[t] += v }
        } }
    }

    /// Fixed number of partial sums of a convolution's weight gradient (independent of the worker
    /// count, so results are identical on every machine and run); enough pieces to balance 2–8 workers.
    static let weightGradientGroups = 8

    /// Gradients of conv2d with respect to its input (`[N, Cin, H, W]`) and weight (`[Cout, Cin, kh, kw]`).
    static func conv2dBackward(_ g: Conv2dGeometry, x: Tensor, weight: Tensor, dy: Tensor,
                               needInput: Bool, needWeight: Bool) -> (Tensor?, Tensor?) {
        let nb = g.imagesPerChunk, hw = g.outPlane, K = g.patchSize, Co = g.outChannels
        let path = ConvolutionKernelPath.current
        let implicitInputGradient = needInput && ImplicitConvolution.handlesInputGradient(g, on: path)
        let dxIsWritten = implicitInputGradient || ConvKernels.centreTapCoversInput(g) || ConvKernels.isPhaseShiftable(g)
        let dx: Tensor? = needInput ? (dxIsWritten ? Tensor.uninitialized(x.shape) : Tensor.zeros(x.shape)) : nil
        if implicitInputGradient, let dx {
            ImplicitConvolution.inputGradient(g, on: path, dy.pointer, weight.pointer, dx.storage.pointer)
        }
        let implicitWeightGradient = needWeight && ImplicitConvolution.handlesWeightGradient(g, on: path)
        let implicitDW = implicitWeightGradient
            ? Tensor(shape: weight.shape, storage: ImplicitConvolution.weightGradient(g, on: path, x.pointer, dy.pointer, groups: weightGradientGroups))
            : nil
        // What the implicit kernels did not compute, the im2col chunk loop below does.
        let chunkInputGradient = needInput && !implicitInputGradient
        let chunkWeightGradient = needWeight && !implicitWeightGradient
        guard chunkWeightGradient || chunkInputGradient else { return (dx, implicitDW) }
        // The weight gradient is summed per fixed group of chunks, then the groups in order, so the
        // result does not depend on which worker claimed which group (runs are bit-reproducible).
        let groups = min(weightGradientGroups, g.chunkCount)
        // OpenBLAS packs the long `[K, L]` operand for reuse across the GEMM's rows: with few output
        // channels (Co = 32) and `dW = dY · colᵀ` that reuse is only Co rows and packing dominates
        // (≈ 50 GFLOP/s per core); as `dWᵀ = col · dYᵀ` the same product runs at ≈ 84 (BENCHMARKS.md).
        let transposedWeightGradient = K > Co
        let dwPartials: [TensorStorage] = chunkWeightGradient ? (0..<groups).map { _ in TensorStorage(repeating: 0, count: Co * K) } : []
        nonisolated(unsafe) let (xp, wp, dyp, dxp) = (x.pointer, weight.pointer, dy.pointer, chunkInputGradient ? dx?.storage.pointer : nil)
        nonisolated(unsafe) let partials = dwPartials.map(\.pointer)
        Parallel.forEachWorker(groups) { _, claim in
            let colStorage = TensorStorage(uninitializedCount: K * nb * hw)
            let dyStorage = nb > 1 ? TensorStorage(uninitializedCount: Co * nb * hw) : nil
            let col = colStorage.pointer, dyMat = dyStorage?.pointer
            while let group = claim() { for chunk in (g.chunkCount * group / groups)..<(g.chunkCount * (group + 1) / groups) {
                let images = (chunk * nb)..<min(g.batch, (chunk + 1) * nb)
                let L = images.count * hw
                let dyChunk: UnsafePointer<Float>
                if images.count > 1 {
                    ConvKernels.gatherChannels(dyp + images.lowerBound * Co * hw, dyMat!, channels: Co, images: images.count, plane: hw, reverse: false)
                    dyChunk = UnsafePointer(dyMat!)
                } else {
                    dyChunk = dyp + images.lowerBound * Co * hw
                }
                if chunkWeightGradient {
                    ConvKernels.im2col(g, xp, images: images, col)
                    if transposedWeightGradient {
                        // dWᵀ[K, Co] += col[K, L] · dYᵀ[L, Co]
                        BLAS.sgemm(transA: false, transB: true, m: K, n: Co, k: L, a: col, lda: L, b: dyChunk, ldb: L,
                                   beta: 1, c: partials[group], ldc: Co)
                    } else {
                        // dW[Co, K] += dY[Co, L] · colᵀ[L, K]
                        BLAS.sgemm(transA: false, transB: true, m: Co, n: K, k: L, a: dyChunk, lda: L, b: col, ldb: L,
                                   beta: 1, c: partials[group], ldc: K)
                    }
                }
                if let dxp {
                    // dCol[K, L] = Wᵀ[K, Co] · dY[Co, L], then scatter-add into dX.
                    BLAS.sgemm(transA: true, transB: false, m: K, n: L, k: Co, a: wp, lda: K, b: dyChunk, ldb: L, c: col, ldc: L)
                    ConvKernels.col2im(g, col, images: images, dxp)
                }
            } }
        }
        let dw = chunkWeightGradient
            ? Tensor(shape: weight.shape, storage: combineWeightGradientPartials(dwPartials, outChannels: Co, patchSize: K,
                                                                                 transposed: transposedWeightGradient))
            : implicitDW
        return (dx, dw)
    }

    /// Sums per-group weight-gradient partials in their fixed order (so the result does not depend
    /// on which worker computed which group) into `[Co, K]`; partials laid out `[K, Co]`
    /// (`transposed`) are transposed on the way.
    static func combineWeightGradientPartials(_ partials: [TensorStorage], outChannels Co: Int, patchSize K: Int,
                                              transposed: Bool) -> TensorStorage {
        let total = partials[0]
        for p in partials.dropFirst() { Vector.accumulate(p.pointer, into: total.pointer, total.count) }
        guard transposed else { return total }
        let result = TensorStorage(uninitializedCount: Co * K)
        for k in 0..<K { for c in 0..<Co { result.pointer[c * K + k] = total.pointer[k * Co + c] } }
        return result
    }
}
