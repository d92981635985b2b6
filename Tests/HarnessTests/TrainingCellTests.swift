import Contrastive
import Foundation
import ImageData
import NN
import TestSupport
import Testing
@testable import Harness

/// A tiny built-in dataset (4 classes × 8 train / 4 test images, 32 px), written once per process.
let tinyDataset: String = {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("backdrop-harness-data-\(UUID().uuidString)").path
    _ = try! SceneGenerator.write(SceneParameters(classes: 4, perClass: 8, testPerClass: 4, size: 32, seed: 3), to: dir)
    return dir
}()

func tinyConfig(method: MethodName = .simclr) -> TrainConfig {
    var c = TrainConfig(data: tinyDataset)
    c.method = method
    c.model.width = 4
    c.train.epochs = 1
    c.train.batchSize = 8
    c.methodOptions = MethodOptions(projectorHidden: 16, projectorOutput: 8)
    return c
}

@Suite struct ConfigValidationTests {
    /// Each room names its option; the key path says where it sits in the configuration.
    static let invalid: [(change: String, key: String)] = [
        ("batch", "train.batchSize"), ("temperature", "methodOptions.temperature"), ("queue", "methodOptions.queueSize"),
        ("strata", "iclmsr.strata"), ("strataScale", "iclmsr.strataScale"), ("metaLR", "iclmsr.metaOptimizer.lr"),
        ("epochs", "train.epochs"), ("width", "model.width"), ("lr", "optimizer.lr"), ("warmup", "schedule.warmupEpochs"),
        ("knnT", "evaluation.knn.temperature"), ("testViews", "evaluation.testViews"), ("checkpoint", "train.checkpointEverySteps"),
    ]

    @Test(arguments: invalid)
    func invalidOptionsAreNamedByKey(change: String, key: String) {
        var c = TrainConfig(data: "/nonexistent")
        switch change {
        case "batch": c.train.batchSize = 1
        case "temperature": c.methodOptions.temperature = -0.1
        case "queue": c.methodOptions.queueSize = 64                 // not a SimCLR option
        case "strata": c.iclmsr = ICLMSROptions(strata: 0)
        case "strataScale": c.iclmsr = ICLMSROptions(strataScale: -1)
        case "metaLR": c.iclmsr = ICLMSROptions(metaOptimizer: .sgd(lr: 0))
        case "epochs": c.train.epochs = 0
        case "width": c.model.width = 0
        case "lr": c.optimizer = OptimizerSpec(kind: .sgd, baseLearningRate: -1, weightDecay: 0)
        case "warmup": c.schedule.warmupEpochs = -1
        case "knnT": c.evaluation.knn.temperature = 0
        case "testViews": c.evaluation.testViews = [.full, .full]
        case "checkpoint": c.train.checkpointEverySteps = 0
        default: Issue.record("unknown case \(change)")
        }
        do {
            try c.validate()
            Issue.record("expected \(key) to be rejected")
        } catch let error as InvalidOption {
            #expect(error.key == key, "\(error)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func resolvedStatesMethodDefaults() throws {
        var c = TrainConfig(data: "x")
        c.method = .mocov2
        c.train.batchSize = 64
        c.iclmsr = ICLMSROptions(metaOptimizer: .init(kind: .adam))
        let r = c.resolved(trainImages: 1000)
        #expect(r.optimizer == MoCoV2.recipe.optimizer && r.optimizer?.kind == .sgd)
        #expect(r.train.augmentation == .symmetricWeak)
        #expect(r.methodOptions.queueSize == 960)
        #expect(r.evaluation.probeViews == [.view(.full), .view(.foreground)])
        #expect(r.iclmsr?.metaOptimizer == .adam(lr: 1e-3, weightDecay: 0))
        // The stored configuration speaks the spec's keys.
        let json = r.canonicalJSON()
        for fragment in ["\"train\":{", "\"augmentation\":\"symmetric_weak\"", "\"lr\":", "\"knn\":{\"k\":20", "\"backbone\":\"small-resnet\""] {
            #expect(json.contains(fragment), "\(fragment) missing in \(json)")
        }
        #expect(try JSONDecoder().decode(TrainConfig.self, from: Data(json.utf8)) == r)
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
        #expect(result.evaluations.count == 20)
        for view in ViewKind.standard {
            for p in ["linear", "knn"] {
                let row = result.evaluations.first { $0.testView == view.rawValue && $0.evaluationProtocol.rawValue == p }
                #expect(row != nil, "\(p) row for \(view.rawValue) missing")
                if let row { #expect(row.n == 16 && row.top1 >= 0 && row.top1 <= 1 && row.top5 >= row.top1 && row.probeView == "full") }
                // The fixed foreground probe is there too (the default probe views: train view, full, foreground).
                #expect(result.evaluations.contains { $0.testView == view.rawValue && $0.evaluationProtocol.rawValue == p && $0.probeView == "foreground" })
            }
        }
        #expect(FileManager.default.fileExists(atPath: TrainingCell.checkpointURL(in: checkpoints.path).path))

        // The JSON document of `backdrop train --json`.
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(result)) as! [String: Any]
        #expect(json["config"] is [String: Any] && json["metrics"] is [Any])
        let rows = json["evaluations"] as! [[String: Any]]
        #expect(rows.count == 20 && rows.allSatisfy { $0["protocol"] != nil && $0["test_view"] != nil && $0["top1"] is Double && $0["top5"] is Double })

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
        var c = tinyConfig(method: .byol)
        c.methodOptions.predictorHidden = 8
        c.trainView = .foreground
        c.iclmsr = ICLMSROptions(strata: 2)
        c.evaluation.testViews = [.full, .foreground]
        c.evaluation.probeViews = [.trainView]
        let result = try TrainingCell.run(c)
        #expect(result.evaluations.count == 4 && result.evaluations.allSatisfy { $0.probeView == "foreground" })
        #expect(result.metrics[0].mean.keys.contains { $0.hasPrefix("msr") || $0.contains("meta") || $0.contains("strat") })
    }

    @Test func trainsWithABackgroundIntervention() throws {
        var c = tinyConfig()
        c.intervention = BackgroundIntervention(kind: .swap, probability: 0.5)
        c.evaluation.testViews = [.full, .mixedRandom]
        let swapped = try TrainingCell.run(c)
        let plain = try TrainingCell.run({ var p = c; p.intervention = nil; return p }())
        #expect(swapped.stepsRun == 4 && swapped.config.intervention?.kind == .swap)
        // The intervention changed what was trained on.
        #expect(swapped.metrics[0].mean["loss"] != plain.metrics[0].mean["loss"])
    }

    /// The untrained control evaluates exactly the encoder a trained cell of the same seed starts
    /// from, and trains nothing.
    @Test func untrainedControlTrainsNothing() throws {
        var c = tinyConfig()
        c.control = .untrained
        c.evaluation.testViews = [.full, .foreground]
        c.evaluation.probeViews = [.view(.full)]
        let result = try TrainingCell.run(c)
        #expect(result.stepsRun == 0 && result.metrics.isEmpty && result.trainingSeconds == 0 && !result.resumed)
        #expect(result.evaluations.count == 4)

        // The same rows from the stepper's initial backbone, evaluated by hand.
        let resolved = c.resolved(trainImages: result.trainImages)
        let initial = try TrainingCell.makeStepper(resolved).method.backbone
        let options = DatasetOptions(size: c.imageSize)
        let train = try Dataset.load(root: c.data, split: "train", options: options)
        let test = try Dataset.load(root: c.data, split: "test", options: options)
        let view = ViewOptions(fill: resolved.train.fill, seed: resolved.partnerSeed)
        let rows = try resolved.evaluation.makeEvaluation(trainView: .full)
            .run(backbone: initial, train: ViewRenderer(split: train, options: view, partnerSeed: resolved.partnerSeed),
                 test: ViewRenderer(split: test, options: view, partnerSeed: resolved.partnerSeed), normalization: Normalization(of: train))
        #expect(rows.map(\.top1) == result.evaluations.map(\.top1))
    }

    @Test func badDataIsReportedBeforeTraining() {
        #expect(throws: (any Error).self) { _ = try TrainingCell.run(TrainConfig(data: "/nonexistent/backdrop")) }
        var c = tinyConfig()
        c.train.batchSize = 64
        do { _ = try TrainingCell.run(c); Issue.record("batch larger than the split accepted") } catch let e as InvalidOption {
            #expect(e.key == "train.batchSize")
        } catch { Issue.record("unexpected \(error)") }
    }
}
