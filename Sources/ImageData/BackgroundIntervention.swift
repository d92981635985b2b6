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
/// With `hardNegatives` (swap only), the loader also renders, per image i, one same-background
/// hard negative (`hardNegative(sample:rng:renderer:)`): image i's own background (object
/// removed by the same tiling) under the foreground of another training image j ≠ i. Methods
/// with negatives (SimCLR, MoCo v2) add these N images to their negatives; the two ordinary
/// views are unchanged by the option.
///
/// References: Ryali, Schwab & Morcos, "Characterizing and Improving the Robustness of
/// Self-Supervised Learning through Background Augmentations", arXiv:2103.12719, 2021 (BG_Swaps
/// with its same-background hard negatives, BG_RM).
public struct BackgroundIntervention: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, CaseIterable, Sendable {
        case swap = "background-swap"
        case remove = "background-remove"
    }

    public var kind: Kind
    /// Probability per view (Backdrop's default 0.5).
    public var probability: Float
    /// Also build one same-background hard negative per image (`background-swap` only; the
    /// training method must have negatives). Encoded only when true, so configurations without
    /// it keep their canonical JSON and fingerprints.
    public var hardNegatives: Bool

    public init(kind: Kind, probability: Float = 0.5, hardNegatives: Bool = false) {
        self.kind = kind
        self.probability = probability
        self.hardNegatives = hardNegatives
    }

    /// - Throws: `InvalidOption` naming `probability` or `hardNegatives`.
    public func validate() throws {
        guard probability >= 0 && probability <= 1 else {
            throw InvalidOption(key: "probability", value: probability, reason: "must lie in [0, 1]")
        }
        if hardNegatives && kind != .swap {
            throw InvalidOption(key: "hardNegatives", value: true,
                                reason: "same-background hard negatives are built by the background swap; use kind: background-swap or drop hardNegatives")
        }
    }

    enum CodingKeys: String, CodingKey { case kind, probability, hardNegatives }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kind = try c.decode(Kind.self, forKey: .kind)
        probability = try c.decode(Float.self, forKey: .probability)
        hardNegatives = try c.decodeIfPresent(Bool.self, forKey: .hardNegatives) ?? false
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind, forKey: .kind)
        try c.encode(probability, forKey: .probability)
        if hardNegatives { try c.encode(true, forKey: .hardNegatives) }
    }

    /// The random stream of sample `i`'s hard negative in `epoch`: its partner, then its
    /// augmentation. Distinct from the views' streams `(epoch, i, view)` and the swap's, so adding
    /// hard negatives leaves the two ordinary views bit-identical.
    public static func hardNegativeStream(seed: UInt64, epoch: Int, sample i: Int) -> SeededRNG {
        SeededRNG(seed: seed, streams: 0x48_4E_45_47, UInt64(epoch), UInt64(i))
    }

    /// Sample `i`'s same-background hard negative (Ryali et al.'s BG_Swaps negative): image i with
    /// its object removed (ImageNet-9's only-BG-T tiling, as the swap) and the foreground of a
    /// partner j composited on it by j's mask, `out = (fg_j · m_j + bg_i · (255 − m_j)) / 255` per
    /// pixel. Both images are the split's unrendered pixels (`size × size × 3`).
    ///
    /// The partner is drawn uniformly from `rng` among the images *outside* `batch` (and ≠ i), so
    /// no hard negative shows the object of an anchor of its batch: as every anchor sees every
    /// hard negative of the batch, a partner inside it would be a false negative. When the batch
    /// holds the whole split, any j ≠ i is allowed.
    /// - Returns: the pixels, the partner's mask (the new image's foreground) and the partner.
    public func hardNegative(sample i: Int, batch: [Int], rng: inout SeededRNG, renderer: ViewRenderer) -> (pixels: [UInt8], mask: [UInt8], partner: Int) {
        let split = renderer.split, s = split.size, plane = s * s
        func pixels(_ k: Int) -> [UInt8] { Array(split.pixels[(k * plane * 3)..<((k + 1) * plane * 3)]) }
        func mask(_ k: Int) -> [UInt8] { Array(split.masks[(k * plane)..<((k + 1) * plane)]) }
        let background = Views.removeForeground(pixels(i), mask: mask(i), width: s, height: s)
        guard split.count > 1 else { return (background, [UInt8](repeating: 0, count: plane), i) }
        var excluded = Set(batch).union([i]).sorted()
        if excluded.count >= split.count { excluded = [i] }
        // The j-th index not excluded: step over each excluded index at or below it (ascending).
        var j = rng.int(below: split.count - excluded.count)
        for e in excluded where j >= e { j += 1 }
        let partnerMask = mask(j)
        return (Views.composite(pixels(j), mask: partnerMask, onto: background), partnerMask, j)
    }

    /// The training view `viewIndex` (0 or 1) of sample `i` in `epoch` after the intervention.
    /// - Parameters:
    ///   - pixels: the sample rendered in the training view (`size × size × 3`).
    ///   - viewMask: the mask that goes with `pixels` (`size × size`; `ViewRenderer.renderWithMask`),
    ///     nil for the sample's own mask.
    public func apply(to pixels: [UInt8], sample i: Int, view viewIndex: Int, epoch: Int, seed: UInt64, renderer: ViewRenderer,
                      mask viewMask: [UInt8]? = nil) -> [UInt8] {
        var rng = SeededRNG(seed: seed, streams: 0xB6_5A_C3, UInt64(epoch), UInt64(i), UInt64(viewIndex))
        guard rng.chance(probability) else { return pixels }
        let split = renderer.split, s = split.size, plane = s * s
        let mask = viewMask ?? Array(split.masks[(i * plane)..<((i + 1) * plane)])
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
