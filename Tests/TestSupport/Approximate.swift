import Testing
import TensorCore

// Approximate equality for Float32 results, shared by the test targets.

/// `|a − b| ≤ atol + rtol·|b|` elementwise, same count.
public func allClose(_ a: [Float], _ b: [Float], atol: Float = 1e-6, rtol: Float = 1e-5) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= atol + rtol * abs($1) }
}

/// `allClose` against a Float64 reference (rounded to Float32 first).
public func allCloseToReference(_ a: [Float], _ b: [Double], atol: Float = 1e-6, rtol: Float = 1e-5) -> Bool {
    allClose(a, b.map { Float($0) }, atol: atol, rtol: rtol)
}

/// Expects two tensors to have the same shape and agree within `tol` elementwise (absolute, plus
/// `tol` relative to the larger magnitude); NaN matches only NaN.
public func expectClose(_ a: Tensor, _ b: Tensor, tol: Float = 1e-5, _ what: @autoclosure () -> String = "",
                        sourceLocation: SourceLocation = #_sourceLocation) {
    guard a.shape == b.shape else {
        Issue.record("\(what()): shape \(a.shape) vs \(b.shape)", sourceLocation: sourceLocation)
        return
    }
    let x = a.scalars, y = b.scalars
    for i in 0..<x.count {
        let bad = x[i].isNaN != y[i].isNaN
            || (x[i] != y[i] && !(abs(x[i] - y[i]) <= tol * (1 + max(abs(x[i]), abs(y[i])))))
        if bad {
            Issue.record("\(what()): element \(i): \(x[i]) vs \(y[i]) (tol \(tol))", sourceLocation: sourceLocation)
            return
        }
    }
}

/// `expectClose` against `values` laid out in `a`'s shape.
public func expectClose(_ a: Tensor, _ values: [Float], tol: Float = 1e-5, _ what: @autoclosure () -> String = "",
                        sourceLocation: SourceLocation = #_sourceLocation) {
    guard values.count == a.count else {
        Issue.record("\(what()): \(a.count) elements vs \(values.count) expected", sourceLocation: sourceLocation)
        return
    }
    expectClose(a, Tensor(shape: a.shape, values), tol: tol, what(), sourceLocation: sourceLocation)
}

/// Runs `checkGradient` and records a failure (with the worst element) when it does not pass.
///
/// Tolerance policy (Float32 forward passes, central differences):
/// - smooth ops use the checker's defaults: eps = 1e-2, atol = 2e-3, rtol = 2e-2. The truncation
///   error of a central difference is O(eps²·f‴) ≈ 1e-4 for the O(1) inputs used here and Float32
///   rounding contributes ≈ 1e-7·|f|/eps ≈ 1e-5, both far inside the tolerance;
/// - strongly curved ops (exp, log, pow, sqrt, division near small values) use eps = 1e-3 so the
///   truncation error stays small, with atol = 5e-3 to absorb the larger rounding term;
/// - piecewise-linear ops (relu, clamp, max, max-pool) use inputs at least 0.025 away from their
///   kinks/ties (`distinctTensor`), so eps = 1e-2 never crosses one and the check is exact up to
///   rounding.
public func expectGradient(_ inputs: [Tensor], eps: Float = 1e-2, atol: Float = 2e-3, rtol: Float = 2e-2,
                           _ what: @autoclosure () -> String = "",
                           sourceLocation: SourceLocation = #_sourceLocation,
                           _ f: ([Tensor]) -> Tensor) {
    let r = checkGradient(inputs, eps: eps, atol: atol, rtol: rtol, f)
    #expect(r.passed, "\(what()): \(r)", sourceLocation: sourceLocation)
}
