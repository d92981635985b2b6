/// NumPy-style broadcasting: shapes are right-aligned, an axis of extent 1 stretches.
enum Broadcast {
    /// The broadcast shape of `a` and `b`. - Precondition: the shapes are compatible.
    static func shape(_ a: [Int], _ b: [Int], _ op: String) -> [Int] {
        let r = max(a.count, b.count)
        var out = [Int](repeating: 1, count: r)
        for i in 0..<r {
            let da = i < r - a.count ? 1 : a[i - (r - a.count)]
            let db = i < r - b.count ? 1 : b[i - (r - b.count)]
            precondition(da == db || da == 1 || db == 1,
                         "\(op): shapes \(a) and \(b) cannot be broadcast together (axis \(i): \(da) vs \(db))")
            out[i] = da == 1 ? db : da
        }
        return out
    }

    /// Strides of `shape` viewed as `outShape` (0 on broadcast axes).
    static func strides(of shape: [Int], in outShape: [Int]) -> [Int] {
        let own = Tensor.strides(shape)
        let offset = outShape.count - shape.count
        var s = [Int](repeating: 0, count: outShape.count)
        for i in 0..<shape.count where shape[i] != 1 { s[i + offset] = own[i] }
        return s
    }

    /// Calls `body(outIndex, aIndex, bIndex, n, aStep, bStep)` for runs of the innermost axis of
    /// `outShape`, where element `j < n` of the run is at `outIndex + j`, `aIndex + j·aStep`, `bIndex + j·bStep`.
    @inline(__always)
    static func forEachRun(_ outShape: [Int], _ sa: [Int], _ sb: [Int],
                           _ body: (Int, Int, Int, Int, Int, Int) -> Void) {
        let r = outShape.count
        if r == 0 { body(0, 0, 0, 1, 0, 0); return }
        let n = outShape[r - 1]
        let total = Tensor.elementCount(outShape)
        if total == 0 { return }
        var idx = [Int](repeating: 0, count: r)
        var ia = 0, ib = 0, o = 0
        let aStep = sa[r - 1], bStep = sb[r - 1]
        while o < total {
            body(o, ia, ib, n, aStep, bStep)
            o += n
            var d = r - 2
            while d >= 0 {
                idx[d] += 1; ia += sa[d]; ib += sb[d]
                if idx[d] < outShape[d] { break }
                ia -= sa[d] * outShape[d]; ib -= sb[d] * outShape[d]; idx[d] = 0
                d -= 1
            }
        }
    }
}

extension Tensor {
    /// Sums this gradient down to `target` (undoing a broadcast). Output shape: `target`.
    public func sum(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        precondition(Tensor.elementCount(target) > 0 || count == 0, "sum(toShape:): empty target \(target)")
        let out = Tensor.zeros(target)
        let so = Broadcast.strides(of: target, in: shape)
        let zero = [Int](repeating: 0, count: shape.count)
        let src = pointer, dst = out.storage.pointer
        Broadcast.forEachRun(shape, so, zero) { o, io, _, n, step, _ in
            if step == 0 { var s: Float = 0; for j in 0..<n { s += src[o + j] }; dst[io] += s }
            else { for j in 0..<n { dst[io + j * step] += src[o + j] } }
        }
        return Tensor(shape: target, storage: out.storage)
    }

    /// Materializes this tensor broadcast to `target`. Output shape: `target`.
    public func broadcast(to target: [Int]) -> Tensor {
        if shape == target { return self }
        let outShape = Broadcast.shape(shape, target, "broadcast(to:)")
        precondition(outShape == target, "broadcast(to:): shape \(shape) cannot be broadcast to \(target)")
        let out = Tensor.uninitialized(target)
        let sa = Broadcast.strides(of: shape, in: target)
        let src = pointer, dst = out.storage.pointer
        Broadcast.forEachRun(target, sa, sa) { o, ia, _, n, step, _ in
            for j in 0..<n { dst[o + j] = src[ia + j * step] }
        }
        let s = shape
        return Tensor.record("broadcast", result: out, inputs: [self]) { g in [g.sum(toShape: s)] }
    }
}
