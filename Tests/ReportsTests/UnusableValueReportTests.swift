import Foundation
import TestSupport
import Testing
@testable import Reports
@testable import ResultsStore

/// A report of a database holding a hand-edited value of the wrong type fails with a message
/// naming the table and column, and never traps.
@Suite struct UnusableValueReportTests {
    static let corruptions: [(sql: String, table: String, column: String)] = [
        ("UPDATE runs SET seed = 1e300 WHERE cell_key = 'full/simclr/none/seed1'", "runs", "seed"),
        ("UPDATE evaluations SET top1 = 'oops' WHERE id = 3", "evaluations", "top1"),
        ("UPDATE metrics SET value = 'x' WHERE id = 5", "metrics", "value"),
    ]

    @Test(arguments: 0..<3)
    func reportNamesTheValue(index: Int) throws {
        let (sql, table, column) = Self.corruptions[index]
        let dir = temporaryDirectory("report-unusable")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("results.sqlite").path
        let writer = try ResultsDatabase(path: path, clock: TestClock(1_750_000_000, tick: 1).closure)
        try Fixture.fill(writer)
        try writer.execute(sql: sql)
        let reader = try ResultsDatabase(path: path, mode: .readOnly)
        do {
            _ = try ReportWriter.render(store: reader, experiment: "table1-quick", into: dir.appendingPathComponent("out"))
            Issue.record("the report accepted \(sql)")
        } catch let error as ResultsStoreError {
            guard case .unusableValue(let t, _, let c, _, _) = error else { Issue.record("unexpected \(error)"); return }
            #expect(t == table && c == column, "\(error)")
            #expect(error.description.contains("table \(table)") && error.description.contains("column \(column)"))
        }
    }

    @Test func nonFiniteShadesDrawAsTheLowestStop() {
        #expect(SVG.blues(.nan) == SVG.blues(0))
        #expect(SVG.blues(.infinity) == SVG.blues(0))
    }
}

extension UnusableValueReportTests {
    @Test func elapsedSecondsOutOfRangeAreShownAsStored() {
        #expect(RunsTable.seconds(12.4) == .integer(12))
        #expect(RunsTable.seconds(1e300) == .real(1e300))
        if case .real(let v) = RunsTable.seconds(.nan) { #expect(v.isNaN) } else { Issue.record("NaN became an integer") }
    }
}
