import Foundation

/// Options of one `dataset import coco` run (one split).
public struct COCOImportOptions: Sendable, Equatable {
    /// Which categories become classes.
    public enum Classes: Sendable, Equatable, CustomStringConvertible {
        /// Every category that labels at least one kept image of the first split imported.
        case all
        /// The N categories that label the most kept images of the first split imported (ties by
        /// category id).
        case top(Int)

        /// Parses `all` or a positive integer.
        public init(parsing text: String) throws {
            if text.lowercased() == "all" { self = .all; return }
            guard let n = Int(text), n >= 1 else {
                throw COCOImportError.invalidOption(name: "--classes", value: text, fix: "use `all` or a positive number of most frequent categories")
            }
            self = .top(n)
        }

        public var description: String {
            switch self { case .all: "all"; case let .top(n): "\(n)" }
        }
    }

    /// What the mask of a kept image is.
    public enum Foreground: String, Sendable, Equatable, CaseIterable {
        /// The largest object's segmentation.
        case mask
        /// Its filled bounding box (`COCOMasks.boxMask`).
        case box
    }

    /// `train`, `test` or `val`: the split folder written under the output root.
    public var split: String
    public var minAreaFraction: Double = 0.1
    public var classes: Classes = .all
    public var foreground: Foreground = .mask

    public init(split: String, minAreaFraction: Double = 0.1, classes: Classes = .all, foreground: Foreground = .mask) {
        self.split = split
        self.minAreaFraction = minAreaFraction
        self.classes = classes
        self.foreground = foreground
    }

    /// - Throws: `COCOImportError.invalidOption` naming the option.
    public func validate() throws {
        guard ["train", "test", "val"].contains(split) else {
            throw COCOImportError.invalidOption(name: "--split", value: split, fix: "use train or test (or val)")
        }
        guard minAreaFraction.isFinite, minAreaFraction >= 0, minAreaFraction <= 1 else {
            throw COCOImportError.invalidOption(name: "--min-area-fraction", value: "\(minAreaFraction)", fix: "use a fraction between 0 and 1")
        }
    }

    var settings: COCOManifest.Settings {
        COCOManifest.Settings(minAreaFraction: minAreaFraction, classes: classes.description, foreground: foreground.rawValue)
    }
}

/// Turns one split of a COCO download into a dataset folder split:
/// `ROOT/<split>/images/<class>/<stem>.<ext>` (hard link or copy of the source image) and
/// `ROOT/<split>/masks/<class>/<stem>.png` (8-bit gray, 0 / 255), plus `ROOT/manifest.json`.
///
/// Each image is labelled with its largest non-crowd object (by the annotation's `area`, ties by
/// the smaller annotation id). Images are never decoded: their sizes come from the JSON.
public enum COCOImporter {
    /// A kept image before it is written.
    struct Candidate {
        var image: COCOImage
        var annotation: COCOAnnotation
    }

    /// Imports `annotationsPath` (an `instances_<split>.json`) with the images in `imagesDir` into
    /// `root`. `progress(done, total)` is called as images are written.
    /// - Returns: the manifest as written.
    /// - Throws: `COCOImportError` (bad options, malformed or inconsistent JSON, bad segmentations,
    ///   a split already imported, settings that differ from the first import, write failures).
    @discardableResult
    public static func run(annotations annotationsPath: String, images imagesDir: String, root: String,
                           options: COCOImportOptions, progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> COCOManifest {
        try options.validate()
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: imagesDir, isDirectory: &isDir), isDir.boolValue else {
            throw COCOImportError.invalidOption(name: "--images", value: imagesDir, fix: "pass the folder holding the split's image files (e.g. train2017/)")
        }
        let manifestPath = (root as NSString).appendingPathComponent("manifest.json")
        let existing = try COCOManifest.read(path: manifestPath)
        if let m = existing {
            guard m.settings == options.settings else {
                throw COCOImportError.outputConflict(path: manifestPath, problem: "the first import used --min-area-fraction \(m.settings.minAreaFraction) "
                    + "--classes \(m.settings.classes) --foreground \(m.settings.foreground); import \(options.split) with the same options, or into another folder")
            }
        }
        let splitDir = (root as NSString).appendingPathComponent(options.split)
        if FileManager.default.fileExists(atPath: splitDir) || existing?.splits[options.split] != nil {
            throw COCOImportError.outputConflict(path: splitDir, problem: "split \(options.split) is already there; remove the folder (and run both imports again) to re-import it")
        }

        let instances = try COCOInstances.load(path: annotationsPath)
        var (candidates, skipped) = try select(instances, path: annotationsPath, imagesDir: imagesDir, options: options)

        let classes = try existing?.classes ?? rankClasses(candidates, categories: instances.categories, limit: options.classes)
        let folderOf = Dictionary(uniqueKeysWithValues: classes.map { ($0.categoryID, $0.folder) })
        var kept: [(Candidate, String)] = []
        for c in candidates {
            if let folder = folderOf[c.annotation.categoryID] {
                kept.append((c, folder))
            } else {
                let name = instances.categories.first { $0.id == c.annotation.categoryID }?.name ?? "?"
                skipped.append(.init(imageID: c.image.id, file: c.image.fileName, reason: COCOSkipReason.classNotKept.rawValue,
                                     detail: "largest object is a \(name) (category \(c.annotation.categoryID)), not one of the \(classes.count) kept classes"))
            }
        }
        candidates = []

        let written = try write(kept, imagesDir: imagesDir, splitDir: splitDir, path: annotationsPath, options: options, progress: progress)
        skipped += written.skipped
        var counts: [String: Int] = [:]
        for folder in written.folders { counts[folder, default: 0] += 1 }
        var manifest = existing ?? COCOManifest(format: COCOManifest.formatName, settings: options.settings, classes: classes, splits: [:])
        manifest.splits[options.split] = COCOManifest.Split(
            annotations: annotationsPath, images: imagesDir, counts: counts, kept: written.folders.count,
            skipped: skipped.sorted { ($0.reason, $0.imageID) < ($1.reason, $1.imageID) })
        try manifest.write(path: manifestPath)
        return manifest
    }

    /// Checks every annotation's references and shape, picks each image's largest non-crowd object
    /// and sorts out the images without one, with too small a one, or without a file.
    static func select(_ instances: COCOInstances, path: String, imagesDir: String,
                       options: COCOImportOptions) throws -> ([Candidate], [COCOManifest.Skipped]) {
        var imageIndex: [Int: Int] = [:]
        for (i, image) in instances.images.enumerated() {
            guard imageIndex.updateValue(i, forKey: image.id) == nil else {
                throw COCOImportError.malformed(path: path, position: "images[\(i)].id", problem: "image id \(image.id) appears twice")
            }
            guard image.width >= 1, image.height >= 1, image.width * image.height <= 1 << 28 else {
                throw COCOImportError.malformed(path: path, position: "images[\(i)]", problem: "invalid size \(image.width)×\(image.height)")
            }
        }
        let categoryIDs = Set(instances.categories.map(\.id))
        var best: [Int: COCOAnnotation] = [:]
        for a in instances.annotations {
            guard let i = imageIndex[a.imageID] else { throw COCOImportError.unknownImage(path: path, annotation: a.id, imageID: a.imageID) }
            guard categoryIDs.contains(a.categoryID) else { throw COCOImportError.unknownCategory(path: path, annotation: a.id, categoryID: a.categoryID) }
            try checkShape(a, image: instances.images[i], path: path)
            guard !a.isCrowd, a.segmentation != nil || options.foreground == .box else { continue }
            if let b = best[a.imageID], (b.area, -b.id) >= (a.area, -a.id) { continue }
            best[a.imageID] = a
        }
        var candidates: [Candidate] = [], skipped: [COCOManifest.Skipped] = []
        for image in instances.images {
            func skip(_ reason: COCOSkipReason, _ detail: String) {
                skipped.append(.init(imageID: image.id, file: image.fileName, reason: reason.rawValue, detail: detail))
            }
            guard let a = best[image.id] else { skip(.noObject, "no non-crowd annotation"); continue }
            let fraction = a.area / Double(image.width * image.height)
            guard fraction >= options.minAreaFraction else {
                skip(.tooSmall, String(format: "largest object (annotation %d) covers %.4f of the image, below %g", a.id, fraction, options.minAreaFraction))
                continue
            }
            guard FileManager.default.fileExists(atPath: (imagesDir as NSString).appendingPathComponent(image.fileName)) else {
                skip(.missingFile, "\(image.fileName) is not in \(imagesDir)")
                continue
            }
            candidates.append(Candidate(image: image, annotation: a))
        }
        return (candidates, skipped)
    }

    /// The cheap structural checks run on every annotation: polygons of even length, uncompressed
    /// RLE of the image's size whose counts sum to height × width.
    static func checkShape(_ a: COCOAnnotation, image: COCOImage, path: String) throws {
        switch a.segmentation {
        case let .polygons(polygons):
            for (i, p) in polygons.enumerated() where p.count % 2 != 0 {
                throw COCOImportError.badSegmentation(path: path, annotation: a.id, problem: "polygon \(i) has an odd number of coordinates (\(p.count)); a polygon is [x0, y0, x1, y1, …]")
            }
        case let .rle(counts, h, w):
            do {
                try COCOMasks.checkSize(h: h, w: w, width: image.width, height: image.height)
                try COCOMasks.checkCounts(counts, width: image.width, height: image.height)
            } catch let e as COCOMaskError {
                throw COCOImportError.badSegmentation(path: path, annotation: a.id, problem: e.problem)
            }
        case .compressedRLE, nil:
            break
        }
    }

    /// The class list: categories ranked by the number of candidates they label (most first,
    /// ties by category id), cut to `limit`.
    static func rankClasses(_ candidates: [Candidate], categories: [COCOCategory], limit: COCOImportOptions.Classes) throws -> [COCOManifest.ClassEntry] {
        var count: [Int: Int] = [:]
        for c in candidates { count[c.annotation.categoryID, default: 0] += 1 }
        let names = Dictionary(categories.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        var ranked = count.keys.sorted { (-count[$0]!, $0) < (-count[$1]!, $1) }
        if case let .top(n) = limit { ranked = Array(ranked.prefix(n)) }
        var seen: [String: Int] = [:]
        return try ranked.map { id in
            let folder = folderName(names[id] ?? "", id: id)
            if let other = seen.updateValue(id, forKey: folder) {
                throw COCOImportError.outputConflict(path: folder, problem: "categories \(other) and \(id) both become the class folder `\(folder)`; rename one in the annotations file")
            }
            return COCOManifest.ClassEntry(folder: folder, name: names[id] ?? "", categoryID: id, images: count[id]!)
        }
    }

    /// A category name as a class folder name: every character outside `A–Z a–z 0–9 . _ -`
    /// becomes `_` (`traffic light` → `traffic_light`); a name that ends up empty or starting
    /// with `.` becomes `category_<id>`.
    public static func folderName(_ name: String, id: Int) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        let s = String(name.map { allowed.contains($0) ? $0 : "_" })
        return s.isEmpty || s.hasPrefix(".") ? "category_\(id)" : s
    }
}
