import Foundation

/// Every failure `ImageData` reports. Each message names the file (or field) and says how to fix it.
public enum ImageDataError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file could not be opened or read from disk.
    case unreadableFile(path: String, reason: String)
    /// The file does not start with the 8-byte PNG signature.
    case notPNG(path: String)
    /// The file is shorter than the smallest possible PNG (signature + IHDR + IEND).
    case truncatedPNG(path: String, size: Int)
    /// libpng rejected the file; `message` is libpng's own explanation.
    case corruptPNG(path: String, message: String)
    /// The file does not start with the JPEG start-of-image marker (FF D8 FF), or is empty.
    case notJPEG(path: String)
    /// libjpeg rejected the file, or its data ends early or is damaged; `message` is libjpeg's.
    case corruptJPEG(path: String, message: String)
    /// The image header declares a zero or absurd width/height.
    case invalidDimensions(path: String, width: Int, height: Int)
    /// Encoding a PNG failed.
    case encodeFailed(path: String, message: String)
    /// An option or parameter has a value that cannot be used.
    case invalidParameter(name: String, value: String, fix: String)
    /// The dataset folder layout is wrong (missing split, no classes, ...).
    case invalidLayout(path: String, problem: String)
    /// Loading stopped because samples are bad and the policy is `onBadSample: fail`.
    case badSamples([DatasetIssue])

    public var description: String {
        switch self {
        case let .unreadableFile(path, reason):
            return "\(path): cannot read the file (\(reason)); check that it exists and is readable"
        case let .notPNG(path):
            return "\(path): not a PNG file (the 8-byte PNG signature is missing); convert it to PNG or remove it"
        case let .truncatedPNG(path, size):
            return "\(path): truncated PNG (\(size) bytes is too short to hold a header and image data); re-export or remove the file"
        case let .corruptPNG(path, message):
            return "\(path): corrupt PNG (libpng: \(message)); re-export or remove the file"
        case let .notJPEG(path):
            return "\(path): not a JPEG file (it does not start with the JPEG marker FF D8 FF); give it the extension of its real format, convert it to JPEG or PNG, or remove it"
        case let .corruptJPEG(path, message):
            return "\(path): corrupt or truncated JPEG (libjpeg: \(message)); re-download or re-export the file, or remove it"
        case let .invalidDimensions(path, width, height):
            return "\(path): invalid image size \(width)×\(height); every image needs a width and height between 1 and 65535"
        case let .encodeFailed(path, message):
            return "\(path): could not write PNG (libpng: \(message)); check the folder exists and is writable"
        case let .invalidParameter(name, value, fix):
            return "\(name) = \(value) is not valid; \(fix)"
        case let .invalidLayout(path, problem):
            return "\(path): \(problem)"
        case let .badSamples(issues):
            let errors = issues.filter { $0.severity == .error }
            let shown = errors.prefix(20).map { "  " + $0.description }.joined(separator: "\n")
            let more = errors.count > 20 ? "\n  … and \(errors.count - 20) more" : ""
            return "\(errors.count) bad sample(s) and onBadSample is `fail`; fix them (see `backdrop dataset check`) or set onBadSample: skip\n\(shown)\(more)"
        }
    }
}
