import Contrastive
import Foundation
import ImageData
import TestSupport
import Testing
@testable import Harness

/// A tiny built-in dataset (4 classes × 8 train / 4 test images, 32 px), written once per process.
let tinyDataset: String = {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("backdrop-harness-data-\(UUID().uuidString)").path
    _ = try! SceneGenerator.write(SceneParameters(classes: 4, perClass: 8, testPerClass: 4, size: 32, seed: 3), to: dir)
    return dir
}()

func tinyConfig(method: String = "simclr") -> TrainConfig {
    var c = TrainConfig(data: tinyDataset)
    c.method = method
    c.width = 4
    c.epochs = 1
    c.batchSize = 8
    c.methodOptions = MethodOptions(projectorHidden: 16, projectorOutput: 8)
    return c
}

@Suite struct ConfigValidationTests {
    static let invalid: [(change: String, option: String)] = [
        ("method", "--method"), ("batch", "--batch-size"), ("temperature", "--temperature"), ("queue", "--queue-size"),
        ("strata", "--msr-strata"), ("strataScale", "--msr-strata-scale"), ("metaLR", "--msr-meta-lr"), ("view", "--train-view"),
        ("epochs", "--epochs"), ("backbone", "--backbone"), ("lr", "--lr"), ("knnT", "--knn-temperature"),
    ]

    @Test(arguments: invalid)
    func invalidOptionsAreNamed(change: String, option: String) {
        var c = TrainConfig(data: "/nonexistent")
        switch change {
        case "method": c.method = "swav"
        case "batch": c.batchSize = 1
        case "temperature": c.methodOptions.temperature = -0.1
        case "queue": c.methodOptions.queueSize = 64                 // not a SimCLR option
        case "strata": c.regularizer = ICLMSROptions(strata: 0)
        case "strataScale": c.regularizer = ICLMSROptions(strataScale: -1)
        case "metaLR": c.regularizer = ICLMSROptions(metaOptimizer: .sgd(learningRate: 0))
        case "view": c.trainView = "mixed-same"
        case "epochs": c.epochs = 0
        case "backbone": c.backbone = "vit"
        case "lr": c.optimizer = OptimizerSpec(kind: .sgd, baseLearningRate: -1, weightDecay: 0)
        case "knnT": c.evaluation.knnTemperature = 0
        default: Issue.record("unknown case \(change)")
        }
        do {
            try c.validate()
            Issue.record("expected \(option) to be rejected")
        } catch let error as TrainConfig.Invalid {
            #expect(error.option == option, "\(error)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func resolvedStatesMethodDefaults() {
        var c = TrainConfig(data: "x")
        c.method = "mocov2"
        c.batchSize = 64
        let r = c.resolved(trainImages: 1000)
        #expect(r.optimizer == OptimizerSpec.recipe(for: "mocov2"))
        #expect(r.preset == "symmetric_weak")
        #expect(r.methodOptions.queueSize == 960)
        #expect(r.evaluation.probeView == "full")
    }
}

@Suite(.serialized) struct TrainingCellTests {
    @Test func trainsEvaluatesAndResumesEndToEnd() throws {
        let checkpoints = temporaryDirectory("cell")
        defer { try? FileManager.default.removeItem(at: checkpoints) }
        let sink = MemoryMetricSink()
        let result = try TrainingCell.run(tinyConfig(), checkpointDirectory: checkpoints.path, sink: sink)
        #expect(result.trainImages == 32 && result.testImages == 16 && result.classes.count == 4)
        #expect(result.stepsRun == 4 && !result.resumed)
        #expect(result.metrics.count == 1 && result.metrics[0].mean["loss"]?.isFinite == true)
        #expect(result.evaluations.count == 10)
        for view in ViewKind.allCases {
            for p in ["linear", "knn"] {
                let row = result.evaluations.first { $0.testView == view.rawValue && $0.evaluationProtocol.rawValue == p }
                #expect(row != nil, "\(p) row for \(view.rawValue) missing")
                if let row { #expect(row.n == 16 && row.top1 >= 0 && row.top1 <= 1 && row.top5 >= row.top1 && row.probeView == "full") }
            }
        }
        #expect(FileManager.default.fileExists(atPath: TrainingCell.checkpointURL(in: checkpoints.path).path))

        // The JSON document of `backdrop train --json`.
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(result)) as! [String: Any]
        #expect(json["config"] is [String: Any] && json["metrics"] is [Any])
        let rows = json["evaluations"] as! [[String: Any]]
        #expect(rows.count == 10 && rows.allSatisfy { $0["protocol"] != nil && $0["test_view"] != nil && $0["top1"] is Double && $0["top5"] is Double })

        // A second run finds the finished checkpoint: no training, the same evaluation.
        let again = try TrainingCell.run(tinyConfig(), checkpointDirectory: checkpoints.path)
        #expect(again.resumed && again.stepsRun == 0)
        #expect(again.evaluations.map(\.top1) == result.evaluations.map(\.top1))
        #expect(again.metrics == result.metrics)

        // A different configuration refuses the checkpoint.
        var other = tinyConfig()
        other.seed = 5
        #expect(throws: CheckpointError.self) { _ = try TrainingCell.run(other, checkpointDirectory: checkpoints.path) }
    }

    @Test func trainsWithICLMSROnTheForegroundView() throws {
        var c = tinyConfig(method: "byol")
        c.methodOptions.predictorHidden = 8
        c.trainView = "foreground"
        c.regularizer = ICLMSROptions(strata: 2)
        c.evaluation.testViews = ["full", "foreground"]
        let result = try TrainingCell.run(c)
        #expect(result.evaluations.count == 4 && result.evaluations.allSatisfy { $0.probeView == "foreground" })
        #expect(result.metrics[0].mean.keys.contains { $0.hasPrefix("msr") || $0.contains("meta") || $0.contains("strat") })
    }

    @Test func badDataIsReportedBeforeTraining() {
        #expect(throws: (any Error).self) { _ = try TrainingCell.run(TrainConfig(data: "/nonexistent/backdrop")) }
        var c = tinyConfig()
        c.batchSize = 64
        do { _ = try TrainingCell.run(c); Issue.record("batch larger than the split accepted") } catch let e as TrainConfig.Invalid {
            #expect(e.option == "--batch-size")
        } catch { Issue.record("unexpected \(error)") }
    }
}
