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

    public init(size: Int = 32, resize: ResizeFilter = .area, maskFormat: MaskFormat = .binary, onBadSample: BadSamplePolicy = .fail) {
        self.size = size
        self.resize = resize
        self.maskFormat = maskFormat
        self.onBadSample = onBadSample
    }
}

/// One image file of a split and the mask file expected next to it.
public struct SampleFile: Sendable, Equatable {
    public var className: String
    /// Index of `className` in the dataset's sorted class list.
    public var label: Int
    public var imagePath: String
    /// `<root>/<split>/masks/<class>/<name>.png` (may not exist; `check` says so).
    public var maskPath: String
}

/// The files of one split (`train`, `test`, `val`) as found on disk.
public struct SplitListing: Sendable {
    public var name: String
    /// Class folders present under `<split>/images`, sorted.
    public var classFolders: [String]
    /// Image files in class order, then file-name order.
    public var samples: [SampleFile]
    /// Mask files with no image, and non-PNG files in class folders (reported as warnings).
    public var strayFiles: [String]
}

/// The folder layout `<root>/<split>/{images,masks}/<class>/<name>.png` (see EXPERIMENT.md).
public struct DatasetLayout: Sendable {
    public var root: String
    /// Union of class folder names over all splits, sorted: the label of a class is its index here.
    public var classes: [String]
    /// Splits present, keyed by name.
    public var splits: [String: SplitListing]

    /// Splits a dataset must have; `val` is optional.
    public static let requiredSplits = ["train", "test"]
    public static let optionalSplits = ["val"]

    /// Scans `root`. Throws only when `root` itself is not a readable folder; everything else is
    /// reported by `issues()` so that `check` can list all problems at once.
    public static func scan(root: String) throws -> DatasetLayout {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDir), isDir.boolValue else {
            throw ImageDataError.invalidLayout(path: root, problem: "dataset folder not found; pass the folder that holds train/ and test/")
        }
        var listings: [String: (classes: [String], files: [String: [String]], masks: [String: [String]], stray: [String])] = [:]
        for split in requiredSplits + optionalSplits {
            let imagesDir = join(root, split, "images")
            guard isDirectory(imagesDir) else { continue }
            let classes = subfolders(imagesDir)
            var files: [String: [String]] = [:], masks: [String: [String]] = [:]
            var stray: [String] = []
            for c in classes {
                let all = entries(join(imagesDir, c))
                files[c] = all.filter { $0.lowercased().hasSuffix(".png") }
                stray += all.filter { !$0.lowercased().hasSuffix(".png") && !isDirectory(join(imagesDir, c, $0)) }.map { join(imagesDir, c, $0) }
            }
            let masksDir = join(root, split, "masks")
            for c in subfolders(masksDir) {
                masks[c] = entries(join(masksDir, c)).filter { $0.lowercased().hasSuffix(".png") }
            }
            listings[split] = (classes, files, masks, stray)
        }
        let classes = Set(listings.values.flatMap { $0.classes }).sorted()
        let labelOf = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        var splits: [String: SplitListing] = [:]
        for (split, l) in listings {
            var samples: [SampleFile] = []
            var stray = l.stray
            for c in l.classes {
                let names = l.files[c] ?? []
                for n in names {
                    samples.append(SampleFile(className: c, label: labelOf[c]!,
                                              imagePath: join(root, split, "images", c, n),
                                              maskPath: join(root, split, "masks", c, n)))
                }
                let imageSet = Set(names)
                stray += (l.masks[c] ?? []).filter { !imageSet.contains($0) }.map { join(root, split, "masks", c, $0) }
            }
            for (c, m) in l.masks where l.files[c] == nil {
                stray += m.map { join(root, split, "masks", c, $0) }
            }
            splits[split] = SplitListing(name: split, classFolders: l.classes, samples: samples, strayFiles: stray.sorted())
        }
        return DatasetLayout(root: root, classes: classes, splits: splits)
    }

    /// Layout problems: missing required splits, empty classes, class folders missing in a split,
    /// stray files (warnings).
    public func issues(maskFormat: MaskFormat) -> [DatasetIssue] {
        var out: [DatasetIssue] = []
        for split in DatasetLayout.requiredSplits where splits[split] == nil {
            out.append(DatasetIssue(.error, .missingSplit, DatasetLayout.join(root, split, "images"),
                                    "split `\(split)` is missing; create \(split)/images/<class>/*.png"))
        }
        if classes.isEmpty {
            out.append(DatasetIssue(.error, .missingClass, root, "no class folders found; put images in <split>/images/<class>/"))
        }
        for name in splits.keys.sorted() {
            let listing = splits[name]!
            for c in classes where !listing.classFolders.contains(c) {
                out.append(DatasetIssue(.error, .missingClass, DatasetLayout.join(root, name, "images", c),
                                        "class `\(c)` exists in another split but not in `\(name)`; add the folder or remove the class everywhere"))
            }
            for c in listing.classFolders where !listing.samples.contains(where: { $0.className == c }) {
                out.append(DatasetIssue(.error, .missingClass, DatasetLayout.join(root, name, "images", c),
                                        "class folder has no PNG images; add images or remove the folder"))
            }
            if maskFormat.usesMaskFiles {
                for f in listing.strayFiles {
                    let isMask = f.contains("/masks/")
                    out.append(DatasetIssue(.warning, .strayFile, f, isMask ? "mask without an image; it is ignored" : "not a PNG file; it is ignored"))
                }
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
