import Foundation
import Testing
import TensorCore
import TestSupport
@testable import ImageData

@Suite struct PNGDecodeTests {
    static let fixtureNames: [String] = ((try? Fixtures.expected()) ?? [:]).keys.sorted()

    @Test func everyColourTypeAndDepthIsCovered() throws {
        let names = Set(Self.fixtureNames)
        for required in ["gray1", "gray2", "gray4", "gray8", "gray16", "gray8_interlaced", "rgb8", "rgb16", "rgb16_interlaced",
                         "gray_alpha8", "gray_alpha16", "rgba8", "rgba16", "rgba8_interlaced",
                         "palette1", "palette2", "palette4", "palette8", "palette8_trns"] {
            #expect(names.contains(required), "fixture \(required) missing; rerun make_fixtures.py")
        }
    }

    @Test(arguments: fixtureNames)
    func decodesFixtureLikeTheIndependentEncoder(name: String) throws {
        let expected = try #require(try Fixtures.expected()[name])
        let image = try PNGCodec.decode(contentsOf: Fixtures.path(name + ".png"))
        #expect(image.width == expected.width)
        #expect(image.height == expected.height)
        #expect(image.rgb == expected.rgb, "\(name): RGB differs")
        #expect(image.alpha == expected.alpha, "\(name): alpha differs")
    }

    @Test func roundTripsRGBGrayAndRGBA() throws {
        var rng = SeededRNG(seed: 7)
        let w = 13, h = 9
        let rgb = (0..<(w * h * 3)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let alpha = (0..<(w * h)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let gray = (0..<(w * h)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }

        let opaque = Image(width: w, height: h, rgb: rgb)
        #expect(try PNGCodec.decode(PNGCodec.encode(opaque), name: "rgb") == opaque)

        let translucent = Image(width: w, height: h, rgb: rgb, alpha: alpha)
        #expect(try PNGCodec.decode(PNGCodec.encode(translucent), name: "rgba") == translucent)

        let g = try PNGCodec.decode(PNGCodec.encode(gray, width: w, height: h, layout: .gray), name: "gray")
        #expect(g.grayPlane == gray)
        #expect(g.isGray)
        #expect(g.alpha == nil)
    }

    @Test func writesAndReadsFiles() throws {
        try withTemporaryDirectory { url in let dir = url.path
            let image = Image(width: 3, height: 2, rgb: [255, 0, 0, 0, 255, 0, 0, 0, 255, 1, 2, 3, 4, 5, 6, 7, 8, 9])
            try PNGCodec.write(image, to: dir + "/a.png")
            #expect(try PNGCodec.decode(contentsOf: dir + "/a.png") == image)
            try PNGCodec.writeGray([0, 50, 100, 150, 200, 250], width: 3, height: 2, to: dir + "/g.png")
            #expect(try PNGCodec.decode(contentsOf: dir + "/g.png").grayPlane == [0, 50, 100, 150, 200, 250])
        }
    }

    @Test func encodingIsDeterministic() throws {
        let image = Image(width: 4, height: 4, filledWith: (10, 20, 30))
        #expect(try PNGCodec.encode(image) == PNGCodec.encode(image))
    }

    @Test func wrongSignatureIsAnErrorNamingTheFile() throws {
        let path = Fixtures.path("bad_signature.png")
        #expect(throws: ImageDataError.notPNG(path: path)) { try PNGCodec.decode(contentsOf: path) }
        #expect(throws: ImageDataError.notPNG(path: "empty")) { try PNGCodec.decode([], name: "empty") }
    }

    @Test func zeroSizeIsAnError() throws {
        let path = Fixtures.path("bad_zero_width.png")
        #expect(throws: ImageDataError.invalidDimensions(path: path, width: 0, height: 5)) { try PNGCodec.decode(contentsOf: path) }
        #expect(throws: ImageDataError.self) { try PNGCodec.encode([], width: 0, height: 0, layout: .rgb) }
    }

    @Test func truncatedFilesAreErrors() throws {
        let bytes = try Fixtures.bytes("rgb8.png")
        for cut in [4, 8, 20, 40, 64, bytes.count / 2, bytes.count - 13, bytes.count - 1] {
            do {
                _ = try PNGCodec.decode(Array(bytes.prefix(cut)), name: "cut\(cut)")
                Issue.record("truncation at \(cut) of \(bytes.count) bytes decoded without error")
            } catch let error as ImageDataError {
                #expect("\(error)".contains("cut\(cut)"), "message must name the file: \(error)")
            }
        }
    }

    @Test func missingFileIsAnError() {
        #expect(throws: ImageDataError.self) { try PNGCodec.decode(contentsOf: "/nonexistent/nothing.png") }
    }

    /// Random byte flips and truncations of valid files: every outcome is an image or a thrown
    /// `ImageDataError`, never a crash.
    @Test func fuzzedFilesNeverCrash() throws {
        let sources = try ["rgb8.png", "palette4.png", "rgba16.png", "gray8_interlaced.png", "palette8_trns.png"].map(Fixtures.bytes)
        var rng = SeededRNG(seed: 2024)
        var decoded = 0, rejected = 0
        for _ in 0..<400 {
            var bytes = sources[rng.int(below: sources.count)]
            let flips = 1 + rng.int(below: 4)
            for _ in 0..<flips {
                let at = rng.int(below: bytes.count)
                bytes[at] ^= UInt8(truncatingIfNeeded: 1 + rng.int(below: 255))
            }
            if rng.chance(0.3) { bytes = Array(bytes.prefix(rng.int(below: bytes.count))) }
            do {
                let image = try PNGCodec.decode(bytes, name: "fuzz")
                #expect(image.rgb.count == image.width * image.height * 3)
                decoded += 1
            } catch is ImageDataError {
                rejected += 1
            }
        }
        #expect(decoded + rejected == 400)
        #expect(rejected > 100, "most corrupted files should be rejected (CRC checks)")
    }
}
