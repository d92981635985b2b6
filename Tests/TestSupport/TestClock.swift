import Foundation

/// A deterministic clock for code that takes a `() -> Date`: every timestamp it hands out comes
/// from here. It can be moved by hand (`advance`) and can tick by a fixed step on each reading.
public final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var seconds: Double
    private let tick: Double

    /// Starts at `seconds` since 1970; each reading first advances the clock by `tick` seconds
    /// (0: the time only changes through `advance`).
    public init(_ seconds: Double = 1_700_000_000, tick: Double = 0) {
        self.seconds = seconds
        self.tick = tick
    }

    /// The current time (after this reading's tick).
    public var now: Date {
        lock.lock(); defer { lock.unlock() }
        seconds += tick
        return Date(timeIntervalSince1970: seconds)
    }

    /// Moves the clock by `delta` seconds.
    public func advance(_ delta: Double) {
        lock.lock(); defer { lock.unlock() }
        seconds += delta
    }

    /// `now` as a closure, for a store's or runner's `clock:` parameter.
    public var closure: @Sendable () -> Date { { self.now } }
}
