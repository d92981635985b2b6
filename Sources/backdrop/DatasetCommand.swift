import ArgumentParser
import Foundation
import ImageData

/// `backdrop dataset …`: generate, validate and preview image datasets.
struct DatasetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataset",
        abstract: "Generate, check and preview image datasets.",
        subcommands: [Generate.self, Check.self, Preview.self, Import.self, BenchLoader.self]
    )
}

/// Mask-format options shared by the commands that read a dataset folder.
struct MaskOptions: ParsableArguments {
    @Option(help: "How masks are stored: binary, soft, trimap or alpha.")
    var maskFormat: String = "binary"

    @Option(help: "For trimaps, what the boundary value 3 becomes: foreground, background or ignore.")
    var trimapBoundary: String = "foreground"

    func format() throws -> MaskFormat {
        guard let boundary = TrimapBoundary(rawValue: trimapBoundary) else {
            throw ValidationError("--trimap-boundary \(trimapBoundary) is not valid; use foreground, background or ignore")
        }
        return try MaskFormat(name: maskFormat, trimapBoundary: boundary)
    }
}

extension DatasetCommand {
    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write the built-in synthetic confounded dataset.")

        @Option(help: "Output folder (created if missing).") var out: String
        @Option(help: "Number of shape classes (2–12).") var classes = 10
        @Option(help: "Number of background texture families (default: the number of classes).") var backgrounds: Int?
        @Option(help: "Train images per class.") var perClass = 100
        @Option(help: "Test images per class.") var testPerClass = 20
        @Option(help: "Image side in pixels: 32 or 64.") var size = 32
        @Option(help: "Probability that a class appears on its own background family.") var confounding = 0.9
        @Option(help: "Random seed; the same seed gives byte-identical files.") var seed: UInt64 = 0

        func run() throws {
            let p = SceneParameters(classes: classes, backgrounds: backgrounds, perClass: perClass, testPerClass: testPerClass,
                                    size: size, confounding: confounding, seed: seed)
            let manifest = try SceneGenerator.write(p, to: out)
            let total = (perClass + testPerClass) * classes
            print("wrote \(total) images (\(perClass)/class train, \(testPerClass)/class test, \(size)×\(size)) to \(out)")
            for (c, name) in manifest.classes.enumerated() {
                print("  \(name): background \(manifest.backgroundFamilies[manifest.classBackground[c]]) with p \(confounding)")
            }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a dataset folder; exits 0 only when it has no error.",
            discussion: "Prints a summary and every problem (errors and warnings), naming each file.")

        @Argument(help: "Dataset root (holds train/ and test/).") var dir: String
        @OptionGroup var masks: MaskOptions

        func run() throws {
            let report = try Dataset.check(root: dir, maskFormat: try masks.format())
            print(report.text)
            if !report.isClean { throw ExitCode(1) }
        }
    }

    struct Preview: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a contact sheet PNG of images, masks, views and augmented views.",
            discussion: "Columns: \(ContactSheet.columns.joined(separator: ", ")). One row per image, a few images per class.")

        @Argument(help: "Dataset root.") var dir: String
        @Option(help: "Output PNG path.") var out: String
        @Option(help: "Split to preview.") var split = "test"
        @Option(help: "Images per class.") var perClass = 2
        @Option(help: "Image side the dataset is resized to.") var size = 32
        @Option(help: "Fill for removed pixels: gray, mean, black or noise.") var fill = "gray"
        @Option(help: "Augmentation preset: symmetric, symmetric_weak, asymmetric or quick.") var preset = "symmetric"
        @Option(help: "Seed for partners, noise and augmentations.") var seed: UInt64 = 0
        @OptionGroup var masks: MaskOptions

        func run() throws {
            guard let fillKind = BackgroundFill(rawValue: fill) else {
                throw ValidationError("--fill \(fill) is not valid; use gray, mean, black or noise")
            }
            guard let presetKind = AugmentationPreset(rawValue: preset) else {
                throw ValidationError("--preset \(preset) is not valid; use symmetric, symmetric_weak, asymmetric or quick")
            }
            let data = try Dataset.load(root: dir, split: split,
                                        options: DatasetOptions(size: size, maskFormat: try masks.format(), onBadSample: .skip, requireMasks: false))
            let renderer = ViewRenderer(split: data, options: ViewOptions(fill: fillKind, seed: seed), partnerSeed: seed)
            let sheet = ContactSheet.make(renderer: renderer, perClass: perClass, preset: presetKind, seed: seed)
            try PNGCodec.write(sheet, to: out)
            print("wrote \(sheet.width)×\(sheet.height) contact sheet to \(out)")
            print("columns: \(ContactSheet.columns.joined(separator: " | "))")
            if data.skippedCount > 0 { print("skipped \(data.skippedCount) bad sample(s); run `backdrop dataset check \(dir)`") }
            if !data.hasMasks { print("the \(split) split has no masks: every mask is all foreground, so only the `full` column is meaningful") }
        }
    }

    struct BenchLoader: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bench-loader", abstract: "Measure the batch loader's images/s alone.", shouldDisplay: false)

        @Argument(help: "Dataset root.") var dir: String
        @Option(help: "Batch size.") var batchSize = 256
        @Option(help: "Batches to time (after one warm-up batch).") var batches = 20
        @Option(help: "Image side.") var size = 32
        @Option(help: "Augmentation preset.") var preset = "symmetric"
        @Option(help: "Training view: full, foreground or foreground-crop.") var view = "full"
        @Option(help: "Folder of the packed cache the split is read from (decoded into it on first use).") var cacheDir = "Results/datasets/cache"
        @Flag(help: "Read the split in place from the mapped cache file, as a split over the memory budget is.") var streamed = false

        func run() throws {
            guard let presetKind = AugmentationPreset(rawValue: preset), let viewKind = ViewKind(rawValue: view) else {
                throw ValidationError("unknown --preset or --view")
            }
            var options = DatasetOptions(size: size, requireMasks: viewKind != .full, cacheDirectory: cacheDir)
            if streamed { options.memoryBudgetBytes = 0 }
            _ = try Dataset.load(root: dir, split: "train", options: options, log: { print($0) })   // packs it when the cache has no file yet
            let start = Date()
            let data = try Dataset.load(root: dir, split: "train", options: options)
            print(String(format: "read %d train images from the packed cache in %.3f s (%@); %.1f MiB", data.count, Date().timeIntervalSince(start),
                         data.pixels.isMapped ? "streamed from the mapping" : "copied into memory", Double(data.memoryBytes) / 1_048_576))
            let loader = try BatchLoader(renderer: ViewRenderer(split: data),
                                         configuration: LoaderConfiguration(batchSize: batchSize, view: viewKind, preset: presetKind,
                                                                            normalization: Normalization(of: data)))
            let result = LoaderBenchmark.run(loader: loader, batches: batches)
            print(String(format: "loader: %d images (two %dx%d views each, preset %@, view %@) in %.2f s = %.0f images/s",
                         result.images, size, size, preset, view, result.seconds, result.imagesPerSecond))
        }
    }
}
