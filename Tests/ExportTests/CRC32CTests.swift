@testable import Export
import Testing

/// CRC-32C against the published check value and RFC 3720's test vectors, and TFRecord's mask
/// against the values TensorBoard's own `masked_crc32c` gives.
@Suite struct CRC32CTests {
    @Test func checkValueOf123456789() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
    }

    @Test func rfc3720Vectors() {
        #expect(CRC32C.checksum([UInt8]()) == 0)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum(Array(0...31) as [UInt8]) == 0x46DD_794E)
    }

    @Test func maskedAsTensorBoardComputesIt() {
        #expect(CRC32C.maskedChecksum(Array("123456789".utf8)) == 0xC78A_B0E5)
        #expect(CRC32C.maskedChecksum([UInt8]()) == 0xA282_EAD8)
        #expect(CRC32C.masked(0) == 0xA282_EAD8)
    }
}
