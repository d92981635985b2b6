/// One problem found in a dataset folder.
public struct DatasetIssue: Equatable, Sendable, Codable, CustomStringConvertible {
    public enum Severity: String, Sendable, Codable { case error, warning }

    /// What kind of problem, so tests and tools can filter without parsing messages.
    public enum Kind: String, Sendable, Codable {
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
    /// `[split: (images with a mask file, layout)]`: which images have masks.
    public var masks: [String: MaskCoverage] = [:]
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
            let perClass = split == DatasetLayout.unlabeledSplit ? "no classes" : classes.map { "\($0) \(c[$0] ?? 0)" }.joined(separator: ", ")
            lines.append("  \(split): \(total) images; " + perClass)
            if let m = masks[split] { lines.append("    masks: " + m.summary(of: total)) }
        }
        let withoutMasks = masks.filter { $0.key != DatasetLayout.unlabeledSplit && !$0.value.layout.hasMaskFiles }.keys.sorted()
        if maskFormat.usesMaskFiles && !withoutMasks.isEmpty {
            lines.append("no masks in \(withoutMasks.joined(separator: ", ")): only the `full` view can be trained and tested; other views need <split>/masks/<class>/<stem>.png")
        }
        lines.append("\(errors.count) error(s), \(warnings.count) warning(s)")
        lines += issues.map { $0.description }
        return lines.joined(separator: "\n")
    }
}

/// Which images of a split have masks.
public struct MaskCoverage: Sendable, Equatable {
    public var layout: SplitLayout
    /// Images whose mask file exists (or, for `alpha`, every image).
    public var masked: Int

    /// "all 120 images (masks/<class>/<stem>.png)", "none (plain layout)", "118 of 120; …".
    func summary(of total: Int) -> String {
        switch layout {
        case .plain: return "none (plain layout <split>/<class>/<file>)"
        case .imagesOnly: return "none (no masks/ folder beside images/)"
        case .unlabeled: return "none (unlabeled images)"
        case .masked:
            return masked == total ? "all \(total) images" : "\(masked) of \(total) images; the \(total - masked) without one are listed below"
        }
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
        var masks: [String: MaskCoverage] = [:]
        for split in layout.splits.keys.sorted() {
            let samples = layout.splits[split]!.samples
            var perClass: [String: Int] = [:]
            for s in samples { perClass[s.className, default: 0] += 1 }
            counts[split] = perClass
            let listing = layout.splits[split]!
            masks[split] = MaskCoverage(layout: listing.layout, masked: maskFormat.usesMaskFiles ? listing.maskedCount : samples.count)
            let found = parallelMap(samples.count) { i in inspect(samples[i], format: maskFormat, keepPixels: false).issues }
            issues += found.flatMap { $0 }
        }
        return DatasetReport(root: root, maskFormat: maskFormat, classes: layout.classes, counts: counts, masks: masks, issues: issues)
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
        } else if let maskPath = file.maskPath {
            let maskImage: Image
            do {
                maskImage = try PNGCodec.decode(contentsOf: maskPath)
            } catch ImageDataError.unreadableFile {
                return InspectedSample(image: nil, mask: nil, issues: [DatasetIssue(.error, .missingMask, maskPath,
                    "mask file missing for \(file.imagePath); add it (masks/<class>/<image stem>.png)")])
            } catch {
                return InspectedSample(image: nil, mask: nil, issues: [DatasetIssue(.error, .unreadableMask, maskPath, withoutPath(error, maskPath))])
            }
            guard maskImage.width == image.width, maskImage.height == image.height else {
                return InspectedSample(image: nil, mask: nil, issues: [DatasetIssue(.error, .maskSizeMismatch, maskPath,
                    "mask is \(maskImage.width)×\(maskImage.height) but the image is \(image.width)×\(image.height); masks must have the image's size")])
            }
            guard maskImage.isGray else {
                return InspectedSample(image: nil, mask: nil, issues: [DatasetIssue(.error, .maskNotGray, maskPath,
                    "mask has colour pixels; save masks as 8-bit gray PNGs")])
            }
            raw = maskImage.grayPlane
        } else {
            // No mask files in this split: only the `full` view exists, so every pixel is foreground.
            let all = Mask(width: image.width, height: image.height, weights: [UInt8](repeating: 255, count: image.width * image.height))
            return InspectedSample(image: keepPixels ? image : nil, mask: keepPixels ? all : nil, issues: [])
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
            issues.append(DatasetIssue(.error, .unknownMaskValues, format == .alpha ? file.imagePath : (file.maskPath ?? file.imagePath),
                                       "unknown mask value(s) \(shown)\(interpretation.unknownValues.count > 8 ? ", …" : "") for format \(format); \(hint)"))
        }
        let fg = interpretation.mask.foregroundCount
        let maskPath = format == .alpha ? file.imagePath : (file.maskPath ?? file.imagePath)
        if fg == 0 {
            issues.append(DatasetIssue(.error, .emptyMask, maskPath, "mask has no foreground pixel; fix the mask or remove the sample"))
        } else if fg == image.width * image.height {
            issues.append(DatasetIssue(.warning, .fullMask, maskPath, "mask is foreground everywhere; views that remove the background will equal the full image"))
        }
        return InspectedSample(image: keepPixels ? image : nil, mask: keepPixels ? interpretation.mask : nil, issues: issues)
    }
}
