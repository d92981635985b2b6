import Foundation
import Testing
import ResultsStore

/// Known answers for the store's SHA-256 (FIPS 180-4 vectors and digests from an independent
/// implementation), one-shot, incremental and file-based.
@Suite struct ContentHashTests {
    @Test("a million 'a' (FIPS 180-4), one-shot and fed in uneven pieces")
    func millionA() {
        let expected = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        let bytes = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(ContentHash.sha256Hex(Data(bytes)) == expected)
        var hasher = SHA256Hasher()
        var i = 0, step = 1
        while i < bytes.count {
            hasher.update(bytes[i..<min(bytes.count, i + step)])
            i += step
            step = step * 7 % 65_537 + 1
        }
        #expect(hasher.finalizeHex() == expected)
    }

    @Test func finalizingDoesNotEndTheHasher() {
        var hasher = SHA256Hasher()
        hasher.update(Data("ab".utf8))
        #expect(hasher.finalizeHex() == ContentHash.sha256Hex(Data("ab".utf8)))
        hasher.update(Array("c".utf8))
        #expect(hasher.finalizeHex() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test("a file of 2.5 MiB + 123 bytes is read in three chunks and hashed as a whole")
    func multiChunkFile() throws {
        let count = (5 << 19) + 123
        let bytes = Data((0..<count).map { UInt8(($0 * 31 + 7) % 251) })
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("backdrop-hash-\(UUID().uuidString).bin")
        try bytes.write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        // Digest from Python's hashlib for the same bytes.
        let expected = "0cdd2722ed238f465f4fc20d1e829e855285185b7315fcde1cd911ef9a28d739"
        #expect(try ContentHash.sha256Hex(fileAt: url) == expected)
        #expect(ContentHash.sha256Hex(bytes) == expected)
        let empty = url.appendingPathExtension("empty")
        try Data().write(to: empty)
        defer { try? FileManager.default.removeItem(at: empty) }
        #expect(try ContentHash.sha256Hex(fileAt: empty) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }
}
