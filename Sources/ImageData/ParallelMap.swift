import Dispatch

/// Runs `body(i)` for `i in 0..<count` on all cores and returns the results in index order.
///
/// Results depend only on `i`, never on scheduling, so parallel work stays deterministic.
func parallelMap<T: Sendable>(_ count: Int, _ body: @Sendable (Int) -> T) -> [T] {
    guard count > 0 else { return [] }
    let results = UnsafeMutablePointer<T?>.allocate(capacity: count)
    results.initialize(repeating: nil, count: count)
    defer { results.deinitialize(count: count); results.deallocate() }
    nonisolated(unsafe) let out = results
    DispatchQueue.concurrentPerform(iterations: count) { i in out[i] = body(i) }
    return (0..<count).map { results[$0]! }
}
