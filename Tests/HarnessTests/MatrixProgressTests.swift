import Foundation
import TestSupport
import Testing
@testable import Harness

/// The matrix-wide progress line after each cell: count, result, ETA.
@Suite(.serialized) struct MatrixProgressTests {
    final class FakeClock: @unchecked Sendable {
        var now = Date(timeIntervalSince1970: 1_000)
    }

    @Test func etaIsTheWallTimePerEndedCellTimesTheCellsLeft() {
        let clock = FakeClock()
        let progress = MatrixProgress(cellsToRun: 3, clock: { clock.now })
        clock.now += 40
        #expect(progress.cellEnded("a", outcome: .finished(resumed: false, seconds: 40), result: "r")
                == "[matrix 1/3] a finished: r; 2 left, matrix ETA 1m20s")
        clock.now += 20
        #expect(progress.cellEnded("b", outcome: .failed("boom"), result: "boom") == "[matrix 2/3] b FAILED: boom; 1 left, matrix ETA 30s")
        clock.now += 30
        #expect(progress.cellEnded("c", outcome: .finished(resumed: true, seconds: 30), result: "r")
                == "[matrix 3/3] c finished (resumed): r; matrix done in 1m30s")
    }

    @Test func eachCellThatRunsEndsWithItsAccuracyAndTheMatrixETA() throws {
        let (dir, spec) = try reproductionFolder("matrix-progress")
        defer { try? FileManager.default.removeItem(at: dir) }
        let lines = LockedLines()
        _ = try MatrixRunner(options: runnerOptions(dir, spec: spec), log: { lines.add($0) }).run()
        let progress = lines.all.filter { $0.hasPrefix("[matrix ") }
        #expect(progress.count == 2, "\(lines.all)")
        #expect(progress.first?.hasPrefix("[matrix 1/2] full/simclr/none/seed0 finished: linear top-1 full ") == true, "\(progress)")
        #expect(progress.first?.contains("(probe: train view full); 1 left, matrix ETA ") == true, "\(progress)")
        #expect(progress.last?.contains("; matrix done in ") == true, "\(progress)")
        // A rerun runs nothing, so it prints no matrix progress.
        let again = LockedLines()
        _ = try MatrixRunner(options: runnerOptions(dir, spec: spec), log: { again.add($0) }).run()
        #expect(!again.all.contains { $0.hasPrefix("[matrix ") })
    }
}
