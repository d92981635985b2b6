import Foundation
import ResultsStore

/// Progress of a whole matrix, for watching a long reproduction: after each cell that ran, one
/// line with the matrix's count, the cell's result (linear top-1 on `full` and `foreground`, or
/// the error) and an ETA for the cells still to run.
///
/// The ETA is the wall time so far divided by the cells finished, times the cells left — with
/// `--jobs N` the wall time already reflects the parallelism.
final class MatrixProgress: @unchecked Sendable {
    private let total: Int
    private let start: Date
    private let clock: () -> Date
    private var ended = 0
    private let lock = NSLock()

    /// - Parameters:
    ///   - cellsToRun: the cells this reproduction runs (not those done or reused).
    ///   - clock: the time source (tests pass a fake one).
    init(cellsToRun: Int, clock: @escaping () -> Date = Date.init) {
        total = cellsToRun
        self.clock = clock
        start = clock()
    }

    /// Counts `cell` as ended and returns its one-line summary.
    func cellEnded(_ key: String, outcome: CellOutcome, result: String) -> String {
        lock.lock()
        ended += 1
        let done = ended
        lock.unlock()
        let left = max(total - done, 0)
        let elapsed = clock().timeIntervalSince(start)
        let eta = left == 0 ? "matrix done in \(ProgressReporter.duration(elapsed))"
                            : "\(left) left, matrix ETA \(ProgressReporter.duration(elapsed / Double(done) * Double(left)))"
        return "[matrix \(done)/\(total)] \(key) \(outcome.label): \(result); \(eta)"
    }

    /// Linear top-1 of a finished run on the `full` and `foreground` test views, under the probe
    /// fitted on the cell's train view (what the cell's own table shows first), e.g.
    /// `linear top-1 full 66.8%, foreground 32.0% (probe: train view full)`; or what went wrong.
    static func result(of outcome: CellOutcome, cell: MatrixCell, experimentID: Int64, store: ResultsDatabase) -> String {
        switch outcome {
        case .failed(let message): return String(message.prefix(200))
        case .finished: break
        default: return outcome.label
        }
        guard let run = try? store.run(experimentID: experimentID, cellKey: cell.key),
              let rows = try? store.evaluations(runID: run.id) else { return "no evaluation stored" }
        let probe = cell.trainView.rawValue
        let views = ["full", "foreground"].compactMap { view -> String? in
            rows.first { $0.protocolName == "linear" && $0.probeView == probe && $0.testView == view && $0.split == "test" }
                .map { "\(view) \(String(format: "%.1f", 100 * $0.top1))%" }
        }
        return views.isEmpty ? "no linear evaluation on full or foreground" : "linear top-1 \(views.joined(separator: ", ")) (probe: train view \(probe))"
    }
}
