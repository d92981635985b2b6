import Testing
import TensorCore
@testable import ImageData

/// The `only-background-tiled` view (`Views.tileBackground`).
@Suite struct TiledBackgroundTests {
    /// An image whose every pixel has its own colour: pixel p is (p mod 256, p / 256, 77).
    static func uniqueImage(width: Int, height: Int) -> [UInt8] {
        (0..<(width * height)).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8), 77] }
    }

    static func source(_ out: [UInt8], _ p: Int) -> Int? {
        out[3 * p + 2] == 77 ? Int(out[3 * p]) | Int(out[3 * p + 1]) << 8 : nil
    }

    /// Random sizes and soft masks: no foreground pixel survives, every pixel outside the
    /// foreground's box is the input's, every pixel inside it is a copy of a pixel outside the box.
    @Test func keepsTheOutsideAndFillsTheBoxWithBackgroundPixels() throws {
        var rng = SeededRNG(seed: 11)
        for trial in 0..<300 {
            let w = 2 + rng.int(below: 31), h = 2 + rng.int(below: 31)
            var mask = [UInt8](repeating: 0, count: w * h)
            let bx = rng.int(below: w), by = rng.int(below: h)
            let bw = 1 + rng.int(below: w - bx), bh = 1 + rng.int(below: h - by)
            for y in by..<(by + bh) { for x in bx..<(bx + bw) where rng.chance(0.7) { mask[y * w + x] = UInt8(1 + rng.int(below: 255)) } }
            let image = Self.uniqueImage(width: w, height: h)
            let fill = [UInt8](repeating: 5, count: w * h * 3)
            let out = Views.tileBackground(image, mask: mask, width: w, height: h, fill: fill)
            guard let (x0, y0, x1, y1) = Views.boundingBox(mask, width: w, height: h, threshold: 0) else {
                #expect(out == image); continue
            }
            let coversAll = x0 == 0 && y0 == 0 && x1 == w - 1 && y1 == h - 1
            for y in 0..<h {
                for x in 0..<w {
                    let p = y * w + x
                    let inBox = x >= x0 && x <= x1 && y >= y0 && y <= y1
                    if !inBox {
                        #expect(out[(3 * p)..<(3 * p + 3)] == image[(3 * p)..<(3 * p + 3)], "trial \(trial): pixel (\(x), \(y)) outside the box changed")
                    } else if coversAll {
                        #expect(out[(3 * p)..<(3 * p + 3)] == [5, 5, 5], "trial \(trial): the whole-image box is not filled")
                    } else {
                        let q = try #require(Self.source(out, p), "trial \(trial): pixel (\(x), \(y)) is not a copy of an input pixel")
                        let (qx, qy) = (q % w, q / w)
                        #expect(!(qx >= x0 && qx <= x1 && qy >= y0 && qy <= y1) && mask[q] == 0,
                                "trial \(trial): pixel (\(x), \(y)) copies (\(qx), \(qy)), inside the box")
                    }
                }
            }
        }
    }

    /// IN-9's choice: the larger of the full-height and full-width strips, tiled from the origin.
    @Test func tilesTheLargestStripFromTheOrigin() {
        // 8 × 4, box x 0…1, y 1…2: the right strip (6 columns × 4 rows) beats 1 row × 8.
        var mask = [UInt8](repeating: 0, count: 32)
        for y in 1...2 { for x in 0...1 { mask[y * 8 + x] = 255 } }
        let out = Views.tileBackground(Self.uniqueImage(width: 8, height: 4), mask: mask, width: 8, height: 4, fill: [])
        #expect(Self.source(out, 1 * 8 + 0) == 1 * 8 + 2 && Self.source(out, 2 * 8 + 1) == 2 * 8 + 3)
        // 4 × 8, box x 1…2, y 0…1: the strip below (6 rows × 4 columns) beats 1 column × 8.
        var tall = [UInt8](repeating: 0, count: 32)
        for y in 0...1 { for x in 1...2 { tall[y * 4 + x] = 255 } }
        let out2 = Views.tileBackground(Self.uniqueImage(width: 4, height: 8), mask: tall, width: 4, height: 8, fill: [])
        #expect(Self.source(out2, 0 * 4 + 1) == 2 * 4 + 1 && Self.source(out2, 1 * 4 + 2) == 3 * 4 + 2)
        // A 1-column strip left of a box touching the right edge repeats that column.
        var right = [UInt8](repeating: 0, count: 16)
        for y in 0..<4 { for x in 1..<4 { right[y * 4 + x] = 255 } }
        let out3 = Views.tileBackground(Self.uniqueImage(width: 4, height: 4), mask: right, width: 4, height: 4, fill: [])
        for y in 0..<4 { for x in 1..<4 { #expect(Self.source(out3, y * 4 + x) == y * 4) } }
    }

    /// The fixture's Only-BG-T images were built by a NumPy transcription of IN-9's
    /// `get_bg_tiled` (`scripts/fixtures/make_in9_fixture.py`; lossless copies in
    /// `in9-reference/`); the view gives the same pixels.
    @Test(arguments: ["00_dog/dog_0", "00_dog/dog_1", "01_bird/bird_0", "01_bird/bird_1", "02_wheeled vehicle/vehicle_0", "02_wheeled vehicle/vehicle_1"])
    func matchesTheIndependentNumPyReconstruction(name: String) throws {
        let image = try PNGCodec.decode(contentsOf: Fixtures.path("in9-reference/\(name)_original.png"))
        let mask = try NPYReader.read(contentsOf: Fixtures.path("in9/fg_mask/val/\(name).npy")).binaryMask(width: 32, height: 32, path: name)
        let expected = try PNGCodec.decode(contentsOf: Fixtures.path("in9-reference/\(name)_only_bg_t.png"))
        let out = Views.tileBackground(image.rgb, mask: mask, width: 32, height: 32, fill: [UInt8](repeating: 0, count: 32 * 32 * 3))
        #expect(out == expected.rgb, "\(name): differs from the NumPy reconstruction")
        #expect(out != image.rgb)
    }

    @Test func isAViewTheRendererDrawsAndASpecCanName() {
        let split = ViewTests.split()
        let r = ViewRenderer(split: split)
        let rendered = r.render(.onlyBackgroundTiled, sample: 0)
        // Sample 0 is one colour, so the tiled background equals the image.
        #expect(rendered == split.image(at: 0).rgb)
        #expect(ViewKind(rawValue: "only-background-tiled") == .onlyBackgroundTiled)
        #expect(!ViewKind.standard.contains(.onlyBackgroundTiled))
    }
}
