import Foundation

/// The image file formats a dataset folder may hold, chosen by file extension.
///
/// PNG is decoded by libpng (`PNGCodec`); JPEG by libjpeg-turbo (`JPEGCodec`). Masks are always
/// PNG. Every decoder returns 8-bit interleaved RGB (plus alpha for PNGs that have it).
public enum ImageFile {
    /// Lower-case extensions of the image files a dataset folder may hold.
    public static let extensions: Set<String> = ["png", "jpg", "jpeg"]

    /// True when `name` ends in one of `extensions` (any case).
    public static func isImage(name: String) -> Bool {
        extensions.contains((name as NSString).pathExtension.lowercased())
    }

    /// `name` without its extension (`"cat_001.jpg"` → `"cat_001"`).
    public static func stem(of name: String) -> String {
        ((name as NSString).lastPathComponent as NSString).deletingPathExtension
    }

    /// The whole file at `path`.
    /// - Throws: `ImageDataError.unreadableFile` naming `path`.
    static func bytes(of path: String) throws -> [UInt8] {
        do {
            return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw ImageDataError.unreadableFile(path: path, reason: (error as NSError).localizedDescription)
        }
    }

    /// Decodes the image at `path` with the decoder its extension names.
    /// - Throws: `ImageDataError` naming `path` (unreadable, corrupt, truncated, unknown format).
    public static func decode(contentsOf path: String) throws -> Image {
        switch (path as NSString).pathExtension.lowercased() {
        case "png":
            return try PNGCodec.decode(contentsOf: path)
        case "jpg", "jpeg":
            return try JPEGCodec.decode(contentsOf: path)
        default:
            throw ImageDataError.unreadableFile(path: path, reason: "unknown image format; use .png, .jpg or .jpeg")
        }
    }
}
