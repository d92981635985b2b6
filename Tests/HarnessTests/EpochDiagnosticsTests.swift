import Contrastive
import Evaluation
import Foundation
import ImageData
import NN
import TensorCore
import TestSupport
import Testing
@testable import Harness

/// Collects progress lines.
final class LineCollector: @unchecked Sendable {
    var lines: [String] = []
    var reporter: ProgressReporter { ProgressReporter(interval: 1e9) { [unowned self] in self.lines.append($0) } }
}

/// An ICL-MSR cell on the tiny dataset: 32 train images, batch 8 → 4 steps per epoch.
func diagnosticsConfig(epochs: Int, every: Int?) -> TrainConfig {
    var c = tinyConfig()
    c.iclmsr = ICLMSROptions(strata: 3)
    c.train.epochs = epochs
    c.evaluation.testViews = [.full, .onlyBackground]
    c.evaluation.probeViews = [.view(.full)]
    c.evaluation.epochDiagnostics = every.map { EpochDiagnosticsOptions(every: $0) }
    return c
}

let diagnosticKeys: Set<String> = [EpochDiagnostics.backgroundRelianceKey, EpochDiagnostics.fullAccuracyKey,
                                   EpochDiagnostics.stratumBackgroundKey, EpochDiagnostics.stratumClassKey, EpochDiagnostics.secondsKey]

/// The diagnostic values of a run without the (wall-clock) seconds.
func measured(_ summaries: [EpochSummary]) -> [Int: [String: Double]] {
    var out: [Int: [String: Double]] = [:]
    for s in summaries { if let d = s.diagnostics { out[s.epoch] = d.filter { $0.key != EpochDiagnostics.secondsKey } } }
    return out
}

@Suite(.serialized) struct EpochDiagnosticsTests {
    /// Diagnostics on and off end with the same weights, buffers and optimizer state, bit for bit,
    /// and the same final evaluation; the on run measures after epochs 2 and 3 (every 2, and the last).
    @Test func diagnosticsLeaveTrainingBitIdentical() throws {
        let dir = temporaryDirectory("diag-bits")
        defer { try? FileManager.default.removeItem(at: dir) }
        var results: [CellResult] = []
        var states: [[String: Tensor]] = []
        let sink = MemoryMetricSink()
        for every in [nil, 2] {
            let checkpoints = dir.appendingPathComponent(every == nil ? "off" : "on").path
            let result = try TrainingCell.run(diagnosticsConfig(epochs: 3, every: every), checkpointDirectory: checkpoints,
                                              sink: every == nil ? nil : sink)
            results.append(result)
            states.append(try CheckpointFile.read(TrainingCell.checkpointURL(in: checkpoints)).tensors)
        }
        #expect(states[0].keys.sorted() == states[1].keys.sorted())
        for (name, a) in states[0] {
            #expect(a.scalars.map(\.bitPattern) == states[1][name]!.scalars.map(\.bitPattern), "\(name)")
        }
        #expect(results[0].evaluations == results[1].evaluations)
        #expect(results[0].metrics.allSatisfy { $0.diagnostics == nil })
        #expect(results[1].metrics.map { $0.diagnostics != nil } == [false, true, true])

        // Metric rows: one of each key at the last step of epochs 1 and 2 (0-based).
        let rows = sink.records.filter { $0.key.hasPrefix("diag_") }
        #expect(Set(rows.map(\.key)) == diagnosticKeys)
        for key in diagnosticKeys {
            #expect(rows.filter { $0.key == key }.map { [$0.epoch, $0.step] } == [[1, 7], [2, 11]], "\(key)")
        }
        for r in rows where r.key != EpochDiagnostics.secondsKey { #expect((0...1).contains(r.value), "\(r.key) \(r.value)") }
        // The reliance under the fixed full probe is the final evaluation's linear row of that probe.
        let final = try #require(results[1].metrics.last?.diagnostics)
        let onlyBackground = try #require(results[1].evaluations.first {
            $0.evaluationProtocol == .linear && $0.probeView == "full" && $0.testView == "only-background"
        })
        #expect(abs(final[EpochDiagnostics.backgroundRelianceKey]! - onlyBackground.top1) < 1e-12)
    }

    /// A run interrupted mid-epoch and resumed reports (and logs) the same diagnostics as an
    /// uninterrupted one.
    @Test func resumedRunMeasuresWhatAnUninterruptedOneDoes() throws {
        let dir = temporaryDirectory("diag-resume")
        defer { try? FileManager.default.removeItem(at: dir) }
        var config = diagnosticsConfig(epochs: 2, every: 1)
        config.train.checkpointEverySteps = 3
        let whole = try TrainingCell.run(config, checkpointDirectory: dir.appendingPathComponent("whole").path)

        let split = dir.appendingPathComponent("split").path
        let first = MemoryMetricSink(), second = MemoryMetricSink()
        #expect(throws: TrainingInterrupted.self) { try TrainingCell.run(config, checkpointDirectory: split, sink: first, stepLimit: 6) }
        let resumed = try TrainingCell.run(config, checkpointDirectory: split, sink: second)
        #expect(resumed.resumed)
        #expect(measured(resumed.metrics) == measured(whole.metrics))
        #expect(measured(whole.metrics).keys.sorted() == [0, 1])
        let logged = (first.records + second.records).filter { $0.key.hasPrefix("diag_") && $0.key != EpochDiagnostics.secondsKey }
        var byEpoch: [Int: [String: Double]] = [:]
        for r in logged { byEpoch[r.epoch, default: [:]][r.key] = r.value }
        #expect(byEpoch == measured(whole.metrics))
    }

    /// Without ICL-MSR, or on a folder without `generator.json`, the NMIs are skipped with one line
    /// saying why; the background reliance is still measured.
    @Test func stratumNMIIsSkippedWithAReason() throws {
        var plain = diagnosticsConfig(epochs: 1, every: 1)
        plain.iclmsr = nil
        let lines = LineCollector()
        let result = try TrainingCell.run(plain, progress: lines.reporter)
        #expect(lines.lines.filter { $0.contains("stratum–background NMI skipped: the cell trains without ICL-MSR") }.count == 1, "\(lines.lines)")
        #expect(lines.lines.contains { $0.hasPrefix("epoch 1 diagnostics: only-background") })
        let d = try #require(result.metrics.last?.diagnostics)
        #expect(Set(d.keys) == [EpochDiagnostics.backgroundRelianceKey, EpochDiagnostics.fullAccuracyKey, EpochDiagnostics.secondsKey])

        let config = diagnosticsConfig(epochs: 1, every: 1).resolved(trainImages: 32)
        let train = try Dataset.load(root: tinyDataset, split: "train"), test = try Dataset.load(root: tinyDataset, split: "test")
        let diagnostics = try EpochDiagnostics(options: EpochDiagnosticsOptions(every: 1), stepper: TrainingCell.makeStepper(config),
                                               train: ViewRenderer(split: train), test: ViewRenderer(split: test),
                                               normalization: Normalization(of: train), probe: LinearProbe(),
                                               datasetRoot: temporaryDirectory("no-manifest").path, progress: nil)
        #expect(diagnostics.strataSkipReason?.contains("no generator.json") == true)
        #expect(diagnostics.families == nil)
    }

    @Test func specKeysAreDecodedAndCheckedByName() throws {
        func config(_ assignments: [String]) throws -> TrainConfig {
            try SingleCellSpec(folder: "data", assignments: ["methods=simclr", "trainViews=full", "regularizers=none", "seeds=0"] + assignments).cell.config
        }
        #expect(try config(["evaluation.epochDiagnostics.every=5"]).evaluation.epochDiagnostics == EpochDiagnosticsOptions(every: 5))
        #expect(try config(["evaluation.epochDiagnostics={every: 2, probeView: foreground, images: 100}"]).evaluation.epochDiagnostics
                == EpochDiagnosticsOptions(every: 2, probeView: .foreground, images: 100))
        // Off is absent, so the stored configuration (and its hash) is the one without the key.
        let off = try config(["evaluation.epochDiagnostics.every=0"]), absent = try config([])
        #expect(off.evaluation.epochDiagnostics == nil && off.canonicalJSON() == absent.canonicalJSON())
        for (assignment, key) in [("evaluation.epochDiagnostics.every=-1", "evaluation.epochDiagnostics.every"),
                                  ("evaluation.epochDiagnostics.probeView=foreground", "evaluation.epochDiagnostics.every"),
                                  ("evaluation.epochDiagnostics={every: 1, probeView: sideways}", "evaluation.epochDiagnostics.probeView"),
                                  ("evaluation.epochDiagnostics={every: 1, images: 1}", "evaluation.epochDiagnostics.images"),
                                  ("evaluation.epochDiagnostics={every: 1, image: 10}", "evaluation.epochDiagnostics.image")] {
            #expect { try config([assignment]) } throws: { ($0 as? SpecError)?.key == key }
        }
        var c = TrainConfig(data: "x")
        c.evaluation.epochDiagnostics = EpochDiagnosticsOptions(every: 0)
        #expect { try c.validate() } throws: { ($0 as? InvalidOption)?.key == "evaluation.epochDiagnostics.every" }
        #expect(EpochDiagnosticsOptions(every: 5).isDue(epoch: 4, epochs: 10) && !EpochDiagnosticsOptions(every: 5).isDue(epoch: 5, epochs: 10))
        #expect(EpochDiagnosticsOptions(every: 4).isDue(epoch: 9, epochs: 10))
        #expect(EpochDiagnosticsOptions(every: 1, images: 4).sampleIndices(count: 10) == [0, 2, 5, 7])
    }
}
