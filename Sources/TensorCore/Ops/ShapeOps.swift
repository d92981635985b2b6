// Shape ops: reshape, permute/transpose, slice, concat, split, index-select, gather.

extension Tensor {
    /// Same elements, new shape (no copy). One extent may be -1 (inferred).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var s = newShape
        if let i = s.firstIndex(of: -1) {
            let known = s.enumerated().filter { $0.offset != i }.reduce(1) { $0 * $1.element }
            precondition(known > 0 && count % known == 0, "reshaped: cannot infer -1 in \(newShape) for \(count) elements (shape \(shape))")
            s[i] = count / known
        }
        precondition(Tensor.elementCount(s) == count, "reshaped: shape \(shape) (\(count) elements) cannot become \(newShape)")
        let old = shape
        return Tensor.record("reshape", result: Tensor(shape: s, storage: storage), inputs: [self]) { g in
            [Tensor(shape: old, storage: g.storage)]
        }
    }

    /// Reorders axes: output axis `i` is input axis `order[i]`. Copies.
    public func permuted(_ order: [Int]) -> Tensor {
        precondition(order.count == rank && Set(order) == Set(0..<rank), "permuted: \(order) is not a permutation of the axes of \(shape)")
        if order == Array(0..<rank) { return self }
        let outShape = order.map { shape[$0] }
        let inStrides = Tensor.strides(shape)
        let srcStrides = order.map { inStrides[$0] }
        let out = Tensor.uninitialized(outShape)
        let zero = [Int](repeating: 0, count: rank)
        let p = pointer, o = out.storage.pointer
        Broadcast.forEachRun(outShape, srcStrides, zero) { oi, si, _, n, step, _ in
            for j in 0..<n { o[oi + j] = p[si + j * step] }
        }
        var inverse = [Int](repeating: 0, count: rank)
        for (i, a) in order.enumerated() { inverse[a] = i }
        return Tensor.record("permute", result: out, inputs: [self]) { g in [g.permuted(inverse)] }
    }

    /// Swaps two axes (default: the last two).
    public func transposed(_ a: Int = -2, _ b: Int = -1) -> Tensor {
        var order = Array(0..<rank)
        order.swapAt(normalizedAxis(a, "transposed"), normalizedAxis(b, "transposed"))
        return permuted(order)
    }

    /// Elements `range` along `axis`. Output shape: `shape` with `shape[axis] = range.count`.
    public func slice(axis: Int, _ range: Range<Int>) -> Tensor {
        let a = normalizedAxis(axis, "slice")
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[a],
                     "slice: range \(range) out of bounds for axis \(a) of shape \(shape)")
        let (outer, n, inner) = splitAround(a)
        var outShape = shape; outShape[a] = range.count
        let out = Tensor.uninitialized(outShape)
        let p = pointer, o = out.storage.pointer, m = range.count
        for oo in 0..<outer {
            (o + oo * m * inner).update(from: p + (oo * n + range.lowerBound) * inner, count: m * inner)
        }
        let inShape = shape
        return Tensor.record("slice", result: out, inputs: [self]) { g in
            let gi = Tensor.zeros(inShape)
            let gp = g.pointer, d = gi.storage.pointer
            for oo in 0..<outer { (d + (oo * n + range.lowerBound) * inner).update(from: gp + oo * m * inner, count: m * inner) }
            return [gi]
        }
    }

    /// Concatenates along `axis`; all other extents must match.
    public static func concat(_ tensors: [Tensor], axis: Int) -> Tensor {
        precondition(!tensors.isEmpty, "concat: no tensors")
        let first = tensors[0]
        let a = first.normalizedAxis(axis, "concat")
        for (i, t) in tensors.enumerated() {
            precondition(t.rank == first.rank && (0..<t.rank).allSatisfy { $0 == a || t.shape[$0] == first.shape[$0] },
                         "concat: tensor \(i) has shape \(t.shape), incompatible with \(first.shape) along axis \(a)")
        }
        let sizes = tensors.map { $0.shape[a] }
        var outShape = first.shape; outShape[a] = sizes.reduce(0, +)
        let (outer, _, inner) = first.splitAround(a)
        let total = outShape[a]
        let out = Tensor.uninitialized(outShape)
        let o = out.storage.pointer
        var offset = 0
        for t in tensors {
            let m = t.shape[a], p = t.pointer
            for oo in 0..<outer { (o + (oo * total + offset) * inner).update(from: p + oo * m * inner, count: m * inner) }
            offset += m
        }
        return record("concat", result: out, inputs: tensors) { g in
            var start = 0
            return sizes.map { m in defer { start += m }; return g.slice(axis: a, start..<(start + m)) }
        }
    }

    /// Splits along `axis` into pieces of the given sizes (summing to `shape[axis]`).
    public func split(axis: Int, sizes: [Int]) -> [Tensor] {
        let a = normalizedAxis(axis, "split")
        precondition(sizes.reduce(0, +) == shape[a], "split: sizes \(sizes) do not sum to extent \(shape[a]) of axis \(a) (shape \(shape))")
        var start = 0
        return sizes.map { m in defer { start += m }; return slice(axis: a, start..<(start + m)) }
    }

    /// Selects `indices` along `axis` (repeats allowed). Output shape: `shape` with
    /// `shape[axis] = indices.count`. Gradients of repeated indices add up.
    public func indexSelect(axis: Int, _ indices: [Int]) -> Tensor {
        let a = normalizedAxis(axis, "indexSelect")
        let (outer, n, inner) = splitAround(a)
        for i in indices { precondition(i >= 0 && i < n, "indexSelect: index \(i) out of range 0..<\(n) on axis \(a) of shape \(shape)") }
        var outShape = shape; outShape[a] = indices.count
        let m = indices.count
        let out = Tensor.uninitialized(outShape)
        let p = pointer, o = out.storage.pointer
        for oo in 0..<outer { for (j, i) in indices.enumerated() {
            (o + (oo * m + j) * inner).update(from: p + (oo * n + i) * inner, count: inner)
        } }
        let inShape = shape
        return Tensor.record("indexSelect", result: out, inputs: [self]) { g in
            let gi = Tensor.zeros(inShape)
            let gp = g.pointer, d = gi.storage.pointer
            for oo in 0..<outer { for (j, i) in indices.enumerated() {
                let dst = d + (oo * n + i) * inner, src = gp + (oo * m + j) * inner
                for k in 0..<inner { dst[k] += src[k] }
            } }
            return [gi]
        }
    }

    /// `torch.gather`: `out[…, j, …] = self[…, index[…, j, …], …]` along `axis`.
    /// - Parameters:
    ///   - indices: row-major, with the shape `indexShape` (same rank as `self`; extents other than
    ///     `axis` equal to `self`'s).
    public func gather(axis: Int, indices: [Int], indexShape: [Int]) -> Tensor {
        let a = normalizedAxis(axis, "gather")
        precondition(indexShape.count == rank && indices.count == Tensor.elementCount(indexShape)
                     && (0..<rank).allSatisfy { $0 == a || indexShape[$0] == shape[$0] },
                     "gather: index shape \(indexShape) (\(indices.count) indices) does not fit \(shape) along axis \(a)")
        let (outer, n, inner) = splitAround(a)
        let m = indexShape[a]
        for i in indices { precondition(i >= 0 && i < n, "gather: index \(i) out of range 0..<\(n) on axis \(a) of shape \(shape)") }
        let out = Tensor.uninitialized(indexShape)
        let p = pointer, o = out.storage.pointer
        for oo in 0..<outer { for j in 0..<m { for k in 0..<inner {
            let t = (oo * m + j) * inner + k
            o[t] = p[(oo * n + indices[t]) * inner + k]
        } } }
        let inShape = shape
        return Tensor.record("gather", result: out, inputs: [self]) { g in
            let gi = Tensor.zeros(inShape)
            let gp = g.pointer, d = gi.storage.pointer
            for oo in 0..<outer { for j in 0..<m { for k in 0..<inner {
                let t = (oo * m + j) * inner + k
                d[(oo * n + indices[t]) * inner + k] += gp[t]
            } } }
            return [gi]
        }
    }
}
