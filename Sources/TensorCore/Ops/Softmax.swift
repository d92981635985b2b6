import Foundation

// Softmax family (fused, numerically stable) and the composites built on it.

extension Tensor {
    /// log-softmax along `axis` (default: last). Output shape: `shape`.
    /// `-inf` inputs give `-inf` outputs and zero gradient.
    ///
    /// Each row runs through `SoftmaxRows` (vectorized exponential, 8-lane row sums): the same
    /// bits on every CPU, whichever worker runs the row.
    public func logSoftmax(axis: Int = -1) -> Tensor {
        let a = normalizedAxis(axis, "logSoftmax")
        let (outer, n, inner) = splitAround(a)
        let out = Tensor.uninitialized(shape)
        SoftmaxRows.forEachRow(outer: outer, n: n, inner: inner, inputs: [pointer], output: out.storage.pointer) { x, o, rows in
            SoftmaxRows.forward(x[0], o, rows: rows, n: n)
        }
        return Tensor.record("logSoftmax", result: out, inputs: [self]) { g in
            // dx = g − softmax · Σ g
            let gi = Tensor.uninitialized(out.shape)
            SoftmaxRows.forEachRow(outer: outer, n: n, inner: inner, inputs: [out.pointer, g.pointer], output: gi.storage.pointer) { x, d, rows in
                SoftmaxRows.backward(output: x[0], gradient: x[1], d, rows: rows, n: n)
            }
            return [gi]
        }
    }

    /// softmax along `axis` (default: last). Output shape: `shape`.
    public func softmax(axis: Int = -1) -> Tensor { logSoftmax(axis: axis).exp() }

    /// log Σ exp along `axis`. Output shape: `shape` without `axis` (or 1 with `keepDims`).
    public func logSumExp(axis: Int = -1, keepDims: Bool = false) -> Tensor {
        let a = normalizedAxis(axis, "logSumExp")
        let m = detached().max(axis: a, keepDims: true).map { $0.isFinite ? $0 : 0 }
        return ((self - m).exp().sum(axis: a, keepDims: true).log() + m)
            .reshaped(keepDims ? { var s = shape; s[a] = 1; return s }() : { var s = shape; s.remove(at: a); return s }())
    }

    /// Mean cross-entropy of `[N, C]` logits against class indices `targets` (N of them in 0..<C).
    /// Output: scalar.
    public func crossEntropy(targets: [Int]) -> Tensor {
        precondition(rank == 2 && targets.count == shape[0], "crossEntropy: logits \(shape) need \(rank == 2 ? shape[0] : -1) targets, got \(targets.count)")
        let picked = logSoftmax(axis: 1).gather(axis: 1, indices: targets, indexShape: [shape[0], 1])
        return -picked.mean()
    }

    /// Divides each slice along `axis` by its L2 norm, clamped below by `eps`
    /// (`torch.nn.functional.normalize`). Output shape: `shape`.
    ///
    /// Along a contiguous last axis one op (two passes forward, two backward); other axes compose
    /// `sum`, `clamped`, `sqrt` and `/`. The forward gives the same bits either way.
    public func l2Normalized(axis: Int = -1, eps: Float = 1e-12) -> Tensor {
        let a = normalizedAxis(axis, "l2Normalized")
        let (outer, n, inner) = splitAround(a)
        guard inner == 1, n > 0 else {
            // max(√s, eps) as √max(s, eps²): same value, but the clamp zeroes the gradient before
            // it reaches √'s 1/(2√s), which is infinite (→ NaN) at a zero vector.
            let norm = (self * self).sum(axis: axis, keepDims: true).clamped(min: eps * eps).sqrt()
            return self / norm
        }
        return rowsL2Normalized(outer: outer, n: n, eps: eps)
    }

    /// `l2Normalized` of `outer` contiguous rows of `n`: `y = x / ‖x‖` with
    /// `‖x‖ = √max(Σ x², eps²)` (summed in order, as `sum` does), and the gradient
    /// `dx = g/‖x‖ − x·(Σ g·x)/‖x‖³` — without the second term where the clamp holds (a zero
    /// vector gets `g/eps`, never NaN).
    private func rowsL2Normalized(outer: Int, n: Int, eps: Float) -> Tensor {
        let out = Tensor.uninitialized(shape)
        var sums = [Float](repeating: 0, count: outer)
        let x = pointer, y = out.storage.pointer, floor = eps * eps
        sums.withUnsafeMutableBufferPointer { buffer in
            let sum = buffer.baseAddress!
            Parallel.forEachChunk(outer, costPerItem: 3 * n) { rows in
                for r in rows {
                    let row = x + r * n, o = y + r * n
                    var s: Float = 0
                    for j in 0..<n { s += row[j] * row[j] }
                    sum[r] = s
                    let norm = Swift.max(s, floor).squareRoot()
                    for j in 0..<n { o[j] = row[j] / norm }
                }
            }
        }
        let input = self
        return Tensor.record("l2Normalized", result: out, inputs: [self]) { g in
            let dx = Tensor.uninitialized(input.shape)
            let gp = g.pointer, xp = input.pointer, d = dx.storage.pointer
            Parallel.forEachChunk(outer, costPerItem: 4 * n) { rows in
                for r in rows {
                    let gr = gp + r * n, xr = xp + r * n, dr = d + r * n, s = sums[r]
                    let norm = Swift.max(s, floor).squareRoot()
                    // The clamp passes its gradient where s ≥ eps² (as `clamped`); NaN does not.
                    var dot: Float = 0
                    for j in 0..<n { dot += gr[j] * xr[j] }
                    let c = s >= floor ? -(dot / norm / norm / norm) : 0   // in turn: ‖x‖³ may overflow
                    for j in 0..<n { dr[j] = gr[j] / norm + xr[j] * c }
                }
            }
            return [dx]
        }
    }

    /// Cosine similarity of corresponding slices along `axis` (`eps` guards zero vectors).
    /// Output shape: `shape` without `axis`.
    public static func cosineSimilarity(_ a: Tensor, _ b: Tensor, axis: Int = -1, eps: Float = 1e-8) -> Tensor {
        (a.l2Normalized(axis: axis, eps: eps) * b.l2Normalized(axis: axis, eps: eps)).sum(axis: axis)
    }
}
