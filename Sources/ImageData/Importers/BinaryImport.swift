import Foundation

/// Where each record's class comes from.
enum RecordLabels: Sendable {
    /// A byte at this offset inside every record (CIFAR).
    case inRecord(offset: Int)
    /// One byte per record in a separate file (STL-10's `*_y.bin`), read whole.
    case separate(BinaryRecordFile, [UInt8])
    /// No labels (STL-10's unlabeled split): images go straight into the split folder.
    case none
}

/// How a record stores its three 8-bit colour planes (R, then G, then B; `side × side` each).
enum PlaneOrder: Sendable {
    /// Row-major planes: pixel (x, y) of plane c at `c·side² + y·side + x` (CIFAR).
    case rowMajor
    /// Column-major planes: pixel (x, y) of plane c at `c·side² + x·side + y` (STL-10).
    case columnMajor
}

/// One record file of a split and how to turn its records into PNGs.
struct RecordSource: Sendable {
    let file: BinaryRecordFile
    let split: String
    let labels: RecordLabels
    /// The label value of the first class (0 for CIFAR, 1 for STL-10).
    let labelBase: Int
    /// Offset of the R plane inside a record.
    let pixelOffset: Int
    let side: Int
    let planes: PlaneOrder
    /// Digits of the zero-padded record index in output names (`data_batch_3-04211.png`).
    let indexDigits: Int

    /// `<stem>-<index>.png`.
    func outputName(_ index: Int) -> String {
        let digits = String(index)
        return file.stem + "-" + String(repeating: "0", count: max(0, indexDigits - digits.count)) + digits + ".png"
    }

    /// The record at `offset` of `chunk` as an interleaved RGB image.
    func image(in chunk: [UInt8], at offset: Int) -> Image {
        let plane = side * side
        var rgb = [UInt8](repeating: 0, count: plane * 3)
        chunk.withUnsafeBufferPointer { src in
            let base = offset + pixelOffset
            for y in 0..<side {
                for x in 0..<side {
                    let inPlane = planes == .rowMajor ? y * side + x : x * side + y
                    let out = (y * side + x) * 3
                    rgb[out] = src[base + inPlane]
                    rgb[out + 1] = src[base + plane + inPlane]
                    rgb[out + 2] = src[base + 2 * plane + inPlane]
                }
            }
        }
        return Image(width: side, height: side, rgb: rgb)
    }
}

/// Everything an import needs, checked to exist before anything is written.
struct BinaryImportPlan {
    let source: String
    let labelKind: String?
    let directory: String
    let classes: [String]
    let side: Int
    let sources: [RecordSource]
    /// Files read besides the record files (label names, label files), for the manifest.
    let otherFiles: [String]
}

/// How far an import is, reported after every chunk of records.
public struct BinaryImportProgress: Sendable {
    /// `train`, `test` or `unlabeled`.
    public let split: String
    /// The record file being converted.
    public let file: String
    /// Images written so far, over all files.
    public let written: Int
    /// Images the whole import writes.
    public let total: Int
    /// True after the last chunk of `file`.
    public let fileFinished: Bool
}

/// `OUT/manifest.json` of a CIFAR / STL-10 import, written last: its presence means the import finished.
public struct BinaryImportManifest: Codable, Equatable, Sendable {
    /// Images in one split: in all, and per class folder (empty for `unlabeled`).
    public struct SplitCounts: Codable, Equatable, Sendable {
        public var images: Int
        public var perClass: [String: Int]
    }
    /// One file the import read.
    public struct FileRead: Codable, Equatable, Sendable {
        public var path: String
        public var bytes: Int
        /// Records converted from it (nil for label-names and label files).
        public var records: Int?
        public var split: String?
    }
    /// `cifar10`, `cifar100` or `stl10`.
    public var source: String
    /// `fine` or `coarse` for CIFAR-100; nil otherwise.
    public var labels: String?
    public var sourceDirectory: String
    /// Side of the square images written (32 or 96).
    public var imageSize: Int
    /// Every class name of the label-names file, in label order (folders exist only for classes with images).
    public var classes: [String]
    public var splits: [String: SplitCounts]
    public var files: [FileRead]

    /// Reads `OUT/manifest.json`.
    public static func read(from out: String) throws -> BinaryImportManifest {
        let path = (out as NSString).appendingPathComponent("manifest.json")
        do {
            return try JSONDecoder().decode(BinaryImportManifest.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw BinaryDatasetError.unreadable(path: path, reason: "\(error)")
        }
    }
}

enum BinaryImport {
    /// Records decoded and written per parallel batch.
    static let chunkRecords = 512

    /// Checks every label, then writes `OUT/<split>/<class>/<stem>-<index>.png` (or
    /// `OUT/unlabeled/<stem>-<index>.png`) in parallel, then `OUT/manifest.json`.
    static func run(_ plan: BinaryImportPlan, out: String, progress: ((BinaryImportProgress) -> Void)?) throws -> BinaryImportManifest {
        try requireEmptyOutput(out)
        // Pass 1: every label in range, and the counts per split and class (nothing written yet).
        var classOfRecord: [[Int]] = []
        var splits: [String: BinaryImportManifest.SplitCounts] = [:]
        for source in plan.sources {
            let labels = try classes(of: source, classCount: plan.classes.count)
            classOfRecord.append(labels)
            var counts = splits[source.split] ?? .init(images: 0, perClass: [:])
            counts.images += source.file.count
            for c in labels { counts.perClass[plan.classes[c], default: 0] += 1 }
            splits[source.split] = counts
        }
        let total = plan.sources.reduce(0) { $0 + $1.file.count }
        var written = 0
        do {
            for (split, counts) in splits {
                try FileManager.default.createDirectory(atPath: (out as NSString).appendingPathComponent(split), withIntermediateDirectories: true)
                for name in counts.perClass.keys {
                    try FileManager.default.createDirectory(atPath: "\(out)/\(split)/\(name)", withIntermediateDirectories: true)
                }
            }
        } catch {
            throw BinaryDatasetError.writeFailed(out: out, written: 0, total: total, reason: (error as NSError).localizedDescription)
        }
        // Pass 2: decode and write.
        for (s, source) in plan.sources.enumerated() {
            let labels = classOfRecord[s]
            let folder = "\(out)/\(source.split)/"
            let classes = plan.classes
            try source.file.forEachChunk(records: chunkRecords) { first, chunk in
                let n = chunk.count / source.file.recordBytes
                let failures = parallelMap(n) { i -> String? in
                    let index = first + i
                    let path = folder + (labels.isEmpty ? "" : classes[labels[index]] + "/") + source.outputName(index)
                    do {
                        try PNGCodec.write(source.image(in: chunk, at: i * source.file.recordBytes), to: path)
                        return nil
                    } catch {
                        return "\(error)"
                    }
                }
                if let failure = failures.first(where: { $0 != nil }) ?? nil {
                    throw BinaryDatasetError.writeFailed(out: out, written: written + failures.filter { $0 == nil }.count,
                                                         total: total, reason: failure)
                }
                written += n
                progress?(BinaryImportProgress(split: source.split, file: source.file.path, written: written, total: total,
                                               fileFinished: first + n == source.file.count))
            }
        }
        let manifest = BinaryImportManifest(
            source: plan.source, labels: plan.labelKind, sourceDirectory: plan.directory, imageSize: plan.side,
            classes: plan.classes, splits: splits,
            files: plan.sources.map { .init(path: $0.file.path, bytes: $0.file.count * $0.file.recordBytes, records: $0.file.count, split: $0.split) }
                + plan.otherFiles.map { .init(path: $0, bytes: (try? BinaryRecordFile.size(of: $0)) ?? 0, records: nil, split: nil) })
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try encoder.encode(manifest).write(to: URL(fileURLWithPath: (out as NSString).appendingPathComponent("manifest.json")))
        } catch {
            throw BinaryDatasetError.writeFailed(out: out, written: written, total: total, reason: "manifest.json: \((error as NSError).localizedDescription)")
        }
        return manifest
    }

    /// The 0-based class of every record of `source` (empty for unlabeled sources).
    /// - Throws: `BinaryDatasetError.labelOutOfRange` naming the file and record.
    static func classes(of source: RecordSource, classCount: Int) throws -> [Int] {
        let valid = source.labelBase...(source.labelBase + classCount - 1)
        func check(_ label: UInt8, _ record: Int, _ path: String) throws -> Int {
            guard valid.contains(Int(label)) else {
                throw BinaryDatasetError.labelOutOfRange(path: path, record: record, label: Int(label), valid: valid)
            }
            return Int(label) - source.labelBase
        }
        switch source.labels {
        case .none:
            return []
        case let .separate(file, bytes):
            return try bytes.enumerated().map { try check($0.element, $0.offset, file.path) }
        case let .inRecord(offset):
            var out: [Int] = []
            out.reserveCapacity(source.file.count)
            try source.file.forEachChunk(records: 4096) { first, chunk in
                for i in 0..<(chunk.count / source.file.recordBytes) {
                    out.append(try check(chunk[i * source.file.recordBytes + offset], first + i, source.file.path))
                }
            }
            return out
        }
    }

    /// Refuses an output folder that already holds files (a previous import would mix in).
    static func requireEmptyOutput(_ out: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: out, isDirectory: &isDirectory) else { return }
        let contents = isDirectory.boolValue ? ((try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []) : ["(a file)"]
        if !contents.filter({ $0 != ".DS_Store" }).isEmpty { throw BinaryDatasetError.outputNotEmpty(path: out) }
    }
}
