import Foundation
import ResultsStore
import TestSupport
import Testing

/// `backdrop export tensorboard|mlflow` on a tiny trained experiment: what it writes, that it never
/// modifies the database, its refusals, and — with TensorBoard's and MLflow's own Python readers
/// (`scripts/read_export.py`) — that the viewers read back every value the database holds.
@Suite struct ExportCommandTests {
    static let experiment = "export-tiny"

    /// A results database with two finished runs of a tiny experiment (seeds 1 and 2, one epoch).
    static func makeDatabase(in dir: URL) throws -> String {
        let data = dir.appendingPathComponent("data").path
        let generate = try Executables.run("backdrop", ["dataset", "generate", "--out", data, "--classes", "2", "--per-class", "4",
                                                        "--test-per-class", "2", "--size", "32"])
        guard generate.status == 0 else { throw ExportTestFailure("dataset generate failed: \(generate.stderr)") }
        let db = dir.appendingPathComponent("results.sqlite").path
        for seed in ["1", "2"] {
            let train = try Executables.run("backdrop", ["train", "--data", data, "--db", db, "--experiment", experiment, "--seed", seed]
                                                        + TrainRecordingCommandTests.tiny)
            guard train.status == 0 else { throw ExportTestFailure("train failed: \(train.stderr)") }
        }
        return db
    }

    static func fileHash(_ path: String) throws -> String {
        ContentHash.sha256Hex(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Every file under `folder` (relative path → SHA-256).
    static func tree(_ folder: URL) throws -> [String: String] {
        var out: [String: String] = [:]
        let base = folder.standardizedFileURL.path
        for case let url as URL in FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)! {
            var isFolder: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder)
            if !isFolder.boolValue {
                out[String(url.standardizedFileURL.path.dropFirst(base.count + 1))] = try fileHash(url.path)
            }
        }
        return out
    }

    @Test func exportsWriteOwnTreesOnlyAndLeaveTheDatabaseAlone() throws {
        let dir = temporaryDirectory("export-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = try Self.makeDatabase(in: dir)
        let before = try Self.fileHash(db)
        let store = try ResultsDatabase(path: db, mode: .readOnly)
        let experiment = try store.resolveExperiment(Self.experiment)
        let runs = try store.runs(experimentID: experiment.id)
        #expect(runs.count == 2)

        let tensorboard = dir.appendingPathComponent("tb")
        let tb = try Executables.run("backdrop", ["export", "tensorboard", "--db", db, "--experiment", Self.experiment, "--out", tensorboard.path])
        #expect(tb.status == 0, "\(tb.stderr)")
        #expect(tb.stderr.contains("wrote 2 run(s)") && tb.stderr.contains("tensorboard --logdir"), "\(tb.stderr)")
        let written = try Self.tree(tensorboard)
        #expect(written.count == 2, "\(written.keys.sorted())")
        for run in runs {
            let folder = run.cellKey.replacingOccurrences(of: "/", with: "-")
            let start = Int64(run.startedAt!.timeIntervalSince1970.rounded(.down))
            #expect(written["\(folder)/events.out.tfevents.\(start).\(run.host!)"] != nil, "\(written.keys.sorted())")
        }

        // An existing tree is refused without --force; with it the same bytes are written again.
        let again = try Executables.run("backdrop", ["export", "tensorboard", "--db", db, "--experiment", Self.experiment, "--out", tensorboard.path])
        #expect(again.status != 0 && again.stderr.contains("already exist") && again.stderr.contains("--force"), "\(again.stderr)")
        let unrelated = tensorboard.appendingPathComponent("notes.txt")
        try Data("mine".utf8).write(to: unrelated)
        let forced = try Executables.run("backdrop", ["export", "tensorboard", "--db", db, "--experiment", "\(experiment.id)",
                                                      "--out", tensorboard.path, "--force"])
        #expect(forced.status == 0, "\(forced.stderr)")
        var rewritten = try Self.tree(tensorboard)
        #expect(rewritten.removeValue(forKey: "notes.txt") != nil)
        #expect(rewritten == written)

        let mlflow = dir.appendingPathComponent("ml")
        let ml = try Executables.run("backdrop", ["export", "mlflow", "--db", db, "--experiment", Self.experiment, "--out", mlflow.path])
        #expect(ml.status == 0, "\(ml.stderr)")
        #expect(ml.stderr.contains("MLFLOW_ALLOW_FILE_STORE=true"), "\(ml.stderr)")
        let experimentFolder = mlflow.appendingPathComponent("mlruns/\(experiment.id)")
        let mlTree = try Self.tree(experimentFolder)
        #expect(mlTree["meta.yaml"] != nil)
        #expect(mlTree.keys.filter { $0.hasSuffix("/meta.yaml") }.count == 2, "\(mlTree.keys.sorted())")
        #expect(mlTree.keys.contains { $0.hasSuffix("/metrics/train/loss") } && mlTree.keys.contains { $0.hasSuffix("/tags/mlflow.runName") },
                "\(mlTree.keys.sorted())")
        let refused = try Executables.run("backdrop", ["export", "mlflow", "--db", db, "--experiment", Self.experiment, "--out", mlflow.path])
        #expect(refused.status != 0 && refused.stderr.contains("--force"), "\(refused.stderr)")
        let replaced = try Executables.run("backdrop", ["export", "mlflow", "--db", db, "--experiment", Self.experiment, "--out", mlflow.path, "--force"])
        #expect(replaced.status == 0, "\(replaced.stderr)")
        #expect(try Self.tree(experimentFolder) == mlTree)

        #expect(try Self.fileHash(db) == before)
    }

    @Test func errorsNameTheExperimentsAndTheMissingFile() throws {
        let dir = temporaryDirectory("export-errors")
        defer { try? FileManager.default.removeItem(at: dir) }
        let missing = dir.appendingPathComponent("nope.sqlite").path
        let noFile = try Executables.run("backdrop", ["export", "mlflow", "--db", missing, "--out", dir.appendingPathComponent("o").path])
        #expect(noFile.status != 0 && noFile.stderr.contains(missing) && noFile.stderr.contains("--db"), "\(noFile.stderr)")
        #expect(!FileManager.default.fileExists(atPath: missing))

        let db = dir.appendingPathComponent("results.sqlite").path
        let store = try ResultsDatabase(path: db)
        try store.upsertExperiment(name: "alpha", specSHA256: "a")
        try store.upsertExperiment(name: "beta", specSHA256: "b")
        try store.close()
        let unknown = try Executables.run("backdrop", ["export", "tensorboard", "--db", db, "--experiment", "gamma",
                                                       "--out", dir.appendingPathComponent("o").path])
        #expect(unknown.status != 0 && unknown.stderr.contains("gamma") && unknown.stderr.contains("alpha")
                && unknown.stderr.contains("beta"), "\(unknown.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("o").path))
        let usage = try Executables.run("backdrop", ["export", "tensorboard", "--db", db])
        #expect(usage.status == 64 && usage.stderr.contains("--out"), "\(usage.stderr)")
    }
}

struct ExportTestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
