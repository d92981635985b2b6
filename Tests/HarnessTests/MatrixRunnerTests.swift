import Foundation
import Reports
import ResultsStore
import TensorCore
import TestSupport
import Testing
@testable import Harness

/// A folder with the sample spec (2 cells: full × {none, icl-msr} × seed 0, width 4, 2 epochs).
func reproductionFolder(_ name: String, extra: String = "") throws -> (dir: URL, spec: String) {
    let dir = temporaryDirectory(name)
    let spec = dir.appendingPathComponent("tiny.yaml")
    let text = sampleSpec.replacingOccurrences(of: "trainViews: [full, foreground]", with: "trainViews: [full]")
        .replacingOccurrences(of: "seeds: [0, 1]", with: "seeds: [0]") + "\nevaluation:\n  probe: {maxIterations: 50}\n" + extra
    try text.write(to: spec, atomically: true, encoding: .utf8)
    return (dir, spec.path)
}

func runnerOptions(_ dir: URL, spec: String) -> MatrixRunner.Options {
    var o = MatrixRunner.Options(specPath: spec)
    o.databasePath = dir.appendingPathComponent("db.sqlite").path
    o.resultsDirectory = dir.appendingPathComponent("Results").path
    return o
}

func count(_ db: String, _ sql: String) throws -> Int64 {
    let r = try ResultsDatabase.readOnlyQuery(path: db, sql: sql)
    guard case .integer(let n) = r.rows[0][0] else { return -1 }
    return n
}

@Suite(.serialized) struct MatrixRunnerTests {
    @Test func reproduceRecordsEverythingAndRerunDoesNoTraining() throws {
        let (dir, spec) = try reproductionFolder("reproduce")
        defer { try? FileManager.default.removeItem(at: dir) }
        let options = runnerOptions(dir, spec: spec)
        let summary = try MatrixRunner(options: options, log: { _ in }).run()
        #expect(summary.trained == 2 && summary.failed == 0)
        let db = options.databasePath
        #expect(try count(db, "SELECT COUNT(*) FROM runs WHERE status = 'finished'") == 2)
        #expect(try count(db, "SELECT COUNT(*) FROM evaluations") == 40)
        #expect(try count(db, "SELECT COUNT(*) FROM checkpoints") == 4)   // after epochs 1 and 2 of each cell
        #expect(try count(db, "SELECT COUNT(*) FROM runs WHERE length(config_sha256) = 64 AND length(dataset_sha256) = 64 AND host IS NOT NULL") == 2)
        #expect(try count(db, "SELECT COUNT(*) FROM params WHERE key = 'train.optimizer.lr'") == 2)
        // Which convolution kernels produced the numbers (their round-off differs).
        #expect(ConvolutionKernelPath.allCases.map(\.provenanceName).contains(RunSources.toolVersions["convolution"] ?? ""))
        #expect(try count(db, "SELECT COUNT(*) FROM runs WHERE json_extract(versions_json, '$.convolution') = '\(Tensor.convolutionKernels)'") == 2)
        let metrics = try count(db, "SELECT COUNT(*) FROM metrics")
        #expect(metrics > 0)
        let context = try MatrixRunner(options: options, log: { _ in }).makeContext()
        let cell = context.spec.cells()[0]
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("Results/checkpoints/sample-\(context.spec.specSHA256.prefix(12))/"
            + "full-simclr-none-seed0-\(cell.configSHA256.prefix(16))/checkpoint.safetensors").path))

        let again = try MatrixRunner(options: options, log: { _ in }).run()
        #expect(again.trained == 0 && again.outcomes.allSatisfy { $0.outcome == .skipped })
        #expect(try count(db, "SELECT COUNT(*) FROM metrics") == metrics)
        #expect(try count(db, "SELECT COUNT(*) FROM evaluations") == 40)
        #expect(try count(db, "SELECT MAX(attempts) FROM runs") == 1)
    }

    @Test func interruptedCellResumesWithoutDuplicatesAndMatchesAnUninterruptedRun() throws {
        let (dir, spec) = try reproductionFolder("resume")
        defer { try? FileManager.default.removeItem(at: dir) }
        let options = runnerOptions(dir, spec: spec)
        let runner = MatrixRunner(options: options, log: { _ in })
        let context = try runner.makeContext()
        let cell = context.spec.cells()[0]
        let store = try ResultsDatabase(path: options.databasePath)
        let experiment = try store.upsertExperiment(name: context.spec.name, specSHA256: context.spec.specSHA256)
        // A process that stopped after epoch 1 (3 of 6 steps) without releasing its claim: its pid no longer exists.
        let dead = Process()
        dead.executableURL = URL(fileURLWithPath: "/bin/true")
        try dead.run()
        dead.waitUntilExit()
        let ghost = RunOwner(host: RunOwner.current.host, pid: Int(dead.processIdentifier))
        let first = try CellRunner.run(cell, experimentID: experiment.id, store: store, context: context, stepLimit: 3, owner: ghost)
        #expect(first == .interrupted)
        #expect(try store.run(experimentID: experiment.id, cellKey: cell.key)?.status == .running)

        let summary = try runner.run()
        #expect(summary.failed == 0)
        #expect(summary.outcomes.first { $0.cell == cell.key }?.outcome == .finished(resumed: true, seconds: 0) || {
            if case .finished(true, _) = summary.outcomes.first(where: { $0.cell == cell.key })!.outcome { return true }
            return false
        }())
        let db = options.databasePath
        #expect(try count(db, "SELECT COUNT(*) FROM (SELECT run_id, key, step FROM metrics GROUP BY 1, 2, 3 HAVING COUNT(*) > 1)") == 0)
        #expect(try count(db, "SELECT COUNT(*) FROM evaluations") == 40)
        #expect(try count(db, "SELECT attempts FROM runs WHERE cell_key = '\(cell.key)'") == 2)

        // The same cell uninterrupted, in another database.
        let (dir2, spec2) = try reproductionFolder("resume-reference")
        defer { try? FileManager.default.removeItem(at: dir2) }
        var o2 = runnerOptions(dir2, spec: spec2)
        o2.cellKeys = [cell.key]
        _ = try MatrixRunner(options: o2, log: { _ in }).run()
        let q = "SELECT e.protocol || e.test_view, e.top1, e.top5 FROM evaluations e JOIN runs r ON r.id = e.run_id WHERE r.cell_key = '\(cell.key)' ORDER BY 1"
        let resumed = try ResultsDatabase.readOnlyQuery(path: db, sql: q), reference = try ResultsDatabase.readOnlyQuery(path: o2.databasePath, sql: q)
        #expect(resumed.rows == reference.rows)
    }

    @Test func failingCellIsRecordedAndTheOthersContinue() throws {
        // A finite-difference radius of 1e30 makes the ICL-MSR meta step diverge at step 1.
        let (dir, spec) = try reproductionFolder("failing")
        defer { try? FileManager.default.removeItem(at: dir) }
        var options = runnerOptions(dir, spec: spec)
        options.overrides = ["regularizers=[none, {name: broken, fdRadius: 1.0e30}]"]
        let summary = try MatrixRunner(options: options, log: { _ in }).run()
        #expect(summary.failed == 1 && summary.trained == 1)
        #expect(try count(options.databasePath, "SELECT COUNT(*) FROM runs WHERE status = 'failed' AND error LIKE '%diverged%' AND regularizer = 'broken'") == 1)
        #expect(try count(options.databasePath, "SELECT COUNT(*) FROM runs WHERE status = 'finished'") == 1)
    }

    /// The runner's database read back through the store's typed queries and Reports' tables.
    @Test func queryRendersAndRefusesWrites() throws {
        let (dir, spec) = try reproductionFolder("query")
        defer { try? FileManager.default.removeItem(at: dir) }
        let options = runnerOptions(dir, spec: spec)
        _ = try MatrixRunner(options: options, log: { _ in }).run()
        let db = options.databasePath
        #expect(throws: ResultsStoreError.self) { try ResultsDatabase.readOnlyQuery(path: db, sql: "DELETE FROM runs") }
        #expect(try count(db, "SELECT COUNT(*) FROM runs") == 2)
        let store = try ResultsDatabase(path: db, mode: .readOnly)
        let experiment = try store.resolveExperiment(nil)
        let series = try store.matrixRows(experimentID: experiment.id)
        let matrix = MatrixTable(series).queryResult
        #expect(matrix.columns == ["method", "train_view", "regularizer", "protocol", "full", "foreground", "only-background", "mixed-same", "mixed-random"])
        #expect(matrix.rows.count == 4 && matrix.rows[0][2] == .text("none"))
        let compare = Comparison(series, by: .regularizer).queryResult
        #expect(compare.rows.count == 10 && compare.columns.last!.hasPrefix("Δ icl-msr − none"))
        let runs = RunsTable(try store.runListing(experimentID: try store.resolveExperiment("sample").id)).queryResult
        #expect(runs.rows.count == 2)
        let csv = runs.rendered(as: .csv)
        #expect(csv.split(separator: "\n").count == 3 && csv.hasPrefix("id,cell_key,status"))
        let json = try JSONSerialization.jsonObject(with: Data(runs.rendered(as: .json).utf8)) as! [[String: Any]]
        #expect(json.count == 2 && json[0]["status"] as? String == "finished")
        #expect(runs.rendered(as: .table).contains("full/simclr/none/seed0"))
    }
}
