import Foundation

/// What to do with a sample that fails validation (spec field `onBadSample`).
public enum BadSamplePolicy: String, CaseIterable, Codable, Sendable {
    /// Stop before training and list every bad sample (the default).
    case fail
    /// Leave bad samples out and count them (`DatasetSplit.skippedCount`).
    case skip
}

/// How a dataset folder is read (the dataset part of an experiment spec).
public struct DatasetOptions: Sendable {
    /// Output side length in pixels; images and masks are resized to `size × size`.
    public var size: Int
    /// The resampling filter for images and masks alike.
    public var resize: ResizeFilter
    /// How foreground masks are stored.
    public var maskFormat: MaskFormat
    /// What to do with bad samples.
    public var onBadSample: BadSamplePolicy
    /// Whether the caller needs foreground masks (any view but `full`, the interventions, the
    /// epoch diagnostics). `false` lets a split without masks load, every mask then being all
    /// foreground; `true` refuses such a split, naming it.
    public var requireMasks: Bool
    /// The packed cache's folder (`Results/datasets/cache`); nil: decode every time, no cache.
    public var cacheDirectory: String?
    /// A split whose packed pixels and masks exceed this many bytes is read from the mapped cache
    /// file page by page (streamed) instead of being copied into memory.
    public var memoryBudgetBytes: Int
    /// The split the encoder trains on (`dataset.pretrainSplit`, e.g. STL-10's `unlabeled`);
    /// nil: `train`. The probes are always fitted on `train` and tested on `test`.
    public var pretrainSplit: String?

    public init(size: Int = 32, resize: ResizeFilter = .area, maskFormat: MaskFormat = .binary, onBadSample: BadSamplePolicy = .fail,
                requireMasks: Bool = true, cacheDirectory: String? = nil, memoryBudgetBytes: Int = DatasetOptions.defaultMemoryBudget,
                pretrainSplit: String? = nil) {
        self.size = size
        self.resize = resize
        self.maskFormat = maskFormat
        self.onBadSample = onBadSample
        self.requireMasks = requireMasks
        self.cacheDirectory = cacheDirectory
        self.memoryBudgetBytes = memoryBudgetBytes
        self.pretrainSplit = pretrainSplit
    }

    /// A quarter of the machine's physical memory, at most 8 GiB.
    public static var defaultMemoryBudget: Int {
        Int(min(ProcessInfo.processInfo.physicalMemory / 4, 8 << 30))
    }
}

/// One image file of a split and the mask file expected next to it.
public struct SampleFile: Sendable, Equatable {
    public var className: String
    /// Index of `className` in the dataset's sorted class list; -1 in the `unlabeled` split.
    public var label: Int
    public var imagePath: String
    /// `<root>/<split>/masks/<class>/<stem>.png` in the masked layout (may not exist; `check`
    /// says so); nil where the split has no masks (plain layout, `unlabeled`, no `masks/` folder).
    public var maskPath: String?
}

/// How one split is laid out on disk.
public enum SplitLayout: String, Sendable {
    /// `<split>/images/<class>/<file>` with `<split>/masks/<class>/<stem>.png`.
    case masked
    /// `<split>/images/<class>/<file>` without a `masks/` folder: no masks.
    case imagesOnly = "images-only"
    /// `<split>/<class>/<file>`: the plain image-folder layout, no masks.
    case plain
    /// `unlabeled/<file>`: images without classes (pretraining only).
    case unlabeled

    /// Whether samples of this layout carry mask files.
    public var hasMaskFiles: Bool { self == .masked }
}

/// The files of one split (`train`, `test`, `val`, `unlabeled`) as found on disk.
public struct SplitListing: Sendable {
    public var name: String
    public var layout: SplitLayout
    /// Class folders present in the split, sorted (empty for `unlabeled`).
    public var classFolders: [String]
    /// Image files in class order, then file-name order.
    public var samples: [SampleFile]
    /// Mask files with no image, and files that are not images (reported as warnings).
    public var strayFiles: [String]

    /// Samples whose mask file exists (0 without masks).
    public var maskedCount: Int {
        guard layout.hasMaskFiles else { return 0 }
        return samples.filter { $0.maskPath.map { FileManager.default.fileExists(atPath: $0) } ?? false }.count
    }
}

/// A dataset folder. Each split is in one of three layouts (see docs/Datasets.md):
/// `<root>/<split>/{images,masks}/<class>/…` (masks are `<stem>.png` beside an image of any
/// supported format), `<root>/<split>/images/<class>/…` alone, or the plain image folder
/// `<root>/<split>/<class>/<file>`; plus an optional `<root>/unlabeled/<file>` for pretraining.
public struct DatasetLayout: Sendable {
    public var root: String
    /// Union of class folder names over the labelled splits, sorted: the label of a class is its index here.
    public var classes: [String]
    /// Splits present, keyed by name.
    public var splits: [String: SplitListing]

    /// Splits a dataset must have; `val` is optional.
    public static let requiredSplits = ["train", "test"]
    public static let optionalSplits = ["val"]
    /// The split of images without classes (`dataset.pretrainSplit: unlabeled`).
    public static let unlabeledSplit = "unlabeled"

    /// Scans `root`. Throws only when `root` itself is not a readable folder; everything else is
    /// reported by `issues()` so that `check` can list all problems at once.
    public static func scan(root: String) throws -> DatasetLayout {
        guard isDirectory(root) else {
            throw ImageDataError.invalidLayout(path: root, problem: "dataset folder not found; pass the folder that holds train/ and test/")
        }
        var found: [(name: String, layout: SplitLayout, classes: [String], files: [String: [String]], masks: [String: [String]], stray: [String])] = []
        for split in requiredSplits + optionalSplits {
            let imagesDir = join(root, split, "images")
            let layout: SplitLayout
            let classRoot: String
            if isDirectory(imagesDir) {
                layout = isDirectory(join(root, split, "masks")) ? .masked : .imagesOnly
                classRoot = imagesDir
            } else if isDirectory(join(root, split)) {
                layout = .plain
                classRoot = join(root, split)
            } else {
                continue
            }
            let classes = subfolders(classRoot)
            var files: [String: [String]] = [:], masks: [String: [String]] = [:]
            var stray: [String] = []
            for c in classes {
                let all = entries(join(classRoot, c))
                files[c] = all.filter(ImageFile.isImage(name:))
                stray += all.filter { !ImageFile.isImage(name: $0) && !isDirectory(join(classRoot, c, $0)) }.map { join(classRoot, c, $0) }
            }
            if layout == .plain {
                stray += entries(classRoot).filter { !isDirectory(join(classRoot, $0)) }.map { join(classRoot, $0) }
            }
            if layout == .masked {
                for c in subfolders(join(root, split, "masks")) {
                    masks[c] = entries(join(root, split, "masks", c)).filter { $0.lowercased().hasSuffix(".png") }
                }
            }
            found.append((split, layout, classes, files, masks, stray))
        }
        let classes = Set(found.flatMap { $0.classes }).sorted()
        let labelOf = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        var splits: [String: SplitListing] = [:]
        for l in found {
            var samples: [SampleFile] = []
            var stray = l.stray
            let classRoot = l.layout == .plain ? join(root, l.name) : join(root, l.name, "images")
            for c in l.classes {
                let names = l.files[c] ?? []
                for n in names {
                    let mask = l.layout == .masked ? join(root, l.name, "masks", c, ImageFile.stem(of: n) + ".png") : nil
                    samples.append(SampleFile(className: c, label: labelOf[c]!, imagePath: join(classRoot, c, n), maskPath: mask))
                }
                let stems = Set(names.map(ImageFile.stem(of:)))
                stray += (l.masks[c] ?? []).filter { !stems.contains(ImageFile.stem(of: $0)) }.map { join(root, l.name, "masks", c, $0) }
            }
            for (c, m) in l.masks where l.files[c] == nil {
                stray += m.map { join(root, l.name, "masks", c, $0) }
            }
            splits[l.name] = SplitListing(name: l.name, layout: l.layout, classFolders: l.classes, samples: samples, strayFiles: stray.sorted())
        }
        let unlabeledDir = join(root, unlabeledSplit)
        if isDirectory(unlabeledDir) {
            let all = entries(unlabeledDir)
            let samples = all.filter(ImageFile.isImage(name:)).map {
                SampleFile(className: "", label: -1, imagePath: join(unlabeledDir, $0), maskPath: nil)
            }
            let stray = all.filter { !ImageFile.isImage(name: $0) }.map { join(unlabeledDir, $0) }
            splits[unlabeledSplit] = SplitListing(name: unlabeledSplit, layout: .unlabeled, classFolders: [], samples: samples, strayFiles: stray)
        }
        return DatasetLayout(root: root, classes: classes, splits: splits)
    }

    /// The labelled splits present (`train`, `test`, `val`), in that order.
    public var labelledSplits: [SplitListing] {
        (Self.requiredSplits + Self.optionalSplits).compactMap { splits[$0] }
    }

    /// The labelled splits without mask files (every view but `full` needs masks). Empty when
    /// masks come from the images' alpha channel.
    public func splitsWithoutMasks(maskFormat: MaskFormat) -> [String] {
        guard maskFormat.usesMaskFiles else { return [] }
        return labelledSplits.filter { !$0.layout.hasMaskFiles }.map(\.name)
    }

    /// Layout problems: missing required splits, empty classes, class folders missing in a split,
    /// stray files (warnings).
    public func issues(maskFormat: MaskFormat) -> [DatasetIssue] {
        var out: [DatasetIssue] = []
        for split in DatasetLayout.requiredSplits where splits[split] == nil {
            out.append(DatasetIssue(.error, .missingSplit, DatasetLayout.join(root, split),
                                    "split `\(split)` is missing; create \(split)/<class>/<image> (or \(split)/images/<class>/ with masks in \(split)/masks/<class>/)"))
        }
        if classes.isEmpty {
            out.append(DatasetIssue(.error, .missingClass, root, "no class folders found; put images in <split>/<class>/ or <split>/images/<class>/"))
        }
        for listing in labelledSplits {
            let name = listing.name
            let classRoot = listing.layout == .plain ? DatasetLayout.join(root, name) : DatasetLayout.join(root, name, "images")
            for c in classes where !listing.classFolders.contains(c) {
                out.append(DatasetIssue(.error, .missingClass, DatasetLayout.join(classRoot, c),
                                        "class `\(c)` exists in another split but not in `\(name)`; add the folder or remove the class everywhere"))
            }
            for c in listing.classFolders where !listing.samples.contains(where: { $0.className == c }) {
                out.append(DatasetIssue(.error, .missingClass, DatasetLayout.join(classRoot, c),
                                        "class folder has no images (.png, .jpg, .jpeg); add images or remove the folder"))
            }
        }
        for name in splits.keys.sorted() {
            for f in splits[name]!.strayFiles where maskFormat.usesMaskFiles || !f.contains("/masks/") {
                let isMask = f.contains("/masks/")
                out.append(DatasetIssue(.warning, .strayFile, f, isMask ? "mask without an image; it is ignored" : "not an image (.png, .jpg, .jpeg); it is ignored"))
            }
        }
        return out
    }

    static func join(_ parts: String...) -> String {
        parts.dropFirst().reduce(parts[0]) { $0.hasSuffix("/") ? $0 + $1 : $0 + "/" + $1 }
    }

    static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }

    static func entries(_ path: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    static func subfolders(_ path: String) -> [String] {
        entries(path).filter { isDirectory(join(path, $0)) }
    }
}
