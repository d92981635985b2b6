import Foundation
import GRDB
import GRDBSQLite

/// One value of a query result, as SQLite stored it.
public enum QueryValue: Sendable, Equatable, CustomStringConvertible {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob(Data)

    /// Text for tables and CSV: `NULL` is empty, reals use Swift's shortest round-trip form,
    /// blobs are `x'…'` hex.
    public var description: String {
        switch self {
        case .null: return ""
        case .integer(let value): return String(value)
        case .real(let value): return String(value)
        case .text(let value): return value
        case .blob(let data): return "x'" + data.map { String(format: "%02x", $0) }.joined() + "'"
        }
    }

    /// The value as a JSON-compatible Swift value (`NSNull`, `Int64`, `Double`, `String`; blobs
    /// as hex text).
    public var jsonValue: any Sendable {
        switch self {
        case .null: return NSNull()
        case .integer(let value): return value
        case .real(let value): return value
        case .text(let value): return value
        case .blob: return description
        }
    }

    init(_ value: DatabaseValue) {
        switch value.storage {
        case .null: self = .null
        case .int64(let v): self = .integer(v)
        case .double(let v): self = .real(v)
        case .string(let v): self = .text(v)
        case .blob(let v): self = .blob(v)
        }
    }
}

/// The result of ``ResultsStore/readOnlyQuery(sql:)``: column names and rows.
public struct QueryResult: Sendable, Equatable {
    public var columns: [String]
    public var rows: [[QueryValue]]

    public init(columns: [String], rows: [[QueryValue]]) {
        self.columns = columns
        self.rows = rows
    }
}

extension ResultsDatabase {
    /// Runs one read-only SQL statement against the database at `path`, opened with
    /// `SQLITE_OPEN_READONLY` (so even a statement that slipped through the guard could not write).
    ///
    /// The guard prepares every statement of `sql` before running any, and refuses the query when
    /// one of them is not read-only: SQLite's `sqlite3_stmt_readonly` must say so, **and** the
    /// statement must start with `SELECT`, `WITH`, `VALUES`, `EXPLAIN` or a read-only `PRAGMA`
    /// (introspection such as `table_info(runs)`, or reading a setting without `=`). This refuses
    /// `INSERT`, `UPDATE`, `DELETE`, `DROP`, `CREATE`, `ATTACH`, `DETACH`, `VACUUM`, `REINDEX`,
    /// `ANALYZE`, transaction control, and setting pragmas, as well as
    /// `SELECT 1; DELETE FROM runs`. A query must hold exactly one statement.
    ///
    /// The file is opened read-only (immutable when its folder cannot be written, see
    /// ``ReadOnlyAccess``), and the statement is bounded by `limits`: more than `maxRows` rows
    /// fail with ``ResultsStoreError/tooManyRows(limit:)``, running past `timeout` (or
    /// `interruption` being triggered, e.g. by Ctrl-C) fails with
    /// ``ResultsStoreError/queryInterrupted(seconds:)``. Rows are read one at a time, so an
    /// endless statement stops at the row limit instead of filling memory.
    ///
    /// - Parameters:
    ///   - path: The SQLite file.
    ///   - sql: One statement, e.g. `SELECT method, AVG(top1) FROM matrix_cells GROUP BY method`.
    ///   - limits: Row and time limits (default: none).
    ///   - interruption: A handle another thread can use to stop the query.
    /// - Returns: Column names and rows.
    /// - Throws: ``ResultsStoreError/notReadOnly(statement:)`` naming the refused statement,
    ///   ``ResultsStoreError/multipleStatements(count:)``, ``ResultsStoreError/emptyQuery``,
    ///   ``ResultsStoreError/missingDatabase(path:)``, the limit errors above, or SQLite's error
    ///   for invalid SQL.
    public static func readOnlyQuery(path: String, sql: String, limits: QueryLimits = .unlimited,
                                     interruption: QueryInterruption? = nil) throws -> QueryResult {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        let queue = try openReadOnly(path: path, configuration: configuration)
        return try bounded(queue, limits: limits, interruption: interruption) { db in
            try guardedQuery(db, sql: sql, maxRows: limits.maxRows)
        }
    }

    /// Runs one read-only SQL statement (see ``readOnlyQuery(path:sql:limits:interruption:)``).
    ///
    /// For a file opened read-write the query runs on a fresh `SQLITE_OPEN_READONLY` connection;
    /// a read-only store uses its own connection (as opened: shared or immutable); an in-memory
    /// store runs it in a read-only transaction (`PRAGMA query_only`) of its connection.
    public func readOnlyQuery(sql: String, limits: QueryLimits = .unlimited,
                              interruption: QueryInterruption? = nil) throws -> QueryResult {
        if let path, !isReadOnly {
            return try Self.readOnlyQuery(path: path, sql: sql, limits: limits, interruption: interruption)
        }
        return try Self.bounded(writer, limits: limits, interruption: interruption) { db in
            try Self.guardedQuery(db, sql: sql, maxRows: limits.maxRows)
        }
    }

    /// Reads through `reader` with SQLite's progress handler installed: every 1000 virtual
    /// machine steps it checks `limits.timeout` and `interruption`, and stops the statement when
    /// either says so (`SQLITE_INTERRUPT`, mapped to ``ResultsStoreError/queryInterrupted(seconds:)``).
    static func bounded<T>(_ reader: any DatabaseReader, limits: QueryLimits, interruption: QueryInterruption?,
                           _ body: (Database) throws -> T) throws -> T {
        let handle = interruption ?? QueryInterruption()
        handle.attach(reader)
        defer { handle.detach() }
        let watch = QueryWatch(deadline: limits.timeout.map { Date().addingTimeInterval($0) }, handle: handle)
        do {
            return try reader.read { db in
                let context = Unmanaged.passRetained(watch)
                sqlite3_progress_handler(db.sqliteConnection, 1000, { pointer in
                    guard let pointer else { return 0 }
                    return Unmanaged<QueryWatch>.fromOpaque(pointer).takeUnretainedValue().shouldStop() ? 1 : 0
                }, context.toOpaque())
                defer {
                    sqlite3_progress_handler(db.sqliteConnection, 0, nil, nil)
                    context.release()
                }
                return try body(db)
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_INTERRUPT {
            throw ResultsStoreError.queryInterrupted(seconds: watch.timedOut ? limits.timeout : nil)
        }
    }

    static func guardedQuery(_ db: Database, sql: String, maxRows: Int = .max) throws -> QueryResult {
        var statements: [Statement] = []
        let cursor = try db.allStatements(sql: sql)
        while let statement = try cursor.next() {
            let text = statement.sql.trimmingCharacters(in: .whitespacesAndNewlines)
            if !statement.isReadonly || !QueryGuard.isAllowed(text) {
                throw ResultsStoreError.notReadOnly(statement: text)
            }
            statements.append(statement)
        }
        guard let statement = statements.first else { throw ResultsStoreError.emptyQuery }
        if statements.count > 1 { throw ResultsStoreError.multipleStatements(count: statements.count) }
        var rows: [[QueryValue]] = []
        let rowCursor = try Row.fetchCursor(statement)
        while let row = try rowCursor.next() {
            if rows.count >= maxRows { throw ResultsStoreError.tooManyRows(limit: maxRows) }
            rows.append(row.databaseValues.map(QueryValue.init))
        }
        return QueryResult(columns: statement.columnNames, rows: rows)
    }
}

/// The lexical half of the read-only guard: the statement's leading keyword.
enum QueryGuard {
    static let leadingKeywords: Set<String> = ["SELECT", "WITH", "VALUES", "EXPLAIN"]
    /// Pragmas whose parenthesized argument names an object (never a new setting).
    static let introspectionPragmas: Set<String> = [
        "table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo",
        "foreign_key_list", "foreign_key_check", "integrity_check", "quick_check",
    ]
    /// Pragmas that may be read bare (no argument, no `=`).
    static let readablePragmas: Set<String> = introspectionPragmas.union([
        "database_list", "collation_list", "function_list", "module_list", "pragma_list", "compile_options",
        "user_version", "schema_version", "application_id", "journal_mode", "page_count", "page_size",
        "freelist_count", "encoding", "foreign_keys", "data_version", "query_only", "busy_timeout",
    ])

    static func isAllowed(_ sql: String) -> Bool {
        let body = stripLeadingComments(sql)
        let keyword = body.prefix { $0.isLetter }.uppercased()
        if leadingKeywords.contains(keyword) { return true }
        guard keyword == "PRAGMA" else { return false }
        var rest = body.dropFirst(keyword.count).drop { $0.isWhitespace }
        var name = String(rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." })
        rest = rest.dropFirst(name.count)
        if let dot = name.lastIndex(of: ".") { name = String(name[name.index(after: dot)...]) }
        name = name.lowercased()
        let tail = rest.trimmingCharacters(in: .whitespacesAndNewlines.union(CharacterSet(charactersIn: ";")))
        if tail.isEmpty { return readablePragmas.contains(name) }
        return tail.hasPrefix("(") && !tail.contains("=") && introspectionPragmas.contains(name)
    }

    static func stripLeadingComments(_ sql: String) -> Substring {
        var s = Substring(sql)
        while true {
            s = s.drop { $0.isWhitespace }
            if s.hasPrefix("--") {
                s = s.drop { $0 != "\n" }
            } else if s.hasPrefix("/*") {
                guard let end = s.range(of: "*/") else { return "" }
                s = s[end.upperBound...]
            } else {
                return s
            }
        }
    }
}
