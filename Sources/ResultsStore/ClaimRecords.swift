import Foundation
import GRDB

/// A judged claim as the `claims` table keeps it (schema `v5`): the verdict of one stated claim
/// of an experiment, its 95% interval of `treatment − baseline` and its p-values.
public struct ClaimRecord: Sendable, Equatable {
    public var experimentID: Int64
    /// The claim's order in the spec (tables list claims in this order).
    public var position: Int
    public var name: String
    /// `Claim.metricDescription`, e.g. `linear top1 on full, probe full`.
    public var metric: String
    public var direction: ClaimComparison
    /// Mean difference `treatment − baseline` (mean of the per-seed differences when paired);
    /// nil when either group has no value.
    public var estimate: Double?
    /// The 95% t-interval of the difference; nil when there are too few samples for one.
    public var lower: Double?
    public var upper: Double?
    /// Pairs when paired, else the two groups' samples together.
    public var n: Int
    /// Whether the values were paired by seed (both groups share seeds) or compared as two
    /// independent samples (Welch).
    public var paired: Bool
    /// Two-sided p-value of `difference = 0`; nil without an interval.
    public var pValue: Double?
    /// The Holm-adjusted p-value over the experiment's claims judged together.
    public var adjustedP: Double?
    /// `holds`, `contradicted` or `inconclusive`.
    public var verdict: String
    /// Seconds since the Unix epoch when the claim was judged (the store's clock).
    public var judgedAt: Double

    public init(experimentID: Int64, position: Int, name: String, metric: String, direction: ClaimComparison,
                estimate: Double?, lower: Double?, upper: Double?, n: Int, paired: Bool,
                pValue: Double?, adjustedP: Double?, verdict: String, judgedAt: Double = 0) {
        self.experimentID = experimentID
        self.position = position
        self.name = name
        self.metric = metric
        self.direction = direction
        self.estimate = estimate
        self.lower = lower
        self.upper = upper
        self.n = n
        self.paired = paired
        self.pValue = pValue
        self.adjustedP = adjustedP
        self.verdict = verdict
        self.judgedAt = judgedAt
    }
}

extension ResultsDatabase {
    /// Replaces the stored verdicts of `experimentID` with `records` (in one transaction), stamping
    /// each with the store's clock; returns them as stored.
    @discardableResult
    public func replaceClaims(experimentID: Int64, with records: [ClaimRecord]) throws -> [ClaimRecord] {
        let judgedAt = now
        let stamped = records.map { r -> ClaimRecord in
            var r = r
            r.experimentID = experimentID
            r.judgedAt = judgedAt
            return r
        }
        try writeImmediate { db in
            try db.execute(sql: "DELETE FROM claims WHERE experiment_id = ?", arguments: [experimentID])
            for r in stamped {
                try db.execute(sql: """
                    INSERT INTO claims (experiment_id, position, name, metric, direction, estimate, lower, upper, n, paired,
                                        p_value, adjusted_p, verdict, judged_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [experimentID, r.position, r.name, r.metric, r.direction.rawValue, r.estimate, r.lower, r.upper,
                                     r.n, r.paired, r.pValue, r.adjustedP, r.verdict, r.judgedAt])
            }
        }
        return stamped
    }

    /// The stored verdicts of `experimentID` in spec order (empty when never judged).
    public func claims(experimentID: Int64) throws -> [ClaimRecord] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM claims WHERE experiment_id = ? ORDER BY position, name", arguments: [experimentID])
                .map { row in
                    let direction: String = row["direction"]
                    return ClaimRecord(experimentID: row["experiment_id"], position: row["position"], name: row["name"],
                                       metric: row["metric"], direction: ClaimComparison(rawValue: direction) ?? .greater,
                                       estimate: row["estimate"], lower: row["lower"], upper: row["upper"], n: row["n"],
                                       paired: row["paired"], pValue: row["p_value"], adjustedP: row["adjusted_p"],
                                       verdict: row["verdict"], judgedAt: row["judged_at"])
                }
        }
    }
}
