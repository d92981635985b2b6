import Dispatch
import Foundation

/// Work partitioning for the heavy kernels.
///
/// OpenBLAS is kept single-threaded (see `BLAS.configureOnce`) and parallelism is owned here: a
/// kernel splits its work into `workerCount` contiguous ranges and runs them with
/// `DispatchQueue.concurrentPerform`. On a 2-core machine this beats threaded BLAS on our GEMM
/// shapes and never oversubscribes.
public enum Parallel {
    /// Number of worker threads used by kernels: the active processor count.
    public static let workerCount: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Runs `body(range)` for `workerCount` (or fewer) contiguous slices of `0..<count`.
    /// Small problems (`count * costPerItem < minimumWork`) run inline on the caller's thread.
    @inline(__always)
    public static func forEachChunk(_ count: Int, costPerItem: Int = 1, minimumWork: Int = 32_768,
                                    _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let workers = min(workerCount, count)
        if workers <= 1 || count &* costPerItem < minimumWork {
            body(0..<count)
            return
        }
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let body = body
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                let lo = count * w / workers, hi = count * (w + 1) / workers
                if lo < hi { body(lo..<hi) }
            }
        }
    }

    /// Runs `body(worker, range)` on exactly `min(workerCount, count)` slices, passing the slice
    /// index so callers can keep one scratch buffer per worker.
    public static func forEachWorker(_ count: Int, _ body: (_ worker: Int, _ range: Range<Int>) -> Void) {
        guard count > 0 else { return }
        let workers = min(workerCount, count)
        if workers <= 1 { body(0, 0..<count); return }
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let body = body
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                let lo = count * w / workers, hi = count * (w + 1) / workers
                if lo < hi { body(w, lo..<hi) }
            }
        }
    }
}
