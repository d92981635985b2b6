/// Limited-memory BFGS for smooth unconstrained minimization (small, dense problems).
///
/// Two-loop recursion over the last `history` curvature pairs, initial Hessian scaled by
/// `sᵀy / yᵀy`; backtracking Armijo line search (c₁ = 1e-4, halving, starting at step 1, or at
/// `1/‖g‖` on the first iteration); pairs with `sᵀy ≤ 1e-10·‖s‖‖y‖` are skipped.
///
/// Stops when `‖g‖∞ ≤ gradientTolerance`, when the relative objective change
/// `|fₖ₋₁ − fₖ| / max(|fₖ|, 1)` stays below `relativeTolerance` for 5 consecutive iterations,
/// when the line search cannot decrease the objective any more (the Float32 precision floor),
/// or after `maxIterations`.
///
/// References: Nocedal, "Updating Quasi-Newton Matrices with Limited Storage", Math. Comp. 1980;
/// Nocedal & Wright, "Numerical Optimization", 2nd ed., Algorithm 7.4.
struct LBFGS {
    var history = 10
    var maxIterations = 1000
    var gradientTolerance = 1e-5
    var relativeTolerance = 1e-9

    struct Outcome {
        var x: [Double]
        var objective: Double
        var iterations: Int
        /// Stopped by a tolerance or the precision floor rather than `maxIterations`.
        var converged: Bool
    }

    func minimize(_ x0: [Double], _ evaluate: ([Double]) -> (value: Double, gradient: [Double])) -> Outcome {
        let n = x0.count
        var x = x0
        var (f, g) = evaluate(x)
        var sHistory: [[Double]] = [], yHistory: [[Double]] = [], rhoHistory: [Double] = []
        var smallChanges = 0
        var iteration = 0
        func dot(_ a: [Double], _ b: [Double]) -> Double { var s = 0.0; for i in 0..<a.count { s += a[i] * b[i] }; return s }
        func infNorm(_ a: [Double]) -> Double { a.reduce(0) { max($0, abs($1)) } }

        while iteration < maxIterations {
            if infNorm(g) <= gradientTolerance { return Outcome(x: x, objective: f, iterations: iteration, converged: true) }
            // Two-loop recursion: d = −H·g.
            var q = g
            var alphas = [Double](repeating: 0, count: sHistory.count)
            for i in stride(from: sHistory.count - 1, through: 0, by: -1) {
                alphas[i] = rhoHistory[i] * dot(sHistory[i], q)
                for j in 0..<n { q[j] -= alphas[i] * yHistory[i][j] }
            }
            if let s = sHistory.last, let y = yHistory.last {
                let gamma = dot(s, y) / dot(y, y)
                for j in 0..<n { q[j] *= gamma }
            }
            for i in 0..<sHistory.count {
                let beta = rhoHistory[i] * dot(yHistory[i], q)
                for j in 0..<n { q[j] += sHistory[i][j] * (alphas[i] - beta) }
            }
            var d = q.map { -$0 }
            var slope = dot(g, d)
            if !(slope < 0) {
                // Not a descent direction (numerical trouble): restart from steepest descent.
                sHistory.removeAll(); yHistory.removeAll(); rhoHistory.removeAll()
                d = g.map { -$0 }
                slope = dot(g, d)
            }
            var step = sHistory.isEmpty ? min(1, 1 / max(infNorm(g), 1e-12)) : 1.0
            var accepted: (x: [Double], f: Double, g: [Double])?
            for _ in 0..<40 {
                var xNew = x
                for j in 0..<n { xNew[j] += step * d[j] }
                let (fNew, gNew) = evaluate(xNew)
                if fNew.isFinite && fNew <= f + 1e-4 * step * slope { accepted = (xNew, fNew, gNew); break }
                step *= 0.5
            }
            iteration += 1
            guard let next = accepted else {
                return Outcome(x: x, objective: f, iterations: iteration, converged: true)
            }
            var s = [Double](repeating: 0, count: n), y = [Double](repeating: 0, count: n)
            for j in 0..<n { s[j] = next.x[j] - x[j]; y[j] = next.g[j] - g[j] }
            let sy = dot(s, y)
            if sy > 1e-10 * (dot(s, s) * dot(y, y)).squareRoot() {
                sHistory.append(s); yHistory.append(y); rhoHistory.append(1 / sy)
                if sHistory.count > history { sHistory.removeFirst(); yHistory.removeFirst(); rhoHistory.removeFirst() }
            }
            let change = abs(f - next.f) / max(abs(next.f), 1)
            smallChanges = change < relativeTolerance ? smallChanges + 1 : 0
            (x, f, g) = (next.x, next.f, next.g)
            if smallChanges >= 5 { return Outcome(x: x, objective: f, iterations: iteration, converged: true) }
        }
        return Outcome(x: x, objective: f, iterations: iteration, converged: infNorm(g) <= gradientTolerance)
    }
}
