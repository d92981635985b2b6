import Foundation
import GRDB

/// The bounds of one `backdrop query`: at most `maxRows` rows and `timeout` seconds, so that a
/// statement that never ends (an endless recursive CTE) stops with a message instead of running
/// out of memory.
public struct QueryLimits: Sendable, Equatable {
    /// The most rows a result may hold; one more fails with ``ResultsStoreError/tooManyRows(limit:)``.
    public var maxRows: Int
    /// Seconds the statement may run (nil: no limit); past it the statement is interrupted and
    /// fails with ``ResultsStoreError/queryInterrupted(seconds:)``.
    public var timeout: TimeInterval?

    /// 10 000 rows, 30 s: what `backdrop query` uses unless told otherwise.
    public static let standard = QueryLimits(maxRows: 10_000, timeout: 30)
    /// No limits (library use on trusted SQL).
    public static let unlimited = QueryLimits(maxRows: .max, timeout: nil)

    public init(maxRows: Int, timeout: TimeInterval?) {
        self.maxRows = maxRows
        self.timeout = timeout
    }
}

/// A handle that stops a running query from another thread (a Ctrl-C handler, a timer).
///
/// ``ResultsDatabase/readOnlyQuery(path:sql:limits:interruption:)`` attaches its connection
/// while the statement runs; ``interrupt()`` then calls SQLite's `sqlite3_interrupt` on it. An
/// interrupt that arrives before the statement starts stops it as soon as it is attached.
public final class QueryInterruption: @unchecked Sendable {
    private let lock = NSLock()
    private var reader: (any DatabaseReader)?
    private var requested = false

    public init() {}

    /// Whether ``interrupt()`` was called.
    public var wasRequested: Bool { lock.withLock { requested } }

    /// Stops the attached query (or the next one attached).
    public func interrupt() {
        let reader: (any DatabaseReader)? = lock.withLock {
            requested = true
            return self.reader
        }
        reader?.interrupt()
    }

    func attach(_ reader: any DatabaseReader) {
        let pending: Bool = lock.withLock {
            self.reader = reader
            return requested
        }
        if pending { reader.interrupt() }
    }

    func detach() {
        lock.withLock { reader = nil }
    }
}

/// What the progress handler of one bounded query consults: the deadline and the interruption.
final class QueryWatch: @unchecked Sendable {
    let deadline: Date?
    let handle: QueryInterruption
    private(set) var timedOut = false

    init(deadline: Date?, handle: QueryInterruption) {
        self.deadline = deadline
        self.handle = handle
    }

    /// Called on the query's thread only.
    func shouldStop() -> Bool {
        if let deadline, Date() >= deadline { timedOut = true; return true }
        return handle.wasRequested
    }
}
