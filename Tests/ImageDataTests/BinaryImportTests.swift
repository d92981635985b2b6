import Foundation
import Testing
import TestSupport
@testable import ImageData

/// The CIFAR-10 / CIFAR-100 / STL-10 importers against the tiny binaries and numpy-decoded
/// reference PNGs of `scripts/fixtures/make_cifar_stl_fixtures.py` (`Fixtures/binary/`).
@Suite struct BinaryImportTests {
    struct Expected: Decodable {
        struct Dataset: Decodable { var outputs: [String]; var coarseOutputs: [String]?; var counts: [String: Int] }
        var cifar10: Dataset
        var cifar100: Dataset
        var stl10: Dataset
        var references: [String]
    }

    static func expected() throws -> Expected {
        try JSONDecoder().decode(Expected.self, from: Data(contentsOf: URL(fileURLWithPath: Fixtures.path("binary/expected.json"))))
    }

    /// Every PNG under `out`, relative to it, sorted.
    static func pngs(under out: String) -> [String] {
        let all = FileManager.default.enumerator(atPath: out)?.allObjects as? [String] ?? []
        return all.filter { $0.hasSuffix(".png") }.sorted()
    }

    /// The reference PNGs of `dataset` equal what the import wrote at the same relative path.
    static func expectReferencesMatch(_ dataset: String, out: String) throws {
        let references = try expected().references.filter { $0.hasPrefix(dataset + "/") }
        #expect(!references.isEmpty)
        for reference in references {
            let relative = String(reference.dropFirst(dataset.count + 1))
            let want = try PNGCodec.decode(contentsOf: Fixtures.path("binary/reference/" + reference))
            let got = try PNGCodec.decode(contentsOf: out + "/" + relative)
            #expect(got == want, "\(relative) differs from the numpy-decoded record")
        }
    }

    /// A scratch copy of fixture folder `name`, for tests that damage it.
    static func copyOfFixture(_ name: String, into dir: URL) throws -> String {
        let copy = dir.appendingPathComponent(name).path
        try FileManager.default.copyItem(atPath: Fixtures.path("binary/" + name), toPath: copy)
        return copy
    }

    @Test func cifar10FromTheArchiveSubfolder() throws {
        try withTemporaryDirectory { dir in
            let out = dir.appendingPathComponent("out").path
            let manifest = try CIFARImporter.importCIFAR10(from: Fixtures.path("binary/cifar10"), to: out)
            let expected = try Self.expected().cifar10
            #expect(Self.pngs(under: out) == expected.outputs)
            try Self.expectReferencesMatch("cifar10", out: out)
            #expect(manifest.source == "cifar10" && manifest.imageSize == 32)
            #expect(manifest.classes.count == 10 && manifest.classes[6] == "frog")
            #expect(manifest.splits.mapValues(\.images) == expected.counts)
            // Per-class counts agree with the files on disk.
            for (split, counts) in manifest.splits {
                for (name, n) in counts.perClass {
                    #expect(try FileManager.default.contentsOfDirectory(atPath: "\(out)/\(split)/\(name)").count == n)
                }
            }
            #expect(manifest.files.filter { $0.records != nil }.map { ($0.path as NSString).lastPathComponent }
                    == ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"])
            #expect(try BinaryImportManifest.read(from: out) == manifest)
        }
    }

    @Test func cifar100FineAndCoarseFromTheFolderItself() throws {
        let expected = try Self.expected().cifar100
        try withTemporaryDirectory { dir in
            let fine = dir.appendingPathComponent("fine").path
            let manifest = try CIFARImporter.importCIFAR100(from: Fixtures.path("binary/cifar100"), to: fine)
            #expect(Self.pngs(under: fine) == expected.outputs)
            #expect(manifest.labels == "fine" && manifest.classes.count == 100)
            try Self.expectReferencesMatch("cifar100", out: fine)

            let coarse = dir.appendingPathComponent("coarse").path
            let coarseManifest = try CIFARImporter.importCIFAR100(from: Fixtures.path("binary/cifar100"), to: coarse, labels: .coarse)
            #expect(Self.pngs(under: coarse) == expected.coarseOutputs)
            #expect(coarseManifest.labels == "coarse" && coarseManifest.classes.count == 20)
            // Same record, same pixels, whichever label names the folder.
            let a = try PNGCodec.decode(contentsOf: fine + "/" + expected.outputs.first { $0.hasSuffix("train-00000.png") }!)
            let b = try PNGCodec.decode(contentsOf: coarse + "/" + expected.coarseOutputs!.first { $0.hasSuffix("train-00000.png") }!)
            #expect(a == b)
        }
    }

    @Test func stl10PlanesAreColumnMajorAndUnlabeledHasNoClassFolders() throws {
        let expected = try Self.expected().stl10
        try withTemporaryDirectory { dir in
            let out = dir.appendingPathComponent("out").path
            let manifest = try STL10Importer.importDataset(from: Fixtures.path("binary/stl10"), to: out)
            #expect(Self.pngs(under: out) == expected.outputs)
            #expect(expected.outputs.contains("unlabeled/unlabeled_X-000001.png"))
            #expect(manifest.splits["unlabeled"] == .init(images: 2, perClass: [:]))
            #expect(manifest.splits.mapValues(\.images) == expected.counts)
            try Self.expectReferencesMatch("stl10", out: out)
            // The reference is not symmetric, so a row-major (transposed) decode could not match it.
            let trainReference = try #require(try Self.expected().references.first { $0.hasPrefix("stl10/train/") })
            let reference = try PNGCodec.decode(contentsOf: Fixtures.path("binary/reference/" + trainReference))
            var transposed = reference.rgb
            for y in 0..<96 { for x in 0..<96 { for c in 0..<3 { transposed[(y * 96 + x) * 3 + c] = reference.rgb[(x * 96 + y) * 3 + c] } } }
            #expect(transposed != reference.rgb)
            // The first record's first bytes are its first *column*: pixel (0, 1) is byte 1 of the R plane.
            let raw = try Fixtures.bytes("binary/stl10/stl10_binary/train_X.bin")
            let first = try PNGCodec.decode(contentsOf: out + "/" + expected.outputs.first { $0.hasSuffix("train_X-00000.png") }!)
            #expect(first.pixel(0, 1).0 == raw[1] && first.pixel(1, 0).0 == raw[96])
        }
    }

    @Test func stl10SkipUnlabeledNeedsNoUnlabeledFile() throws {
        try withTemporaryDirectory { dir in
            let source = try Self.copyOfFixture("stl10", into: dir)
            try FileManager.default.removeItem(atPath: source + "/stl10_binary/unlabeled_X.bin")
            let out = dir.appendingPathComponent("out").path
            #expect { try STL10Importer.importDataset(from: source, to: out) } throws: { error in
                guard case let .missingFile(name, _, fix)? = error as? BinaryDatasetError else { return false }
                return name == "unlabeled_X.bin" && fix.contains("--skip-unlabeled")
            }
            #expect(!FileManager.default.fileExists(atPath: out), "nothing is written when a file is missing")
            let manifest = try STL10Importer.importDataset(from: source, to: out, includeUnlabeled: false)
            #expect(manifest.splits["unlabeled"] == nil)
            #expect(!FileManager.default.fileExists(atPath: out + "/unlabeled"))
            #expect(Self.pngs(under: out) == (try Self.expected().stl10.outputs.filter { !$0.hasPrefix("unlabeled/") }))
        }
    }

    @Test func wrongLengthNamesTheFileTheRecordSizeAndTheFix() throws {
        try withTemporaryDirectory { dir in
            let source = try Self.copyOfFixture("cifar10", into: dir)
            let bad = source + "/cifar-10-batches-bin/data_batch_2.bin"
            try FileManager.default.removeItem(atPath: bad)
            try FileManager.default.copyItem(atPath: Fixtures.path("binary/wrong_length/data_batch_2.bin"), toPath: bad)
            let out = dir.appendingPathComponent("out").path
            do {
                try CIFARImporter.importCIFAR10(from: source, to: out)
                Issue.record("a batch of 2 × 3073 − 100 bytes was accepted")
            } catch let error as BinaryDatasetError {
                guard case let .wrongLength(path, bytes, recordBytes, _, _) = error else { Issue.record("unexpected \(error)"); return }
                #expect(path == bad && bytes == 2 * 3073 - 100 && recordBytes == 3073)
                #expect(error.description.hasPrefix(bad))
                #expect(error.description.contains("1 whole record(s) and 2973 byte(s) left over"))
                #expect(error.description.contains("cifar-10-binary.tar.gz"))
            }
            #expect(!FileManager.default.fileExists(atPath: out))
        }
    }

    @Test func missingRecordAndLabelNameFilesAreNamed() throws {
        try withTemporaryDirectory { dir in
            let source = try Self.copyOfFixture("cifar10", into: dir)
            let out = dir.appendingPathComponent("out").path
            try FileManager.default.removeItem(atPath: source + "/cifar-10-batches-bin/batches.meta.txt")
            #expect(throws: BinaryDatasetError.missingFile(name: "batches.meta.txt", lookedIn: [source + "/", source + "/cifar-10-batches-bin/"],
                                                           fix: CIFARImporter.fix10)) {
                try CIFARImporter.importCIFAR10(from: source, to: out)
            }
            try FileManager.default.removeItem(atPath: source + "/cifar-10-batches-bin/test_batch.bin")
            #expect { try CIFARImporter.importCIFAR10(from: source, to: out) } throws: { error in
                (error as? BinaryDatasetError)?.description.hasPrefix("test_batch.bin: missing (looked in \(source)/ and") == true
            }
            let empty = dir.appendingPathComponent("nothing").path
            try makeDirectory(empty)
            #expect { try CIFARImporter.importCIFAR100(from: empty, to: out) } throws: { error in
                guard case let .missingFile(name, _, fix)? = error as? BinaryDatasetError else { return false }
                return name == "train.bin" && fix.contains("cifar-100-binary.tar.gz")
            }
            #expect(!FileManager.default.fileExists(atPath: out))
        }
    }

    @Test func labelsOutOfRangeAndBadNameFilesAreErrors() throws {
        try withTemporaryDirectory { dir in
            let out = dir.appendingPathComponent("out").path
            // CIFAR-10: record 1 of test_batch gets label 10.
            let cifar = try Self.copyOfFixture("cifar10", into: dir)
            let batch = cifar + "/cifar-10-batches-bin/test_batch.bin"
            var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: batch)))
            bytes[3073] = 10
            try Data(bytes).write(to: URL(fileURLWithPath: batch))
            #expect(throws: BinaryDatasetError.labelOutOfRange(path: batch, record: 1, label: 10, valid: 0...9)) {
                try CIFARImporter.importCIFAR10(from: cifar, to: out)
            }
            #expect(!FileManager.default.fileExists(atPath: out), "labels are checked before anything is written")
            // STL-10 labels run 1...10: 0 is out of range.
            let stl = try Self.copyOfFixture("stl10", into: dir)
            let labels = stl + "/stl10_binary/test_y.bin"
            try Data([0]).write(to: URL(fileURLWithPath: labels))
            #expect(throws: BinaryDatasetError.labelOutOfRange(path: labels, record: 0, label: 0, valid: 1...10)) {
                try STL10Importer.importDataset(from: stl, to: out, includeUnlabeled: false)
            }
            // Two labels for one image.
            try Data([1, 2]).write(to: URL(fileURLWithPath: labels))
            #expect(throws: BinaryDatasetError.countMismatch(images: stl + "/stl10_binary/test_X.bin", imageCount: 1, labels: labels, labelCount: 2)) {
                try STL10Importer.importDataset(from: stl, to: out, includeUnlabeled: false)
            }
            // Nine class names.
            let names = cifar + "/cifar-10-batches-bin/batches.meta.txt"
            try "a\nb\nc\nd\ne\nf\ng\nh\ni\n".write(toFile: names, atomically: true, encoding: .utf8)
            #expect(throws: BinaryDatasetError.badLabelNames(path: names, problem: "expected 10 class names, one per line, found 9")) {
                try CIFARImporter.importCIFAR10(from: cifar, to: out)
            }
            try "a\nb\nc\nd\ne\nf\ng\nh\ni\nx/y\n".write(toFile: names, atomically: true, encoding: .utf8)
            #expect { try CIFARImporter.importCIFAR10(from: cifar, to: out) } throws: { error in
                (error as? BinaryDatasetError)?.description.contains("\"x/y\" cannot be a folder name") == true
            }
        }
    }

    @Test func refusesAnOutputFolderThatHoldsFiles() throws {
        try withTemporaryDirectory { dir in
            let out = dir.appendingPathComponent("out").path
            try makeDirectory(out)
            try "old".write(toFile: out + "/leftover.txt", atomically: true, encoding: .utf8)
            #expect(throws: BinaryDatasetError.outputNotEmpty(path: out)) {
                try CIFARImporter.importCIFAR100(from: Fixtures.path("binary/cifar100"), to: out)
            }
            #expect(Self.pngs(under: out).isEmpty)
        }
    }

    @Test func outputNamesKeepTheStemAndAPaddedIndex() throws {
        let file = BinaryRecordFile(path: "/x/data_batch_3.bin", stem: "data_batch_3", recordBytes: 3073, count: 10000)
        let source = RecordSource(file: file, split: "train", labels: .inRecord(offset: 0), labelBase: 0, pixelOffset: 1,
                                  side: 32, planes: .rowMajor, indexDigits: 5)
        #expect(source.outputName(4211) == "data_batch_3-04211.png")
        let unlabeled = RecordSource(file: file, split: "unlabeled", labels: .none, labelBase: 1, pixelOffset: 0,
                                     side: 96, planes: .columnMajor, indexDigits: 6)
        #expect(unlabeled.outputName(42) == "data_batch_3-000042.png")
        #expect(unlabeled.outputName(123_456) == "data_batch_3-123456.png")
    }

    @Test func progressReportsEveryFile() throws {
        try withTemporaryDirectory { dir in
            nonisolated(unsafe) var seen: [BinaryImportProgress] = []
            try CIFARImporter.importCIFAR10(from: Fixtures.path("binary/cifar10"), to: dir.appendingPathComponent("out").path) { seen.append($0) }
            #expect(seen.filter(\.fileFinished).count == 6)
            #expect(seen.last?.written == 12 && seen.last?.total == 12)
            #expect(seen.map(\.written) == seen.map(\.written).sorted())
        }
    }
}
