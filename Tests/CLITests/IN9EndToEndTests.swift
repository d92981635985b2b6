import Foundation
import TestSupport
import Testing

/// ImageNet-9 end to end on the tiny fixture tree (`Tests/ImageDataTests/Fixtures/in9`):
/// `dataset import in9` → `dataset check` → `train --test-set` and `reproduce` with
/// `evaluation.testSets` → test-set rows in the JSON, the database and `backdrop matrix`.
@Suite(.serialized, .enabled(if: Executables.url("backdrop") != nil, "the backdrop executable is not built"))
struct IN9EndToEndTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("ImageDataTests/Fixtures/in9").path

    /// A run of seconds that leaves no packed cache in the working directory.
    static let tiny = ["--width", "4", "--epochs", "1", "--batch-size", "4", "--projector-hidden", "16", "--projector-output", "8", "--quiet", "--no-cache"]

    @Test func importCheckTrainAndReproduceWithTestSets() throws {
        let dir = temporaryDirectory("in9")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("in9").path

        let imported = try Executables.run("backdrop", ["dataset", "import", "in9", Self.fixture, "--out", out])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.contains("wrote 8 train and 4 test images of 3 classes, 7 test sets"), "\(imported.stdout)")
        #expect(imported.stdout.contains("skipped 3 files") && imported.stdout.contains("bird_4"), "\(imported.stdout)")
        let check = try Executables.run("backdrop", ["dataset", "check", out])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")

        // backdrop train --test-set
        let json = dir.appendingPathComponent("run.json").path
        let mixed = out + "/testsets/in9-mixed-rand", tiled = out + "/testsets/in9-only-bg-t"
        let train = try Executables.run("backdrop", ["train", "--data", out, "--json", json, "--test-set", "in9-mixed-rand=\(mixed)",
                                                     "--test-set", "in9-only-bg-t=\(tiled)", "--set", "evaluation.testViews=[full, only-background-tiled]"] + Self.tiny)
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stdout.contains("in9-mixed-rand") && train.stdout.contains("in9-only-bg-t"), "\(train.stdout)")
        let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as! [String: Any]
        let rows = doc["evaluations"] as! [[String: Any]]
        #expect(Set(rows.map { $0["test_view"] as! String }) == ["full", "only-background-tiled", "in9-mixed-rand", "in9-only-bg-t"])
        #expect(rows.filter { $0["test_view"] as? String == "in9-mixed-rand" }.allSatisfy { $0["n"] as? Int == 6 })

        let bad = try Executables.run("backdrop", ["train", "--data", out, "--test-set", "in9-mixed-rand"] + Self.tiny)
        #expect(bad.status != 0 && bad.stderr.contains("--test-set in9-mixed-rand: expected NAME=FOLDER"), "\(bad.stderr)")

        // backdrop reproduce with evaluation.testSets
        let spec = """
        name: in9-tiny
        dataset: {folder: "\(out)"}
        model: {width: 4}
        methodOptions:
          simclr: {projectorHidden: 16, projectorOutput: 8}
        trainViews: [full]
        train: {epochs: 1, batchSize: 4}
        evaluation:
          testViews: [full, only-background-tiled]
          probe: {maxIterations: 50}
          testSets: {in9-mixed-rand: "\(mixed)", in9-only-bg-t: "\(tiled)"}
        """
        let specPath = dir.appendingPathComponent("in9.yaml").path
        try spec.write(toFile: specPath, atomically: true, encoding: .utf8)
        let db = dir.appendingPathComponent("Results/backdrop.sqlite").path
        let reproduce = try Executables.run("backdrop", ["reproduce", specPath, "--db", db, "--results-dir", dir.appendingPathComponent("Results").path])
        #expect(reproduce.status == 0, "\(reproduce.stderr)")
        let query = try Executables.run("backdrop", ["query", "--db", db, "--format", "csv",
                                                     "SELECT test_view, COUNT(*) FROM evaluations WHERE test_view LIKE 'in9-%' GROUP BY test_view ORDER BY test_view"])
        #expect(query.status == 0, "\(query.stderr)")
        // Probe views full and foreground × linear and kNN.
        #expect(query.stdout.contains("in9-mixed-rand,4") && query.stdout.contains("in9-only-bg-t,4"), "\(query.stdout)")
        let matrix = try Executables.run("backdrop", ["matrix", "--db", db])
        #expect(matrix.status == 0, "\(matrix.stderr)")
        let header = matrix.stdout.split(separator: "\n").first.map(String.init) ?? ""
        #expect(header.contains("only-background-tiled") && header.contains("in9-mixed-rand") && header.contains("in9-only-bg-t"), "\(matrix.stdout)")
        let reports = dir.appendingPathComponent("reports").path
        let report = try Executables.run("backdrop", ["report", "--db", db, "--out", reports])
        #expect(report.status == 0, "\(report.stderr)")
        let table = try String(contentsOfFile: reports + "/in9-tiny/table.md", encoding: .utf8)
        #expect(table.contains("| full | only-background-tiled | in9-mixed-rand | in9-only-bg-t |"), "\(table.prefix(2000))")
    }
}
