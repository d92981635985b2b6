import TensorCore

/// A preview contact sheet: for a few images per class, one row each with the full image, its
/// mask, every view and two augmented views — so a person can look at what the models see.
public enum ContactSheet {
    /// Column titles, left to right.
    public static let columns = ["full", "mask", "foreground", "only-bg", "mixed-same", "mixed-rand", "aug 1", "aug 2"]

    /// Builds the sheet for `perClass` samples of each class (the first ones in file order).
    /// - Returns: an RGB image; cells are `split.size × scale` pixels, separated by 2 px.
    public static func make(renderer: ViewRenderer, perClass: Int, preset: AugmentationPreset, seed: UInt64, scale: Int? = nil) -> Image {
        let split = renderer.split
        var rows: [Int] = []
        for label in 0..<split.classes.count {
            rows += split.labels.indices.filter { split.labels[$0] == label }.prefix(perClass)
        }
        let s = split.size
        let k = scale ?? max(1, 96 / s)
        let cell = s * k, gap = 2, header = 10
        let width = columns.count * (cell + gap) + gap
        let height = header + rows.count * (cell + gap) + gap
        var sheet = Image(width: width, height: height, filledWith: (40, 40, 40))
        for (col, title) in columns.enumerated() {
            TinyFont.draw(title, into: &sheet, x: gap + col * (cell + gap) + 1, y: 2, colour: (230, 230, 230))
        }
        let (p1, p2) = preset.views
        for (row, i) in rows.enumerated() {
            let mask = Array(split.masks[(i * s * s)..<((i + 1) * s * s)])
            let full = renderer.render(.full, sample: i)
            var rng1 = SeededRNG(seed: seed, streams: UInt64(i), 1)
            var rng2 = SeededRNG(seed: seed, streams: UInt64(i), 2)
            let trainView = renderer.render(.full, sample: i)
            let cells: [[UInt8]] = [
                full,
                mask.flatMap { [$0, $0, $0] },
                renderer.render(.foreground, sample: i),
                renderer.render(.onlyBackground, sample: i),
                renderer.render(.mixedSame, sample: i),
                renderer.render(.mixedRandom, sample: i),
                interleave(Augmenter.apply(p1, image: trainView, mask: mask, size: s, rng: &rng1).pixels, size: s),
                interleave(Augmenter.apply(p2, image: trainView, mask: mask, size: s, rng: &rng2).pixels, size: s),
            ]
            for (col, px) in cells.enumerated() {
                blit(px, size: s, scale: k, into: &sheet, x: gap + col * (cell + gap), y: header + gap + row * (cell + gap))
            }
        }
        return sheet
    }

    /// Planar `[3, s, s]` floats in [0, 1] → interleaved bytes.
    static func interleave(_ planar: [Float], size s: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: s * s * 3)
        for j in 0..<(s * s) { for c in 0..<3 { out[3 * j + c] = UInt8(min(max(planar[c * s * s + j] * 255 + 0.5, 0), 255)) } }
        return out
    }

    static func blit(_ px: [UInt8], size s: Int, scale k: Int, into sheet: inout Image, x: Int, y: Int) {
        for yy in 0..<(s * k) {
            for xx in 0..<(s * k) {
                let src = ((yy / k) * s + xx / k) * 3, dst = ((y + yy) * sheet.width + x + xx) * 3
                sheet.rgb[dst] = px[src]; sheet.rgb[dst + 1] = px[src + 1]; sheet.rgb[dst + 2] = px[src + 2]
            }
        }
    }
}

/// A 3 × 5 pixel font for the sheet's column titles (lower-case letters, digits, '-', ' ').
enum TinyFont {
    static let glyphs: [Character: String] = [
        "a": "010101111101101", "b": "110101110101110", "c": "011100100100011", "d": "110101101101110",
        "e": "111100110100111", "f": "111100110100100", "g": "011100101101011", "h": "101101111101101",
        "i": "111010010010111", "k": "101101110101101", "l": "100100100100111", "m": "101111111101101",
        "n": "110101101101101", "o": "010101101101010", "r": "110101110101101", "s": "011100010001110",
        "t": "111010010010010", "u": "101101101101111", "x": "101101010101101", "y": "101101010010010",
        "1": "010110010010111", "2": "110001010100111", "-": "000000111000000", " ": "000000000000000",
    ]

    static func draw(_ text: String, into image: inout Image, x: Int, y: Int, colour: (UInt8, UInt8, UInt8)) {
        for (n, ch) in text.enumerated() {
            guard let bits = glyphs[ch] else { continue }
            for (b, bit) in bits.enumerated() where bit == "1" {
                let px = x + n * 4 + b % 3, py = y + b / 3
                guard px < image.width, py < image.height else { continue }
                let i = (py * image.width + px) * 3
                image.rgb[i] = colour.0; image.rgb[i + 1] = colour.1; image.rgb[i + 2] = colour.2
            }
        }
    }
}
