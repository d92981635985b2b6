import Foundation
import ResultsStore
import TestSupport
import Testing

/// `backdrop claims` on a small database built here: the claims come from the experiment's stored
/// spec, the verdicts are printed and stored, and the report shows them first.
@Suite struct ClaimsCommandTests {
    static let spec = """
    name: claims-cli
    dataset:
      builtin: {classes: 3, perClass: 8, testPerClass: 4, size: 32, seed: 1}
    methods: [simclr]
    regularizers: [none, icl-msr]
    trainViews: [full]
    seeds: [0, 1, 2]
    claims:
      - name: icl-msr-helps
        metric: {protocol: linear, probe: full, testView: full}
        direction: greater
        treatment: {regularizer: icl-msr}
        baseline: {regularizer: none}
      - name: icl-msr-hurts
        metric: {protocol: linear, probe: full, testView: full}
        direction: less
        treatment: {regularizer: icl-msr}
        baseline: {regularizer: none}
      - name: full-over-foreground
        metric: {protocol: linear, probe: full}
        direction: greater
        treatment: {regularizer: none, testView: full}
        baseline: {regularizer: none, testView: foreground}
    """

    /// Linear top-1 per (regularizer, test view), seeds 0–2: ICL-MSR clearly above none on full;
    /// none's full and foreground overlap (differences −1, +1, 0 points).
    static let values: [String: [String: [Double]]] = [
        "none": ["full": [0.70, 0.74, 0.73], "foreground": [0.71, 0.73, 0.73]],
        "icl-msr": ["full": [0.80, 0.82, 0.85], "foreground": [0.75, 0.76, 0.77]],
    ]

    static func makeDatabase(_ path: String) throws -> Int64 {
        let store = try ResultsDatabase(path: path)
        let e = try store.upsertExperiment(name: "claims-cli", specSHA256: "s", specPath: "Experiments/claims-cli.yaml", specSource: spec)
        for (regularizer, views) in values {
            for seed in 0..<3 {
                let cell = RunCell(cellKey: "full/simclr/\(regularizer)/seed\(seed)", dataset: "builtin", trainView: "full",
                                   method: "simclr", regularizer: regularizer, seed: seed)
                let claim = try #require(try store.beginRun(experimentID: e.id, cell: cell,
                                                            provenance: RunProvenance(configJSON: "{}", configSHA256: "\(regularizer)\(seed)")).claim)
                for (view, accuracies) in views {
                    try store.recordEvaluation(EvaluationRecord(protocolName: "linear", probeView: "full", testView: view,
                                                                top1: accuracies[seed], top5: 1, n: 100), for: claim)
                }
                try store.finishRun(claim)
            }
        }
        try store.close()
        return e.id
    }

    @Test func judgesStoresAndPrintsTheVerdicts() throws {
        let dir = temporaryDirectory("claims-command")
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("results.sqlite").path
        let id = try Self.makeDatabase(db)

        let text = try Executables.run("backdrop", ["claims", "--db", db, "--experiment", "claims-cli"])
        #expect(text.status == 0, "\(text.stderr)")
        let lines = text.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("icl-msr-helps") && $0.hasSuffix("holds") && $0.contains("paired") }, "\(text.stdout)")
        #expect(lines.contains { $0.hasPrefix("icl-msr-hurts") && $0.hasSuffix("contradicted") }, "\(text.stdout)")
        #expect(lines.contains { $0.hasPrefix("full-over-foreground") && $0.hasSuffix("inconclusive") }, "\(text.stdout)")
        #expect(text.stdout.contains("Holm"))

        let store = try ResultsDatabase(path: db, mode: .readOnly)
        let stored = try store.claims(experimentID: id)
        #expect(stored.map(\.verdict) == ["holds", "contradicted", "inconclusive"])
        #expect(stored[2].metric == "linear top1 on full vs foreground, probe full" && stored[2].n == 3 && stored[2].paired)

        let json = try Executables.run("backdrop", ["claims", "--db", db, "--experiment", String(id), "--format", "json"])
        let objects = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(objects.map { $0["verdict"] as? String } == ["holds", "contradicted", "inconclusive"])
        #expect(objects.allSatisfy { $0["correction"] as? String == "holm" })

        let markdown = try Executables.run("backdrop", ["claims", "--db", db, "--format", "markdown"])
        #expect(markdown.stdout.hasPrefix("| claim |"), "\(markdown.stdout)")

        let out = dir.appendingPathComponent("reports").path
        let report = try Executables.run("backdrop", ["report", "--db", db, "--experiment", "claims-cli", "--out", out])
        #expect(report.status == 0, "\(report.stderr)")
        let table = try String(contentsOfFile: out + "/claims-cli/table.md", encoding: .utf8)
        let claims = try #require(table.range(of: "## Claims"))
        #expect(table.range(of: "## Fixed probe").map { claims.lowerBound < $0.lowerBound } == true)
        #expect(try String(contentsOfFile: out + "/claims-cli/report.html", encoding: .utf8).contains("<h2>Claims</h2>"))
    }

    @Test func reproducePrintsAndStoresTheVerdictsAtItsEnd() throws {
        let dir = temporaryDirectory("claims-reproduce")
        defer { try? FileManager.default.removeItem(at: dir) }
        let spec = """
        name: tiny-claims
        dataset:
          builtin: {classes: 3, perClass: 8, testPerClass: 4, size: 32, seed: 1}
        model: {width: 4}
        methodOptions:
          simclr: {projectorHidden: 16, projectorOutput: 8}
        regularizers: [none, icl-msr]
        trainViews: [full]
        train: {epochs: 1, batchSize: 8}
        evaluation:
          probe: {maxIterations: 20}
        claims:
          - name: icl-msr-improves-full
            metric: {protocol: linear, probe: full, testView: full}
            direction: greater
            treatment: {regularizer: icl-msr}
            baseline: {regularizer: none}
        """
        let path = dir.appendingPathComponent("tiny-claims.yaml").path
        try spec.write(toFile: path, atomically: true, encoding: .utf8)
        let db = dir.appendingPathComponent("results.sqlite").path
        let r = try Executables.run("backdrop", ["reproduce", path, "--db", db, "--results-dir", dir.appendingPathComponent("Results").path])
        #expect(r.status == 0, "\(r.stderr)")
        // One seed: one pair, no interval, so the verdict can only be inconclusive.
        let line = r.stdout.split(separator: "\n").first { $0.hasPrefix("icl-msr-improves-full") }
        #expect(line?.hasSuffix("inconclusive") == true, "\(r.stdout)")
        #expect(r.stdout.contains("Holm"))
        let store = try ResultsDatabase(path: db, mode: .readOnly)
        let stored = try store.claims(experimentID: try store.resolveExperiment("tiny-claims").id)
        #expect(stored.map(\.verdict) == ["inconclusive"] && stored.first?.n == 1 && stored.first?.lower == nil)
    }

    @Test func anUnknownExperimentOrFormatIsAnError() throws {
        let dir = temporaryDirectory("claims-command-errors")
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("results.sqlite").path
        _ = try Self.makeDatabase(db)
        let unknown = try Executables.run("backdrop", ["claims", "--db", db, "--experiment", "nope"])
        #expect(unknown.status != 0 && unknown.stderr.contains("nope"), "\(unknown.stderr)")
        let format = try Executables.run("backdrop", ["claims", "--db", db, "--format", "yaml"])
        #expect(format.status == 64 && format.stderr.contains("yaml"), "\(format.stderr)")
    }
}
