/// One problem found in a dataset folder.
public struct DatasetIssue: Equatable, Sendable, CustomStringConvertible {
    public enum Severity: String, Sendable { case error, warning }

    /// What kind of problem, so tests and tools can filter without parsing messages.
    public enum Kind: String, Sendable {
        case missingSplit, missingClass, strayFile
        case unreadableImage, unreadableMask, missingMask, maskNotGray, maskSizeMismatch
        case unknownMaskValues, emptyMask, fullMask
    }

    public var severity: Severity
    public var kind: Kind
    /// The file or folder the problem is about.
    public var path: String
    /// What is wrong and how to fix it.
    public var message: String

    public init(_ severity: Severity, _ kind: Kind, _ path: String, _ message: String) {
        self.severity = severity
        self.kind = kind
        self.path = path
        self.message = message
    }

    public var description: String { "\(severity.rawValue): \(path): \(message)" }
}

/// The result of `Dataset.check`: counts per split and class, and every issue found.
public struct DatasetReport: Sendable {
    public var root: String
    public var maskFormat: MaskFormat
    public var classes: [String]
    /// `[split: [class: image count]]` for the splits present.
    public var counts: [String: [String: Int]]
    public var issues: [DatasetIssue]

    public var errors: [DatasetIssue] { issues.filter { $0.severity == .error } }
    public var warnings: [DatasetIssue] { issues.filter { $0.severity == .warning } }
    /// `true` when there is no error (warnings are allowed).
    public var isClean: Bool { errors.isEmpty }

    /// A human-readable summary followed by every issue, one per line.
    public var text: String {
        var lines = ["dataset \(root) (mask format \(maskFormat))", "classes (\(classes.count)): \(classes.joined(separator: ", "))"]
        for split in counts.keys.sorted() {
            let c = counts[split]!
            let total = c.values.reduce(0, +)
            lines.append("  \(split): \(total) images; " + classes.map { "\($0) \(c[$0] ?? 0)" }.joined(separator: ", "))
        }
        lines.append("\(errors.count) error(s), \(warnings.count) warning(s)")
        lines += issues.map { $0.description }
        return lines.joined(separator: "\n")
    }
}

/// A decoded, validated sample at its original size.
struct InspectedSample: Sendable {
    var image: Image?
    var mask: Mask?
    var issues: [DatasetIssue]
    var isBad: Bool { issues.contains { $0.severity == .error } }
}

/// Validation of dataset folders.
public enum Dataset {
    /// Validates every file of the dataset at `root` in one pass and returns all problems:
    /// unreadable or corrupt PNGs, missing masks, masks of another size, empty masks, mask values
    /// the format does not define, class folders missing in a split. An all-foreground mask is
    /// a warning. Files are decoded in parallel; nothing is kept in memory.
    /// - Throws: only when `root` is not a folder.
    public static func check(root: String, maskFormat: MaskFormat = .binary) throws -> DatasetReport {
        let layout = try DatasetLayout.scan(root: root)
        var issues = layout.issues(maskFormat: maskFormat)
        var counts: [String: [String: Int]] = [:]
        for split in layout.splits.keys.sorted() {
            let samples = layout.splits[split]!.samples
            var perClass: [String: Int] = [:]
            for s in samples { perClass[s.className, default: 0] += 1 }
            counts[split] = perClass
            let found = parallelMap(samples.count) { i in inspect(samples[i], format: maskFormat, keepPixels: false).issues }
            issues += found.flatMap { $0 }
        }
        return DatasetReport(root: root, maskFormat: maskFormat, classes: layout.classes, counts: counts, issues: issues)
    }

    /// An error's message without the leading "path: " (the issue prints the path itself).
    static func withoutPath(_ error: Error, _ path: String) -> String {
        let text = "\(error)"
        return text.hasPrefix(path + ": ") ? String(text.dropFirst(path.count + 2)) : text
    }

    /// Decodes and validates one sample (image + mask) under `format`.
    static func inspect(_ file: SampleFile, format: MaskFormat, keepPixels: Bool) -> InspectedSample {
        let image: Image
        do {
            image = try ImageFile.decode(contentsOf: file.imagePath)
        } catch {
            return InspectedSample(image: nil, mask: nil, issues: [DatasetIssue(.error, .unreadableImage, file.imagePath, withoutPath(error, file.imagePath))])
        }
        var issues: [DatasetIssue] = []
        let raw: [UInt8]
        if format == .alpha {
            guard let alpha = image.alpha else {
                return InspectedSample(image: nil, mask: nil, issues: [DatasetIssue(.error, .missingMask, file.imagePath,
                    "mask format is `alpha` but the image has no alpha channel; save it as RGBA or use mask files")])
            }
            raw = alpha
        } else {
            let maskImage: Image
            do {
                maskImage = try PNGCodec.decode(contentsOf: file.maskPath)
            } catch ImageDataError.unreadableFile {
                return InspectedSample(image: nil, mask: nil, issues: [DatasetIssue(.error, .missingMask, file.maskPath,
                    "mask file missing for \(file.imagePath); add it (same relative path under masks/)")])
            } catch {
                return InspectedSample(image: nil, mask: nil, issues: [DatasetIssue(.error, .unreadableMask, file.maskPath, withoutPath(error, file.maskPath))])
            }
            guard maskImage.width == image.width, maskImage.height == image.height else {
                return InspectedSample(image: nil, mask: nil, issues: [DatasetIssue(.error, .maskSizeMismatch, file.maskPath,
                    "mask is \(maskImage.width)×\(maskImage.height) but the image is \(image.width)×\(image.height); masks must have the image's size")])
            }
            guard maskImage.isGray else {
                return InspectedSample(image: nil, mask: nil, issues: [DatasetIssue(.error, .maskNotGray, file.maskPath,
                    "mask has colour pixels; save masks as 8-bit gray PNGs")])
            }
            raw = maskImage.grayPlane
        }
        let interpretation = Mask.interpret(raw, width: image.width, height: image.height, format: format)
        if !interpretation.unknownValues.isEmpty {
            let shown = interpretation.unknownValues.prefix(8).map(String.init).joined(separator: ", ")
            let hint: String
            switch format {
            case .binary: hint = "binary masks hold only 0 and 255; use --mask-format soft for soft masks"
            case .trimap: hint = "trimaps hold only 1 (foreground), 2 (background), 3 (boundary)"
            default: hint = "check the mask format"
            }
            issues.append(DatasetIssue(.error, .unknownMaskValues, format == .alpha ? file.imagePath : file.maskPath,
                                       "unknown mask value(s) \(shown)\(interpretation.unknownValues.count > 8 ? ", …" : "") for format \(format); \(hint)"))
        }
        let fg = interpretation.mask.foregroundCount
        let maskPath = format == .alpha ? file.imagePath : file.maskPath
        if fg == 0 {
            issues.append(DatasetIssue(.error, .emptyMask, maskPath, "mask has no foreground pixel; fix the mask or remove the sample"))
        } else if fg == image.width * image.height {
            issues.append(DatasetIssue(.warning, .fullMask, maskPath, "mask is foreground everywhere; views that remove the background will equal the full image"))
        }
        return InspectedSample(image: keepPixels ? image : nil, mask: keepPixels ? interpretation.mask : nil, issues: issues)
    }
}
