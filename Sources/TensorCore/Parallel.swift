import Dispatch
import Foundation
import Synchronization

/// Work partitioning for the heavy kernels.
///
/// OpenBLAS is kept single-threaded (see `BLAS.configureOnce`) and parallelism is owned here:
/// `workerCount` threads (`DispatchQueue.concurrentPerform`) *claim* pieces of the work from a
/// shared counter until none is left. Dynamic claiming matters on a shared 2-core machine: with a
/// static half each, one preempted worker would make the other wait and halve the throughput.
///
/// Results never depend on the worker count: kernels whose round-off depends on how the work is
/// cut (partial sums, BLAS calls per slice) cut it into a number of pieces fixed by the shape
/// (`forEachChunk(pieces:)`, the convolutions' fixed groups), never by `workerCount`.
public enum Parallel {
    /// The thread count set by `configure(threads:)`; 0 until then.
    private static let configuredWorkerCount = Atomic<Int>(0)

    /// The thread count when `configure(threads:)` was not called: `BACKDROP_THREADS` if it holds a
    /// valid count, else the CPUs this process may run on (`AvailableCPUs`). Computed on first use.
    public static let defaultWorkerCount: Int =
        (try? ThreadSetting.resolve(option: nil, environment: ProcessInfo.processInfo.environment)) ?? AvailableCPUs.count()

    /// Number of worker threads used by kernels: the configured count, else `defaultWorkerCount`.
    public static var workerCount: Int {
        let configured = configuredWorkerCount.load(ordering: .relaxed)
        return configured > 0 ? configured : defaultWorkerCount
    }

    /// Sets the number of worker threads for the rest of the process (commands call it once at
    /// their start with `ThreadSetting.resolve`). Kernels read it when they start, so setting it
    /// between computations is safe (tests compare thread counts this way).
    public static func configure(threads: Int) {
        precondition(threads >= 1, "Parallel.configure: threads must be at least 1, got \(threads)")
        configuredWorkerCount.store(threads, ordering: .relaxed)
    }

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
    /// `count · costPerItem ≥ minimumWork` (else once over `0..<count` on the caller's thread).
    /// - Parameter pieces: how many slices to cut. Given, the slices are the same on any number of
    ///   workers (one worker runs them in order), for kernels whose round-off depends on the cut;
    ///   nil (for work that is the same however it is cut): 4 per worker, for balance.
    public static func forEachChunk(_ count: Int, costPerItem: Int = 1, minimumWork: Int = 32_768, pieces: Int? = nil,
                                    _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let workers = activeWorkers
        let slices = min(count, pieces ?? 4 * workers)
        if slices <= 1 || count &* costPerItem < minimumWork || (workers <= 1 && pieces == nil) {
            body(0..<count)
            return
        }
        let slice = { (s: Int) in (count * s / slices)..<(count * (s + 1) / slices) }
        if workers <= 1 {
            for s in 0..<slices { body(slice(s)) }
            return
        }
        forEachWorker(slices, workers: workers) { _, claim in
            while let s = claim() { body(slice(s)) }
        }
    }

    /// Runs `body(worker, claim)` on up to `workerCount` threads; each calls `claim()` for the next
    /// unclaimed index of `0..<count` until it returns `nil`. Per-worker scratch buffers are
    /// allocated once at the top of `body`.
    public static func forEachWorker(_ count: Int, _ body: (_ worker: Int, _ claim: () -> Int?) -> Void) {
        forEachWorker(count, workers: activeWorkers, body)
    }

    /// `forEachWorker` on at most `workers` threads.
    static func forEachWorker(_ count: Int, workers: Int, _ body: (_ worker: Int, _ claim: () -> Int?) -> Void) {
        guard count > 0 else { return }
        let counter = WorkCounter(count)
        let workers = min(workers, count)
        if workers <= 1 { body(0, counter.claim); return }
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let body = body
            DispatchQueue.concurrentPerform(iterations: workers) { w in body(w, counter.claim) }
        }
    }
}
