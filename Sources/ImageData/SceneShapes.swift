#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TensorCore

/// The procedural shape families of the built-in dataset (one per class). Each is an inside test
/// in shape-local coordinates where the shape spans roughly [−1, 1] × [−1, 1]; no two families
/// are equal up to rotation or the modest aspect changes the generator applies.
enum SceneShape: Int, CaseIterable {
    case disk, ring, triangle, square, plus, star, crescent, arrow, hexagon, heart, tee, lshape

    var name: String { "\(self)" }

    func contains(_ u: Float, _ v: Float) -> Bool {
        let r2 = u * u + v * v
        switch self {
        case .disk: return r2 <= 1
        case .ring: return r2 <= 1 && r2 >= 0.3
        case .triangle:
            // Equilateral, circumradius 1, apex up.
            return v >= -0.5 && 1.732 * u - v <= 1 && -1.732 * u - v <= 1
        case .square: return abs(u) <= 0.8 && abs(v) <= 0.8
        case .plus: return (abs(u) <= 0.3 && abs(v) <= 1) || (abs(v) <= 0.3 && abs(u) <= 1)
        case .star:
            let theta = atan2f(v, u) + .pi / 2
            var t = theta * 5 / (2 * .pi)
            t -= floorf(t)
            let tip = abs(t - 0.5) * 2
            return r2.squareRoot() <= 0.4 + 0.6 * tip * tip
        case .crescent: return r2 <= 1 && (u - 0.5) * (u - 0.5) + v * v > 0.6
        case .arrow:
            let shaft = abs(v) <= 0.25 && u >= -1 && u <= 0.2
            let head = u >= 0.2 && u <= 1 && abs(v) <= 0.8 * (1 - u) / 0.8
            return shaft || head
        case .hexagon: return abs(v) <= 0.866 && 1.732 * abs(u) + abs(v) <= 1.732
        case .heart:
            let x = u * 1.25, y = -v * 1.25 + 0.25
            let a = x * x + y * y - 1
            return a * a * a - x * x * y * y * y <= 0
        case .tee: return (abs(u) <= 1 && v >= -1 && v <= -0.45) || (abs(u) <= 0.28 && abs(v) <= 1)
        case .lshape: return (u >= -0.9 && u <= -0.35 && abs(v) <= 1) || (v >= 0.45 && v <= 1 && u >= -0.9 && u <= 0.9)
        }
    }
}

/// The procedural background texture families. Colours, phases, angles and frequencies are
/// drawn per image, so only the family (the kind of pattern) can carry class information.
enum SceneTexture: Int, CaseIterable {
    case stripes, checkerboard, dots, gradient, valueNoise, rings, bricks, waves, plaid, zigzag, gridLines, sunburst

    var name: String {
        switch self {
        case .valueNoise: "value-noise"
        case .gridLines: "grid-lines"
        default: "\(self)"
        }
    }

    /// Fills `size × size × 3` bytes with this texture in two random colours: a dark and a light
    /// shade (HSV value 0.15–0.4 and 0.65–0.95) of one random hue and saturation (0.2–0.6).
    ///
    /// The guaranteed value contrast (≥ 0.25, so ≥ 0.11 in luma) keeps the pattern, and so the family, visible in
    /// every image. Two independently drawn colours (the first version of the generator) were
    /// often nearly equal, leaving a flat background whose family could not be recognized: a
    /// supervised SmallResNet(16) reached only 35% top-1 on `full` test images after 10 epochs
    /// (PyTorch agreed), against 72% with a prototype of this rule, and contrastive models stayed at chance.
    /// Colours still vary per image, so only the kind of pattern carries class information.
    func render(size s: Int, rng: inout SeededRNG) -> [UInt8] {
        let hue = rng.unit(), saturation = rng.uniform(0.2, 0.6)
        let c1 = SceneColour.hsv(hue, saturation, rng.uniform(0.15, 0.4))
        let c2 = SceneColour.hsv(hue, saturation, rng.uniform(0.65, 0.95))
        let scale = Float(s) / 32
        let period = rng.uniform(5, 11) * scale
        let angle = rng.uniform(0, .pi)
        let phase = rng.uniform(0, 1)
        let cx = rng.uniform(0, Float(s)), cy = rng.uniform(0, Float(s))
        let ca = cosf(angle), sa = sinf(angle)
        // Value-noise lattice (only used by .valueNoise), drawn unconditionally to keep streams simple.
        let cells = Int(Float(s) / period) + 2
        let lattice = (0..<(cells * cells)).map { _ in rng.unit() }
        var out = [UInt8](repeating: 0, count: s * s * 3)
        for y in 0..<s {
            for x in 0..<s {
                let px = Float(x) + 0.5, py = Float(y) + 0.5
                let a = (px * ca + py * sa) / period + phase, b = (-px * sa + py * ca) / period + phase
                var t: Float
                switch self {
                case .stripes: t = a - floorf(a) < 0.5 ? 0 : 1
                case .checkerboard: t = (Int(floorf(a)) + Int(floorf(b))) & 1 == 0 ? 0 : 1
                case .dots:
                    let da = a - floorf(a) - 0.5, db = b - floorf(b) - 0.5
                    t = da * da + db * db < 0.09 ? 1 : 0
                case .gradient: t = min(max((px * ca + py * sa) / (Float(s) * 1.42) + 0.25 * phase, 0), 1)
                case .valueNoise:
                    let gx = px / period, gy = py / period
                    let ix = min(Int(gx), cells - 2), iy = min(Int(gy), cells - 2)
                    var fx = gx - Float(ix), fy = gy - Float(iy)
                    fx = fx * fx * (3 - 2 * fx); fy = fy * fy * (3 - 2 * fy)
                    let v00 = lattice[iy * cells + ix], v01 = lattice[iy * cells + ix + 1]
                    let v10 = lattice[(iy + 1) * cells + ix], v11 = lattice[(iy + 1) * cells + ix + 1]
                    t = (v00 * (1 - fx) + v01 * fx) * (1 - fy) + (v10 * (1 - fx) + v11 * fx) * fy
                case .rings:
                    let d = ((px - cx) * (px - cx) + (py - cy) * (py - cy)).squareRoot() / period + phase
                    t = d - floorf(d) < 0.5 ? 0 : 1
                case .bricks:
                    let row = floorf(b * 2)
                    let shifted = a + (Int(row) & 1 == 0 ? 0 : 0.5)
                    let mortarRow = b * 2 - row < 0.18, mortarCol = shifted - floorf(shifted) < 0.09
                    t = mortarRow || mortarCol ? 1 : 0
                case .waves:
                    let w = a + 0.35 * sinf(2 * .pi * b * 0.7)
                    t = w - floorf(w) < 0.5 ? 0 : 1
                case .plaid:
                    let sa1 = a - floorf(a) < 0.3 ? 0.5 : 0, sb1 = b - floorf(b) < 0.3 ? 0.5 : 0
                    t = Float(sa1 + sb1)
                case .zigzag:
                    let tri = abs(b - floorf(b) - 0.5) * 2
                    let z = a + 0.6 * tri
                    t = z - floorf(z) < 0.5 ? 0 : 1
                case .gridLines:
                    t = a - floorf(a) < 0.16 || b - floorf(b) < 0.16 ? 1 : 0
                case .sunburst:
                    var theta = (atan2f(py - cy, px - cx) + .pi) / (2 * .pi) * 12 + phase
                    theta -= floorf(theta)
                    t = theta < 0.5 ? 0 : 1
                }
                let i = (y * s + x) * 3
                for c in 0..<3 { out[i + c] = UInt8(min(max(c1[c] + (c2[c] - c1[c]) * t, 0), 255)) }
            }
        }
        return out
    }
}

/// Random colours from HSV ranges, as 0–255 floats.
enum SceneColour {
    static func random(_ rng: inout SeededRNG, saturation: ClosedRange<Float>, value: ClosedRange<Float>) -> [Float] {
        let h = rng.unit(), s = rng.uniform(saturation.lowerBound, saturation.upperBound)
        let v = rng.uniform(value.lowerBound, value.upperBound)
        return hsv(h, s, v)
    }

    static func hsv(_ h: Float, _ s: Float, _ v: Float) -> [Float] {
        let h6 = (h - floorf(h)) * 6, k = floorf(h6), f = h6 - k
        let p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f))
        let rgb: [Float]
        switch Int(k) % 6 {
        case 0: rgb = [v, t, p]
        case 1: rgb = [q, v, p]
        case 2: rgb = [p, v, t]
        case 3: rgb = [p, q, v]
        case 4: rgb = [t, p, v]
        default: rgb = [v, p, q]
        }
        return rgb.map { $0 * 255 }
    }
}
