import Foundation
import TestSupport
@testable import ResultsStore

/// `results.sqlite` in a fresh temporary folder (`removeDatabase` deletes the folder).
func temporaryDatabasePath(_ name: String) -> String {
    temporaryDirectory("store-\(name)").appendingPathComponent("results.sqlite").path
}

func removeDatabase(_ path: String) {
    try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path)
}

func cell(_ trainView: String = "full", method: String = "simclr", regularizer: String = "none", seed: Int = 0) -> RunCell {
    RunCell(cellKey: "\(trainView)/\(method)/\(regularizer)/seed\(seed)", dataset: "builtin", trainView: trainView,
            method: method, regularizer: regularizer, seed: seed)
}

func provenance(_ config: String = #"{"epochs":2}"#) -> RunProvenance {
    RunProvenance(configJSON: config, configSHA256: ContentHash.sha256Hex(Data(config.utf8)), gitCommit: "abc123",
                  gitDirty: false, datasetSHA256: "d" + String(repeating: "0", count: 63),
                  versions: ["backdrop": "0.1", "swift": "6.3"], badSamples: 0)
}

/// Claims `cell` or fails the test with the outcome.
func claim(_ store: ResultsDatabase, _ experimentID: Int64, _ c: RunCell, owner: RunOwner = .current) throws -> RunClaim {
    let outcome = try store.beginRun(experimentID: experimentID, cell: c, provenance: provenance(), owner: owner)
    guard let claim = outcome.claim else { throw TestFailure("expected a claim, got \(outcome)") }
    return claim
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
