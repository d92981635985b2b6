import TensorCore

// Deliberately naive reference implementations (plain loops, Double accumulation) used to check
// TensorCore's optimized kernels. They share no code with TensorCore beyond `Tensor` itself.

/// `op(a) · op(b)` by the triple loop; `a` is `[m, k]` (`[k, m]` when `transposeA`), `b` is
/// `[k, n]` (`[n, k]` when `transposeB`).
public func naiveMatmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
    let m = transposeA ? a.shape[1] : a.shape[0], k = transposeA ? a.shape[0] : a.shape[1]
    let n = transposeB ? b.shape[0] : b.shape[1]
    let x = a.scalars, y = b.scalars
    var out = [Float](repeating: 0, count: m * n)
    for i in 0..<m {
        for j in 0..<n {
            var s = 0.0
            for t in 0..<k {
                let av = transposeA ? x[t * m + i] : x[i * k + t]
                let bv = transposeB ? y[j * k + t] : y[t * n + j]
                s += Double(av) * Double(bv)
            }
            out[i * n + j] = Float(s)
        }
    }
    return Tensor(shape: [m, n], out)
}

/// Direct 7-loop cross-correlation (NCHW, zero padding), like `torch.nn.functional.conv2d`.
public func naiveConv2d(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, stride: Int, padding: Int) -> Tensor {
    let (n, cin, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (cout, kh, kw) = (weight.shape[0], weight.shape[2], weight.shape[3])
    let ho = (h + 2 * padding - kh) / stride + 1, wo = (w + 2 * padding - kw) / stride + 1
    let xs = x.scalars, ws = weight.scalars, bs = bias?.scalars
    var out = [Float](repeating: 0, count: n * cout * ho * wo)
    for b in 0..<n {
        for co in 0..<cout {
            for oy in 0..<ho {
                for ox in 0..<wo {
                    var s = Double(bs?[co] ?? 0)
                    for ci in 0..<cin {
                        for i in 0..<kh {
                            for j in 0..<kw {
                                let iy = oy * stride - padding + i, ix = ox * stride - padding + j
                                guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                                s += Double(xs[((b * cin + ci) * h + iy) * w + ix])
                                    * Double(ws[((co * cin + ci) * kh + i) * kw + j])
                            }
                        }
                    }
                    out[((b * cout + co) * ho + oy) * wo + ox] = Float(s)
                }
            }
        }
    }
    return Tensor(shape: [n, cout, ho, wo], out)
}

/// Training-mode batch norm with the biased variance, for `[N, C]` or `[N, C, H, W]`.
/// Returns the output and the per-channel (mean, biased variance).
public func naiveBatchNorm(_ x: Tensor, gamma: [Float], beta: [Float], eps: Float) -> (Tensor, [Double], [Double]) {
    let n = x.shape[0], c = x.shape[1], plane = x.rank == 4 ? x.shape[2] * x.shape[3] : 1
    let xs = x.scalars
    var out = xs, means = [Double](repeating: 0, count: c), vars = [Double](repeating: 0, count: c)
    for ch in 0..<c {
        var vals: [Double] = []
        for b in 0..<n { for i in 0..<plane { vals.append(Double(xs[(b * c + ch) * plane + i])) } }
        let mean = vals.reduce(0, +) / Double(vals.count)
        let variance = vals.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(vals.count)
        means[ch] = mean; vars[ch] = variance
        for b in 0..<n { for i in 0..<plane {
            let k = (b * c + ch) * plane + i
            out[k] = Float((Double(xs[k]) - mean) / (variance + Double(eps)).squareRoot() * Double(gamma[ch]) + Double(beta[ch]))
        } }
    }
    return (Tensor(shape: x.shape, out), means, vars)
}

/// Pooling over `k × k` windows with zero padding; average counts the padding (PyTorch's
/// `count_include_pad=True`), max ignores it.
public func naivePool(_ x: Tensor, kernel k: Int, stride s: Int, padding p: Int, isMax: Bool) -> Tensor {
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let ho = (h + 2 * p - k) / s + 1, wo = (w + 2 * p - k) / s + 1
    let xs = x.scalars
    var out: [Float] = []
    for plane in 0..<(n * c) {
        for oy in 0..<ho {
            for ox in 0..<wo {
                var best = -Float.infinity, sum = 0.0
                for i in 0..<k { for j in 0..<k {
                    let iy = oy * s - p + i, ix = ox * s - p + j
                    guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                    let v = xs[(plane * h + iy) * w + ix]
                    best = max(best, v); sum += Double(v)
                } }
                out.append(isMax ? best : Float(sum / Double(k * k)))
            }
        }
    }
    return Tensor(shape: [n, c, ho, wo], out)
}

extension SeededRNG {
    /// A tensor whose entries are distinct and at least `spacing` apart (a shuffled grid centred
    /// on 0), so max/argmax/relu kinks are never crossed by a finite-difference step < spacing / 2.
    public mutating func distinctTensor(_ shape: [Int], spacing: Float = 0.1) -> Tensor {
        let n = shape.reduce(1, *)
        let values = (0..<n).map { Float($0) - Float(n - 1) / 2 + 0.25 }.shuffled(using: &self)
        return Tensor(shape: shape, values.map { $0 * spacing })
    }
}
