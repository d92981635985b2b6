/// An 8-bit RGB image, row-major, channels interleaved: `rgb.count == width * height * 3`.
///
/// `alpha` (one byte per pixel) is present when the PNG it came from had an alpha channel or a
/// transparency chunk.
public struct Image: Equatable, Sendable {
    public let width: Int
    public let height: Int
    /// Interleaved R, G, B bytes, row-major: pixel (x, y) channel c is `rgb[(y * width + x) * 3 + c]`.
    public var rgb: [UInt8]
    /// One byte per pixel, or `nil` for opaque images.
    public var alpha: [UInt8]?

    public init(width: Int, height: Int, rgb: [UInt8], alpha: [UInt8]? = nil) {
        precondition(rgb.count == width * height * 3, "Image: rgb has \(rgb.count) bytes, expected \(width * height * 3)")
        precondition(alpha == nil || alpha!.count == width * height, "Image: alpha has the wrong size")
        self.width = width
        self.height = height
        self.rgb = rgb
        self.alpha = alpha
    }

    /// A `width × height` image filled with one colour.
    public init(width: Int, height: Int, filledWith colour: (UInt8, UInt8, UInt8)) {
        var px = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) { px[3 * i] = colour.0; px[3 * i + 1] = colour.1; px[3 * i + 2] = colour.2 }
        self.init(width: width, height: height, rgb: px)
    }

    /// The pixel at `(x, y)`.
    public func pixel(_ x: Int, _ y: Int) -> (UInt8, UInt8, UInt8) {
        let i = (y * width + x) * 3
        return (rgb[i], rgb[i + 1], rgb[i + 2])
    }

    /// `true` when R == G == B at every pixel.
    public var isGray: Bool {
        var i = 0
        while i < rgb.count {
            if rgb[i] != rgb[i + 1] || rgb[i] != rgb[i + 2] { return false }
            i += 3
        }
        return true
    }

    /// The red channel as a gray plane (`width * height` bytes); for gray images this is the value.
    public var grayPlane: [UInt8] {
        var out = [UInt8](repeating: 0, count: width * height)
        for i in 0..<out.count { out[i] = rgb[3 * i] }
        return out
    }
}
