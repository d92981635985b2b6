import Crypto
import Foundation

/// The packed cache of decoded splits: one file per split, size and file list under
/// `Results/datasets/cache/`, written by the first run that needs it and mapped by every later
/// run and every cell of a matrix instead of decoding the images again.
///
/// File `<split>-<key16>.bdpack`:
/// ```
/// "BDPACK01"  8 bytes
/// n           UInt64 little-endian: length of the header
/// header      n bytes of JSON (`PackedCache.Header`: key, classes, size, count, labels, paths, issues)
/// padding     zeros up to a multiple of 64
/// pixels      count × size × size × 3 bytes (interleaved RGB, sample-major)
/// masks       count × size × size bytes
/// ```
/// The key (`key(root:listing:options:)`) is the SHA-256 of the format version, the dataset
/// folder's absolute path, the split, the size, the resize filter, the mask format, the bad-sample
/// policy and every sample's label and class and its image and mask files' paths, byte sizes and
/// modification times: a changed, added or removed file (or a class folder added to another
/// split, which shifts the labels) gives another key, so a stale file is never read. A file is written
/// under a lock (`<name>.lock`, `flock`), into `<name>.partial-<pid>` first, then renamed, so
/// concurrent cells decode once and never read half a file.
public struct PackedCache: Sendable {
    public var directory: String

    public init(directory: String) { self.directory = directory }

    static let magic = Array("BDPACK01".utf8)
    static let formatVersion = 1

    /// What a cache file says about its split besides the bytes.
    struct Header: Codable {
        var version: Int
        var key: String
        var name: String
        var classes: [String]
        var size: Int
        var count: Int
        var labels: [Int]
        var paths: [String]
        var skippedCount: Int
        var issues: [DatasetIssue]
        var hasMasks: Bool
    }

    /// The file for `split` under `key`.
    public func path(split: String, key: String) -> String {
        DatasetLayout.join(directory, "\(split)-\(key.prefix(16)).bdpack")
    }

    /// The cache key of one split as it is on disk now (see the type's documentation).
    /// - Throws: `ImageDataError.unreadableFile` when a listed file cannot be `stat`ed.
    public static func key(root: String, listing: SplitListing, options: DatasetOptions) throws -> String {
        var hasher = SHA256()
        func add(_ text: String) { hasher.update(data: Array(text.utf8) + [0]) }
        add("backdrop-pack-\(formatVersion)")
        add(URL(fileURLWithPath: root).standardizedFileURL.path)
        add(listing.name)
        add("\(options.size)")
        add("\(options.resize)")
        add("\(options.maskFormat)")
        add(options.onBadSample.rawValue)
        for sample in listing.samples {
            add("\(sample.label) \(sample.className)")   // a class added elsewhere shifts the labels
            add(try fileStamp(sample.imagePath))
            add(try sample.maskPath.map { FileManager.default.fileExists(atPath: $0) ? try fileStamp($0) : "\($0) missing" } ?? "no mask")
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// `path size mtime-seconds.nanoseconds`.
    static func fileStamp(_ path: String) throws -> String {
        var info = stat()
        guard stat(path, &info) == 0 else { throw ImageDataError.unreadableFile(path: path, reason: String(cString: strerror(errno))) }
        return "\(path) \(info.st_size) \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
    }

    /// The split from its cache file, or — when there is none, or it is damaged — from `decode`,
    /// packed into a new file first. Holds the key's lock while deciding, so of several processes
    /// asking at once only one decodes.
    /// - Parameters:
    ///   - memoryBudget: a split whose bytes exceed it is read in place from the mapping (streamed).
    ///   - log: one line saying whether the split was decoded or mapped.
    func loadOrBuild(split: String, key: String, memoryBudget: Int, log: ((String) -> Void)?,
                     decode: () throws -> DatasetSplit) throws -> DatasetSplit {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let file = path(split: split, key: key)
        let lock = open(file + ".lock", O_RDWR | O_CREAT, 0o644)
        guard lock >= 0 else { throw ImageDataError.unreadableFile(path: file + ".lock", reason: String(cString: strerror(errno))) }
        defer { close(lock) }   // closing releases the flock
        _ = flock(lock, LOCK_EX)
        if FileManager.default.fileExists(atPath: file) {
            do {
                let loaded = try Self.read(path: file, key: key, memoryBudget: memoryBudget)
                log?(Self.describe(loaded))
                return loaded
            } catch {
                log?("packed cache \(file) is unusable (\(error)); decoding the split again")
                try? FileManager.default.removeItem(atPath: file)
            }
        }
        removeLeftovers(of: file)
        let decoded = try decode()
        let partial = file + ".partial-\(getpid())"
        do {
            try Self.write(decoded, key: key, to: partial)
            guard rename(partial, file) == 0 else {
                throw ImageDataError.unreadableFile(path: file, reason: "could not move the packed file into place: \(String(cString: strerror(errno)))")
            }
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        }
        let loaded = try Self.read(path: file, key: key, memoryBudget: memoryBudget)
        if case .decoded(let seconds) = decoded.origin {
            log?(String(format: "decoded %@ split: %d images in %.1f s (%.0f images/s), packed into %@ (%.1f MiB)", split, decoded.count,
                        seconds, Double(decoded.count) / max(seconds, 1e-9), file, Double(decoded.memoryBytes) / 1_048_576))
        }
        return loaded
    }

    /// Partial files an interrupted writer left behind (we hold the lock, so nobody is writing).
    func removeLeftovers(of file: String) {
        let name = (file as NSString).lastPathComponent
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where entry.hasPrefix(name + ".partial-") {
            try? FileManager.default.removeItem(atPath: DatasetLayout.join(directory, entry))
        }
    }

    static func describe(_ split: DatasetSplit) -> String {
        guard case let .cache(path, streamed) = split.origin else { return "decoded \(split.name) split" }
        return "\(split.name) split: \(split.count) images mapped from the packed cache \(path)"
            + (streamed ? " (larger than the memory budget: streamed from the file)" : "")
    }

    /// Writes `split` in the packed format to `path`.
    static func write(_ split: DatasetSplit, key: String, to path: String) throws {
        let header = Header(version: formatVersion, key: key, name: split.name, classes: split.classes, size: split.size, count: split.count,
                            labels: split.labels, paths: split.paths, skippedCount: split.skippedCount, issues: split.issues,
                            hasMasks: split.hasMasks)
        let json = try JSONEncoder().encode(header)
        var head = magic
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { head += $0 }
        head += json
        head += [UInt8](repeating: 0, count: (64 - head.count % 64) % 64)
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw ImageDataError.unreadableFile(path: path, reason: "cannot create the packed cache file; check the folder is writable")
        }
        defer { try? handle.close() }
        try handle.write(contentsOf: head)
        try split.pixels.withUnsafeBytes { try handle.write(contentsOf: Data($0)) }
        try split.masks.withUnsafeBytes { try handle.write(contentsOf: Data($0)) }
        try handle.synchronize()
    }

    /// Maps and checks a packed file: magic, header, key and length must all agree.
    /// - Throws: `ImageDataError.invalidLayout` naming the file and what is wrong.
    static func read(path: String, key: String, memoryBudget: Int) throws -> DatasetSplit {
        let file = try MappedFile(path: path)
        let bytes = file.bytes
        func damaged(_ what: String) -> ImageDataError { .invalidLayout(path: path, problem: "damaged packed cache file: \(what)") }
        guard bytes.count >= 16, Array(bytes[0..<8]) == magic else { throw damaged("wrong magic") }
        let n = Int(bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self).littleEndian)
        guard n > 0, 16 + n <= bytes.count else { throw damaged("header length \(n)") }
        let header: Header
        do { header = try JSONDecoder().decode(Header.self, from: Data(bytes[16..<(16 + n)])) } catch { throw damaged("header: \(error)") }
        guard header.version == formatVersion, header.key == key else { throw damaged("written for another file list or format") }
        let plane = header.size * header.size
        let start = (16 + n + 63) / 64 * 64
        guard header.count == header.labels.count, header.count == header.paths.count,
              start + header.count * plane * 4 == bytes.count else { throw damaged("length \(bytes.count) does not match \(header.count) samples") }
        let pixelCount = header.count * plane * 3, maskCount = header.count * plane
        let streamed = pixelCount + maskCount > memoryBudget
        let pixels: ByteStore, masks: ByteStore
        if streamed {
            file.advise(MADV_RANDOM)
            pixels = ByteStore(mapped: file, offset: start, count: pixelCount)
            masks = ByteStore(mapped: file, offset: start + pixelCount, count: maskCount)
        } else {
            pixels = ByteStore(Array(bytes[start..<(start + pixelCount)]))
            masks = ByteStore(Array(bytes[(start + pixelCount)..<(start + pixelCount + maskCount)]))
        }
        var split = DatasetSplit(name: header.name, classes: header.classes, size: header.size, pixels: pixels, masks: masks,
                                 labels: header.labels, paths: header.paths, skippedCount: header.skippedCount, issues: header.issues,
                                 hasMasks: header.hasMasks)
        split.origin = .cache(path: path, streamed: streamed)
        return split
    }
}
