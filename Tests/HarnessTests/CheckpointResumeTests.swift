import Foundation
import TensorCore
import ResultsStore
import TestSupport
import Testing
@testable import Harness

/// Collects a runner's log lines.
final class LogLines: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    var lines: [String] { lock.withLock { stored } }
    var sink: @Sendable (String) -> Void { { [self] line in lock.withLock { stored.append(line) } } }
}

/// A cell stopped after epoch 1 by a process that no longer exists (its claim left `running`).
struct Interrupted {
    var runner: MatrixRunner
    var context: ReproductionContext
    var cell: MatrixCell
    var checkpoint: URL

    init(_ options: MatrixRunner.Options, log: LogLines = LogLines()) throws {
        runner = MatrixRunner(options: options, log: log.sink)
        context = try runner.makeContext()
        cell = context.spec.cells()[0]
        let store = try ResultsDatabase(path: options.databasePath)
        let experiment = try store.upsertExperiment(name: context.spec.name, specSHA256: context.spec.specSHA256)
        let dead = Process()
        dead.executableURL = URL(fileURLWithPath: "/bin/true")
        try dead.run()
        dead.waitUntilExit()
        let ghost = RunOwner(host: RunOwner.current.host, pid: Int(dead.processIdentifier))
        let outcome = try CellRunner.run(cell, experimentID: experiment.id, store: store, context: context, stepLimit: 3, owner: ghost)
        guard outcome == .interrupted else { throw SpecError(location: "test", key: "", message: "expected an interruption, got \(outcome)") }
        checkpoint = TrainingCell.checkpointURL(in: context.checkpointDirectory(for: cell))
    }
}

/// The evaluations of one cell, ordered, for comparing two databases.
func evaluationRows(_ db: String, cell: String) throws -> [[QueryValue]] {
    try ResultsDatabase.readOnlyQuery(path: db, sql: """
        SELECT e.protocol || e.probe_view || e.test_view, e.top1, e.top5 FROM evaluations e JOIN runs r ON r.id = e.run_id
        WHERE r.cell_key = '\(cell)' ORDER BY 1
        """).rows
}

/// The same cell trained without interruption in a folder of its own.
func uninterruptedRows(cell: String, name: String) throws -> [[QueryValue]] {
    let (dir, spec) = try reproductionFolder(name)
    defer { try? FileManager.default.removeItem(at: dir) }
    var options = runnerOptions(dir, spec: spec)
    options.cellKeys = [cell]
    _ = try MatrixRunner(options: options, log: { _ in }).run()
    return try evaluationRows(options.databasePath, cell: cell)
}

func isFinished(_ outcome: CellOutcome?, resumed: Bool) -> Bool {
    if case .finished(let r, _) = outcome { return r == resumed }
    return false
}

@Suite(.serialized) struct CheckpointResumeTests {
    @Test func checkpointDirectoryIsKeyedByTheRun() throws {
        let (dir, spec) = try reproductionFolder("ckpt-dir")
        defer { try? FileManager.default.removeItem(at: dir) }
        var options = runnerOptions(dir, spec: spec)
        let context = try MatrixRunner(options: options, log: { _ in }).makeContext()
        options.overrides = ["train.epochs=3"]
        let variant = try MatrixRunner(options: options, log: { _ in }).makeContext()
        let (a, b) = (context.spec.cells()[0], variant.spec.cells()[0])
        #expect(a.key == b.key && a.configSHA256 != b.configSHA256)
        #expect(context.checkpointDirectory(for: a) != variant.checkpointDirectory(for: b))
        #expect(context.checkpointDirectory(for: a)
                .hasSuffix("/checkpoints/sample-\(context.spec.specSHA256.prefix(12))/\(a.directoryName)-\(a.configSHA256.prefix(16))"))
        // An override that leaves this cell's configuration alone still makes another run.
        options.overrides = ["seeds=[0, 1]"]
        let more = try MatrixRunner(options: options, log: { _ in }).makeContext()
        #expect(more.spec.cells()[0].configSHA256 == a.configSHA256)
        #expect(more.checkpointDirectory(for: more.spec.cells()[0]) != context.checkpointDirectory(for: a))
    }

    /// (a) A `--set` variant of an interrupted experiment leaves the original's checkpoint alone.
    @Test func setVariantDoesNotTouchTheOriginalsCheckpoint() throws {
        let (dir, spec) = try reproductionFolder("ckpt-variant")
        defer { try? FileManager.default.removeItem(at: dir) }
        let options = runnerOptions(dir, spec: spec)
        let original = try Interrupted(options)
        let before = try Data(contentsOf: original.checkpoint)

        var variant = options
        variant.overrides = ["train.epochs=3"]
        variant.cellKeys = [original.cell.key]
        let summary = try MatrixRunner(options: variant, log: { _ in }).run()
        #expect(summary.failed == 0 && summary.trained == 1)
        #expect(try Data(contentsOf: original.checkpoint) == before)

        var rerun = options
        rerun.cellKeys = [original.cell.key]
        let resumed = try MatrixRunner(options: rerun, log: { _ in }).run()
        #expect(resumed.failed == 0)
        #expect(isFinished(resumed.outcomes.first?.outcome, resumed: true))
        // Both runs of the cell (the original's and the variant's) finished with their evaluations.
        #expect(try count(options.databasePath, "SELECT COUNT(*) FROM runs WHERE cell_key = '\(original.cell.key)' AND status = 'finished'") == 2)
        #expect(try count(options.databasePath, "SELECT COUNT(*) FROM evaluations") == 40)
    }

    enum Damage: String, CaseIterable, Sendable { case flippedBits, truncated, nanFilled }

    /// (b), (c) A damaged checkpoint is reported, set aside, and the cell restarts and matches an
    /// uninterrupted run.
    @Test(arguments: Damage.allCases) func damagedCheckpointRestartsFromScratch(_ damage: Damage) throws {
        let (dir, spec) = try reproductionFolder("ckpt-\(damage.rawValue)")
        defer { try? FileManager.default.removeItem(at: dir) }
        var options = runnerOptions(dir, spec: spec)
        let log = LogLines()
        let interrupted = try Interrupted(options, log: log)
        options.cellKeys = [interrupted.cell.key]
        var bytes = [UInt8](try Data(contentsOf: interrupted.checkpoint))
        let dataStart = 8 + Int(bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        switch damage {
        case .flippedBits:
            for i in stride(from: dataStart, to: min(bytes.count, dataStart + 4 * 4096), by: 4) { bytes[i] ^= 1 }
        case .truncated:
            bytes = Array(bytes[0..<(dataStart + (bytes.count - dataStart) / 2)])
        case .nanFilled:
            for i in dataStart..<bytes.count { bytes[i] = 0xFF }
        }
        try Data(bytes).write(to: interrupted.checkpoint)

        let summary = try MatrixRunner(options: options, log: log.sink).run()
        #expect(summary.failed == 0)
        #expect(isFinished(summary.outcomes.first?.outcome, resumed: false))
        let report = log.lines.first { $0.contains("cannot be resumed") }
        #expect(report?.contains(interrupted.checkpoint.path) == true)
        let folder = interrupted.checkpoint.deletingLastPathComponent().path
        let rejected = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix("checkpoint.safetensors.rejected-") }
        #expect(rejected.count == 1)
        #expect(try evaluationRows(options.databasePath, cell: interrupted.cell.key)
                == uninterruptedRows(cell: interrupted.cell.key, name: "ckpt-\(damage.rawValue)-reference"))
    }

    /// A checkpoint whose hash matches but that holds NaN (e.g. written after a divergence).
    @Test func nonFiniteTensorsAreRejectedEvenWithAMatchingHash() throws {
        let dir = temporaryDirectory("ckpt-guard")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("checkpoint.safetensors")
        let counters = CheckpointCounters(position: TrainingPosition(), epochs: 1, batchesPerEpoch: 1, totalSteps: 1, sourceFingerprint: "s",
                                          configFingerprint: "c", current: EpochAccumulator(), summaries: [])
        try CheckpointFile.write(tensors: [("method.w", Tensor(shape: [3], [1, 2, 3]))], counters: counters, to: url)
        #expect(CheckpointGuard.problem(with: url, expectedSHA256: try ContentHash.sha256Hex(fileAt: url)) == nil)
        #expect(CheckpointGuard.problem(with: url, expectedSHA256: nil)?.contains("no sha256") == true)
        #expect(CheckpointGuard.problem(with: url, expectedSHA256: String(repeating: "0", count: 64))?.contains("sha256") == true)
        try CheckpointFile.write(tensors: [("method.w", Tensor(shape: [3], [1, .nan, 3]))], counters: counters, to: url)
        #expect(CheckpointGuard.problem(with: url, expectedSHA256: try ContentHash.sha256Hex(fileAt: url))?.contains("'method.w' holds NaN") == true)
        let aside = try CheckpointGuard.setAside(url, now: Date(timeIntervalSince1970: 42))
        #expect(aside.lastPathComponent == "checkpoint.safetensors.rejected-42" && !FileManager.default.fileExists(atPath: url.path))
    }

    /// (d) Temporaries of an interrupted checkpoint write are removed; the intact checkpoint resumes.
    @Test func leftoverTemporaryFilesAreRemoved() throws {
        let (dir, spec) = try reproductionFolder("ckpt-temporaries")
        defer { try? FileManager.default.removeItem(at: dir) }
        var options = runnerOptions(dir, spec: spec)
        let log = LogLines()
        let interrupted = try Interrupted(options, log: log)
        options.cellKeys = [interrupted.cell.key]
        let folder = interrupted.checkpoint.deletingLastPathComponent()
        let leftovers = [".checkpoint.safetensors.partial", "..checkpoint.safetensors.partial.nosync1a2b.XyZ"].map { folder.appendingPathComponent($0) }
        for url in leftovers { try Data("half".utf8).write(to: url) }

        let summary = try MatrixRunner(options: options, log: log.sink).run()
        #expect(summary.failed == 0)
        #expect(isFinished(summary.outcomes.first?.outcome, resumed: true))
        for url in leftovers { #expect(!FileManager.default.fileExists(atPath: url.path)) }
        #expect(log.lines.filter { $0.contains("temporary file left by an interrupted checkpoint write") }.count == 2)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["checkpoint.safetensors"])
    }
}
