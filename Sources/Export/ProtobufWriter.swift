/// A minimal Protocol Buffers encoder: appends fields in the binary wire format to a byte buffer.
///
/// Wire format (protobuf.dev/programming-guides/encoding): each field is a key — the varint
/// `field_number << 3 | wire_type` — followed by its payload. Wire types used here: 0 varint
/// (int64, enums, bool), 1 fixed 64-bit little-endian (double), 2 length-delimited (string,
/// bytes, embedded message: varint length, then the bytes), 5 fixed 32-bit little-endian (float).
/// Varints are little-endian base-128: 7 bits per byte, the high bit set on every byte but the
/// last; a negative int64 takes ten bytes (its two's complement as a UInt64).
///
/// ```swift
/// var message = ProtobufWriter()
/// message.string(1, "a")        // 0A 01 61
/// message.varint(2, 150)        // 10 96 01
/// ```
public struct ProtobufWriter: Sendable {
    /// The encoded message so far.
    public private(set) var bytes: [UInt8] = []

    public init() {}

    /// The wire types of the fields this writer emits.
    enum WireType: UInt64 {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, fixed32 = 5
    }

    /// Appends `value` as a base-128 varint (no field key).
    public mutating func appendVarint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    /// The varint encoding of `value` on its own.
    public static func varintBytes(_ value: UInt64) -> [UInt8] {
        var writer = ProtobufWriter()
        writer.appendVarint(value)
        return writer.bytes
    }

    mutating func key(_ field: Int, _ type: WireType) {
        appendVarint(UInt64(field) << 3 | type.rawValue)
    }

    /// An `int64`/`uint64`/enum/`bool` field (negative values as their 64-bit two's complement).
    public mutating func varint(_ field: Int, _ value: Int64) {
        key(field, .varint)
        appendVarint(UInt64(bitPattern: value))
    }

    /// A `double` field: 8 bytes, IEEE 754 little-endian.
    public mutating func double(_ field: Int, _ value: Double) {
        key(field, .fixed64)
        appendLittleEndian(value.bitPattern)
    }

    /// A `float` field: 4 bytes, IEEE 754 little-endian.
    public mutating func float(_ field: Int, _ value: Float) {
        key(field, .fixed32)
        appendLittleEndian(value.bitPattern)
    }

    /// A `bytes` field (also an embedded message's encoding).
    public mutating func bytes(_ field: Int, _ value: [UInt8]) {
        key(field, .lengthDelimited)
        appendVarint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    /// A `string` field: its UTF-8 bytes.
    public mutating func string(_ field: Int, _ value: String) {
        bytes(field, Array(value.utf8))
    }

    /// An embedded message field.
    public mutating func message(_ field: Int, _ value: ProtobufWriter) {
        bytes(field, value.bytes)
    }

    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
}
