extension Views {
    /// The `foreground-crop` view of a `size × size` sample: the bounding box of the mask's pixels
    /// with weight > 128 (`boundingBox`), background inside the box kept, stretched (bilinear,
    /// aspect not kept) back to `size × size`. The mask gets the same crop and resize, so it still
    /// marks the object in the cropped view.
    ///
    /// - Parameters:
    ///   - image: `size × size × 3` interleaved bytes.
    ///   - mask: `size × size` weights (255 = foreground).
    /// - Returns: the cropped pixels (`size × size × 3`) and mask (`size × size`). An empty mask
    ///   (no weight above 128) has no box: image and mask are returned unchanged.
    public static func cropToBox(_ image: [UInt8], mask: [UInt8], size s: Int) -> (pixels: [UInt8], mask: [UInt8]) {
        guard let (x0, y0, x1, y1) = boundingBox(mask, width: s, height: s) else { return (image, mask) }
        let cw = x1 - x0 + 1, ch = y1 - y0 + 1
        var pixels = [UInt8](repeating: 0, count: cw * ch * 3), weights = [UInt8](repeating: 0, count: cw * ch)
        for y in 0..<ch {
            for x in 0..<cw {
                let src = (y0 + y) * s + x0 + x, dst = y * cw + x
                weights[dst] = mask[src]
                for c in 0..<3 { pixels[dst * 3 + c] = image[src * 3 + c] }
            }
        }
        return (Resize.resize(pixels, width: cw, height: ch, channels: 3, to: s, s, filter: .bilinear),
                Resize.resize(weights, width: cw, height: ch, channels: 1, to: s, s, filter: .bilinear))
    }
}

extension ViewRenderer {
    /// Sample `i` in `view` with the mask that goes with the rendered pixels: the sample's own
    /// mask, except for `foreground-crop`, whose mask is cropped and resized with the image.
    /// Both are `size × size` (pixels × 3).
    public func renderWithMask(_ view: ViewKind, sample i: Int) -> (pixels: [UInt8], mask: [UInt8]) {
        let s = split.size
        let mask = Array(split.masks[(i * s * s)..<((i + 1) * s * s)])
        if view == .foregroundCrop {
            return Views.cropToBox(Array(split.pixels[(i * s * s * 3)..<((i + 1) * s * s * 3)]), mask: mask, size: s)
        }
        return (render(view, sample: i), mask)
    }
}
