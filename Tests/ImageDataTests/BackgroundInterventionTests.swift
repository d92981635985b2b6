import TensorCore
import Testing
@testable import ImageData

/// Hand-made images: each sample a flat colour of its own (sample k: value 20 + 40k), with a
/// foreground square whose mask is 255 inside rows/columns 2..<6 and 0 elsewhere, plus one soft
/// pixel (mask 128) at (1, 1).
func interventionSplit(count: Int = 5, size: Int = 8) -> DatasetSplit {
    var pixels: [UInt8] = [], masks: [UInt8] = []
    for k in 0..<count {
        for p in 0..<(size * size) {
            let (y, x) = (p / size, p % size)
            let inside = y >= 2 && y < 6 && x >= 2 && x < 6
            masks.append(inside ? 255 : (y == 1 && x == 1 ? 128 : 0))
            let v = UInt8(20 + 40 * k)
            pixels += [v, inside ? 200 : v, v]
        }
    }
    return DatasetSplit(name: "train", classes: ["a", "b"], size: size, pixels: pixels, masks: masks,
                        labels: (0..<count).map { $0 % 2 }, paths: (0..<count).map { "s\($0).png" })
}

@Suite struct BackgroundInterventionTests {
    let renderer = ViewRenderer(split: interventionSplit())

    func image(_ i: Int) -> [UInt8] { renderer.render(.full, sample: i) }

    /// Every foreground pixel (mask 255) stays; every background pixel (mask 0) becomes the partner's
    /// background with its object removed; the soft pixel blends the two by its weight.
    @Test func swapMovesOnlyBackgroundPixels() {
        let swap = BackgroundIntervention(kind: .swap, probability: 1)
        let split = renderer.split, s = split.size
        var partnersSeen: Set<[UInt8]> = []
        for i in 0..<split.count {
            for epoch in 0..<3 {
                let out = swap.apply(to: image(i), sample: i, view: 0, epoch: epoch, seed: 9, renderer: renderer)
                let mask = Array(split.masks[(i * s * s)..<((i + 1) * s * s)])
                // The partner is the one other sample whose background matches pixel (0, 0).
                let partner = (0..<split.count).first { $0 != i && image($0)[0] == out[0] }
                #expect(partner != nil, "the background of sample \(i) comes from no other sample")
                guard let j = partner else { continue }
                let jMask = Array(split.masks[(j * s * s)..<((j + 1) * s * s)])
                let background = Views.removeForeground(image(j), mask: jMask, width: s, height: s)
                for p in 0..<(s * s) {
                    for c in 0..<3 {
                        let mine = Int(image(i)[3 * p + c]), theirs = Int(background[3 * p + c]), w = Int(mask[p])
                        #expect(Int(out[3 * p + c]) == (mine * w + theirs * (255 - w) + 127) / 255)
                    }
                    if mask[p] == 255 { #expect(out[(3 * p)..<(3 * p + 3)] == image(i)[(3 * p)..<(3 * p + 3)]) }
                }
                partnersSeen.insert(Array(out[0..<3]))
            }
        }
        #expect(partnersSeen.count > 1)
    }

    @Test func removeFillsTheBackgroundAndKeepsTheForeground() {
        let remove = BackgroundIntervention(kind: .remove, probability: 1)
        let s = renderer.split.size
        let out = remove.apply(to: image(2), sample: 2, view: 1, epoch: 0, seed: 1, renderer: renderer)
        #expect(out == renderer.render(.foreground, sample: 2))
        for p in 0..<(s * s) where renderer.split.masks[2 * s * s + p] == 0 { #expect(out[3 * p] == 128) }
    }

    @Test func probabilityAndSeedsDecide() {
        let never = BackgroundIntervention(kind: .swap, probability: 0)
        #expect(never.apply(to: image(1), sample: 1, view: 0, epoch: 0, seed: 3, renderer: renderer) == image(1))
        let half = BackgroundIntervention(kind: .swap)
        let draws = (0..<200).map { e in half.apply(to: image(1), sample: 1, view: 0, epoch: e, seed: 3, renderer: renderer) != image(1) }
        let rate = Double(draws.filter { $0 }.count) / 200
        #expect(rate > 0.35 && rate < 0.65, "swapped in \(rate) of the epochs at p 0.5")
        // The same address gives the same image; the two views are drawn independently.
        let a = half.apply(to: image(3), sample: 3, view: 0, epoch: 5, seed: 3, renderer: renderer)
        #expect(a == half.apply(to: image(3), sample: 3, view: 0, epoch: 5, seed: 3, renderer: renderer))
        let views = (0..<50).map { e in
            (half.apply(to: image(3), sample: 3, view: 0, epoch: e, seed: 3, renderer: renderer),
             half.apply(to: image(3), sample: 3, view: 1, epoch: e, seed: 3, renderer: renderer))
        }
        #expect(views.contains { $0.0 != $0.1 })
        #expect(throws: InvalidOption.self) { try BackgroundIntervention(kind: .swap, probability: 1.5).validate() }
    }
}
