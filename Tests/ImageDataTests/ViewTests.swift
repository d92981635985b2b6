import Testing
@testable import ImageData

/// Views on hand-made 4×4 images whose pixels are known.
@Suite struct ViewTests {
    /// Four samples of 4×4: sample k is filled with colour (10k+1, 10k+2, 10k+3); its foreground is
    /// the 2×2 centre. Labels [0, 0, 1, 1].
    static func split(masks: [[UInt8]]? = nil) -> DatasetSplit {
        var pixels: [UInt8] = [], maskBytes: [UInt8] = []
        let centre: [UInt8] = (0..<16).map { [5, 6, 9, 10].contains($0) ? 255 : 0 }
        for k in 0..<4 {
            for _ in 0..<16 { pixels += [UInt8(10 * k + 1), UInt8(10 * k + 2), UInt8(10 * k + 3)] }
            maskBytes += masks?[k] ?? centre
        }
        return DatasetSplit(name: "test", classes: ["a", "b"], size: 4, pixels: pixels, masks: maskBytes,
                            labels: [0, 0, 1, 1], paths: ["0", "1", "2", "3"])
    }

    static let centre = Set([5, 6, 9, 10])

    func pixel(_ px: [UInt8], _ p: Int) -> [UInt8] { Array(px[(3 * p)..<(3 * p + 3)]) }

    @Test func fullIsTheImage() {
        let r = ViewRenderer(split: Self.split())
        #expect(r.render(.full, sample: 2) == r.split.image(at: 2).rgb)
    }

    @Test(arguments: [(BackgroundFill.gray, [UInt8]([128, 128, 128])), (.black, [0, 0, 0])])
    func foregroundFillsTheBackground(fill: BackgroundFill, colour: [UInt8]) {
        let r = ViewRenderer(split: Self.split(), options: ViewOptions(fill: fill))
        let fg = r.render(.foreground, sample: 1)
        for p in 0..<16 { #expect(pixel(fg, p) == (Self.centre.contains(p) ? [11, 12, 13] : colour), "pixel \(p)") }
        let bg = r.render(.onlyBackground, sample: 1)
        for p in 0..<16 { #expect(pixel(bg, p) == (Self.centre.contains(p) ? colour : [11, 12, 13]), "pixel \(p)") }
    }

    @Test func meanFillUsesTheDatasetMeanColour() {
        let r = ViewRenderer(split: Self.split(), options: ViewOptions(fill: .mean))
        // Mean over samples of (10k+1, 10k+2, 10k+3), k = 0…3 → (16, 17, 18).
        #expect(r.meanColour == [16, 17, 18])
        #expect(pixel(r.render(.foreground, sample: 0), 0) == [16, 17, 18])
    }

    @Test func noiseFillIsSeededPerSample() {
        let a = ViewRenderer(split: Self.split(), options: ViewOptions(fill: .noise, seed: 3))
        let b = ViewRenderer(split: Self.split(), options: ViewOptions(fill: .noise, seed: 3))
        let c = ViewRenderer(split: Self.split(), options: ViewOptions(fill: .noise, seed: 4))
        #expect(a.render(.foreground, sample: 0) == b.render(.foreground, sample: 0))
        #expect(a.render(.foreground, sample: 0) != c.render(.foreground, sample: 0))
        #expect(a.render(.foreground, sample: 0) != a.render(.foreground, sample: 1))
        #expect(pixel(a.render(.foreground, sample: 0), 5) == [1, 2, 3])
    }

    @Test func softMasksBlend() {
        let out = Views.keep(.foreground, of: [200, 200, 200], mask: [128], fill: [0, 0, 0])
        #expect(out == [100, 100, 100])
    }

    @Test func mixedViewsPutTheForegroundOnThePartnersBackground() {
        // Partners' foregrounds are the centre too, so their background is tiled over the centre:
        // every pixel outside the centre is the partner colour, inside the sample's own colour.
        let r = ViewRenderer(split: Self.split(), partnerSeed: 9)
        for i in 0..<4 {
            let same = r.partners.sameClass[i], other = r.partners.otherClass[i]
            #expect(r.split.labels[same] == r.split.labels[i] && same != i)
            #expect(r.split.labels[other] != r.split.labels[i])
            for (view, partner) in [(ViewKind.mixedSame, same), (.mixedRandom, other)] {
                let px = r.render(view, sample: i)
                let own: [UInt8] = [UInt8(10 * i + 1), UInt8(10 * i + 2), UInt8(10 * i + 3)]
                let theirs: [UInt8] = [UInt8(10 * partner + 1), UInt8(10 * partner + 2), UInt8(10 * partner + 3)]
                for p in 0..<16 { #expect(pixel(px, p) == (Self.centre.contains(p) ? own : theirs), "\(view) sample \(i) pixel \(p)") }
            }
        }
    }

    @Test func removingTheForegroundTilesTheBackgroundBesideIt() {
        // 4×1 row: background 10, 20 then a 2-pixel object → the object is replaced by the tiled strip.
        let out = Views.removeForeground([10, 10, 10, 20, 20, 20, 99, 99, 99, 99, 99, 99], mask: [0, 0, 255, 255], width: 4, height: 1)
        #expect(out == [10, 10, 10, 20, 20, 20, 10, 10, 10, 20, 20, 20])
    }

    @Test func cropModeZoomsOnTheForeground() {
        // 4×4 image: left half 0, right half 200; foreground = the right 2×2 block at the top.
        var img = [UInt8](repeating: 0, count: 48)
        for y in 0..<4 { for x in 2..<4 { for c in 0..<3 { img[(y * 4 + x) * 3 + c] = 200 } } }
        let mask: [UInt8] = (0..<16).map { ($0 / 4 < 2 && $0 % 4 >= 2) ? 255 : 0 }
        let out = Views.cropToForeground(img, mask: mask, width: 4, height: 4, padding: 0)
        #expect(out == [UInt8](repeating: 200, count: 48))
    }

    @Test func partnerTablesAreSeededAndStable() {
        let labels = (0..<50).map { $0 % 5 }
        #expect(PartnerTable(labels: labels, seed: 1) == PartnerTable(labels: labels, seed: 1))
        #expect(PartnerTable(labels: labels, seed: 1) != PartnerTable(labels: labels, seed: 2))
        let t = PartnerTable(labels: labels, seed: 1)
        for i in 0..<50 {
            #expect(labels[t.sameClass[i]] == labels[i] && t.sameClass[i] != i)
            #expect(labels[t.otherClass[i]] != labels[i])
        }
    }
}
