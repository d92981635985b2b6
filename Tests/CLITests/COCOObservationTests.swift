import Foundation
import TestSupport
import Testing

/// `Experiments/coco-observation.yaml` end to end at a tiny budget: the spec as committed, its
/// dataset folder overridden to the imported COCO fixture, 1 epoch, 1 seed, width 4, 32 px.
@Suite(.serialized, .enabled(if: Executables.url("backdrop") != nil, "the backdrop executable is not built"))
struct COCOObservationTests {
    static let spec = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Experiments/coco-observation.yaml").standardized.path

    @Test func specRunsOnTheImportedFixture() throws {
        let dir = temporaryDirectory("coco-observation")
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = dir.appendingPathComponent("coco").path
        for r in try COCOImportCommandTests.importFixture(into: root) { #expect(r.status == 0, "\(r.stderr)") }
        let db = dir.appendingPathComponent("Results/backdrop.sqlite").path
        let overrides = ["dataset.folder=\(root)", "train.epochs=1", "seeds=[0]", "model.width=4", "imageSize=32", "train.batchSize=4",
                         "methodOptions.simclr.projectorHidden=16", "methodOptions.simclr.projectorOutput=8",
                         "evaluation.probe.maxIterations=50", "schedule.warmupEpochs=0"]
        let r = try Executables.run("backdrop", ["reproduce", Self.spec, "--db", db, "--results-dir", dir.appendingPathComponent("Results").path]
                                    + overrides.flatMap { ["--set", $0] })
        #expect(r.status == 0, "\(r.stderr)")
        let q = try Executables.run("backdrop", ["query", "--db", db, "--format", "csv",
                                                 "SELECT COUNT(DISTINCT run_id), COUNT(DISTINCT test_view), SUM(test_view = 'foreground-crop') FROM evaluations"])
        #expect(q.status == 0, "\(q.stderr)")
        // full and foreground, each beside its seed-matched untrained control; seven test views; foreground-crop rows for each.
        let row = q.stdout.split(separator: "\n").dropFirst().first.map(String.init) ?? ""
        let values = row.split(separator: ",").compactMap { Int($0) }
        #expect(values.count == 3 && values[0] == 4 && values[1] == 7 && values[2] == 16, "\(q.stdout)")
    }
}
