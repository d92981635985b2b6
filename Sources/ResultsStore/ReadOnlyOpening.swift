import Foundation
import GRDB

/// How a read-only connection reaches the database file.
///
/// A database written by Backdrop is in WAL mode, and SQLite's WAL needs a `-shm` side file next
/// to the database even to read it. In a folder the process cannot write (a read-only share,
/// read-only media, a `chmod 555` folder for a normal user) that file cannot be made, and a plain
/// read-only open fails. There the store opens the file as *immutable* (the `immutable=1` URI
/// parameter): SQLite then takes no locks and creates no side files. Immutable assumes no other
/// process writes the file meanwhile, which a folder nobody can write guarantees; in a writable
/// folder the plain read-only open is kept, so reading while `reproduce` writes stays consistent.
public enum ReadOnlyAccess: Sendable, Equatable {
    /// `SQLITE_OPEN_READONLY` with the usual locking (and WAL side files).
    case shared
    /// `SQLITE_OPEN_READONLY` on the `file:…?immutable=1` URI: no locks, no side files.
    case immutable

    /// `.immutable` when the folder holding `path` cannot be written by this process and no
    /// non-empty `-wal` file lies next to it (immutable would not see the changes in it; SQLite
    /// reads such a pair read-only when its `-shm` file is there too), else `.shared`.
    public static func choose(forDatabaseAt path: String) -> ReadOnlyAccess {
        let folder = (absolute(path) as NSString).deletingLastPathComponent
        if access(folder, W_OK) == 0 { return .shared }
        let wal = (try? FileManager.default.attributesOfItem(atPath: path + "-wal"))?[.size] as? NSNumber
        return (wal?.intValue ?? 0) > 0 ? .shared : .immutable
    }

    /// The name to hand SQLite: the path itself, or a `file:` URI with `immutable=1` (the path
    /// percent-encoded so `?`, `#` and `%` in folder names stay part of the path).
    public func sqliteName(for path: String) -> String {
        switch self {
        case .shared:
            return path
        case .immutable:
            var allowed = CharacterSet.urlPathAllowed
            allowed.remove(charactersIn: "?#%")
            let encoded = Self.absolute(path).addingPercentEncoding(withAllowedCharacters: allowed) ?? path
            return "file:" + encoded + "?immutable=1"
        }
    }

    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }
}

extension ResultsDatabase {
    /// Opens `path` read-only with `configuration` (made read-only here) through `access`
    /// (by default chosen from the folder's writability, see ``ReadOnlyAccess``).
    ///
    /// - Throws: ``ResultsStoreError/missingDatabase(path:)`` when the file does not exist.
    static func openReadOnly(path: String, configuration: Configuration,
                             access: ReadOnlyAccess? = nil) throws -> DatabaseQueue {
        guard FileManager.default.fileExists(atPath: path) else { throw ResultsStoreError.missingDatabase(path: path) }
        var configuration = configuration
        configuration.readonly = true
        let access = access ?? ReadOnlyAccess.choose(forDatabaseAt: path)
        return try DatabaseQueue(path: access.sqliteName(for: path), configuration: configuration)
    }
}
