import Foundation
import ResultsStore

/// `backdrop experiments`: one row per experiment, oldest first — `id`, `name`, `created` (UTC),
/// `spec` (first 12 hex digits of the resolved spec's hash), `overrides` (the `--set`
/// assignments, `; `-separated), `cells` (`done/total`), `reused` (finished cells linked from
/// identical runs of other experiments), `failed`, `running`, `interrupted` (stopped with Ctrl-C,
/// resumed by the next reproduction).
public struct ExperimentsTable: Sendable, Equatable {
    public var experiments: [ExperimentOverview]

    public init(_ experiments: [ExperimentOverview]) { self.experiments = experiments }

    public var queryResult: QueryResult {
        QueryResult(
            columns: ["id", "name", "created", "spec", "overrides", "cells", "reused", "failed", "running", "interrupted"],
            rows: experiments.map { o in
                let e = o.experiment
                return [.integer(e.id), .text(e.name), .text(UTCTime.string(e.createdAt, seconds: true)), .text(String(e.specSHA256.prefix(12))),
                        .text(e.overrides.joined(separator: "; ")), .text("\(o.finished)/\(o.total)"), .integer(Int64(o.linked)),
                        .integer(Int64(o.failed)), .integer(Int64(o.running)), .integer(Int64(o.interrupted))]
            })
    }
}
