import Foundation
import TestSupport
import Testing

@Suite(.serialized, .enabled(if: Executables.url("backdrop") != nil, "the backdrop executable is not built"))
struct TrainCommandDiagnosticsTests {
    /// `backdrop train --set evaluation.epochDiagnostics.every=1`: every epoch's summary carries
    /// the stratum–background check, and the progress lines say what was measured.
    @Test func setTurnsOnTheEpochDiagnostics() throws {
        let dir = temporaryDirectory("cli-diag")
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = dir.appendingPathComponent("run.json")
        let r = try Executables.run("backdrop", ["train", "--data", tinyDataset, "--no-cache", "--width", "4", "--epochs", "2", "--batch-size", "8",
                                                 "--projector-hidden", "16", "--projector-output", "8", "--regularizer", "icl-msr",
                                                 "--msr-strata", "3", "--json", json.path,
                                                 "--set", "evaluation.testViews=[full]", "--set", "evaluation.epochDiagnostics.every=1"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("epoch diagnostics every 1 epoch(s)") && r.stderr.contains("NMI on 32 train images"), "\(r.stderr)")
        #expect(r.stderr.contains("epoch 2 diagnostics: only-background"))
        let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as! [String: Any]
        let epochs = doc["metrics"] as! [[String: Any]]
        #expect(epochs.count == 2)
        for epoch in epochs {
            let d = try #require(epoch["diagnostics"] as? [String: Double])
            #expect(Set(d.keys) == ["diag_background_reliance", "diag_full_accuracy", "diag_stratum_background_nmi",
                                    "diag_stratum_class_nmi", "diag_seconds"])
            #expect((0...1).contains(d["diag_stratum_background_nmi"]!) && (0...1).contains(d["diag_background_reliance"]!))
        }
        let config = doc["config"] as! [String: Any]
        let evaluation = config["evaluation"] as! [String: Any]
        #expect((evaluation["epochDiagnostics"] as? [String: Any])?["every"] as? Int == 1)
    }

    @Test func aBadValueNamesTheSet() throws {
        let r = try Executables.run("backdrop", ["train", "--data", tinyDataset, "--no-cache", "--set", "evaluation.epochDiagnostics.every=-2"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("Error: --set evaluation.epochDiagnostics.every=-2"), "\(r.stderr)")
    }
}
