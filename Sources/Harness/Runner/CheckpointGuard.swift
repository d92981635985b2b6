import Foundation
import ResultsStore
import TensorCore

/// What a runner checks before it resumes a cell from `checkpoint.safetensors`, and how it sets a
/// bad checkpoint aside.
///
/// A checkpoint is resumed only when all of these hold:
/// - the file's SHA-256 equals the one the run recorded for its latest checkpoint (the
///   `checkpoints` table), so a flipped bit, a truncated file or one replaced by another run is
///   caught before any tensor is loaded;
/// - the file reads as a Backdrop checkpoint (safetensors header, every tensor's byte range,
///   the training counters);
/// - every tensor is finite (no NaN or ±Inf).
///
/// A file that fails is renamed to `checkpoint.safetensors.rejected-<unix time>` next to it (kept
/// for inspection, never read again) and the cell restarts from scratch.
public enum CheckpointGuard {
    /// Why a checkpoint cannot be resumed, or nil when it can.
    /// - Parameters:
    ///   - url: the checkpoint file.
    ///   - expectedSHA256: the hash recorded for it (nil: none recorded, e.g. the process was
    ///     killed between writing the file and recording it).
    public static func problem(with url: URL, expectedSHA256: String?) -> String? {
        guard let expected = expectedSHA256 else {
            return "no sha256 is recorded for it in the results database, so it cannot be verified"
        }
        let actual: String
        do { actual = try ContentHash.sha256Hex(fileAt: url) } catch {
            return "it cannot be read (\(error.localizedDescription))"
        }
        if actual != expected {
            return "its sha256 is \(actual.prefix(16))… but the results database recorded \(expected.prefix(16))… "
                + "(the file was changed, truncated or replaced after it was written)"
        }
        let tensors: [String: Tensor]
        do { tensors = try CheckpointFile.read(url).tensors } catch {
            return "it is not a readable checkpoint (\(error))"
        }
        for name in tensors.keys.sorted() where !tensors[name]!.scalars.allSatisfy(\.isFinite) {
            return "tensor '\(name)' holds NaN or infinite values"
        }
        return nil
    }

    /// Renames a rejected checkpoint to `<name>.rejected-<unix time>` in the same folder.
    /// - Returns: the new location.
    @discardableResult
    public static func setAside(_ url: URL, now: Date = Date()) throws -> URL {
        let target = url.deletingLastPathComponent().appendingPathComponent("\(url.lastPathComponent).rejected-\(Int(now.timeIntervalSince1970))")
        if FileManager.default.fileExists(atPath: target.path) { try FileManager.default.removeItem(at: target) }
        try FileManager.default.moveItem(at: url, to: target)
        return target
    }

    /// Removes what an interrupted checkpoint write leaves in `directory`: the `.<name>.partial`
    /// file `CheckpointFile.write` renames into place and the temporary files of the atomic write
    /// that produces it (names containing `.partial` or `nosync`).
    /// - Returns: the files removed.
    @discardableResult
    public static func removeStaleTemporaries(in directory: String) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        var removed: [String] = []
        for name in names.sorted() where name.contains(".partial") || name.contains("nosync") {
            let path = URL(fileURLWithPath: directory).appendingPathComponent(name).path
            if (try? FileManager.default.removeItem(atPath: path)) != nil { removed.append(path) }
        }
        return removed
    }
}
