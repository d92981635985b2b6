@testable import Export
import Foundation
import ResultsStore
import Testing

/// The names the exporters give evaluation results and the forms MLflow's file store needs.
@Suite struct NamingTests {
    static func evaluation(probe: String, test: String, split: String = "test", topK: Int = 5) -> EvaluationRecord {
        EvaluationRecord(protocolName: "linear", probeView: probe, testView: test, split: split, top1: 0.5, top5: 0.75,
                         topK: topK, n: 10, createdAt: Date(timeIntervalSince1970: 100))
    }

    @Test func evaluationScalarNames() {
        let own = EvaluationScalar.scalars(of: Self.evaluation(probe: "full", test: "foreground"), trainView: "full", step: 7)
        #expect(own.map(\.name) == ["eval/linear/foreground/top1", "eval/linear/foreground/top5"])
        #expect(own.map(\.value) == [0.5, 0.75] && own.allSatisfy { $0.step == 7 && $0.wallTime == 100 })
        let fixed = EvaluationScalar.scalars(of: Self.evaluation(probe: "foreground", test: "full"), trainView: "full", step: 7)
        #expect(fixed.map(\.name) == ["eval/linear-foreground-probe/full/top1", "eval/linear-foreground-probe/full/top5"])
        let validation = EvaluationScalar.scalars(of: Self.evaluation(probe: "full", test: "full", split: "val", topK: 3),
                                                  trainView: "full", step: 0)
        #expect(validation.map(\.name) == ["eval-val/linear/full/top1", "eval-val/linear/full/top3"])
        let oneClass = EvaluationScalar.scalars(of: Self.evaluation(probe: "full", test: "full", topK: 1), trainView: "full", step: 0)
        #expect(oneClass.map(\.name) == ["eval/linear/full/top1"])
    }

    @Test func mlflowNames() {
        #expect(MLflowFileStore.safeName("train/epoch/loss") == "train/epoch/loss")
        #expect(MLflowFileStore.safeName("a=b,c") == "a_b_c")
        #expect(MLflowFileStore.safeName("/x//../y/") == "_/x/_/_/y/_")
        #expect(MLflowFileStore.safeName("ok: fine-1.2") == "ok: fine-1.2")
    }

    @Test func mlflowMetaYAMLAndMetricLines() {
        let yaml = MLflowFileStore.yaml(["name": .string("table1 \"quick\"/x"), "end_time": .null, "status": .integer(3),
                                         "tags": .emptyList])
        #expect(yaml == "end_time: null\nname: \"table1 \\\"quick\\\"/x\"\nstatus: 3\ntags: []\n")
        #expect(MLflowFileStore.metricLine(timestamp: 1_700_000_000.1234, value: 0.25, step: 4) == "1700000000123 0.25 4\n")
        #expect(MLflowFileStore.metricLine(timestamp: 1, value: .nan, step: 0) == "1000 nan 0\n")
    }

    @Test func stableRunIDs() {
        let id = MLflowExport.runID(experimentID: 3, cellKey: "full/simclr/none/seed0")
        #expect(id.count == 32 && id.allSatisfy(\.isHexDigit))
        #expect(id == MLflowExport.runID(experimentID: 3, cellKey: "full/simclr/none/seed0"))
        #expect(id != MLflowExport.runID(experimentID: 4, cellKey: "full/simclr/none/seed0"))
        #expect(id != MLflowExport.runID(experimentID: 3, cellKey: "full/simclr/none/seed1"))
    }
}
