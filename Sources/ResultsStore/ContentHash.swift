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
        var hasher = SHA256()
        hasher.update(data)
        return hasher.finalizeHex()
    }

    /// SHA-256 of a file's bytes, read in 1 MiB chunks (checkpoint and dataset files).
    public static func sha256Hex(fileAt url: URL) throws -> String {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(chunk) }
        return hasher.finalizeHex()
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
