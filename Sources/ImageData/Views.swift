import TensorCore

/// The test views of the experiment (ImageNet-9 "backgrounds challenge" vocabulary).
public enum ViewKind: String, CaseIterable, Codable, Sendable {
    /// The image as is.
    case full
    /// The background removed (filled, or cropped away in `crop` mode).
    case foreground
    /// The mask's bounding box with the background inside it, stretched back to the image size
    /// (the paper's "foreground areas" read as box crops; `Views.cropToBox`).
    case foregroundCrop = "foreground-crop"
    /// The foreground filled, the background kept.
    case onlyBackground = "only-background"
    /// The foreground's bounding box filled by tiling the largest background strip beside it
    /// (ImageNet-9's Only-BG-T; `Views.tileBackground`).
    case onlyBackgroundTiled = "only-background-tiled"
    /// The foreground composited onto the background of another image of the same class.
    case mixedSame = "mixed-same"
    /// The foreground composited onto the background of an image of another class.
    case mixedRandom = "mixed-random"

    /// The views evaluated when a configuration names none (`evaluation.testViews`): the
    /// paper's five. Views added since are evaluated only when listed, so configurations that do
    /// not list them keep their stored hashes.
    public static let standard: [ViewKind] = [.full, .foreground, .onlyBackground, .mixedSame, .mixedRandom]
}

/// The views a model can be trained on: the image as is, or its foreground (Table 1's two
/// training regimes), or the foreground's box crop. A subset of `ViewKind`.
public enum TrainingView: String, CaseIterable, Codable, Sendable {
    case full
    case foreground
    case foregroundCrop = "foreground-crop"

    /// The view rendered for training.
    public var view: ViewKind {
        switch self {
        case .full: .full
        case .foreground: .foreground
        case .foregroundCrop: .foregroundCrop
        }
    }
}

/// What replaces removed pixels in the `foreground` and `only-background` views.
public enum BackgroundFill: String, CaseIterable, Codable, Sendable {
    /// Mid gray (128, 128, 128).
    case gray
    /// The dataset's mean colour.
    case mean
    /// Black.
    case black
    /// Uniform random colour per pixel, seeded per sample.
    case noise
}

/// How the `foreground` view removes the background.
public enum ForegroundMode: Equatable, Sendable {
    /// Pixels outside the mask get the fill (weighted by the mask for soft masks).
    case fill
    /// Crop to the mask's bounding box grown by `padding` × its longer side, made square, resized
    /// back to the image size (bilinear). Background pixels inside the box are kept.
    case crop(padding: Float)
}

/// Options shared by every view of a dataset.
public struct ViewOptions: Sendable, Equatable {
    public var fill: BackgroundFill
    public var foregroundMode: ForegroundMode
    /// Seeds the `noise` fill (per sample); the partner table has its own seed.
    public var seed: UInt64

    public init(fill: BackgroundFill = .gray, foregroundMode: ForegroundMode = .fill, seed: UInt64 = 0) {
        self.fill = fill
        self.foregroundMode = foregroundMode
        self.seed = seed
    }
}

/// The partners used by the mixed views: a stored, seeded table, so every model is tested on the
/// same mixed images. Save it with `JSONEncoder` next to results if a run needs to prove it.
public struct PartnerTable: Codable, Equatable, Sendable {
    public var seed: UInt64
    /// `sameClass[i]`: another sample of `i`'s class (or `i` itself when it is alone in its class).
    public var sameClass: [Int]
    /// `otherClass[i]`: a sample of a different class (or any other sample when there is one class).
    public var otherClass: [Int]

    /// Draws partners for `labels` from `seed`; partner `i` depends only on `(seed, i, labels)`.
    public init(labels: [Int], seed: UInt64) {
        self.seed = seed
        var byClass: [Int: [Int]] = [:]
        for (i, l) in labels.enumerated() { byClass[l, default: []].append(i) }
        let n = labels.count
        var same = [Int](repeating: 0, count: n), other = [Int](repeating: 0, count: n)
        for i in 0..<n {
            var rng = SeededRNG(seed: seed, streams: UInt64(i))
            let members = byClass[labels[i]]!
            if members.count > 1 {
                var j = members[rng.int(below: members.count - 1)]
                if j == i { j = members[members.count - 1] }
                same[i] = j
            } else {
                same[i] = i
            }
            let others = n - members.count
            if others > 0 {
                // The k-th sample (in index order) whose class differs from i's.
                var k = rng.int(below: others)
                var pick = 0
                for j in 0..<n where labels[j] != labels[i] {
                    if k == 0 { pick = j; break }
                    k -= 1
                }
                other[i] = pick
            } else {
                other[i] = n > 1 ? (i + 1 + rng.int(below: n - 1)) % n : i
            }
        }
        sameClass = same
        otherClass = other
    }
}

/// Renders views of the samples of a cached split. Pure: the same sample and options give the
/// same bytes.
public struct ViewRenderer: Sendable {
    public let split: DatasetSplit
    public let options: ViewOptions
    public let partners: PartnerTable
    /// The dataset mean colour used by the `mean` fill.
    public let meanColour: [UInt8]

    public init(split: DatasetSplit, options: ViewOptions = ViewOptions(), partnerSeed: UInt64 = 0) {
        self.split = split
        self.options = options
        self.partners = PartnerTable(labels: split.labels, seed: partnerSeed)
        let mean = split.channelStatistics().mean
        self.meanColour = mean.map { UInt8(min(max($0 * 255 + 0.5, 0), 255)) }
    }

    /// Sample `i` in `view`: `size × size × 3` interleaved bytes.
    public func render(_ view: ViewKind, sample i: Int) -> [UInt8] {
        let s = split.size
        let image = Array(split.pixels[(i * s * s * 3)..<((i + 1) * s * s * 3)])
        let mask = Array(split.masks[(i * s * s)..<((i + 1) * s * s)])
        switch view {
        case .full:
            return image
        case .foreground:
            if case let .crop(padding) = options.foregroundMode {
                return Views.cropToForeground(image, mask: mask, width: s, height: s, padding: padding)
            }
            return Views.keep(.foreground, of: image, mask: mask, fill: fillPixels(sample: i))
        case .foregroundCrop:
            return Views.cropToBox(image, mask: mask, size: s).pixels
        case .onlyBackground:
            return Views.keep(.background, of: image, mask: mask, fill: fillPixels(sample: i))
        case .onlyBackgroundTiled:
            return Views.tileBackground(image, mask: mask, width: s, height: s, fill: fillPixels(sample: i))
        case .mixedSame, .mixedRandom:
            let j = view == .mixedSame ? partners.sameClass[i] : partners.otherClass[i]
            let partner = Array(split.pixels[(j * s * s * 3)..<((j + 1) * s * s * 3)])
            let partnerMask = Array(split.masks[(j * s * s)..<((j + 1) * s * s)])
            let background = Views.removeForeground(partner, mask: partnerMask, width: s, height: s)
            return Views.composite(image, mask: mask, onto: background)
        }
    }

    /// The fill pixels (`size × size × 3`) for sample `i`.
    func fillPixels(sample i: Int) -> [UInt8] {
        let n = split.size * split.size
        switch options.fill {
        case .gray: return [UInt8](repeating: 128, count: n * 3)
        case .black: return [UInt8](repeating: 0, count: n * 3)
        case .mean: return (0..<(n * 3)).map { meanColour[$0 % 3] }
        case .noise:
            var rng = SeededRNG(seed: options.seed, streams: UInt64(i), 0x6E6F_6973_65)
            return (0..<(n * 3)).map { _ in UInt8(truncatingIfNeeded: rng.next() >> 56) }
        }
    }
}

/// The pixel operations behind the views, on interleaved 8-bit buffers (`width × height × 3`)
/// and weight masks (`width × height`, 255 = foreground).
public enum Views {
    public enum Part: Sendable { case foreground, background }

    /// Keeps `part` of `image` and replaces the rest with `fill`, blending by the mask weight.
    public static func keep(_ part: Part, of image: [UInt8], mask: [UInt8], fill: [UInt8]) -> [UInt8] {
        var out = image
        for p in 0..<mask.count {
            let w = part == .foreground ? Int(mask[p]) : 255 - Int(mask[p])
            for c in 0..<3 {
                let i = 3 * p + c
                out[i] = UInt8((Int(image[i]) * w + Int(fill[i]) * (255 - w) + 127) / 255)
            }
        }
        return out
    }

    /// `foreground` where the mask is set, `background` elsewhere (weighted for soft masks).
    public static func composite(_ foreground: [UInt8], mask: [UInt8], onto background: [UInt8]) -> [UInt8] {
        keep(.foreground, of: foreground, mask: mask, fill: background)
    }

    /// Bounding box `(x0, y0, x1, y1)` (inclusive) of pixels with weight above `threshold`, or nil.
    public static func boundingBox(_ mask: [UInt8], width: Int, height: Int, threshold: UInt8 = 128) -> (Int, Int, Int, Int)? {
        var x0 = width, y0 = height, x1 = -1, y1 = -1
        for y in 0..<height {
            for x in 0..<width where mask[y * width + x] > threshold {
                x0 = min(x0, x); x1 = max(x1, x); y0 = min(y0, y); y1 = max(y1, y)
            }
        }
        return x1 < 0 ? nil : (x0, y0, x1, y1)
    }

    /// The `crop` foreground mode: the mask's bounding box, grown by `padding` × its longer side
    /// and made square (clamped to the image), resized back to `width × height`.
    public static func cropToForeground(_ image: [UInt8], mask: [UInt8], width: Int, height: Int, padding: Float) -> [UInt8] {
        guard let (bx0, by0, bx1, by1) = boundingBox(mask, width: width, height: height) else { return image }
        let side = Float(max(bx1 - bx0 + 1, by1 - by0 + 1)) * (1 + 2 * max(padding, 0))
        let cx = Float(bx0 + bx1 + 1) / 2, cy = Float(by0 + by1 + 1) / 2
        let half = min(side, Float(min(width, height))) / 2
        let x0 = Int(min(max(cx - half, 0), Float(width) - 2 * half).rounded())
        let y0 = Int(min(max(cy - half, 0), Float(height) - 2 * half).rounded())
        let cw = max(1, min(Int((2 * half).rounded()), width - x0)), ch = max(1, min(Int((2 * half).rounded()), height - y0))
        var crop = [UInt8](repeating: 0, count: cw * ch * 3)
        for y in 0..<ch {
            for x in 0..<cw {
                for c in 0..<3 { crop[(y * cw + x) * 3 + c] = image[((y0 + y) * width + x0 + x) * 3 + c] }
            }
        }
        return Resize.resize(crop, width: cw, height: ch, channels: 3, to: width, height, filter: .bilinear)
    }

    /// The image with its foreground removed, ImageNet-9's way ("only-BG-T"): the foreground's
    /// bounding box (any weight > 0) is filled by tiling the background strip beside it — the
    /// wider of the left/right strips, or of the top/bottom strips when those hold more pixels —
    /// so the partner's texture continues where its object was. When the box covers the whole
    /// image, the mean colour of the background pixels is used (mid gray if there are none).
    ///
    /// References: Xiao et al., "Noise or Signal: The Role of Image Backgrounds in Object
    /// Recognition", ICLR 2021.
    public static func removeForeground(_ image: [UInt8], mask: [UInt8], width: Int, height: Int) -> [UInt8] {
        guard let (x0, y0, x1, y1) = boundingBox(mask, width: width, height: height, threshold: 0) else { return image }
        var out = image
        let left = x0, right = width - 1 - x1, top = y0, bottom = height - 1 - y1
        let bw = x1 - x0 + 1, bh = y1 - y0 + 1
        let horizontal = max(left, right) * bh, vertical = max(top, bottom) * bw
        var fallback: [UInt8] = [128, 128, 128]
        if horizontal == 0 && vertical == 0 {
            var sum = [Int](repeating: 0, count: 3), n = 0
            for p in 0..<mask.count where mask[p] == 0 { for c in 0..<3 { sum[c] += Int(image[3 * p + c]) }; n += 1 }
            if n > 0 { fallback = sum.map { UInt8($0 / n) } }
        }
        for y in y0...y1 {
            for x in x0...x1 {
                var sx = x, sy = y
                if horizontal == 0 && vertical == 0 {
                    for c in 0..<3 { out[(y * width + x) * 3 + c] = fallback[c] }
                    continue
                } else if horizontal >= vertical {
                    sx = left >= right ? (x0 - left + (x - x0) % left) : (x1 + 1 + (x - x0) % right)
                } else {
                    sy = top >= bottom ? (y0 - top + (y - y0) % top) : (y1 + 1 + (y - y0) % bottom)
                }
                for c in 0..<3 { out[(y * width + x) * 3 + c] = image[(sy * width + sx) * 3 + c] }
            }
        }
        return out
    }
}
