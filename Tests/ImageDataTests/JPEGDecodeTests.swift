import Foundation
import Testing
import TestSupport
@testable import ImageData

/// JPEG decoding against Pillow's decoding of the same files (`scripts/fixtures/make_jpeg_fixtures.py`
/// writes `Fixtures/jpeg/<name>.jpg` and Pillow's RGB bytes `<name>.rgb`).
@Suite struct JPEGDecodeTests {
    struct Expected: Decodable { var width: Int; var height: Int; var mode: String }

    static func expected() throws -> [String: Expected] {
        try JSONDecoder().decode([String: Expected].self, from: Data(contentsOf: URL(fileURLWithPath: Fixtures.path("jpeg/expected.json"))))
    }

    static let fixtureNames: [String] = ((try? expected()) ?? [:]).keys.sorted()

    /// The largest per-channel difference between two equally long byte arrays.
    static func maxDifference(_ a: [UInt8], _ b: [UInt8]) -> Int {
        zip(a, b).map { abs(Int($0) - Int($1)) }.max() ?? 0
    }

    @Test func everyVariantIsCovered() {
        for required in ["baseline", "baseline444", "progressive", "gray", "cmyk", "ycck"] {
            #expect(Self.fixtureNames.contains(required), "fixture \(required) missing; rerun scripts/fixtures/make_jpeg_fixtures.py")
        }
    }

    @Test(arguments: fixtureNames)
    func decodesWithinTwoOfPillow(name: String) throws {
        let expected = try #require(try Self.expected()[name])
        let reference = try Fixtures.bytes("jpeg/\(name).rgb")
        let image = try JPEGCodec.decode(contentsOf: Fixtures.path("jpeg/\(name).jpg"))
        #expect(image.width == expected.width)
        #expect(image.height == expected.height)
        #expect(image.alpha == nil)
        #expect(image.rgb.count == reference.count)
        let worst = Self.maxDifference(image.rgb, reference)
        #expect(worst <= 2, "\(name): a channel differs from Pillow's by \(worst)")
    }

    @Test func grayIsReplicatedAndCMYKUsesTheBlackPlate() throws {
        let gray = try JPEGCodec.decode(contentsOf: Fixtures.path("jpeg/gray.jpg"))
        #expect(gray.isGray)
        // The CMYK fixture's black plate grows from 0 (top row) to 180 (bottom row), over the same
        // picture as the RGB fixtures: the bottom row must be much darker than the baseline's.
        let cmyk = try JPEGCodec.decode(contentsOf: Fixtures.path("jpeg/cmyk.jpg"))
        let rgb = try JPEGCodec.decode(contentsOf: Fixtures.path("jpeg/baseline444.jpg"))
        let lastRow = (cmyk.height - 1) * cmyk.width * 3..<cmyk.rgb.count
        let firstRow = 0..<(cmyk.width * 3)
        func mean(_ bytes: ArraySlice<UInt8>) -> Double { Double(bytes.reduce(0) { $0 + Int($1) }) / Double(bytes.count) }
        #expect(abs(mean(cmyk.rgb[firstRow]) - mean(rgb.rgb[firstRow])) < 8)
        #expect(mean(cmyk.rgb[lastRow]) < mean(rgb.rgb[lastRow]) * 0.45)
    }

    @Test func truncatedFileIsAnErrorNamingTheFile() throws {
        let path = Fixtures.path("jpeg/truncated.jpg")
        do {
            _ = try JPEGCodec.decode(contentsOf: path)
            Issue.record("the truncated JPEG decoded without error")
        } catch let error as ImageDataError {
            guard case let .corruptJPEG(named, message) = error else { Issue.record("unexpected \(error)"); return }
            #expect(named == path)
            #expect(message.lowercased().contains("premature end"), "libjpeg's reason: \(message)")
            #expect(error.description.hasPrefix(path))
            #expect(error.description.contains("re-download or re-export"))
        }
    }

    @Test func everyCutOfAValidFileIsAnError() throws {
        let bytes = try Fixtures.bytes("jpeg/progressive.jpg")
        for cut in [1, 2, 3, 4, 20, 100, bytes.count / 2, bytes.count - 40, bytes.count - 2, bytes.count - 1] {
            do {
                _ = try JPEGCodec.decode(Array(bytes.prefix(cut)), name: "cut\(cut)")
                Issue.record("a cut at \(cut) of \(bytes.count) bytes decoded without error")
            } catch let error as ImageDataError {
                #expect(error.description.hasPrefix("cut\(cut):"), "\(error)")
            }
        }
    }

    @Test func garbageAndEmptyFilesAreErrorsNamingTheFile() throws {
        let path = Fixtures.path("jpeg/not_a_jpeg.jpg")
        #expect(throws: ImageDataError.notJPEG(path: path)) { try JPEGCodec.decode(contentsOf: path) }
        #expect(ImageDataError.notJPEG(path: path).description.contains("FF D8 FF"))
        try withTemporaryDirectory { dir in
            let empty = dir.appendingPathComponent("empty.jpg").path
            #expect(FileManager.default.createFile(atPath: empty, contents: Data()))
            #expect(throws: ImageDataError.notJPEG(path: empty)) { try JPEGCodec.decode(contentsOf: empty) }
            let missing = dir.appendingPathComponent("missing.jpg").path
            #expect { try JPEGCodec.decode(contentsOf: missing) } throws: { error in
                guard case let .unreadableFile(named, _)? = error as? ImageDataError else { return false }
                return named == missing
            }
        }
        // A start-of-image marker followed by noise: libjpeg's own complaint, no crash, no exit().
        var noise: [UInt8] = [0xFF, 0xD8, 0xFF]
        var state: UInt32 = 12345
        for _ in 0..<500 { state = state &* 1_664_525 &+ 1_013_904_223; noise.append(UInt8(truncatingIfNeeded: state >> 24)) }
        #expect { try JPEGCodec.decode(noise, name: "noise.jpg") } throws: { error in
            guard case let .corruptJPEG(named, message)? = error as? ImageDataError else { return false }
            return named == "noise.jpg" && !message.isEmpty
        }
    }

    @Test func damagedScanDataIsAnErrorNotAGrayPatch() throws {
        // An end-of-image marker in the middle of the entropy-coded data: libjpeg only warns
        // ("premature end of data segment") and paints the rest gray; that must be an error.
        var bytes = try Fixtures.bytes("jpeg/baseline444.jpg")
        let scan = try #require((2..<(bytes.count - 1)).first { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xDA })
        let middle = (scan + bytes.count) / 2
        bytes[middle] = 0xFF; bytes[middle + 1] = 0xD9
        #expect { try JPEGCodec.decode(bytes, name: "damaged.jpg") } throws: { error in
            guard case let .corruptJPEG(named, message)? = error as? ImageDataError else { return false }
            return named == "damaged.jpg" && message.lowercased().contains("corrupt jpeg data")
        }
    }

    /// Offset of the baseline frame header (SOF0, FF C0) in `bytes`.
    static func frameHeader(_ bytes: [UInt8]) -> Int? {
        (2..<(bytes.count - 1)).first { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xC0 }
    }

    @Test func absurdAndZeroDimensionsAreErrors() throws {
        var bytes = try Fixtures.bytes("jpeg/baseline.jpg")
        let sof = try #require(Self.frameHeader(bytes))
        // SOF0: marker (2), length (2), precision (1), height (2), width (2).
        bytes[sof + 5] = 0xFD; bytes[sof + 6] = 0xE8; bytes[sof + 7] = 0xFD; bytes[sof + 8] = 0xE8
        #expect(throws: ImageDataError.invalidDimensions(path: "huge.jpg", width: 65000, height: 65000)) {
            try JPEGCodec.decode(bytes, name: "huge.jpg")
        }
        bytes[sof + 5] = 0; bytes[sof + 6] = 0
        #expect { try JPEGCodec.decode(bytes, name: "zero.jpg") } throws: { error in
            (error as? ImageDataError)?.description.hasPrefix("zero.jpg:") == true
        }
    }

    @Test func imageFileDispatchesJPEGExtensionsInAnyCase() throws {
        let source = try Fixtures.bytes("jpeg/baseline.jpg")
        let direct = try JPEGCodec.decode(source, name: "baseline")
        try withTemporaryDirectory { dir in
            for name in ["a.jpg", "b.JPEG", "c.Jpg", "d.jpeg"] {
                let path = dir.appendingPathComponent(name).path
                try Data(source).write(to: URL(fileURLWithPath: path))
                #expect(ImageFile.isImage(name: name))
                #expect(try ImageFile.decode(contentsOf: path) == direct, "\(name)")
            }
            // A PNG named .jpg is reported as not a JPEG (the fix: rename it), not decoded as PNG.
            let png = dir.appendingPathComponent("really_png.jpg").path
            try PNGCodec.write(Image(width: 2, height: 2, filledWith: (1, 2, 3)), to: png)
            #expect(throws: ImageDataError.notJPEG(path: png)) { try ImageFile.decode(contentsOf: png) }
        }
    }
}
