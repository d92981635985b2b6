import Foundation

/// Why a segmentation could not be decoded (the importer adds the file and annotation id).
public struct COCOMaskError: Error, Equatable, Sendable, CustomStringConvertible {
    public var problem: String
    public var description: String { problem }
}

/// Decodes COCO segmentations into binary masks, bit-identical to pycocotools (`maskApi.c`).
///
/// Every mask returned is row-major, `height × width` bytes, 1 = object, 0 = background.
/// COCO's RLE runs are over the column-major (Fortran-order) pixels: `counts[0]` background
/// pixels down the first column(s), then `counts[1]` object pixels, and so on; they must sum to
/// `height × width`.
public enum COCOMasks {
    /// Decodes `segmentation` for an image of `width × height` pixels.
    /// - Throws: `COCOMaskError` for an odd polygon, non-finite coordinates, an RLE whose size
    ///   differs from the image's or whose counts do not sum to `height × width`, or a corrupt
    ///   compressed string.
    public static func decode(_ segmentation: COCOSegmentation, width: Int, height: Int) throws -> [UInt8] {
        switch segmentation {
        case let .polygons(polygons):
            var mask = [UInt8](repeating: 0, count: width * height)
            for (i, p) in polygons.enumerated() {
                guard p.count % 2 == 0 else {
                    throw COCOMaskError(problem: "polygon \(i) has an odd number of coordinates (\(p.count)); a polygon is [x0, y0, x1, y1, …]")
                }
                guard p.allSatisfy({ $0.isFinite && abs($0) < 1e7 }) else {
                    throw COCOMaskError(problem: "polygon \(i) has a coordinate that is not a finite pixel position")
                }
                if p.count < 6 { continue }  // fewer than 3 vertices cover no pixel
                let one = decodeRLE(counts: polygonRLE(p, width: width, height: height), width: width, height: height)
                for j in 0..<mask.count where one[j] != 0 { mask[j] = 1 }
            }
            return mask
        case let .rle(counts, h, w):
            try checkSize(h: h, w: w, width: width, height: height)
            try checkCounts(counts, width: width, height: height)
            return decodeRLE(counts: counts, width: width, height: height)
        case let .compressedRLE(string, h, w):
            try checkSize(h: h, w: w, width: width, height: height)
            let counts = try rleCounts(fromString: string)
            try checkCounts(counts, width: width, height: height)
            return decodeRLE(counts: counts, width: width, height: height)
        }
    }

    static func checkSize(h: Int, w: Int, width: Int, height: Int) throws {
        guard h == height, w == width else {
            throw COCOMaskError(problem: "RLE size [\(h), \(w)] differs from the image's [height \(height), width \(width)]")
        }
    }

    static func checkCounts(_ counts: [Int], width: Int, height: Int) throws {
        guard counts.allSatisfy({ $0 >= 0 }) else { throw COCOMaskError(problem: "RLE counts must not be negative") }
        let sum = counts.reduce(0, +)
        guard sum == width * height else {
            throw COCOMaskError(problem: "RLE counts sum to \(sum), but size \(height)×\(width) needs \(width * height)")
        }
    }

    /// Row-major 0/1 mask of column-major RLE `counts` (already checked to sum to `width × height`).
    public static func decodeRLE(counts: [Int], width: Int, height: Int) -> [UInt8] {
        var mask = [UInt8](repeating: 0, count: width * height)
        var p = 0, value: UInt8 = 0
        for run in counts {
            if value == 1 {
                for q in p..<min(p + run, width * height) { mask[(q % height) * width + q / height] = 1 }
            }
            p += run
            value ^= 1
        }
        return mask
    }

    /// The run lengths of COCO's compressed RLE string (`rleFrString` in maskApi.c).
    ///
    /// Each count is stored in groups of 5 bits, least significant first, each group as the
    /// character `48 + bits` with bit 0x20 set when more groups follow; the last group's 0x10 bit
    /// is the sign. From the fourth count on, the stored value is the difference to the count two
    /// places earlier.
    /// - Throws: `COCOMaskError` for characters outside `0`…`o`, an unfinished last count, or a
    ///   negative run.
    public static func rleCounts(fromString string: String) throws -> [Int] {
        var counts: [Int] = []
        var x = 0, shift = 0
        for byte in string.utf8 {
            let c = Int(byte) - 48
            guard c >= 0 && c < 64 else { throw COCOMaskError(problem: "compressed RLE has the character \(UnicodeScalar(byte)), outside 0…o") }
            guard shift < 60 else { throw COCOMaskError(problem: "compressed RLE has a count longer than 12 characters") }
            x |= (c & 0x1f) << shift
            shift += 5
            if c & 0x20 != 0 { continue }
            if c & 0x10 != 0 { x |= -1 << shift }
            if counts.count > 2 { x += counts[counts.count - 2] }
            guard x >= 0 else { throw COCOMaskError(problem: "compressed RLE decodes to a negative run (\(x)) at count \(counts.count)") }
            counts.append(x)
            x = 0
            shift = 0
        }
        guard shift == 0 else { throw COCOMaskError(problem: "compressed RLE ends in the middle of a count") }
        return counts
    }

    /// The RLE counts of one polygon `[x0, y0, x1, y1, …]`, as pycocotools' `rleFrPoly`.
    ///
    /// The vertices are scaled by 5 and rounded (`Int(5v + 0.5)`, truncating), every edge is walked
    /// one step along its longer axis, and the points where the walk crosses a pixel column's
    /// boundary are scaled back: a crossing at `(x, y)` toggles the column-major pixel sequence
    /// at index `x·height + ⌈y⌉` (y clamped to 0…height). Sorting the toggles gives the runs.
    public static func polygonRLE(_ xy: [Double], width: Int, height: Int) -> [Int] {
        let k = xy.count / 2, scale = 5.0
        var x = [Int](repeating: 0, count: k + 1), y = [Int](repeating: 0, count: k + 1)
        for j in 0..<k {
            x[j] = Int(scale * xy[2 * j] + 0.5)
            y[j] = Int(scale * xy[2 * j + 1] + 0.5)
        }
        x[k] = x[0]; y[k] = y[0]
        var u: [Int] = [], v: [Int] = []
        for j in 0..<k {
            var xs = x[j], xe = x[j + 1], ys = y[j], ye = y[j + 1]
            let dx = abs(xe - xs), dy = abs(ys - ye)
            let flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye)
            if flip { swap(&xs, &xe); swap(&ys, &ye) }
            if dx == 0 && dy == 0 { u.append(xs); v.append(ys); continue }  // C divides 0 by 0 here; the point is never used
            let s = dx >= dy ? Double(ye - ys) / Double(dx) : Double(xe - xs) / Double(dy)
            if dx >= dy {
                for d in 0...dx {
                    let t = flip ? dx - d : d
                    u.append(t + xs); v.append(Int(Double(ys) + s * Double(t) + 0.5))
                }
            } else {
                for d in 0...dy {
                    let t = flip ? dy - d : d
                    v.append(t + ys); u.append(Int(Double(xs) + s * Double(t) + 0.5))
                }
            }
        }
        var toggles: [Int] = []
        if u.count > 1 {
            for j in 1..<u.count where u[j] != u[j - 1] {
                var xd = Double(u[j] < u[j - 1] ? u[j] : u[j] - 1)
                xd = (xd + 0.5) / scale - 0.5
                if xd.rounded(.down) != xd || xd < 0 || xd > Double(width - 1) { continue }
                var yd = Double(v[j] < v[j - 1] ? v[j] : v[j - 1])
                yd = (yd + 0.5) / scale - 0.5
                yd = min(max(yd, 0), Double(height)).rounded(.up)
                toggles.append(Int(xd) * height + Int(yd))
            }
        }
        toggles.append(height * width)
        toggles.sort()
        var a = toggles, previous = 0
        for j in 0..<a.count { let t = a[j]; a[j] -= previous; previous = t }
        var b: [Int] = [a[0]]
        var j = 1
        while j < a.count {
            if a[j] > 0 { b.append(a[j]); j += 1 } else { j += 1; if j < a.count { b[b.count - 1] += a[j]; j += 1 } }
        }
        return b
    }

    /// The filled bounding box `[x, y, w, h]` as a row-major 0/1 mask: columns
    /// `round(x) ..< round(x + w)` and rows `round(y) ..< round(y + h)`, rounding halves up and
    /// clamping to the image; a box with positive size covers at least one pixel.
    public static func boxMask(_ bbox: [Double], width: Int, height: Int) throws -> [UInt8] {
        guard bbox.count == 4, bbox.allSatisfy({ $0.isFinite && abs($0) < 1e7 }), bbox[2] > 0, bbox[3] > 0 else {
            throw COCOMaskError(problem: "bbox must be [x, y, width, height] with a positive width and height, got \(bbox)")
        }
        func round(_ v: Double) -> Int { Int((v + 0.5).rounded(.down)) }
        var x0 = min(max(round(bbox[0]), 0), width - 1), y0 = min(max(round(bbox[1]), 0), height - 1)
        var x1 = min(max(round(bbox[0] + bbox[2]), 0), width), y1 = min(max(round(bbox[1] + bbox[3]), 0), height)
        if x1 <= x0 { x1 = x0 + 1 }
        if y1 <= y0 { y1 = y0 + 1 }
        if x0 >= width { x0 = width - 1 }
        if y0 >= height { y0 = height - 1 }
        var mask = [UInt8](repeating: 0, count: width * height)
        for yy in y0..<y1 { for xx in x0..<x1 { mask[yy * width + xx] = 1 } }
        return mask
    }
}
