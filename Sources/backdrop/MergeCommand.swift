import ArgumentParser
import Foundation
import ResultsStore

/// `backdrop merge --into DB SHARD…`: bring shard databases (one per cluster task) into one
/// results database.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge shard results databases (one per cluster task) into one database.",
        discussion: """
        Each shard is merged in its own transaction, in the order given: all of it or nothing. Experiments are matched \
        by name and spec hash; runs get new ids. A cell finished in both databases with the same config hash, dataset \
        hash and evaluations is left as it is, so merging again changes nothing; a cell finished in both with different \
        results refuses that shard (naming the cell and what differs) and nothing of it is written. A finished run \
        replaces an unfinished one; the target's finished runs are never replaced. Shards are only read. A refused \
        shard does not stop the others: every other shard is merged, the refused ones are listed at the end and the \
        exit status is 1. See "Merging shard databases" in docs/Results.md.
        """)

    @Option(help: "The results database to merge into (created when absent).") var into: String
    @Argument(help: "The shard databases, merged in this order.") var shards: [String]

    func validate() throws {
        if shards.isEmpty { throw ValidationError("give at least one shard database to merge") }
    }

    func run() throws {
        let folder = (into as NSString).deletingLastPathComponent
        if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        let store = try ResultsDatabase(path: into)
        var merged: [MergeSummary] = [], refused: [String] = []
        for shard in shards {
            do {
                let summary = try store.merge(from: shard)
                merged.append(summary)
                print("merged \(shard): \(Self.experimentsText(summary)): \(Self.countsText([summary]))")
            } catch {
                refused.append(shard)
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            }
        }
        print("total: \(merged.count) of \(shards.count) shards merged into \(into): \(Self.countsText(merged))")
        guard refused.isEmpty else {
            FileHandle.standardError.write(Data("""
                not merged (\(refused.count)): \(refused.joined(separator: " "))
                nothing of these was written; after fixing them, merge them again (shards already merged are left as they are)

                """.utf8))
            throw ExitCode(1)
        }
    }

    /// `experiment tiny (id 1)`, `experiment tiny (id 3, new)`, several separated by commas.
    static func experimentsText(_ summary: MergeSummary) -> String {
        guard !summary.experiments.isEmpty else { return "no experiments" }
        return summary.experiments.map { "experiment \($0.name) (id \($0.id)\($0.created ? ", new" : ""))" }
            .joined(separator: ", ")
    }

    /// `1 run copied, 0 already present, 412 metric rows, 40 evaluations`, with the other counts
    /// added when they are not zero.
    static func countsText(_ summaries: [MergeSummary]) -> String {
        func total(_ value: (MergeSummary) -> Int) -> Int { summaries.reduce(0) { $0 + value($1) } }
        func rows(_ table: String) -> Int { total { $0.rowsCopied[table] ?? 0 } }
        func counted(_ n: Int, _ one: String, _ many: String) -> String { "\(n) \(n == 1 ? one : many)" }
        var parts = [counted(total(\.runsCopied), "run copied", "runs copied"), "\(total(\.runsAlreadyPresent)) already present"]
        let optional = [
            (total(\.runsReplacingUnfinished), "replaced an unfinished run", "replaced unfinished runs"),
            (total(\.unfinishedRunsRecorded), "unfinished run recorded", "unfinished runs recorded"),
            (total(\.runsKept), "shard run left for the target's", "shard runs left for the target's"),
        ]
        parts += optional.filter { $0.0 > 0 }.map { counted($0.0, $0.1, $0.2) }
        parts.append(counted(rows("metrics"), "metric row", "metric rows"))
        parts.append(counted(rows("evaluations"), "evaluation", "evaluations"))
        let extra = [(rows("params"), "param", "params"), (rows("checkpoints"), "checkpoint record", "checkpoint records"),
                     (rows("experiment_runs"), "link", "links")]
        parts += extra.filter { $0.0 > 0 }.map { counted($0.0, $0.1, $0.2) }
        return parts.joined(separator: ", ")
    }
}
