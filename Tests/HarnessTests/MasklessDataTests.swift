import Foundation
import ImageData
import ResultsStore
import TestSupport
import Testing
@testable import Harness

/// `tinyDataset` as a plain image folder (`<split>/<class>/<file>`, no masks), plus an
/// `unlabeled/` split of `unlabeled` images taken from the train split.
func plainDataset(_ name: String, unlabeled: Int = 0) throws -> URL {
    let dir = temporaryDirectory(name)
    let fm = FileManager.default
    for split in ["train", "test"] {
        let images = URL(fileURLWithPath: tinyDataset).appendingPathComponent("\(split)/images")
        try fm.copyItem(at: images, to: dir.appendingPathComponent(split))
    }
    if unlabeled > 0 {
        let target = dir.appendingPathComponent("unlabeled")
        try fm.createDirectory(at: target, withIntermediateDirectories: true)
        let train = dir.appendingPathComponent("train")
        var copied = 0
        for cls in try fm.contentsOfDirectory(atPath: train.path).sorted() {
            for file in try fm.contentsOfDirectory(atPath: train.appendingPathComponent(cls).path).sorted() where copied < unlabeled {
                try fm.copyItem(at: train.appendingPathComponent(cls).appendingPathComponent(file), to: target.appendingPathComponent("u-\(file)"))
                copied += 1
            }
        }
    }
    return dir
}

@Suite(.serialized) struct MasklessDataTests {
    static func spec(_ folder: String, _ extra: String = "") -> String {
        """
        name: plain
        dataset: {folder: \(folder)}
        model: {width: 4}
        methodOptions:
          simclr: {projectorHidden: 16, projectorOutput: 8}
        train: {epochs: 1, batchSize: 8}
        evaluation:
          probe: {maxIterations: 30}
        \(extra)
        """
    }

    @Test func viewsLeftAtTheirDefaultsNarrowToFullAndStatedOnesAreRefusedByKey() throws {
        let dir = try plainDataset("fit")
        defer { try? FileManager.default.removeItem(at: dir) }
        let defaults = try ExperimentSpec.parse(Self.spec(dir.path), source: "plain.yaml")
        let fitted = try defaults.fitted(toSplitsWithoutMasks: ["train", "test"], root: dir.path)
        #expect(fitted.trainViews == [.full] && fitted.evaluation.testViews == [.full] && fitted.evaluation.probeViews == [.view(.full)])
        #expect(fitted.cells().allSatisfy { $0.config.maskRequirements().isEmpty })
        #expect(try defaults.fitted(toSplitsWithoutMasks: [], root: dir.path) == defaults)

        let cases: [(extra: String, key: String, what: String)] = [
            ("trainViews: [full, foreground]", "trainViews", "train view `foreground`"),
            ("evaluation: {testViews: [full, mixed-random]}", "evaluation.testViews", "test view `mixed-random`"),
            ("evaluation: {testViews: [full], probeViews: [train-view, foreground]}", "evaluation.probeViews", "probe view `foreground`"),
            ("regularizers: [none, background-swap]", "regularizers", "the `background-swap` intervention"),
        ]
        for c in cases {
            let text = Self.spec(dir.path).replacingOccurrences(of: "evaluation:\n  probe: {maxIterations: 30}\n", with: "") + c.extra
            let spec = try ExperimentSpec.parse(text, source: "plain.yaml")
            do {
                _ = try spec.fitted(toSplitsWithoutMasks: ["train", "test"], root: dir.path)
                Issue.record("\(c.extra) was accepted on a dataset without masks")
            } catch let e as SpecError {
                #expect(e.key == c.key, "\(e)")
                #expect(e.message.contains(c.what) && e.message.contains("needs foreground masks") && e.message.contains("`train` and `test`"), "\(e)")
            }
        }
    }

    @Test func trainOnAPlainFolderTestsTheFullViewAndRefusesAnotherViewBeforeTraining() throws {
        let dir = try plainDataset("train-plain")
        defer { try? FileManager.default.removeItem(at: dir) }
        let cache = dir.appendingPathComponent("cache").path
        let common = ["train", "--data", dir.path, "--width", "4", "--epochs", "1", "--batch-size", "8", "--projector-hidden", "16",
                      "--projector-output", "8", "--cache-dir", cache]
        let r = try Executables.run("backdrop", common + ["--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("linear (full)") && !r.stdout.contains("foreground") && !r.stdout.contains("mixed-random"))
        let refused = try Executables.run("backdrop", common + ["--train-view", "foreground"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("train view `foreground` needs foreground masks"), "\(refused.stderr)")
        #expect(!refused.stderr.contains("training simclr"))
    }

    @Test func aMatrixDecodesEachSplitOnceAndEveryCellMapsThePackedCache() throws {
        let dir = try plainDataset("matrix-plain")
        defer { try? FileManager.default.removeItem(at: dir) }
        let specURL = dir.appendingPathComponent("plain.yaml")
        try Self.spec(dir.path, "seeds: [0, 1]\nregularizers: [none, icl-msr]\n").write(to: specURL, atomically: true, encoding: .utf8)
        let options = runnerOptions(dir, spec: specURL.path)
        let lines = LockedLines()
        let summary = try MatrixRunner(options: options, log: lines.add).run()
        #expect(summary.trained == 4 && summary.failed == 0)
        let all = lines.all
        #expect(all.filter { $0.hasPrefix("decoded train split") }.count == 1, "\(all)")
        #expect(all.filter { $0.hasPrefix("decoded test split") }.count == 1)
        #expect(all.filter { $0.contains("mapped from the packed cache") }.count == 8)
        #expect(try count(options.databasePath, "SELECT COUNT(DISTINCT test_view) FROM evaluations") == 1)
        #expect(try count(options.databasePath, "SELECT COUNT(*) FROM evaluations WHERE test_view = 'full'") == 8)
    }

    @Test func pretrainingOnTheUnlabeledSplitTrainsOnItAndProbesOnTrain() throws {
        let dir = try plainDataset("pretrain", unlabeled: 16)
        defer { try? FileManager.default.removeItem(at: dir) }
        let spec = try ExperimentSpec.parse(Self.spec(dir.path).replacingOccurrences(of: "dataset: {folder: \(dir.path)}",
                                                                                    with: "dataset: {folder: \(dir.path), pretrainSplit: unlabeled}"),
                                            source: "plain.yaml")
        #expect(spec.dataset.pretrainSplit == "unlabeled")
        let cell = try spec.fitted(toSplitsWithoutMasks: ["train", "test"], root: dir.path).cells()[0]
        var config = cell.config
        config.data = dir.path
        let result = try TrainingCell.run(config, datasetOptions: try cell.dataset.options(size: 32))
        #expect(result.trainImages == 16)
        #expect(result.testImages == 16 && !result.evaluations.isEmpty)
        #expect(throws: SpecError.self) {
            try ExperimentSpec.parse(Self.spec(dir.path).replacingOccurrences(of: "dataset: {folder: \(dir.path)}",
                                                                            with: "dataset: {folder: \(dir.path), pretrainSplit: extra}"),
                                     source: "plain.yaml")
        }
    }
}

/// Log lines collected from several threads.
final class LockedLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func add(_ line: String) { lock.lock(); lines.append(line); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
}
