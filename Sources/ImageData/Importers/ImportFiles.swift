import Foundation

/// File operations the importers share.
enum ImportFiles {
    /// Hard-links `source` to `destination` (creating its folder), copying when a link is
    /// impossible (another file system): the dataset folder keeps the source file's bytes and name.
    /// - Throws: `ImageDataError.unreadableFile` naming `source` and `destination`.
    static func linkOrCopy(_ source: String, to destination: String) throws {
        let folder = (destination as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        do {
            try FileManager.default.linkItem(atPath: source, toPath: destination)
        } catch {
            do { try FileManager.default.copyItem(atPath: source, toPath: destination) } catch {
                throw ImageDataError.unreadableFile(path: source, reason: "could not link or copy it to \(destination): \(error.localizedDescription)")
            }
        }
    }
}
