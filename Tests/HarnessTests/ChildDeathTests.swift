import Foundation
import Testing
@testable import Harness

/// How the runner words the death of a cell's child process (stored as the run's error).
@Suite struct ChildDeathTests {
    @Test func aTrapIsNamedByItsSignalAndMessage() {
        let lines = ["[cell 1/2 a] epoch 1", "x.swift:3: Fatal error: boom", "Current stack trace:", "0 frame"]
        #expect(MatrixRunner.describeDeath(status: 4, bySignal: true, lastLines: lines)
                == "was killed by signal 4 (SIGILL); last output: x.swift:3: Fatal error: boom")
    }

    @Test func otherDeathsKeepTheLastLines() {
        #expect(MatrixRunner.describeDeath(status: 2, bySignal: false, lastLines: ["a", "", "b"])
                == "exited with status 2; last output: a | b")
        #expect(MatrixRunner.describeDeath(status: 9, bySignal: true, lastLines: []) == "was killed by signal 9 (SIGKILL)")
        let many = (0..<9).map { "line \($0)" }
        #expect(MatrixRunner.describeDeath(status: 15, bySignal: true, lastLines: many)
                == "was killed by signal 15 (SIGTERM); last output: line 4 | line 5 | line 6 | line 7 | line 8")
    }
}
