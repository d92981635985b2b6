import Foundation

/// A file of fixed-size records in an official binary distribution (CIFAR-10/100, STL-10), found
/// either directly in the folder the user named or in the archive's own subfolder.
struct BinaryRecordFile: Sendable {
    /// Full path of the file.
    let path: String
    /// File name without extension (`data_batch_3`), kept in every output name.
    let stem: String
    /// Bytes per record.
    let recordBytes: Int
    /// Number of whole records (the length was checked to be a positive multiple of `recordBytes`).
    let count: Int

    /// Locates `name` in `dir` or `dir/subfolder` and checks its length.
    /// - Parameters:
    ///   - record: how a record is made up, for the error message (`"1 label byte + 3072 pixel bytes"`).
    ///   - fix: what to do when the file is missing or has the wrong length.
    static func open(_ name: String, in dir: String, subfolder: String, recordBytes: Int, record: String, fix: String) throws -> BinaryRecordFile {
        let path = try locate(name, in: dir, subfolder: subfolder, fix: fix)
        let bytes = try size(of: path)
        guard bytes > 0, bytes % recordBytes == 0 else {
            throw BinaryDatasetError.wrongLength(path: path, bytes: bytes, recordBytes: recordBytes, record: record, fix: fix)
        }
        return BinaryRecordFile(path: path, stem: ImageFile.stem(of: name), recordBytes: recordBytes, count: bytes / recordBytes)
    }

    /// The path of `name` in `dir`, else in `dir/subfolder`.
    static func locate(_ name: String, in dir: String, subfolder: String, fix: String) throws -> String {
        let candidates = [dir, (dir as NSString).appendingPathComponent(subfolder)]
        for folder in candidates {
            let path = (folder as NSString).appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue { return path }
        }
        throw BinaryDatasetError.missingFile(name: name, lookedIn: candidates.map { $0 + "/" }, fix: fix)
    }

    static func size(of path: String) throws -> Int {
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            return (attributes[.size] as? NSNumber)?.intValue ?? 0
        } catch {
            throw BinaryDatasetError.unreadable(path: path, reason: (error as NSError).localizedDescription)
        }
    }

    /// Calls `body(firstRecordIndex, bytes)` for consecutive chunks of at most `chunkRecords`
    /// whole records, reading the file sequentially (the STL-10 unlabeled file is 2.7 GB).
    func forEachChunk(records chunkRecords: Int, _ body: (Int, [UInt8]) throws -> Void) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw BinaryDatasetError.unreadable(path: path, reason: "cannot open it")
        }
        defer { try? handle.close() }
        var first = 0
        while first < count {
            let n = min(chunkRecords, count - first)
            let data: Data
            do {
                data = try handle.read(upToCount: n * recordBytes) ?? Data()
            } catch {
                throw BinaryDatasetError.unreadable(path: path, reason: (error as NSError).localizedDescription)
            }
            guard data.count == n * recordBytes else {
                throw BinaryDatasetError.unreadable(path: path, reason: "the file became shorter while it was read")
            }
            try body(first, [UInt8](data))
            first += n
        }
    }

    /// The whole file's bytes (for the small label files).
    func readAll() throws -> [UInt8] {
        do {
            return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw BinaryDatasetError.unreadable(path: path, reason: (error as NSError).localizedDescription)
        }
    }
}

/// Reads a label-names file (one class name per line; blank lines and surrounding spaces are
/// ignored) and checks it holds exactly `count` names usable as folder names, all different.
func readLabelNames(_ name: String, in dir: String, subfolder: String, count: Int, fix: String) throws -> [String] {
    let path = try BinaryRecordFile.locate(name, in: dir, subfolder: subfolder, fix: fix)
    let text: String
    do {
        text = try String(contentsOfFile: path, encoding: .utf8)
    } catch {
        throw BinaryDatasetError.unreadable(path: path, reason: (error as NSError).localizedDescription)
    }
    let names = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    guard names.count == count else {
        throw BinaryDatasetError.badLabelNames(path: path, problem: "expected \(count) class names, one per line, found \(names.count)")
    }
    if let bad = names.first(where: { $0.contains("/") || $0 == "." || $0 == ".." || $0.hasPrefix(".") }) {
        throw BinaryDatasetError.badLabelNames(path: path, problem: "\"\(bad)\" cannot be a folder name")
    }
    if Set(names).count != names.count {
        let repeated = Dictionary(grouping: names, by: { $0 }).first { $0.value.count > 1 }!.key
        throw BinaryDatasetError.badLabelNames(path: path, problem: "the class name \"\(repeated)\" appears twice")
    }
    return names
}
