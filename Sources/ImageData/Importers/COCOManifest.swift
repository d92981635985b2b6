import Foundation

/// `ROOT/manifest.json` of a COCO import: the settings, the fixed class list both splits share,
/// and per split the images kept per class and every image skipped with its reason.
///
/// ```json
/// {"format": "backdrop-coco-import-v1",
///  "settings": {"minAreaFraction": 0.1, "classes": "all", "foreground": "mask"},
///  "classes": [{"folder": "cat", "name": "cat", "categoryID": 17, "images": 2}, …],
///  "splits": {"train": {"annotations": "…/instances_train2017.json", "images": "…/train2017",
///                       "counts": {"cat": 2, …}, "kept": 5,
///                       "skipped": [{"imageID": 4, "file": "t4.jpg", "reason": "too-small", "detail": "…"}]}}}
/// ```
/// `classes` is in rank order (most images first, ties by category id), fixed by the first split
/// imported (`images` counts that split) and reused by the second.
public struct COCOManifest: Codable, Equatable, Sendable {
    public static let formatName = "backdrop-coco-import-v1"

    public struct Settings: Codable, Equatable, Sendable {
        public var minAreaFraction: Double
        /// `all` or the number N of most frequent categories kept.
        public var classes: String
        /// `mask` or `box`.
        public var foreground: String
    }

    public struct ClassEntry: Codable, Equatable, Sendable {
        /// The class folder name (the sanitized category name).
        public var folder: String
        /// The COCO category name.
        public var name: String
        public var categoryID: Int
        /// Images this category labels in the split that fixed the list.
        public var images: Int
    }

    public struct Skipped: Codable, Equatable, Sendable {
        public var imageID: Int
        public var file: String
        /// One of `COCOSkipReason`'s raw values.
        public var reason: String
        public var detail: String
    }

    public struct Split: Codable, Equatable, Sendable {
        public var annotations: String
        public var images: String
        /// Images written per class folder.
        public var counts: [String: Int]
        public var kept: Int
        public var skipped: [Skipped]
    }

    public var format: String
    public var settings: Settings
    public var classes: [ClassEntry]
    public var splits: [String: Split]

    /// Reads `path`, or nil when there is no such file.
    /// - Throws: `COCOImportError.outputConflict` when the file is not a COCO import manifest.
    public static func read(path: String) throws -> COCOManifest? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            let m = try JSONDecoder().decode(COCOManifest.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
            guard m.format == formatName else { throw COCOImportError.outputConflict(path: path, problem: "format \(m.format) is not \(formatName)") }
            return m
        } catch let e as COCOImportError {
            throw e
        } catch {
            throw COCOImportError.outputConflict(path: path, problem: "not a COCO import manifest (\(error)); import into an empty folder or remove the file")
        }
    }

    /// Writes the manifest as sorted, pretty-printed JSON.
    public func write(path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            try encoder.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw COCOImportError.writeFailed(path: path, reason: (error as NSError).localizedDescription)
        }
    }
}

/// Why an image of the annotations file is not in the dataset folder.
public enum COCOSkipReason: String, Codable, CaseIterable, Sendable {
    /// No non-crowd annotation with a segmentation.
    case noObject = "no-object"
    /// The largest object covers less than `minAreaFraction` of the image.
    case tooSmall = "too-small"
    /// The image file is not in the images folder.
    case missingFile = "missing-file"
    /// The largest object's category is not among the kept classes.
    case classNotKept = "class-not-kept"
    /// The largest object's mask covers no pixel once rasterized (a degenerate polygon).
    case emptyMask = "empty-mask"
}
