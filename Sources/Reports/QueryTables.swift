import Foundation
import ResultsStore

// The tables behind `backdrop runs`, `matrix` and `compare`: typed aggregations of the store's
// read queries, each turned into a `QueryResult` for `QueryResult.rendered(as:)`. Statistics are
// `Summary` and `PairedDelta`; numbers print as in the reports (percent, one decimal).

/// The coordinate `backdrop compare --by` compares along.
public enum ComparisonAxis: String, CaseIterable, Sendable {
    case regularizer
    case trainView = "train_view"
    case method

    /// The two other coordinates, in the order regularizer, train view, method.
    public var others: [ComparisonAxis] { Self.allCases.filter { $0 != self } }

    /// The value of this coordinate in a cell.
    public func value(of cell: RunCell) -> String {
        switch self {
        case .regularizer: return cell.regularizer
        case .trainView: return cell.trainView
        case .method: return cell.method
        }
    }
}

/// `backdrop runs`: one row per run with status, attempts, elapsed seconds and provenance.
public struct RunsTable: Sendable, Equatable {
    public var runs: [RunListing]

    /// The listing as read by ``ResultsStore/ResultsDatabase/runListing(experimentID:)``.
    public init(_ runs: [RunListing]) { self.runs = runs }

    /// Elapsed seconds rounded to an integer; a value no integer holds (a hand-edited timestamp
    /// far out of range, NaN) is shown as stored instead of trapping.
    static func seconds(_ value: Double) -> QueryValue {
        Int64(exactly: value.rounded()).map(QueryValue.integer) ?? .real(value)
    }

    /// Columns `id, cell_key, status, attempts, seconds` (rounded), `bad_samples`, `config` and
    /// `dataset` (first 12 hex digits of the config and dataset hashes; a cell finished on an
    /// edited dataset is rerun, so this says which data its results came from), `git` (first 10
    /// characters), `dirty` (0/1), `error` (empty when none), `reused_from` (the experiment whose
    /// identical run this cell links instead of retraining; NULL for the experiment's own runs).
    public var queryResult: QueryResult {
        QueryResult(
            columns: ["id", "cell_key", "status", "attempts", "seconds", "bad_samples", "config", "dataset", "git", "dirty", "error",
                      "reused_from"],
            rows: runs.map { r in
                [.integer(r.id), .text(r.cellKey), .text(r.status.rawValue), .integer(Int64(r.attempts)),
                 r.elapsedSeconds.map(Self.seconds) ?? .null, .integer(Int64(r.badSamples)),
                 .text(String(r.configSHA256.prefix(12))),
                 r.datasetSHA256.map { .text(String($0.prefix(12))) } ?? .null, r.gitCommit.map { .text(String($0.prefix(10))) } ?? .null,
                 r.gitDirty.map { .integer($0 ? 1 : 0) } ?? .null, .text(r.error ?? ""), r.linkedFrom.map(QueryValue.integer) ?? .null]
            })
    }
}

/// `backdrop matrix`: top-1 over seeds per method × train view × regularizer × protocol (rows)
/// and test view (columns).
public struct MatrixTable: Sendable, Equatable {
    /// One row of the matrix.
    public struct Row: Sendable, Equatable {
        public var method: String
        public var trainView: String
        public var regularizer: String
        public var protocolName: String
        /// Top-1 over seeds per test view, in ``MatrixTable/testViews`` order; nil where no seed
        /// has an evaluation.
        public var top1: [Summary?]
        /// The sweep point (`key=value,…`); empty without a sweep.
        public var sweep: String = ""
    }

    /// The test views present, in ``Report/testViewOrder`` (others alphabetically after).
    public var testViews: [String]
    /// Ordered as the report orders them: method (``Report/methodOrder``: the untrained control,
    /// SimCLR, MoCo v2, …), train view (`full`, `foreground`, …), regularizer (`none` first, then
    /// alphabetically), sweep point (by value), protocol (`linear`, `knn`).
    public var rows: [Row]
    /// The swept keys, in axis order (empty without a sweep).
    public var sweepKeys: [String]

    /// Aggregates one probe series of an experiment (``ResultsStore/ResultsDatabase/matrixRows(experimentID:probe:split:)``).
    /// Values are summarized in seed order.
    public init(_ series: [MatrixRow]) {
        testViews = Report.ordered(Set(series.map(\.testView)), by: Report.testViewOrder)
        sweepKeys = Report.sweepKeys(of: Set(series.map(\.cell.sweep)).sorted(by: Report.sweepPrecedes))
        struct Key: Hashable { var method, trainView, regularizer, protocolName, sweep: String }
        var groups: [Key: [String: [(seed: Int, top1: Double)]]] = [:]
        for r in series {
            let key = Key(method: r.cell.method, trainView: r.cell.trainView, regularizer: r.cell.regularizer, protocolName: r.protocolName,
                          sweep: r.cell.sweep)
            groups[key, default: [:]][r.testView, default: []].append((r.cell.seed, r.top1))
        }
        // The report's order: methods, train views and protocols in their canonical order
        // (others alphabetically after), the plain regularizer first, then the sweep point.
        func rank(_ value: String, _ order: [String]) -> Int { order.firstIndex(of: value) ?? order.count }
        let keys = groups.keys.sorted { a, b in
            let (x, y) = ((rank(a.method, Report.methodOrder), a.method, rank(a.trainView, Report.trainViewOrder), a.trainView,
                           a.regularizer == "none" ? 0 : 1, a.regularizer),
                          (rank(b.method, Report.methodOrder), b.method, rank(b.trainView, Report.trainViewOrder), b.trainView,
                           b.regularizer == "none" ? 0 : 1, b.regularizer))
            if x != y { return x < y }
            if a.sweep != b.sweep { return Report.sweepPrecedes(a.sweep, b.sweep) }
            return (rank(a.protocolName, Report.protocolOrder), a.protocolName) < (rank(b.protocolName, Report.protocolOrder), b.protocolName)
        }
        let views = testViews
        rows = keys.map { key in
            Row(method: key.method, trainView: key.trainView, regularizer: key.regularizer, protocolName: key.protocolName,
                top1: views.map { view in Summary((groups[key]?[view] ?? []).sorted { $0.seed < $1.seed }.map(\.top1)) }, sweep: key.sweep)
        }
    }

    /// Columns `method, train_view, regularizer`, one per swept key (its value; only with a
    /// sweep), `protocol` and one per test view holding `mean ± std (n)` in percent (NULL where
    /// absent).
    public var queryResult: QueryResult {
        QueryResult(columns: ["method", "train_view", "regularizer"] + sweepKeys + ["protocol"] + testViews, rows: rows.map { row in
            ([row.method, row.trainView, row.regularizer] + Report.sweepFields(row.sweep, keys: sweepKeys) + [row.protocolName]).map(QueryValue.text)
                + row.top1.map { s in s.map { .text(Format.summary($0)) } ?? .null }
        })
    }

    /// The tidy (long) form for `--format csv|json`: one row per matrix row and test view with
    /// numbers in their own columns — `method, train_view, regularizer`, the swept keys,
    /// `protocol, test_view, mean, std, n, ci_low, ci_high` — accuracies in percent, `std` the
    /// sample standard deviation over seeds and `ci_low`/`ci_high` the 95% t-interval of the mean
    /// (NULL for one seed). Test views without a value are left out.
    public var tidyResult: QueryResult {
        let columns = ["method", "train_view", "regularizer"] + sweepKeys + ["protocol", "test_view", "mean", "std", "n", "ci_low", "ci_high"]
        func percent(_ x: Double?) -> QueryValue { x.map { .real(($0 * 1_000).rounded() / 10) } ?? .null }
        return QueryResult(columns: columns, rows: rows.flatMap { row in
            zip(testViews, row.top1).compactMap { view, summary -> [QueryValue]? in
                guard let summary else { return nil }
                let interval = summary.tInterval(level: 0.95)
                return ([row.method, row.trainView, row.regularizer] + Report.sweepFields(row.sweep, keys: sweepKeys)
                        + [row.protocolName, view]).map(QueryValue.text)
                    + [percent(summary.mean), percent(summary.std), .integer(Int64(summary.n)),
                       percent(interval?.lowerBound), percent(interval?.upperBound)]
            }
        })
    }
}

/// `backdrop compare --by <axis>`: per group of the other two coordinates, protocol and test view,
/// top-1 over seeds of every value of the axis and the paired per-seed delta of each value against
/// the first (the baseline) with its Student-t 95% interval.
public struct Comparison: Sendable, Equatable {
    /// One group: the other coordinates, protocol and test view.
    public struct Row: Sendable, Equatable {
        /// The values of ``ComparisonAxis/others``, in that order.
        public var coordinates: [String]
        public var protocolName: String
        public var testView: String
        /// Top-1 over seeds per value, in ``Comparison/values`` order; nil where absent.
        public var top1: [Summary?]
        /// `value − baseline` paired by seed for every value after the baseline; nil without a
        /// seed in both.
        public var deltas: [PairedDelta?]
        /// The sweep point both sides share (`key=value,…`); empty without a sweep.
        public var sweep: String = ""
    }

    public var axis: ComparisonAxis
    /// The values compared, sorted; along `regularizer`, `none` comes first. The first is the
    /// baseline of the deltas.
    public var values: [String]
    /// Ordered by the other coordinates (alphabetically), sweep point (by value), protocol
    /// (alphabetically), then test view (``Report/testViewOrder``). Values are only compared at
    /// the same sweep point.
    public var rows: [Row]
    /// The swept keys, in axis order (empty without a sweep).
    public var sweepKeys: [String]

    /// Aggregates one probe series of an experiment along `axis`.
    public init(_ series: [MatrixRow], by axis: ComparisonAxis) {
        self.axis = axis
        var values = Set(series.map { axis.value(of: $0.cell) }).sorted()
        if axis == .regularizer, let i = values.firstIndex(of: "none") { values.insert(values.remove(at: i), at: 0) }
        self.values = values
        sweepKeys = Report.sweepKeys(of: Set(series.map(\.cell.sweep)).sorted(by: Report.sweepPrecedes))
        struct Key: Hashable { var coordinates: [String]; var protocolName, testView, sweep: String }
        var table: [Key: [String: [Int: Double]]] = [:]
        for r in series {
            let key = Key(coordinates: axis.others.map { $0.value(of: r.cell) }, protocolName: r.protocolName, testView: r.testView,
                          sweep: r.cell.sweep)
            table[key, default: [:]][axis.value(of: r.cell), default: [:]][r.cell.seed] = r.top1
        }
        func rank(_ view: String) -> Int { Report.testViewOrder.firstIndex(of: view) ?? Report.testViewOrder.count }
        let keys = table.keys.sorted { a, b in
            if a.coordinates != b.coordinates { return a.coordinates.lexicographicallyPrecedes(b.coordinates) }
            if a.sweep != b.sweep { return Report.sweepPrecedes(a.sweep, b.sweep) }
            if a.protocolName != b.protocolName { return a.protocolName < b.protocolName }
            return (rank(a.testView), a.testView) < (rank(b.testView), b.testView)
        }
        rows = keys.map { key in
            let byValue = table[key] ?? [:]
            func bySeed(_ v: String) -> [Int: Double] { byValue[v] ?? [:] }
            return Row(coordinates: key.coordinates, protocolName: key.protocolName, testView: key.testView,
                       top1: values.map { v in Summary(bySeed(v).sorted { $0.key < $1.key }.map(\.value)) },
                       deltas: values.dropFirst().map { v in PairedDelta(baseline: bySeed(values[0]), treatment: bySeed(v)) }, sweep: key.sweep)
        }
    }

    /// Columns: the other coordinates, one per swept key (only with a sweep), `protocol`,
    /// `test_view`, `<value> top1` per value
    /// (`mean ± std (n)`), and `Δ <value> − <baseline> [95% CI] (n)` per later value
    /// (`+2.1 [-0.4, +4.6] (3)`, or `+2.1 (1)` for one pair); NULL where absent.
    public var queryResult: QueryResult {
        var columns = axis.others.map(\.rawValue) + sweepKeys + ["protocol", "test_view"]
        guard let base = values.first else { return QueryResult(columns: columns, rows: []) }
        columns += values.map { "\($0) top1" } + values.dropFirst().map { "Δ \($0) − \(base) [95% CI] (n)" }
        return QueryResult(columns: columns, rows: rows.map { row in
            (row.coordinates + Report.sweepFields(row.sweep, keys: sweepKeys) + [row.protocolName, row.testView]).map(QueryValue.text)
                + row.top1.map { s in s.map { .text(Format.summary($0)) } ?? .null }
                + row.deltas.map { d in d.map { .text(Format.deltaWithCount($0)) } ?? .null }
        })
    }
}
