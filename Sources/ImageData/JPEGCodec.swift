import CJPEGDecode
import Foundation

/// JPEG decoding through libjpeg-turbo (`CJPEG`, `pkg-config libjpeg`), wrapped by the small C
/// target `CJPEGDecode` whose error manager jumps back instead of calling `exit()`.
///
/// Decodes baseline, extended-sequential and progressive 8-bit JPEGs to 8-bit interleaved RGB
/// (`width * height * 3` bytes, row-major, no alpha): gray files are replicated into R = G = B,
/// CMYK and YCCK files are converted like Pillow's `convert("RGB")` (Adobe's inverted CMYK).
/// Chroma is upsampled with libjpeg's default ("fancy") filter and the IDCT is the accurate
/// integer one, as Pillow uses, so pixels agree with Pillow's within ±2.
///
/// A truncated file or damaged entropy-coded data, which libjpeg only warns about (painting the
/// rest gray), is an error here, as are unsupported variants (12-bit, arithmetic-coded where the
/// library lacks it) and headers larger than `maximumPixels`. Every error is an `ImageDataError`
/// naming the file.
public enum JPEGCodec {
    /// Every JPEG starts with the SOI marker followed by another marker.
    static let startOfImage: [UInt8] = [0xFF, 0xD8, 0xFF]
    /// Refuse headers that would need more than this many pixels (the same bound as PNG).
    static let maximumPixels = PNGCodec.maximumPixels

    /// Decodes the JPEG file at `path`.
    /// - Throws: `ImageDataError` naming `path` for unreadable, non-JPEG, truncated or corrupt files.
    public static func decode(contentsOf path: String) throws -> Image {
        try decode(ImageFile.bytes(of: path), name: path)
    }

    /// Decodes JPEG bytes already in memory; `name` is used in error messages.
    public static func decode(_ bytes: [UInt8], name: String) throws -> Image {
        guard bytes.count >= startOfImage.count, Array(bytes.prefix(startOfImage.count)) == startOfImage else {
            throw ImageDataError.notJPEG(path: name)
        }
        var info = backdrop_jpeg_info()
        let read = bytes.withUnsafeBufferPointer { backdrop_jpeg_read_info($0.baseAddress, $0.count, &info) }
        guard read == 0 else { throw ImageDataError.corruptJPEG(path: name, message: message(of: &info)) }
        let width = Int(info.width), height = Int(info.height)
        guard width > 0, height > 0, width <= 65535, height <= 65535, width * height <= maximumPixels else {
            throw ImageDataError.invalidDimensions(path: name, width: width, height: height)
        }
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        let decoded = rgb.withUnsafeMutableBufferPointer { out in
            bytes.withUnsafeBufferPointer { src in
                backdrop_jpeg_decode_rgb(src.baseAddress, src.count, out.baseAddress, Int32(width), Int32(height), &info)
            }
        }
        guard decoded == 0 else { throw ImageDataError.corruptJPEG(path: name, message: message(of: &info)) }
        return Image(width: width, height: height, rgb: rgb)
    }

    static func message(of info: inout backdrop_jpeg_info) -> String {
        let text = withUnsafeBytes(of: &info.message) { raw -> String in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        return text.isEmpty ? "unknown libjpeg error" : text
    }
}
