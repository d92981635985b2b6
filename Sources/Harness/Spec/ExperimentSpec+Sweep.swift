import Foundation
import ResultsStore

/// `sweep:` — matrix dimensions over any scalar spec key.
///
/// ```yaml
/// sweep:
///   dataset.builtin.confounding: [0.5, 0.7, 0.9, 1.0]
///   iclmsr.weight: [0.1, 1, 10]
/// ```
///
/// Each key is a dotted path in the spec's own language (the one `--set` uses); each combination
/// of values (the first axis varies slowest) is one *sweep point*: the spec with those values set,
/// decoded and checked as strictly as the spec itself. The matrix is the union of the points'
/// matrices; a cell's key starts with its point's label (`dataset.builtin.confounding=0.9/full/
/// simclr/none/seed0`) and the store records the label in `runs.sweep`. A swept value changes the
/// cell's configuration hash only where it changes the cell (a sweep over `iclmsr.weight` leaves
/// the `none` cells identical across points, so they are trained once and linked).
public struct SweepAxis: Codable, Sendable, Equatable {
    /// The dotted spec key (`dataset.builtin.confounding`).
    public var key: String
    /// Its values as written (YAML scalars), in order.
    public var values: [String]
}

/// One combination of swept values and the spec it makes.
public struct SweepPoint: Sendable, Equatable {
    /// (key, value) per axis, in axis order.
    public var values: [(key: String, value: String)]
    /// The spec with these values set (no `sweep` of its own).
    public var spec: ExperimentSpec

    /// `key=value,key=value`: the prefix of its cell keys and the `runs.sweep` column.
    public var label: String { values.map { "\($0.key)=\($0.value)" }.joined(separator: ",") }

    public static func == (a: SweepPoint, b: SweepPoint) -> Bool {
        a.label == b.label && a.spec == b.spec
    }
}

extension ExperimentSpec {
    /// Keys that cannot be swept: the experiment's identity, the list axes (state them as lists
    /// instead) and the sweep and claims themselves.
    static let unsweepableKeys: Set<String> = ["name", "description", "sweep", "claims", "methods", "regularizers", "trainViews",
                                               "seeds", "controls"]

    /// Reads the axes of `sweep:` from the spec's root, checked (empty without a sweep).
    /// - Parameters:
    ///   - root: the spec tree after overrides (with its `sweep` entry).
    ///   - reader: the root reader (its `sweep` key is marked as read here).
    static func decodeSweepAxes(root: SpecNode, reader r: SpecReader) throws -> [SweepAxis] {
        guard let node = r.node("sweep") else { return [] }
        guard case let .mapping(entries, _) = node else {
            throw r.error("sweep", "expected a mapping of spec keys to lists of values, e.g. sweep: {dataset.builtin.confounding: [0.5, 0.9]}")
        }
        if entries.isEmpty { throw r.error("sweep", "the mapping is empty") }
        var axes: [SweepAxis] = []
        for entry in entries {
            let key = entry.key
            let location = "sweep.\(key)"
            func fail(_ message: String) -> SpecError { SpecError(location: entry.origin, key: location, message: message) }
            let head = String(key.split(separator: ".").first ?? "")
            if unsweepableKeys.contains(key) || ["name", "description", "sweep", "claims"].contains(head) {
                throw fail("`\(key)` cannot be swept; sweep a single-valued key (list axes such as methods or seeds are already axes)")
            }
            if key.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty) {
                throw fail("empty component in the key path")
            }
            if let existing = root.node(at: key), !existing.isScalarOrNull {
                throw fail("`\(key)` holds a \(existing.kindName) in the spec; sweep a single value")
            }
            let values: [String]
            switch entry.value {
            case let .sequence(items, _):
                values = try items.enumerated().map { i, item in
                    guard case let .scalar(s, _, _) = item else { throw fail("value \(i) is a \(item.kindName); give single values") }
                    return s
                }
            case let .scalar(s, _, _): values = [s]
            case .mapping: throw fail("expected a list of values")
            }
            if values.isEmpty { throw fail("the list is empty") }
            if Set(values).count != values.count { throw fail("lists a value twice") }
            for v in values where v.isEmpty || v.contains(where: { ",=/\\".contains($0) || $0.isWhitespace }) {
                throw fail("value '\(v)' cannot name a cell: use values without spaces, ',', '=', '/' or '\\'")
            }
            axes.append(SweepAxis(key: key, values: values))
        }
        return axes
    }

    /// One spec per combination of the axes' values (the first axis varies slowest).
    /// - Parameters:
    ///   - decodePoint: decodes a tree without `sweep` into a checked spec.
    static func decodeSweepPoints(_ axes: [SweepAxis], root: SpecNode, reader r: SpecReader,
                                  decodePoint: (SpecNode) throws -> ExperimentSpec) throws -> [SweepPoint] {
        guard !axes.isEmpty else { return [] }
        let base = root.removingKey("sweep")
        var points: [SweepPoint] = []
        var combinations: [[(key: String, value: String)]] = [[]]
        for axis in axes {
            combinations = combinations.flatMap { prefix in axis.values.map { prefix + [(axis.key, $0)] } }
        }
        if combinations.count > TrainLimits.maxSweepPoints {
            throw r.error("sweep", "\(combinations.count) sweep points; at most \(TrainLimits.maxSweepPoints)")
        }
        for values in combinations {
            var tree = base
            for (key, value) in values {
                tree = try tree.overriding("\(key)=\(value)")
            }
            do {
                points.append(SweepPoint(values: values, spec: try decodePoint(tree)))
            } catch let e as SpecError {
                let label = values.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
                throw SpecError(location: e.location, key: e.key, message: "\(e.message) (at sweep point \(label))")
            }
        }
        return points
    }
}

extension SpecNode {
    /// The node at a dotted path (sequence components are indices), or nil.
    func node(at path: String) -> SpecNode? {
        var current = self
        for component in path.split(separator: ".").map(String.init) {
            switch current {
            case let .mapping(entries, _):
                guard let next = entries.first(where: { $0.key == component })?.value else { return nil }
                current = next
            case let .sequence(items, _):
                guard let i = Int(component), items.indices.contains(i) else { return nil }
                current = items[i]
            case .scalar: return nil
            }
        }
        return current
    }

    var isScalarOrNull: Bool {
        if case .scalar = self { return true }
        return false
    }

    /// This mapping without `key` (other nodes unchanged).
    func removingKey(_ key: String) -> SpecNode {
        guard case let .mapping(entries, origin) = self else { return self }
        return .mapping(entries.filter { $0.key != key }, origin: origin)
    }
}
