import Foundation
import GRDB

/// One row of the `matrix_series` view: an evaluation of a finished run with the run's cell
/// coordinates.
public struct MatrixRow: Sendable, Equatable {
    public var experimentID: Int64
    public var runID: Int64
    public var cell: RunCell
    public var protocolName: String
    public var probeView: String
    public var testView: String
    public var split: String
    public var top1: Double
    public var top5: Double
    public var topK: Int
    public var n: Int
    public var k: Int?
    public var temperature: Double?

    public init(experimentID: Int64, runID: Int64, cell: RunCell, protocolName: String, probeView: String,
                testView: String, split: String, top1: Double, top5: Double, topK: Int, n: Int,
                k: Int? = nil, temperature: Double? = nil) {
        self.experimentID = experimentID
        self.runID = runID
        self.cell = cell
        self.protocolName = protocolName
        self.probeView = probeView
        self.testView = testView
        self.split = split
        self.top1 = top1
        self.top5 = top5
        self.topK = topK
        self.n = n
        self.k = k
        self.temperature = temperature
    }
}

extension MatrixRow: FetchableRecord {
    /// Decodes a `matrix_series` row. A value of the wrong type throws
    /// ``ResultsStoreError/unusableValue(table:row:column:value:expected:)`` naming the table it
    /// comes from: `runs` (cell columns, by run id) or `evaluations` (accuracy columns, by run id
    /// and evaluation key).
    public init(row: Row) throws {
        let runID: Int64 = try StoredRow(row, table: "matrix_series", keyColumns: ["run_id"]).value("run_id")
        let run = StoredRow(row, table: "runs", identity: "id \(runID)")
        let keys = ["protocol", "probe_view", "test_view", "split"].map { column -> String in
            let value: DatabaseValue = row[column] ?? .null
            return "\(column) \(StoredRow.text(of: value))"
        }
        let evaluation = StoredRow(row, table: "evaluations", identity: "run_id \(runID), " + keys.joined(separator: ", "))
        self.init(experimentID: try run.value("experiment_id"), runID: runID,
                  cell: try RunCell(storedRow: run),
                  protocolName: try evaluation.value("protocol"), probeView: try evaluation.value("probe_view"),
                  testView: try evaluation.value("test_view"), split: try evaluation.value("split"),
                  top1: try evaluation.value("top1"), top5: try evaluation.value("top5"),
                  topK: try evaluation.value("top_k"), n: try evaluation.value("n"),
                  k: try evaluation.optional("k"), temperature: try evaluation.optional("temperature"))
    }
}

/// Which probe series of the matrix to read (the `probe` column of `matrix_series`).
///
/// `trainView`: the probe fitted on the cell's train view; `sameAsTest`: fitted on each test
/// view's own rendering of the train split; `fixed(view)`: fitted on one view for every cell, so
/// encoders trained on different views are compared under the same probe. A row can belong to
/// several series (a probe fitted on `full` for a cell trained on `full` is in `train-view` and in
/// `full`).
public enum ProbeSeries: Hashable, Sendable, CustomStringConvertible {
    case trainView
    case sameAsTest
    case fixed(String)

    /// The fixed series of the two training views, then the train-view series: what a report shows.
    public static let reported: [ProbeSeries] = [.fixed("full"), .fixed("foreground"), .trainView]

    /// `train-view`, `same-as-test` or the probe view's name.
    public var rawValue: String {
        switch self {
        case .trainView: return "train-view"
        case .sameAsTest: return "same-as-test"
        case .fixed(let view): return view
        }
    }

    public init(rawValue: String) {
        switch rawValue {
        case "train-view": self = .trainView
        case "same-as-test": self = .sameAsTest
        default: self = .fixed(rawValue)
        }
    }

    public var description: String { rawValue }

    /// How a table header says which probe its numbers come from.
    public var title: String {
        switch self {
        case .trainView: return "probe fitted on each cell's train view"
        case .sameAsTest: return "probe fitted on each test view"
        case .fixed(let view): return "fixed probe fitted on \(view) images for every encoder"
        }
    }
}

enum JSONText {
    /// A JSON object with sorted keys (stable text for equal dictionaries).
    static func encodeObject(_ object: [String: String]) -> String {
        CanonicalJSON.string(object)
    }

    /// A JSON list of strings (`[]` for none).
    static func encodeList(_ list: [String]) -> String { CanonicalJSON.string(list) }

    static func decodeList(_ text: String) -> [String] {
        guard let data = text.data(using: .utf8), let list = try? JSONSerialization.jsonObject(with: data) as? [Any] else { return [] }
        return list.map { "\($0)" }
    }

    static func decodeObject(_ text: String) -> [String: String] {
        guard let data = text.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
        return object.mapValues { "\($0)" }
    }
}
