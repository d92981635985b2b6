import Contrastive
import Foundation
import NN
import TensorCore
import TestSupport
import Testing
@testable import Harness

/// Seeded random views: batch `(epoch, index)` is a pure function of its address.
struct RandomViews: BatchSource {
    var seed: UInt64 = 7
    var batchesPerEpoch = 4
    var imagesPerBatch = 4
    var size = 8
    func viewPair(epoch: Int, index: Int) -> ViewPair {
        var rng = SeededRNG(seed: seed &+ UInt64(epoch) &* 1_000_003 &+ UInt64(index))
        return ViewPair(view1: .normal([imagesPerBatch, 3, size, size], rng: &rng), view2: .normal([imagesPerBatch, 3, size, size], rng: &rng))
    }
    var fingerprint: String { "RandomViews(\(seed), \(batchesPerEpoch), \(imagesPerBatch), \(size))" }
}

/// A tiny stepper of `method` (width-2 SmallResNet, small heads), optionally with ICL-MSR.
func tinyStepper(method: MethodName, regularizer: ICLMSROptions? = nil, seed: UInt64) throws -> any TrainingStepper {
    var rng = SeededRNG(seed: seed)
    let backbone = SmallResNet(width: 2, rng: &rng)
    var options = MethodOptions(projectorHidden: 8, projectorOutput: 4)
    if method == .mocov2 { options.queueSize = 12 }
    if method == .byol || method == .simsiam { options.predictorHidden = 6 }
    let m = try makeMethod(name: method, backbone: backbone, options: options, seed: seed)
    let optimizer = method.recipe.optimizer.makeOptimizer(m.trainableParameters())
    return try makeTrainingStepper(method: m, optimizer: optimizer, regularizer: regularizer, seed: seed &+ 1)
}

func bitPatterns(_ stepper: any TrainingStepper) -> [String: [UInt32]] {
    Dictionary(uniqueKeysWithValues: stepper.stateTensors().map { ($0.name, $0.tensor.scalars.map(\.bitPattern)) })
}

@Suite(.serialized) struct ResumeTests {
    static let cases: [(MethodName, Bool)] = [(.simclr, false), (.mocov2, false), (.byol, false), (.simsiam, true), (.barlowtwins, false), (.mocov2, true)]

    /// N steps straight vs N/2 steps + checkpoint + restore into freshly built objects (another
    /// seed, so nothing can survive by coincidence) + N/2 steps: every state tensor bit for bit.
    @Test(arguments: cases)
    func resumedRunIsBitIdentical(method: MethodName, withMSR: Bool) throws {
        let regularizer: ICLMSROptions? = withMSR ? ICLMSROptions(strata: 3) : nil
        let source = RandomViews()
        let spec = method.recipe.optimizer
        let epochs = 2, total = epochs * source.batchesPerEpoch
        let schedule = ScheduleSpec().schedule(peak: spec.scaledLearningRate(batchSize: source.imagesPerBatch),
                                               stepsPerEpoch: source.batchesPerEpoch, epochs: epochs)
        let fingerprint = "\(method) \(withMSR)"

        let straight = try tinyStepper(method: method, regularizer: regularizer, seed: 1)
        let straightLoop = try TrainingLoop(stepper: straight, source: source, schedule: schedule, epochs: epochs, configFingerprint: fingerprint)
        let full = try straightLoop.run()
        #expect(full.finished && full.stepsRun == total)

        let dir = temporaryDirectory("resume")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("checkpoint.safetensors")
        let first = try tinyStepper(method: method, regularizer: regularizer, seed: 1)
        let firstLoop = try TrainingLoop(stepper: first, source: source, schedule: schedule, epochs: epochs, configFingerprint: fingerprint)
        let half = try firstLoop.run(stepLimit: total / 2 + 1)      // stops mid-epoch (step 5 of 8)
        #expect(!half.finished && half.position == TrainingPosition(epoch: 1, batchIndex: 1, step: 5))
        try firstLoop.saveCheckpoint(to: url)

        let fresh = try tinyStepper(method: method, regularizer: regularizer, seed: 99)
        #expect(bitPatterns(fresh) != bitPatterns(first))
        let resumedLoop = try TrainingLoop(stepper: fresh, source: source, schedule: schedule, epochs: epochs, configFingerprint: fingerprint)
        try resumedLoop.restore(from: url)
        #expect(resumedLoop.position == half.position)
        let rest = try resumedLoop.run()
        #expect(rest.finished && rest.stepsRun == total - 5)

        let a = bitPatterns(straight), b = bitPatterns(fresh)
        #expect(a.keys.sorted() == b.keys.sorted())
        for name in a.keys.sorted() where a[name] != b[name] {
            Issue.record("\(method)\(withMSR ? "+msr" : ""): state tensor \(name) differs after resume")
        }
        // Epoch means of every metric match too (the EMA τ included: it is a checkpointed buffer).
        #expect(rest.epochs.map(\.mean) == full.epochs.map(\.mean))
        #expect(rest.epochs.map(\.steps) == [4, 4])
    }

    @Test func restoreRefusesAnotherConfiguration() throws {
        let source = RandomViews()
        let schedule = LearningRateSchedule.constant(0.1)
        let loop = try TrainingLoop(stepper: tinyStepper(method: .simclr, seed: 1), source: source, schedule: schedule, epochs: 1,
                                    configFingerprint: "A")
        _ = try loop.run(stepLimit: 1)
        let dir = temporaryDirectory("mismatch")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("c.safetensors")
        try loop.saveCheckpoint(to: url)
        let other = try TrainingLoop(stepper: tinyStepper(method: .simclr, seed: 1), source: source, schedule: schedule, epochs: 1,
                                     configFingerprint: "B")
        #expect(throws: CheckpointError.self) { try other.restore(from: url) }
        var moved = source; moved.seed = 8
        let otherSource = try TrainingLoop(stepper: tinyStepper(method: .simclr, seed: 1), source: moved, schedule: schedule, epochs: 1,
                                           configFingerprint: "A")
        #expect(throws: CheckpointError.self) { try otherSource.restore(from: url) }
        let otherMethod = try TrainingLoop(stepper: tinyStepper(method: .byol, seed: 1), source: source, schedule: schedule, epochs: 1,
                                           configFingerprint: "A")
        #expect(throws: (any Error).self) { try otherMethod.restore(from: url) }
    }

    @Test func aChangedConfigurationIsNamedFieldByField() {
        let saved = #"{"method":"simclr","optimizer":{"lr":0.4,"kind":"lars"},"views":["full","foreground"],"seed":0}"#
        let now = #"{"method":"simclr","optimizer":{"lr":0.1,"kind":"lars"},"views":["full","mixed-random"],"seed":0,"extra":true}"#
        #expect(JSONDifferences.between(saved, now) == [
            .init(path: "extra", old: "(absent)", new: "true"),
            .init(path: "optimizer.lr", old: "0.4", new: "0.1"),
            .init(path: "views[1]", old: "\"foreground\"", new: "\"mixed-random\""),
        ])
        let text = CheckpointError.mismatch(path: "c.safetensors", field: "configuration", checkpoint: saved, run: now).description
        #expect(text == "c.safetensors: checkpoint was written by a different run: its configuration differs: extra is (absent) in the checkpoint "
                + "but true now; optimizer.lr is 0.4 in the checkpoint but 0.1 now; views[1] is \"foreground\" in the checkpoint but "
                + "\"mixed-random\" now; use another --checkpoint-dir or delete the checkpoint to start over")
        // Not JSON (a batch-source fingerprint): both values as they are.
        #expect(CheckpointError.mismatch(path: "c", field: "epochs", checkpoint: "3", run: "4").description.contains("epochs is 3 in the checkpoint but 4 now"))
    }
}

@Suite struct MetricTests {
    @Test func sinkReceivesEveryStepAndEpochMeans() throws {
        let sink = MemoryMetricSink()
        var lines: [String] = []
        let source = RandomViews(batchesPerEpoch: 3)
        let loop = try TrainingLoop(stepper: tinyStepper(method: .simclr, seed: 2), source: source,
                                    schedule: ScheduleSpec().schedule(peak: SimCLR.recipe.optimizer.scaledLearningRate(batchSize: 4),
                                                                      stepsPerEpoch: 3, epochs: 2),
                                    epochs: 2, sink: sink, progress: ProgressReporter(interval: 1e9, write: { lines.append($0) }))
        let outcome = try loop.run()
        let keys = Set(sink.keys)
        for key in ["loss", "lr", "images_per_s", "input_wait_s", "pos_sim", "feature_std", "epoch/loss", "epoch/lr"] {
            #expect(keys.contains(key), "metric \(key) missing; got \(keys.sorted())")
        }
        let losses = sink.records.filter { $0.key == "loss" }
        #expect(losses.map(\.step) == Array(0..<6))
        #expect(losses.map(\.epoch) == [0, 0, 0, 1, 1, 1])
        #expect(losses.allSatisfy { $0.value.isFinite })
        let epochLoss = sink.records.filter { $0.key == "epoch/loss" }
        #expect(epochLoss.map(\.step) == [2, 5])
        #expect(abs(epochLoss[0].value - losses[0..<3].map(\.value).reduce(0, +) / 3) < 1e-9)
        #expect(outcome.epochs.count == 2 && outcome.epochs[1].step == 5)
        // Warm-up starts at 0: the first logged learning rate is the schedule's step 0.
        #expect(sink.records.first { $0.key == "lr" }?.value == 0)
        // With a huge interval: the first step's line and one per epoch end, each with loss, img/s and ETA.
        #expect(lines.count == 3 && lines.allSatisfy { $0.contains("loss") && $0.contains("img/s") && $0.contains("input wait") && $0.contains("ETA") })
        let waits = sink.records.filter { $0.key == "input_wait_s" }
        #expect(waits.map(\.step) == Array(0..<6) && waits.allSatisfy { $0.value >= 0 && $0.value.isFinite })
    }

    @Test func divergenceStopsTheRun() throws {
        let loop = try TrainingLoop(stepper: tinyStepper(method: .simclr, seed: 2), source: RandomViews(),
                                    schedule: .constant(1e30), epochs: 3)
        #expect(throws: TrainingError.self) { _ = try loop.run() }
    }

    @Test func scheduleScalesPer256AndWarmsUp() {
        let spec = OptimizerSpec(kind: .sgd, baseLearningRate: 0.4, weightDecay: 0)
        #expect(spec.scaledLearningRate(batchSize: 128) == 0.2)
        let s = ScheduleSpec(warmupEpochs: 1).schedule(peak: spec.scaledLearningRate(batchSize: 128), stepsPerEpoch: 5, epochs: 4)
        #expect(s == .warmupCosine(baseLR: 0.2, finalLR: 0, warmupStartLR: 0, warmupSteps: 5, totalSteps: 20))
        #expect(ScheduleSpec().warmupSteps(stepsPerEpoch: 10, epochs: 20) == 20)   // 10% of the run
        #expect(ScheduleSpec().warmupSteps(stepsPerEpoch: 10, epochs: 1000) == 100) // capped at 10 epochs
        #expect(ScheduleSpec().warmupSteps(stepsPerEpoch: 1, epochs: 1) == 0)
    }
}
