/// CRC-32C (Castagnoli), the checksum TFRecord files carry, and TFRecord's masked form of it.
///
/// The polynomial is 0x1EDC6F41, processed bit-reflected (0x82F63B78), with initial value and
/// final XOR 0xFFFFFFFF (RFC 3720, appendix B.4). Check value: the CRC-32C of the ASCII bytes
/// `123456789` is `0xE3069283`.
///
/// TFRecord masks each stored CRC so that a CRC of data that itself holds CRCs stays well
/// distributed: `((crc >> 15) | (crc << 17)) &+ 0xA282EAD8` (TensorFlow's
/// `tensorflow/core/lib/hash/crc32c.h`, `Mask`).
public enum CRC32C {
    /// The byte-at-a-time lookup table of the reflected polynomial.
    static let table: [UInt32] = (0..<256).map { index in
        var crc = UInt32(index)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        return crc
    }

    /// The CRC-32C of `bytes`.
    public static func checksum<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
        }
        return crc ^ 0xFFFF_FFFF
    }

    /// TFRecord's masked form of `crc`.
    public static func masked(_ crc: UInt32) -> UInt32 {
        ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }

    /// The masked CRC-32C of `bytes`, as TFRecord stores it.
    public static func maskedChecksum<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        masked(checksum(bytes))
    }
}
