import Foundation
import ResultsStore
import TestSupport
import Testing
@testable import Harness

/// A finished cell is skipped only while the dataset it was trained on is unchanged.
@Suite(.serialized) struct DatasetChangeTests {
    @Test func editedDatasetRerunsFinishedCellsAndRecordsTheNewHash() throws {
        let (dir, spec) = try reproductionFolder("dataset-change")
        defer { try? FileManager.default.removeItem(at: dir) }
        let options = runnerOptions(dir, spec: spec)
        let db = options.databasePath
        let first = try MatrixRunner(options: options, log: { _ in }).run()
        #expect(first.trained == 2 && first.failed == 0)
        let root = try MatrixRunner(options: options, log: { _ in }).makeContext().datasetRoot
        let oldSHA = try DatasetFiles.sha256(root: root)
        let metrics = try count(db, "SELECT COUNT(*) FROM metrics")

        // Replace one training image by another one of the folder (still a valid image).
        let images = FileManager.default.enumerator(atPath: root)!.compactMap { $0 as? String }
            .filter { $0.hasPrefix("train/images/") && $0.hasSuffix(".png") }.sorted()
        #expect(images.count >= 2)
        let target = URL(fileURLWithPath: root).appendingPathComponent(images[0])
        try Data(contentsOf: URL(fileURLWithPath: root).appendingPathComponent(images[images.count - 1])).write(to: target)
        let newSHA = try DatasetFiles.sha256(root: root)
        #expect(newSHA != oldSHA)
        let edited = Date().timeIntervalSince1970

        let second = try MatrixRunner(options: options, log: { _ in }).run()
        #expect(second.trained == 2 && second.failed == 0)
        #expect(second.outcomes.allSatisfy { if case .finished(false, _) = $0.outcome { return true } else { return false } })
        #expect(try count(db, "SELECT COUNT(*) FROM runs") == 2)
        #expect(try count(db, "SELECT COUNT(*) FROM runs WHERE status = 'finished' AND dataset_sha256 = '\(newSHA)'") == 2)
        #expect(try count(db, "SELECT COUNT(*) FROM evaluations") == 40)
        #expect(try count(db, "SELECT COUNT(*) FROM evaluations WHERE created_at < \(edited)") == 0)
        #expect(try count(db, "SELECT COUNT(*) FROM metrics") == metrics)
        #expect(try count(db, "SELECT COUNT(*) FROM metrics WHERE wall_time < \(edited)") == 0)
        #expect(try count(db, "SELECT COUNT(*) FROM checkpoints") == 4)

        let third = try MatrixRunner(options: options, log: { _ in }).run()
        #expect(third.trained == 0 && third.outcomes.allSatisfy { $0.outcome == .skipped })
        #expect(try count(db, "SELECT COUNT(*) FROM evaluations") == 40)
    }

}
