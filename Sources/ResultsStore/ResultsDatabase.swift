import Foundation
import GRDB

/// The SQLite results database of Backdrop: experiments, runs, parameters, metrics, evaluations
/// and checkpoints (see `docs/Results.md` for the schema).
///
/// Open a file with ``init(path:mode:busyTimeout:clock:)``: read-write opens a GRDB
/// `DatabasePool` in WAL mode, so several processes can write (one at a time, waiting up to the
/// busy timeout for each other) while others read; the schema is migrated on open. Read-only
/// opens the file with `SQLITE_OPEN_READONLY`: nothing can be written through it. Tests use
/// ``inMemory(clock:)``.
///
/// Every write to a run goes through a ``RunClaim`` obtained from ``beginRun(experimentID:cell:provenance:staleAfter:)``:
/// the store checks inside each write transaction that the claim still owns the run, so a
/// process whose cell was taken over can never write into it again.
///
/// All methods are synchronous and thread-safe; writes are serialized by SQLite.
public final class ResultsDatabase: Sendable {
    /// How a database file is opened.
    public enum OpenMode: Sendable {
        /// Create the file if needed, migrate the schema, allow writes (WAL, busy timeout).
        case readWrite
        /// `SQLITE_OPEN_READONLY`: the file must exist and be fully migrated; writes fail.
        /// Opened immutable (no side files) when the database's folder cannot be written, shared
        /// otherwise (see ``ReadOnlyAccess``).
        case readOnly
        /// Read-only and immutable whatever the folder: no locks, no `-wal`/`-shm` files. Only
        /// for a file nothing writes while it is open (read-only media, an archived copy).
        case immutable
    }

    /// The version of the SQLite library GRDB runs on (`sqlite_version()`), e.g. `3.40.1`.
    public static let sqliteVersion: String =
        (try? DatabaseQueue().read { try String.fetchOne($0, sql: "SELECT sqlite_version()") }) ?? "unknown"

    /// The file path, or nil for an in-memory database.
    public let path: String?
    /// Whether the store was opened read-only.
    public let isReadOnly: Bool
    let writer: any DatabaseWriter
    let clock: @Sendable () -> Date
    let busyTimeout: TimeInterval

    /// Opens (and for `.readWrite` creates and migrates) the database file at `path`.
    ///
    /// - Parameters:
    ///   - path: The SQLite file, e.g. `Results/backdrop.sqlite`. Its folder must exist.
    ///   - mode: `.readWrite` (default) or `.readOnly`.
    ///   - busyTimeout: How long a statement waits for another process's write lock before
    ///     failing with "database is locked" (default 10 s).
    ///   - clock: The time source for every timestamp the store writes (tests pin it).
    /// - Throws: ``ResultsStoreError`` or a GRDB `DatabaseError`.
    public init(path: String, mode: OpenMode = .readWrite, busyTimeout: TimeInterval = 10,
                clock: @escaping @Sendable () -> Date = { Date() }) throws {
        self.path = path
        self.clock = clock
        self.busyTimeout = busyTimeout
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        configuration.foreignKeysEnabled = true
        configuration.label = "ResultsStore"
        switch mode {
        case .readWrite:
            isReadOnly = false
            let configuration = configuration
            writer = try Self.retryingWhileBusy(for: busyTimeout) {
                let pool = try DatabasePool(path: path, configuration: configuration)
                try Self.migrate(pool)
                return pool
            }
        case .readOnly, .immutable:
            isReadOnly = true
            writer = try Self.openReadOnly(path: path, configuration: configuration,
                                           access: mode == .immutable ? .immutable : nil)
            try Self.checkSchemaIsCurrent(writer)
        }
    }

    /// An empty, migrated in-memory database (tests and previews).
    ///
    /// - Parameter clock: The time source for timestamps.
    public static func inMemory(clock: @escaping @Sendable () -> Date = { Date() }) throws -> ResultsDatabase {
        try ResultsDatabase(writer: DatabaseQueue(), migrateUpTo: nil, clock: clock)
    }

    /// Wraps an existing connection and migrates it up to `migrateUpTo` (nil: the latest).
    init(writer: any DatabaseWriter, migrateUpTo target: String?, clock: @escaping @Sendable () -> Date = { Date() }) throws {
        self.path = nil
        self.isReadOnly = false
        self.writer = writer
        self.clock = clock
        self.busyTimeout = 10
        try Self.migrate(writer, upTo: target)
    }

    /// Identifiers of the schema migrations, oldest first (`"v1"`, `"v2"`, …).
    public static var migrationIdentifiers: [String] { Schema.migrationIdentifiers }

    /// The migrations applied to this database, in order.
    public func appliedMigrations() throws -> [String] {
        try writer.read { db in try Schema.migrator.appliedMigrations(db) }
    }

    /// Migrates to `target` (latest when nil).
    ///
    /// GRDB's migrator reads the applied migrations before taking the write lock, so two processes
    /// opening a new file at the same moment can both try to apply a migration; the loser's
    /// transaction fails and rolls back. Retrying is then a no-op (the winner applied it), so the
    /// failure is retried a few times before it is reported.
    /// Runs `body` again (with a growing pause) while SQLite answers `SQLITE_BUSY`/`SQLITE_LOCKED`
    /// without waiting for its busy handler — which it does when several processes open one new
    /// WAL database at once (journal-mode switch, WAL recovery) or a read snapshot is upgraded to
    /// a write. Gives up after `seconds` and rethrows the last error.
    static func retryingWhileBusy<T>(for seconds: TimeInterval, _ body: () throws -> T) throws -> T {
        let deadline = Date().addingTimeInterval(seconds)
        var pause: TimeInterval = 0.02
        while true {
            do { return try body() } catch let error as DatabaseError
                where (error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED) && Date() < deadline {
                Thread.sleep(forTimeInterval: pause)
                pause = min(pause * 2, 0.5)
            }
        }
    }

    static func migrate(_ writer: any DatabaseWriter, upTo target: String? = nil) throws {
        let migrator = Schema.migrator
        let target = target ?? Schema.migrationIdentifiers.last!
        if try writer.read({ db in try migrator.hasBeenSuperseded(db) }) {
            let applied = try writer.read { db in try migrator.appliedIdentifiers(db) }
            throw ResultsStoreError.schemaTooNew(applied: applied.sorted(), known: Schema.migrationIdentifiers)
        }
        var attempt = 0
        while true {
            do {
                try migrator.migrate(writer, upTo: target)
                return
            } catch {
                attempt += 1
                let done = try writer.read { db in try migrator.appliedIdentifiers(db).contains(target) }
                if done { return }
                if attempt >= 5 { throw error }
            }
        }
    }

    static func checkSchemaIsCurrent(_ reader: any DatabaseReader) throws {
        let migrator = Schema.migrator
        let (complete, superseded, applied) = try reader.read { db in
            (try migrator.hasCompletedMigrations(db), try migrator.hasBeenSuperseded(db),
             try migrator.appliedIdentifiers(db))
        }
        if superseded {
            throw ResultsStoreError.schemaTooNew(applied: applied.sorted(), known: Schema.migrationIdentifiers)
        }
        if !complete {
            throw ResultsStoreError.schemaTooOld(applied: applied.sorted(), known: Schema.migrationIdentifiers)
        }
    }

    /// Closes the database connections now (they also close when the store is released).
    /// Any later use of the store throws.
    /// A read-write store first copies the WAL into the database file (`wal_checkpoint(TRUNCATE)`,
    /// best effort), so that the file alone holds every row — what a copy read immutable sees.
    public func close() throws {
        if let pool = writer as? DatabasePool {
            try? pool.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
            try pool.close()
        }
        if let queue = writer as? DatabaseQueue { try queue.close() }
    }

    /// The journal mode SQLite reports (`wal` for files opened read-write).
    public func journalMode() throws -> String {
        try writer.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
    }

    /// Runs `body` in an `IMMEDIATE` transaction: the write lock is taken at `BEGIN` (waiting up
    /// to the busy timeout), so a read-then-write sequence can never fail half-way with
    /// `SQLITE_BUSY` because another process wrote in between.
    func writeImmediate<T>(_ body: (Database) throws -> T) throws -> T {
        try writer.writeWithoutTransaction { db in
            var result: T?
            try db.inTransaction(.immediate) {
                result = try body(db)
                return .commit
            }
            return result!
        }
    }

    var now: Double { clock().timeIntervalSince1970 }

    // MARK: Test support (internal)

    /// An in-memory store migrated only up to `target` (a past schema), for migration tests.
    static func inMemory(migratedUpTo target: String?, clock: @escaping @Sendable () -> Date = { Date() }) throws -> ResultsDatabase {
        try ResultsDatabase(writer: DatabaseQueue(), migrateUpTo: target, clock: clock)
    }

    /// A database file migrated only up to `target` (a past schema), for migration tests.
    static func file(path: String, migratedUpTo target: String) throws -> ResultsDatabase {
        try ResultsDatabase(writer: DatabaseQueue(path: path), migrateUpTo: target)
    }

    /// Applies the remaining migrations (up to `target`, or all).
    func migrate(upTo target: String? = nil) throws {
        try Self.migrate(writer, upTo: target)
    }

    /// Executes raw SQL in a write transaction (test fixtures at past schema versions).
    func execute(sql: String) throws {
        try writer.write { db in try db.execute(sql: sql) }
    }

    /// The schema as sorted `sqlite_master` SQL texts (tables, indexes, views).
    func schemaSQL() throws -> [String] {
        try writer.read { db in
            try String.fetchAll(db, sql: """
                SELECT type || ' ' || name || ': ' || COALESCE(sql, '') FROM sqlite_master
                WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name
                """)
        }
    }
}

/// Errors of the results store. Every message names what failed and what to do about it.
public enum ResultsStoreError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// A read-only open of a file that does not exist.
    case missingDatabase(path: String)
    /// The database was written by a newer Backdrop (it has migrations this build does not know).
    case schemaTooNew(applied: [String], known: [String])
    /// A read-only open of a database that still needs migrations.
    case schemaTooOld(applied: [String], known: [String])
    /// No experiment with that name (or id).
    case unknownExperiment(String, known: [String])
    /// The claim no longer owns the run (it was taken over, finished or failed).
    case claimLost(runID: Int64, cellKey: String)
    /// The query guard refused a statement that could write.
    case notReadOnly(statement: String)
    /// The query held more than one statement.
    case multipleStatements(count: Int)
    /// The query held no statement.
    case emptyQuery
    /// A stored value a reader cannot use: `table`, the row (`id 3`), the column, the value as an
    /// SQL literal and what was expected (`an integer`, `a number`, `text`).
    case unusableValue(table: String, row: String, column: String, value: String, expected: String)
    /// A query returned more rows than its limit allows.
    case tooManyRows(limit: Int)
    /// A query ran longer than its time limit (or was interrupted).
    case queryInterrupted(seconds: Double?)

    public var description: String {
        switch self {
        case .missingDatabase(let path):
            return "results database \(path) does not exist; run `backdrop reproduce` first or pass the right --db path"
        case .schemaTooNew(let applied, let known):
            return "results database has schema migrations \(applied) but this build knows only \(known); use a newer backdrop"
        case .schemaTooOld(let applied, let known):
            return "results database has schema migrations \(applied) of \(known); open it read-write once (any backdrop write command) to migrate it"
        case .unknownExperiment(let name, let known):
            return "no experiment named \(name) in the results database" + (known.isEmpty ? " (it holds none)" : "; known: \(known.joined(separator: ", "))")
        case .claimLost(let runID, let cellKey):
            return "run \(runID) (cell \(cellKey)) is no longer owned by this process: another process took it over; stop working on it"
        case .notReadOnly(let statement):
            return "refused: the statement `\(statement)` could modify the database; queries are read-only (SELECT, WITH, EXPLAIN, read-only PRAGMA)"
        case .multipleStatements(let count):
            return "refused: the query holds \(count) statements; give exactly one statement"
        case .emptyQuery:
            return "the query is empty; give one SQL statement, e.g. \"SELECT * FROM runs\""
        case .unusableValue(let table, let row, let column, let value, let expected):
            return "unusable value in table \(table), row \(row), column \(column): \(value) is not \(expected); "
                + "correct or delete that row with a SQLite tool (backdrop never writes such values)"
        case .tooManyRows(let limit):
            return "the query returned more than \(limit) rows; add a LIMIT or WHERE clause, or raise --max-rows"
        case .queryInterrupted(let seconds):
            if let seconds {
                return "the query was stopped after its time limit of \(String(format: "%g", seconds)) s; narrow it or raise --timeout"
            }
            return "the query was interrupted"
        }
    }

    public var errorDescription: String? { description }
}
