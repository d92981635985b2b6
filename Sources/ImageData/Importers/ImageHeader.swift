import Foundation

/// Reads an image's width and height from its header without decoding the pixels, so importers
/// can check a mask's shape against a JPEG before a JPEG decoder is involved.
enum ImageHeader {
    /// `(width, height)` of the PNG or JPEG at `path`.
    /// - Throws: `ImageDataError.unreadableFile` naming the file when it cannot be read or its
    ///   header is not a PNG IHDR or a JPEG start-of-frame.
    static func size(of path: String) throws -> (width: Int, height: Int) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ImageDataError.unreadableFile(path: path, reason: "cannot open the file")
        }
        defer { try? handle.close() }
        // PNG: the IHDR chunk follows the 8-byte signature; JPEG headers sit near the start but
        // may follow large EXIF blocks, so up to 1 MiB is read.
        let bytes = [UInt8](handle.readData(ofLength: 1 << 20))
        if bytes.count >= 24, bytes[0..<8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            let w = bytes[16..<20].reduce(0) { $0 << 8 | Int($1) }, h = bytes[20..<24].reduce(0) { $0 << 8 | Int($1) }
            return (w, h)
        }
        if bytes.count >= 4, bytes[0] == 0xFF, bytes[1] == 0xD8 {
            var i = 2
            while i + 9 < bytes.count {
                guard bytes[i] == 0xFF else { break }
                let marker = bytes[i + 1]
                if marker == 0xFF { i += 1; continue }
                let length = Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
                // SOF0…SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame size.
                if (0xC0...0xCF).contains(marker) && ![0xC4, 0xC8, 0xCC].contains(marker) {
                    let h = Int(bytes[i + 5]) << 8 | Int(bytes[i + 6]), w = Int(bytes[i + 7]) << 8 | Int(bytes[i + 8])
                    return (w, h)
                }
                i += 2 + length
            }
            throw ImageDataError.unreadableFile(path: path, reason: "JPEG without a start-of-frame header in its first MiB; re-encode the file")
        }
        throw ImageDataError.unreadableFile(path: path, reason: "neither a PNG nor a JPEG header; use .png, .jpg or .jpeg files")
    }
}
