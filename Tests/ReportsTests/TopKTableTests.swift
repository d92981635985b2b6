import Foundation
import Testing
@testable import Reports
@testable import ResultsStore

/// The top-k table is left out where k reaches the number of classes (100% by construction).
@Suite struct TopKTableTests {
    static func report(topK: Int, classCount: Int?) -> Report {
        let rows = (0..<2).map { seed in
            MatrixRow(experimentID: 1, runID: Int64(seed + 1),
                      cell: RunCell(cellKey: "full/simclr/none/seed\(seed)", dataset: "d", trainView: "full", method: "simclr",
                                    regularizer: "none", seed: seed),
                      protocolName: "linear", probeView: "full", testView: "full", split: "test", top1: 0.6, top5: topK >= 2 ? 1 : 0.9,
                      topK: topK, n: 10)
        }
        let experiment = Experiment(id: 1, name: "k", specPath: "k.yaml", specSHA256: String(repeating: "ab", count: 32), specText: "",
                                    createdAt: Date(timeIntervalSince1970: 1_750_000_000))
        return Report(experiment: experiment, runs: [], rows: rows, curves: [:], options: ReportOptions(probe: .fixed("full")),
                      classCount: classCount)
    }

    @Test func aTopKTableOnlyWhereKIsBelowTheClassCount() {
        let title = "simclr: Linear top-5 accuracy"
        #expect(!Self.report(topK: 2, classCount: 2).markdown.contains(title))
        #expect(!Self.report(topK: 5, classCount: 5).markdown.contains(title))
        #expect(Self.report(topK: 5, classCount: 10).markdown.contains(title))
        #expect(Self.report(topK: 5, classCount: nil).markdown.contains(title))   // unknown: shown
        #expect(Self.report(topK: 2, classCount: 2).markdown.contains("simclr: Linear top-1 accuracy"))
    }
}
