import Foundation
import TensorCore
import Testing
@testable import ImageData

/// Hand-made images for the hard negatives: sample k has a textured background
/// `(7x + 13y + 30k) mod 256` (so a background pixel names its image and position) and a 3×3
/// foreground square (mask 255) whose corner moves with k, so anchor and partner objects sit in
/// different places and the union of the two masks is more than either.
func hardNegativeSplit(count: Int = 6, size: Int = 8) -> DatasetSplit {
    var pixels: [UInt8] = [], masks: [UInt8] = []
    for k in 0..<count {
        let (ox, oy) = (k % 3 * 2, k / 3 * 4)
        for p in 0..<(size * size) {
            let (y, x) = (p / size, p % size)
            let inside = x >= ox && x < ox + 3 && y >= oy && y < oy + 3
            masks.append(inside ? 255 : 0)
            let v = UInt8((7 * x + 13 * y + 30 * k) % 256)
            pixels += inside ? [250, UInt8(10 * k), 5] : [v, v &+ 1, v &+ 2]
        }
    }
    return DatasetSplit(name: "train", classes: ["a", "b"], size: size, pixels: pixels, masks: masks,
                        labels: (0..<count).map { $0 % 2 }, paths: (0..<count).map { "h\($0).png" })
}

@Suite struct HardNegativeTests {
    let renderer = ViewRenderer(split: hardNegativeSplit())
    let option = BackgroundIntervention(kind: .swap, probability: 0.5, hardNegatives: true)

    func image(_ i: Int) -> [UInt8] { renderer.render(.full, sample: i) }
    func mask(_ i: Int) -> [UInt8] { let s = renderer.split.size; return Array(renderer.split.masks[(i * s * s)..<((i + 1) * s * s)]) }

    /// The hard negative of anchor i keeps every anchor pixel outside the anchor's object box and
    /// the partner's mask, equals the partner's foreground where the partner's mask is 255, and is
    /// the mask-weighted composite of the partner onto i's object-removed background everywhere.
    @Test func keepsTheAnchorBackgroundAndThePartnerForeground() {
        let s = renderer.split.size
        var partners: Set<Int> = []
        for i in 0..<renderer.split.count {
            for epoch in 0..<4 {
                let batch = [i, (i + 1) % renderer.split.count]
                var rng = BackgroundIntervention.hardNegativeStream(seed: 5, epoch: epoch, sample: i)
                let out = option.hardNegative(sample: i, batch: batch, rng: &rng, renderer: renderer)
                let j = out.partner
                #expect(!batch.contains(j), "partner \(j) of sample \(i) is in its batch \(batch)")
                #expect(out.mask == mask(j))
                let background = Views.removeForeground(image(i), mask: mask(i), width: s, height: s)
                let box = Views.boundingBox(mask(i), width: s, height: s, threshold: 0)!
                var kept = 0, pasted = 0
                for p in 0..<(s * s) {
                    let (y, x) = (p / s, p % s)
                    let inAnchorBox = x >= box.0 && x <= box.2 && y >= box.1 && y <= box.3
                    let px = Array(out.pixels[(3 * p)..<(3 * p + 3)])
                    if mask(j)[p] == 255 { #expect(px == Array(image(j)[(3 * p)..<(3 * p + 3)])); pasted += 1 }
                    if mask(j)[p] == 0 && !inAnchorBox { #expect(px == Array(image(i)[(3 * p)..<(3 * p + 3)])); kept += 1 }
                    for c in 0..<3 {
                        let w = Int(mask(j)[p]), fg = Int(image(j)[3 * p + c]), bg = Int(background[3 * p + c])
                        #expect(Int(px[c]) == (fg * w + bg * (255 - w) + 127) / 255)
                    }
                    // The anchor's own object is gone: no pixel of its square survives where the partner's is absent.
                    if mask(i)[p] == 255 && mask(j)[p] == 0 { #expect(px[0] != 250) }
                }
                #expect(pasted == 9 && kept > 30)
                partners.insert(j)
            }
        }
        #expect(partners.count > 2)
    }

    /// The partner stream is the same for the same address, and a batch holding the whole split
    /// still gets a partner j ≠ i.
    @Test func partnersAreReproducibleAndNeverTheAnchor() {
        let all = Array(0..<renderer.split.count)
        for i in all {
            var a = BackgroundIntervention.hardNegativeStream(seed: 1, epoch: 3, sample: i)
            var b = BackgroundIntervention.hardNegativeStream(seed: 1, epoch: 3, sample: i)
            let x = option.hardNegative(sample: i, batch: all, rng: &a, renderer: renderer)
            let y = option.hardNegative(sample: i, batch: all, rng: &b, renderer: renderer)
            #expect(x.partner != i && x.partner == y.partner && x.pixels == y.pixels)
        }
    }

    /// Adding hard negatives leaves the two ordinary views and their masks bit-identical, and
    /// produces one normalized, reproducible extra image per sample.
    @Test func ordinaryViewsAreBitIdenticalWithAndWithoutHardNegatives() throws {
        let data = hardNegativeSplit(count: 9)
        func loader(_ intervention: BackgroundIntervention?) throws -> BatchLoader {
            try BatchLoader(renderer: ViewRenderer(split: data),
                            configuration: LoaderConfiguration(batchSize: 4, normalization: Normalization(of: data), seed: 11, intervention: intervention))
        }
        let plain = try loader(BackgroundIntervention(kind: .swap)), hard = try loader(option)
        for (epoch, index) in [(0, 0), (1, 1), (2, 0)] {
            let a = plain.batch(epoch: epoch, index: index), b = hard.batch(epoch: epoch, index: index)
            #expect(a.indices == b.indices)
            #expect(a.view1.scalars == b.view1.scalars && a.view2.scalars == b.view2.scalars)
            #expect(a.mask1.scalars == b.mask1.scalars && a.mask2.scalars == b.mask2.scalars)
            #expect(a.hardNegatives == nil)
            let h = try #require(b.hardNegatives)
            #expect(h.shape == [4, 3, 8, 8])
            #expect(h.scalars != b.view1.scalars && h.scalars != b.view2.scalars)
            #expect(hard.batch(epoch: epoch, index: index).hardNegatives?.scalars == h.scalars)
        }
    }

    @Test func hardNegativesBelongToTheSwap() throws {
        #expect(throws: Never.self) { try option.validate() }
        do {
            try BackgroundIntervention(kind: .remove, hardNegatives: true).validate()
            Issue.record("background-remove accepted hard negatives")
        } catch let e as InvalidOption {
            #expect(e.key == "hardNegatives" && e.message.contains("background-swap"), "\(e)")
        }
    }

    /// The option is encoded only when set, so configurations without it keep their canonical
    /// JSON (and every stored fingerprint); it round-trips when set.
    @Test func encodedOnlyWhenSet() throws {
        let plain = String(decoding: try JSONEncoder().encode(BackgroundIntervention(kind: .swap)), as: UTF8.self)
        #expect(!plain.contains("hardNegatives"))
        let data = try JSONEncoder().encode(option)
        #expect(String(decoding: data, as: UTF8.self).contains("\"hardNegatives\":true"))
        #expect(try JSONDecoder().decode(BackgroundIntervention.self, from: data) == option)
        #expect(try JSONDecoder().decode(BackgroundIntervention.self, from: Data(plain.utf8)) == BackgroundIntervention(kind: .swap))
    }
}
