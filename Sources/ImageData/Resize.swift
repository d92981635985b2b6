/// The filter used to bring images (and their masks, with the same filter) to the spec size.
public enum ResizeFilter: String, CaseIterable, Sendable {
    /// Bilinear interpolation with pixel centres aligned (`align_corners = false`).
    case bilinear
    /// Area averaging (box filter with fractional coverage); best for shrinking.
    case area
}

/// Resampling of interleaved 8-bit planes. Non-square inputs are stretched to the output size.
public enum Resize {
    /// Resizes `src` (`width × height × channels`, interleaved) to `outWidth × outHeight × channels`.
    public static func resize(_ src: [UInt8], width: Int, height: Int, channels: Int,
                              to outWidth: Int, _ outHeight: Int, filter: ResizeFilter) -> [UInt8] {
        if width == outWidth && height == outHeight { return src }
        switch filter {
        case .bilinear: return bilinear(src, width, height, channels, outWidth, outHeight)
        case .area: return area(src, width, height, channels, outWidth, outHeight)
        }
    }

    static func bilinear(_ src: [UInt8], _ w: Int, _ h: Int, _ c: Int, _ ow: Int, _ oh: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: ow * oh * c)
        let sx = Float(w) / Float(ow), sy = Float(h) / Float(oh)
        for oy in 0..<oh {
            let fy = min(max((Float(oy) + 0.5) * sy - 0.5, 0), Float(h - 1))
            let y0 = Int(fy), y1 = min(y0 + 1, h - 1), ty = fy - Float(y0)
            for ox in 0..<ow {
                let fx = min(max((Float(ox) + 0.5) * sx - 0.5, 0), Float(w - 1))
                let x0 = Int(fx), x1 = min(x0 + 1, w - 1), tx = fx - Float(x0)
                for ch in 0..<c {
                    let a = Float(src[(y0 * w + x0) * c + ch]), b = Float(src[(y0 * w + x1) * c + ch])
                    let d = Float(src[(y1 * w + x0) * c + ch]), e = Float(src[(y1 * w + x1) * c + ch])
                    let v = (a + (b - a) * tx) * (1 - ty) + (d + (e - d) * tx) * ty
                    out[(oy * ow + ox) * c + ch] = UInt8(min(max(v + 0.5, 0), 255))
                }
            }
        }
        return out
    }

    /// Coverage weights of each output cell over the input cells along one axis.
    static func areaWeights(_ n: Int, _ on: Int) -> [[(Int, Float)]] {
        let scale = Double(n) / Double(on)
        return (0..<on).map { o in
            let lo = Double(o) * scale, hi = Double(o + 1) * scale
            var taps: [(Int, Float)] = []
            var i = Int(lo.rounded(.down))
            while Double(i) < hi && i < n {
                let cover = min(hi, Double(i + 1)) - max(lo, Double(i))
                if cover > 1e-9 { taps.append((i, Float(cover / (hi - lo)))) }
                i += 1
            }
            return taps
        }
    }

    static func area(_ src: [UInt8], _ w: Int, _ h: Int, _ c: Int, _ ow: Int, _ oh: Int) -> [UInt8] {
        let wx = areaWeights(w, ow), wy = areaWeights(h, oh)
        var rows = [Float](repeating: 0, count: h * ow * c)
        for y in 0..<h {
            for ox in 0..<ow {
                for ch in 0..<c {
                    var s: Float = 0
                    for (x, wgt) in wx[ox] { s += wgt * Float(src[(y * w + x) * c + ch]) }
                    rows[(y * ow + ox) * c + ch] = s
                }
            }
        }
        var out = [UInt8](repeating: 0, count: ow * oh * c)
        for oy in 0..<oh {
            for ox in 0..<ow {
                for ch in 0..<c {
                    var s: Float = 0
                    for (y, wgt) in wy[oy] { s += wgt * rows[(y * ow + ox) * c + ch] }
                    out[(oy * ow + ox) * c + ch] = UInt8(min(max(s + 0.5, 0), 255))
                }
            }
        }
        return out
    }
}
