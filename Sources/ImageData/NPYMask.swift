extension NPYArray {
    /// The array as a binary foreground mask of an image of `width × height` pixels:
    /// `width · height` bytes in row-major order, 255 = foreground, 0 = background.
    ///
    /// Accepted shapes: `(H, W)`, `(H, W, 1)` and `(H, W, 3)` (a pixel is foreground when any of
    /// its channels is). Thresholds, by dtype:
    /// - `bool`: `True` is foreground;
    /// - `uint8`, `int64`, `float32`, `float64`: the full scale is 1 when every value is ≤ 1
    ///   (0/1 masks, soft masks in [0, 1]) and 255 otherwise (0/255 masks); a value ≥ half the
    ///   full scale is foreground. Values below 0, above 255 or NaN are refused.
    /// - Parameter path: names the file in errors.
    /// - Throws: `NPYError` naming the shape found and the shape expected, or the bad value.
    public func binaryMask(width: Int, height: Int, path: String) throws -> [UInt8] {
        let expected = "(\(height), \(width)), (\(height), \(width), 1) or (\(height), \(width), 3)"
        let channels: Int
        switch shape.count {
        case 2 where shape[0] == height && shape[1] == width: channels = 1
        case 3 where shape[0] == height && shape[1] == width && (shape[2] == 1 || shape[2] == 3): channels = shape[2]
        default:
            throw NPYError(path: path, problem: "mask shape \(NPYReader.shapeText(shape)) does not fit the \(width)×\(height) image; expected \(expected)")
        }
        let v = values.doubles
        if case .bool = values {} else {
            if let bad = v.first(where: { !($0 >= 0 && $0 <= 255) }) {
                throw NPYError(path: path, problem: "mask value \(bad) (\(dtype.rawValue)) is outside 0…255; expected 0/1, 0/255 or weights in [0, 1]")
            }
        }
        let threshold = (v.max() ?? 0) <= 1 ? 0.5 : 127.5
        var out = [UInt8](repeating: 0, count: width * height)
        for p in 0..<(width * height) {
            for c in 0..<channels where v[p * channels + c] >= threshold {
                out[p] = 255
                break
            }
        }
        return out
    }
}
