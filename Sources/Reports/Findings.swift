import Foundation
import ResultsStore

/// One judged (or described) comparison of the findings: a paired per-seed difference of top-1
/// accuracy between two groups of cells, under one fixed probe, per protocol.
public struct FindingRow: Sendable, Equatable {
    public var method: String
    /// What is compared, e.g. `trained on full − untrained`.
    public var comparison: String
    /// The test view (or gap) the accuracies are measured on.
    public var figure: String
    /// The view the probe (and kNN bank) was fitted on, the same for both groups.
    public var probe: String
    /// The claimed sign; nil for a row that only describes where an effect lies.
    public var direction: ClaimDirection?
    /// Protocol (`linear`, `knn`) → the paired difference.
    public var deltas: [String: PairedDelta]
    /// The sweep point both groups share (`key=value,…`); empty without a sweep.
    public var sweep: String = ""

    /// The verdict of protocol `p` (nil for a descriptive row).
    public func verdict(_ p: String) -> Verdict? { direction.map { Verdict(deltas[p], direction: $0) } }
}

/// The findings of one experiment (the latest of its name): claim (a) as encoder comparisons
/// under fixed probes, where the full-image encoder effect lies, and every regularizer against
/// the plain run. Built from `Report`s of the fixed `full` and `foreground` probe series. With a
/// sweep, every comparison is made at each sweep point (both groups at the same point).
public struct ExperimentFindings: Sendable {
    public let experiment: Experiment
    public let runs: [Run]
    /// Claim (a): encoder effects and train-view comparisons, judged.
    public let trainView: [FindingRow]
    /// Trained on full − untrained on the other test views (descriptive).
    public let effectLocation: [FindingRow]
    /// Each regularizer − none (ICL-MSR and its variants, interventional baselines), judged `> 0`.
    public let regularizers: [FindingRow]
    public let protocols: [String]
    /// The sweep points of the experiment, ordered by value; `[""]` without a sweep.
    public let sweeps: [String]
    /// The flattened resolved config (`params`) of each trained run in `trainedRuns` order.
    let trainedParams: [[String: String]]

    public init(store: ResultsDatabase, experiment name: String, confidenceLevel: Double = 0.95) throws {
        func report(_ view: String) throws -> Report {
            try Report(store: store, experiment: name,
                       options: ReportOptions(probe: .fixed(view), confidenceLevel: confidenceLevel))
        }
        let full = try report("full"), foreground = try report("foreground")
        experiment = full.experiment
        runs = full.runs
        trainedParams = try runs.filter(Self.isTrained).map { try store.params(runID: $0.id) }
        protocols = Report.ordered(Set(full.protocols + foreground.protocols), by: Report.protocolOrder)
        let methods = Report.ordered(Set(full.methods + foreground.methods), by: Report.methodOrder).filter { $0 != Report.untrained }
        sweeps = Set(full.sweeps + foreground.sweeps).sorted(by: Report.sweepPrecedes)
        let probes = ["full": full, "foreground": foreground]
        var trainView: [FindingRow] = [], location: [FindingRow] = [], regularizers: [FindingRow] = []
        let plain = full.options.baseline
        for method in methods {
            for sweep in sweeps {
                func group(_ method: String, _ trainView: String, _ regularizer: String) -> Report.CellGroup {
                    Report.CellGroup(method: method, trainView: trainView, regularizer: regularizer, sweep: sweep)
                }
                // Claim (a): each view's encoder effect on its own view, then the two views head to head.
                for view in ["full", "foreground"] {
                    let r = probes[view]!
                    trainView.append(Self.row(r, method: method, comparison: "trained on \(view) − untrained", figure: view, direction: .positive,
                                              baseline: group(Report.untrained, view, plain), treatment: group(method, view, plain)))
                }
                for (view, other) in [("full", "foreground"), ("foreground", "full")] {
                    trainView.append(Self.row(probes[view]!, method: method, comparison: "trained on \(view) − trained on \(other)", figure: view,
                                              direction: .positive, baseline: group(method, other, plain), treatment: group(method, view, plain)))
                }
                for figure in ["foreground", "only-background", "mixed-same", "mixed-random"] {
                    location.append(Self.row(full, method: method, comparison: "trained on full − untrained", figure: figure, direction: nil,
                                             baseline: group(Report.untrained, "full", plain), treatment: group(method, "full", plain)))
                }
                for regularizer in full.regularizers(method: method) where regularizer != plain {
                    for view in full.trainViews(method: method) {
                        let figures = view == "full" ? [("full", full), ("mixed-random", full)]
                                                     : [("foreground", foreground), ("full", full), ("mixed-random", full)]
                        for (figure, r) in figures {
                            regularizers.append(Self.row(r, method: method, comparison: "\(regularizer) − \(plain), trained on \(view)", figure: figure,
                                                         direction: .positive, baseline: group(method, view, plain), treatment: group(method, view, regularizer)))
                        }
                    }
                }
            }
        }
        self.trainView = trainView.filter { !$0.deltas.isEmpty }
        effectLocation = location.filter { !$0.deltas.isEmpty }
        self.regularizers = regularizers.filter { !$0.deltas.isEmpty }
    }

    /// The paired difference `treatment − baseline` of `figure` under `report`'s probe.
    static func row(_ report: Report, method: String, comparison: String, figure: String, direction: ClaimDirection?,
                    baseline: Report.CellGroup, treatment: Report.CellGroup) -> FindingRow {
        FindingRow(method: method, comparison: comparison, figure: figure, probe: report.options.probe.rawValue, direction: direction,
                   deltas: report.pairedDeltas(baseline: baseline, treatment: treatment, figure: figure), sweep: treatment.sweep)
    }

    /// Whether a run is a finished run that trained an encoder (not an untrained control).
    static func isTrained(_ run: Run) -> Bool { run.status == .finished && run.cell.method != Report.untrained }

    /// The finished runs that trained an encoder.
    var trainedRuns: [Run] { runs.filter(Self.isTrained) }

    /// The training budget read from the trained runs' resolved configs (their `params` rows):
    /// epochs, batch size, width, image size and built-in train images (a range where runs differ).
    var budget: String {
        var values: [String: Set<String>] = [:]
        for params in trainedParams {
            func add(_ key: String, _ value: String?) { if let value { values[key, default: []].insert(value) } }
            add("epochs", params["train.train.epochs"])
            add("batch", params["train.train.batchSize"])
            add("width", params["train.model.width"])
            add("px", params["train.imageSize"])
            if let classes = params["dataset.builtin.classes"].flatMap(Int.init), let perClass = params["dataset.builtin.perClass"].flatMap(Int.init) {
                add("images", String(classes * perClass))
            }
        }
        func show(_ key: String) -> String {
            let v = (values[key] ?? []).sorted { (Int($0) ?? 0, $0) < (Int($1) ?? 0, $1) }
            return v.isEmpty ? "?" : v.count == 1 ? v[0] : "\(v.first!)–\(v.last!)"
        }
        let images = values["images"].map { _ in ", \(show("images")) built-in train images" } ?? ""
        return "\(show("epochs")) epochs × batch \(show("batch")), width \(show("width")), \(show("px")) px\(images)"
    }
}
