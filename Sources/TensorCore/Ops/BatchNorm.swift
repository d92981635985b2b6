import Foundation

// Batch normalization in training mode (batch statistics), fused forward and backward.

/// Per-channel batch statistics produced by `Tensor.batchNorm`.
public struct BatchStatistics: Sendable {
    /// Mean over the batch (and spatial positions) per channel.
    public var mean: [Float]
    /// Biased variance (divided by the element count) per channel.
    public var variance: [Float]
    /// Elements per channel that produced the statistics (`N` or `N·H·W`).
    public var count: Int
}

extension Tensor {
    /// Normalizes with the batch's own statistics and applies the affine `gamma`, `beta`
    /// (`torch.nn.functional.batch_norm(training=True)`).
    ///
    /// - Parameters:
    ///   - x: `[N, C]` or `[N, C, H, W]`.
    ///   - gamma, beta: `[C]`.
    /// - Returns: the normalized tensor (shape of `x`) and the batch statistics, which callers use
    ///   to update running buffers (PyTorch updates `running_var` with the *unbiased* variance).
    public static func batchNorm(_ x: Tensor, gamma: Tensor, beta: Tensor, eps: Float) -> (Tensor, BatchStatistics) {
        let (out, stats, _) = normalize(x, gamma: gamma, beta: beta, eps: eps, operation: "batchNorm", output: .affine)
        let result = record("batchNorm", result: out, inputs: [x, gamma, beta]) { dy in
            batchNormBackward(x: x, gamma: gamma, dy: dy, stats: stats, eps: eps)
        }
        return (result, stats)
    }

    /// `relu(batchNorm(x) + residual)` (or `relu(batchNorm(x))` without `residual`) in one pass
    /// over the output: a ResNet block's BN → ReLU and BN → (+ shortcut) → ReLU. The same results
    /// bit for bit as the three ops one after the other, forward and backward, with one or two
    /// activation-sized tensors fewer written and read. Without a residual the backward pass
    /// recomputes the ReLU mask from `x` inside batch norm's own two passes (no ReLU-gradient
    /// tensor); with one, the masked gradient is also the residual's gradient, so it is written once.
    ///
    /// - Parameters: x: `[N, C]` or `[N, C, H, W]`; gamma, beta: `[C]`; residual: shape of `x`.
    /// - Returns: the output (shape of `x`) and the batch statistics (as `batchNorm`).
    public static func batchNormReLU(_ x: Tensor, gamma: Tensor, beta: Tensor, eps: Float, adding residual: Tensor? = nil) -> (Tensor, BatchStatistics) {
        if let residual { precondition(residual.shape == x.shape, "batchNormReLU: residual \(residual.shape) must match input \(x.shape)") }
        let (out, stats, affine) = withExtendedLifetime(residual) {
            normalize(x, gamma: gamma, beta: beta, eps: eps, operation: "batchNormReLU", output: residual.map { .addReLU($0.pointer) } ?? .relu)
        }
        guard let residual else {
            let result = record("batchNormReLU", result: out, inputs: [x, gamma, beta]) { dy in
                batchNormBackward(x: x, gamma: gamma, dy: dy, stats: stats, eps: eps, reluOf: affine)
            }
            return (result, stats)
        }
        let result = record("batchNormReLU", result: out, inputs: [x, gamma, beta, residual]) { dy in
            let masked = Tensor.uninitialized(dy.shape)
            BatchNormPasses.reluBackward(dy.pointer, out.pointer, masked.storage.pointer, dy.count,
                                         streaming: BatchNormPasses.current.streams(count: dy.count))
            return batchNormBackward(x: x, gamma: gamma, dy: masked, stats: stats, eps: eps) + [masked]
        }
        return (result, stats)
    }

    /// What `normalize` writes, with each channel's `scale = γ/σ` and `shift = β − mean·scale`.
    enum NormalizedOutput {
        /// `x·scale + shift` (`Vector.affine`).
        case affine
        /// `max(x·scale + shift, 0)` (`Vector.affineReLU`).
        case relu
        /// `max(x·scale + shift + r, 0)`, r a residual of x's shape (`Vector.affineAddReLU`).
        case addReLU(UnsafePointer<Float>)
    }

    /// Batch statistics of `x` per channel, then `output` over each `[n, c]` plane with
    /// `scale = γ/σ`, `shift = β − mean·scale`. Returns the output, the statistics and every
    /// channel's (scale, shift).
    ///
    /// An `[N, C]` input (one value per channel and image) runs row by row (`normalizeRows`): the
    /// same sums in the same order, but over contiguous rows instead of one strided value per
    /// call. `byChannel` forces the per-channel loop (tests compare the two).
    static func normalize(_ x: Tensor, gamma: Tensor, beta: Tensor, eps: Float, operation: String, output: NormalizedOutput,
                          byChannel: Bool = false) -> (Tensor, BatchStatistics, [(a: Float, b: Float)]) {
        let (N, C, plane) = channelLayout(x, operation)
        precondition(gamma.shape == [C] && beta.shape == [C], "\(operation): gamma \(gamma.shape) and beta \(beta.shape) must be [\(C)] for input \(x.shape)")
        let M = N * plane
        precondition(M > 1, "\(operation): training mode needs more than one value per channel, got input \(x.shape)")
        var mean = [Float](repeating: 0, count: C), variance = [Float](repeating: 0, count: C)
        var affine = [(a: Float, b: Float)](repeating: (0, 0), count: C)
        let out = Tensor.uninitialized(x.shape)
        // Large outputs are written with streaming stores (the same bits).
        let passes = BatchNormPasses.current, streaming = plane > 1 && passes.streams(count: x.count)
        nonisolated(unsafe) let (xp, yp, gp, bp) = (x.pointer, out.storage.pointer, gamma.pointer, beta.pointer)
        mean.withUnsafeMutableBufferPointer { mb in variance.withUnsafeMutableBufferPointer { vb in affine.withUnsafeMutableBufferPointer { ab in
            nonisolated(unsafe) let (mp, vp, ap) = (mb.baseAddress!, vb.baseAddress!, ab.baseAddress!)
            Parallel.forEachChunk(C, costPerItem: M * 3, minimumWork: 1 << 16) { channels in
                if plane == 1 && !byChannel {
                    normalizeRows(xp, yp, rows: N, stride: C, channels: channels, gamma: gp, beta: bp, eps: eps,
                                  mean: mp, variance: vp, affine: ap, output: output)
                    return
                }
                for c in channels {
                    var s: Double = 0
                    for n in 0..<N { s += Double(BatchNormPasses.sum(xp + (n * C + c) * plane, plane, avx2: passes.avx2)) }
                    let m = Float(s / Double(M))
                    var v: Double = 0
                    for n in 0..<N { v += Double(BatchNormPasses.sumSquaredDeviation(xp + (n * C + c) * plane, plane, m, avx2: passes.avx2)) }
                    let variance = Float(v / Double(M))
                    mp[c] = m; vp[c] = variance
                    let scale = gp[c] / (variance + eps).squareRoot(), shift = bp[c] - m * scale
                    ap[c] = (scale, shift)
                    for n in 0..<N {
                        let o = (n * C + c) * plane
                        BatchNormPasses.write(output, xp, yp, offset: o, plane, scale, shift, streaming: streaming)
                    }
                }
                if streaming { BatchNormPasses.fence() }
            }
        } } }
        return (out, BatchStatistics(mean: mean, variance: variance, count: M), affine)
    }

    /// `normalize` of the channels `channels` of an `[N, C]` input (`rows` N, `stride` C): every
    /// channel's sums run over the rows in order, in Double, exactly as the per-channel loop adds
    /// its one-value planes, so the statistics and outputs are the same bits; but each pass reads
    /// the rows' contiguous runs of these channels instead of one value per row and channel.
    private static func normalizeRows(_ xp: UnsafePointer<Float>, _ yp: UnsafeMutablePointer<Float>, rows: Int, stride: Int, channels: Range<Int>,
                                      gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, eps: Float,
                                      mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>,
                                      affine: UnsafeMutablePointer<(a: Float, b: Float)>, output: NormalizedOutput) {
        let c0 = channels.lowerBound, width = channels.count, M = Double(rows)
        let sums = UnsafeMutablePointer<Double>.allocate(capacity: width)
        defer { sums.deallocate() }
        let mean = mean + c0
        sums.initialize(repeating: 0, count: width)
        for n in 0..<rows {
            let row = xp + n * stride + c0
            for t in 0..<width { sums[t] += Double(row[t]) }
        }
        for t in 0..<width { mean[t] = Float(sums[t] / M) }
        sums.update(repeating: 0, count: width)
        for n in 0..<rows {
            let row = xp + n * stride + c0
            for t in 0..<width { let d = row[t] - mean[t]; sums[t] += Double(d * d) }
        }
        // Each channel's scale and shift, then the output row by row with the scalar expressions
        // the `Vector` writers use on a one-value plane.
        let (scale, shift) = (UnsafeMutablePointer<Float>.allocate(capacity: width), UnsafeMutablePointer<Float>.allocate(capacity: width))
        defer { scale.deallocate(); shift.deallocate() }
        for t in 0..<width {
            let c = c0 + t, v = Float(sums[t] / M)
            variance[c] = v
            scale[t] = gamma[c] / (v + eps).squareRoot()
            shift[t] = beta[c] - mean[t] * scale[t]
            affine[c] = (scale[t], shift[t])
        }
        for n in 0..<rows {
            let o = n * stride + c0
            let (x, y) = (xp + o, yp + o)
            switch output {
            case .affine: for t in 0..<width { y[t] = x[t] * scale[t] + shift[t] }
            case .relu: for t in 0..<width { y[t] = Swift.max(x[t] * scale[t] + shift[t], 0) }
            case .addReLU(let r): for t in 0..<width { y[t] = Swift.max(x[t] * scale[t] + shift[t] + r[o + t], 0) }
            }
        }
    }

    /// dx = γ·σ⁻¹/M · (M·dy − Σdy − x̂·Σ(dy·x̂)), dγ = Σ dy·x̂, dβ = Σ dy. With `reluOf` (each
    /// channel's forward scale and shift), `dy` is the gradient *after* `relu(x·scale + shift)`
    /// and is masked on the fly (`batchNormReLU`).
    ///
    /// An `[N, C]` input runs row by row (`batchNormBackwardRows`, the same bits); `byChannel`
    /// forces the per-channel loop (tests compare the two).
    static func batchNormBackward(x: Tensor, gamma: Tensor, dy: Tensor, stats: BatchStatistics, eps: Float,
                                  reluOf affine: [(a: Float, b: Float)]? = nil, byChannel: Bool = false) -> [Tensor?] {
        let N = x.shape[0], C = x.shape[1], plane = x.rank == 4 ? x.shape[2] * x.shape[3] : 1, M = stats.count
        let dx = Tensor.uninitialized(x.shape), dgamma = Tensor.uninitialized([C]), dbeta = Tensor.uninitialized([C])
        nonisolated(unsafe) let (xp, dyp, dxp, gp, dgp, dbp) = (x.pointer, dy.pointer, dx.storage.pointer, gamma.pointer,
                                                               dgamma.storage.pointer, dbeta.storage.pointer)
        let mean = stats.mean, variance = stats.variance
        let passes = BatchNormPasses.current, streaming = plane > 1 && passes.streams(count: x.count)
        Parallel.forEachChunk(C, costPerItem: M * 3, minimumWork: 1 << 16) { channels in
            if plane == 1 && !byChannel {
                batchNormBackwardRows(x: xp, dy: dyp, dx: dxp, rows: N, stride: C, channels: channels, gamma: gp, eps: eps,
                                      mean: mean, variance: variance, reluOf: affine, dgamma: dgp, dbeta: dbp)
                return
            }
            for c in channels {
                let m = mean[c], invStd = 1 / (variance[c] + eps).squareRoot(), relu = affine?[c]
                var sdy: Double = 0, sdyx: Double = 0
                for n in 0..<N {
                    let o = (n * C + c) * plane
                    let (a, b) = BatchNormPasses.sumAndCenteredDot(dyp + o, xp + o, plane, m, reluOf: relu, avx2: passes.avx2)
                    sdy += Double(a); sdyx += Double(b)
                }
                let sumDy = Float(sdy), sumDyXhat = Float(sdyx) * invStd
                dbp[c] = sumDy; dgp[c] = sumDyXhat
                let k = gp[c] * invStd / Float(M)
                let meanDy = sumDy, xhatCoef = sumDyXhat * invStd
                for n in 0..<N {
                    let o = (n * C + c) * plane
                    BatchNormPasses.inputGradient(dyp + o, xp + o, dxp + o, plane, k: k, M: Float(M), s: meanDy, m: m, c: xhatCoef,
                                                  reluOf: relu, streaming: streaming)
                }
            }
            if streaming { BatchNormPasses.fence() }
        }
        return [dx, dgamma, dbeta]
    }

    /// `batchNormBackward` of the channels `channels` of an `[N, C]` input, row by row: each
    /// channel's two sums run over the rows in order, in Double (the per-channel loop's order),
    /// and every element's gradient is the same expression (`Vector.batchNormInputGradient`'s), so
    /// the bits are the same.
    private static func batchNormBackwardRows(x xp: UnsafePointer<Float>, dy dyp: UnsafePointer<Float>, dx dxp: UnsafeMutablePointer<Float>,
                                              rows: Int, stride: Int, channels: Range<Int>, gamma: UnsafePointer<Float>, eps: Float,
                                              mean: [Float], variance: [Float], reluOf affine: [(a: Float, b: Float)]?,
                                              dgamma: UnsafeMutablePointer<Float>, dbeta: UnsafeMutablePointer<Float>) {
        let c0 = channels.lowerBound, width = channels.count
        // Per channel of the range: Σ dy and Σ dy·(x − mean) (Double); the input gradient's k, s
        // and c, and the mean (Float).
        let sums = UnsafeMutablePointer<Double>.allocate(capacity: 2 * width)
        let coefficients = UnsafeMutablePointer<Float>.allocate(capacity: 4 * width)
        defer { sums.deallocate(); coefficients.deallocate() }
        sums.initialize(repeating: 0, count: 2 * width)
        let (sumDy, sumDyX) = (sums, sums + width)
        let (k, s, c1, m) = (coefficients, coefficients + width, coefficients + 2 * width, coefficients + 3 * width)
        for t in 0..<width { m[t] = mean[c0 + t] }
        func run(masked: (Float, Float, Int) -> Float) {
            backwardRows(xp + c0, dyp + c0, dxp + c0, rows: rows, stride: stride, width: width, gamma: gamma + c0, variance: variance,
                         c0: c0, eps: eps, sumDy: sumDy, sumDyX: sumDyX, k: k, s: s, c1: c1, m: m,
                         dgamma: dgamma + c0, dbeta: dbeta + c0, masked: masked)
        }
        guard let affine else { return run { g, _, _ in g } }
        // The ReLU's mask from each channel's forward scale and shift.
        let a = UnsafeMutablePointer<Float>.allocate(capacity: 2 * width)
        defer { a.deallocate() }
        for t in 0..<width { (a[t], a[width + t]) = (affine[c0 + t].a, affine[c0 + t].b) }
        run { g, x, t in x * a[t] + a[width + t] > 0 ? g : 0 }
    }

    /// The loops of `batchNormBackwardRows` over `width` channels starting at the given pointers,
    /// with the gradient masked by `masked(g, x, t)`.
    @inline(__always)
    private static func backwardRows(_ xp: UnsafePointer<Float>, _ dyp: UnsafePointer<Float>, _ dxp: UnsafeMutablePointer<Float>,
                                     rows: Int, stride: Int, width: Int, gamma: UnsafePointer<Float>, variance: [Float], c0: Int, eps: Float,
                                     sumDy: UnsafeMutablePointer<Double>, sumDyX: UnsafeMutablePointer<Double>,
                                     k: UnsafeMutablePointer<Float>, s: UnsafeMutablePointer<Float>, c1: UnsafeMutablePointer<Float>,
                                     m: UnsafeMutablePointer<Float>, dgamma: UnsafeMutablePointer<Float>, dbeta: UnsafeMutablePointer<Float>,
                                     masked: (Float, Float, Int) -> Float) {
        for n in 0..<rows {
            let o = n * stride
            for t in 0..<width {
                let x = xp[o + t], g = masked(dyp[o + t], x, t)
                sumDy[t] += Double(g)
                sumDyX[t] += Double(g * (x - m[t]))
            }
        }
        for t in 0..<width {
            let invStd = 1 / (variance[c0 + t] + eps).squareRoot()
            let dyTotal = Float(sumDy[t]), dyXhat = Float(sumDyX[t]) * invStd
            dbeta[t] = dyTotal; dgamma[t] = dyXhat
            (k[t], s[t], c1[t]) = (gamma[t] * invStd / Float(rows), dyTotal, dyXhat * invStd)
        }
        let M = Float(rows)
        for n in 0..<rows {
            let o = n * stride
            for t in 0..<width {
                let x = xp[o + t]
                dxp[o + t] = k[t] * (M * masked(dyp[o + t], x, t) - s[t] - (x - m[t]) * c1[t])
            }
        }
    }

    /// `relu(channelAffine(x, scale, shift) + residual)` (`relu(channelAffine(…))` without
    /// `residual`): eval-mode batch norm → (+ shortcut) → ReLU. With no graph to record (gradients
    /// off, or no tracked input) one pass that writes only the output — no intermediate
    /// activations held while the next is written — the same values bit for bit as the ops in
    /// turn, which run otherwise.
    /// - Parameters: x: `[N, C]` or `[N, C, H, W]`; scale, shift: `[C]`; residual: shape of `x`.
    public static func channelAffineReLU(_ x: Tensor, scale: Tensor, shift: Tensor, adding residual: Tensor? = nil) -> Tensor {
        let inputs = [x, scale, shift] + (residual.map { [$0] } ?? [])
        if GradientMode.isEnabled && inputs.contains(where: \.isTracked) {
            let y = channelAffine(x, scale: scale, shift: shift)
            return (residual.map { y + $0 } ?? y).relu()
        }
        if let residual { precondition(residual.shape == x.shape, "channelAffineReLU: residual \(residual.shape) must match input \(x.shape)") }
        nonisolated(unsafe) let r = residual?.pointer
        let streaming = x.rank == 4 && BatchNormPasses.current.streams(count: x.count)
        return affinePlanes(x, scale: scale, shift: shift, operation: "channelAffineReLU", streaming: streaming) { x, y, n, a, b, offset in
            BatchNormPasses.write(r.map { .addReLU($0 + offset) } ?? .relu, x, y, offset: 0, n, a, b, streaming: streaming)
        }
    }

    /// `write(x, y, count, scale[c], shift[c], offset)` over every `[n, c]` plane of `x`
    /// (`offset` its first element) into a new tensor of `x`'s shape, planes split across workers;
    /// `streaming`: `write` uses streaming stores (each worker fences after its planes).
    private static func affinePlanes(_ x: Tensor, scale: Tensor, shift: Tensor, operation: String, streaming: Bool = false,
                                     write: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int, Float, Float, Int) -> Void) -> Tensor {
        let (N, C, plane) = channelLayout(x, operation)
        precondition(scale.shape == [C] && shift.shape == [C], "\(operation): scale \(scale.shape) and shift \(shift.shape) must be [\(C)] for input \(x.shape)")
        let out = Tensor.uninitialized(x.shape)
        nonisolated(unsafe) let (xp, yp, sp, tp) = (x.pointer, out.storage.pointer, scale.pointer, shift.pointer)
        Parallel.forEachChunk(N * C, costPerItem: plane, minimumWork: 1 << 16) { rows in
            for r in rows { let c = r % C, o = r * plane; write(xp + o, yp + o, plane, sp[c], tp[c], o) }
            if streaming { BatchNormPasses.fence() }
        }
        return out
    }

    /// `(N, C, plane)` of an `[N, C]` or `[N, C, H, W]` input of `operation` (plane 1 for `[N, C]`).
    private static func channelLayout(_ x: Tensor, _ operation: String) -> (Int, Int, Int) {
        precondition(x.rank == 2 || x.rank == 4, "\(operation): input must be [N, C] or [N, C, H, W], got \(x.shape)")
        return (x.shape[0], x.shape[1], x.rank == 4 ? x.shape[2] * x.shape[3] : 1)
    }

    /// Per-channel affine map `x · scale[c] + shift[c]` (eval-mode batch norm once folded).
    /// - Parameters: x: `[N, C]` or `[N, C, H, W]`; scale, shift: `[C]`. Output: shape of `x`.
    public static func channelAffine(_ x: Tensor, scale: Tensor, shift: Tensor) -> Tensor {
        let out = affinePlanes(x, scale: scale, shift: shift, operation: "channelAffine") { x, y, n, a, b, _ in Vector.affine(x, y, n, a, b) }
        let C = x.shape[1]
        return record("channelAffine", result: out, inputs: [x, scale, shift]) { dy in
            let dx: Tensor? = x.isTracked ? channelAffine(dy, scale: scale.detached(), shift: Tensor.zeros([C])) : nil
            let axes = x.rank == 4 ? [0, 2, 3] : [0]
            return [dx, scale.isTracked ? (dy * x.detached()).sum(axes: axes) : nil, shift.isTracked ? dy.sum(axes: axes) : nil]
        }
    }
}
