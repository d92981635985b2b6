import Foundation
import ResultsStore

/// The state of every cell of an experiment run on a cluster: the main database (merged
/// results), the shard databases of `<results>/slurm/<experiment>/shards/` (not merged yet), the
/// submissions of `jobs.json` and, when given, Slurm's own state of each array task.
public struct ClusterStatus: Sendable {
    public struct Cell: Sendable, Equatable {
        public var key: String
        /// `finished`, `running`, `failed`, `interrupted`, `pending` (planned or submitted, not started).
        public var status: String
        /// Where the status comes from: `main`, `shard 3.sqlite`, or `submitted` (in a job log only).
        public var source: String
        public var attempts: Int
        /// The array task (`12_3`) and its Slurm state, when known.
        public var task: String
        public var slurmState: String
        public var error: String
    }

    public var experiment: String
    /// The matrix size recorded with the experiment (nil when unknown).
    public var cellCount: Int?
    public var cells: [Cell]

    /// The more advanced of two statuses of one cell: finished > running > interrupted > failed > pending.
    static func rank(_ status: String) -> Int {
        ["pending": 0, "failed": 1, "interrupted": 2, "running": 3, "finished": 4][status] ?? 0
    }

    /// - Parameters:
    ///   - main: the main database (nil when it does not exist); the experiment is looked up by `nameOrID`.
    ///   - shardFolder: the experiment's shard databases.
    ///   - submissions: the experiment's job log.
    ///   - slurmStates: array task id (`12_3`) → Slurm state (`RUNNING`, `COMPLETED`, `CANCELLED`, …).
    public init(experiment nameOrID: String, main: ResultsDatabase?, shardFolder: String, submissions: [SlurmJobLog.Submission],
                slurmStates: [String: String]) throws {
        var best: [String: Cell] = [:]
        func offer(_ run: Run, source: String) {
            let candidate = Cell(key: run.cellKey, status: run.status.rawValue, source: source, attempts: run.attempts,
                                 task: "", slurmState: "", error: run.error ?? "")
            if let known = best[run.cellKey], Self.rank(known.status) >= Self.rank(candidate.status) { return }
            best[run.cellKey] = candidate
        }
        var name = nameOrID
        var specSHA256: String? = nil
        if let main, let e = try? main.resolveExperiment(nameOrID) {
            name = e.name
            specSHA256 = e.specSHA256
            cellCount = e.cellCount
            for run in try main.runs(experimentID: e.id) { offer(run, source: "main") }
        }
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: shardFolder)) ?? []).filter { $0.hasSuffix(".sqlite") }
        for file in files.sorted() {
            guard let shard = try? ResultsDatabase(path: URL(fileURLWithPath: shardFolder).appendingPathComponent(file).path, mode: .readOnly),
                  let e = try shard.experiments().last(where: { $0.name == name && (specSHA256 == nil || $0.specSHA256 == specSHA256) })
            else { continue }
            specSHA256 = specSHA256 ?? e.specSHA256
            cellCount = cellCount ?? e.cellCount
            for run in try shard.runs(experimentID: e.id) { offer(run, source: "shard \(file)") }
        }
        // The latest submission of each cell names its array task.
        for submission in submissions {
            for task in submission.tasks {
                let id = submission.arrayJob.map { "\($0)_\(task.index)" } ?? ""
                var cell = best[task.cellKey] ?? Cell(key: task.cellKey, status: "pending", source: "submitted", attempts: 0,
                                                      task: "", slurmState: "", error: "")
                cell.task = id
                cell.slurmState = slurmStates[id] ?? ""
                best[task.cellKey] = cell
            }
        }
        experiment = name
        cells = best.values.sorted { $0.key < $1.key }
    }

    /// `finished 3 (merged 1, in shards 2) · running 1 · …` over `cellCount` cells.
    public var summary: String {
        func count(_ s: String) -> Int { cells.filter { $0.status == s }.count }
        let merged = cells.filter { $0.status == "finished" && $0.source == "main" }.count
        let total = max(cellCount ?? cells.count, cells.count)
        let unseen = total - cells.count
        return "experiment \(experiment): \(total) cells — finished \(count("finished")) (merged \(merged), in shards "
            + "\(count("finished") - merged)), running \(count("running")), interrupted \(count("interrupted")), "
            + "failed \(count("failed")), pending \(count("pending") + unseen)"
    }

    public var table: QueryResult {
        QueryResult(columns: ["cell", "status", "where", "attempts", "task", "slurm", "error"],
                    rows: cells.map { c in [.text(c.key), .text(c.status), .text(c.source), .integer(Int64(c.attempts)), .text(c.task),
                                           .text(c.slurmState), .text(String(c.error.prefix(200)))] })
    }
}
