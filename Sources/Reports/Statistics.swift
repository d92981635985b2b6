import Foundation

/// Mean, sample standard deviation and count of a set of values (over seeds).
public struct Summary: Sendable, Equatable {
    public var mean: Double
    /// Sample standard deviation (n − 1 denominator); nil when n < 2.
    public var std: Double?
    public var n: Int

    /// Summarizes `values`; nil when empty.
    public init?(_ values: [Double]) {
        guard !values.isEmpty else { return nil }
        n = values.count
        mean = values.reduce(0, +) / Double(n)
        if n > 1 {
            let m = mean
            std = (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(n - 1)).squareRoot()
        } else {
            std = nil
        }
    }
}

/// A paired difference: per-seed `treatment − baseline` and its t-based confidence interval.
public struct PairedDelta: Sendable, Equatable {
    /// The per-seed differences, ordered by seed.
    public var deltas: [Double]
    /// Mean, sample standard deviation and number of pairs of the differences.
    public var summary: Summary
    /// Confidence interval `mean ± t_{(1+level)/2, n−1} · sd / √n`; nil when n < 2.
    public var interval: ClosedRange<Double>?
    /// The confidence level (0.95).
    public var level: Double

    /// Pairs `baseline` and `treatment` by key (the seed) and summarizes the differences of the
    /// keys present in both; nil when there is no pair.
    ///
    /// - Parameters:
    ///   - baseline: Seed → value of the baseline (e.g. regularizer `none`).
    ///   - treatment: Seed → value of the treatment (e.g. `icl-msr`), same cell otherwise.
    ///   - level: Two-sided confidence level (default 0.95).
    public init?(baseline: [Int: Double], treatment: [Int: Double], level: Double = 0.95) {
        let seeds = Set(baseline.keys).intersection(treatment.keys).sorted()
        let deltas = seeds.map { treatment[$0]! - baseline[$0]! }
        guard let summary = Summary(deltas) else { return nil }
        self.deltas = deltas
        self.summary = summary
        self.level = level
        if let sd = summary.std {
            let half = StudentT.quantile((1 + level) / 2, degreesOfFreedom: Double(summary.n - 1)) * sd / Double(summary.n).squareRoot()
            interval = (summary.mean - half)...(summary.mean + half)
        } else {
            interval = nil
        }
    }
}

/// Student's t distribution: CDF through the regularized incomplete beta function, quantile by
/// bisection on the CDF (accurate to ~1e-12 for any degrees of freedom > 0).
///
/// References: Abramowitz & Stegun 26.7.1 (t CDF via I_x(ν/2, 1/2)); Press et al., *Numerical
/// Recipes*, §6.4 (continued fraction of the incomplete beta function).
public enum StudentT {
    /// P(T ≤ t) for `degreesOfFreedom` ν > 0.
    public static func cdf(_ t: Double, degreesOfFreedom nu: Double) -> Double {
        let x = nu / (nu + t * t)
        let tail = 0.5 * regularizedIncompleteBeta(x, a: nu / 2, b: 0.5)
        return t >= 0 ? 1 - tail : tail
    }

    /// The two-sided p-value P(|T| ≥ |t|) = I_{ν/(ν+t²)}(ν/2, 1/2) for ν > 0 (1 at t = 0, 0 for an
    /// infinite t), e.g. `twoSidedPValue(2.776, 4)` ≈ 0.05.
    public static func twoSidedPValue(_ t: Double, degreesOfFreedom nu: Double) -> Double {
        precondition(nu > 0, "StudentT.twoSidedPValue needs ν > 0")
        if t.isInfinite { return 0 }
        return min(1, regularizedIncompleteBeta(nu / (nu + t * t), a: nu / 2, b: 0.5))
    }

    /// The p-quantile t with P(T ≤ t) = p, for 0 < p < 1 and ν > 0 (e.g. `quantile(0.975, 4)` = 2.776).
    public static func quantile(_ p: Double, degreesOfFreedom nu: Double) -> Double {
        precondition(p > 0 && p < 1 && nu > 0, "StudentT.quantile needs 0 < p < 1 and ν > 0")
        if p == 0.5 { return 0 }
        if p < 0.5 { return -quantile(1 - p, degreesOfFreedom: nu) }
        var lo = 0.0, hi = 1.0
        while cdf(hi, degreesOfFreedom: nu) < p { lo = hi; hi *= 2 }
        for _ in 0..<200 {
            let mid = (lo + hi) / 2
            if mid == lo || mid == hi { break }
            if cdf(mid, degreesOfFreedom: nu) < p { lo = mid } else { hi = mid }
        }
        return (lo + hi) / 2
    }

    /// I_x(a, b), the regularized incomplete beta function.
    static func regularizedIncompleteBeta(_ x: Double, a: Double, b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let logBeta: Double = lgamma(a) + lgamma(b) - lgamma(a + b)
        let logPowers: Double = a * log(x) + b * log(1 - x)
        let logFront = logPowers - logBeta
        let front = exp(logFront)
        if x < (a + 1) / (a + b + 2) {
            return front * continuedFraction(x, a: a, b: b) / a
        }
        return 1 - front * continuedFraction(1 - x, a: b, b: a) / b
    }

    /// The continued fraction of I_x(a, b) by the modified Lentz method.
    private static func continuedFraction(_ x: Double, a: Double, b: Double) -> Double {
        let tiny = 1e-300
        var c = 1.0
        var d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var h = d
        for m in 1...10_000 {
            let m = Double(m)
            let m2 = 2 * m
            var aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2))
            d = 1 + aa * d
            if abs(d) < tiny { d = tiny }
            c = 1 + aa / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            h *= d * c
            aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1))
            d = 1 + aa * d
            if abs(d) < tiny { d = tiny }
            c = 1 + aa / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-15 { break }
        }
        return h
    }
}
