import Foundation
import TestSupport
import Testing
@testable import ResultsStore

/// Hand-edited values of the wrong type: every reader names table, row and column instead of
/// trapping.
@Suite("Unusable stored values")
struct UnusableValueTests {
    /// A file database with one finished run, two evaluations and three loss values.
    static func seeded() throws -> (path: String, store: ResultsDatabase, experimentID: Int64, runID: Int64) {
        let path = temporaryDatabasePath("unusable")
        let store = try ResultsDatabase(path: path, clock: TestClock().closure)
        let e = try store.upsertExperiment(name: "quick", specSHA256: "s")
        let c = try claim(store, e.id, cell())
        let metrics = store.metricWriter(for: c, batchSize: 4)
        for step in 0..<3 { try metrics.add(key: "loss", step: step, epoch: 0, value: 1 / Double(step + 1), wallTime: 1) }
        try metrics.finish()
        for view in ["full", "foreground"] {
            try store.recordEvaluation(EvaluationRecord(protocolName: "linear", probeView: "full", testView: view,
                                                        top1: 0.9, top5: 1, n: 10), for: c)
        }
        try store.finishRun(c)
        return (path, store, e.id, c.runID)
    }

    /// `error` is the unusable-value error for `table` and `column`, and its message names both.
    static func expectUnusable(_ error: any Error, table: String, column: String, sourceLocation: SourceLocation = #_sourceLocation) {
        guard case ResultsStoreError.unusableValue(let t, let row, let c, _, _) = error else {
            Issue.record("expected an unusable-value error, got \(error)", sourceLocation: sourceLocation)
            return
        }
        #expect(t == table && c == column && !row.isEmpty, sourceLocation: sourceLocation)
        let message = "\(error)"
        #expect(message.contains("table \(table)") && message.contains("column \(column)") && message.contains("row "),
                "\(message)", sourceLocation: sourceLocation)
    }

    @Test("a seed out of integer range is reported by runs, the listing and the matrix")
    func hugeSeed() throws {
        let (path, store, e, _) = try Self.seeded()
        defer { removeDatabase(path) }
        try store.execute(sql: "UPDATE runs SET seed = 1e300")
        do { _ = try store.runs(experimentID: e); Issue.record("runs() accepted seed 1e300") } catch {
            Self.expectUnusable(error, table: "runs", column: "seed")
            #expect("\(error)".contains("1e+300"), "\(error)")
        }
        do { _ = try store.matrixRows(experimentID: e); Issue.record("matrixRows accepted seed 1e300") } catch {
            Self.expectUnusable(error, table: "runs", column: "seed")
        }
        // The listing does not read the seed: it still works.
        #expect(try store.runListing(experimentID: e).count == 1)
    }

    @Test("text where an accuracy belongs is reported by evaluations and the matrix")
    func textAccuracy() throws {
        let (path, store, e, run) = try Self.seeded()
        defer { removeDatabase(path) }
        try store.execute(sql: "UPDATE evaluations SET top1 = 'oops' WHERE test_view = 'foreground'")
        do { _ = try store.evaluations(runID: run); Issue.record("evaluations accepted 'oops'") } catch {
            Self.expectUnusable(error, table: "evaluations", column: "top1")
            #expect("\(error)".contains("'oops'") && "\(error)".contains("a number"), "\(error)")
        }
        do { _ = try store.matrixRows(experimentID: e); Issue.record("matrixRows accepted 'oops'") } catch {
            Self.expectUnusable(error, table: "evaluations", column: "top1")
            #expect("\(error)".contains("test_view 'foreground'"), "\(error)")
        }
    }

    @Test("text where a metric value belongs is reported by metric reads")
    func textMetric() throws {
        let (path, store, e, run) = try Self.seeded()
        defer { removeDatabase(path) }
        try store.execute(sql: "UPDATE metrics SET value = 'x' WHERE step = 1")
        do { _ = try store.metrics(runID: run, key: "loss"); Issue.record("metrics accepted 'x'") } catch {
            Self.expectUnusable(error, table: "metrics", column: "value")
        }
        do { _ = try store.metricSeries(experimentID: e, key: "loss"); Issue.record("metricSeries accepted 'x'") } catch {
            Self.expectUnusable(error, table: "metrics", column: "value")
        }
    }

    @Test("NULL in a required column and a bad status count as unusable or failed, not a trap")
    func nullAndText() throws {
        let (path, store, e, _) = try Self.seeded()
        defer { removeDatabase(path) }
        try store.execute(sql: "UPDATE runs SET attempts = 'many'")
        do { _ = try store.runListing(experimentID: e); Issue.record("listing accepted attempts 'many'") } catch {
            Self.expectUnusable(error, table: "runs", column: "attempts")
        }
        try store.execute(sql: "UPDATE experiments SET created_at = 'yesterday'")
        do { _ = try store.experiments(); Issue.record("experiments accepted created_at 'yesterday'") } catch {
            Self.expectUnusable(error, table: "experiments", column: "created_at")
        }
    }
}
