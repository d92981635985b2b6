import Crypto
import Foundation

/// The hashes the store records (`config_sha256`, `spec_sha256`, `dataset_sha256`, checkpoint
/// files), as 64 lowercase hex digits.
///
/// ```swift
/// ContentHash.sha256Hex(Data("abc".utf8))
/// // "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
/// ```
public enum ContentHash {
    /// SHA-256 of `data`.
    public static func sha256Hex(_ data: Data) -> String {
        var hasher = SHA256Hasher()
        hasher.update(data)
        return hasher.finalizeHex()
    }

    /// SHA-256 of a file's bytes, read in 1 MiB chunks (checkpoint and dataset files).
    public static func sha256Hex(fileAt url: URL) throws -> String {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        var hasher = SHA256Hasher()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(chunk) }
        return hasher.finalizeHex()
    }
}

/// An incremental SHA-256 (FIPS 180-4) for hashes built from several pieces — a database's rows,
/// a dataset's files — so nothing has to be joined in memory first. swift-crypto does the hashing.
///
/// ```swift
/// var hasher = SHA256Hasher()
/// hasher.update(Data("ab".utf8))
/// hasher.update(Array("c".utf8))
/// hasher.finalizeHex()   // == ContentHash.sha256Hex(Data("abc".utf8))
/// ```
public struct SHA256Hasher: Sendable {
    private var inner = Crypto.SHA256()

    public init() {}

    /// Appends `bytes` (`Data`, `[UInt8]`, an array slice, …) to the message.
    public mutating func update<Bytes: DataProtocol>(_ bytes: Bytes) { inner.update(data: bytes) }

    /// The digest of everything appended so far, as 64 lowercase hex digits; the hasher can be
    /// fed more afterwards (the digest covers what was appended up to this call).
    public func finalizeHex() -> String {
        let hexDigits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in inner.finalize() {
            out.append(hexDigits[Int(byte >> 4)])
            out.append(hexDigits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// The one canonical JSON of Backdrop: sorted keys, no whitespace, slashes unescaped. What every
/// stored configuration, spec and parameter object is written as, and what their hashes cover.
public enum CanonicalJSON {
    /// The canonical text of `value` (empty only if `value` cannot be encoded as JSON, which no
    /// type Backdrop stores does).
    public static func string<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(value)) ?? Data(), as: UTF8.self)
    }

    /// SHA-256 of `string(value)`.
    public static func sha256<T: Encodable>(_ value: T) -> String {
        ContentHash.sha256Hex(Data(string(value).utf8))
    }
}
