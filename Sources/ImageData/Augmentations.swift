#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TensorCore

/// The parameters of one augmentation pipeline (one contrastive view), applied in this order:
/// random resized crop → horizontal flip → colour jitter → grayscale → Gaussian blur →
/// solarization. Geometric steps move the mask with the image; colour steps leave it alone.
///
/// Every draw comes from the `SeededRNG` passed in, seeded per sample, epoch and view.
public struct AugmentationParameters: Sendable, Equatable {
    /// Crop area as a fraction of the image area, drawn uniformly (torchvision `scale`).
    public var cropScale: ClosedRange<Float> = 0.08...1.0
    /// Crop aspect ratio w / h, drawn log-uniformly (torchvision `ratio`).
    public var cropRatio: ClosedRange<Float> = (3.0 / 4.0)...(4.0 / 3.0)
    /// Probability of a horizontal flip.
    public var flipProbability: Float = 0.5
    /// Probability that colour jitter is applied at all.
    public var jitterProbability: Float = 0.8
    /// Brightness factor ~ U[max(0, 1 − b), 1 + b]: `x · f`.
    public var brightness: Float
    /// Contrast factor ~ U[max(0, 1 − c), 1 + c]: `mean + f · (x − mean)` (mean of the luma).
    public var contrast: Float
    /// Saturation factor ~ U[max(0, 1 − s), 1 + s]: `luma + f · (x − luma)`.
    public var saturation: Float
    /// Hue shift ~ U[−h, h] in turns (h ≤ 0.5), applied in HSV.
    public var hue: Float
    /// Probability of converting to grayscale (luma 0.299 R + 0.587 G + 0.114 B in all channels).
    public var grayscaleProbability: Float = 0.2
    /// Probability of a Gaussian blur with σ ~ U(`blurSigma`), radius ⌈3σ⌉, reflected borders.
    public var blurProbability: Float
    public var blurSigma: ClosedRange<Float> = 0.1...2.0
    /// Probability of solarization (`x ≥ 0.5 → 1 − x`).
    public var solarizeProbability: Float

    public init(brightness: Float, contrast: Float, saturation: Float, hue: Float, blurProbability: Float, solarizeProbability: Float) {
        self.brightness = brightness
        self.contrast = contrast
        self.saturation = saturation
        self.hue = hue
        self.blurProbability = blurProbability
        self.solarizeProbability = solarizeProbability
    }

    /// No augmentation at all except a full-size crop (identity): for evaluation and tests.
    public static let identity: AugmentationParameters = {
        var p = AugmentationParameters(brightness: 0, contrast: 0, saturation: 0, hue: 0, blurProbability: 0, solarizeProbability: 0)
        p.cropScale = 1...1
        p.cropRatio = 1...1
        p.flipProbability = 0
        p.jitterProbability = 0
        p.grayscaleProbability = 0
        return p
    }()
}

/// The augmentation presets of EXPERIMENT.md (solo-learn's CIFAR values).
public enum AugmentationPreset: String, CaseIterable, Codable, Sendable {
    /// SimCLR: jitter 0.8 / 0.8 / 0.8 / 0.2, blur p 0.5, both views alike.
    case symmetric
    /// MoCo v2, SimSiam: jitter 0.4 / 0.4 / 0.4 / 0.1, blur p 0.5, both views alike.
    case symmetricWeak = "symmetric_weak"
    /// BYOL, Barlow Twins: jitter 0.4 / 0.4 / 0.2 / 0.1, no blur; solarize p 0.2 on view 2 only.
    case asymmetric
    /// Short CPU runs on 32-px scenes (not a solo-learn preset): crop scale 0.2–1, jitter
    /// 0.4 / 0.4 / 0.4 / 0.1 with p 0.8, grayscale p 0.5, no blur, no solarization, both views alike.
    ///
    /// The solo-learn presets are tuned for ~1000 epochs. In a budget of a few hundred steps
    /// they stop SimCLR from learning anything on the built-in dataset: the two views share too
    /// little (a crop of 8% of a 32-px image, σ up to 2 px of blur, strong jitter), the loss falls
    /// only by drifting towards a constant output and frozen features end below those of an
    /// untrained network. Dropping the blur, cropping at least 20% and grayscaling half the views
    /// (colour is drawn per image and never identifies the class, so it is the shortcut to remove)
    /// gives linear top-1 well above chance in ten epochs. See docs/Training.md.
    case quick

    /// The parameters of view 1 and view 2.
    public var views: (AugmentationParameters, AugmentationParameters) {
        switch self {
        case .symmetric:
            let p = AugmentationParameters(brightness: 0.8, contrast: 0.8, saturation: 0.8, hue: 0.2, blurProbability: 0.5, solarizeProbability: 0)
            return (p, p)
        case .symmetricWeak:
            let p = AugmentationParameters(brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1, blurProbability: 0.5, solarizeProbability: 0)
            return (p, p)
        case .asymmetric:
            let v1 = AugmentationParameters(brightness: 0.4, contrast: 0.4, saturation: 0.2, hue: 0.1, blurProbability: 0, solarizeProbability: 0)
            var v2 = v1
            v2.solarizeProbability = 0.2
            return (v1, v2)
        case .quick:
            var p = AugmentationParameters(brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1, blurProbability: 0, solarizeProbability: 0)
            p.cropScale = 0.2...1.0
            p.grayscaleProbability = 0.5
            return (p, p)
        }
    }
}

/// A crop rectangle in source pixels.
public struct CropBox: Equatable, Sendable {
    public var x: Int, y: Int, width: Int, height: Int
}

/// An augmented sample: planar `[3, size, size]` floats in [0, 1] and its `[size, size]` mask weights in [0, 1].
public struct AugmentedSample: Sendable {
    public var pixels: [Float]
    public var mask: [Float]
}

/// The augmentation pipeline.
public enum Augmenter {
    /// Draws a random resized crop box of a `width × height` image (torchvision's algorithm: ten
    /// tries at a random area fraction in `scale` and log-uniform ratio, then a centre crop with
    /// the ratio clamped).
    public static func sampleCrop(width: Int, height: Int, scale: ClosedRange<Float>, ratio: ClosedRange<Float>,
                                  rng: inout SeededRNG) -> CropBox {
        let area = Float(width * height)
        let logLo = logf(ratio.lowerBound), logHi = logf(ratio.upperBound)
        for _ in 0..<10 {
            let target = area * rng.uniform(scale.lowerBound, scale.upperBound)
            let aspect = expf(rng.uniform(logLo, logHi))
            let w = Int((target * aspect).squareRoot().rounded()), h = Int((target / aspect).squareRoot().rounded())
            if w > 0 && h > 0 && w <= width && h <= height {
                let x = rng.int(below: width - w + 1), y = rng.int(below: height - h + 1)
                return CropBox(x: x, y: y, width: w, height: h)
            }
        }
        let inRatio = Float(width) / Float(height)
        var w = width, h = height
        if inRatio < ratio.lowerBound {
            h = Int((Float(w) / ratio.lowerBound).rounded())
        } else if inRatio > ratio.upperBound {
            w = Int((Float(h) * ratio.upperBound).rounded())
        }
        return CropBox(x: (width - w) / 2, y: (height - h) / 2, width: w, height: h)
    }

    /// Applies `p` to an interleaved `size × size × 3` image and its `size × size` mask.
    /// - Returns: planar `[3, size, size]` pixels in [0, 1] (not yet normalized) and the mask.
    public static func apply(_ p: AugmentationParameters, image: [UInt8], mask: [UInt8], size s: Int,
                             rng: inout SeededRNG) -> AugmentedSample {
        let box = sampleCrop(width: s, height: s, scale: p.cropScale, ratio: p.cropRatio, rng: &rng)
        let flip = rng.chance(p.flipProbability)
        var out = AugmentedSample(pixels: [Float](repeating: 0, count: 3 * s * s), mask: [Float](repeating: 0, count: s * s))
        resample(image, mask: mask, size: s, box: box, flip: flip, into: &out)
        if rng.chance(p.jitterProbability) {
            var order = [0, 1, 2, 3]
            rng.shuffle(&order)
            let b = rng.uniform(max(0, 1 - p.brightness), 1 + p.brightness)
            let c = rng.uniform(max(0, 1 - p.contrast), 1 + p.contrast)
            let sat = rng.uniform(max(0, 1 - p.saturation), 1 + p.saturation)
            let h = rng.uniform(-p.hue, p.hue)
            for op in order {
                switch op {
                case 0: if p.brightness > 0 { ColourOps.brightness(&out.pixels, b) }
                case 1: if p.contrast > 0 { ColourOps.contrast(&out.pixels, c, plane: s * s) }
                case 2: if p.saturation > 0 { ColourOps.saturation(&out.pixels, sat, plane: s * s) }
                default: if p.hue > 0 { ColourOps.hue(&out.pixels, h, plane: s * s) }
                }
            }
        }
        if rng.chance(p.grayscaleProbability) { ColourOps.grayscale(&out.pixels, plane: s * s) }
        if rng.chance(p.blurProbability) {
            ColourOps.gaussianBlur(&out.pixels, size: s, sigma: rng.uniform(p.blurSigma.lowerBound, p.blurSigma.upperBound))
        }
        if rng.chance(p.solarizeProbability) { ColourOps.solarize(&out.pixels) }
        return out
    }

    /// Bilinear resampling of `box` (optionally mirrored) to `size × size`, image and mask alike.
    /// (EXPERIMENT.md names bicubic; bilinear is used here: cheaper, and no overshoot to clamp.)
    static func resample(_ image: [UInt8], mask: [UInt8], size s: Int, box: CropBox, flip: Bool, into out: inout AugmentedSample) {
        let sx = Float(box.width) / Float(s), sy = Float(box.height) / Float(s)
        let plane = s * s
        let inv: Float = 1.0 / 255.0
        for oy in 0..<s {
            let fy = min(max(Float(box.y) + (Float(oy) + 0.5) * sy - 0.5, 0), Float(s - 1))
            let y0 = Int(fy), y1 = min(y0 + 1, s - 1), ty = fy - Float(y0)
            for ox in 0..<s {
                let tx0 = flip ? s - 1 - ox : ox
                let fx = min(max(Float(box.x) + (Float(tx0) + 0.5) * sx - 0.5, 0), Float(s - 1))
                let x0 = Int(fx), x1 = min(x0 + 1, s - 1), tx = fx - Float(x0)
                let w00 = (1 - tx) * (1 - ty), w01 = tx * (1 - ty), w10 = (1 - tx) * ty, w11 = tx * ty
                let i00 = y0 * s + x0, i01 = y0 * s + x1, i10 = y1 * s + x0, i11 = y1 * s + x1
                let o = oy * s + ox
                for c in 0..<3 {
                    let v = w00 * Float(image[3 * i00 + c]) + w01 * Float(image[3 * i01 + c])
                        + w10 * Float(image[3 * i10 + c]) + w11 * Float(image[3 * i11 + c])
                    out.pixels[c * plane + o] = v * inv
                }
                out.mask[o] = (w00 * Float(mask[i00]) + w01 * Float(mask[i01]) + w10 * Float(mask[i10]) + w11 * Float(mask[i11])) * inv
            }
        }
    }
}

/// Colour operations on planar `[3, plane]` floats in [0, 1]; each clamps its result to [0, 1].
enum ColourOps {
    @inline(__always) static func clamp(_ v: Float) -> Float { min(max(v, 0), 1) }

    static func brightness(_ x: inout [Float], _ f: Float) {
        for i in 0..<x.count { x[i] = clamp(x[i] * f) }
    }

    static func luma(_ x: [Float], _ i: Int, plane: Int) -> Float {
        0.299 * x[i] + 0.587 * x[plane + i] + 0.114 * x[2 * plane + i]
    }

    static func contrast(_ x: inout [Float], _ f: Float, plane: Int) {
        var mean: Float = 0
        for i in 0..<plane { mean += luma(x, i, plane: plane) }
        mean /= Float(plane)
        for i in 0..<x.count { x[i] = clamp(mean + f * (x[i] - mean)) }
    }

    static func saturation(_ x: inout [Float], _ f: Float, plane: Int) {
        for i in 0..<plane {
            let g = luma(x, i, plane: plane)
            for c in 0..<3 { x[c * plane + i] = clamp(g + f * (x[c * plane + i] - g)) }
        }
    }

    static func grayscale(_ x: inout [Float], plane: Int) {
        for i in 0..<plane {
            let g = luma(x, i, plane: plane)
            x[i] = g; x[plane + i] = g; x[2 * plane + i] = g
        }
    }

    /// Rotates hue by `shift` turns (RGB → HSV → RGB).
    static func hue(_ x: inout [Float], _ shift: Float, plane: Int) {
        for i in 0..<plane {
            let r = x[i], g = x[plane + i], b = x[2 * plane + i]
            let maxc = max(r, g, b), minc = min(r, g, b), delta = maxc - minc
            guard delta > 1e-6 else { continue }
            var h: Float
            if maxc == r { h = (g - b) / delta } else if maxc == g { h = 2 + (b - r) / delta } else { h = 4 + (r - g) / delta }
            h = h / 6 + shift
            h -= floorf(h)
            let sat = delta / maxc, v = maxc
            let h6 = h * 6, k = floorf(h6), f = h6 - k
            let p = v * (1 - sat), q = v * (1 - sat * f), t = v * (1 - sat * (1 - f))
            let (nr, ng, nb): (Float, Float, Float)
            switch Int(k) % 6 {
            case 0: (nr, ng, nb) = (v, t, p)
            case 1: (nr, ng, nb) = (q, v, p)
            case 2: (nr, ng, nb) = (p, v, t)
            case 3: (nr, ng, nb) = (p, q, v)
            case 4: (nr, ng, nb) = (t, p, v)
            default: (nr, ng, nb) = (v, p, q)
            }
            x[i] = clamp(nr); x[plane + i] = clamp(ng); x[2 * plane + i] = clamp(nb)
        }
    }

    static func solarize(_ x: inout [Float]) {
        for i in 0..<x.count where x[i] >= 0.5 { x[i] = 1 - x[i] }
    }

    /// Separable Gaussian blur of a planar `[3, size, size]` image, radius ⌈3σ⌉ (capped at size − 1), reflected borders.
    static func gaussianBlur(_ x: inout [Float], size s: Int, sigma: Float) {
        let radius = min(Int(ceilf(3 * sigma)), s - 1)
        guard radius > 0 else { return }
        var kernel = (-radius...radius).map { expf(-Float($0 * $0) / (2 * sigma * sigma)) }
        let total = kernel.reduce(0, +)
        kernel = kernel.map { $0 / total }
        func reflect(_ i: Int) -> Int { i < 0 ? -i : (i >= s ? 2 * s - 2 - i : i) }
        var tmp = [Float](repeating: 0, count: s * s)
        for c in 0..<3 {
            let base = c * s * s
            for y in 0..<s {
                for xx in 0..<s {
                    var acc: Float = 0
                    for k in -radius...radius { acc += kernel[k + radius] * x[base + y * s + reflect(xx + k)] }
                    tmp[y * s + xx] = acc
                }
            }
            for y in 0..<s {
                for xx in 0..<s {
                    var acc: Float = 0
                    for k in -radius...radius { acc += kernel[k + radius] * tmp[reflect(y + k) * s + xx] }
                    x[base + y * s + xx] = clamp(acc)
                }
            }
        }
    }
}
