import Foundation
import Testing
import TestSupport
@testable import ImageData

/// `check` on a folder with one defect of each kind, and the load policies.
@Suite struct DatasetCheckTests {
    static func writeSample(_ root: String, _ split: String, _ cls: String, _ name: String, mask: [UInt8]?, size: Int = 4) throws {
        try makeDirectory("\(root)/\(split)/images/\(cls)")
        try makeDirectory("\(root)/\(split)/masks/\(cls)")
        try PNGCodec.write(Image(width: size, height: size, filledWith: (90, 120, 150)), to: "\(root)/\(split)/images/\(cls)/\(name)")
        if let mask {
            try PNGCodec.writeGray(mask, width: size, height: size, to: "\(root)/\(split)/masks/\(cls)/\(name)")
        }
    }

    static let good: [UInt8] = (0..<16).map { $0 < 8 ? 255 : 0 }

    /// A clean two-class dataset plus one defect per sample name in `train/cat`.
    static func defective(_ root: String) throws {
        for split in ["train", "test"] {
            try writeSample(root, split, "cat", "ok.png", mask: good)
            try writeSample(root, split, "dog", "ok.png", mask: good)
        }
        try writeSample(root, "train", "cat", "missing_mask.png", mask: nil)
        try writeSample(root, "train", "cat", "empty.png", mask: [UInt8](repeating: 0, count: 16))
        try writeSample(root, "train", "cat", "full.png", mask: [UInt8](repeating: 255, count: 16))
        try writeSample(root, "train", "cat", "odd_values.png", mask: (0..<16).map { $0 < 8 ? 255 : 7 })
        try writeSample(root, "train", "cat", "wrong_size.png", mask: nil)
        try PNGCodec.writeGray([UInt8](repeating: 255, count: 9), width: 3, height: 3, to: "\(root)/train/masks/cat/wrong_size.png")
        try Data("not a png".utf8).write(to: URL(fileURLWithPath: "\(root)/train/images/cat/corrupt.png"))
        let valid = try PNGCodec.encode(Image(width: 4, height: 4, filledWith: (1, 2, 3)))
        try Data(valid.prefix(valid.count - 20)).write(to: URL(fileURLWithPath: "\(root)/train/images/dog/truncated.png"))
        try PNGCodec.writeGray(good, width: 4, height: 4, to: "\(root)/train/masks/dog/truncated.png")
        try writeSample(root, "train", "bird", "only_in_train.png", mask: good)
    }

    @Test func findsEveryDefectInOnePass() throws {
        try withTemporaryDirectory { url in let root = url.path
            try Self.defective(root)
            let report = try Dataset.check(root: root)
            func has(_ kind: DatasetIssue.Kind, _ fragment: String, _ severity: DatasetIssue.Severity = .error) -> Bool {
                report.issues.contains { $0.kind == kind && $0.path.contains(fragment) && $0.severity == severity }
            }
            #expect(has(.missingMask, "missing_mask.png"))
            #expect(has(.emptyMask, "empty.png"))
            #expect(has(.fullMask, "full.png", .warning))
            #expect(has(.unknownMaskValues, "odd_values.png"))
            #expect(has(.maskSizeMismatch, "wrong_size.png"))
            #expect(has(.unreadableImage, "corrupt.png"))
            #expect(has(.unreadableImage, "truncated.png"))
            #expect(has(.missingClass, "test/images/bird"))
            #expect(report.errors.count == 7, "\(report.text)")
            #expect(report.warnings.count == 1)
            #expect(!report.isClean)
            #expect(report.text.contains("7 error(s), 1 warning(s)"))
            #expect(report.counts["train"]?["cat"] == 7)
        }
    }

    @Test func failPolicyStopsAndSkipPolicyCounts() throws {
        try withTemporaryDirectory { url in let root = url.path
            try Self.defective(root)
            #expect(throws: ImageDataError.self) { try Dataset.load(root: root, split: "train", options: DatasetOptions(size: 4)) }
            let split = try Dataset.load(root: root, split: "train", options: DatasetOptions(size: 4, onBadSample: .skip))
            // Good: cat/ok, cat/full (warning only), dog/ok, bird/only_in_train.
            #expect(split.count == 4)
            #expect(split.skippedCount == 6)
            #expect(split.classes == ["bird", "cat", "dog"])
            #expect(split.memoryBytes >= 4 * 16 * 4)
        }
    }

    @Test func cleanFolderLoadsAndResizes() throws {
        try withTemporaryDirectory { url in let root = url.path
            for split in ["train", "test"] {
                for cls in ["b", "a"] { try Self.writeSample(root, split, cls, "x.png", mask: (0..<64).map { $0 < 32 ? 255 : 0 }, size: 8) }
            }
            #expect(try Dataset.check(root: root).isClean)
            let split = try Dataset.load(root: root, split: "test", options: DatasetOptions(size: 4))
            #expect(split.classes == ["a", "b"] && split.labels == [0, 1])
            #expect(split.image(at: 0) == Image(width: 4, height: 4, filledWith: (90, 120, 150)))
            #expect(split.mask(at: 0).weights == (0..<16).map { $0 < 8 ? 255 : 0 })
        }
    }

    @Test func alphaFormatReadsMasksFromAlpha() throws {
        try withTemporaryDirectory { url in let root = url.path
            for split in ["train", "test"] {
                try makeDirectory("\(root)/\(split)/images/c")
                let alpha: [UInt8] = (0..<16).map { $0 % 4 < 2 ? 255 : 0 }
                try PNGCodec.write(Image(width: 4, height: 4, rgb: [UInt8](repeating: 50, count: 48), alpha: alpha), to: "\(root)/\(split)/images/c/a.png")
                try PNGCodec.write(Image(width: 4, height: 4, filledWith: (1, 1, 1)), to: "\(root)/\(split)/images/c/opaque.png")
            }
            let report = try Dataset.check(root: root, maskFormat: .alpha)
            #expect(report.errors.count == 2 && report.errors.allSatisfy { $0.kind == .missingMask && $0.path.hasSuffix("opaque.png") })
            let split = try Dataset.load(root: root, split: "train", options: DatasetOptions(size: 4, maskFormat: .alpha, onBadSample: .skip))
            #expect(split.mask(at: 0).weights == (0..<16).map { $0 % 4 < 2 ? 255 : 0 })
        }
    }

    @Test func missingRootAndSplitAreErrors() throws {
        #expect(throws: ImageDataError.self) { try Dataset.check(root: "/nonexistent/dataset") }
        try withTemporaryDirectory { url in let root = url.path
            try Self.writeSample(root, "train", "a", "x.png", mask: Self.good)
            let report = try Dataset.check(root: root)
            #expect(report.errors.contains { $0.kind == .missingSplit && $0.path.contains("test") })
        }
    }
}
