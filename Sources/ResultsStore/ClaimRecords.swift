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
    /// The two groups as `CellSelector.label`s (`simclr/full/none dataset.builtin.confounding=1.0`).
    public var treatment: String
    public var baseline: String
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
                treatment: String = "", baseline: String = "", estimate: Double?, lower: Double?, upper: Double?, n: Int, paired: Bool,
                pValue: Double?, adjustedP: Double?, verdict: String, judgedAt: Double = 0) {
        self.experimentID = experimentID
        self.position = position
        self.name = name
        self.metric = metric
        self.direction = direction
        self.treatment = treatment
        self.baseline = baseline
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
                    INSERT INTO claims (experiment_id, position, name, metric, direction, treatment, baseline, estimate, lower, upper,
                                        n, paired, p_value, adjusted_p, verdict, judged_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [experimentID, r.position, r.name, r.metric, r.direction.rawValue, r.treatment, r.baseline,
                                     r.estimate, r.lower, r.upper,
                                     r.n, r.paired, r.pValue, r.adjustedP, r.verdict, r.judgedAt])
            }
        }
        return stamped
    }

    /// The stored verdicts of `experimentID` in spec order (empty when never judged).
    ///
    /// - Throws: ``ResultsStoreError/unusableValue(table:row:column:value:expected:)`` naming the
    ///   `claims` row and column of a value of the wrong type (a hand-edited row), never a trap.
    public func claims(experimentID: Int64) throws -> [ClaimRecord] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM claims WHERE experiment_id = ? ORDER BY position, name", arguments: [experimentID])
                .map { row in
                    let r = StoredRow(row, table: "claims", keyColumns: ["experiment_id", "name"])
                    let direction: String = try r.value("direction")
                    return ClaimRecord(experimentID: try r.value("experiment_id"), position: try r.value("position"), name: try r.value("name"),
                                       metric: try r.value("metric"), direction: ClaimComparison(rawValue: direction) ?? .greater,
                                       treatment: try r.value("treatment"), baseline: try r.value("baseline"),
                                       estimate: try r.optional("estimate"), lower: try r.optional("lower"), upper: try r.optional("upper"),
                                       n: try r.value("n"), paired: try r.value("paired"), pValue: try r.optional("p_value"),
                                       adjustedP: try r.optional("adjusted_p"), verdict: try r.value("verdict"), judgedAt: try r.value("judged_at"))
                }
        }
    }
}
