import Foundation
import TensorCore

/// What `backdrop dataset import in9` wrote, saved as `OUT/manifest.json` (sorted keys).
public struct IN9Manifest: Codable, Sendable, Equatable {
    /// One source file left out, and why.
    public struct Skipped: Codable, Sendable, Equatable {
        /// The source file (image or mask) as found under the import root.
        public var path: String
        public var reason: String
    }

    /// `backdrop-in9-import-v1`.
    public var format = "backdrop-in9-import-v1"
    /// Class folder names of `original/val`, sorted (the dataset's classes).
    public var classes: [String]
    /// `split-val` (the `val` images split per class by `seed`) or `train-folder`
    /// (`original/train` is the train split, `original/val` the test split).
    public var splitSource: String
    public var testFraction: Double
    public var seed: UInt64
    /// Images per split (`train`, `test`) and class.
    public var counts: [String: [String: Int]]
    /// Images per test set (`in9-mixed-rand`, …) and class.
    public var testSets: [String: [String: Int]]
    /// Variants not found under the root (no test set written).
    public var missingVariants: [String]
    public var skipped: [Skipped]
}

/// Converts the ImageNet-9 Backgrounds Challenge release into a dataset folder.
///
/// Input (`root`): `<variant>/val/<class>/<file>` for the variants `original`, `only_fg`,
/// `only_bg_b`, `only_bg_t`, `mixed_same`, `mixed_rand`, `mixed_next`, `no_fg`, and the
/// foreground masks `fg_mask/val/<class>/<stem>.npy` of the `original` images (class folders
/// `00_dog`, `01_bird`, …, `08_fish`; images `.JPEG`). A mask may be `(H, W)`, `(H, W, 1)` or
/// `(H, W, 3)` of bool, uint8, int64, float32 or float64, thresholded as
/// `NPYArray.binaryMask(width:height:path:)` says.
///
/// Output (`out`, which must not exist or be empty):
/// - `train/` and `test/` in the masked layout: `<split>/images/<class>/<file>` (hard links, or
///   copies across file systems; name and extension kept) and `<split>/masks/<class>/<stem>.png`
///   (8-bit gray, 0/255). IN-9 ships only `val`, so each class's usable images (sorted by name)
///   are shuffled with `SeededRNG(seed:, streams: FNV-1a(class name))` and the first
///   `round(n · testFraction)` — at least 1 and at most n − 1 when n ≥ 2 — form the test split.
///   When `original/train` exists it is the train split (masks under `fg_mask/train`) and
///   `original/val` the test split.
/// - `testsets/in9-<variant, '_' → '-'>/<class>/<file>` (plain layout) for every other variant.
/// - `manifest.json` (`IN9Manifest`): counts, the split seed, and every skipped file with its
///   reason (an image without a mask, a mask of the wrong shape or dtype, a stray file).
public enum IN9Importer {
    public static let variants = ["only_fg", "only_bg_b", "only_bg_t", "mixed_same", "mixed_rand", "mixed_next", "no_fg"]

    /// The test-set name of a variant: `mixed_rand` → `in9-mixed-rand`.
    public static func testSetName(of variant: String) -> String { "in9-" + variant.replacingOccurrences(of: "_", with: "-") }

    /// Imports `root` into `out`.
    /// - Throws: `ImageDataError.invalidLayout` / `.invalidParameter` naming the path or option
    ///   and the fix; per-file problems are skipped and listed in the manifest instead.
    @discardableResult
    public static func run(root: String, out: String, testFraction: Double = 0.3, seed: UInt64 = 0,
                           log: (String) -> Void = { _ in }) throws -> IN9Manifest {
        guard testFraction > 0 && testFraction < 1 else {
            throw ImageDataError.invalidParameter(name: "--test-fraction", value: "\(testFraction)", fix: "use a fraction strictly between 0 and 1, e.g. 0.3")
        }
        let original = DatasetLayout.join(root, "original", "val")
        guard DatasetLayout.isDirectory(original) else {
            throw ImageDataError.invalidLayout(path: original, problem: "not found; pass the folder of the Backgrounds Challenge release that holds original/val/<class>/ and fg_mask/val/<class>/")
        }
        if FileManager.default.fileExists(atPath: out) {
            guard DatasetLayout.isDirectory(out), DatasetLayout.entries(out).isEmpty else {
                throw ImageDataError.invalidLayout(path: out, problem: "already exists and is not an empty folder; remove it or choose another --out")
            }
        }
        let classes = DatasetLayout.subfolders(original)
        guard !classes.isEmpty else {
            throw ImageDataError.invalidLayout(path: original, problem: "holds no class folders; expected original/val/00_dog/, 01_bird/, …")
        }
        var skipped: [IN9Manifest.Skipped] = []
        var counts: [String: [String: Int]] = ["train": [:], "test": [:]]
        let trainFolder = DatasetLayout.join(root, "original", "train")
        let hasTrain = DatasetLayout.isDirectory(trainFolder)
        for c in classes {
            let val = usable(root: root, split: "val", className: c, skipped: &skipped)
            let (train, test): ([Sample], [Sample])
            if hasTrain {
                (train, test) = (usable(root: root, split: "train", className: c, skipped: &skipped), val)
            } else {
                (train, test) = split(val, className: c, testFraction: testFraction, seed: seed)
            }
            for (name, samples) in [("train", train), ("test", test)] {
                for s in samples { try write(s, split: name, className: c, out: out) }
                counts[name]![c] = samples.count
            }
            log("\(c): \(train.count) train, \(test.count) test")
        }
        var testSets: [String: [String: Int]] = [:]
        var missing: [String] = []
        for variant in variants {
            let folder = DatasetLayout.join(root, variant, "val")
            guard DatasetLayout.isDirectory(folder) else { missing.append(variant); continue }
            let name = testSetName(of: variant)
            var perClass: [String: Int] = [:]
            for c in DatasetLayout.subfolders(folder) {
                if !classes.contains(c) {
                    skipped.append(.init(path: DatasetLayout.join(folder, c), reason: "class folder not in original/val; left out of test set \(name)"))
                    continue
                }
                var n = 0
                for file in DatasetLayout.entries(DatasetLayout.join(folder, c)) {
                    let source = DatasetLayout.join(folder, c, file)
                    guard ImageFile.isImage(name: file) else {
                        if !DatasetLayout.isDirectory(source) { skipped.append(.init(path: source, reason: "not an image file (.png, .jpg, .jpeg)")) }
                        continue
                    }
                    try ImportFiles.linkOrCopy(source, to: DatasetLayout.join(out, "testsets", name, c, file))
                    n += 1
                }
                perClass[c] = n
            }
            testSets[name] = perClass
            log("\(name): \(perClass.values.reduce(0, +)) images")
        }
        let manifest = IN9Manifest(classes: classes, splitSource: hasTrain ? "train-folder" : "split-val", testFraction: testFraction, seed: seed,
                                   counts: counts, testSets: testSets, missingVariants: missing, skipped: skipped)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(manifest).write(to: URL(fileURLWithPath: DatasetLayout.join(out, "manifest.json")))
        return manifest
    }

    /// An `original` image with its mask (0/255, the image's size).
    struct Sample {
        var file: String
        var path: String
        var mask: [UInt8]
        var width: Int
        var height: Int
    }

    /// The images of `original/<split>/<class>` that have a usable mask; the others are recorded in `skipped`.
    static func usable(root: String, split: String, className c: String, skipped: inout [IN9Manifest.Skipped]) -> [Sample] {
        let folder = DatasetLayout.join(root, "original", split, c)
        var out: [Sample] = []
        for file in DatasetLayout.entries(folder) {
            let path = DatasetLayout.join(folder, file)
            guard ImageFile.isImage(name: file) else {
                if !DatasetLayout.isDirectory(path) { skipped.append(.init(path: path, reason: "not an image file (.png, .jpg, .jpeg)")) }
                continue
            }
            let maskPath = DatasetLayout.join(root, "fg_mask", split, c, ImageFile.stem(of: file) + ".npy")
            guard FileManager.default.fileExists(atPath: maskPath) else {
                skipped.append(.init(path: path, reason: "no foreground mask (expected \(maskPath))"))
                continue
            }
            do {
                let (w, h) = try ImageHeader.size(of: path)
                let mask = try NPYReader.read(contentsOf: maskPath).binaryMask(width: w, height: h, path: maskPath)
                out.append(Sample(file: file, path: path, mask: mask, width: w, height: h))
            } catch {
                skipped.append(.init(path: path, reason: "\(error)"))
            }
        }
        return out
    }

    /// Splits one class's samples into (train, test) by a seeded shuffle.
    static func split(_ samples: [Sample], className: String, testFraction: Double, seed: UInt64) -> ([Sample], [Sample]) {
        var order = Array(samples.indices)
        var rng = SeededRNG(seed: seed, streams: fnv1a(className))
        if order.count > 1 {
            for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, rng.int(below: i + 1)) }
        }
        let n = samples.count
        let testCount = n < 2 ? 0 : min(max(Int((Double(n) * testFraction).rounded()), 1), n - 1)
        let test = order.prefix(testCount).sorted().map { samples[$0] }
        let train = order.dropFirst(testCount).sorted().map { samples[$0] }
        return (train, test)
    }

    /// 64-bit FNV-1a of `s`'s UTF-8 bytes: a class's split stream that does not depend on the other classes.
    static func fnv1a(_ s: String) -> UInt64 {
        s.utf8.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }

    static func write(_ s: Sample, split: String, className c: String, out: String) throws {
        try ImportFiles.linkOrCopy(s.path, to: DatasetLayout.join(out, split, "images", c, s.file))
        let maskFolder = DatasetLayout.join(out, split, "masks", c)
        try FileManager.default.createDirectory(atPath: maskFolder, withIntermediateDirectories: true)
        let maskPath = DatasetLayout.join(maskFolder, ImageFile.stem(of: s.file) + ".png")
        try PNGCodec.writeGray(s.mask, width: s.width, height: s.height, to: maskPath)
    }
}
