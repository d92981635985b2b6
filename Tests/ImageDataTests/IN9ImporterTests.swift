import Foundation
import Testing
import TestSupport
@testable import ImageData

/// `IN9Importer` on the tiny IN-9 tree of `Fixtures/in9` (`scripts/fixtures/make_in9_fixture.py`):
/// 3 classes × 5 originals (32 × 32 `.JPEG`, as IN-9 ships them), one image without a mask, one mask of the wrong shape, one of an
/// unsupported dtype, two images per class in each variant.
@Suite struct IN9ImporterTests {
    static let classes = ["00_dog", "01_bird", "02_wheeled vehicle"]

    @Test func importsOriginalsWithMasksAndEveryVariant() throws {
        try withTemporaryDirectory { dir in
            let out = dir.appendingPathComponent("in9").path
            let manifest = try IN9Importer.run(root: Fixtures.path("in9"), out: out)
            #expect(manifest.classes == Self.classes)
            #expect(manifest.splitSource == "split-val" && manifest.seed == 0 && manifest.testFraction == 0.3)
            // 5, 4 and 3 usable images: round(0.3 n) clamped to 1…n−1 go to test.
            #expect(manifest.counts["train"] == ["00_dog": 3, "01_bird": 3, "02_wheeled vehicle": 2])
            #expect(manifest.counts["test"] == ["00_dog": 2, "01_bird": 1, "02_wheeled vehicle": 1])
            #expect(Set(manifest.testSets.keys) == Set(IN9Importer.variants.map(IN9Importer.testSetName(of:))))
            #expect(manifest.testSets["in9-mixed-rand"] == ["00_dog": 2, "01_bird": 2, "02_wheeled vehicle": 2])
            #expect(manifest.missingVariants.isEmpty)

            let reasons = Dictionary(uniqueKeysWithValues: manifest.skipped.map { (($0.path as NSString).lastPathComponent, $0.reason) })
            #expect(reasons.count == 3, "\(manifest.skipped)")
            #expect(reasons["bird_4.JPEG"]?.contains("no foreground mask") == true)
            #expect(reasons["vehicle_3.JPEG"]?.contains("mask shape (16, 16) does not fit the 32×32 image") == true)
            #expect(reasons["vehicle_4.JPEG"]?.contains("'<i4' is not supported") == true)

            // The output is a clean masked dataset whose masks are 0/255 and match the source masks.
            let report = try Dataset.check(root: out)
            #expect(report.isClean, "\(report.text)")
            #expect(report.classes == Self.classes)
            let masks = try FileManager.default.subpathsOfDirectory(atPath: out + "/train/masks").filter { $0.hasSuffix(".png") }
            #expect(masks.count == 8)
            let dog0 = try NPYReader.read(contentsOf: Fixtures.path("in9/fg_mask/val/00_dog/dog_0.npy")).binaryMask(width: 32, height: 32, path: "")
            let written = [out + "/train/masks/00_dog/dog_0.png", out + "/test/masks/00_dog/dog_0.png"].first { FileManager.default.fileExists(atPath: $0) }
            let png = try PNGCodec.decode(contentsOf: try #require(written))
            #expect(png.rgb.enumerated().filter { $0.offset % 3 == 0 }.map(\.element) == dog0)
            #expect(FileManager.default.fileExists(atPath: out + "/testsets/in9-only-bg-t/02_wheeled vehicle/vehicle_0.JPEG"))

            let json = try JSONDecoder().decode(IN9Manifest.self, from: Data(contentsOf: URL(fileURLWithPath: out + "/manifest.json")))
            #expect(json == manifest)
        }
    }

    @Test func theSplitIsDeterministicPerSeed() throws {
        try withTemporaryDirectory { dir in
            func testFiles(_ seed: UInt64, _ name: String) throws -> [String] {
                let out = dir.appendingPathComponent(name).path
                try IN9Importer.run(root: Fixtures.path("in9"), out: out, seed: seed)
                return try FileManager.default.subpathsOfDirectory(atPath: out + "/test/images").sorted()
            }
            let a = try testFiles(0, "a"), b = try testFiles(0, "b")
            #expect(a == b)
            let others = try (1...6).map { try testFiles(UInt64($0), "s\($0)") }
            #expect(others.contains { $0 != a }, "six other seeds all gave seed 0's split")
        }
    }

    /// With `original/train` (IN-9's training data) present, it is the train split and all of
    /// `original/val` the test split; train masks come from `fg_mask/train`.
    @Test func usesATrainFolderWhenThereIsOne() throws {
        try withTemporaryDirectory { dir in
            let root = dir.appendingPathComponent("release").path
            try FileManager.default.copyItem(atPath: Fixtures.path("in9"), toPath: root)
            try FileManager.default.copyItem(atPath: root + "/original/val", toPath: root + "/original/train")
            try FileManager.default.copyItem(atPath: root + "/fg_mask/val", toPath: root + "/fg_mask/train")
            try FileManager.default.removeItem(atPath: root + "/fg_mask/train/00_dog/dog_0.npy")
            let manifest = try IN9Importer.run(root: root, out: dir.appendingPathComponent("out").path)
            #expect(manifest.splitSource == "train-folder")
            #expect(manifest.counts["train"] == ["00_dog": 4, "01_bird": 4, "02_wheeled vehicle": 3])
            #expect(manifest.counts["test"] == ["00_dog": 5, "01_bird": 4, "02_wheeled vehicle": 3])
            #expect(manifest.skipped.contains { $0.path.hasSuffix("original/train/00_dog/dog_0.JPEG") && $0.reason.contains("fg_mask/train/00_dog/dog_0.npy") })
        }
    }

    @Test func refusesAMissingOriginalFolderAndANonEmptyOutput() throws {
        try withTemporaryDirectory { dir in
            do {
                try IN9Importer.run(root: dir.path, out: dir.appendingPathComponent("o").path)
                Issue.record("imported a folder without original/val")
            } catch {
                #expect("\(error)".contains("original/val") && "\(error)".contains("not found"), "\(error)")
            }
            try "x".write(to: dir.appendingPathComponent("file"), atomically: true, encoding: .utf8)
            do {
                try IN9Importer.run(root: Fixtures.path("in9"), out: dir.path)
                Issue.record("imported into a non-empty folder")
            } catch {
                #expect("\(error)".contains("not an empty folder"), "\(error)")
            }
            #expect(throws: ImageDataError.self) { try IN9Importer.run(root: Fixtures.path("in9"), out: dir.path + "/x", testFraction: 1) }
        }
    }
}

/// The importer reads an image's size from its PNG or JPEG header (no decoding).
@Suite struct ImageHeaderTests {
    @Test func readsPNGAndJPEGSizes() throws {
        #expect(try ImageHeader.size(of: Fixtures.path("headers/size_5x3.JPEG")) == (5, 3))
        #expect(try ImageHeader.size(of: Fixtures.path("headers/size_7x2_progressive.jpg")) == (7, 2))
        #expect(try ImageHeader.size(of: Fixtures.path("in9/original/val/00_dog/dog_0.JPEG")) == (32, 32))
        #expect(try ImageHeader.size(of: Fixtures.path("in9-reference/00_dog/dog_0_original.png")) == (32, 32))
        #expect(throws: ImageDataError.self) { try ImageHeader.size(of: Fixtures.path("npy/f4_c_v1.npy")) }
    }
}
