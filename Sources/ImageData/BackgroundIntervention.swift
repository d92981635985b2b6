import TensorCore

/// A data-level intervention on the background of training images, do(B): the interventional
/// baseline that ICL-MSR's learned strata are compared with when masks exist.
///
/// Each of the two training views of an image is treated independently with `probability`:
/// - `background-swap`: the image's foreground (mask-weighted) is pasted onto the background of
///   another training image drawn uniformly at random (that image with its own object removed,
///   ImageNet-9's "only-BG-T" tiling, as the mixed test views do), so the two views of a positive
///   pair usually sit on different backgrounds;
/// - `background-remove`: the background is replaced by the configured fill (the `foreground`
///   view).
/// Foreground pixels (mask 255) are never changed; a soft mask blends. Draws come from
/// `(seed, epoch, sample, view)`, so an epoch's batches are reproducible and resumable.
///
/// References: Ryali, Schwab & Morcos, "Characterizing and Improving the Robustness of
/// Self-Supervised Learning through Background Augmentations", arXiv:2103.12719, 2021 (BG_Swaps,
/// BG_RM; their hard negatives sharing a background are not implemented here).
public struct BackgroundIntervention: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, CaseIterable, Sendable {
        case swap = "background-swap"
        case remove = "background-remove"
    }

    public var kind: Kind
    /// Probability per view (Backdrop's default 0.5).
    public var probability: Float

    public init(kind: Kind, probability: Float = 0.5) {
        self.kind = kind
        self.probability = probability
    }

    /// - Throws: `InvalidOption` naming `probability`.
    public func validate() throws {
        guard probability >= 0 && probability <= 1 else {
            throw InvalidOption(key: "probability", value: probability, reason: "must lie in [0, 1]")
        }
    }

    /// The training view `viewIndex` (0 or 1) of sample `i` in `epoch` after the intervention.
    /// - Parameter pixels: the sample rendered in the training view (`size × size × 3`).
    public func apply(to pixels: [UInt8], sample i: Int, view viewIndex: Int, epoch: Int, seed: UInt64, renderer: ViewRenderer) -> [UInt8] {
        var rng = SeededRNG(seed: seed, streams: 0xB6_5A_C3, UInt64(epoch), UInt64(i), UInt64(viewIndex))
        guard rng.chance(probability) else { return pixels }
        let split = renderer.split, s = split.size, plane = s * s
        let mask = Array(split.masks[(i * plane)..<((i + 1) * plane)])
        switch kind {
        case .remove:
            return Views.keep(.foreground, of: pixels, mask: mask, fill: renderer.fillPixels(sample: i))
        case .swap:
            guard split.count > 1 else { return pixels }
            var j = rng.int(below: split.count - 1)
            if j >= i { j += 1 }
            let partner = Array(split.pixels[(j * plane * 3)..<((j + 1) * plane * 3)])
            let partnerMask = Array(split.masks[(j * plane)..<((j + 1) * plane)])
            let background = Views.removeForeground(partner, mask: partnerMask, width: s, height: s)
            return Views.composite(pixels, mask: mask, onto: background)
        }
    }
}
