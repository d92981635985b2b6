import Foundation

/// One logged number: `value` of `key` at optimizer `step` (0-based) during `epoch` (0-based).
///
/// Per-step records use the stepper's metric names (`loss`, `lr`, `pos_sim`, …) plus the loop's
/// `images_per_s`; at the end of each epoch the loop adds the epoch means as `epoch/<key>` at the
/// epoch's last step, and its observer's values (`diag_*`, `EpochDiagnostics`) at the same step.
public struct MetricRecord: Sendable, Equatable, Codable {
    public var step: Int
    public var epoch: Int
    public var key: String
    public var value: Double
    /// Seconds since the Unix epoch when the value was produced.
    public var wallTime: Double

    public init(step: Int, epoch: Int, key: String, value: Double, wallTime: Double = Date().timeIntervalSince1970) {
        self.step = step
        self.epoch = epoch
        self.key = key
        self.value = value
        self.wallTime = wallTime
    }

    enum CodingKeys: String, CodingKey { case step, epoch, key, value, wallTime = "wall_time" }
}

/// Where a training loop sends its metrics. Knows nothing of storage: a results database, a JSON
/// file or a test collector all conform.
///
/// The loop calls `record` once per step with all of that step's values (so a database sink can
/// write them in one transaction) and `flush` before every checkpoint and at the end of training,
/// so what a checkpoint claims to have finished has also been handed over.
public protocol MetricSink: AnyObject {
    func record(_ records: [MetricRecord]) throws
    func flush() throws
}

extension MetricSink {
    public func flush() throws {}
}

/// Keeps every record in memory (tests, `--json`).
public final class MemoryMetricSink: MetricSink {
    public private(set) var records: [MetricRecord] = []
    public init() {}
    public func record(_ records: [MetricRecord]) { self.records += records }
    /// The distinct keys recorded, in order of first appearance.
    public var keys: [String] {
        var seen = Set<String>(), out: [String] = []
        for r in records where seen.insert(r.key).inserted { out.append(r.key) }
        return out
    }
}
