import Foundation

/// Reads one mapping of a spec strictly: every value is type-checked, and `finish()` rejects any
/// key that was never asked for (a typo such as `epoch:` is an error naming its line, never a
/// silently ignored option).
final class SpecReader {
    let path: String
    let origin: String
    private let entries: [(key: String, origin: String, value: SpecNode)]
    private var asked: [String] = []
    /// Shared by every reader of one document: dotted key path → where it was written.
    let origins: OriginIndex

    final class OriginIndex {
        var byPath: [String: String] = [:]
        let file: String
        init(file: String) { self.file = file }
        /// The location of `path`, else of its closest recorded ancestor, else the file.
        func locate(_ path: String) -> String {
            var p = path
            while !p.isEmpty {
                if let o = byPath[p] { return o }
                guard let cut = p.lastIndex(where: { $0 == "." || $0 == "[" }) else { break }
                p = String(p[..<cut])
            }
            return file
        }
    }

    init(_ node: SpecNode, path: String, origins: OriginIndex) throws {
        self.path = path
        self.origin = node.origin
        self.origins = origins
        switch node {
        case let .mapping(entries, _): self.entries = entries
        case _ where node.isNull: self.entries = []
        default:
            throw SpecError(location: node.origin, key: path, message: "expected a mapping of keys to values")
        }
        for e in entries { origins.byPath[full(e.key)] = e.origin }
    }

    func full(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func error(_ key: String, _ message: String) -> SpecError {
        SpecError(location: origins.locate(full(key)), key: full(key), message: message)
    }

    /// The value of `key`, or nil when absent or `null`.
    func node(_ key: String) -> SpecNode? {
        if !asked.contains(key) { asked.append(key) }
        guard let v = entries.first(where: { $0.key == key })?.value, !v.isNull else { return nil }
        return v
    }

    func has(_ key: String) -> Bool { entries.contains { $0.key == key } }

    /// The keys of this mapping in the order written (for mappings keyed by names, such as
    /// `evaluation.testSets`).
    var keys: [String] { entries.map(\.key) }

    func scalar(_ key: String, _ what: String) throws -> String? {
        guard let n = node(key) else { return nil }
        guard case let .scalar(s, _, _) = n else { throw error(key, "expected \(what), got a \(n.kindName)") }
        return s
    }

    func string(_ key: String) throws -> String? { try scalar(key, "a string") }

    func string(_ key: String, oneOf allowed: [String]) throws -> String? {
        guard let s = try string(key) else { return nil }
        guard allowed.contains(s) else { throw error(key, "unknown value '\(s)'; use \(allowed.joined(separator: ", "))") }
        return s
    }

    func int(_ key: String, min: Int? = nil) throws -> Int? {
        guard let s = try scalar(key, "an integer") else { return nil }
        guard let v = Int(s) else { throw error(key, "expected an integer, got '\(s)'") }
        if let min, v < min { throw error(key, "must be at least \(min), got \(v)") }
        return v
    }

    func uint64(_ key: String) throws -> UInt64? {
        guard let s = try scalar(key, "a non-negative integer") else { return nil }
        guard let v = UInt64(s) else { throw error(key, "expected a non-negative integer, got '\(s)'") }
        return v
    }

    func double(_ key: String) throws -> Double? {
        guard let s = try scalar(key, "a number") else { return nil }
        guard let v = Double(s), v.isFinite else { throw error(key, "expected a finite number, got '\(s)'") }
        return v
    }

    /// A number that fits a 32-bit float (|x| ≤ 3.4e38; `1e300` would become infinity).
    func float(_ key: String) throws -> Float? {
        guard let v = try double(key) else { return nil }
        guard Float(v).isFinite else { throw error(key, "expected a number of magnitude at most \(Float.greatestFiniteMagnitude), got \(v)") }
        return Float(v)
    }

    func bool(_ key: String) throws -> Bool? {
        guard let s = try scalar(key, "true or false") else { return nil }
        switch s.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw error(key, "expected true or false, got '\(s)'")
        }
    }

    /// A list of scalars; a single scalar is accepted as a one-element list.
    func strings(_ key: String) throws -> [String]? {
        guard let n = node(key) else { return nil }
        switch n {
        case let .scalar(s, _, _): return [s]
        case let .sequence(items, _):
            return try items.enumerated().map { i, item in
                guard case let .scalar(s, _, _) = item else { throw error("\(key)[\(i)]", "expected a single value, got a \(item.kindName)") }
                return s
            }
        case .mapping: throw error(key, "expected a list, got a mapping")
        }
    }

    func strings(_ key: String, oneOf allowed: [String]) throws -> [String]? {
        guard let values = try strings(key) else { return nil }
        for v in values where !allowed.contains(v) {
            throw error(key, "unknown value '\(v)'; use \(allowed.joined(separator: ", "))")
        }
        if values.isEmpty { throw error(key, "the list is empty") }
        if Set(values).count != values.count { throw error(key, "lists a value twice") }
        return values
    }

    /// A typed option read by its case name (`prior: uniform`).
    func value<E: CaseIterable & RawRepresentable>(_ key: String, _ type: E.Type) throws -> E? where E.RawValue == String {
        guard let s = try string(key, oneOf: E.allCases.map(\.rawValue)) else { return nil }
        return E(rawValue: s)
    }

    /// A list of typed options, none twice (`trainViews: [full, foreground]`).
    func values<E: CaseIterable & RawRepresentable>(_ key: String, _ type: E.Type) throws -> [E]? where E.RawValue == String {
        try strings(key, oneOf: E.allCases.map(\.rawValue))?.compactMap(E.init(rawValue:))
    }

    func map(_ key: String) throws -> SpecReader? {
        guard let n = node(key) else { return nil }
        return try SpecReader(n, path: full(key), origins: origins)
    }

    /// Rejects every key that was never asked for.
    func finish() throws {
        for e in entries where !asked.contains(e.key) {
            throw SpecError(location: e.origin, key: full(e.key),
                            message: "unknown key; known keys here: \(asked.joined(separator: ", "))")
        }
    }
}

extension SpecNode {
    var kindName: String {
        switch self {
        case .scalar: return "single value"
        case .mapping: return "mapping"
        case .sequence: return "list"
        }
    }
}
