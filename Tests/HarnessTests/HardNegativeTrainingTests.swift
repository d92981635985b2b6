import Foundation
import ImageData
import TestSupport
import Testing
@testable import Harness

/// Same-background hard negatives end to end: a `backdrop train` run with the variant finishes
/// and records every evaluation; a MoCo v2 run resumed mid-way equals an uninterrupted one; a
/// method without negatives is refused before training.
@Suite(.serialized) struct HardNegativeTrainingTests {
    static let variant = "regularizers=[{name: background-swap-hn, kind: background-swap, hardNegatives: true}]"

    @Test(.enabled(if: Executables.url("backdrop") != nil, "the backdrop executable is not built"))
    func trainCommandRunsTheVariant() throws {
        let dir = temporaryDirectory("cli-hn")
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = dir.appendingPathComponent("run.json")
        let r = try Executables.run("backdrop", ["train", "--data", tinyDataset, "--no-cache", "--width", "4", "--epochs", "1", "--batch-size", "8", "--quiet",
                                                 "--projector-hidden", "16", "--projector-output", "8", "--json", json.path, "--set", Self.variant])
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as! [String: Any]
        let intervention = (doc["config"] as! [String: Any])["intervention"] as? [String: Any]
        #expect(intervention?["kind"] as? String == "background-swap" && intervention?["hardNegatives"] as? Bool == true)
        let mean = ((doc["metrics"] as! [[String: Any]]).first?["mean"] as? [String: Double]) ?? [:]
        #expect(mean["hard_neg_sim"].map { $0.isFinite && abs($0) <= 1 } == true, "\(mean)")
        let rows = doc["evaluations"] as! [[String: Any]]
        #expect(rows.count == 20 && rows.allSatisfy { (0...1).contains($0["top1"] as! Double) })

        let byol = try Executables.run("backdrop", ["train", "--data", tinyDataset, "--no-cache", "--method", "byol", "--set", Self.variant])
        #expect(byol.status != 0 && byol.stderr.contains("hardNegatives") && byol.stderr.contains("no negatives"), "\(byol.stderr)")
        #expect(!byol.stderr.contains("epoch 1/"))
    }

    @Test func mocoWithHardNegativesResumesLikeAnUninterruptedRun() throws {
        var c = tinyConfig(method: .mocov2)
        c.methodOptions.queueSize = 16
        c.train.epochs = 2
        c.intervention = BackgroundIntervention(kind: .swap, probability: 0.5, hardNegatives: true)
        c.evaluation.testViews = [.full, .mixedRandom]
        c.evaluation.probeViews = [.trainView]
        let whole = try TrainingCell.run(c)
        #expect(whole.stepsRun == 8 && whole.evaluations.count == 4)
        #expect(whole.metrics.allSatisfy { $0.mean["hard_neg_sim"]?.isFinite == true })

        let checkpoints = temporaryDirectory("hn-resume")
        defer { try? FileManager.default.removeItem(at: checkpoints) }
        var interrupted = c
        interrupted.train.checkpointEverySteps = 1   // stop mid-epoch, at a checkpoint
        #expect(throws: TrainingInterrupted.self) { _ = try TrainingCell.run(interrupted, checkpointDirectory: checkpoints.path, stepLimit: 3) }
        let resumed = try TrainingCell.run(interrupted, checkpointDirectory: checkpoints.path)
        #expect(resumed.resumed && resumed.stepsRun == 5)
        #expect(resumed.metrics.map { $0.mean["loss"] } == whole.metrics.map { $0.mean["loss"] })
        #expect(resumed.evaluations.map(\.top1) == whole.evaluations.map(\.top1))

        // The hard negatives changed what was trained on.
        let plain = try TrainingCell.run({ var p = c; p.intervention?.hardNegatives = false; return p }())
        #expect(plain.metrics[0].mean["hard_neg_sim"] == nil && plain.metrics[0].mean["loss"] != whole.metrics[0].mean["loss"])
    }
}
