import ArgumentParser
import Foundation
import ImageData

extension DatasetCommand.Import {
    /// `backdrop dataset import in9 ROOT --out OUT`: the ImageNet-9 Backgrounds Challenge release
    /// as a masked train/test dataset plus one named test set per fixed variant.
    struct IN9: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "in9",
            abstract: "Import ImageNet-9 (Backgrounds Challenge): original + fg_mask → train/test, the variants → testsets/in9-*.",
            discussion: """
            ROOT holds <variant>/val/<class>/*.JPEG (original, only_fg, only_bg_b, only_bg_t, mixed_same, mixed_rand, \
            mixed_next, no_fg) and fg_mask/val/<class>/<stem>.npy. The original images and their masks become OUT/{train,test}/ \
            (IN-9 ships only val: it is split per class by --test-fraction and --seed; an original/train folder is used as \
            train when present). Every other variant becomes OUT/testsets/in9-<variant>/<class>/ for evaluation.testSets. \
            Images without a usable mask are listed with the reason in OUT/manifest.json (docs/Datasets.md).
            """)

        @Argument(help: "The unpacked Backgrounds Challenge release (holds original/ and fg_mask/).") var root: String
        @Option(help: "Output folder (must not exist or be empty).") var out: String
        @Option(help: "Fraction of each class's val images that forms the test split (0 < f < 1).") var testFraction = 0.3
        @Option(help: "Seed of the per-class train/test split.") var seed: UInt64 = 0

        func validate() throws {
            guard testFraction > 0 && testFraction < 1 else { throw ValidationError("--test-fraction \(testFraction) must lie strictly between 0 and 1, e.g. 0.3") }
        }

        func run() throws {
            let manifest: IN9Manifest
            do {
                manifest = try IN9Importer.run(root: root, out: out, testFraction: testFraction, seed: seed) { print($0) }
            } catch let e as ImageDataError {
                throw ValidationError(e.description)
            }
            let train = manifest.counts["train"]?.values.reduce(0, +) ?? 0, test = manifest.counts["test"]?.values.reduce(0, +) ?? 0
            print("wrote \(train) train and \(test) test images of \(manifest.classes.count) classes, \(manifest.testSets.count) test sets to \(out)")
            if !manifest.missingVariants.isEmpty { print("variants not found: \(manifest.missingVariants.joined(separator: ", "))") }
            if !manifest.skipped.isEmpty {
                print("skipped \(manifest.skipped.count) files (listed with reasons in \(out)/manifest.json):")
                for s in manifest.skipped.prefix(20) { print("  \(s.path): \(s.reason)") }
                if manifest.skipped.count > 20 { print("  …") }
            }
        }
    }
}
