import TensorCore

/// Runs `body(i)` for `i in 0..<count` on the kernels' worker threads (`Parallel.workerCount`)
/// and returns the results in index order.
///
/// Results depend only on `i`, never on scheduling, so parallel work stays deterministic.
func parallelMap<T: Sendable>(_ count: Int, _ body: @Sendable (Int) -> T) -> [T] {
    guard count > 0 else { return [] }
    let results = UnsafeMutablePointer<T?>.allocate(capacity: count)
    results.initialize(repeating: nil, count: count)
    defer { results.deinitialize(count: count); results.deallocate() }
    nonisolated(unsafe) let out = results
    forEachIndex(count) { i in out[i] = body(i) }
    return (0..<count).map { results[$0]! }
}

/// Runs `body(i)` once for each `i in 0..<count` on up to `Parallel.workerCount` threads (the
/// CPUs this process may use, or `--threads`), not on as many as the machine has.
func forEachIndex(_ count: Int, _ body: (Int) -> Void) {
    Parallel.forEachWorker(count) { _, claim in
        while let i = claim() { body(i) }
    }
}
