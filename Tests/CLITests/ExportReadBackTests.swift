import Foundation
import ResultsStore
import TestSupport
import Testing

/// TensorBoard's `EventAccumulator` and MLflow's `MlflowClient` read what `backdrop export` wrote
/// (through `scripts/read_export.py`), and every value they return is the database's: each
/// metric at each step (TensorBoard to float precision, MLflow exactly), the evaluations, the
/// configuration, the run's name, status, times, commit and dataset hash.
@Suite struct ExportReadBackTests {
    @Test(.enabled(if: PythonReaders.missing == nil, "TensorBoard or MLflow is not importable by python3; install with: pip install tensorboard mlflow-skinny"))
    func tensorBoardAndMLflowReadBackTheDatabase() throws {
        let dir = temporaryDirectory("export-read-back")
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = try ExportCommandTests.makeDatabase(in: dir)
        let store = try ResultsDatabase(path: db, mode: .readOnly)
        let experiment = try store.resolveExperiment(ExportCommandTests.experiment)
        let runs = try store.runs(experimentID: experiment.id)
        #expect(runs.count == 2)

        let logdir = dir.appendingPathComponent("tb").path
        let tb = try Executables.run("backdrop", ["export", "tensorboard", "--db", db, "--experiment", experiment.name, "--out", logdir])
        try #require(tb.status == 0, "\(tb.stderr)")
        let board = try PythonReaders.read(BoardDump.self, ["tensorboard", logdir])
        #expect(board.runs.count == runs.count, "\(board.runs.keys.sorted())")

        let mlflowOut = dir.appendingPathComponent("ml").path
        let ml = try Executables.run("backdrop", ["export", "mlflow", "--db", db, "--experiment", experiment.name, "--out", mlflowOut])
        try #require(ml.status == 0, "\(ml.stderr)")
        let tracking = try PythonReaders.read(TrackingDump.self, ["mlflow", mlflowOut + "/mlruns", String(experiment.id)])
        #expect(tracking.experiment.name == experiment.name && tracking.experiment.id == String(experiment.id))
        #expect(tracking.runs.count == runs.count)

        for run in runs {
            let metrics = try store.metricKeys(runID: run.id).map { try store.metrics(runID: run.id, key: $0) }
            let evaluations = try store.evaluations(runID: run.id).filter { $0.split == "test" && $0.probeView == run.cell.trainView }
            let params = try store.params(runID: run.id)
            #expect(metrics.count >= 3 && !evaluations.isEmpty && !params.isEmpty)
            let lastStep = Double(metrics.flatMap { $0 }.map(\.step).max() ?? 0)

            // TensorBoard: one run folder per cell.
            let boardRun = try #require(board.runs[run.cellKey.replacingOccurrences(of: "/", with: "-")], "\(board.runs.keys.sorted())")
            for series in metrics {
                let points = try #require(boardRun.points["train/\(series[0].key)"], "\(boardRun.points.keys.sorted())")
                #expect(points.map { Int($0[0]) } == series.map(\.step))
                #expect(points.map { Float($0[1]) } == series.map { Float($0.value) }, "train/\(series[0].key)")
                #expect(points.map { $0[2] } == series.map(\.wallTime))
            }
            for e in evaluations {
                let top1 = try #require(boardRun.points["eval/\(e.protocolName)/\(e.testView)/top1"], "\(boardRun.points.keys.sorted())")
                #expect(top1 == [[lastStep, Double(Float(e.top1)), e.createdAt.timeIntervalSince1970]])
            }
            let configText = try #require(boardRun.texts["run/config"])
            #expect(params.keys.allSatisfy { configText.contains("| \($0) |") }, "\(configText)")
            #expect(boardRun.texts["run/provenance"]?.contains(run.cellKey) == true)
            #expect(Set(boardRun.hparams.keys) == Set(params.keys))
            #expect(boardRun.hparams_group == run.cellKey)

            // MLflow: one run per cell, named by its cell key.
            let tracked = try #require(tracking.runs.first { $0.run_name == run.cellKey })
            #expect(tracked.status == "FINISHED")
            #expect(tracked.start_time == Int64((run.startedAt!.timeIntervalSince1970 * 1000).rounded()))
            #expect(tracked.end_time == Int64((run.finishedAt!.timeIntervalSince1970 * 1000).rounded()))
            for series in metrics {
                let points = try #require(tracked.points["train/\(series[0].key)"], "\(tracked.points.keys.sorted())")
                #expect(points.map { Int($0[0]) } == series.map(\.step))
                #expect(points.map { $0[1] } == series.map(\.value), "train/\(series[0].key)")
                #expect(points.map { $0[2] } == series.map { ($0.wallTime * 1000).rounded() })
            }
            for e in evaluations {
                #expect(tracked.points["eval/\(e.protocolName)/\(e.testView)/top1"]
                        == [[lastStep, e.top1, (e.createdAt.timeIntervalSince1970 * 1000).rounded()]])
            }
            #expect(Set(tracked.params.keys) == Set(params.keys))
            for (key, value) in params {
                #expect(ParamText.same(tracked.params[key] ?? "", value), "param \(key): \(tracked.params[key] ?? "-") vs \(value)")
            }
            #expect(tracked.tags["mlflow.runName"] == run.cellKey)
            #expect(tracked.tags["mlflow.source.git.commit"] == run.provenance.gitCommit)
            #expect(tracked.tags["backdrop.dataset_sha256"] == run.provenance.datasetSHA256)
            #expect(tracked.tags["backdrop.status"] == "finished")
        }
    }
}

/// What `read_export.py tensorboard` prints.
struct BoardDump: Decodable {
    struct Run: Decodable {
        /// Tag → `[step, value, wall time]` points.
        var scalars: [String: [[ReadNumber]]]
        var points: [String: [[Double]]] { scalars.mapValues { $0.map { $0.map(\.value) } } }
        var texts: [String: String]
        var hparams: [String: ReadValue]
        var hparams_group: String?
    }
    var runs: [String: Run]
}

/// What `read_export.py mlflow` prints.
struct TrackingDump: Decodable {
    struct Experiment: Decodable {
        var id: String
        var name: String
        var tags: [String: String]
    }
    struct Run: Decodable {
        var run_id: String
        var run_name: String
        var status: String
        var start_time: Int64
        var end_time: Int64?
        var params: [String: String]
        var tags: [String: String]
        /// Key → `[step, value, timestamp ms]` points.
        var metrics: [String: [[ReadNumber]]]
        var points: [String: [[Double]]] { metrics.mapValues { $0.map { $0.map(\.value) } } }
    }
    var experiment: Experiment
    var runs: [Run]
}

/// A number as the reader prints it: a JSON number, or `"NaN"`, `"Infinity"`, `"-Infinity"`.
/// Decoded with `JSONDecoder`, which reads a double's shortest spelling exactly.
struct ReadNumber: Decodable {
    var value: Double
    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Double.self) { value = number; return }
        let text = try container.decode(String.self)
        guard let number = ["NaN": Double.nan, "Infinity": .infinity, "-Infinity": -.infinity][text] else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a number: \(text)")
        }
        value = number
    }
}

/// A hyperparameter value as the reader prints it (number, string or bool; only its presence is compared).
struct ReadValue: Decodable {
    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if (try? container.decode(Double.self)) != nil || (try? container.decode(Bool.self)) != nil { return }
        _ = try container.decode(String.self)
    }
}

/// Whether a param as exported (JSON spelling: `true`, `0.5`) and as the `params` table stores it
/// (Foundation's spelling of the same value) are the same value.
enum ParamText {
    static func same(_ exported: String, _ stored: String) -> Bool {
        if exported == stored { return true }
        if let a = Double(exported), let b = Double(stored) { return a == b }
        let flags = ["true": "1", "false": "0"]
        return flags[exported] == stored
    }
}

/// `python3` with `scripts/read_export.py`.
enum PythonReaders {
    /// Nil when `python3 -c "import tensorboard, mlflow"` succeeds, else what went wrong.
    static let missing: String? = {
        guard let result = try? run(["-c", "import tensorboard, mlflow"]) else { return "python3 not found" }
        return result.status == 0 ? nil : result.stderr
    }()

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/read_export.py")

    /// Runs the reader with `arguments` and decodes the JSON it prints.
    static func read<T: Decodable>(_ type: T.Type, _ arguments: [String]) throws -> T {
        let result = try run([script.path] + arguments)
        guard result.status == 0 else { throw ExportTestFailure("read_export.py \(arguments) failed: \(result.stderr)") }
        return try JSONDecoder().decode(T.self, from: Data(result.stdout.utf8))
    }

    /// Runs `python3 arguments`; stderr goes through a file so a chatty reader cannot fill a pipe
    /// nobody drains while its JSON is read.
    static func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let errors = FileManager.default.temporaryDirectory.appendingPathComponent("backdrop-read-export-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errors) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let e = (try? Data(contentsOf: errors)) ?? Data()
        return (process.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }
}
