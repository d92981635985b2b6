// Reductions over axes: sum, mean, max (with gradient routed to the arg-max), argmax.

extension Tensor {
    func reducedShape(_ axes: [Int], _ op: String) -> (keep: [Int], drop: [Int]) {
        let set = Set(axes.map { normalizedAxis($0, op) })
        precondition(set.count == axes.count, "\(op): repeated axis in \(axes) for shape \(shape)")
        var keep = shape, drop: [Int] = []
        for i in 0..<rank { if set.contains(i) { keep[i] = 1 } else { drop.append(shape[i]) } }
        return (keep, drop)
    }

    /// Sum over `axes` (all axes when `nil`). Output shape: `shape` with those axes removed, or set
    /// to 1 when `keepDims`.
    public func sum(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let axes = axes ?? Array(0..<rank)
        let (keep, drop) = reducedShape(axes, "sum")
        let reduced = detached().sum(toShape: keep)
        let outShape = keepDims ? keep : drop
        let out = Tensor(shape: outShape, storage: reduced.storage)
        let inShape = shape
        return Tensor.record("sum", result: out, inputs: [self]) { g in
            [Tensor(shape: keep, storage: g.storage).broadcast(to: inShape)]
        }
    }

    public func sum(axis: Int, keepDims: Bool = false) -> Tensor { sum(axes: [axis], keepDims: keepDims) }

    /// Mean over `axes` (all when `nil`).
    public func mean(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let axes = axes ?? Array(0..<rank)
        let n = axes.reduce(1) { $0 * shape[normalizedAxis($1, "mean")] }
        return sum(axes: axes, keepDims: keepDims) * (1 / Float(Swift.max(n, 1)))
    }

    public func mean(axis: Int, keepDims: Bool = false) -> Tensor { mean(axes: [axis], keepDims: keepDims) }

    /// Views the tensor as `[outer, n, inner]` around `axis`.
    func splitAround(_ axis: Int) -> (outer: Int, n: Int, inner: Int) {
        (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    }

    /// Index of the maximum along `axis` (first one on ties), as floats. Not differentiable.
    /// Output shape: `shape` without `axis` (or with extent 1 when `keepDims`).
    public func argmax(axis: Int, keepDims: Bool = false) -> [Int] {
        let a = normalizedAxis(axis, "argmax")
        let (outer, n, inner) = splitAround(a)
        precondition(n > 0, "argmax: axis \(axis) of shape \(shape) is empty")
        var result = [Int](repeating: 0, count: outer * inner)
        let p = pointer
        for o in 0..<outer {
            for i in 0..<inner {
                var best = p[o * n * inner + i], bi = 0
                for j in 1..<n { let v = p[(o * n + j) * inner + i]; if v > best || (v.isNaN && !best.isNaN) { best = v; bi = j } }
                result[o * inner + i] = bi
            }
        }
        return result
    }

    /// Maximum along `axis`; the gradient flows to the (first) arg-max.
    public func max(axis: Int, keepDims: Bool = false) -> Tensor {
        let a = normalizedAxis(axis, "max")
        let (outer, n, inner) = splitAround(a)
        let idx = argmax(axis: a)
        var keep = shape; keep[a] = 1
        var drop = shape; drop.remove(at: a)
        let out = Tensor.uninitialized(keepDims ? keep : drop)
        let p = pointer, o = out.storage.pointer
        for oo in 0..<outer { for i in 0..<inner { o[oo * inner + i] = p[(oo * n + idx[oo * inner + i]) * inner + i] } }
        let inShape = shape
        return Tensor.record("max", result: out, inputs: [self]) { g in
            let gi = Tensor.zeros(inShape)
            let gp = g.pointer, d = gi.storage.pointer
            for oo in 0..<outer { for i in 0..<inner { d[(oo * n + idx[oo * inner + i]) * inner + i] = gp[oo * inner + i] } }
            return [gi]
        }
    }
}
