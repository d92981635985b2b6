import Foundation
import ResultsStore

/// The difference `treatment − baseline` of a claim's metric between two groups of cells, with
/// its t-interval and two-sided p-value.
///
/// When the groups share seeds the values are paired by seed (the seeds in both groups): the
/// mean of the per-seed differences, `n` pairs, ν = n − 1. Otherwise the groups are independent
/// samples: Welch's difference of means with the Welch–Satterthwaite degrees of freedom
/// ν = (s₁²/n₁ + s₂²/n₂)² / ((s₁²/n₁)²/(n₁−1) + (s₂²/n₂)²/(n₂−1)), `n` = n₁ + n₂.
public struct ClaimDifference: Sendable, Equatable {
    public var estimate: Double
    /// The two-sided t-interval at the level judged; nil when a group (or the pairs) has fewer
    /// than 2 values.
    public var interval: ClosedRange<Double>?
    /// Two-sided p-value of `difference = 0`; nil without an interval.
    public var pValue: Double?
    public var n: Int
    public var paired: Bool
    /// Degrees of freedom of the t-distribution used; nil without an interval.
    public var degreesOfFreedom: Double?

    /// Compares seed → value maps; nil when either group is empty.
    public init?(treatment: [Int: Double], baseline: [Int: Double], level: Double = 0.95) {
        guard !treatment.isEmpty, !baseline.isEmpty else { return nil }
        let shared = Set(treatment.keys).intersection(baseline.keys).sorted()
        if !shared.isEmpty {
            let deltas = shared.map { treatment[$0]! - baseline[$0]! }
            let s = Summary(deltas)!
            self.init(estimate: s.mean, standardError: s.std.map { $0 / Double(s.n).squareRoot() },
                      degreesOfFreedom: Double(s.n - 1), n: s.n, paired: true, level: level)
        } else {
            let t = Summary(treatment.keys.sorted().map { treatment[$0]! })!
            let b = Summary(baseline.keys.sorted().map { baseline[$0]! })!
            var se: Double? = nil, df: Double? = nil
            if let st = t.std, let sb = b.std {
                let vt = st * st / Double(t.n), vb = sb * sb / Double(b.n)
                se = (vt + vb).squareRoot()
                let denominator = vt * vt / Double(t.n - 1) + vb * vb / Double(b.n - 1)
                df = denominator > 0 ? (vt + vb) * (vt + vb) / denominator : Double(t.n + b.n - 2)
            }
            self.init(estimate: t.mean - b.mean, standardError: se, degreesOfFreedom: df ?? 1, n: t.n + b.n, paired: false, level: level)
        }
    }

    /// The interval `estimate ± t_{(1+level)/2, ν} · se` and p = P(|T_ν| ≥ |estimate / se|); a zero
    /// standard error gives the point interval and p = 0 (or 1 when the estimate is 0).
    init(estimate: Double, standardError se: Double?, degreesOfFreedom df: Double, n: Int, paired: Bool, level: Double) {
        self.estimate = estimate
        self.n = n
        self.paired = paired
        guard let se, df > 0 else { return }
        degreesOfFreedom = df
        if se == 0 {
            interval = estimate...estimate
            pValue = estimate == 0 ? 1 : 0
        } else {
            let half = StudentT.quantile((1 + level) / 2, degreesOfFreedom: df) * se
            interval = (estimate - half)...(estimate + half)
            pValue = StudentT.twoSidedPValue(estimate / se, degreesOfFreedom: df)
        }
    }
}

/// One claim judged: its difference, Holm-adjusted p-value and verdict.
public struct JudgedClaim: Sendable, Equatable {
    public var claim: Claim
    /// nil when a group has no value in the experiment's rows.
    public var difference: ClaimDifference?
    public var adjustedP: Double?
    public var verdict: Verdict

    /// The row the `claims` table keeps.
    public func record(experimentID: Int64, position: Int) -> ClaimRecord {
        ClaimRecord(experimentID: experimentID, position: position, name: claim.name, metric: claim.metricDescription,
                    direction: claim.direction, treatment: claim.groupLabel(claim.treatment), baseline: claim.groupLabel(claim.baseline), estimate: difference?.estimate, lower: difference?.interval?.lowerBound,
                    upper: difference?.interval?.upperBound, n: difference?.n ?? 0, paired: difference?.paired ?? false,
                    pValue: difference?.pValue, adjustedP: adjustedP, verdict: verdict.rawValue)
    }
}

/// Judges an experiment's claims together.
///
/// Each claim gets a 95% t-interval of `treatment − baseline` (``ClaimDifference``) and a
/// two-sided p-value; the p-values of the claims judged together are Holm-adjusted (step-down,
/// controlling the family-wise error rate at 5%). A claim **holds** when its interval excludes 0
/// on the stated side and its adjusted p < 0.05; it is **contradicted** when the interval excludes
/// 0 on the other side and its adjusted p < 0.05; otherwise (interval contains 0, too few
/// samples, or not significant after the correction) it is **inconclusive**.
public enum ClaimJudge {
    /// The sentence every claims table carries.
    public static let correctionNote = "Verdicts use 95% t-intervals (paired by seed when the groups share seeds, else Welch) "
        + "and Holm's step-down correction over the experiment's claims: a claim holds or is contradicted only when its "
        + "interval excludes 0 and its Holm-adjusted p < 0.05."

    /// Holm-adjusted p-values, in input order: sorted ascending p₍₁₎ ≤ … ≤ p₍ₘ₎, the i-th
    /// becomes max over j ≤ i of min(1, (m − j + 1) p₍ⱼ₎). nil entries (no test) are left out of
    /// the family and stay nil.
    public static func holm(_ pValues: [Double?]) -> [Double?] {
        let tested = pValues.indices.filter { pValues[$0] != nil }.sorted { pValues[$0]! < pValues[$1]! }
        let m = tested.count
        var adjusted = [Double?](repeating: nil, count: pValues.count)
        var running = 0.0
        for (rank, index) in tested.enumerated() {
            running = max(running, min(1, Double(m - rank) * pValues[index]!))
            adjusted[index] = running
        }
        return adjusted
    }

    /// Judges `claims` on `rows` (matrix rows of every probe series the claims use, keyed by the
    /// series' raw value).
    public static func judge(_ claims: [Claim], rows: [String: [MatrixRow]], level: Double = 0.95) -> [JudgedClaim] {
        let differences = claims.map { claim -> ClaimDifference? in
            let series = rows[claim.metric.probe] ?? []
            return ClaimDifference(treatment: values(claim, claim.treatment, series),
                                   baseline: values(claim, claim.baseline, series), level: level)
        }
        let adjusted = holm(differences.map { $0?.pValue })
        return claims.indices.map { i in
            let verdict = Self.verdict(differences[i], adjustedP: adjusted[i], direction: claims[i].direction, alpha: 1 - level)
            return JudgedClaim(claim: claims[i], difference: differences[i], adjustedP: adjusted[i], verdict: verdict)
        }
    }

    /// Reads the rows the claims need (split `test`) from `store` and judges them.
    public static func judge(_ claims: [Claim], store: ResultsDatabase, experimentID: Int64, level: Double = 0.95) throws -> [JudgedClaim] {
        var rows: [String: [MatrixRow]] = [:]
        for probe in Set(claims.map(\.metric.probe)) {
            rows[probe] = try store.matrixRows(experimentID: experimentID, probe: ProbeSeries(rawValue: probe), split: "test")
        }
        return judge(claims, rows: rows, level: level)
    }

    /// The verdict of one difference: the interval's side, confirmed by the adjusted p-value.
    static func verdict(_ d: ClaimDifference?, adjustedP: Double?, direction: ClaimComparison, alpha: Double) -> Verdict {
        guard let ci = d?.interval, let p = adjustedP, p < alpha else { return .inconclusive }
        let side: ClaimDirection = direction == .greater ? .positive : .negative
        if ci.lowerBound > 0 { return side == .positive ? .holds : .contradicted }
        if ci.upperBound < 0 { return side == .negative ? .holds : .contradicted }
        return .inconclusive
    }

    /// Seed → the metric of the group's cells (the mean when a seed has several cells); a gap
    /// (`fg-gap`, `bg-gap`) is computed per run from its two test views.
    static func values(_ claim: Claim, _ group: CellSelector, _ rows: [MatrixRow]) -> [Int: Double] {
        let figure = claim.testView(of: group)
        var byRun: [Int64: (seed: Int, views: [String: Double])] = [:]
        for r in rows where r.protocolName == claim.metric.protocolName && group.matches(r.cell) {
            byRun[r.runID, default: (r.cell.seed, [:])].views[r.testView] = claim.metric.stat == "top5" ? r.top5 : r.top1
        }
        var bySeed: [Int: [Double]] = [:]
        for (_, run) in byRun {
            let value = Gap(rawValue: figure).map { gap in gap.value { run.views[$0] } } ?? run.views[figure]
            if let value { bySeed[run.seed, default: []].append(value) }
        }
        return bySeed.mapValues { $0.reduce(0, +) / Double($0.count) }
    }
}
