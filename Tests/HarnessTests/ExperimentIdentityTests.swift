import Foundation
import ResultsStore
import TestSupport
import Testing
@testable import Harness

/// A run is identified by its resolved configuration and dataset hashes: an edited spec trains
/// only the cells whose hash changed and links the rest (issue "Experiments as questions").
@Suite(.serialized) struct ExperimentIdentityTests {
    /// The sample spec as a 4-cell matrix: full × {none, icl-msr} × seeds {0, 1}.
    static func fourCellFolder(_ name: String) throws -> (dir: URL, spec: String) {
        let dir = temporaryDirectory(name)
        let spec = dir.appendingPathComponent("four.yaml")
        let text = sampleSpec.replacingOccurrences(of: "trainViews: [full, foreground]", with: "trainViews: [full]")
            + "\nevaluation:\n  testViews: [full, foreground]\n  probeViews: [train-view]\n  probe: {maxIterations: 20}\n"
        try text.write(to: spec, atomically: true, encoding: .utf8)
        return (dir, spec.path)
    }

    static func edit(_ spec: String, appending line: String) throws {
        let text = try String(contentsOfFile: spec, encoding: .utf8)
        try (text + line).write(toFile: spec, atomically: true, encoding: .utf8)
    }

    @Test func editingOneKeyRetrainsOnlyTheCellsWhoseHashChanged() throws {
        let (dir, spec) = try Self.fourCellFolder("identity-edit")
        defer { try? FileManager.default.removeItem(at: dir) }
        let options = runnerOptions(dir, spec: spec)
        let db = options.databasePath
        let first = try MatrixRunner(options: options, log: { _ in }).run()
        #expect(first.trained == 4 && first.failed == 0)
        #expect(try count(db, "SELECT COUNT(DISTINCT run_id) FROM metrics") == 4)
        let metricRows = try count(db, "SELECT COUNT(*) FROM metrics")

        // Only the ICL-MSR cells read `iclmsr.weight`: their hashes change, the plain cells' do not.
        try Self.edit(spec, appending: "iclmsr: {weight: 2.0}\n")
        let preview = try MatrixRunner(options: options, log: { _ in }).dryRun()
        #expect(preview.contains("2 to run, 0 to resume, 2 to reuse, 0 done"))
        let second = try MatrixRunner(options: options, log: { _ in }).run()
        #expect(second.trained == 2 && second.failed == 0)
        let reused = second.outcomes.filter { if case .reused = $0.outcome { return true }; return false }.map(\.cell)
        #expect(reused.sorted() == ["full/simclr/none/seed0", "full/simclr/none/seed1"])
        // Counted from the metrics table: two new runs wrote metrics, the four old ones kept theirs.
        #expect(try count(db, "SELECT COUNT(DISTINCT run_id) FROM metrics") == 6)
        #expect(try count(db, "SELECT COUNT(*) FROM metrics WHERE run_id <= 4") == metricRows)
        #expect(try count(db, "SELECT COUNT(*) FROM runs") == 6)
        #expect(try count(db, "SELECT COUNT(*) FROM experiment_runs") == 2)

        // Both experiments stay reachable by id, each with its full matrix; the name means the latest.
        let store = try ResultsDatabase(path: db, mode: .readOnly)
        let all = try store.experiments()
        #expect(all.count == 2 && all[0].name == all[1].name && all[0].specSHA256 != all[1].specSHA256)
        #expect(try store.resolveExperiment(all[0].name).id == all[1].id)
        for experiment in all {
            #expect(try store.resolveExperiment("\(experiment.id)").id == experiment.id)
            #expect(try store.resolveExperiment("#\(experiment.id)").id == experiment.id)
            let runs = try store.runs(experimentID: experiment.id)
            #expect(runs.count == 4 && runs.allSatisfy { $0.status == .finished })
            #expect(try store.matrixRows(experimentID: experiment.id).count == 4 * 2 * 2)   // cells × test views × protocols
        }
        let linked = try store.runs(experimentID: all[1].id).filter(\.isLinked)
        #expect(linked.count == 2 && linked.allSatisfy { $0.ownerExperimentID == all[0].id && $0.cell.regularizer == "none" })
        #expect(all[1].specSource.contains("weight: 2.0"))
        #expect(try store.runListing(experimentID: all[1].id).compactMap(\.linkedFrom) == [all[0].id, all[0].id])
        let overview = try store.experimentOverview()
        #expect(overview.map(\.finished) == [4, 4] && overview.map(\.linked) == [0, 2] && overview.map(\.total) == [4, 4])

        // Running the edited spec again trains and links nothing more.
        let third = try MatrixRunner(options: options, log: { _ in }).run()
        #expect(third.trained == 0 && third.outcomes.allSatisfy { $0.outcome == .skipped })
        #expect(try count(db, "SELECT COUNT(*) FROM runs") == 6 && count(db, "SELECT COUNT(*) FROM experiment_runs") == 2)
    }

    @Test func dryRunChangesNothingInTheDatabase() throws {
        let (dir, spec) = try Self.fourCellFolder("identity-dry")
        defer { try? FileManager.default.removeItem(at: dir) }
        var options = runnerOptions(dir, spec: spec)
        options.cellKeys = ["full/simclr/none/seed0"]
        _ = try MatrixRunner(options: options, log: { _ in }).run()
        let store = try ResultsDatabase(path: options.databasePath, mode: .readOnly)
        let before = try store.contentChecksum()

        options.cellKeys = nil
        let text = try MatrixRunner(options: options, log: { _ in }).dryRun()
        #expect(text.contains("# resolved spec"))
        #expect(text.contains("4 cells") && text.contains("3 to run, 0 to resume, 0 to reuse, 1 done"))
        for key in ["full/simclr/none/seed1", "full/simclr/icl-msr/seed0", "full/simclr/icl-msr/seed1"] {
            #expect(text.contains(key))
        }
        // A different spec (a new experiment: one sweep point at the default weight) would reuse the
        // finished cell under its new key, still without writing.
        try Self.edit(spec, appending: "sweep: {iclmsr.weight: [1.0]}\n")
        let edited = try MatrixRunner(options: options, log: { _ in }).dryRun()
        #expect(edited.contains("# experiment sample: new") && edited.contains("3 to run, 0 to resume, 1 to reuse, 0 done"), "\(edited)")
        #expect(edited.contains("iclmsr.weight=1.0/full/simclr/none/seed0"), "\(edited)")
        #expect(try store.contentChecksum() == before)
        #expect(try store.experiments().count == 1)

        // Without a database the dry run creates none.
        var fresh = options
        fresh.databasePath = dir.appendingPathComponent("none.sqlite").path
        _ = try MatrixRunner(options: fresh, log: { _ in }).dryRun()
        #expect(!FileManager.default.fileExists(atPath: fresh.databasePath))
    }

    @Test func sweepPointsRunAsCellsAndIdenticalCellsTrainOnce() throws {
        let (dir, spec) = try Self.fourCellFolder("identity-sweep")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.edit(spec, appending: "sweep: {iclmsr.weight: [0.5, 2]}\n")
        var options = runnerOptions(dir, spec: spec)
        options.cellKeys = ["iclmsr.weight=0.5/full/simclr/none/seed0", "iclmsr.weight=2/full/simclr/none/seed0",
                            "iclmsr.weight=0.5/full/simclr/icl-msr/seed0", "iclmsr.weight=2/full/simclr/icl-msr/seed0"]
        let summary = try MatrixRunner(options: options, log: { _ in }).run()
        // The plain cell does not read the weight: one training, linked at the second point.
        #expect(summary.trained == 3 && summary.failed == 0)
        #expect(summary.outcomes.filter { if case .reused = $0.outcome { return true }; return false }.map(\.cell)
                == ["iclmsr.weight=2/full/simclr/none/seed0"])
        let db = options.databasePath
        #expect(try count(db, "SELECT COUNT(*) FROM runs") == 3)
        #expect(try count(db, "SELECT COUNT(DISTINCT sweep) FROM matrix_cells") == 2)
        #expect(try count(db, "SELECT COUNT(*) FROM matrix_cells WHERE sweep = 'iclmsr.weight=2' AND linked = 1 AND regularizer = 'none'") > 0)
    }
}
