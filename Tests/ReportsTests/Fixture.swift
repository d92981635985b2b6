import Foundation
import Testing
@testable import Reports
import ResultsStore

enum Fixture {
    static let testViews = ["full", "foreground", "only-background", "mixed-same", "mixed-random"]
    /// Linear top-1 of the `none` runs, seed 0, by train view and test view.
    static let base: [String: [String: Double]] = [
        "full": ["full": 0.80, "foreground": 0.60, "only-background": 0.40, "mixed-same": 0.70, "mixed-random": 0.50],
        "foreground": ["full": 0.55, "foreground": 0.75, "only-background": 0.20, "mixed-same": 0.62, "mixed-random": 0.58],
    ]
    static let seedOffset = [0.0, 0.01, -0.004]
    static let iclNoise = [0.002, -0.004, 0.006]

    /// Linear top-1 of one cell: ICL-MSR adds 3 pp on the background-free views, 1 pp elsewhere,
    /// plus a per-seed term so that the paired deltas vary.
    static func top1(trainView: String, testView: String, regularizer: String, seed: Int) -> Double {
        var acc = base[trainView]![testView]! + seedOffset[seed]
        if regularizer == "icl-msr" {
            acc += (testView == "foreground" || testView == "mixed-random" ? 0.03 : 0.01) + iclNoise[seed]
        }
        return acc
    }

    /// Fills `store`: simclr × {full, foreground} × {none, icl-msr} × seeds 0–2, finished, with
    /// linear and kNN on every test view of 10 classes and 30 steps of ``stepMetrics(step:trainView:regularizer:seed:)``; plus one failed run and one
    /// running run with an evaluation (neither appears in the tables).
    /// - Parameter diagnostics: also log the stratum–background check (`diag_*`) after epochs 1
    ///   and 2 (0-based): the NMIs only for `icl-msr` runs.
    static func fill(_ store: ResultsDatabase, diagnostics: Bool = false) throws {
        let experiment = try store.upsertExperiment(name: "table1-quick", specSHA256: String(repeating: "ab", count: 32),
                                                    specPath: "Experiments/table1-quick.yaml", specText: "name: table1-quick\n")
        for trainView in ["full", "foreground"] {
            for regularizer in ["none", "icl-msr"] {
                for seed in 0..<3 {
                    let cell = RunCell(cellKey: "\(trainView)/simclr/\(regularizer)/seed\(seed)", dataset: "builtin",
                                       trainView: trainView, method: "simclr", regularizer: regularizer, seed: seed)
                    let config = #"{"cell":"\#(cell.cellKey)"}"#
                    let provenance = RunProvenance(configJSON: config, configSHA256: ContentHash.sha256Hex(Data(config.utf8)),
                                                   gitCommit: "0123456789abcdef", gitDirty: false, datasetSHA256: "d0",
                                                   versions: ["backdrop": "test"])
                    let claim = try #require(try store.beginRun(experimentID: experiment.id, cell: cell, provenance: provenance).claim)
                    try store.recordParams(["train.epochs": "3", "method": "simclr"], for: claim)
                    let metrics = store.metricWriter(for: claim, batchSize: 16)
                    for step in 0..<30 {
                        for (key, value) in stepMetrics(step: step, trainView: trainView, regularizer: regularizer, seed: seed) {
                            try metrics.add(key: key, step: step, epoch: step / 10, value: value, wallTime: 1_750_000_000 + Double(step))
                        }
                    }
                    if diagnostics { try addDiagnostics(metrics, regularizer: regularizer, seed: seed) }
                    try metrics.finish()
                    for view in testViews {
                        let acc = top1(trainView: trainView, testView: view, regularizer: regularizer, seed: seed)
                        try store.recordEvaluation(EvaluationRecord(protocolName: "linear", probeView: trainView, testView: view,
                                                              top1: acc, top5: min(1, acc + 0.15), n: 500, classCount: 10,
                                                              protocolParams: #"{"optimizer":"lbfgs","weight_decay":0.0005}"#), for: claim)
                        try store.recordEvaluation(EvaluationRecord(protocolName: "knn", probeView: trainView, testView: view,
                                                              top1: acc - 0.05, top5: min(1, acc + 0.1), n: 500, classCount: 10, k: 20, temperature: 0.07), for: claim)
                    }
                    try store.recordCheckpoint(epoch: 3, path: "Results/checkpoints/\(seed).ckpt", sha256: "c\(seed)", for: claim)
                    try store.finishRun(claim)
                }
            }
        }
        let failed = RunCell(cellKey: "full/simclr/none/seed3", dataset: "builtin", trainView: "full", method: "simclr",
                             regularizer: "none", seed: 3)
        let provenance = RunProvenance(configJSON: "{}", configSHA256: "e3", badSamples: 2)
        let f = try #require(try store.beginRun(experimentID: experiment.id, cell: failed, provenance: provenance).claim)
        try store.failRun(f, error: "corrupt PNG train/images/disk/7.png: truncated")
        let running = RunCell(cellKey: "full/simclr/icl-msr/seed3", dataset: "builtin", trainView: "full", method: "simclr",
                              regularizer: "icl-msr", seed: 3)
        let r = try #require(try store.beginRun(experimentID: experiment.id, cell: running, provenance: provenance).claim)
        try store.recordEvaluation(EvaluationRecord(protocolName: "linear", probeView: "full", testView: "full", top1: 0.01, top5: 0.01, n: 500), for: r)
    }
}

extension Fixture {
    /// One step's per-step metrics. The base contrastive loss is `4 + 2·e^(−step/10) + 0.1·seed`
    /// (+ 0.05 for icl-msr, + 0.3 for train view foreground); an icl-msr run's `loss` adds a regularizer term of about 4 (so it
    /// ends near 8 while a plain run's ends near 4) and it logs `loss_base`. The learning rate
    /// warms up over 5 steps to 0.3, then decays on a cosine; the pair similarities move apart.
    static func stepMetrics(step: Int, trainView: String, regularizer: String, seed: Int) -> [(key: String, value: Double)] {
        let s = Double(step), icl = regularizer == "icl-msr"
        let base = 4 + 2 * exp(-s / 10) + 0.1 * Double(seed) + (icl ? 0.05 : 0) + (trainView == "foreground" ? 0.3 : 0)
        var values: [(key: String, value: Double)] = [("loss", icl ? base + 3.9 + 0.3 * exp(-s / 10) : base)]
        if icl { values.append(("loss_base", base)) }
        values.append(("lr", 0.3 * min(1, (s + 1) / 5) * 0.5 * (1 + cos(Double.pi * s / 30))))
        values.append(("pos_sim", 0.5 + 0.4 * (1 - exp(-s / 8)) + 0.01 * Double(seed) - (icl ? 0.03 : 0)))
        values.append(("neg_sim", 0.3 * exp(-s / 10) + 0.02 + 0.005 * Double(seed)))
        return values
    }

    /// Background reliance falls with training (less for icl-msr), full accuracy rises; the
    /// background NMI of icl-msr rises faster than its class NMI; ± 0.01 per seed.
    static func addDiagnostics(_ metrics: MetricWriter, regularizer: String, seed: Int) throws {
        let icl = regularizer == "icl-msr"
        for epoch in [1, 2] {
            let e = Double(epoch), noise = 0.01 * Double(seed - 1)
            var values = ["diag_background_reliance": 0.45 - (icl ? 0.08 : 0.05) * e + noise, "diag_full_accuracy": 0.6 + 0.05 * e + noise,
                          "diag_seconds": 2.5]
            if icl {
                values["diag_stratum_background_nmi"] = 0.1 + 0.2 * e + noise
                values["diag_stratum_class_nmi"] = 0.05 + 0.05 * e + noise
            }
            for key in values.keys.sorted() {
                try metrics.add(key: key, step: epoch * 10 + 9, epoch: epoch, value: values[key]!, wallTime: 1_750_000_100 + e)
            }
        }
    }
}
