import Dispatch
import Foundation
import Synchronization

/// Work partitioning for the heavy kernels.
///
/// OpenBLAS is kept single-threaded (see `BLAS.configureOnce`) and parallelism is owned here:
/// `workerCount` threads (`DispatchQueue.concurrentPerform`) *claim* pieces of the work from a
/// shared counter until none is left. Dynamic claiming matters on a shared 2-core machine: with a
/// static half each, one preempted worker would make the other wait and halve the throughput.
public enum Parallel {
    /// Number of worker threads used by kernels: the active processor count.
    public static let workerCount: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// A cap on the workers of the kernels run inside `withWorkerLimit` (task-local).
    @TaskLocal private static var workerLimit: Int?

    /// The workers kernels use here: `workerCount`, or fewer inside `withWorkerLimit`.
    public static var activeWorkers: Int { min(workerCount, workerLimit ?? workerCount) }

    /// Runs `body` with the kernels on at most `limit` workers — benchmarks time single-threaded
    /// kernels with 1. Results do not depend on the worker count (fixed-order sums).
    public static func withWorkerLimit<R>(_ limit: Int, _ body: () throws -> R) rethrows -> R {
        precondition(limit >= 1, "worker limit \(limit) must be at least 1")
        return try $workerLimit.withValue(limit, operation: body)
    }

    /// Hands out the indices `0..<count` once each, to whichever worker asks first.
    final class WorkCounter: Sendable {
        let next = Atomic<Int>(0)
        let count: Int
        init(_ count: Int) { self.count = count }
        func claim() -> Int? {
            let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
            return i < count ? i : nil
        }
    }

    /// Runs `body(range)` over contiguous slices covering `0..<count`, in parallel when
    /// `count · costPerItem ≥ minimumWork` (else inline on the caller's thread).
    /// - Parameter pieces: how many slices to cut (default 4 per worker, for balance).
    public static func forEachChunk(_ count: Int, costPerItem: Int = 1, minimumWork: Int = 32_768, pieces: Int? = nil,
                                    _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let slices = min(count, pieces ?? 4 * activeWorkers)
        if activeWorkers <= 1 || slices <= 1 || count &* costPerItem < minimumWork {
            body(0..<count)
            return
        }
        forEachWorker(slices) { _, claim in
            while let s = claim() { body((count * s / slices)..<(count * (s + 1) / slices)) }
        }
    }

    /// Runs `body(worker, claim)` on up to `workerCount` threads; each calls `claim()` for the next
    /// unclaimed index of `0..<count` until it returns `nil`. Per-worker scratch buffers are
    /// allocated once at the top of `body`.
    public static func forEachWorker(_ count: Int, _ body: (_ worker: Int, _ claim: () -> Int?) -> Void) {
        guard count > 0 else { return }
        let counter = WorkCounter(count)
        let workers = min(activeWorkers, count)
        if workers <= 1 { body(0, counter.claim); return }
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let body = body
            DispatchQueue.concurrentPerform(iterations: workers) { w in body(w, counter.claim) }
        }
    }
}
