import Foundation
import GRDB

/// What merging one shard did to the target database (`backdrop merge` prints it).
public struct MergeSummary: Sendable, Equatable {
    /// An experiment of the shard and the target experiment it went to.
    public struct ExperimentMatch: Sendable, Equatable {
        public var name: String
        /// The experiment's id in the target.
        public var id: Int64
        /// Whether the merge created it (false: it already existed with the same name and spec hash).
        public var created: Bool
    }

    /// The shard file.
    public var shardPath: String
    /// The shard's experiments, in the shard's order.
    public var experiments: [ExperimentMatch] = []
    /// Finished runs whose cell the target did not have.
    public var runsCopied = 0
    /// Finished runs the target already had, finished with the same result (nothing copied).
    public var runsAlreadyPresent = 0
    /// Finished runs that replaced an unfinished run of the target (which kept its id).
    public var runsReplacingUnfinished = 0
    /// Unfinished runs stored: cells the target did not have, or had unfinished with fewer attempts.
    public var unfinishedRunsRecorded = 0
    /// Shard runs left out because the target's run of the cell was finished, or unfinished with
    /// at least as many attempts.
    public var runsKept = 0
    /// Links (`experiment_runs`) the target already had, to the same or an identical run.
    public var linksAlreadyPresent = 0
    /// Rows written per table: `params`, `metrics`, `evaluations`, `checkpoints`, `experiment_runs`.
    public var rowsCopied: [String: Int] = [:]

    public init(shardPath: String) {
        self.shardPath = shardPath
    }

    /// Whether the merge wrote nothing (everything was already there).
    public var changedNothing: Bool {
        experiments.allSatisfy { !$0.created } && runsCopied + runsReplacingUnfinished + unfinishedRunsRecorded == 0
            && rowsCopied.values.allSatisfy { $0 == 0 }
    }
}

extension ResultsDatabase {
    /// Merges the shard database at `shardPath` — the results a cluster task wrote to its own
    /// file — into this database, in one transaction: all of the shard or none of it.
    ///
    /// Experiments are matched by `(name, spec_sha256)` (as ``upsertExperiment(name:specSHA256:specPath:specText:specSource:overrides:cellCount:)``
    /// does) or created with the shard's columns. Run ids are never copied: each run lands under
    /// the target's experiment id with a new id and its params, metrics, evaluations and
    /// checkpoint records follow it. Per cell (experiment, cell key):
    /// - absent from the target → the shard's run is copied with its status (an unfinished one
    ///   without `owner_token`/`owner_pid`);
    /// - finished in both with the same config hash, dataset hash and evaluations → nothing
    ///   (merging twice changes nothing);
    /// - finished in both with a different config hash, dataset hash or evaluations → the shard
    ///   is refused with ``MergeError/conflict(path:experiment:cellKey:differences:)`` and
    ///   nothing of it is written;
    /// - finished in the target, unfinished in the shard → the target's run is kept;
    /// - unfinished in the target, finished in the shard → the shard's run replaces it: the
    ///   target's rows of that run are deleted, its columns take the shard's values, its id stays;
    /// - unfinished in both → the target's is kept unless the shard's has more attempts (it got
    ///   further), which then replaces it the same way.
    ///
    /// Links (`experiment_runs`) are copied after all runs, with the run id mapped. A cell the
    /// target already holds (linked, or its own finished run) keeps it when the results are
    /// identical and refuses the shard when they differ; a target link to an unfinished run is
    /// pointed at the shard's run. Claims are not copied: judge them again on the merged data.
    ///
    /// The shard is never written: it is opened read-only, and one made by an older Backdrop is
    /// migrated as an in-memory copy.
    ///
    /// - Parameter shardPath: The shard's SQLite file.
    /// - Returns: What the merge did.
    /// - Throws: ``MergeError`` (missing file, the target itself, not a Backdrop database, made by
    ///   a newer Backdrop, a conflicting cell) or a database error of the target.
    public func merge(from shardPath: String) throws -> MergeSummary {
        if let path, Self.sameFile(path, shardPath) { throw MergeError.sameFile(path: shardPath) }
        let contents = try ShardContents.read(from: shardPath)
        return try writeImmediate { db in
            var merger = ShardMerger(db: db, shard: contents, shardPath: shardPath)
            return try merger.merge()
        }
    }

    /// Whether both paths name one file (the same device and inode, so links and different
    /// spellings of a path count); false when either does not exist.
    static func sameFile(_ a: String, _ b: String) -> Bool {
        var first = stat(), second = stat()
        guard stat(a, &first) == 0, stat(b, &second) == 0 else { return false }
        return first.st_dev == second.st_dev && first.st_ino == second.st_ino
    }
}
