import Foundation
import ResultsStore

/// A run's resolved configuration (`runs.config_json`) flattened to dotted keys, the form MLflow
/// params and TensorBoard hparams take: `{"train":{"optimizer":{"lr":0.3}}}` becomes
/// `train.optimizer.lr = 0.3`.
///
/// Objects are walked; an array is one entry holding its compact JSON (`["full","foreground"]`);
/// `null` is the text `null`. Keys come out sorted. Numbers keep their JSON spelling where it is
/// an integer and otherwise print as Swift's shortest round-trip form of the double.
public struct FlatConfig: Sendable, Equatable {
    /// One leaf of the configuration.
    public struct Entry: Sendable, Equatable {
        public var key: String
        public var value: Leaf
    }

    /// A leaf value with its JSON kind, so it can become a typed hyperparameter.
    public enum Leaf: Sendable, Equatable {
        case number(Double, text: String)
        case string(String)
        case bool(Bool)
        case null
        /// An array, as its compact JSON.
        case array(json: String)

        /// The value as text (an MLflow param, a row of the config table).
        public var text: String {
            switch self {
            case .number(_, let text): return text
            case .string(let text): return text
            case .bool(let flag): return flag ? "true" : "false"
            case .null: return "null"
            case .array(let json): return json
            }
        }

        /// The value as a TensorBoard hyperparameter (arrays and null as their text).
        public var hparam: HParamValue {
            switch self {
            case .number(let number, _): return .number(number)
            case .bool(let flag): return .bool(flag)
            default: return .string(text)
            }
        }
    }

    /// The leaves in key order.
    public var entries: [Entry]

    /// Flattens `json` (a JSON object); an empty or unreadable text gives no entries.
    public init(json: String) {
        guard let root = try? JSONDecoder().decode(JSONValue.self, from: Data(json.utf8)) else {
            entries = []
            return
        }
        var out: [Entry] = []
        root.flatten(into: &out, path: "")
        entries = out.sorted { $0.key < $1.key }
    }
}

/// A parsed JSON value, kept with the kinds JSON distinguishes (booleans are not numbers).
indirect enum JSONValue: Decodable, Encodable {
    case object([String: JSONValue])
    case array([JSONValue])
    case string(String)
    case integer(Int64)
    case number(Double)
    case bool(Bool)
    case null

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let flag = try? container.decode(Bool.self) { self = .bool(flag) }
        else if let integer = try? container.decode(Int64.self) { self = .integer(integer) }
        else if let number = try? container.decode(Double.self) { self = .number(number) }
        else if let text = try? container.decode(String.self) { self = .string(text) }
        else if let array = try? container.decode([JSONValue].self) { self = .array(array) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .object(let object): try container.encode(object)
        case .array(let array): try container.encode(array)
        case .string(let text): try container.encode(text)
        case .integer(let integer): try container.encode(integer)
        case .number(let number): try container.encode(number)
        case .bool(let flag): try container.encode(flag)
        case .null: try container.encodeNil()
        }
    }

    func flatten(into out: inout [FlatConfig.Entry], path: String) {
        switch self {
        case .object(let object):
            for (key, value) in object { value.flatten(into: &out, path: path.isEmpty ? key : "\(path).\(key)") }
        case .array:
            out.append(.init(key: path, value: .array(json: CanonicalJSON.string(self))))
        case .string(let text): out.append(.init(key: path, value: .string(text)))
        case .integer(let integer): out.append(.init(key: path, value: .number(Double(integer), text: String(integer))))
        case .number(let number): out.append(.init(key: path, value: .number(number, text: String(number))))
        case .bool(let flag): out.append(.init(key: path, value: .bool(flag)))
        case .null: out.append(.init(key: path, value: .null))
        }
    }
}
