import Foundation

/// A read-only file mapped into memory (`mmap`), unmapped when the last reference goes.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    /// The whole file.
    public let bytes: UnsafeRawBufferPointer

    /// Maps `path` read-only.
    /// - Throws: `ImageDataError.unreadableFile` naming the file.
    public init(path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ImageDataError.unreadableFile(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw ImageDataError.unreadableFile(path: path, reason: String(cString: strerror(errno))) }
        let length = Int(info.st_size)
        guard length > 0 else { throw ImageDataError.unreadableFile(path: path, reason: "the file is empty") }
        guard let base = mmap(nil, length, PROT_READ, MAP_SHARED, fd, 0), base != MAP_FAILED else {
            throw ImageDataError.unreadableFile(path: path, reason: "mmap failed: \(String(cString: strerror(errno)))")
        }
        self.path = path
        self.bytes = UnsafeRawBufferPointer(start: base, count: length)
    }

    /// Tells the kernel how the mapping will be read (`MADV_WILLNEED`, `MADV_RANDOM`).
    func advise(_ advice: Int32) {
        _ = madvise(UnsafeMutableRawPointer(mutating: bytes.baseAddress), bytes.count, advice)
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: bytes.baseAddress), bytes.count) }
}

/// The bytes of a split's pixels or masks: held in memory, or read from a mapped cache file
/// (pages come in as they are touched, so a split larger than memory streams).
///
/// `store[i]` is one byte; `store[a..<b]` copies a range out (one sample's `size² × 3` pixels).
public struct ByteStore: @unchecked Sendable, Equatable {
    private let array: [UInt8]
    private let file: MappedFile?
    private let offset: Int
    public let count: Int

    /// Bytes held in memory.
    public init(_ array: [UInt8]) {
        (self.array, self.file, self.offset, self.count) = (array, nil, 0, array.count)
    }

    /// `count` bytes of `file` from `offset`, read in place.
    public init(mapped file: MappedFile, offset: Int, count: Int) {
        precondition(offset >= 0 && count >= 0 && offset + count <= file.bytes.count, "ByteStore: range outside the mapped file")
        (self.array, self.file, self.offset, self.count) = ([], file, offset, count)
    }

    /// Whether the bytes are read from a mapped file rather than held in memory.
    public var isMapped: Bool { file != nil }

    /// Calls `body` with the bytes, wherever they live.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        if let file { return try body(UnsafeRawBufferPointer(rebasing: file.bytes[offset..<(offset + count)])) }
        return try array.withUnsafeBytes(body)
    }

    public subscript(i: Int) -> UInt8 {
        precondition(i >= 0 && i < count, "ByteStore: index \(i) out of 0..<\(count)")
        if let file { return file.bytes[offset + i] }
        return array[i]
    }

    /// A copy of bytes `range`.
    public subscript(range: Range<Int>) -> [UInt8] {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "ByteStore: range \(range) out of 0..<\(count)")
        if file == nil { return Array(array[range]) }
        return withUnsafeBytes { Array($0[range]) }
    }

    /// Every byte, copied into an array.
    public var bytes: [UInt8] { file == nil ? array : self[0..<count] }

    public static func == (a: ByteStore, b: ByteStore) -> Bool {
        a.count == b.count && a.withUnsafeBytes { x in b.withUnsafeBytes { y in x.elementsEqual(y) } }
    }
}
