import Foundation

/// A stated claim of an experiment (`claims:` of its spec): the `metric` of the `treatment` cells
/// is `direction` than that of the `baseline` cells.
///
/// (Not to be confused with a ``RunClaim``, a runner's hold on one cell.) A spec decodes claims
/// with every selector field resolved (defaults filled in from the spec),
/// so judging needs only the experiment's rows; claims never enter a cell's configuration.
public struct Claim: Codable, Sendable, Equatable {
    /// Unique within the spec; names the claim in tables and the `claims` table.
    public var name: String
    public var metric: ClaimMetric
    public var direction: ClaimComparison
    /// The group of cells the claim is about.
    public var treatment: CellSelector
    /// The group it is compared with.
    public var baseline: CellSelector

    public init(name: String, metric: ClaimMetric, direction: ClaimComparison, treatment: CellSelector, baseline: CellSelector) {
        self.name = name
        self.metric = metric
        self.direction = direction
        self.treatment = treatment
        self.baseline = baseline
    }

    /// The test view (or gap) a selector's values are read on: its own, else the metric's.
    public func testView(of selector: CellSelector) -> String { selector.testView ?? metric.testView }

    /// A group as verdict tables name it, always with the test view it is read on:
    /// `simclr/full/none on foreground`, `simclr/full/none @ dataset.builtin.confounding=1.0 on fg-gap`.
    public func groupLabel(_ selector: CellSelector) -> String {
        var cells = selector
        cells.testView = nil
        return "\(cells.label) on \(testView(of: selector))"
    }

    /// One line naming the metric of both groups, e.g. `linear top1 on full, probe full` or, when
    /// the groups are read on different test views, `linear top1 on full vs foreground, probe full`.
    public var metricDescription: String {
        let t = testView(of: treatment), b = testView(of: baseline)
        let views = t == b ? t : "\(t) vs \(b)"
        return "\(metric.protocolName) \(metric.stat) on \(views), probe \(metric.probe)"
    }
}

/// What a claim measures per cell: one accuracy of one protocol under one probe series.
public struct ClaimMetric: Codable, Sendable, Equatable {
    /// `linear` or `knn`.
    public var protocolName: String
    /// The probe series (`ProbeSeries.rawValue`): `train-view`, `same-as-test` or a probe view.
    public var probe: String
    /// A test view (`full`, `mixed-random`, a named test set) or a gap (`fg-gap`, `bg-gap`).
    public var testView: String
    /// `top1` or `top5`.
    public var stat: String

    public init(protocolName: String, probe: String, testView: String, stat: String = "top1") {
        self.protocolName = protocolName
        self.probe = probe
        self.testView = testView
        self.stat = stat
    }
}

/// The side a claim states for `treatment − baseline`.
public enum ClaimComparison: String, Codable, Sendable, CaseIterable {
    /// The treatment's metric is greater than the baseline's.
    case greater
    /// The treatment's metric is less than the baseline's.
    case less
}

/// A group of cells of one experiment: every coordinate but the seed fixed (the seeds are the
/// group's samples).
public struct CellSelector: Codable, Sendable, Equatable {
    /// The `runs.method` label: a method (`simclr`) or a control (`untrained`).
    public var method: String
    public var regularizer: String
    public var trainView: String
    /// The test view this group is read on when it differs from the metric's (a comparison of
    /// two test views of the same cells); nil: the metric's.
    public var testView: String?
    /// Swept key → value, one entry per sweep axis of the experiment (empty without a sweep).
    public var sweep: [String: String]

    public init(method: String, regularizer: String, trainView: String, testView: String? = nil, sweep: [String: String] = [:]) {
        self.method = method
        self.regularizer = regularizer
        self.trainView = trainView
        self.testView = testView
        self.sweep = sweep
    }

    /// Whether `cell` belongs to the group.
    public func matches(_ cell: RunCell) -> Bool {
        guard cell.method == method, cell.regularizer == regularizer, cell.trainView == trainView else { return false }
        let values = Dictionary(cell.sweepValues.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        return sweep.allSatisfy { values[$0.key] == $0.value }
    }

    /// `simclr/full/icl-msr`, then ` @ key=value,…` (the sweep point) and ` on view` (its own test
    /// view) when given: `simclr/full/none @ dataset.builtin.confounding=1.0`.
    public var label: String {
        var text = [method, trainView, regularizer].joined(separator: "/")
        if !sweep.isEmpty { text += " @ " + sweep.keys.sorted().map { "\($0)=\(sweep[$0]!)" }.joined(separator: ",") }
        if let testView { text += " on \(testView)" }
        return text
    }
}
