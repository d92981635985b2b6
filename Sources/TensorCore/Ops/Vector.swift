// Vectorized inner loops over contiguous float runs (SIMD with several accumulators, since the
// compiler may not reassociate float sums by itself).

enum Vector {
    typealias V = SIMD8<Float>

    @inline(__always) static func load(_ p: UnsafePointer<Float>, _ i: Int) -> V {
        UnsafeRawPointer(p + i).loadUnaligned(as: V.self)
    }
    @inline(__always) static func store(_ v: V, _ p: UnsafeMutablePointer<Float>, _ i: Int) {
        UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: V.self)
    }

    /// Σ p[i], i < n.
    @inline(__always) static func sum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        var a = V(), b = V(), i = 0
        while i + 16 <= n { a += load(p, i); b += load(p, i + 8); i += 16 }
        var s = (a + b).sum()
        while i < n { s += p[i]; i += 1 }
        return s
    }

    /// Σ (p[i] − m)².
    @inline(__always) static func sumSquaredDeviation(_ p: UnsafePointer<Float>, _ n: Int, _ m: Float) -> Float {
        var a = V(), b = V(), i = 0
        let mv = V(repeating: m)
        while i + 16 <= n { let d0 = load(p, i) - mv, d1 = load(p, i + 8) - mv; a += d0 * d0; b += d1 * d1; i += 16 }
        var s = (a + b).sum()
        while i < n { let d = p[i] - m; s += d * d; i += 1 }
        return s
    }

    /// (Σ g[i], Σ g[i]·(x[i] − m)). With `reluOf: (a, b)`, `g[i]` counts only where
    /// `x[i]·a + b > 0`: the gradient through `relu(x·a + b)` (`affineReLU`), masked exactly as
    /// `reluBackward` masks it.
    @inline(__always) static func sumAndCenteredDot(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int, _ m: Float,
                                                    reluOf affine: (a: Float, b: Float)? = nil) -> (Float, Float) {
        var s0 = V(), s1 = V(), d0 = V(), d1 = V(), i = 0
        let mv = V(repeating: m)
        while i + 16 <= n {
            let g0 = masked(load(g, i), x, i, affine), g1 = masked(load(g, i + 8), x, i + 8, affine)
            s0 += g0; s1 += g1
            d0 += g0 * (load(x, i) - mv); d1 += g1 * (load(x, i + 8) - mv)
            i += 16
        }
        var s = (s0 + s1).sum(), d = (d0 + d1).sum()
        while i < n { let gi = masked(g[i], x[i], affine); s += gi; d += gi * (x[i] - m); i += 1 }
        return (s, d)
    }

    /// `g` where `x[i..<i+8]·a + b > 0`, else 0 (`g` itself without `affine`).
    @inline(__always) static func masked(_ g: V, _ x: UnsafePointer<Float>, _ i: Int, _ affine: (a: Float, b: Float)?) -> V {
        guard let affine else { return g }
        return g.replacing(with: 0, where: load(x, i) * V(repeating: affine.a) + V(repeating: affine.b) .<= V())
    }

    /// `g` where `x·a + b > 0`, else 0 (`g` itself without `affine`).
    @inline(__always) static func masked(_ g: Float, _ x: Float, _ affine: (a: Float, b: Float)?) -> Float {
        guard let affine else { return g }
        return x * affine.a + affine.b > 0 ? g : 0
    }

    /// y[i] = x[i]·a + b.
    @inline(__always) static func affine(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, _ a: Float, _ b: Float) {
        var i = 0
        let av = V(repeating: a), bv = V(repeating: b)
        while i + 8 <= n { store(load(x, i) * av + bv, y, i); i += 8 }
        while i < n { y[i] = x[i] * a + b; i += 1 }
    }

    /// y[i] = max(x[i]·a + b, 0).
    @inline(__always) static func affineReLU(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, _ a: Float, _ b: Float) {
        var i = 0
        let av = V(repeating: a), bv = V(repeating: b), z = V()
        while i + 8 <= n { let v = load(x, i) * av + bv; store(v.replacing(with: z, where: v .< z), y, i); i += 8 }
        while i < n { y[i] = max(x[i] * a + b, 0); i += 1 }
    }

    /// dx[i] = k·(M·g[i] − s − (x[i] − m)·c)  (batch-norm input gradient); `g` masked as in
    /// `sumAndCenteredDot` when `reluOf` is given.
    @inline(__always) static func batchNormInputGradient(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                                                         _ n: Int, k: Float, M: Float, s: Float, m: Float, c: Float,
                                                         reluOf affine: (a: Float, b: Float)? = nil) {
        var i = 0
        let kv = V(repeating: k), Mv = V(repeating: M), sv = V(repeating: s), mv = V(repeating: m), cv = V(repeating: c)
        while i + 8 <= n { store(kv * (Mv * masked(load(g, i), x, i, affine) - sv - (load(x, i) - mv) * cv), dx, i); i += 8 }
        while i < n { dx[i] = k * (M * masked(g[i], x[i], affine) - s - (x[i] - m) * c); i += 1 }
    }

    /// y[i] = max(x[i]·a + b + r[i], 0): batch norm's affine, a residual add and ReLU in one pass,
    /// summed in the order of `affine`, then `add`, then `relu` (the same results bit for bit).
    @inline(__always) static func affineAddReLU(_ x: UnsafePointer<Float>, _ r: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                                                _ n: Int, _ a: Float, _ b: Float) {
        var i = 0
        let av = V(repeating: a), bv = V(repeating: b), z = V()
        while i + 8 <= n { let v = load(x, i) * av + bv + load(r, i); store(v.replacing(with: z, where: v .< z), y, i); i += 8 }
        while i < n { y[i] = max(x[i] * a + b + r[i], 0); i += 1 }
    }
}

extension Vector {
    /// Runs `body(range)` over `0..<n` split across workers for large `n` (memory-bound loops).
    @inline(__always) static func parallelRuns(_ n: Int, _ body: (Range<Int>) -> Void) {
        Parallel.forEachChunk((n + 4095) / 4096, costPerItem: 4096, minimumWork: 1 << 18) { blocks in
            body((blocks.lowerBound * 4096)..<min(n, blocks.upperBound * 4096))
        }
    }

    /// y = max(x, 0).
    static func relu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        nonisolated(unsafe) let (x, y) = (x, y)
        parallelRuns(n) { r in
            var i = r.lowerBound
            let z = V()
            while i + 8 <= r.upperBound { let v = load(x, i); store(v.replacing(with: z, where: v .< z), y, i); i += 8 }
            while i < r.upperBound { y[i] = max(x[i], 0); i += 1 }
        }
    }

    /// dx = out > 0 ? g : 0.
    static func reluBackward(_ g: UnsafePointer<Float>, _ out: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ n: Int) {
        nonisolated(unsafe) let (g, out, dx) = (g, out, dx)
        parallelRuns(n) { r in
            var i = r.lowerBound
            let z = V()
            while i + 8 <= r.upperBound { store(load(g, i).replacing(with: 0, where: load(out, i) .<= z), dx, i); i += 8 }
            while i < r.upperBound { dx[i] = out[i] > 0 ? g[i] : 0; i += 1 }
        }
    }

    /// z = x + y.
    static func add(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>, _ n: Int) {
        nonisolated(unsafe) let (x, y, z) = (x, y, z)
        parallelRuns(n) { r in
            var i = r.lowerBound
            while i + 8 <= r.upperBound { store(load(x, i) + load(y, i), z, i); i += 8 }
            while i < r.upperBound { z[i] = x[i] + y[i]; i += 1 }
        }
    }
}

extension Vector {
    /// y[i] += x[i].
    @inline(__always) static func accumulate(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, _ n: Int) {
        var i = 0
        while i + 8 <= n { store(load(y, i) + load(x, i), y, i); i += 8 }
        while i < n { y[i] += x[i]; i += 1 }
    }
}
