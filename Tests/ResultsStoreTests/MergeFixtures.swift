import Foundation
import TestSupport
@testable import ResultsStore

/// Shard files and runs for the merge tests, written through the store's own API.
extension MergeTests {
    /// A shard file holding what `fill` writes, closed (its WAL folded into the file).
    static func shardFile(_ name: String, _ fill: (ResultsDatabase) throws -> Void) throws -> String {
        let path = temporaryDatabasePath(name)
        let store = try ResultsDatabase(path: path)
        try fill(store)
        try store.close()
        return path
    }

    /// Records a finished run of `c` (no training): one param, two metric rows, one evaluation
    /// with top-1 `top1`, one checkpoint record. Returns its run id.
    @discardableResult
    static func finishedRun(_ store: ResultsDatabase, _ experimentID: Int64, _ c: RunCell,
                            config: String = #"{"epochs":2}"#, top1: Double = 0.5) throws -> Int64 {
        guard let claim = try store.beginRun(experimentID: experimentID, cell: c, provenance: provenance(config)).claim else {
            throw TestFailure("\(c.cellKey) could not be claimed")
        }
        try store.recordParams(["train.epochs": "2"], for: claim)
        let writer = store.metricWriter(for: claim)
        try writer.add(key: "loss", step: 0, epoch: 0, value: 2.5)
        try writer.add(key: "loss", step: 1, epoch: 1, value: 1.5)
        try writer.flush()
        try store.recordEvaluation(EvaluationRecord(protocolName: "linear", probeView: "full", testView: "full",
                                                    top1: top1, top5: 0.9, n: 12), for: claim)
        try store.recordCheckpoint(epoch: 1, path: "checkpoints/\(claim.runID).ckpt", sha256: "ff", for: claim)
        try store.finishRun(claim)
        return claim.runID
    }

    /// Records a failed run of `c` after `attempts` attempts, each leaving one metric row and a
    /// checkpoint record. Returns its run id.
    @discardableResult
    static func failedRun(_ store: ResultsDatabase, _ experimentID: Int64, _ c: RunCell, attempts: Int = 1) throws -> Int64 {
        var runID: Int64 = 0
        for attempt in 0..<attempts {
            guard let claim = try store.beginRun(experimentID: experimentID, cell: c, provenance: provenance()).claim else {
                throw TestFailure("\(c.cellKey) could not be claimed")
            }
            let writer = store.metricWriter(for: claim)
            try writer.add(key: "loss", step: attempt, epoch: 0, value: 9)
            try writer.flush()
            try store.recordCheckpoint(epoch: attempt, path: "partial.ckpt", sha256: "aa", for: claim)
            try store.failRun(claim, error: "out of memory")
            runID = claim.runID
        }
        return runID
    }

    static func count(_ store: ResultsDatabase, _ sql: String) throws -> Int64 {
        let rows = try store.readOnlyQuery(sql: sql).rows
        guard case .integer(let n) = rows.first?.first else { throw TestFailure("\(sql) returned \(rows)") }
        return n
    }
}
