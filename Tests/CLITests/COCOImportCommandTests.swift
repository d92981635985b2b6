import Foundation
import TestSupport
import Testing

/// `backdrop dataset import coco` end to end on the fixture of scripts/fixtures/make_coco_fixture.py:
/// import both splits, `dataset check`, one epoch of `backdrop train` on the result; and the
/// errors a user sees for bad input.
@Suite(.serialized, .enabled(if: Executables.url("backdrop") != nil, "the backdrop executable is not built"))
struct COCOImportCommandTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../ImageDataTests/Fixtures/coco").standardized.path

    /// Imports the fixture's train and test splits into `root` with `extra` options.
    static func importFixture(into root: String, _ extra: [String] = []) throws -> [Executables.Result] {
        try ["train", "test"].map { split in
            try Executables.run("backdrop", ["dataset", "import", "coco", "--annotations", "\(fixture)/annotations/instances_\(split).json",
                                             "--images", "\(fixture)/\(split)", "--split", split, "--out", root] + extra)
        }
    }

    @Test func importCheckAndTrainOneEpoch() throws {
        let dir = temporaryDirectory("coco")
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = dir.appendingPathComponent("coco").path
        let imports = try Self.importFixture(into: root)
        for r in imports { #expect(r.status == 0, "\(r.stderr)") }
        #expect(imports[0].stdout.contains("train: 5 images in 3 classes") && imports[0].stdout.contains("skipped too-small: 1"), "\(imports[0].stdout)")
        #expect(imports[0].stderr.contains("imported 5/5 images"))
        #expect(imports[1].stdout.contains("test: 3 images in 3 classes") && imports[1].stdout.contains("skipped class-not-kept: 1"))

        let check = try Executables.run("backdrop", ["dataset", "check", root])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")

        let json = dir.appendingPathComponent("run.json")
        let train = try Executables.run("backdrop", ["train", "--data", root, "--no-cache", "--width", "4", "--epochs", "1", "--batch-size", "4",
                                                     "--image-size", "32", "--projector-hidden", "16", "--projector-output", "8",
                                                     "--train-view", "foreground-crop", "--quiet", "--json", json.path,
                                                     "--set", "evaluation.testViews=[full, foreground, foreground-crop, only-background]",
                                                     "--set", "evaluation.probe.maxIterations=50"])
        #expect(train.status == 0, "\(train.stderr)")
        guard train.status == 0 else { return }
        let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as! [String: Any]
        let rows = doc["evaluations"] as! [[String: Any]]
        #expect(Set(rows.map { $0["test_view"] as! String }) == ["full", "foreground", "foreground-crop", "only-background"])
        #expect(Set(rows.map { $0["probe_view"] as! String }).contains("foreground-crop"), "the train-view probe is fitted on foreground-crop")
        #expect(rows.allSatisfy { ($0["n"] as? Int) == 3 && (0...1).contains($0["top1"] as! Double) })
    }

    @Test func badInputIsAClearErrorNotACrash() throws {
        let dir = temporaryDirectory("coco-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("instances_broken.json")
        try #"{"images": [], "annotations": [}"#.write(to: bad, atomically: true, encoding: .utf8)
        let r = try Executables.run("backdrop", ["dataset", "import", "coco", "--annotations", bad.path, "--images", Self.fixture + "/train",
                                                 "--split", "train", "--out", dir.appendingPathComponent("out").path])
        #expect(r.status == 1)
        #expect(r.stderr.contains("instances_broken.json") && r.stderr.contains("malformed"), "\(r.stderr)")

        let classes = try Executables.run("backdrop", ["dataset", "import", "coco", "--annotations", bad.path, "--images", Self.fixture + "/train",
                                                       "--split", "train", "--out", dir.path, "--classes", "many"])
        #expect(classes.status == 64 && classes.stderr.contains("--classes many"), "\(classes.stderr)")

        let images = try Executables.run("backdrop", ["dataset", "import", "coco", "--annotations", bad.path, "--images", dir.appendingPathComponent("nope").path,
                                                      "--split", "train", "--out", dir.appendingPathComponent("out").path])
        #expect(images.status == 1 && images.stderr.contains("--images"), "\(images.stderr)")
    }
}
