import Foundation

/// A NumPy array read from a `.npy` file: its shape and its values in C (row-major) order,
/// whatever order the file stored them in.
///
/// Supported: format versions 1.0, 2.0 and 3.0; little-endian or byte-order-free dtypes
/// `|b1` (bool), `|u1` (uint8), `<f4` (float32), `<f8` (float64), `<i8` (int64); C and Fortran
/// order. Anything else is an `NPYError` naming the file, what it found and what is expected.
public struct NPYArray: Sendable, Equatable {
    /// The element type, spelled as NumPy's `descr`.
    public enum DType: String, CaseIterable, Sendable {
        case bool = "|b1"
        case uint8 = "|u1"
        case float32 = "<f4"
        case float64 = "<f8"
        case int64 = "<i8"

        /// Bytes per element.
        public var size: Int {
            switch self {
            case .bool, .uint8: return 1
            case .float32: return 4
            case .float64, .int64: return 8
            }
        }
    }

    /// The values, typed by the file's dtype, in C order (`values[((i0 · d1) + i1) · d2 + i2]`).
    public enum Values: Sendable, Equatable {
        case bool([Bool])
        case uint8([UInt8])
        case float32([Float])
        case float64([Double])
        case int64([Int64])

        public var count: Int {
            switch self {
            case .bool(let v): return v.count
            case .uint8(let v): return v.count
            case .float32(let v): return v.count
            case .float64(let v): return v.count
            case .int64(let v): return v.count
            }
        }

        /// Every value as a `Double` (`true` = 1), in C order.
        public var doubles: [Double] {
            switch self {
            case .bool(let v): return v.map { $0 ? 1 : 0 }
            case .uint8(let v): return v.map(Double.init)
            case .float32(let v): return v.map(Double.init)
            case .float64(let v): return v
            case .int64(let v): return v.map(Double.init)
            }
        }
    }

    public var shape: [Int]
    public var dtype: DType
    public var values: Values

    public init(shape: [Int], dtype: DType, values: Values) {
        self.shape = shape
        self.dtype = dtype
        self.values = values
    }
}

/// Why a `.npy` file could not be read; every message names the file, what was found and what
/// is expected.
public struct NPYError: Error, CustomStringConvertible, Equatable, Sendable {
    public var path: String
    public var problem: String
    public init(path: String, problem: String) { (self.path, self.problem) = (path, problem) }
    public var description: String { "\(path): \(problem)" }
}

/// Parses NumPy's `.npy` format (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
/// the magic `\x93NUMPY`, a major and minor version byte, the header length (uint16 LE in 1.0,
/// uint32 LE in 2.0 and 3.0), a Python dict literal `{'descr': '<f4', 'fortran_order': False,
/// 'shape': (H, W), }` padded with spaces and a newline, then the raw data.
public enum NPYReader {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]

    /// Reads the file at `path`.
    /// - Throws: `NPYError` (unreadable file, wrong magic, unknown version, bad header,
    ///   unsupported dtype, truncated data).
    public static func read(contentsOf path: String) throws -> NPYArray {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw NPYError(path: path, problem: "cannot read the file; check that it exists and is readable")
        }
        return try parse([UInt8](data), path: path)
    }

    /// Parses the bytes of a `.npy` file; `path` names it in errors.
    public static func parse(_ bytes: [UInt8], path: String) throws -> NPYArray {
        func fail(_ problem: String) -> NPYError { NPYError(path: path, problem: problem) }
        guard bytes.count >= 6, Array(bytes[0..<6]) == magic else {
            let found = bytes.prefix(6).map { String(format: "%02x", $0) }.joined(separator: " ")
            throw fail("not a NumPy .npy file: the file starts with [\(found)], expected the magic \\x93NUMPY (93 4e 55 4d 50 59); save the array with numpy.save")
        }
        guard bytes.count >= 10 else { throw fail("truncated header: \(bytes.count) bytes, expected at least 10") }
        let major = Int(bytes[6]), minor = Int(bytes[7])
        let headerLength: Int, headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw fail("truncated header: \(bytes.count) bytes, expected at least 12 for format \(major).\(minor)") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default:
            throw fail("format version \(major).\(minor) is not supported; expected 1.0, 2.0 or 3.0")
        }
        let dataStart = headerStart + headerLength
        guard dataStart <= bytes.count else {
            throw fail("truncated header: it declares \(headerLength) bytes but the file has \(bytes.count - headerStart) after the preamble")
        }
        let header = String(decoding: bytes[headerStart..<dataStart], as: UTF8.self)
        let (descr, fortran, shape) = try parseHeader(header, fail: fail)
        guard let dtype = NPYArray.DType(rawValue: descr) ?? aliases[descr] else {
            throw fail("dtype '\(descr)' is not supported; expected one of \(NPYArray.DType.allCases.map(\.rawValue).joined(separator: ", ")) (bool, uint8, little-endian float32, float64 or int64)")
        }
        var count = 1
        for n in shape + [dtype.size] {
            let (product, overflow) = count.multipliedReportingOverflow(by: n)
            guard !overflow else { throw fail("shape \(shapeText(shape)) is too large to read") }
            count = product
        }
        let needed = count
        count /= dtype.size
        guard bytes.count - dataStart >= needed else {
            throw fail("truncated data: shape \(shapeText(shape)) of \(descr) needs \(needed) bytes, the file holds \(bytes.count - dataStart)")
        }
        let raw = bytes[dataStart..<(dataStart + needed)]
        // Fortran order: element (i0, …, ik) sits at i0 + d0·(i1 + d1·(…)); gather into C order.
        let order = fortran && shape.count > 1 ? fortranToC(shape) : nil
        func gather<T>(_ read: (Int) -> T) -> [T] {
            guard let order else { return (0..<count).map(read) }
            return order.map(read)
        }
        let values: NPYArray.Values = raw.withUnsafeBytes { p in
            switch dtype {
            case .bool: return .bool(gather { p[$0] != 0 })
            case .uint8: return .uint8(gather { p[$0] })
            case .float32: return .float32(gather { Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) })
            case .float64: return .float64(gather { Double(bitPattern: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self))) })
            case .int64: return .int64(gather { Int64(littleEndian: p.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) })
            }
        }
        return NPYArray(shape: shape, dtype: dtype, values: values)
    }

    /// Other spellings NumPy uses for the same byte layout (`<u1`, `|i1` are not aliases: `|i1` is signed).
    static let aliases: [String: NPYArray.DType] = ["<u1": .uint8, "=u1": .uint8, "<b1": .bool, "=b1": .bool]

    /// For each C-order position, the index of that element in the Fortran-order data.
    static func fortranToC(_ shape: [Int]) -> [Int] {
        let count = shape.reduce(1, *)
        var fortranStride = [Int](repeating: 1, count: shape.count)
        for k in 1..<shape.count { fortranStride[k] = fortranStride[k - 1] * shape[k - 1] }
        var out = [Int](repeating: 0, count: count)
        var index = [Int](repeating: 0, count: shape.count)
        for c in 0..<count {
            var f = 0
            for k in 0..<shape.count { f += index[k] * fortranStride[k] }
            out[c] = f
            var k = shape.count - 1
            while k >= 0 {
                index[k] += 1
                if index[k] < shape[k] { break }
                index[k] = 0
                k -= 1
            }
        }
        return out
    }

    static func shapeText(_ shape: [Int]) -> String {
        "(" + shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? ",)" : ")")
    }

    /// Reads `descr`, `fortran_order` and `shape` from the header's dict literal.
    static func parseHeader(_ header: String, fail: (String) -> NPYError) throws -> (String, Bool, [Int]) {
        func value(of key: String) -> Substring? {
            guard let k = header.range(of: "'\(key)'") ?? header.range(of: "\"\(key)\"") else { return nil }
            var rest = header[k.upperBound...].drop { $0 == " " }
            guard rest.first == ":" else { return nil }
            rest = rest.dropFirst().drop { $0 == " " }
            return rest
        }
        guard let d = value(of: "descr"), let quote = d.first, quote == "'" || quote == "\"",
              let end = d.dropFirst().firstIndex(of: quote) else {
            throw fail("header has no 'descr' string (a structured or object dtype?); expected e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (224, 224)}")
        }
        let descr = String(d[d.index(after: d.startIndex)..<end])
        guard let f = value(of: "fortran_order") else { throw fail("header has no 'fortran_order'; expected True or False") }
        let fortran: Bool
        if f.hasPrefix("True") { fortran = true } else if f.hasPrefix("False") { fortran = false } else {
            throw fail("header's 'fortran_order' is '\(f.prefix(8))', expected True or False")
        }
        guard let s = value(of: "shape"), s.first == "(", let close = s.firstIndex(of: ")") else {
            throw fail("header has no 'shape' tuple; expected e.g. 'shape': (224, 224)")
        }
        let items = s[s.index(after: s.startIndex)..<close].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var shape: [Int] = []
        for item in items {
            guard let n = Int(item.hasSuffix("L") ? String(item.dropLast()) : item), n >= 0 else {
                throw fail("header's shape entry '\(item)' is not a non-negative integer")
            }
            shape.append(n)
        }
        return (descr, fortran, shape)
    }
}
