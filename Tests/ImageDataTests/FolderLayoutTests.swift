import Foundation
import Testing
import TestSupport
@testable import ImageData

/// The mask-optional layouts: plain `<split>/<class>/<file>`, `images/` without `masks/`, and
/// `unlabeled/`; what `check` says about masks, and when `load` refuses a split without them.
@Suite struct FolderLayoutTests {
    /// A 4×4 image whose colour encodes `(class, index)`.
    static func image(_ c: Int, _ i: Int) -> Image { Image(width: 4, height: 4, filledWith: (UInt8(40 * c), UInt8(10 * i), 7)) }

    /// `<root>/<split>/<class>/<n>.png` for classes a, b and two images each.
    static func writePlain(_ root: String, splits: [String] = ["train", "test"]) throws {
        for split in splits {
            for (c, cls) in ["a", "b"].enumerated() {
                try makeDirectory("\(root)/\(split)/\(cls)")
                for i in 0..<2 { try PNGCodec.write(image(c, i), to: "\(root)/\(split)/\(cls)/img\(i).png") }
            }
        }
    }

    @Test func plainLayoutLoadsWithAllForegroundMasksWhenMasksAreNotRequired() throws {
        try withTemporaryDirectory { url in let root = url.path
            try Self.writePlain(root)
            let layout = try DatasetLayout.scan(root: root)
            #expect(layout.splits["train"]?.layout == .plain)
            #expect(layout.classes == ["a", "b"])
            #expect(layout.splits["train"]?.samples.allSatisfy { $0.maskPath == nil } == true)
            #expect(layout.splitsWithoutMasks(maskFormat: .binary) == ["train", "test"])
            let split = try Dataset.load(root: root, split: "train", options: DatasetOptions(size: 4, requireMasks: false))
            #expect(split.labels == [0, 0, 1, 1] && !split.hasMasks)
            #expect(split.image(at: 3) == Self.image(1, 1))
            #expect(split.masks.bytes.allSatisfy { $0 == 255 })
        }
    }

    @Test func aSplitWithoutMasksIsRefusedWhenMasksAreRequiredNamingTheSplitAndTheFix() throws {
        try withTemporaryDirectory { url in let root = url.path
            try Self.writePlain(root)
            do {
                _ = try Dataset.load(root: root, split: "test", options: DatasetOptions(size: 4))
                Issue.record("loaded a split without masks although masks are required")
            } catch let e as ImageDataError {
                let text = "\(e)"
                #expect(text.contains("split `test` has no masks") && text.contains("plain layout") && text.contains("full"))
                #expect(text.contains("masks/<class>/<image stem>.png"))
            }
        }
    }

    @Test func checkReportsWhichImagesHaveMasks() throws {
        try withTemporaryDirectory { url in let root = url.path
            try Self.writePlain(root)
            let plain = try Dataset.check(root: root)
            #expect(plain.isClean, "\(plain.text)")
            #expect(plain.masks["train"] == MaskCoverage(layout: .plain, masked: 0))
            #expect(plain.text.contains("masks: none (plain layout"))
            #expect(plain.text.contains("only the `full` view"))
        }
        try withTemporaryDirectory { url in let root = url.path
            let good: [UInt8] = (0..<16).map { $0 < 8 ? 255 : 0 }
            for split in ["train", "test"] {
                try DatasetCheckTests.writeSample(root, split, "a", "x.png", mask: good)
                try DatasetCheckTests.writeSample(root, split, "a", "y.png", mask: split == "train" ? nil : good)
            }
            let report = try Dataset.check(root: root)
            #expect(report.masks["train"] == MaskCoverage(layout: .masked, masked: 1))
            #expect(report.masks["test"] == MaskCoverage(layout: .masked, masked: 2))
            #expect(report.text.contains("masks: 1 of 2 images") && report.text.contains("masks: all 2 images"))
            #expect(report.errors.contains { $0.kind == .missingMask && $0.path.hasSuffix("train/masks/a/y.png") })
        }
    }

    @Test func imagesWithoutAMasksFolderAreAnImagesOnlySplit() throws {
        try withTemporaryDirectory { url in let root = url.path
            for split in ["train", "test"] {
                try makeDirectory("\(root)/\(split)/images/a")
                try PNGCodec.write(Self.image(0, 0), to: "\(root)/\(split)/images/a/x.png")
            }
            let layout = try DatasetLayout.scan(root: root)
            #expect(layout.splits["test"]?.layout == .imagesOnly)
            #expect(try Dataset.check(root: root).isClean)
            #expect(throws: ImageDataError.self) { try Dataset.load(root: root, split: "train", options: DatasetOptions(size: 4)) }
        }
    }

    @Test func maskFilesAreNamedByTheImageStemWhateverTheImageExtension() throws {
        try withTemporaryDirectory { url in let root = url.path
            try makeDirectory("\(root)/train/images/a")
            try makeDirectory("\(root)/train/masks/a")
            try Data("x".utf8).write(to: URL(fileURLWithPath: "\(root)/train/images/a/photo_12.JPG"))
            let layout = try DatasetLayout.scan(root: root)
            #expect(layout.splits["train"]?.samples.map(\.maskPath) == ["\(root)/train/masks/a/photo_12.png"])
        }
    }

    @Test func unlabeledImagesFormAnUnlabeledSplitWithoutClasses() throws {
        try withTemporaryDirectory { url in let root = url.path
            try Self.writePlain(root)
            try makeDirectory("\(root)/unlabeled")
            for i in 0..<3 { try PNGCodec.write(Self.image(2, i), to: "\(root)/unlabeled/u\(i).png") }
            try Data("notes".utf8).write(to: URL(fileURLWithPath: "\(root)/unlabeled/README.txt"))
            let layout = try DatasetLayout.scan(root: root)
            #expect(layout.classes == ["a", "b"])
            #expect(layout.splits["unlabeled"]?.samples.count == 3)
            let split = try Dataset.load(root: root, split: "unlabeled", options: DatasetOptions(size: 4, requireMasks: false))
            #expect(split.labels == [-1, -1, -1])
            #expect(split.image(at: 2) == Self.image(2, 2))
            let report = try Dataset.check(root: root)
            #expect(report.text.contains("unlabeled: 3 images; no classes"))
            #expect(report.warnings.contains { $0.kind == .strayFile && $0.path.hasSuffix("README.txt") })
        }
    }
}
