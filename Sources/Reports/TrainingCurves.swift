import Foundation
import ResultsStore

/// The per-step metrics a report charts besides ``ReportOptions/lossKey`` (every run logs them
/// each optimizer step; `loss_base` only the ICL-MSR runs).
public enum StepMetricKey {
    /// The base contrastive loss without the regularizer term (ICL-MSR runs; their `loss` is
    /// the base loss plus the weighted regularizer).
    public static let baseLoss = "loss_base"
    /// The learning rate of the step.
    public static let learningRate = "lr"
    /// Mean cosine of the compared positive pairs.
    public static let positiveSimilarity = "pos_sim"
    /// Mean cosine between different images across the first pair.
    public static let negativeSimilarity = "neg_sim"

    /// The keys a report reads.
    public static let charted = [baseLoss, learningRate, positiveSimilarity, negativeSimilarity]
}

/// One cell group's value of a per-step metric in one step bucket, over its seeds (each seed's
/// value is its mean over the bucket's steps).
public struct StepBand: Sendable, Equatable {
    /// The mean step of the bucket's values.
    public var step: Double
    public var mean: Double
    public var min: Double
    public var max: Double
    /// Seeds with a value in the bucket.
    public var n: Int
}

/// One panel of a per-step chart: a line (mean with a min–max band) per cell group.
struct StepPanel {
    struct Line {
        var group: Report.CellGroup
        /// The metric the line draws (a panel may mix `loss_base` and `loss`).
        var key: String
        var bands: [StepBand]
    }

    var title: String
    var yLabel: String
    var lines: [Line]

    /// Nice ticks over every band's min and max.
    var yTicks: NiceTicks {
        let values = lines.flatMap { $0.bands.flatMap { [$0.min, $0.max] } }.filter(\.isFinite)
        return NiceTicks(covering: values.min() ?? 0, values.max() ?? 1)
    }

    /// Nice whole-number ticks over the steps.
    var xTicks: NiceTicks {
        let steps = lines.flatMap { $0.bands.map(\.step) }
        return NiceTicks(covering: steps.min() ?? 0, steps.max() ?? 1, minimumStep: 1)
    }
}

/// The panels of one method (and sweep point), drawn as a titled row of a step chart.
struct StepBlock {
    /// `simclr`, or `simclr, key=value` at a sweep point.
    var title: String
    var panels: [StepPanel]
}

extension Report {
    /// Run id → the values of a per-step metric (`options.lossKey` or a ``StepMetricKey``).
    func stepSeries(_ key: String) -> [Int64: [Metric]] {
        key == options.lossKey ? curves : stepMetrics[key] ?? [:]
    }

    /// The groups with a finished run that logged a finite `key`, in report order.
    func stepGroups(_ key: String) -> [CellGroup] {
        orderedGroups(ofRuns: Set(stepSeries(key).filter { $0.value.contains { $0.value.isFinite } }.keys))
    }

    /// `key` of `group` over its seeds: the step range is cut into at most
    /// `options.maxCurvePoints` equal buckets, each seed's values averaged per bucket, and the
    /// seeds' averages summarized (mean, min, max) per bucket. Non-finite values are skipped.
    public func stepBands(_ key: String, group: CellGroup) -> [StepBand] {
        let series = stepSeries(key)
        let perRun = runs.filter { $0.status == .finished && group.contains($0) }
            .map { (series[$0.id] ?? []).filter { $0.value.isFinite } }.filter { !$0.isEmpty }
        let steps = perRun.flatMap { $0.map(\.step) }
        guard let first = steps.min(), let last = steps.max() else { return [] }
        let buckets = max(1, options.maxCurvePoints), span = Double(last - first + 1)
        func bucket(_ step: Int) -> Int { min(buckets - 1, Int(Double(step - first) * Double(buckets) / span)) }
        var seedMeans: [Int: [Double]] = [:], stepSums: [Int: (sum: Double, count: Int)] = [:]
        for metrics in perRun {
            var sums: [Int: (sum: Double, count: Int)] = [:]
            for m in metrics {
                let b = bucket(m.step)
                sums[b, default: (0, 0)].sum += m.value
                sums[b, default: (0, 0)].count += 1
                stepSums[b, default: (0, 0)].sum += Double(m.step)
                stepSums[b, default: (0, 0)].count += 1
            }
            for (b, s) in sums { seedMeans[b, default: []].append(s.sum / Double(s.count)) }
        }
        return seedMeans.keys.sorted().map { b in
            let v = seedMeans[b]!, s = stepSums[b]!
            return StepBand(step: s.sum / Double(s.count), mean: v.reduce(0, +) / Double(v.count), min: v.min()!, max: v.max()!, n: v.count)
        }
    }

    /// The loss panels, one block per method (and sweep point): a panel per regularizer with the
    /// `loss` its runs trained on, then — when some group logged `loss_base` — one panel with the
    /// base contrastive loss of every regularizer on a shared axis (`loss_base`, or `loss` for
    /// groups without it, whose loss is the base loss).
    func lossBlocks() -> [StepBlock] {
        let lossKey = options.lossKey, groups = stepGroups(lossKey)
        let withBase = Set(lossKey == StepMetricKey.baseLoss ? [] : stepGroups(StepMetricKey.baseLoss))
        return groupsByBlock(groups).compactMap { block in
            var panels = Self.ordered(Set(block.groups.map(\.regularizer)), by: [options.baseline, "icl-msr"]).map { regularizer in
                StepPanel(title: regularizer, yLabel: lossKey,
                          lines: block.groups.filter { $0.regularizer == regularizer }.map { stepLine(lossKey, $0) })
            }
            if block.groups.contains(where: withBase.contains) {
                panels.append(StepPanel(title: "base loss, all regularizers", yLabel: "base loss",
                                        lines: block.groups.map { stepLine(withBase.contains($0) ? StepMetricKey.baseLoss : lossKey, $0) }))
            }
            return Self.block(block.title, panels)
        }
    }

    /// The learning-rate and similarity panels, one block per method (and sweep point): the
    /// learning rate, the positive-pair cosine and the negative-pair cosine, each omitted when no
    /// group logged it.
    func learningRateAndSimilarityBlocks() -> [StepBlock] {
        let charts = [(StepMetricKey.learningRate, "learning rate", "learning rate"),
                      (StepMetricKey.positiveSimilarity, "positive pairs", "mean cosine"),
                      (StepMetricKey.negativeSimilarity, "negative pairs", "mean cosine")]
        let groupsByKey = Dictionary(uniqueKeysWithValues: charts.map { ($0.0, Set(stepGroups($0.0))) })
        let all = orderedGroups(of: Set(groupsByKey.values.flatMap { $0 }))
        return groupsByBlock(all).compactMap { block in
            Self.block(block.title, charts.map { key, title, yLabel in
                StepPanel(title: title, yLabel: yLabel, lines: block.groups.filter { groupsByKey[key]!.contains($0) }.map { stepLine(key, $0) })
            })
        }
    }

    func stepLine(_ key: String, _ group: CellGroup) -> StepPanel.Line {
        StepPanel.Line(group: group, key: key, bands: stepBands(key, group: group))
    }

    /// A block of the panels that have a line with a value; nil when none has.
    static func block(_ title: String, _ panels: [StepPanel]) -> StepBlock? {
        let kept = panels.compactMap { panel -> StepPanel? in
            var p = panel
            p.lines = panel.lines.filter { !$0.bands.isEmpty }
            return p.lines.isEmpty ? nil : p
        }
        return kept.isEmpty ? nil : StepBlock(title: title, panels: kept)
    }

    /// `groups` split by method and sweep point, in their order, each titled `method` (`method,
    /// key=value`).
    func groupsByBlock(_ groups: [CellGroup]) -> [(title: String, groups: [CellGroup])] {
        var blocks: [(title: String, groups: [CellGroup])] = []
        for g in groups {
            let title = g.method + (g.sweep.isEmpty ? "" : ", \(Self.sweepTitle(g.sweep))")
            if let i = blocks.firstIndex(where: { $0.title == title }) { blocks[i].groups.append(g) } else { blocks.append((title, [g])) }
        }
        return blocks
    }
}
