import Foundation

/// A request to stop training early and cleanly, made from another thread (a Ctrl-C handler):
/// the training loop checks it between steps, writes a checkpoint at the step it reached and
/// returns, and the cell is recorded as `interrupted` so the next reproduction resumes it.
public final class StopRequest: @unchecked Sendable {
    private let lock = NSLock()
    private var requested = false

    public init() {}

    /// Asks every loop holding this request to stop after its current step. Idempotent.
    public func request() {
        lock.lock()
        requested = true
        lock.unlock()
    }

    /// Whether a stop was requested.
    public var isRequested: Bool {
        lock.lock()
        defer { lock.unlock() }
        return requested
    }
}
