import TensorCore
import Testing
@testable import ImageData

/// The `foreground-crop` view: the mask's bounding box, background inside it kept, stretched back
/// to the split's size; with its mask cropped the same way for training.
@Suite struct ForegroundCropViewTests {
    /// One `s × s` sample of seeded random pixels whose mask is the rectangle `rect` (x0, y0, x1, y1 inclusive).
    static func split(size s: Int, rect: (Int, Int, Int, Int)?, seed: UInt64) -> DatasetSplit {
        var rng = SeededRNG(seed: seed)
        let pixels = (0..<(s * s * 3)).map { _ in UInt8(truncatingIfNeeded: rng.next() >> 56) }
        var mask = [UInt8](repeating: 0, count: s * s)
        if let (x0, y0, x1, y1) = rect { for y in y0...y1 { for x in x0...x1 { mask[y * s + x] = 255 } } }
        return DatasetSplit(name: "test", classes: ["a"], size: s, pixels: pixels, masks: mask, labels: [0], paths: ["0"])
    }

    /// Property: for random rectangles, the view equals the rectangle cut out of the image and
    /// resized (bilinear) to the full size, and its mask is the rectangle's (all foreground).
    @Test func cropOfARectangularMaskIsTheResizedRectangle() {
        var rng = SeededRNG(seed: 11)
        for trial in 0..<50 {
            let s = [8, 16, 32][trial % 3]
            let x0 = rng.int(below: s), y0 = rng.int(below: s)
            let x1 = x0 + rng.int(below: s - x0), y1 = y0 + rng.int(below: s - y0)
            let split = Self.split(size: s, rect: (x0, y0, x1, y1), seed: UInt64(trial))
            let image = split.image(at: 0).rgb
            var rect: [UInt8] = []
            for y in y0...y1 { for x in x0...x1 { rect += image[((y * s + x) * 3)..<((y * s + x) * 3 + 3)] } }
            let expected = Resize.resize(rect, width: x1 - x0 + 1, height: y1 - y0 + 1, channels: 3, to: s, s, filter: .bilinear)
            let renderer = ViewRenderer(split: split)
            #expect(renderer.render(.foregroundCrop, sample: 0) == expected, "trial \(trial): rect \((x0, y0, x1, y1)) in \(s)×\(s)")
            let (pixels, mask) = renderer.renderWithMask(.foregroundCrop, sample: 0)
            #expect(pixels == expected)
            #expect(mask.allSatisfy { $0 == 255 }, "trial \(trial): the cropped mask of a rectangle is all foreground")
        }
    }

    @Test func knownColoursLandWhereExpected() {
        // 4×4, left half red / right half blue, mask = the 2×2 block at columns 1…2, rows 1…2:
        // the crop is [red, blue; red, blue], stretched to 4×4 → the left two columns reddish, right two bluish.
        var pixels: [UInt8] = []
        for _ in 0..<4 { for x in 0..<4 { pixels += x < 2 ? [255, 0, 0] : [0, 0, 255] } }
        let mask: [UInt8] = (0..<16).map { [5, 6, 9, 10].contains($0) ? 255 : 0 }
        let (crop, _) = Views.cropToBox(pixels, mask: mask, size: 4)
        for y in 0..<4 {
            #expect(crop[(y * 4 + 0) * 3] == 255 && crop[(y * 4 + 0) * 3 + 2] == 0)
            #expect(crop[(y * 4 + 3) * 3] == 0 && crop[(y * 4 + 3) * 3 + 2] == 255)
        }
    }

    @Test func emptyMaskGivesTheImageUnchanged() {
        let split = Self.split(size: 8, rect: nil, seed: 3)
        let renderer = ViewRenderer(split: split)
        #expect(renderer.render(.foregroundCrop, sample: 0) == renderer.render(.full, sample: 0))
        let (_, mask) = renderer.renderWithMask(.foregroundCrop, sample: 0)
        #expect(mask.allSatisfy { $0 == 0 })
        // A soft mask with no weight above 128 has no box either.
        let image = split.image(at: 0).rgb
        let faint = DatasetSplit(name: "test", classes: ["a"], size: 8, pixels: image,
                                 masks: [UInt8](repeating: 100, count: 64), labels: [0], paths: ["0"])
        #expect(ViewRenderer(split: faint).render(.foregroundCrop, sample: 0) == image)
    }

    @Test func parsesAsTestAndTrainingView() throws {
        #expect(ViewKind(rawValue: "foreground-crop") == .foregroundCrop)
        #expect(TrainingView(rawValue: "foreground-crop")?.view == .foregroundCrop)
        #expect(!ViewKind.standard.contains(.foregroundCrop), "opt-in: default test views keep their five rows")
    }

    @Test func loaderTrainsOnTheCropWithItsCroppedMask() throws {
        let split = Self.split(size: 16, rect: (4, 2, 9, 13), seed: 5)
        let image = split.image(at: 0).rgb, mask = split.mask(at: 0).weights
        let two = DatasetSplit(name: "train", classes: ["a"], size: 16, pixels: image + image,
                               masks: mask + mask, labels: [0, 0], paths: ["0", "1"])
        let loader = try BatchLoader(renderer: ViewRenderer(split: two),
                                     configuration: LoaderConfiguration(batchSize: 2, view: .foregroundCrop, preset: .quick))
        let batch = loader.batch(epoch: 0, index: 0)
        #expect(batch.view1.shape == [2, 3, 16, 16] && batch.mask1.shape == [2, 1, 16, 16])
        // The crop's mask is all foreground, so every augmented mask pixel is (close to) 1 wherever the crop reaches.
        let m = batch.mask1.scalars
        #expect(Float(m.filter { $0 > 0.5 }.count) > 0.9 * Float(m.count))
    }
}
