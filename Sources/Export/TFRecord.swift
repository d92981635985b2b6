import Foundation

/// The TFRecord framing TensorBoard event files use: each record is
///
///     uint64 length            (little-endian)
///     uint32 masked_crc32c(length bytes)
///     byte   data[length]
///     uint32 masked_crc32c(data)
///
/// (TensorFlow's `tensorflow/core/lib/io/record_writer.cc`; the CRC is ``CRC32C``'s masked form).
public enum TFRecord {
    /// `data` framed as one record.
    public static func frame(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.count + 16)
        let length = littleEndianBytes(UInt64(data.count))
        out.append(contentsOf: length)
        out.append(contentsOf: littleEndianBytes(CRC32C.maskedChecksum(length)))
        out.append(contentsOf: data)
        out.append(contentsOf: littleEndianBytes(CRC32C.maskedChecksum(data)))
        return out
    }

    /// `records` framed one after the other: the bytes of a whole TFRecord file.
    public static func file(_ records: [[UInt8]]) -> Data {
        var data = Data()
        for record in records { data.append(contentsOf: frame(record)) }
        return data
    }

    static func littleEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }
}
