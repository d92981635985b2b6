/// Hex text of bytes and back, for golden values written as TensorBoard's Python writer prints them.
enum Hex {
    static func string(_ bytes: [UInt8]) -> String {
        bytes.map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]])
        }.joined()
    }
}
