import Foundation
import GRDB

/// Buffers a run's metrics and writes them in batched transactions.
///
/// `add` appends to an in-memory buffer; the buffer is written in one `IMMEDIATE` transaction
/// when it reaches `batchSize` rows, when `flushInterval` seconds have passed since the last
/// flush, and on ``flush()`` / ``finish()``. Each flush also verifies the claim and refreshes its
/// heartbeat. Rows are upserted on `(run, key, step)`, so a resumed run that repeats the steps
/// after its last checkpoint replaces those rows instead of duplicating them.
///
/// Call `flush()` before writing a checkpoint (so what the checkpoint claims to have done is
/// stored) and `finish()` before ``ResultsStore/finishRun(_:)``. Thread-safe.
public final class MetricWriter: @unchecked Sendable {
    public let claim: RunClaim
    public let batchSize: Int
    public let flushInterval: TimeInterval
    private let store: ResultsDatabase
    private let lock = NSLock()
    private var buffer: [Metric] = []
    private var lastFlush: Date
    private var written = 0
    private var transactions = 0

    init(store: ResultsDatabase, claim: RunClaim, batchSize: Int, flushInterval: TimeInterval) {
        self.store = store
        self.claim = claim
        self.batchSize = max(1, batchSize)
        self.flushInterval = flushInterval
        self.lastFlush = store.clock()
    }

    /// Buffers one value, flushing when the batch is full or the interval has passed.
    ///
    /// - Parameters:
    ///   - key: Metric name (`loss`, `lr`, `images_per_s`, `epoch/loss`, …).
    ///   - step: 0-based optimizer step.
    ///   - epoch: 0-based epoch.
    ///   - value: The value (NaN is stored as NULL).
    ///   - wallTime: Seconds since the Unix epoch when it was produced (default: the store's clock).
    public func add(key: String, step: Int, epoch: Int, value: Double, wallTime: Double? = nil) throws {
        try add([Metric(key: key, step: step, epoch: epoch, value: value,
                        wallTime: wallTime ?? store.clock().timeIntervalSince1970)])
    }

    /// Buffers several values (typically all metrics of one step), flushing when the batch is full
    /// or the interval has passed.
    public func add(_ metrics: [Metric]) throws {
        lock.lock()
        defer { lock.unlock() }
        buffer += metrics
        if buffer.count >= batchSize || store.clock().timeIntervalSince(lastFlush) >= flushInterval {
            try flushLocked()
        }
    }

    /// Writes everything buffered in one transaction (a no-op write of the heartbeat when empty).
    ///
    /// - Throws: ``ResultsStoreError/claimLost(runID:cellKey:)`` when the run was taken over; the
    ///   buffer is then discarded.
    public func flush() throws {
        lock.lock()
        defer { lock.unlock() }
        try flushLocked()
    }

    /// Flushes the remaining rows; call before finishing the run.
    public func finish() throws { try flush() }

    /// Rows buffered and not yet written.
    public var pendingCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return buffer.count
    }

    /// Rows written so far and the number of write transactions used.
    public var statistics: (rows: Int, transactions: Int) {
        lock.lock()
        defer { lock.unlock() }
        return (written, transactions)
    }

    private func flushLocked() throws {
        let rows = buffer
        buffer.removeAll(keepingCapacity: true)
        lastFlush = store.clock()
        let claim = self.claim
        let store = self.store
        try store.writeImmediate { db in
            try store.touch(db, claim)
            guard !rows.isEmpty else { return }
            let statement = try db.makeStatement(sql: """
                INSERT INTO metrics (run_id, key, step, epoch, value, wall_time) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (run_id, key, step) DO UPDATE SET epoch = excluded.epoch, value = excluded.value,
                    wall_time = excluded.wall_time
                """)
            for m in rows {
                try statement.execute(arguments: [claim.runID, m.key, m.step, m.epoch,
                                                  m.value.isNaN ? nil : m.value, m.wallTime])
            }
        }
        written += rows.count
        transactions += 1
    }
}
