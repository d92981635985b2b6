import Foundation
import GRDB

/// How far a run's training has come: the last step at which it logged a metric, and the
/// epochs it was configured for (what a page watching a matrix train shows).
public struct RunProgress: Sendable, Equatable {
    /// The last logged optimizer step (0-based) and its epoch (0-based).
    public var step: Int
    public var epoch: Int
    /// Seconds since the Unix epoch when that value was produced.
    public var wallTime: Double
    /// The epochs the run trains for (its `train.train.epochs` parameter: the cell config's `train.epochs`), when recorded.
    public var epochs: Int?

    public init(step: Int, epoch: Int, wallTime: Double, epochs: Int? = nil) {
        self.step = step
        self.epoch = epoch
        self.wallTime = wallTime
        self.epochs = epochs
    }
}

extension ResultsDatabase {
    /// The progress of every run of an experiment (own or linked) that has logged `key`:
    /// run id → the step, epoch and time of its last value of `key`.
    ///
    /// Metrics are written in batches while a run trains, so this trails the training by up to
    /// one batch of the run's metric writer.
    public func runProgress(experimentID: Int64, key: String = "loss") throws -> [Int64: RunProgress] {
        try writer.read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT c.run_id, m.step, m.epoch, m.wall_time, p.value AS epochs
                FROM experiment_cells c
                JOIN metrics m ON m.id = (SELECT id FROM metrics WHERE run_id = c.run_id AND key = ? ORDER BY step DESC LIMIT 1)
                LEFT JOIN params p ON p.run_id = c.run_id AND p.key = 'train.train.epochs'
                WHERE c.experiment_id = ?
                """, arguments: [key, experimentID])
            var result: [Int64: RunProgress] = [:]
            for row in rows {
                let r = StoredRow(row, table: "metrics")
                let epochs: String? = try r.optional("epochs")
                result[try r.value("run_id")] = RunProgress(step: try r.value("step"), epoch: try r.value("epoch"),
                                                            wallTime: try r.value("wall_time"), epochs: epochs.flatMap { Int($0) })
            }
            return result
        }
    }

    /// The values of one metric of a run after `step` (all of them when nil), by step, at most
    /// `limit` of them: a reader following a training run asks again from the last step it got.
    public func metrics(runID: Int64, key: String, after step: Int?, limit: Int) throws -> [Metric] {
        try writer.read { db in
            try Metric.fetchAll(db, sql: "SELECT * FROM metrics WHERE run_id = ? AND key = ? AND step > ? ORDER BY step LIMIT ?",
                                arguments: [runID, key, step ?? Int.min, limit])
        }
    }
}
