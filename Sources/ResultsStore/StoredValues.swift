import Foundation
import GRDB

/// Reads the columns of one stored row with checks, so that a value of the wrong type (e.g. a
/// `seed` of `1e300` or a `top1` of `'oops'` written by hand) becomes a
/// ``ResultsStoreError/unusableValue(table:row:column:value:expected:)`` naming the table, row and
/// column instead of a trap in GRDB's force-converting subscript.
struct StoredRow {
    /// The database row.
    let row: Row
    /// The table (or view) the row was read from, for messages.
    let table: String
    /// How the row is identified in messages, e.g. `id 3` or `run_id 2, key loss, step 7`.
    let identity: String

    /// Reads `row` of `table`, identified by its `id` column (or `keyColumns`, joined, when given).
    init(_ row: Row, table: String, keyColumns: [String] = ["id"]) {
        self.row = row
        self.table = table
        self.identity = keyColumns.map { column in
            let value: DatabaseValue = row[column] ?? .null
            return "\(column) \(value.isNull ? "NULL" : Self.text(of: value))"
        }.joined(separator: ", ")
    }

    /// Reads `row` as part of `table` with an identity written by the caller (rows of a view,
    /// e.g. `run_id 3` for the run columns of `matrix_series`).
    init(_ row: Row, table: String, identity: String) {
        self.row = row
        self.table = table
        self.identity = identity
    }

    /// The non-NULL value of `column` converted to `T`.
    ///
    /// - Throws: ``ResultsStoreError/unusableValue(table:row:column:value:expected:)`` when the
    ///   value is NULL or cannot be converted exactly (a REAL out of integer range, text where a
    ///   number belongs).
    func value<T: DatabaseValueConvertible>(_ column: String, as type: T.Type = T.self) throws -> T {
        let stored: DatabaseValue = row[column] ?? .null
        guard let value = T.fromDatabaseValue(stored) else { throw unusable(column, stored, expected: T.self) }
        return value
    }

    /// The value of `column` converted to `T`, or nil when it is NULL (or the column is absent).
    ///
    /// - Throws: ``ResultsStoreError/unusableValue(table:row:column:value:expected:)`` when a
    ///   non-NULL value cannot be converted.
    func optional<T: DatabaseValueConvertible>(_ column: String, as type: T.Type = T.self) throws -> T? {
        let stored: DatabaseValue = row[column] ?? .null
        if stored.isNull { return nil }
        guard let value = T.fromDatabaseValue(stored) else { throw unusable(column, stored, expected: T.self) }
        return value
    }

    /// A REAL (or INTEGER) column that may hold NULL for NaN (metric values).
    func double(orNaN column: String) throws -> Double {
        try optional(column, as: Double.self) ?? .nan
    }

    /// A timestamp stored as REAL Unix seconds.
    func date(_ column: String) throws -> Date {
        Date(timeIntervalSince1970: try value(column, as: Double.self))
    }

    /// An optional timestamp stored as REAL Unix seconds.
    func optionalDate(_ column: String) throws -> Date? {
        try optional(column, as: Double.self).map(Date.init(timeIntervalSince1970:))
    }

    private func unusable<T>(_ column: String, _ stored: DatabaseValue, expected: T.Type) -> ResultsStoreError {
        ResultsStoreError.unusableValue(table: table, row: identity, column: column,
                                        value: stored.isNull ? "NULL" : Self.text(of: stored),
                                        expected: Self.typeName(T.self))
    }

    /// The stored value as a short SQL literal for messages (text quoted and cut at 40 characters).
    static func text(of value: DatabaseValue) -> String {
        switch value.storage {
        case .null: return "NULL"
        case .int64(let v): return String(v)
        case .double(let v): return String(v)
        case .string(let s): return "'" + (s.count > 40 ? String(s.prefix(40)) + "…" : s) + "'"
        case .blob(let d): return "a \(d.count)-byte blob"
        }
    }

    static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type, is Int64.Type: return "an integer"
        case is Double.Type: return "a number"
        case is String.Type: return "text"
        case is Bool.Type: return "0 or 1"
        default: return String(describing: type)
        }
    }
}
