import ArgumentParser
import Foundation
import ImageData

extension DatasetCommand.Import {
    /// `backdrop dataset import coco`: one split of a COCO download into a dataset folder.
    struct COCO: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "coco",
            abstract: "Import one split of COCO (instances JSON + image folder) into a dataset folder; run once per split into the same --out.",
            discussion: """
            Each image becomes one sample, labelled with its largest non-crowd object (by annotation area, ties by id); \
            its mask is that object's segmentation (polygons, RLE or compressed RLE, decoded as pycocotools does) or, \
            with --foreground box, its filled bounding box. Images whose largest object covers less than \
            --min-area-fraction of the image, images without a non-crowd object, images whose file is missing and \
            images of classes not kept are skipped and listed with the reason in OUT/manifest.json. The first import \
            fixes the class list (--classes N: the N categories labelling the most kept images of that split, ties by \
            category id) and the second reuses it. See docs/Datasets.md.
            """)

        @Option(help: "COCO instances file, e.g. annotations/instances_train2017.json.") var annotations: String
        @Option(help: "Folder holding the split's images, e.g. train2017/.") var images: String
        @Option(help: "Split folder to write: train or test.") var split: String
        @Option(help: "Dataset root to write (train/, test/, manifest.json).") var out: String
        @Option(help: "Skip images whose largest object covers less than this fraction of the image.") var minAreaFraction = 0.1
        @Option(help: "all, or N: the N most frequent categories (counted on the first split imported).") var classes = "all"
        @Option(help: "Mask written: mask (the object's segmentation) or box (its filled bounding box).") var foreground = "mask"
        @Flag(help: "No progress line.") var quiet = false

        func run() throws {
            guard let fg = COCOImportOptions.Foreground(rawValue: foreground) else {
                throw ValidationError("--foreground \(foreground) is not valid; use mask or box")
            }
            let options: COCOImportOptions
            do {
                options = COCOImportOptions(split: split, minAreaFraction: minAreaFraction,
                                            classes: try COCOImportOptions.Classes(parsing: classes), foreground: fg)
            } catch let e as COCOImportError {
                throw ValidationError(e.description)
            }
            let quiet = self.quiet
            if !quiet { FileHandle.standardError.write(Data("reading \(annotations) …\n".utf8)) }
            let start = Date()
            let manifest: COCOManifest
            do {
                manifest = try COCOImporter.run(annotations: annotations, images: images, root: out, options: options) { done, total in
                    guard !quiet else { return }
                    let rate = Double(done) / max(Date().timeIntervalSince(start), 1e-3)
                    FileHandle.standardError.write(Data(String(format: "\rimported %d/%d images (%.0f/s)%@", done, total, rate,
                                                               done == total ? "\n" : "").utf8))
                }
            } catch let e as COCOImportError {
                FileHandle.standardError.write(Data("error: \(e.description)\n".utf8))
                throw ExitCode(1)
            }
            let s = manifest.splits[split]!
            print("\(split): \(s.kept) images in \(s.counts.count) classes written to \(out)/\(split); \(s.skipped.count) skipped (see \(out)/manifest.json)")
            var reasons: [String: Int] = [:]
            for k in s.skipped { reasons[k.reason, default: 0] += 1 }
            for (r, n) in reasons.sorted(by: { $0.key < $1.key }) { print("  skipped \(r): \(n)") }
            let empty = manifest.classes.filter { (s.counts[$0.folder] ?? 0) == 0 }
            if !empty.isEmpty {
                print("warning: no \(split) image for class(es) \(empty.map(\.folder).joined(separator: ", ")); `dataset check` will report them")
            }
        }
    }
}
