import Evaluation
import Foundation
import ImageData
import ResultsStore
import TestSupport
import Testing
@testable import Harness

/// Named test sets (`evaluation.testSets`): decoded and hashed with the spec, checked against the
/// dataset's classes before training, evaluated beside the test views.
@Suite(.serialized) struct TestSetTests {
    /// A copy of the tiny dataset's `test/images` (plain layout `<class>/<file>.png`).
    static func testSetFolder(_ dir: URL, dropping: String? = nil, adding: String? = nil) throws -> String {
        let folder = dir.appendingPathComponent("set").path
        try FileManager.default.copyItem(atPath: tinyDataset + "/test/images", toPath: folder)
        if let dropping { try FileManager.default.removeItem(atPath: folder + "/" + dropping) }
        if let adding { try FileManager.default.copyItem(atPath: folder + "/" + tinyClasses[0], toPath: folder + "/" + adding) }
        return folder
    }

    static var tinyClasses: [String] { (try? DatasetLayout.scan(root: tinyDataset).classes) ?? [] }

    static func spec(_ sets: String) -> String {
        "name: sets\ndataset: {folder: \(tinyDataset)}\nevaluation:\n  testSets: \(sets)\n"
    }

    @Test func decodesHashesAndPutsTheContentIntoTheConfigHash() throws {
        try withTemporaryDirectory { dir in
            let folder = try Self.testSetFolder(dir)
            let spec = try ExperimentSpec.parse(Self.spec("{in9-mixed-rand: \(folder)}"), source: "s.yaml")
            let sets = try #require(spec.evaluation.testSets)
            #expect(sets.map(\.name) == ["in9-mixed-rand"] && sets[0].folder == folder)
            #expect(sets[0].sha256 == (try DatasetFiles.sha256(root: folder)))
            let before = spec.cells()[0].configSHA256
            #expect(spec.cells()[0].configJSON.contains(sets[0].sha256))

            // An edited set is another configuration.
            let first = try #require(FileManager.default.subpaths(atPath: folder)?.sorted().first { $0.hasSuffix(".png") })
            try Data([1, 2, 3]).write(to: URL(fileURLWithPath: folder + "/" + first))
            let edited = try ExperimentSpec.parse(Self.spec("{in9-mixed-rand: \(folder)}"), source: "s.yaml")
            #expect(edited.cells()[0].configSHA256 != before)

            // Without test sets the stored configuration has no testSets key (old hashes hold).
            let plain = try ExperimentSpec.parse("name: sets\ndataset: {folder: \(tinyDataset)}\n", source: "s.yaml")
            #expect(!plain.cells()[0].configJSON.contains("testSets"))
        }
    }

    @Test(arguments: [
        ("{in9-x: /nonexistent/set}", "evaluation.testSets.in9-x", "is not a folder"),
        ("{full: FOLDER}", "evaluation.testSets.full", "names a view"),
        ("{'a.b': FOLDER}", "evaluation.testSets.a.b", "letters, digits"),
        ("[FOLDER]", "evaluation.testSets", "expected a mapping"),
    ])
    func refusesBadTestSets(sets: String, key: String, message: String) throws {
        try withTemporaryDirectory { dir in
            let folder = try Self.testSetFolder(dir)
            do {
                _ = try ExperimentSpec.parse(Self.spec(sets.replacingOccurrences(of: "FOLDER", with: folder)), source: "s.yaml")
                Issue.record("accepted \(sets)")
            } catch let e as SpecError {
                #expect(e.key == key && e.message.contains(message), "\(e)")
                #expect(e.location.hasPrefix("s.yaml:"), "\(e)")
            }
        }
    }

    @Test(arguments: [(true, false), (false, true)])
    func aMissingOrExtraClassIsRefusedBeforeTraining(drop: Bool, add: Bool) throws {
        try withTemporaryDirectory { dir in
            let classes = Self.tinyClasses
            let folder = try Self.testSetFolder(dir, dropping: drop ? classes[1] : nil, adding: add ? "zebra" : nil)
            var config = tinyConfig()
            config.evaluation.testSets = [TestSet(name: "in9-mixed-rand", folder: folder, sha256: "x")]
            let sink = MemoryMetricSink()
            do {
                _ = try TrainingCell.run(config, sink: sink)
                Issue.record("trained with a test set whose classes differ")
            } catch {
                let text = "\(error)"
                #expect(text.contains(folder) && text.contains("in9-mixed-rand"), "\(text)")
                #expect(drop ? text.contains("missing class folders `\(classes[1])`") : text.contains("does not have `zebra`"), "\(text)")
            }
            #expect(sink.records.isEmpty, "training ran before the test set was checked")
        }
    }

    @Test func testSetRowsSitBesideTheTestViews() throws {
        try withTemporaryDirectory { dir in
            let folder = try Self.testSetFolder(dir)
            var config = tinyConfig()
            config.evaluation.testViews = [.full, .onlyBackgroundTiled]
            config.evaluation.testSets = [TestSet(name: "in9-mixed-rand", folder: folder, sha256: "x")]
            let result = try TrainingCell.run(config)
            let views = Set(result.evaluations.map(\.testView))
            #expect(views == ["full", "only-background-tiled", "in9-mixed-rand"])
            let set = result.evaluations.filter { $0.testView == "in9-mixed-rand" }
            // Probe views full and foreground (train view full), linear and kNN each.
            #expect(set.count == 4 && Set(set.map(\.probeView)) == ["full", "foreground"])
            #expect(set.allSatisfy { $0.n == 16 && $0.split == "test" })
            // The set holds the test split's images, so under the same probe it scores like the full view.
            for p in ["linear", "knn"] {
                let a = set.first { $0.probeView == "full" && $0.evaluationProtocol.rawValue == p }?.top1
                let b = result.evaluations.first { $0.testView == "full" && $0.probeView == "full" && $0.evaluationProtocol.rawValue == p }?.top1
                #expect(a != nil && a == b, "\(p): test set \(String(describing: a)) vs full view \(String(describing: b))")
            }
        }
    }
}

/// `backdrop reproduce` refuses a test set whose classes differ from the dataset's before any cell runs.
@Suite struct TestSetReproductionTests {
    @Test func aMismatchedSetStopsTheReproductionBeforeAnyCell() throws {
        try withTemporaryDirectory { dir in
            let classes = TestSetTests.tinyClasses
            let folder = try TestSetTests.testSetFolder(dir, dropping: classes[2])
            let spec = dir.appendingPathComponent("s.yaml").path
            try (TestSetTests.spec("{in9-no-fg: \(folder)}") + "model: {width: 4}\ntrain: {epochs: 1, batchSize: 8}\n")
                .write(toFile: spec, atomically: true, encoding: .utf8)
            var options = MatrixRunner.Options(specPath: spec)
            options.databasePath = dir.appendingPathComponent("r.sqlite").path
            options.resultsDirectory = dir.appendingPathComponent("Results").path
            do {
                _ = try MatrixRunner(options: options, log: { _ in }).run()
                Issue.record("the reproduction ran with a test set missing a class")
            } catch let e as SpecError {
                #expect(e.key == "evaluation.testSets.in9-no-fg" && e.location == spec, "\(e)")
                #expect(e.message.contains("missing class folders `\(classes[2])`") && e.message.contains(folder), "\(e)")
            }
            let ran = FileManager.default.fileExists(atPath: options.databasePath) ? try ResultsDatabase(path: options.databasePath).experiments() : []
            #expect(ran.isEmpty, "an experiment was recorded: \(ran)")
        }
    }
}

/// A test set is packed into the dataset cache like a split, and decoded again when a file changes.
@Suite struct TestSetCacheTests {
    final class Lines { var all: [String] = [] }

    @Test func aTestSetIsPackedThenMappedAndAnEditIsDecodedAgain() throws {
        try withTemporaryDirectory { dir in
            let folder = try TestSetTests.testSetFolder(dir)
            var options = DatasetOptions()
            options.cacheDirectory = dir.appendingPathComponent("cache").path
            let classes = TestSetTests.tinyClasses
            let lines = Lines()
            func load() throws -> DatasetSplit {
                try Dataset.loadTestSet(name: "in9-x", folder: folder, classes: classes, options: options) { lines.all.append($0) }
            }
            let first = try load(), second = try load()
            #expect(lines.all.count == 2 && lines.all[0].hasPrefix("decoded testset-in9-x split: 16 images"), "\(lines.all)")
            #expect(lines.all.last?.contains("mapped from the packed cache") == true && lines.all.last?.contains("testset-in9-x-") == true, "\(lines.all)")
            let plain = try Dataset.loadTestSet(name: "in9-x", folder: folder, classes: classes)
            #expect(second.count == plain.count && second.labels == plain.labels && second.name == "test")
            #expect((0..<plain.count).allSatisfy { second.image(at: $0) == plain.image(at: $0) && first.image(at: $0) == plain.image(at: $0) })

            let names = try #require(FileManager.default.subpaths(atPath: folder)?.filter { $0.hasSuffix(".png") }.sorted())
            try Data(contentsOf: URL(fileURLWithPath: folder + "/" + names.last!)).write(to: URL(fileURLWithPath: folder + "/" + names[0]))
            _ = try load()
            #expect(lines.all.count == 3 && lines.all[2].hasPrefix("decoded testset-in9-x split"), "an edited set was read from the stale pack: \(lines.all)")
        }
    }
}
