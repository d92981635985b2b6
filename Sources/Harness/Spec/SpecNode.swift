import Foundation
import Yams

/// A problem with an experiment spec, naming where it is (`file:line` or the `--set` override),
/// the key and what to do about it.
public struct SpecError: Error, CustomStringConvertible, Equatable, LocalizedError {
    /// `table1-quick.yaml:12`, `--set train.epochs=abc`, or the file name when no line is known.
    public var location: String
    /// Dotted key path (`train.epochs`, `regularizers[1].strata`); empty for the whole document.
    public var key: String
    public var message: String

    public init(location: String, key: String, message: String) {
        self.location = location
        self.key = key
        self.message = message
    }

    public var description: String { "\(location): \(key.isEmpty ? "" : "\(key): ")\(message)" }
    public var errorDescription: String? { description }
}

/// A YAML document reduced to what a spec needs: scalars, ordered mappings and sequences, each
/// remembering where it came from so that errors can name the line.
indirect enum SpecNode: Equatable {
    case scalar(String, origin: String, quoted: Bool)
    case mapping([(key: String, origin: String, value: SpecNode)], origin: String)
    case sequence([SpecNode], origin: String)

    var origin: String {
        switch self {
        case .scalar(_, let origin, _), .mapping(_, let origin), .sequence(_, let origin): return origin
        }
    }

    static func == (a: SpecNode, b: SpecNode) -> Bool {
        switch (a, b) {
        case let (.scalar(x, _, qx), .scalar(y, _, qy)): return x == y && qx == qy
        case let (.sequence(x, _), .sequence(y, _)): return x == y
        case let (.mapping(x, _), .mapping(y, _)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    /// A YAML `null` (`~`, `null`, empty) that was not quoted.
    var isNull: Bool {
        if case let .scalar(s, _, quoted) = self { return !quoted && ["", "~", "null", "Null", "NULL"].contains(s) }
        return false
    }

    /// Parses YAML text.
    /// - Parameters:
    ///   - text: the document.
    ///   - source: the file name used in locations (`spec.yaml` → `spec.yaml:12`), or a fixed
    ///     location for every node (`--set a.b=c`) when `fixedLocation` is true.
    /// - Throws: `SpecError` for invalid YAML, for text nested deeper than
    ///   `YAMLLimits.maxDepth` (checked on the raw text, before the YAML parser recurses) and for
    ///   a document of more than `YAMLLimits.maxValues` values once its aliases are expanded.
    static func parse(_ text: String, source: String, fixedLocation: Bool = false) throws -> SpecNode {
        try YAMLLimits.checkDepth(of: text, source: source, fixedLocation: fixedLocation)
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch {
            throw SpecError(location: source, key: "", message: "not valid YAML: \(error)")
        }
        guard let node else { return .mapping([], origin: source) }
        func origin(_ n: Node) -> String {
            if fixedLocation { return source }
            return n.mark.map { "\(source):\($0.line)" } ?? source
        }
        var values = 0
        func convert(_ n: Node, depth: Int = 1) throws -> SpecNode {
            values += 1
            if values > YAMLLimits.maxValues {
                throw SpecError(location: origin(n), key: "",
                                message: "the spec expands to more than \(TrainLimits.grouped(YAMLLimits.maxValues)) values (YAML aliases?); no spec needs so many")
            }
            if depth > YAMLLimits.maxDepth {
                throw SpecError(location: origin(n), key: "", message: "the spec nests deeper than \(YAMLLimits.maxDepth) levels")
            }
            switch n {
            case .scalar(let s):
                return .scalar(s.string, origin: origin(n), quoted: s.style != .plain && s.style != .any)
            case .sequence(let seq):
                return .sequence(try seq.map { try convert($0, depth: depth + 1) }, origin: origin(n))
            case .mapping(let map):
                var entries: [(key: String, origin: String, value: SpecNode)] = []
                var seen = Set<String>()
                for (k, v) in map {
                    guard case .scalar(let ks) = k else {
                        throw SpecError(location: origin(k), key: "", message: "mapping keys must be plain words")
                    }
                    if !seen.insert(ks.string).inserted {
                        throw SpecError(location: origin(k), key: ks.string, message: "duplicate key")
                    }
                    entries.append((ks.string, origin(k), try convert(v, depth: depth + 1)))
                }
                return .mapping(entries, origin: origin(n))
            }
        }
        return try convert(node)
    }

    /// Applies `key.path=value` (the value is parsed as YAML, so `[1, 2]` and `{a: 1}` work).
    /// A path component that is a number indexes a sequence (`regularizers.1.strata=4`).
    /// - Throws: `SpecError` when the assignment has no `=`, or a path walks into a scalar.
    func overriding(_ assignment: String) throws -> SpecNode {
        let location = "--set \(assignment)"
        guard let eq = assignment.firstIndex(of: "="), eq != assignment.startIndex else {
            throw SpecError(location: location, key: "", message: "expected key.path=value, e.g. --set train.epochs=5")
        }
        let path = assignment[..<eq].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if path.count > YAMLLimits.maxPathComponents {
            throw SpecError(location: location, key: "", message: "the key path has more than \(YAMLLimits.maxPathComponents) components")
        }
        if path.contains(where: \.isEmpty) {
            throw SpecError(location: location, key: String(assignment[..<eq]), message: "empty component in the key path")
        }
        let value = try SpecNode.parse(String(assignment[assignment.index(after: eq)...]), source: location, fixedLocation: true)
        return try setting(path[...], to: value, location: location, walked: [])
    }

    private func setting(_ path: ArraySlice<String>, to value: SpecNode, location: String, walked: [String]) throws -> SpecNode {
        guard let head = path.first else { return value }
        let here = (walked + [head]).joined(separator: ".")
        switch self {
        case let .mapping(entries, origin):
            var entries = entries
            if let i = entries.firstIndex(where: { $0.key == head }) {
                entries[i].value = try entries[i].value.setting(path.dropFirst(), to: value, location: location, walked: walked + [head])
                entries[i].origin = location
            } else {
                let fresh = SpecNode.mapping([], origin: location)
                entries.append((head, location, try fresh.setting(path.dropFirst(), to: value, location: location, walked: walked + [head])))
            }
            return .mapping(entries, origin: origin)
        case let .sequence(items, origin):
            guard let i = Int(head), items.indices.contains(i) else {
                throw SpecError(location: location, key: here, message: "'\(head)' is not an index of this list (0…\(items.count - 1))")
            }
            var items = items
            items[i] = try items[i].setting(path.dropFirst(), to: value, location: location, walked: walked + [head])
            return .sequence(items, origin: origin)
        case .scalar:
            if isNull { return try SpecNode.mapping([], origin: location).setting(path, to: value, location: location, walked: walked) }
            throw SpecError(location: location, key: here, message: "\(walked.joined(separator: ".")) is a single value, not a mapping")
        }
    }
}
