import Foundation

/// The leaves in which two JSON documents differ, as dotted paths (`train.optimizer.lr`,
/// `evaluation.testViews[2]`) with both values as compact JSON — so an error can name the field
/// that changed instead of printing two whole configurations.
enum JSONDifferences {
    struct Difference: Equatable {
        var path: String
        /// Compact JSON of the value, or `(absent)`.
        var old: String
        var new: String
    }

    /// The differing leaves of `old` and `new` in key order; nil unless both are JSON objects or
    /// arrays.
    static func between(_ old: String, _ new: String) -> [Difference]? {
        guard let a = try? JSONSerialization.jsonObject(with: Data(old.utf8)),
              let b = try? JSONSerialization.jsonObject(with: Data(new.utf8)) else { return nil }
        var out: [Difference] = []
        walk(a, b, path: "", into: &out)
        return out
    }

    private static func walk(_ a: Any?, _ b: Any?, path: String, into out: inout [Difference]) {
        if let x = a as? [String: Any], let y = b as? [String: Any] {
            for key in Set(x.keys).union(y.keys).sorted() {
                walk(x[key], y[key], path: path.isEmpty ? key : "\(path).\(key)", into: &out)
            }
        } else if let x = a as? [Any], let y = b as? [Any], x.count == y.count {
            for i in x.indices { walk(x[i], y[i], path: "\(path)[\(i)]", into: &out) }
        } else {
            let (old, new) = (render(a), render(b))
            if old != new { out.append(Difference(path: path.isEmpty ? "(root)" : path, old: old, new: new)) }
        }
    }

    private static func render(_ value: Any?) -> String {
        guard let value else { return "(absent)" }
        guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys, .withoutEscapingSlashes])
        else { return "\(value)" }
        return String(decoding: data, as: UTF8.self)
    }
}
