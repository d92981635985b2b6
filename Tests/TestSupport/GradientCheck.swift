import TensorCore

/// The worst disagreement found by `checkGradient`.
public struct GradientCheckResult: CustomStringConvertible {
    public var worstError: Float = 0
    public var worstInput = -1
    public var worstIndex = -1
    public var analytic: Float = 0
    public var numeric: Float = 0
    public var passed: Bool = true
    public var description: String {
        "input \(worstInput)[\(worstIndex)]: analytic \(analytic) vs numeric \(numeric) (scaled error \(worstError))"
    }
}

/// Compares autograd gradients of `f` with central differences.
///
/// A non-scalar output is reduced to the scalar `Σ out · R` with a fixed random `R`, so every
/// output element is checked. Each input element is perturbed by ±`eps`; the check passes when
/// `|analytic − numeric| ≤ atol + rtol · |numeric|` for all elements.
/// - Parameters:
///   - inputs: the points at which to check; they become tracked leaves.
///   - f: the function under test.
public func checkGradient(_ inputs: [Tensor], eps: Float = 1e-2, atol: Float = 2e-3, rtol: Float = 2e-2,
                          seed: UInt64 = 99, _ f: ([Tensor]) -> Tensor) -> GradientCheckResult {
    let leaves = inputs.map { $0.detached().trackedLeaf() }
    let probe = f(leaves)
    var rng = SeededRNG(seed: seed)
    let projection = rng.tensor(probe.shape, -1, 1)
    func scalar(_ out: Tensor) -> Double {
        var s = 0.0
        let o = out.scalars, r = projection.scalars
        for i in 0..<o.count { s += Double(o[i]) * Double(r[i]) }
        return s
    }
    let loss = (probe * projection).sum()
    let grads = loss.gradients(for: leaves)
    var result = GradientCheckResult()
    for (k, x) in inputs.enumerated() {
        let analytic = grads[leaves[k]]?.scalars ?? [Float](repeating: 0, count: x.count)
        let base = x.detached().scalars
        for i in 0..<x.count {
            var plus = base, minus = base
            plus[i] += eps; minus[i] -= eps
            var args = inputs.map { $0.detached() }
            args[k] = Tensor(shape: x.shape, plus)
            let fp = withoutGradients { scalar(f(args)) }
            args[k] = Tensor(shape: x.shape, minus)
            let fm = withoutGradients { scalar(f(args)) }
            let numeric = Float((fp - fm) / (2 * Double(eps)))
            let err = abs(analytic[i] - numeric) - rtol * abs(numeric)
            if err > atol, err > result.worstError || result.passed {
                result = GradientCheckResult(worstError: err, worstInput: k, worstIndex: i,
                                             analytic: analytic[i], numeric: numeric, passed: false)
            }
        }
    }
    return result
}

/// Largest absolute elementwise difference; `.infinity` when shapes differ.
public func maxAbsDifference(_ a: Tensor, _ b: Tensor) -> Float {
    guard a.shape == b.shape else { return .infinity }
    let x = a.scalars, y = b.scalars
    var m: Float = 0
    for i in 0..<x.count { m = max(m, abs(x[i] - y[i])) }
    return m
}
