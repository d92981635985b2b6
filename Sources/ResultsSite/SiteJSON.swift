import Foundation
import ResultsStore

/// The JSON documents of the site's endpoints. Times are ISO 8601 UTC strings; a value that is
/// not known is left out.
enum SiteJSON {
    /// One line of `/api/experiments`.
    struct ExperimentSummary: Encodable {
        var id: Int64
        var name: String
        var createdAt: String
        var specSHA256: String
        var overrides: [String]
        /// Cells of the matrix, and how many of them are finished (trained here or reused),
        /// reused from another experiment, failed and running.
        var cells: Int
        var finished: Int
        var reused: Int
        var failed: Int
        var running: Int

        init(_ o: ExperimentOverview) {
            id = o.experiment.id
            name = o.experiment.name
            createdAt = SiteJSON.time(o.experiment.createdAt)
            specSHA256 = o.experiment.specSHA256
            overrides = o.experiment.overrides
            cells = o.total
            finished = o.finished
            reused = o.linked
            failed = o.failed
            running = o.running
        }
    }

    /// One line of `/api/experiments/<id>/runs`.
    struct RunSummary: Encodable {
        var id: Int64
        var cellKey: String
        var method: String
        var trainView: String
        var regularizer: String
        var seed: Int
        var sweep: String
        var status: String
        var attempts: Int
        /// The experiment that trained the run, when this one reuses it.
        var reusedFrom: Int64?
        /// The epoch and step (both 0-based) of the run's last value of the followed metric,
        /// the epochs it trains for, and when that value was logged.
        var epoch: Int?
        var step: Int?
        var epochs: Int?
        var loggedAt: String?
        var startedAt: String?
        var finishedAt: String?
        var error: String?

        init(_ run: Run, progress: RunProgress?) {
            id = run.id
            cellKey = run.cellKey
            method = run.cell.method
            trainView = run.cell.trainView
            regularizer = run.cell.regularizer
            seed = run.cell.seed
            sweep = run.cell.sweep
            status = run.status.rawValue
            attempts = run.attempts
            reusedFrom = run.isLinked ? run.ownerExperimentID : nil
            epoch = progress?.epoch
            step = progress?.step
            epochs = progress?.epochs
            loggedAt = progress.map { SiteJSON.time(Date(timeIntervalSince1970: $0.wallTime)) }
            startedAt = run.startedAt.map(SiteJSON.time)
            finishedAt = run.finishedAt.map(SiteJSON.time)
            error = run.error
        }
    }

    /// `/api/runs/<id>/metrics`: `points` are `[step, epoch, value]` by step (a value that is not
    /// a finite number is `null`); `more` says that values after the last point were left for the
    /// next request (ask again with `after` = the last step).
    struct MetricPage: Encodable {
        var run: Int64
        var key: String
        var points: [Point]
        var more: Bool

        struct Point: Encodable {
            var step: Int
            var epoch: Int
            var value: Double

            func encode(to encoder: Encoder) throws {
                var c = encoder.unkeyedContainer()
                try c.encode(step)
                try c.encode(epoch)
                if value.isFinite { try c.encode(value) } else { try c.encodeNil() }
            }
        }
    }

    /// `2026-12-03T09:20:00Z`.
    static func time(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    /// Compact JSON with sorted keys.
    static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }
}
