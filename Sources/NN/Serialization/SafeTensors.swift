import Foundation
import TensorCore

/// Reading and writing the safetensors format (Hugging Face), the checkpoint format PyTorch code
/// loads with `safetensors.torch.load_file`.
///
/// Layout of a file:
///
///     [8 bytes]  N, the header length, unsigned little-endian
///     [N bytes]  JSON header: {"__metadata__": {string: string}, name: {"dtype": "F32",
///                "shape": [d0, d1, …], "data_offsets": [begin, end]}, …}, padded with spaces
///                to a multiple of 8
///     [rest]     the tensors' raw little-endian bytes; offsets are relative to this section
///
/// The writer follows the reference implementation byte for byte: tensors ordered by descending
/// dtype alignment then by name (so the `I64` buffers come first), the header listing
/// `__metadata__` first and the tensors in data order, compact JSON, space padding. Metadata keys
/// are sorted.
///
/// `Tensor` holds `Float32`, so every dtype is converted to and from `Float`: integers beyond 2²⁴
/// lose precision, which is harmless for the counters (`num_batches_tracked`) stored as `I64`.
/// The reader accepts BOOL, U8, I8, I16, U16, F16, BF16, I32, U32, F32, F64, I64 and U64; the
/// writer produces F32, F64, I32 and I64.
///
/// The reader never traps on a malformed file: every problem is a `SafeTensorsError` naming the
/// file and, where there is one, the tensor.
public enum SafeTensors {
    /// An element type of the format.
    public enum DType: String, Sendable, CaseIterable, Codable {
        case bool = "BOOL", u8 = "U8", i8 = "I8", i16 = "I16", u16 = "U16", f16 = "F16", bf16 = "BF16"
        case i32 = "I32", u32 = "U32", f32 = "F32", f64 = "F64", i64 = "I64", u64 = "U64"

        /// Bytes per element.
        public var size: Int {
            switch self {
            case .bool, .u8, .i8: return 1
            case .i16, .u16, .f16, .bf16: return 2
            case .i32, .u32, .f32: return 4
            case .f64, .i64, .u64: return 8
            }
        }

        /// Whether `write` can produce this dtype.
        public var isWritable: Bool { [.f32, .f64, .i32, .i64].contains(self) }

        /// The reference implementation's ordering (its `Dtype` enum), used to lay out data.
        var referenceRank: Int { DType.allCases.firstIndex(of: self)! }
    }

    /// A tensor to write: its name, values and the dtype it is stored as.
    public typealias Entry = (name: String, tensor: Tensor, dtype: DType)
    /// A tensor read back: its values (converted to `Float`) and the dtype the file stored.
    public typealias Loaded = (tensor: Tensor, dtype: DType)

    // MARK: Files

    /// Writes `tensors` and `metadata` to `url` (replacing any file there).
    /// - Throws: `SafeTensorsError` for duplicate or reserved names, unwritable dtypes, integer
    ///   dtypes holding non-integral values, or a failed write.
    public static func write(_ tensors: [Entry], metadata: [String: String] = [:], to url: URL) throws {
        let bytes = try encode(tensors, metadata: metadata, file: url.path)
        do { try Data(bytes).write(to: url, options: .atomic) } catch {
            throw SafeTensorsError.io(file: url.path, detail: "cannot write: \(error.localizedDescription)")
        }
    }

    /// Reads every tensor of the file at `url`.
    public static func read(_ url: URL) throws -> [String: Loaded] { try readWithMetadata(url).tensors }

    /// Reads every tensor and the `__metadata__` map of the file at `url`.
    public static func readWithMetadata(_ url: URL) throws -> (tensors: [String: Loaded], metadata: [String: String]) {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw SafeTensorsError.io(file: url.path, detail: "cannot read: \(error.localizedDescription)")
        }
        return try decode([UInt8](data), file: url.path)
    }

    // MARK: Bytes

    /// The file contents for `tensors` and `metadata`.
    /// - Parameter file: the name used in error messages.
    public static func encode(_ tensors: [Entry], metadata: [String: String] = [:], file: String = "<memory>") throws -> [UInt8] {
        var seen = Set<String>()
        for e in tensors {
            guard e.name != "__metadata__" else { throw SafeTensorsError.invalidHeader(file: file, detail: "'__metadata__' is reserved and cannot name a tensor") }
            guard seen.insert(e.name).inserted else { throw SafeTensorsError.invalidHeader(file: file, detail: "tensor '\(e.name)' is listed twice") }
            guard e.dtype.isWritable else { throw SafeTensorsError.unsupportedDType(file: file, tensor: e.name, dtype: e.dtype.rawValue, detail: "the writer produces F32, F64, I32 and I64") }
        }
        let ordered = tensors.sorted { a, b in
            a.dtype.referenceRank != b.dtype.referenceRank ? a.dtype.referenceRank > b.dtype.referenceRank : a.name.utf8.lexicographicallyPrecedes(b.name.utf8)
        }

        var header = "{"
        var fields: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
            fields.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for e in ordered {
            let end = offset + e.tensor.count * e.dtype.size
            fields.append("\(jsonString(e.name)):{\"dtype\":\"\(e.dtype.rawValue)\",\"shape\":[\(e.tensor.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        header += fields.joined(separator: ",") + "}"
        var headerBytes = Array(header.utf8)
        headerBytes += [UInt8](repeating: 0x20, count: (8 - headerBytes.count % 8) % 8)

        var out: [UInt8] = []
        out.reserveCapacity(8 + headerBytes.count + offset)
        appendLittleEndian(UInt64(headerBytes.count), to: &out)
        out += headerBytes
        for e in ordered {
            let p = e.tensor.pointer
            #if _endian(little)
            if e.dtype == .f32 {
                out.append(contentsOf: UnsafeRawBufferPointer(start: p, count: e.tensor.count * 4))
                continue
            }
            #endif
            for i in 0..<e.tensor.count {
                let v = p[i]
                switch e.dtype {
                case .f32: appendLittleEndian(v.bitPattern, to: &out)
                case .f64: appendLittleEndian(Double(v).bitPattern, to: &out)
                case .i32:
                    guard let x = Int32(exactly: v) else { throw nonIntegral(file, e, i, v) }
                    appendLittleEndian(UInt32(bitPattern: x), to: &out)
                case .i64:
                    guard let x = Int64(exactly: v) else { throw nonIntegral(file, e, i, v) }
                    appendLittleEndian(UInt64(bitPattern: x), to: &out)
                default: preconditionFailure("checked above")
                }
            }
        }
        return out
    }

    /// Parses file contents.
    /// - Parameter file: the name used in error messages.
    /// - Returns: the tensors by name (values as `Float`, with the stored dtype) and the metadata.
    public static func decode(_ bytes: [UInt8], file: String = "<memory>") throws -> (tensors: [String: Loaded], metadata: [String: String]) {
        guard bytes.count >= 8 else {
            throw SafeTensorsError.truncated(file: file, detail: "the file has \(bytes.count) bytes; a safetensors file starts with an 8-byte header length")
        }
        let headerLength = readLittleEndian(UInt64.self, bytes, at: 0)
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw SafeTensorsError.truncated(file: file, detail: "the header length field says \(headerLength) bytes but only \(bytes.count - 8) follow it")
        }
        let dataStart = 8 + Int(headerLength), dataSize = bytes.count - dataStart
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: Data(bytes[8..<dataStart])) } catch {
            throw SafeTensorsError.invalidHeader(file: file, detail: "the header is not valid JSON (\(headerLength) bytes starting \(String(decoding: bytes[8..<min(dataStart, 48)], as: UTF8.self).debugDescription))")
        }
        guard let root = json as? [String: Any] else {
            throw SafeTensorsError.invalidHeader(file: file, detail: "the header must be a JSON object, got \(type(of: json))")
        }

        var metadata: [String: String] = [:]
        if let m = root["__metadata__"] {
            guard let dict = m as? [String: Any] else { throw SafeTensorsError.invalidHeader(file: file, detail: "'__metadata__' must be an object of strings") }
            for (k, v) in dict {
                guard let s = v as? String else { throw SafeTensorsError.invalidHeader(file: file, detail: "'__metadata__' entry '\(k)' must be a string, got \(v)") }
                metadata[k] = s
            }
        }

        struct Info { let name: String, dtype: DType, shape: [Int], count: Int, begin: Int, end: Int }
        var infos: [Info] = []
        for (name, value) in root where name != "__metadata__" {
            func bad(_ detail: String) -> SafeTensorsError { .invalidHeader(file: file, detail: "tensor '\(name)': \(detail)") }
            guard let entry = value as? [String: Any] else { throw bad("the entry must be an object with dtype, shape and data_offsets") }
            guard let dtypeName = entry["dtype"] as? String else { throw bad("missing string field 'dtype'") }
            guard let dtype = DType(rawValue: dtypeName) else {
                throw SafeTensorsError.unsupportedDType(file: file, tensor: name, dtype: dtypeName,
                                                        detail: "supported: \(DType.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard let shape = integers(entry["shape"]), shape.allSatisfy({ $0 >= 0 }) else { throw bad("'shape' must be an array of non-negative integers, got \(entry["shape"].map { "\($0)" } ?? "nothing")") }
            var count = 1
            for d in shape {
                let (c, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow else { throw bad("shape \(shape) has too many elements") }
                count = c
            }
            guard let offsets = integers(entry["data_offsets"]), offsets.count == 2 else {
                throw bad("'data_offsets' must be [begin, end], got \(entry["data_offsets"].map { "\($0)" } ?? "nothing")")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, begin <= end else {
                throw SafeTensorsError.invalidOffsets(file: file, tensor: name, detail: "data_offsets [\(begin), \(end)] are not an ordered pair of non-negative offsets")
            }
            guard end <= dataSize else {
                throw SafeTensorsError.truncated(file: file, detail: "tensor '\(name)': data_offsets [\(begin), \(end)] run past the \(dataSize) bytes of data after the header")
            }
            let (bytesNeeded, overflow) = count.multipliedReportingOverflow(by: dtype.size)
            guard !overflow, end - begin == bytesNeeded else {
                throw SafeTensorsError.invalidOffsets(file: file, tensor: name, detail: "data_offsets [\(begin), \(end)] span \(end - begin) bytes but \(dtype.rawValue) \(shape) needs \(overflow ? "more than Int.max" : String(bytesNeeded))")
            }
            infos.append(Info(name: name, dtype: dtype, shape: shape, count: count, begin: begin, end: end))
        }
        let byStart = infos.filter { $0.end > $0.begin }.sorted { ($0.begin, $0.name) < ($1.begin, $1.name) }
        for (a, b) in zip(byStart, byStart.dropFirst()) where b.begin < a.end {
            throw SafeTensorsError.invalidOffsets(file: file, tensor: b.name, detail: "data_offsets [\(b.begin), \(b.end)] overlap tensor '\(a.name)' at [\(a.begin), \(a.end)]")
        }

        var tensors: [String: Loaded] = [:]
        for info in infos {
            let t = Tensor.uninitialized(info.shape)
            let out = t.storage.pointer
            bytes.withUnsafeBytes { raw in
                let base = dataStart + info.begin
                for i in 0..<info.count {
                    let o = base + i * info.dtype.size
                    switch info.dtype {
                    case .bool: out[i] = raw[o] != 0 ? 1 : 0
                    case .u8: out[i] = Float(raw[o])
                    case .i8: out[i] = Float(Int8(bitPattern: raw[o]))
                    case .i16: out[i] = Float(Int16(bitPattern: load(UInt16.self, raw, o)))
                    case .u16: out[i] = Float(load(UInt16.self, raw, o))
                    case .f16: out[i] = halfToFloat(load(UInt16.self, raw, o))
                    case .bf16: out[i] = Float(bitPattern: UInt32(load(UInt16.self, raw, o)) << 16)
                    case .i32: out[i] = Float(Int32(bitPattern: load(UInt32.self, raw, o)))
                    case .u32: out[i] = Float(load(UInt32.self, raw, o))
                    case .f32: out[i] = Float(bitPattern: load(UInt32.self, raw, o))
                    case .f64: out[i] = Float(Double(bitPattern: load(UInt64.self, raw, o)))
                    case .i64: out[i] = Float(Int64(bitPattern: load(UInt64.self, raw, o)))
                    case .u64: out[i] = Float(load(UInt64.self, raw, o))
                    }
                }
            }
            tensors[info.name] = (t, info.dtype)
        }
        return (tensors, metadata)
    }

    // MARK: Helpers

    private static func nonIntegral(_ file: String, _ e: Entry, _ i: Int, _ v: Float) -> SafeTensorsError {
        .unsupportedDType(file: file, tensor: e.name, dtype: e.dtype.rawValue, detail: "element \(i) is \(v), which \(e.dtype.rawValue) cannot hold")
    }

    /// A JSON array of integers, or `nil` (rejects fractions and numbers beyond ±2⁶³).
    private static func integers(_ value: Any?) -> [Int]? {
        guard let array = value as? [Any] else { return nil }
        var out: [Int] = []
        for v in array {
            guard let n = v as? NSNumber, let i = Int(exactly: n.doubleValue) else { return nil }
            out.append(i)
        }
        return out
    }

    @inline(__always)
    private static func load<T: FixedWidthInteger>(_: T.Type, _ raw: UnsafeRawBufferPointer, _ offset: Int) -> T {
        T(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    private static func readLittleEndian<T: FixedWidthInteger>(_: T.Type, _ bytes: [UInt8], at offset: Int) -> T {
        bytes.withUnsafeBytes { load(T.self, $0, offset) }
    }

    private static func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }

    /// IEEE 754 binary16 → binary32 (exact), portable to platforms without `Float16`.
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16, exponent = Int(h >> 10 & 0x1F), mantissa = UInt32(h & 0x3FF)
        switch exponent {
        case 0:
            let magnitude = Float(mantissa) * 0x1p-24  // subnormal (or zero)
            return sign != 0 ? -magnitude : magnitude
        case 31:
            return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13)  // inf / NaN
        default:
            return Float(bitPattern: sign | UInt32(exponent + 112) << 23 | mantissa << 13)
        }
    }

    /// A JSON string literal as serde_json writes it (quotes, backslash and control characters escaped).
    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}

/// A safetensors file (or state dictionary) that cannot be read, written or loaded into a model.
///
/// Every case names the file (`"<memory>"` for in-memory bytes, `"state dictionary"` for
/// `Module.loadState(from:strict:)`) and, where there is one, the tensor.
public enum SafeTensorsError: Error, CustomStringConvertible, Equatable {
    /// The file could not be read or written.
    case io(file: String, detail: String)
    /// The file ends before its header or a tensor's data does.
    case truncated(file: String, detail: String)
    /// The JSON header is malformed or describes an impossible tensor.
    case invalidHeader(file: String, detail: String)
    /// A tensor's byte range lies outside the data, has the wrong size, or overlaps another.
    case invalidOffsets(file: String, tensor: String, detail: String)
    /// A dtype the reader does not know or the writer cannot produce.
    case unsupportedDType(file: String, tensor: String, dtype: String, detail: String)
    /// Strict loading: the model has tensors the file lacks.
    case missingTensors(file: String, names: [String])
    /// Strict loading: the file has tensors the model lacks.
    case unexpectedTensors(file: String, names: [String])
    /// A tensor's shape in the file differs from the model's.
    case shapeMismatch(file: String, tensor: String, fileShape: [Int], modelShape: [Int])

    public var description: String {
        func list(_ names: [String]) -> String {
            let shown = names.prefix(8).map { "'\($0)'" }.joined(separator: ", ")
            return names.count > 8 ? "\(shown) and \(names.count - 8) more" : shown
        }
        switch self {
        case .io(let f, let d): return "\(f): \(d)"
        case .truncated(let f, let d): return "\(f): truncated safetensors file: \(d)"
        case .invalidHeader(let f, let d): return "\(f): invalid safetensors header: \(d)"
        case .invalidOffsets(let f, let t, let d): return "\(f): tensor '\(t)': \(d)"
        case .unsupportedDType(let f, let t, let dt, let d): return "\(f): tensor '\(t)': unsupported dtype '\(dt)' (\(d))"
        case .missingTensors(let f, let n):
            return "\(f): missing \(n.count) tensor\(n.count == 1 ? "" : "s") the model expects: \(list(n)) (load with strict: false to keep their current values)"
        case .unexpectedTensors(let f, let n):
            return "\(f): \(n.count) tensor\(n.count == 1 ? "" : "s") the model does not have: \(list(n)) (was it saved from another architecture? load with strict: false to ignore them)"
        case .shapeMismatch(let f, let t, let fs, let ms): return "\(f): tensor '\(t)': file has \(fs), model expects \(ms)"
        }
    }
}
