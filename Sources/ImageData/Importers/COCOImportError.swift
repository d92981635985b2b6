import Foundation

/// Every failure of the COCO importer. Each message names the file, the annotation or the field,
/// and says how to fix it.
public enum COCOImportError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The annotations file could not be read.
    case unreadable(path: String, reason: String)
    /// The annotations file is not valid JSON, or a field has the wrong type; `position` says where
    /// (a JSON path such as `annotations[3].segmentation`, or the parser's line and column).
    case malformed(path: String, position: String, problem: String)
    /// An annotation refers to an image id the file's `images` list does not hold.
    case unknownImage(path: String, annotation: Int, imageID: Int)
    /// An annotation refers to a category id the file's `categories` list does not hold.
    case unknownCategory(path: String, annotation: Int, categoryID: Int)
    /// An annotation's segmentation cannot be decoded (odd polygon, RLE of the wrong length, ...).
    case badSegmentation(path: String, annotation: Int, problem: String)
    /// An option has a value that cannot be used.
    case invalidOption(name: String, value: String, fix: String)
    /// The output folder cannot take this import (split already there, settings differ, ...).
    case outputConflict(path: String, problem: String)
    /// Writing an output file failed.
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "\(path): cannot read the annotations file (\(reason)); pass the instances_<split>.json of a COCO download"
        case let .malformed(path, position, problem):
            return "\(path): malformed COCO annotations at \(position): \(problem); pass an unmodified instances_<split>.json"
        case let .unknownImage(path, annotation, imageID):
            return "\(path): annotation \(annotation) refers to image_id \(imageID), which is not in `images`; the file is inconsistent — re-download it"
        case let .unknownCategory(path, annotation, categoryID):
            return "\(path): annotation \(annotation) refers to category_id \(categoryID), which is not in `categories`; the file is inconsistent — re-download it"
        case let .badSegmentation(path, annotation, problem):
            return "\(path): annotation \(annotation) has a bad segmentation: \(problem); fix or remove that annotation"
        case let .invalidOption(name, value, fix):
            return "\(name) \(value) is not valid; \(fix)"
        case let .outputConflict(path, problem):
            return "\(path): \(problem)"
        case let .writeFailed(path, reason):
            return "\(path): cannot write (\(reason)); check that the output folder is writable and has space"
        }
    }
}
