import CPNG
import Foundation

/// PNG decoding and encoding through libpng's simplified `png_image` API (no setjmp).
///
/// Decoding accepts every PNG libpng reads — gray, gray + alpha, RGB, RGBA, palette (with or
/// without `tRNS`), 1/2/4/8/16-bit, interlaced — and returns 8-bit RGB plus an alpha plane when
/// the file has one. 16-bit files without colour-space chunks are treated as sRGB-encoded and
/// reduced to 8 bits (as other decoders do), not gamma-converted as if linear.
///
/// Before libpng sees a byte, the signature, the minimum size and the IHDR dimensions are checked
/// here, so wrong files produce an `ImageDataError` naming the file, never a crash.
public enum PNGCodec {
    /// The eight bytes every PNG starts with.
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    /// Signature (8) + IHDR chunk (25) + the smallest IDAT (12 + 8) + IEND (12).
    static let minimumSize = 65
    /// Refuse headers that would need more than this many pixels (a corrupt width or height).
    static let maximumPixels = 1 << 27

    /// The version of the linked libpng (`png_get_libpng_ver`), e.g. `1.6.39`.
    public static var libraryVersion: String { png_get_libpng_ver(nil).map { String(cString: $0) } ?? "unknown" }

    /// Decodes the PNG file at `path`.
    /// - Throws: `ImageDataError` naming `path` for unreadable, non-PNG, truncated or corrupt files.
    public static func decode(contentsOf path: String) throws -> Image {
        try decode(ImageFile.bytes(of: path), name: path)
    }

    /// Decodes PNG bytes already in memory; `name` is used in error messages.
    public static func decode(_ bytes: [UInt8], name: String) throws -> Image {
        let (width, height) = try header(bytes, name: name)
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        defer { png_image_free(&image) }
        let began = bytes.withUnsafeBytes { raw in
            png_image_begin_read_from_memory(&image, raw.baseAddress, raw.count)
        }
        guard began != 0 else { throw ImageDataError.corruptPNG(path: name, message: message(of: &image)) }
        guard Int(image.width) == width, Int(image.height) == height else {
            throw ImageDataError.corruptPNG(path: name, message: "header size disagrees with libpng")
        }
        let hasAlpha = image.format & UInt32(PNG_FORMAT_FLAG_ALPHA) != 0
        if bitDepth(bytes) == 16 { return try finishRead16(&image, width: width, height: height, hasAlpha: hasAlpha, name: name) }
        image.format = hasAlpha ? UInt32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA) : UInt32(PNG_FORMAT_RGB)
        let channels = hasAlpha ? 4 : 3
        var pixels = [UInt8](repeating: 0, count: width * height * channels)
        let finished = pixels.withUnsafeMutableBytes { raw in
            png_image_finish_read(&image, nil, raw.baseAddress, Int32(width * channels), nil)
        }
        guard finished != 0 else { throw ImageDataError.corruptPNG(path: name, message: message(of: &image)) }
        if !hasAlpha { return Image(width: width, height: height, rgb: pixels) }
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        var alpha = [UInt8](repeating: 0, count: width * height)
        for i in 0..<(width * height) {
            rgb[3 * i] = pixels[4 * i]; rgb[3 * i + 1] = pixels[4 * i + 1]; rgb[3 * i + 2] = pixels[4 * i + 2]
            alpha[i] = pixels[4 * i + 3]
        }
        return Image(width: width, height: height, rgb: rgb, alpha: alpha)
    }

    /// Reads a 16-bit file as 16-bit samples and keeps the high byte of each (as other decoders do).
    ///
    /// libpng 1.6's simplified reader scrambles rows of *interlaced* 16-bit files when it reduces
    /// them to 8 bits itself, so the reduction happens here. Without colour-space chunks libpng
    /// treats 16-bit data as linear and passes it through unchanged; with alpha it premultiplies,
    /// which is undone here (exact except for nearly transparent pixels).
    static func finishRead16(_ image: inout png_image, width: Int, height: Int, hasAlpha: Bool, name: String) throws -> Image {
        image.format = UInt32(PNG_FORMAT_FLAG_LINEAR | PNG_FORMAT_FLAG_COLOR) | (hasAlpha ? UInt32(PNG_FORMAT_FLAG_ALPHA) : 0)
        let channels = hasAlpha ? 4 : 3
        var samples = [UInt16](repeating: 0, count: width * height * channels)
        let finished = samples.withUnsafeMutableBytes { raw in
            png_image_finish_read(&image, nil, raw.baseAddress, Int32(width * channels), nil)
        }
        guard finished != 0 else { throw ImageDataError.corruptPNG(path: name, message: message(of: &image)) }
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        var alpha: [UInt8]? = hasAlpha ? [UInt8](repeating: 0, count: width * height) : nil
        for i in 0..<(width * height) {
            let a = hasAlpha ? UInt32(samples[4 * i + 3]) : 65535
            for c in 0..<3 {
                var v = UInt32(samples[i * channels + c])
                if hasAlpha { v = a == 0 ? 0 : min((v * 65535 + a / 2) / a, 65535) }
                rgb[3 * i + c] = UInt8(v >> 8)
            }
            if hasAlpha { alpha![i] = UInt8(a >> 8) }
        }
        return Image(width: width, height: height, rgb: rgb, alpha: alpha)
    }

    /// Validates the signature, the size and the IHDR chunk; returns `(width, height)`.
    static func header(_ bytes: [UInt8], name: String) throws -> (Int, Int) {
        if bytes.count >= 8, Array(bytes[0..<8]) != signature { throw ImageDataError.notPNG(path: name) }
        if bytes.count < 8 {
            if bytes.isEmpty || !signature.starts(with: bytes) { throw ImageDataError.notPNG(path: name) }
        }
        guard bytes.count >= minimumSize else { throw ImageDataError.truncatedPNG(path: name, size: bytes.count) }
        guard Array(bytes[12..<16]) == Array("IHDR".utf8) else {
            throw ImageDataError.corruptPNG(path: name, message: "the first chunk is not IHDR")
        }
        func be32(_ o: Int) -> Int { Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3]) }
        let width = be32(16), height = be32(20)
        guard width > 0, height > 0, width <= 65535, height <= 65535, width * height <= maximumPixels else {
            throw ImageDataError.invalidDimensions(path: name, width: width, height: height)
        }
        guard endsWithIEND(bytes) else { throw ImageDataError.truncatedPNG(path: name, size: bytes.count) }
        return (width, height)
    }

    /// The complete IEND chunk (length 0, type, CRC) every PNG ends with.
    static let iend: [UInt8] = [0, 0, 0, 0, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82]

    /// `true` when the file holds a complete IEND chunk (trailing bytes after it are tolerated).
    /// libpng stops reading after the image data, so a cut inside the last chunk must be caught here.
    static func endsWithIEND(_ bytes: [UInt8]) -> Bool {
        var start = bytes.count - iend.count
        while start >= 33 {
            if bytes[start] == 0 && bytes[start + 4] == 0x49 && Array(bytes[start..<(start + 12)]) == iend { return true }
            start -= 1
        }
        return false
    }

    /// The IHDR bit depth (byte 24); call after `header` succeeded.
    static func bitDepth(_ bytes: [UInt8]) -> Int { Int(bytes[24]) }

    static func message(of image: inout png_image) -> String {
        let text = withUnsafeBytes(of: &image.message) { raw -> String in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
        return text.isEmpty ? "unknown libpng error" : text
    }

    // MARK: Encoding

    /// The pixel layouts `encode` writes.
    public enum Layout: Sendable {
        /// One byte per pixel.
        case gray
        /// Three interleaved bytes per pixel.
        case rgb
        /// Four interleaved bytes per pixel, alpha last, not premultiplied.
        case rgba

        var channels: Int { switch self { case .gray: 1; case .rgb: 3; case .rgba: 4 } }
        var format: UInt32 {
            switch self {
            case .gray: UInt32(PNG_FORMAT_GRAY)
            case .rgb: UInt32(PNG_FORMAT_RGB)
            case .rgba: UInt32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA)
            }
        }
    }

    /// Encodes 8-bit pixels (`width * height * layout.channels` bytes, row-major) as PNG bytes.
    /// The output is deterministic: the same pixels always give the same bytes.
    public static func encode(_ pixels: [UInt8], width: Int, height: Int, layout: Layout, name: String = "<memory>") throws -> [UInt8] {
        guard width > 0, height > 0, width <= 65535, height <= 65535 else {
            throw ImageDataError.invalidDimensions(path: name, width: width, height: height)
        }
        guard pixels.count == width * height * layout.channels else {
            throw ImageDataError.encodeFailed(path: name, message: "expected \(width * height * layout.channels) bytes of pixels, got \(pixels.count)")
        }
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(width)
        image.height = UInt32(height)
        image.format = layout.format
        defer { png_image_free(&image) }
        let stride = Int32(width * layout.channels)
        // Compress once into a buffer that holds any output (rows + filter bytes, zlib's stored-block
        // and chunk overheads, headers); libpng says so and reports the size needed if it was not enough.
        let raw = height * (width * layout.channels + 1)
        var size = raw + raw / 64 + 4096
        var out = [UInt8](repeating: 0, count: size)
        var written = out.withUnsafeMutableBytes { dst in
            pixels.withUnsafeBytes { px in png_image_write_to_memory(&image, dst.baseAddress, &size, 0, px.baseAddress, stride, nil) }
        }
        if written == 0 && size > out.count {
            png_image_free(&image)
            image.warning_or_error = 0
            out = [UInt8](repeating: 0, count: size)
            written = out.withUnsafeMutableBytes { dst in
                pixels.withUnsafeBytes { px in png_image_write_to_memory(&image, dst.baseAddress, &size, 0, px.baseAddress, stride, nil) }
            }
        }
        guard written != 0 else { throw ImageDataError.encodeFailed(path: name, message: message(of: &image)) }
        return Array(out.prefix(size))
    }

    /// Encodes `image` (RGB, or RGBA when it has alpha).
    public static func encode(_ image: Image, name: String = "<memory>") throws -> [UInt8] {
        guard let alpha = image.alpha else {
            return try encode(image.rgb, width: image.width, height: image.height, layout: .rgb, name: name)
        }
        var rgba = [UInt8](repeating: 0, count: image.width * image.height * 4)
        for i in 0..<(image.width * image.height) {
            rgba[4 * i] = image.rgb[3 * i]; rgba[4 * i + 1] = image.rgb[3 * i + 1]; rgba[4 * i + 2] = image.rgb[3 * i + 2]
            rgba[4 * i + 3] = alpha[i]
        }
        return try encode(rgba, width: image.width, height: image.height, layout: .rgba, name: name)
    }

    /// Writes `image` as a PNG file at `path` (RGB, or RGBA when it has alpha).
    public static func write(_ image: Image, to path: String) throws {
        try writeBytes(try encode(image, name: path), to: path)
    }

    /// Writes a gray PNG (one byte per pixel) at `path`.
    public static func writeGray(_ gray: [UInt8], width: Int, height: Int, to path: String) throws {
        try writeBytes(try encode(gray, width: width, height: height, layout: .gray, name: path), to: path)
    }

    static func writeBytes(_ bytes: [UInt8], to path: String) throws {
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        } catch {
            throw ImageDataError.encodeFailed(path: path, message: (error as NSError).localizedDescription)
        }
    }
}
