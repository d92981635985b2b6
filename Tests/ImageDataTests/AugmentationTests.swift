import Testing
import TensorCore
@testable import ImageData

@Suite struct AugmentationTests {
    /// A 16×16 image whose red channel equals its mask (a diagonal-ish blob), green a gradient.
    static func sample() -> (image: [UInt8], mask: [UInt8]) {
        let s = 16
        var image = [UInt8](repeating: 0, count: s * s * 3), mask = [UInt8](repeating: 0, count: s * s)
        for y in 0..<s {
            for x in 0..<s {
                let m: UInt8 = (x - 5) * (x - 5) + (y - 9) * (y - 9) < 20 || x > 12 ? 255 : 0
                mask[y * s + x] = m
                image[(y * s + x) * 3] = m
                image[(y * s + x) * 3 + 1] = UInt8(x * 16)
                image[(y * s + x) * 3 + 2] = UInt8(y * 16)
            }
        }
        return (image, mask)
    }

    @Test(arguments: 0..<20)
    func maskFollowsTheImage(seed: UInt64) {
        // Geometric steps only (crop, flip): the red channel must stay equal to the mask.
        var p = AugmentationPreset.symmetric.views.0
        p.jitterProbability = 0; p.grayscaleProbability = 0; p.blurProbability = 0; p.flipProbability = 0.5
        let (image, mask) = Self.sample()
        var rng = SeededRNG(seed: seed)
        let out = Augmenter.apply(p, image: image, mask: mask, size: 16, rng: &rng)
        for j in 0..<256 { #expect(abs(out.pixels[j] - out.mask[j]) < 1e-5, "seed \(seed) pixel \(j)") }
    }

    @Test func cropScaleAndRatioStayInBounds() {
        var rng = SeededRNG(seed: 11)
        let scale: ClosedRange<Float> = 0.08...1.0, ratio: ClosedRange<Float> = 0.75...(4.0 / 3.0)
        var smallest: Float = 1, largest: Float = 0
        for _ in 0..<2000 {
            let box = Augmenter.sampleCrop(width: 32, height: 32, scale: scale, ratio: ratio, rng: &rng)
            #expect(box.x >= 0 && box.y >= 0 && box.x + box.width <= 32 && box.y + box.height <= 32)
            let area = Float(box.width * box.height) / 1024
            // Rounding to whole pixels moves the area and ratio a little.
            #expect(area >= 0.08 * 0.7 && area <= 1.0)
            let r = Float(box.width) / Float(box.height)
            #expect(r >= 0.75 * 0.8 && r <= 4.0 / 3.0 * 1.25)
            smallest = min(smallest, area); largest = max(largest, area)
        }
        #expect(smallest < 0.15 && largest > 0.85, "the whole scale range should be used")
    }

    @Test func sameSeedSameViewsDifferentSeedDifferentViews() {
        let (image, mask) = Self.sample()
        for preset in AugmentationPreset.allCases {
            let p = preset.views.1
            var a = SeededRNG(seed: 5), b = SeededRNG(seed: 5), c = SeededRNG(seed: 6)
            let x = Augmenter.apply(p, image: image, mask: mask, size: 16, rng: &a)
            let y = Augmenter.apply(p, image: image, mask: mask, size: 16, rng: &b)
            let z = Augmenter.apply(p, image: image, mask: mask, size: 16, rng: &c)
            #expect(x.pixels == y.pixels && x.mask == y.mask)
            #expect(x.pixels != z.pixels)
        }
    }

    @Test func outputsStayInUnitRange() {
        let (image, mask) = Self.sample()
        var rng = SeededRNG(seed: 1)
        for _ in 0..<50 {
            let out = Augmenter.apply(AugmentationPreset.symmetric.views.0, image: image, mask: mask, size: 16, rng: &rng)
            #expect(out.pixels.allSatisfy { $0 >= 0 && $0 <= 1 })
            #expect(out.mask.allSatisfy { $0 >= 0 && $0 <= 1 })
        }
    }

    @Test func identityKeepsPixels() {
        let (image, mask) = Self.sample()
        var rng = SeededRNG(seed: 0)
        let out = Augmenter.apply(.identity, image: image, mask: mask, size: 16, rng: &rng)
        for j in 0..<256 { #expect(abs(out.pixels[256 + j] - Float(image[3 * j + 1]) / 255) < 1e-5) }
    }

    @Test func colourOperationsDoWhatTheySay() {
        var x: [Float] = [0.2, 0.8, 0.5, 0.5, 0.1, 0.9]  // planar, 2 pixels
        ColourOps.solarize(&x)
        for (got, want) in zip(x, [Float(0.2), 0.2, 0.5, 0.5, 0.1, 0.1]) { #expect(abs(got - want) < 1e-6) }
        var g: [Float] = [1, 0, 0, 1, 0, 0]
        ColourOps.grayscale(&g, plane: 2)
        #expect(abs(g[0] - 0.299) < 1e-6 && g[0] == g[2] && g[0] == g[4])
        var h: [Float] = [1, 0, 0]
        ColourOps.hue(&h, 1.0 / 3.0, plane: 1)  // red → green
        #expect(abs(h[0]) < 1e-5 && abs(h[1] - 1) < 1e-5 && abs(h[2]) < 1e-5)
        var blur = [Float](repeating: 0.5, count: 3 * 64)
        ColourOps.gaussianBlur(&blur, size: 8, sigma: 1.5)
        #expect(blur.allSatisfy { abs($0 - 0.5) < 1e-5 })
    }

    @Test func presetsMatchTheExperimentTable() {
        let (s1, s2) = AugmentationPreset.symmetric.views
        #expect(s1 == s2 && s1.brightness == 0.8 && s1.hue == 0.2 && s1.blurProbability == 0.5 && s1.solarizeProbability == 0)
        let (w1, _) = AugmentationPreset.symmetricWeak.views
        #expect(w1.saturation == 0.4 && w1.hue == 0.1)
        let (a1, a2) = AugmentationPreset.asymmetric.views
        #expect(a1.saturation == 0.2 && a1.blurProbability == 0 && a1.solarizeProbability == 0 && a2.solarizeProbability == 0.2)
        #expect(s1.cropScale == 0.08...1.0 && s1.grayscaleProbability == 0.2 && s1.jitterProbability == 0.8)
        let (q1, q2) = AugmentationPreset.quick.views
        #expect(q1 == q2 && q1.cropScale == 0.2...1.0 && q1.brightness == 0.4 && q1.hue == 0.1 && q1.grayscaleProbability == 0.5)
        #expect(q1.blurProbability == 0 && q1.solarizeProbability == 0 && q1.jitterProbability == 0.8)
    }
}
