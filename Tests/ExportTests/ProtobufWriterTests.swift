@testable import Export
import Testing

/// The wire format: varints, fixed-width numbers and length-delimited fields, byte for byte.
@Suite struct ProtobufWriterTests {
    @Test func varints() {
        #expect(ProtobufWriter.varintBytes(0) == [0x00])
        #expect(ProtobufWriter.varintBytes(1) == [0x01])
        #expect(ProtobufWriter.varintBytes(127) == [0x7F])
        #expect(ProtobufWriter.varintBytes(128) == [0x80, 0x01])
        #expect(ProtobufWriter.varintBytes(150) == [0x96, 0x01])
        #expect(ProtobufWriter.varintBytes(300) == [0xAC, 0x02])
        #expect(ProtobufWriter.varintBytes(16_384) == [0x80, 0x80, 0x01])
        #expect(ProtobufWriter.varintBytes(UInt64.max) == [UInt8](repeating: 0xFF, count: 9) + [0x01])
    }

    @Test func fields() {
        var message = ProtobufWriter()
        message.varint(2, 150)
        message.string(1, "a")
        #expect(message.bytes == [0x10, 0x96, 0x01, 0x0A, 0x01, 0x61])

        var negative = ProtobufWriter()
        negative.varint(2, -1)       // ten bytes: the two's complement as a UInt64
        #expect(negative.bytes == [0x10] + [UInt8](repeating: 0xFF, count: 9) + [0x01])

        var numbers = ProtobufWriter()
        numbers.double(1, 1.0)
        numbers.float(2, 1.25)
        #expect(Hex.string(numbers.bytes) == "09000000000000f03f" + "150000a03f")

        var outer = ProtobufWriter()
        outer.message(5, message)
        #expect(outer.bytes == [0x2A, 0x06] + message.bytes)
        var empty = ProtobufWriter()
        empty.message(2, ProtobufWriter())
        #expect(empty.bytes == [0x12, 0x00])
    }

    @Test func fieldNumbersPast15TakeTwoKeyBytes() {
        var message = ProtobufWriter()
        message.varint(16, 1)
        #expect(message.bytes == [0x80, 0x01, 0x01])
    }
}
