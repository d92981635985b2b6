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
        precondition(x.rank == 2 || x.rank == 4, "batchNorm: input must be [N, C] or [N, C, H, W], got \(x.shape)")
        let N = x.shape[0], C = x.shape[1], plane = x.rank == 4 ? x.shape[2] * x.shape[3] : 1
        precondition(gamma.shape == [C] && beta.shape == [C], "batchNorm: gamma \(gamma.shape) and beta \(beta.shape) must be [\(C)] for input \(x.shape)")
        let M = N * plane
        precondition(M > 1, "batchNorm: training mode needs more than one value per channel, got input \(x.shape)")
        var mean = [Float](repeating: 0, count: C), variance = [Float](repeating: 0, count: C)
        let out = Tensor.uninitialized(x.shape)
        nonisolated(unsafe) let (xp, yp, gp, bp) = (x.pointer, out.storage.pointer, gamma.pointer, beta.pointer)
        mean.withUnsafeMutableBufferPointer { mb in variance.withUnsafeMutableBufferPointer { vb in
            nonisolated(unsafe) let (mp, vp) = (mb.baseAddress!, vb.baseAddress!)
            Parallel.forEachChunk(C, costPerItem: M * 3, minimumWork: 1 << 16) { channels in
                for c in channels {
                    var s: Double = 0
                    for n in 0..<N { s += Double(Vector.sum(xp + (n * C + c) * plane, plane)) }
                    let m = Float(s / Double(M))
                    var v: Double = 0
                    for n in 0..<N { v += Double(Vector.sumSquaredDeviation(xp + (n * C + c) * plane, plane, m)) }
                    let variance = Float(v / Double(M))
                    mp[c] = m; vp[c] = variance
                    let scale = gp[c] / (variance + eps).squareRoot(), shift = bp[c] - m * scale
                    for n in 0..<N { let o = (n * C + c) * plane; Vector.affine(xp + o, yp + o, plane, scale, shift) }
                }
            }
        } }
        let stats = BatchStatistics(mean: mean, variance: variance, count: M)
        let result = record("batchNorm", result: out, inputs: [x, gamma, beta]) { dy in
            batchNormBackward(x: x, gamma: gamma, dy: dy, stats: stats, eps: eps)
        }
        return (result, stats)
    }

    /// dx = γ·σ⁻¹/M · (M·dy − Σdy − x̂·Σ(dy·x̂)), dγ = Σ dy·x̂, dβ = Σ dy.
    static func batchNormBackward(x: Tensor, gamma: Tensor, dy: Tensor, stats: BatchStatistics, eps: Float) -> [Tensor?] {
        let N = x.shape[0], C = x.shape[1], plane = x.rank == 4 ? x.shape[2] * x.shape[3] : 1, M = stats.count
        let dx = Tensor.uninitialized(x.shape), dgamma = Tensor.uninitialized([C]), dbeta = Tensor.uninitialized([C])
        nonisolated(unsafe) let (xp, dyp, dxp, gp, dgp, dbp) = (x.pointer, dy.pointer, dx.storage.pointer, gamma.pointer,
                                                               dgamma.storage.pointer, dbeta.storage.pointer)
        let mean = stats.mean, variance = stats.variance
        Parallel.forEachChunk(C, costPerItem: M * 3, minimumWork: 1 << 16) { channels in
            for c in channels {
                let m = mean[c], invStd = 1 / (variance[c] + eps).squareRoot()
                var sdy: Double = 0, sdyx: Double = 0
                for n in 0..<N {
                    let o = (n * C + c) * plane
                    let (a, b) = Vector.sumAndCenteredDot(dyp + o, xp + o, plane, m)
                    sdy += Double(a); sdyx += Double(b)
                }
                let sumDy = Float(sdy), sumDyXhat = Float(sdyx) * invStd
                dbp[c] = sumDy; dgp[c] = sumDyXhat
                let k = gp[c] * invStd / Float(M)
                let meanDy = sumDy, xhatCoef = sumDyXhat * invStd
                for n in 0..<N {
                    let o = (n * C + c) * plane
                    Vector.batchNormInputGradient(dyp + o, xp + o, dxp + o, plane, k: k, M: Float(M), s: meanDy, m: m, c: xhatCoef)
                }
            }
        }
        return [dx, dgamma, dbeta]
    }

    /// Per-channel affine map `x · scale[c] + shift[c]` (eval-mode batch norm once folded).
    /// - Parameters: x: `[N, C]` or `[N, C, H, W]`; scale, shift: `[C]`. Output: shape of `x`.
    public static func channelAffine(_ x: Tensor, scale: Tensor, shift: Tensor) -> Tensor {
        precondition(x.rank == 2 || x.rank == 4, "channelAffine: input must be [N, C] or [N, C, H, W], got \(x.shape)")
        let N = x.shape[0], C = x.shape[1], plane = x.rank == 4 ? x.shape[2] * x.shape[3] : 1
        precondition(scale.shape == [C] && shift.shape == [C], "channelAffine: scale \(scale.shape) and shift \(shift.shape) must be [\(C)] for input \(x.shape)")
        let out = Tensor.uninitialized(x.shape)
        nonisolated(unsafe) let (xp, yp, sp, tp) = (x.pointer, out.storage.pointer, scale.pointer, shift.pointer)
        Parallel.forEachChunk(N * C, costPerItem: plane, minimumWork: 1 << 16) { rows in
            for r in rows { let c = r % C, o = r * plane; Vector.affine(xp + o, yp + o, plane, sp[c], tp[c]) }
        }
        return record("channelAffine", result: out, inputs: [x, scale, shift]) { dy in
            let dx: Tensor? = x.isTracked ? channelAffine(dy, scale: scale.detached(), shift: Tensor.zeros([C])) : nil
            let axes = x.rank == 4 ? [0, 2, 3] : [0]
            return [dx, scale.isTracked ? (dy * x.detached()).sum(axes: axes) : nil, shift.isTracked ? dy.sum(axes: axes) : nil]
        }
    }
}
