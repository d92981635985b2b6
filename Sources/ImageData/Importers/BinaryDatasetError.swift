import Foundation

/// Failures of the CIFAR-10, CIFAR-100 and STL-10 importers. Each message names the file, what was
/// expected of it and how to fix it.
public enum BinaryDatasetError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A required file is in neither the given folder nor the archive's subfolder.
    case missingFile(name: String, lookedIn: [String], fix: String)
    /// A record file's length is not a positive whole number of records.
    case wrongLength(path: String, bytes: Int, recordBytes: Int, record: String, fix: String)
    /// An image file and its label file hold different numbers of records.
    case countMismatch(images: String, imageCount: Int, labels: String, labelCount: Int)
    /// A label byte names no class.
    case labelOutOfRange(path: String, record: Int, label: Int, valid: ClosedRange<Int>)
    /// A label-names file has the wrong number of names, or a name unusable as a folder name.
    case badLabelNames(path: String, problem: String)
    /// The output folder already holds files.
    case outputNotEmpty(path: String)
    /// A file could not be read.
    case unreadable(path: String, reason: String)
    /// Writing stopped part-way; `written` images are in `out`, and no manifest was written.
    case writeFailed(out: String, written: Int, total: Int, reason: String)

    public var description: String {
        switch self {
        case let .missingFile(name, lookedIn, fix):
            return "\(name): missing (looked in \(lookedIn.joined(separator: " and "))); \(fix)"
        case let .wrongLength(path, bytes, recordBytes, record, fix):
            let whole = bytes / recordBytes, rest = bytes % recordBytes
            let detail = bytes == 0 ? "the file is empty"
                : "\(whole) whole record(s) and \(rest) byte(s) left over"
            return "\(path): \(bytes) bytes is not a whole number of \(recordBytes)-byte records (\(record)); \(detail). "
                + "The file is truncated or not from the binary distribution; \(fix)"
        case let .countMismatch(images, imageCount, labels, labelCount):
            return "\(labels): \(labelCount) label(s) for the \(imageCount) image(s) of \(images); "
                + "the two files must come from the same download: extract both again"
        case let .labelOutOfRange(path, record, label, valid):
            return "\(path): record \(record) has label \(label), outside \(valid.lowerBound)...\(valid.upperBound); "
                + "the file is damaged or belongs to another dataset: download it again"
        case let .badLabelNames(path, problem):
            return "\(path): \(problem); restore the file from the original archive"
        case let .outputNotEmpty(path):
            return "\(path): the output folder is not empty; choose a new folder or delete this one first"
        case let .unreadable(path, reason):
            return "\(path): cannot read the file (\(reason)); check that it exists and is readable"
        case let .writeFailed(out, written, total, reason):
            return "\(out): the import stopped after writing \(written) of \(total) images and wrote no manifest.json, "
                + "so the folder is not a finished import (\(reason)); fix the cause, delete \(out) and run the import again"
        }
    }
}
