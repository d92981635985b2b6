import Foundation
import ResultsStore

// Sweep points in a report. A cell of a spec with a `sweep:` carries its point's label
// (`dataset.builtin.confounding=0.9,iclmsr.weight=10`, ``ResultsStore/RunCell/sweep``); cells at
// different points are different rows of every table and are never compared with each other. A
// report without a sweep has the single point `""` and renders as it did before sweeps existed.

extension Report {
    /// The distinct sweep labels of `rows`, ordered by their values in axis order (numbers
    /// numerically, other values alphabetically); `[""]` without a sweep, `[]` without rows.
    static func orderedSweeps(_ rows: [MatrixRow]) -> [String] {
        Set(rows.map(\.cell.sweep)).sorted(by: sweepPrecedes)
    }

    /// Orders two sweep labels pair by pair: the key, then the value (numerically when both are
    /// numbers), then the label itself.
    static func sweepPrecedes(_ a: String, _ b: String) -> Bool {
        let (pa, pb) = (RunCell.parseSweep(a), RunCell.parseSweep(b))
        for (x, y) in zip(pa, pb) {
            if x.key != y.key { return x.key < y.key }
            if x.value == y.value { continue }
            if let u = Double(x.value), let v = Double(y.value), u != v { return u < v }
            return x.value < y.value
        }
        return pa.count != pb.count ? pa.count < pb.count : a < b
    }

    /// Whether any row belongs to a sweep point (then every table gets the swept keys' columns).
    public var hasSweep: Bool { sweeps.contains { !$0.isEmpty } }

    /// The swept keys, in the spec's axis order (empty without a sweep).
    public var sweepKeys: [String] { Self.sweepKeys(of: sweeps) }

    /// The keys of `labels` in order of first appearance.
    static func sweepKeys(of labels: [String]) -> [String] {
        var keys: [String] = []
        for label in labels { for pair in RunCell.parseSweep(label) where !keys.contains(pair.key) { keys.append(pair.key) } }
        return keys
    }

    /// The value of each of `keys` at `sweep` (`-` where the point lacks one).
    static func sweepFields(_ sweep: String, keys: [String]) -> [String] {
        let pairs = RunCell.parseSweep(sweep)
        return keys.map { key in pairs.first { $0.key == key }?.value ?? "-" }
    }

    /// The values of `key` over the sweep points, ordered as the points are (numbers numerically).
    public func sweepValues(of key: String) -> [String] {
        var values: [String] = []
        for sweep in sweeps {
            for pair in RunCell.parseSweep(sweep) where pair.key == key && !values.contains(pair.value) { values.append(pair.value) }
        }
        return values.allSatisfy { Double($0) != nil } ? values.sorted { Double($0)! < Double($1)! } : values.sorted()
    }

    /// The value of each swept key at `sweep` (`-` where the point lacks the key), as the label
    /// columns of a table row; empty without a sweep.
    func sweepCells(_ sweep: String) -> [TableCell] { Self.sweepFields(sweep, keys: sweepKeys).map(TableCell.text) }

    /// The same as plain strings (CSV fields).
    func sweepFields(_ sweep: String) -> [String] { sweepCells(sweep).map(\.plain) }

    /// A sweep label for reading (`iclmsr.weight=10, dataset.builtin.confounding=0.9`).
    static func sweepTitle(_ sweep: String) -> String {
        RunCell.parseSweep(sweep).map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
    }
}
