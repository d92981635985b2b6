// Pooling over NCHW planes.

extension Tensor {
    /// Mean over the spatial axes. Input `[N, C, H, W]`, output `[N, C]`.
    public func globalAveragePooled() -> Tensor {
        precondition(rank == 4, "globalAveragePooled: input must be [N, C, H, W], got \(shape)")
        let rows = shape[0] * shape[1], plane = shape[2] * shape[3], inShape = shape
        let out = Tensor.uninitialized([shape[0], shape[1]])
        let p = pointer, o = out.storage.pointer, inv = 1 / Float(plane)
        for r in 0..<rows { var s: Float = 0; for i in 0..<plane { s += p[r * plane + i] }; o[r] = s * inv }
        return Tensor.record("globalAvgPool", result: out, inputs: [self]) { g in
            let gi = Tensor.uninitialized(inShape)
            let gp = g.pointer, d = gi.storage.pointer
            for r in 0..<rows { let v = gp[r] * inv; (d + r * plane).update(repeating: v, count: plane) }
            return [gi]
        }
    }

    /// Average pooling with a `kernel × kernel` window (zero padding counted, like PyTorch's
    /// default `count_include_pad=True`). Input `[N, C, H, W]`, output `[N, C, Ho, Wo]`.
    public func avgPooled(kernel: Int, stride: Int? = nil, padding: Int = 0) -> Tensor {
        pooled(kernel: kernel, stride: stride ?? kernel, padding: padding, isMax: false)
    }

    /// Max pooling with a `kernel × kernel` window; padding never wins. Gradient goes to the
    /// first maximum of each window. Input `[N, C, H, W]`, output `[N, C, Ho, Wo]`.
    public func maxPooled(kernel: Int, stride: Int? = nil, padding: Int = 0) -> Tensor {
        pooled(kernel: kernel, stride: stride ?? kernel, padding: padding, isMax: true)
    }

    private func pooled(kernel k: Int, stride s: Int, padding p: Int, isMax: Bool) -> Tensor {
        let op = isMax ? "maxPooled" : "avgPooled"
        precondition(rank == 4, "\(op): input must be [N, C, H, W], got \(shape)")
        precondition(k >= 1 && s >= 1 && p >= 0 && 2 * p <= k, "\(op): invalid kernel \(k), stride \(s), padding \(p)")
        let (H, W) = (shape[2], shape[3])
        let Ho = (H + 2 * p - k) / s + 1, Wo = (W + 2 * p - k) / s + 1
        precondition(H + 2 * p >= k && W + 2 * p >= k, "\(op): window \(k) larger than input \(shape)")
        let planes = shape[0] * shape[1], inShape = shape
        let out = Tensor.uninitialized([shape[0], shape[1], Ho, Wo])
        var argmax = isMax ? [Int](repeating: 0, count: planes * Ho * Wo) : []
        let src = pointer, dst = out.storage.pointer, inv = 1 / Float(k * k)
        for pl in 0..<planes { for oy in 0..<Ho { for ox in 0..<Wo {
            var best = -Float.infinity, bi = -1, sum: Float = 0
            for i in 0..<k { let iy = oy * s - p + i; if iy < 0 || iy >= H { continue }
                for j in 0..<k { let ix = ox * s - p + j; if ix < 0 || ix >= W { continue }
                    let idx = (pl * H + iy) * W + ix, v = src[idx]
                    sum += v
                    if v > best || bi < 0 { best = v; bi = idx }
                } }
            let o = (pl * Ho + oy) * Wo + ox
            if isMax { dst[o] = best; argmax[o] = bi } else { dst[o] = sum * inv }
        } } }
        return Tensor.record(op, result: out, inputs: [self]) { g in
            let gi = Tensor.zeros(inShape)
            let gp = g.pointer, d = gi.storage.pointer
            if isMax { for o in 0..<argmax.count { d[argmax[o]] += gp[o] }; return [gi] }
            for pl in 0..<planes { for oy in 0..<Ho { for ox in 0..<Wo {
                let v = gp[(pl * Ho + oy) * Wo + ox] * inv
                for i in 0..<k { let iy = oy * s - p + i; if iy < 0 || iy >= H { continue }
                    for j in 0..<k { let ix = ox * s - p + j; if ix < 0 || ix >= W { continue }
                        d[(pl * H + iy) * W + ix] += v } }
            } } }
            return [gi]
        }
    }
}
