import Foundation
import TestSupport
import Testing

/// `backdrop dataset import cifar10|cifar100|stl10` end to end, on CIFAR-10 binaries written here
/// (6 files × 8 records of random pixels, labels 0 and 1 alternating: two classes per split).
@Suite(.serialized) struct ImportBinaryCommandTests {
    /// Writes `data_batch_1..5.bin`, `test_batch.bin` and `batches.meta.txt` into `dir/cifar-10-batches-bin/`.
    static func writeCIFAR10(into dir: URL, records: Int = 8) throws {
        let folder = dir.appendingPathComponent("cifar-10-batches-bin")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for stem in ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"] {
            var bytes: [UInt8] = []
            for r in 0..<records {
                bytes.append(UInt8(r % 2))
                for _ in 0..<3072 {
                    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                    bytes.append(UInt8(truncatingIfNeeded: state >> 56))
                }
            }
            try Data(bytes).write(to: folder.appendingPathComponent(stem + ".bin"))
        }
        let names = "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n"
        try names.write(to: folder.appendingPathComponent("batches.meta.txt"), atomically: true, encoding: .utf8)
    }

    @Test func importsCIFAR10AndNamesFilesByStemAndIndex() throws {
        let dir = temporaryDirectory("cifar10-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.writeCIFAR10(into: dir)
        let out = dir.appendingPathComponent("out").path
        let r = try Executables.run("backdrop", ["dataset", "import", "cifar10", dir.path, "--out", out])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("wrote 48 images (32×32) from cifar10"), "\(r.stdout)")
        #expect(r.stderr.contains("test: 48/48 images"), "progress lines: \(r.stderr)")
        for path in ["train/airplane/data_batch_3-00006.png", "train/automobile/data_batch_5-00007.png", "test/airplane/test_batch-00000.png", "manifest.json"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + path), "\(path) missing")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: out + "/train").sorted() == ["airplane", "automobile"])
        // A second import into the same folder is refused, naming it.
        let again = try Executables.run("backdrop", ["dataset", "import", "cifar10", dir.path, "--out", out])
        #expect(again.status != 0 && again.stderr.contains("\(out): the output folder is not empty"), "\(again.stderr)")
    }

    @Test func wrongLengthAndMissingFilesFailWithTheFileNamed() throws {
        let dir = temporaryDirectory("cifar10-cli-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.writeCIFAR10(into: dir)
        let batch = dir.appendingPathComponent("cifar-10-batches-bin/data_batch_4.bin")
        try Data(try Data(contentsOf: batch).dropLast(7)).write(to: batch)
        let out = dir.appendingPathComponent("out").path
        let r = try Executables.run("backdrop", ["dataset", "import", "cifar10", dir.path, "--out", out, "--quiet"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("\(batch.path): \(8 * 3073 - 7) bytes is not a whole number of 3073-byte records"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
        let stl = try Executables.run("backdrop", ["dataset", "import", "stl10", dir.path, "--out", out, "--skip-unlabeled"])
        #expect(stl.status == 1 && stl.stderr.contains("train_X.bin: missing (looked in"), "\(stl.stderr)")
        let labels = try Executables.run("backdrop", ["dataset", "import", "cifar100", dir.path, "--out", out, "--labels", "medium"])
        #expect(labels.status == 64 && labels.stderr.contains("--labels medium is not valid; use fine or coarse"))
    }

    // Import → check → one epoch of training (views left at their defaults become `full`: the
    // imported folder has no masks) → evaluation rows.
    @Test func importedCIFAR10ChecksAndTrains() throws {
        let dir = temporaryDirectory("cifar10-e2e")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.writeCIFAR10(into: dir)
        let out = dir.appendingPathComponent("out").path
        #expect(try Executables.run("backdrop", ["dataset", "import", "cifar10", dir.path, "--out", out, "--quiet"]).status == 0)
        let check = try Executables.run("backdrop", ["dataset", "check", out])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        let train = try Executables.run("backdrop", [
            "train", "--data", out, "--epochs", "1", "--batch-size", "8", "--width", "4", "--preset", "quick",
            "--projector-hidden", "16", "--projector-output", "8", "--no-cache",
            "--set", "evaluation.probe.maxIterations=20", "--quiet"])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stdout.contains("linear (full)") && train.stdout.contains("knn (full)"), "\(train.stdout)")
        #expect(train.stdout.contains("n = 8 test images per view"), "\(train.stdout)")
        #expect(!train.stdout.contains("foreground") && !train.stdout.contains("mixed-random"), "\(train.stdout)")
        #expect(check.stdout.contains("masks: none (plain layout"), "\(check.stdout)")
    }
}
