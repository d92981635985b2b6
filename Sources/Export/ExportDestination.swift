import Foundation

/// The rule both exporters follow for a destination that exists: an export writes only its own
/// tree (a run folder per cell for TensorBoard, `mlruns/<experiment id>` for MLflow) and never
/// touches anything else in the output folder. When a path of its tree exists already the export
/// stops before writing anything, unless replacing was asked for (`--force`): then each such path
/// is deleted and written anew.
enum ExportDestination {
    /// Checks `paths` (all of them first) and, with `replace`, deletes the ones that exist.
    static func prepare(_ paths: [URL], replace: Bool) throws {
        let existing = paths.filter { FileManager.default.fileExists(atPath: $0.path) }
        guard !existing.isEmpty else { return }
        guard replace else { throw ExportError.destinationExists(paths: existing.map(\.path)) }
        for path in existing { try FileManager.default.removeItem(at: path) }
    }
}

/// Errors of the exporters.
public enum ExportError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// Paths the export would write exist already and replacing them was not asked for.
    case destinationExists(paths: [String])

    public var description: String {
        switch self {
        case .destinationExists(let paths):
            let shown = paths.prefix(3).joined(separator: ", ") + (paths.count > 3 ? " and \(paths.count - 3) more" : "")
            return "\(shown) already exist\(paths.count == 1 ? "s" : ""); pass --force to replace "
                + "\(paths.count == 1 ? "it" : "them") (only the exported experiment's own folders are replaced), or choose another --out"
        }
    }

    public var errorDescription: String? { description }
}
