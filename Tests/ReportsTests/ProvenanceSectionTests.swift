import Foundation
import TestSupport
import Testing
@testable import Reports
import ResultsStore

/// The report's Provenance section says where every number came from: spec as written and
/// resolved, overrides, what each run recorded (build, host, CPU, libraries, kernels), its times,
/// duration, hashes and checkpoint.
@Suite("Provenance section")
struct ProvenanceSectionTests {
    static func store() throws -> ResultsDatabase {
        let clock = TestClock(1_750_000_000)
        let store = try ResultsDatabase.inMemory(clock: clock.closure)
        let first = try store.upsertExperiment(name: "first", specSHA256: String(repeating: "12", count: 32), specPath: "first.yaml")
        let e = try store.upsertExperiment(name: "tiny", specSHA256: String(repeating: "ab", count: 32), specPath: "Experiments/tiny.yaml",
                                           specText: #"{"name":"tiny","seeds":[0]}"#, specSource: "name: tiny # <keep>\nseeds: [0]\n",
                                           overrides: ["train.epochs=5", "seeds=[0]"], cellCount: 2)
        let versions = ["backdrop": "0.1.0", "cpu": "Test CPU", "cpus": "2", "threads": "1", "blas": "OpenBLAS 0.3.21 Zen", "libpng": "1.6.39",
                        "sqlite": "3.40.1", "convolution": "im2col-openblas", "swift": "6.3+", "os": "Debian"]
        let provenance = RunProvenance(configJSON: "{}", configSHA256: String(repeating: "cd", count: 32), gitCommit: String(repeating: "9f", count: 20),
                                       gitDirty: true, datasetSHA256: String(repeating: "ee", count: 32), versions: versions)
        let cell = RunCell(cellKey: "full/simclr/none/seed0", dataset: "builtin", trainView: "full", method: "simclr", regularizer: "none", seed: 0)
        let claim = try #require(try store.beginRun(experimentID: e.id, cell: cell, provenance: provenance).claim)
        clock.advance(125)
        try store.recordCheckpoint(epoch: 2, path: "Results/checkpoints/tiny/checkpoint.safetensors", sha256: "aa", for: claim)
        try store.finishRun(claim)
        // A run trained by another experiment, linked into this one.
        let other = RunCell(cellKey: "full/simclr/none/seed1", dataset: "builtin", trainView: "full", method: "simclr", regularizer: "none", seed: 1)
        let otherProvenance = RunProvenance(configJSON: "{}", configSHA256: String(repeating: "ef", count: 32), gitCommit: "unknown")
        let c2 = try #require(try store.beginRun(experimentID: first.id, cell: other, provenance: otherProvenance).claim)
        try store.finishRun(c2)
        try store.linkRun(experimentID: e.id, cellKey: other.cellKey, sweep: "", runID: c2.runID)
        return store
    }

    @Test func markdownNamesSpecOverridesEnvironmentAndEachRun() throws {
        let report = try ExperimentReport(store: try Self.store(), experiment: "tiny")
        let md = report.provenanceMarkdown
        #expect(!report.markdown.contains("Provenance"), "table.md holds results only")
        #expect(md.contains("# Provenance: tiny\n\nSpec Experiments/tiny.yaml (resolved spec sha256 abababababab), experiment id 2, "
            + "created 2025-06-15 15:06:40 UTC; overrides: train.epochs=5; seeds=[0]."), "\(md)")
        #expect(md.contains("- Built from commit: 9f9f9f9f9f9f (dirty) (1 run); unknown (1 run)"))
        #expect(md.contains("- CPU: Test CPU, 2 CPUs online (1 run)"))
        #expect(md.contains("- Worker threads: 1 (1 run)"), "the threads a run used, beside the CPUs its host had")
        #expect(md.contains("- BLAS: OpenBLAS 0.3.21 Zen (1 run)"))
        #expect(md.contains("- Hosts: \(ProcessInfo.processInfo.hostName) (2 runs)"))
        #expect(md.contains("```yaml\nname: tiny # <keep>\nseeds: [0]\n```"))
        #expect(md.contains("```json\n{\"name\":\"tiny\",\"seeds\":[0]}\n```"))
        let rows = md.split(separator: "\n").filter { $0.hasPrefix("| full/simclr/none/seed0 |") }
        #expect(rows.count == 2, "\(md)")
        #expect(rows.first?.contains("| 2025-06-15 15:06:40 | 2025-06-15 15:08:45 | 2m 05s | 9f9f9f9f9f9f (dirty) | 0 |") == true, "\(rows)")
        #expect(rows.last == "| full/simclr/none/seed0 | cdcdcdcdcdcd | eeeeeeeeeeee | im2col-openblas | Results/checkpoints/tiny/checkpoint.safetensors (epoch 2) |", "\(rows)")
        let linked = try #require(md.split(separator: "\n").first { $0.hasPrefix("| full/simclr/none/seed1 |") })
        #expect(linked.contains("(from experiment 1)"), "\(linked)")
    }

    @Test func htmlFoldsTheSpecsAndEscapesThem() throws {
        let html = try ExperimentReport(store: try Self.store(), experiment: "tiny").html
        #expect(html.contains("<h2>Provenance</h2>"))
        #expect(html.contains("<details><summary>Spec as written</summary>\n<pre>name: tiny # &lt;keep&gt;"))
        #expect(html.contains("<tr><th>Convolution kernels</th><td>im2col-openblas (1 run)</td></tr>"))
        #expect(html.contains("<td>2m 05s</td>"))
    }

    @Test func durationsAndTalliesReadNaturally() {
        #expect(ProvenanceSection.tally(["b", "a", "b"]) == "b (2 runs); a (1 run)")
        #expect(ProvenanceSection.tally([]) == "-")
        #expect(ProvenanceSection.markdownText("a | b\nc") == "a \\| b c")
    }
}
