import ArgumentParser
import Foundation
import ImageData

/// `backdrop dataset import cifar10|cifar100|stl10 DIR --out OUT`: the official binary
/// distributions into the plain image-folder layout (docs/Datasets.md).
extension DatasetCommand.Import {
    struct CIFAR10: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cifar10",
            abstract: "Import the CIFAR-10 binary version (data_batch_1..5.bin, test_batch.bin, batches.meta.txt).",
            discussion: "Writes OUT/{train,test}/<class>/<stem>-<index>.png (32×32) and OUT/manifest.json, e.g. train/frog/data_batch_3-04211.png.")

        @Argument(help: "Folder holding the files, or the folder cifar-10-batches-bin/ was extracted into.") var dir: String
        @Option(help: "Output folder (must be empty or absent).") var out: String
        @Flag(help: "No progress line.") var quiet = false

        func run() throws {
            let manifest = try BinaryImportReporter.run(out: out, quiet: quiet) { progress in
                try CIFARImporter.importCIFAR10(from: dir, to: out, progress: progress)
            }
            BinaryImportReporter.summarize(manifest, out: out)
        }
    }

    struct CIFAR100: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cifar100",
            abstract: "Import the CIFAR-100 binary version (train.bin, test.bin, fine_ and coarse_label_names.txt).",
            discussion: "Writes OUT/{train,test}/<class>/<stem>-<index>.png (32×32) and OUT/manifest.json, e.g. test/apple/test-00042.png.")

        @Argument(help: "Folder holding the files, or the folder cifar-100-binary/ was extracted into.") var dir: String
        @Option(help: "Output folder (must be empty or absent).") var out: String
        @Option(help: "Class folders from the fine (100) or coarse (20) labels.") var labels = "fine"
        @Flag(help: "No progress line.") var quiet = false

        func validate() throws {
            guard CIFAR100Labels(rawValue: labels) != nil else { throw ValidationError("--labels \(labels) is not valid; use fine or coarse") }
        }

        func run() throws {
            let kind = CIFAR100Labels(rawValue: labels)!
            let manifest = try BinaryImportReporter.run(out: out, quiet: quiet) { progress in
                try CIFARImporter.importCIFAR100(from: dir, to: out, labels: kind, progress: progress)
            }
            BinaryImportReporter.summarize(manifest, out: out)
        }
    }

    struct STL10: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "stl10",
            abstract: "Import the STL-10 binary version (train_/test_X.bin and _y.bin, unlabeled_X.bin, class_names.txt).",
            discussion: "Writes OUT/{train,test}/<class>/<stem>-<index>.png, OUT/unlabeled/unlabeled_X-<index>.png (96×96) and OUT/manifest.json.")

        @Argument(help: "Folder holding the files, or the folder stl10_binary/ was extracted into.") var dir: String
        @Option(help: "Output folder (must be empty or absent).") var out: String
        @Flag(help: "Leave out the 100 000 unlabeled images (unlabeled_X.bin need not exist).") var skipUnlabeled = false
        @Flag(help: "No progress line.") var quiet = false

        func run() throws {
            let manifest = try BinaryImportReporter.run(out: out, quiet: quiet) { progress in
                try STL10Importer.importDataset(from: dir, to: out, includeUnlabeled: !skipUnlabeled, progress: progress)
            }
            BinaryImportReporter.summarize(manifest, out: out)
        }
    }
}

/// The progress line and the summary the binary importers print.
enum BinaryImportReporter {
    /// Runs `body` with a progress callback that rewrites one stderr line on a terminal, and
    /// prints one line per finished file otherwise; errors are rethrown unchanged.
    static func run(out: String, quiet: Bool,
                    _ body: (((BinaryImportProgress) -> Void)?) throws -> BinaryImportManifest) throws -> BinaryImportManifest {
        let terminal = isatty(STDERR_FILENO) != 0
        let start = Date()
        let progress: ((BinaryImportProgress) -> Void)? = quiet ? nil : { p in
            let line = String(format: "%@: %d/%d images (%.0f s)", p.split, p.written, p.total, Date().timeIntervalSince(start))
            if terminal {
                FileHandle.standardError.write(Data(("\r" + line + (p.written == p.total ? "\n" : "")).utf8))
            } else if p.fileFinished {
                FileHandle.standardError.write(Data((line + " — finished \((p.file as NSString).lastPathComponent)\n").utf8))
            }
        }
        do {
            return try body(progress)
        } catch {
            // End the progress line; ArgumentParser then prints "Error: <description>" and exits 1.
            if terminal && !quiet { FileHandle.standardError.write(Data("\n".utf8)) }
            throw error
        }
    }

    static func summarize(_ manifest: BinaryImportManifest, out: String) {
        let total = manifest.splits.values.reduce(0) { $0 + $1.images }
        print("wrote \(total) images (\(manifest.imageSize)×\(manifest.imageSize)) from \(manifest.source) to \(out)")
        for split in manifest.splits.keys.sorted() {
            let counts = manifest.splits[split]!
            let classes = counts.perClass.isEmpty ? "no classes" : "\(counts.perClass.count) classes"
            print("  \(split): \(counts.images) images, \(classes)")
        }
        print("manifest: \((out as NSString).appendingPathComponent("manifest.json"))")
    }
}
