import Foundation
import Testing
import TestSupport
@testable import ImageData

/// The packed cache: decoded once, mapped afterwards, identical bytes, invalidated by any file
/// change, rebuilt when damaged, streamed over the memory budget.
@Suite struct PackedCacheTests {
    /// A masked two-class dataset of 6×6 images.
    static func writeDataset(_ root: String) throws {
        for split in ["train", "test"] {
            for (c, cls) in ["a", "b"].enumerated() {
                for i in 0..<3 {
                    let mask: [UInt8] = (0..<36).map { ($0 + i) % 3 == 0 ? 0 : 255 }
                    try makeDirectory("\(root)/\(split)/images/\(cls)")
                    try makeDirectory("\(root)/\(split)/masks/\(cls)")
                    let rgb = (0..<108).map { UInt8(($0 * 7 + c * 50 + i * 13) % 256) }
                    try PNGCodec.write(Image(width: 6, height: 6, rgb: rgb), to: "\(root)/\(split)/images/\(cls)/s\(i).png")
                    try PNGCodec.writeGray(mask, width: 6, height: 6, to: "\(root)/\(split)/masks/\(cls)/s\(i).png")
                }
            }
        }
    }

    final class Lines: @unchecked Sendable {
        var all: [String] = []
        func add(_ s: String) { all.append(s) }
    }

    @Test func theSecondLoadMapsTheCacheAndGivesTheSameBytes() throws {
        try withTemporaryDirectory { url in
            let root = url.appendingPathComponent("data").path, cache = url.appendingPathComponent("cache").path
            try Self.writeDataset(root)
            let plain = try Dataset.load(root: root, split: "train", options: DatasetOptions(size: 4))
            let lines = Lines()
            let options = DatasetOptions(size: 4, cacheDirectory: cache)
            let first = try Dataset.load(root: root, split: "train", options: options, log: lines.add)
            let second = try Dataset.load(root: root, split: "train", options: options, log: lines.add)
            #expect(lines.all.count == 2)
            #expect(lines.all[0].hasPrefix("decoded train split: 6 images"))
            #expect(lines.all[1].contains("mapped from the packed cache"))
            guard case .cache(let path, let streamed) = second.origin else { Issue.record("not read from the cache"); return }
            #expect(!streamed && FileManager.default.fileExists(atPath: path))
            for split in [first, second] {
                #expect(split.pixels == plain.pixels && split.masks == plain.masks)
                #expect(split.labels == plain.labels && split.paths == plain.paths && split.classes == plain.classes)
            }
        }
    }

    @Test func aChangedAddedOrRemovedFileInvalidatesTheCache() throws {
        try withTemporaryDirectory { url in
            let root = url.appendingPathComponent("data").path, cache = url.appendingPathComponent("cache").path
            try Self.writeDataset(root)
            let options = DatasetOptions(size: 4, cacheDirectory: cache)
            func key() throws -> String { try PackedCache.key(root: root, listing: DatasetLayout.scan(root: root).splits["train"]!, options: options) }
            let k0 = try key()
            #expect(try key() == k0)
            _ = try Dataset.load(root: root, split: "train", options: options)
            // Same content, rewritten: the modification time changes the key.
            let file = "\(root)/train/images/a/s0.png"
            try PNGCodec.write(Image(width: 6, height: 6, filledWith: (1, 2, 3)), to: file)
            let k1 = try key()
            #expect(k1 != k0)
            let lines = Lines()
            let changed = try Dataset.load(root: root, split: "train", options: options, log: lines.add)
            #expect(lines.all.first?.hasPrefix("decoded") == true)
            #expect(changed.image(at: 0) == Image(width: 4, height: 4, filledWith: (1, 2, 3)))
            try PNGCodec.write(Image(width: 6, height: 6, filledWith: (9, 9, 9)), to: "\(root)/train/images/a/s9.png")
            try PNGCodec.writeGray([UInt8](repeating: 255, count: 36), width: 6, height: 6, to: "\(root)/train/masks/a/s9.png")
            #expect(try key() != k1)
            #expect(try Dataset.load(root: root, split: "train", options: options).count == 7)
            try FileManager.default.removeItem(atPath: "\(root)/train/masks/a/s9.png")
            #expect(try key() != k1)
            #expect(try PackedCache.key(root: root, listing: DatasetLayout.scan(root: root).splits["train"]!,
                                        options: DatasetOptions(size: 5, cacheDirectory: cache)) != (try key()))
        }
    }

    @Test func aClassAddedToAnotherSplitShiftsTheLabelsAndSoTheKey() throws {
        try withTemporaryDirectory { url in
            let root = url.appendingPathComponent("data").path, cache = url.appendingPathComponent("cache").path
            try Self.writeDataset(root)
            // `skip`: the new class is missing from `test`, a layout error that `fail` would throw.
            let options = DatasetOptions(size: 4, onBadSample: .skip, cacheDirectory: cache)
            let before = try Dataset.load(root: root, split: "test", options: options)
            #expect(before.labels == [0, 0, 0, 1, 1, 1])
            // A class sorting first, in train only: every test label moves up by one.
            try makeDirectory("\(root)/train/images/0first")
            try makeDirectory("\(root)/train/masks/0first")
            try PNGCodec.write(Image(width: 6, height: 6, filledWith: (5, 5, 5)), to: "\(root)/train/images/0first/z.png")
            try PNGCodec.writeGray([UInt8](repeating: 255, count: 36), width: 6, height: 6, to: "\(root)/train/masks/0first/z.png")
            let after = try Dataset.load(root: root, split: "test", options: options)
            #expect(after.labels == [1, 1, 1, 2, 2, 2], "labels read from a stale pack: \(after.labels)")
        }
    }

    @Test func aDamagedCacheFileIsDecodedAgainAndLeftoversAreRemoved() throws {
        try withTemporaryDirectory { url in
            let root = url.appendingPathComponent("data").path, cache = url.appendingPathComponent("cache").path
            try Self.writeDataset(root)
            let options = DatasetOptions(size: 4, cacheDirectory: cache)
            let first = try Dataset.load(root: root, split: "test", options: options)
            guard case .cache(let path, _) = first.origin else { Issue.record("not cached"); return }
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            try bytes.prefix(bytes.count - 5).write(to: URL(fileURLWithPath: path))
            try Data("half".utf8).write(to: URL(fileURLWithPath: path + ".partial-99999"))
            let lines = Lines()
            let again = try Dataset.load(root: root, split: "test", options: options, log: lines.add)
            #expect(lines.all.first?.contains("is unusable") == true && lines.all.first?.contains("does not match") == true)
            #expect(again.pixels == first.pixels)
            #expect(!FileManager.default.fileExists(atPath: path + ".partial-99999"))
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)).count == bytes.count)
        }
    }

    @Test func aSplitOverTheMemoryBudgetIsStreamedFromTheMappedFile() throws {
        try withTemporaryDirectory { url in
            let root = url.appendingPathComponent("data").path, cache = url.appendingPathComponent("cache").path
            try Self.writeDataset(root)
            let inMemory = try Dataset.load(root: root, split: "train", options: DatasetOptions(size: 4, cacheDirectory: cache))
            let streamed = try Dataset.load(root: root, split: "train", options: DatasetOptions(size: 4, cacheDirectory: cache, memoryBudgetBytes: 16))
            guard case .cache(_, let isStreamed) = streamed.origin else { Issue.record("not cached"); return }
            #expect(isStreamed && streamed.pixels.isMapped && !inMemory.pixels.isMapped)
            #expect(streamed.pixels == inMemory.pixels && streamed.masks == inMemory.masks)
            let a = ViewRenderer(split: inMemory), b = ViewRenderer(split: streamed)
            for view in ViewKind.allCases { #expect(a.render(view, sample: 4) == b.render(view, sample: 4)) }
            #expect(streamed.channelStatistics().mean == inMemory.channelStatistics().mean)
        }
    }

    @Test func badSamplesUnderSkipAreRememberedByTheCache() throws {
        try withTemporaryDirectory { url in
            let root = url.appendingPathComponent("data").path, cache = url.appendingPathComponent("cache").path
            try Self.writeDataset(root)
            try Data("not a png".utf8).write(to: URL(fileURLWithPath: "\(root)/train/images/b/broken.png"))
            let options = DatasetOptions(size: 4, onBadSample: .skip, cacheDirectory: cache)
            let first = try Dataset.load(root: root, split: "train", options: options)
            let second = try Dataset.load(root: root, split: "train", options: options)
            guard case .cache = second.origin else { Issue.record("not cached"); return }
            #expect(first.skippedCount == 1 && second.skippedCount == 1)
            #expect(second.issues == first.issues && second.issues.contains { $0.path.hasSuffix("broken.png") })
            #expect(throws: ImageDataError.self) {
                try Dataset.load(root: root, split: "train", options: DatasetOptions(size: 4, cacheDirectory: cache))
            }
        }
    }
}
