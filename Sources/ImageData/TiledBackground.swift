extension Views {
    /// The `only-background-tiled` view: ImageNet-9's "Only-BG-T" rebuilt from a mask.
    ///
    /// IN-9 (Xiao et al., ICLR 2021; `get_bg_tiled` in the authors' generation script) removes the
    /// object's bounding box and fills it by tiling the largest background rectangle outside it.
    /// Here, on `image` (`width × height × 3` bytes) and `mask` (`width × height` weights):
    ///
    /// 1. The box is the bounding box of every pixel with weight > 0 (inclusive corners
    ///    `x0…x1`, `y0…y1`), so no foreground pixel, however faint, survives. (IN-9 used the
    ///    ImageNet annotation box instead.)
    /// 2. The candidate rectangles are the full-height strip left (`x0` columns) or right
    ///    (`width − 1 − x1` columns) of the box, and the full-width strip above (`y0` rows) or
    ///    below (`height − 1 − y1` rows) it; of each pair the wider one (ties: right, below).
    ///    The horizontal strip is used when its area (`columns × height`) is strictly larger than
    ///    the vertical strip's (`rows × width`), as in IN-9.
    /// 3. The strip is tiled over the image from the origin, as IN-9 pastes copies of it at
    ///    `(0, 0), (w, 0), …`: pixel `(x, y)` of the tiling is the strip's pixel
    ///    `(x mod w, y mod h)`. Pixels inside the box take the tiling; every other pixel is the
    ///    input's. (IN-9 counts one box column or row into the strip — its `xmax` is inclusive —
    ///    which would copy a box pixel; here the strip holds only pixels outside the box.)
    ///
    /// When the box covers the whole image there is no background rectangle (IN-9 drops such
    /// images); the box is then filled with `fill` (`width × height × 3`), as `only-background`
    /// is. An image without foreground is returned unchanged.
    ///
    /// The mixed views remove their partner's object with `removeForeground(_:mask:width:height:)`,
    /// an earlier, box-height variant of the same idea, kept so their stored numbers stay valid.
    public static func tileBackground(_ image: [UInt8], mask: [UInt8], width: Int, height: Int, fill: [UInt8]) -> [UInt8] {
        guard let (x0, y0, x1, y1) = boundingBox(mask, width: width, height: height, threshold: 0) else { return image }
        let left = x0, right = width - 1 - x1, top = y0, bottom = height - 1 - y1
        let columns = max(left, right), rows = max(top, bottom)
        var out = image
        guard columns > 0 || rows > 0 else {
            for y in y0...y1 { for x in x0...x1 { for c in 0..<3 { out[(y * width + x) * 3 + c] = fill[(y * width + x) * 3 + c] } } }
            return out
        }
        // The strip: origin (sx0, sy0), size sw × sh.
        let horizontal = columns * height > rows * width
        let (sx0, sy0, sw, sh): (Int, Int, Int, Int)
        if horizontal {
            (sx0, sy0, sw, sh) = (left > right ? 0 : x1 + 1, 0, columns, height)
        } else {
            (sx0, sy0, sw, sh) = (0, top > bottom ? 0 : y1 + 1, width, rows)
        }
        for y in y0...y1 {
            for x in x0...x1 {
                let source = ((sy0 + y % sh) * width + sx0 + x % sw) * 3
                for c in 0..<3 { out[(y * width + x) * 3 + c] = image[source + c] }
            }
        }
        return out
    }
}
