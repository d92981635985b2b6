import Foundation
import Testing
@testable import Reports
import ResultsStore
import TestSupport

/// simclr × {full, foreground} × {none, icl-msr} and the untrained control, seeds 0–2, each
/// evaluated (linear) under both fixed probes on four test views, with accuracies chosen so that
/// each kind of verdict occurs.
enum FindingsFixture {
    static let views = ["full", "foreground", "only-background", "mixed-random"]

    /// Linear top-1 of one cell under one fixed probe.
    static func top1(method: String, trainView: String, regularizer: String, probe: String, view: String, seed: Int) -> Double {
        let s = Double(seed)
        if method == Report.untrained { return 0.30 + 0.01 * s }
        switch (trainView, regularizer, view) {
        case ("full", "none", "full"): return 0.60 + 0.02 * s            // encoder effect +31 ± 1: holds
        case ("full", "none", "only-background"): return 0.55 + 0.01 * s // +25, constant: > 0
        case ("full", "icl-msr", "full"): return 0.60 + [0.01, -0.02, 0.01][seed] + 0.02 * s  // Δ vs none 0 ± 1.7: inconclusive
        case ("foreground", "none", "foreground"): return 0.20 + 0.012 * s  // −10 ± 0.2 vs untrained: contradicted
        case ("foreground", _, "full"): return 0.25 + 0.01 * s           // trained fg on full
        default: return 0.35 + 0.01 * s
        }
    }

    static func fill(_ store: ResultsDatabase, name: String = "quick") throws {
        let experiment = try store.upsertExperiment(name: name, specSHA256: String(repeating: "cd", count: 32), specPath: "q.yaml")
        let groups = [("simclr", "none"), ("simclr", "icl-msr"), (Report.untrained, "none")]
        for trainView in ["full", "foreground"] {
            for (method, regularizer) in groups {
                for seed in 0..<3 {
                    let cell = RunCell(cellKey: "\(trainView)/\(method)/\(regularizer)/seed\(seed)", dataset: "builtin",
                                       trainView: trainView, method: method, regularizer: regularizer, seed: seed)
                    let config = #"{"dataset":{"builtin":{"classes":10,"perClass":100}},"train":{"imageSize":32,"model":{"width":16},"train":{"epochs":40,"batchSize":64}}}"#
                    let provenance = RunProvenance(configJSON: config, configSHA256: cell.cellKey, gitCommit: "0123456789abcdef", gitDirty: false)
                    let claim = try #require(try store.beginRun(experimentID: experiment.id, cell: cell, provenance: provenance).claim)
                    try store.recordParams(["dataset.builtin.classes": "10", "dataset.builtin.perClass": "100", "train.imageSize": "32",
                                            "train.model.width": "16", "train.train.epochs": "40", "train.train.batchSize": "64"], for: claim)
                    for probe in ["full", "foreground"] {
                        for view in views {
                            let acc = top1(method: method, trainView: trainView, regularizer: regularizer, probe: probe, view: view, seed: seed)
                            try store.recordEvaluation(EvaluationRecord(protocolName: "linear", probeView: probe, testView: view,
                                                                        top1: acc, top5: 1, n: 200), for: claim)
                        }
                    }
                    try store.finishRun(claim)
                }
            }
        }
    }
}

@Suite("Findings: claims judged from the database")
struct FindingsTests {
    @Test("verdicts follow the interval: holds, contradicted, inconclusive, and inconclusive without an interval")
    func verdictRule() throws {
        let holds = try #require(PairedDelta(baseline: [0: 0, 1: 0, 2: 0], treatment: [0: 0.1, 1: 0.11, 2: 0.12]))
        #expect(Verdict(holds, direction: .positive) == .holds)
        #expect(Verdict(holds, direction: .negative) == .contradicted)
        let unsure = try #require(PairedDelta(baseline: [0: 0, 1: 0, 2: 0], treatment: [0: 0.1, 1: -0.1, 2: 0.02]))
        #expect(Verdict(unsure, direction: .positive) == .inconclusive)
        let single = try #require(PairedDelta(baseline: [0: 0], treatment: [0: 0.5]))
        #expect(Verdict(single, direction: .positive) == .inconclusive)
        #expect(Verdict(nil, direction: .positive) == .inconclusive)
    }

    @Test("rows pair the named groups by seed under the named fixed probe")
    func rows() throws {
        let store = try ResultsDatabase.inMemory(clock: TestClock(1_750_000_000, tick: 1).closure)
        try FindingsFixture.fill(store)
        let f = try ExperimentFindings(store: store, experiment: "quick")
        func row(_ rows: [FindingRow], _ comparison: String, _ figure: String) throws -> FindingRow {
            try #require(rows.first { $0.comparison == comparison && $0.figure == figure }, "\(comparison) on \(figure)")
        }
        let fullEffect = try row(f.trainView, "trained on full − untrained", "full")
        #expect(fullEffect.probe == "full")
        #expect(approxEqual(fullEffect.deltas["linear"]!.summary.mean, 0.31, tolerance: 1e-12))
        #expect(fullEffect.verdict("linear") == .holds)

        let fgEffect = try row(f.trainView, "trained on foreground − untrained", "foreground")
        #expect(fgEffect.probe == "foreground")
        #expect(approxEqual(fgEffect.deltas["linear"]!.summary.mean, -0.098, tolerance: 1e-12))
        #expect(fgEffect.verdict("linear") == .contradicted)

        // Head to head on full under the full probe: trained full (0.60 + 0.02 s) − trained fg (0.25 + 0.01 s).
        let headToHead = try row(f.trainView, "trained on full − trained on foreground", "full")
        #expect(approxEqual(headToHead.deltas["linear"]!.deltas, [0.35, 0.36, 0.37], tolerance: 1e-12))

        let icl = try row(f.regularizers, "icl-msr − none, trained on full", "full")
        #expect(approxEqual(icl.deltas["linear"]!.deltas, [0.01, -0.02, 0.01], tolerance: 1e-12))
        #expect(icl.verdict("linear") == .inconclusive)

        let onlyBackground = try row(f.effectLocation, "trained on full − untrained", "only-background")
        #expect(onlyBackground.direction == nil && onlyBackground.verdict("linear") == nil)
        #expect(FindingsDocument.side(onlyBackground.deltas["linear"]) == "> 0")
        #expect(f.budget == "40 epochs × batch 64, width 16, 32 px, 1000 built-in train images")
    }

    @Test("the document is a pure function of the database: the same bytes twice, and it changes with the data")
    func deterministic() throws {
        let store = try ResultsDatabase.inMemory(clock: TestClock(1_750_000_000, tick: 1).closure)
        try FindingsFixture.fill(store)
        let a = try FindingsDocument(store: store, experiments: ["quick"], command: "backdrop findings --experiment quick").markdown
        let b = try FindingsDocument(store: store, experiments: ["quick"], command: "backdrop findings --experiment quick").markdown
        #expect(a == b)
        #expect(a.contains("`backdrop findings --experiment quick`"))
        #expect(a.contains("| simclr | trained on full − untrained | full | full | > 0 | +31.0 [+28.5, +33.5] (3) | **holds** |"))
        #expect(a.contains("| quick | claim (a) | Linear | "))

        try FindingsFixture.fill(store, name: "medium")
        let both = try FindingsDocument(store: store, experiments: ["quick", "medium"], command: "c").markdown
        #expect(both.contains("### medium") && both.contains("### quick"))
        #expect(throws: ResultsStoreError.self) { try FindingsDocument(store: store, experiments: ["absent"], command: "c") }
    }
}

private func approxEqual(_ a: Double, _ b: Double, tolerance: Double) -> Bool { abs(a - b) <= tolerance }
private func approxEqual(_ a: [Double], _ b: [Double], tolerance: Double) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance }
}
