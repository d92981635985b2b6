import Foundation
import Testing
@testable import ImageData

/// The `.npy` reader against files numpy wrote (`scripts/fixtures/make_in9_fixture.py`): every
/// array holds arange(12) as (3, 4), cast per dtype.
@Suite struct NPYReaderTests {
    static let cases: [(String, NPYArray.DType)] = [("bool", .bool), ("u1", .uint8), ("f4", .float32), ("f8", .float64), ("i8", .int64)]
    static let names: [String] = cases.flatMap { c in ["c", "f"].flatMap { o in (1...3).map { "\(c.0)_\(o)_v\($0)" } } }

    static func expected(_ dtype: NPYArray.DType) -> NPYArray.Values {
        let base = (0..<12).map { $0 }
        switch dtype {
        case .bool: return .bool(base.map { $0 % 3 == 0 })
        case .uint8: return .uint8(base.map(UInt8.init))
        case .float32: return .float32(base.map { Float($0) * 0.5 })
        case .float64: return .float64(base.map { Double($0) * 0.5 })
        case .int64: return .int64(base.map(Int64.init))
        }
    }

    @Test(arguments: names)
    func readsEveryDtypeOrderAndVersion(name: String) throws {
        let dtype = Self.cases.first { name.hasPrefix($0.0 + "_") }!.1
        let array = try NPYReader.read(contentsOf: Fixtures.path("npy/\(name).npy"))
        #expect(array.shape == [3, 4])
        #expect(array.dtype == dtype)
        #expect(array.values == Self.expected(dtype), "\(name): values differ from numpy's (C order)")
    }

    @Test func readsAThreeDimensionalFortranArrayInCOrder() throws {
        let array = try NPYReader.read(contentsOf: Fixtures.path("npy/f4_f_3d.npy"))
        #expect(array.shape == [2, 3, 2])
        #expect(array.values == .float32((0..<12).map(Float.init)))
    }

    @Test func refusesBadFilesNamingTheFileWhatAndTheFix() throws {
        func message(_ name: String) -> String {
            do { _ = try NPYReader.read(contentsOf: Fixtures.path("npy/\(name)")); return "" } catch { return "\(error)" }
        }
        let magic = message("bad_magic.npy")
        #expect(magic.contains("bad_magic.npy") && magic.contains("89 50 4e 47") && magic.contains("\\x93NUMPY"), "\(magic)")
        let truncated = message("truncated.npy")
        #expect(truncated.contains("truncated.npy") && truncated.contains("needs 96 bytes") && truncated.contains("holds 76"), "\(truncated)")
        let big = message("big_endian.npy")
        #expect(big.contains("'>f4' is not supported") && big.contains("<f4"), "\(big)")
        let int32 = message("int32.npy")
        #expect(int32.contains("'<i4' is not supported"), "\(int32)")
        let missing = message("absent.npy")
        #expect(missing.contains("absent.npy") && missing.contains("cannot read"), "\(missing)")
        #expect(throws: NPYError.self) { try NPYReader.parse([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 9, 0, 0, 0], path: "v9.npy") }
    }

    /// A version-1.0 file with `header` and `data`, built by hand.
    static func npy(header: String, data: [UInt8] = []) -> [UInt8] {
        let h = Array(header.utf8)
        return [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(h.count & 0xFF), UInt8(h.count >> 8)] + h + data
    }

    @Test(arguments: [
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 1099511627776), }", "too large"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }", "not a non-negative integer"),
        ("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", "no 'descr' string"),
        ("{'descr': '<f4', 'fortran_order': maybe, 'shape': (2,), }", "expected True or False"),
        ("{'descr': '<f4', 'fortran_order': False}", "no 'shape' tuple"),
        ("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", "'<c8' is not supported"),
    ])
    func refusesBadHeadersWithoutCrashing(header: String, message: String) {
        do {
            _ = try NPYReader.parse(Self.npy(header: header), path: "hand.npy")
            Issue.record("accepted \(header)")
        } catch {
            #expect("\(error)".hasPrefix("hand.npy: ") && "\(error)".contains(message), "\(error)")
        }
    }

    @Test func readsAHandWrittenHeaderAndRefusesShortFiles() throws {
        let array = try NPYReader.parse(Self.npy(header: "{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }\n", data: [7, 8, 9]), path: "h")
        #expect(array.shape == [3] && array.values == .uint8([7, 8, 9]))
        #expect(throws: NPYError.self) { try NPYReader.parse([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1], path: "short.npy") }
        #expect(throws: NPYError.self) { try NPYReader.parse(Array(Self.npy(header: "{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }").dropLast(5)), path: "cut.npy") }
    }

    @Test func masksThresholdEveryDtypeAndRefuseWrongShapes() throws {
        // (3, 4) bool: foreground where value % 3 == 0.
        let bool = try NPYReader.read(contentsOf: Fixtures.path("npy/bool_c_v1.npy")).binaryMask(width: 4, height: 3, path: "m")
        #expect(bool == (0..<12).map { $0 % 3 == 0 ? 255 : 0 })
        // 0…11 as uint8: full scale 255, nothing reaches 127.5.
        let u8 = try NPYReader.read(contentsOf: Fixtures.path("npy/u1_c_v1.npy")).binaryMask(width: 4, height: 3, path: "m")
        #expect(u8.allSatisfy { $0 == 0 })
        // Soft weights in [0, 1] threshold at 0.5; (H, W, 3) is foreground where any channel is.
        let soft = NPYArray(shape: [1, 2, 3], dtype: .float32, values: .float32([0.2, 0.9, 0, 0.1, 0.4, 0.3]))
        #expect(try soft.binaryMask(width: 2, height: 1, path: "m") == [255, 0])
        let wrong = NPYArray(shape: [4, 3], dtype: .uint8, values: .uint8([UInt8](repeating: 1, count: 12)))
        #expect(throws: NPYError.self) { try wrong.binaryMask(width: 4, height: 3, path: "m") }
        do { _ = try wrong.binaryMask(width: 4, height: 3, path: "x.npy") } catch {
            #expect("\(error)".contains("x.npy: mask shape (4, 3) does not fit the 4×3 image; expected (3, 4)"), "\(error)")
        }
        let negative = NPYArray(shape: [1, 1], dtype: .float64, values: .float64([-1]))
        #expect(throws: NPYError.self) { try negative.binaryMask(width: 1, height: 1, path: "m") }
    }
}
