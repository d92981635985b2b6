import Foundation
import TestSupport
import Testing
@testable import ImageData

/// `COCOImporter` on the fixture written by scripts/fixtures/make_coco_fixture.py: labels, skip
/// reasons, the shared class list, written masks, and the errors for bad input.
@Suite struct COCOImportTests {
    static let coco = Fixtures.path("coco")

    static func importSplit(_ split: String, into root: URL, classes: COCOImportOptions.Classes = .all,
                            foreground: COCOImportOptions.Foreground = .mask) throws -> COCOManifest {
        try COCOImporter.run(annotations: "\(coco)/annotations/instances_\(split).json", images: "\(coco)/\(split)", root: root.path,
                             options: COCOImportOptions(split: split, classes: classes, foreground: foreground))
    }

    static func files(_ dir: URL) -> [String] {
        ((try? FileManager.default.subpathsOfDirectory(atPath: dir.path)) ?? []).filter { $0.contains(".") }.sorted()
    }

    @Test func importsBothSplitsWithLabelsMasksAndSkipReasons() throws {
        try withTemporaryDirectory { root in
            _ = try Self.importSplit("train", into: root)
            let manifest = try Self.importSplit("test", into: root)
            #expect(Self.files(root.appendingPathComponent("train")) == [
                "images/cat/t1.jpg", "images/cat/t7.jpg", "images/dog/t2.jpg", "images/dog/t8.jpg", "images/traffic_light/t3.jpg",
                "masks/cat/t1.png", "masks/cat/t7.png", "masks/dog/t2.png", "masks/dog/t8.png", "masks/traffic_light/t3.png"])
            #expect(Self.files(root.appendingPathComponent("test")) == [
                "images/cat/s1.jpg", "images/dog/s2.jpg", "images/traffic_light/s3.jpg",
                "masks/cat/s1.png", "masks/dog/s2.png", "masks/traffic_light/s3.png"])
            // One class list for both splits, most images first, ties by category id.
            #expect(manifest.classes.map(\.folder) == ["cat", "dog", "traffic_light"])
            #expect(manifest.classes.map(\.name) == ["cat", "dog", "traffic light"])
            #expect(manifest.splits["train"]?.counts == ["cat": 2, "dog": 2, "traffic_light": 1])
            #expect(manifest.splits["test"]?.counts == ["cat": 1, "dog": 1, "traffic_light": 1])
            let skipped = Dictionary(uniqueKeysWithValues: (manifest.splits["train"]!.skipped + manifest.splits["test"]!.skipped).map { ($0.file, $0.reason) })
            #expect(skipped == ["t4.jpg": "too-small", "t5.jpg": "missing-file", "t6.jpg": "no-object", "t9.jpg": "no-object",
                                "s4.jpg": "class-not-kept"])
            // The written manifest is the one returned.
            #expect(try COCOManifest.read(path: root.appendingPathComponent("manifest.json").path) == manifest)

            // Each mask is the largest non-crowd object's: t2's crowd of cats (annotation 104) is bigger but ignored.
            for (path, annotation) in [("train/masks/cat/t1.png", 101), ("train/masks/dog/t2.png", 103), ("train/masks/traffic_light/t3.png", 105),
                                       ("train/masks/cat/t7.png", 108), ("train/masks/dog/t8.png", 109), ("test/masks/dog/s2.png", 302)] {
                let mask = try PNGCodec.decode(contentsOf: root.appendingPathComponent(path).path)
                #expect(Set(mask.rgb) == [0, 255], "\(path)")
                let bits = (0..<(mask.width * mask.height)).map { mask.rgb[3 * $0] == 255 ? UInt8(1) : 0 }
                #expect(bits == (try COCOMaskTests.reference(annotation)), "\(path)")
            }
            // Images are the source bytes (hard link or copy).
            let copied = try Data(contentsOf: root.appendingPathComponent("train/images/cat/t1.jpg"))
            #expect(copied == (try Data(contentsOf: URL(fileURLWithPath: "\(Self.coco)/train/t1.jpg"))))
        }
    }

    @Test func topNClassesAreFixedByTheFirstSplitAndReused() throws {
        try withTemporaryDirectory { root in
            let first = try Self.importSplit("train", into: root, classes: .top(2))
            // cat and dog both label 2 train images, traffic light 1.
            #expect(first.classes.map(\.folder) == ["cat", "dog"])
            #expect(first.splits["train"]!.skipped.contains { $0.file == "t3.jpg" && $0.reason == "class-not-kept" })
            let second = try Self.importSplit("test", into: root, classes: .top(2))
            #expect(second.classes == first.classes)
            #expect(second.splits["test"]?.counts == ["cat": 1, "dog": 1])
            #expect(second.splits["train"] == first.splits["train"])
            #expect(Set(second.splits["test"]!.skipped.map(\.file)) == ["s3.jpg", "s4.jpg"])
        }
    }

    @Test func mismatchedSettingsAndRepeatedSplitsAreRefused() throws {
        try withTemporaryDirectory { root in
            _ = try Self.importSplit("train", into: root)
            let mismatch = #expect(throws: COCOImportError.self) { try Self.importSplit("test", into: root, classes: .top(2)) }
            #expect(mismatch?.description.contains("--classes all") == true)
            let again = #expect(throws: COCOImportError.self) { try Self.importSplit("train", into: root) }
            #expect(again?.description.contains("already there") == true)
        }
    }

    @Test func boxForegroundWritesFilledBoxes() throws {
        try withTemporaryDirectory { root in
            _ = try Self.importSplit("train", into: root, foreground: .box)
            let mask = try PNGCodec.decode(contentsOf: root.appendingPathComponent("train/masks/dog/t2.png").path)
            // Annotation 103's bbox is the union of its two polygons' boxes; every pixel inside is set.
            let gray = (0..<(mask.width * mask.height)).map { mask.rgb[3 * $0] }
            let set = gray.enumerated().filter { $0.element == 255 }.map(\.offset)
            let xs = set.map { $0 % mask.width }, ys = set.map { $0 / mask.width }
            #expect(set.count == (xs.max()! - xs.min()! + 1) * (ys.max()! - ys.min()! + 1))
            #expect(set.count > (try COCOMaskTests.reference(103)).filter { $0 == 1 }.count)
        }
    }

    // MARK: bad input

    static func instances(images: String = #"[{"id": 1, "file_name": "a.jpg", "width": 4, "height": 4}]"#,
                          annotations: String, categories: String = #"[{"id": 1, "name": "cat"}]"#) -> String {
        #"{"images": \#(images), "annotations": \#(annotations), "categories": \#(categories)}"#
    }

    static func importError(_ json: String) throws -> COCOImportError? {
        try withTemporaryDirectory { dir in
            let file = dir.appendingPathComponent("instances_bad.json")
            try json.write(to: file, atomically: true, encoding: .utf8)
            try makeDirectory(dir.appendingPathComponent("images").path)
            return #expect(throws: COCOImportError.self) {
                try COCOImporter.run(annotations: file.path, images: dir.appendingPathComponent("images").path,
                                     root: dir.appendingPathComponent("out").path, options: COCOImportOptions(split: "train"))
            }
        }
    }

    static let goodAnnotation = #"{"id": 7, "image_id": 1, "category_id": 1, "area": 4, "iscrowd": 0, "segmentation": [[0, 0, 3, 0, 3, 3]]}"#

    @Test func malformedJSONNamesTheFileAndPosition() throws {
        let e = try Self.importError(#"{"images": [], "annotations": [ {"id": 1,, ], "categories": []}"#)
        #expect(e?.description.contains("instances_bad.json") == true)
        #expect(e?.description.contains("malformed") == true)
        let wrongType = try Self.importError(Self.instances(annotations: #"[{"id": 7, "image_id": "one", "category_id": 1, "area": 4}]"#))
        #expect(wrongType?.description.contains("annotations[0].image_id") == true, "\(String(describing: wrongType))")
        let missing = try Self.importError(#"{"images": [], "annotations": []}"#)
        #expect(missing?.description.contains("categories") == true, "\(String(describing: missing))")
    }

    @Test func inconsistentAnnotationsAreErrors() throws {
        let image = try Self.importError(Self.instances(annotations: "[" + Self.goodAnnotation.replacingOccurrences(of: #""image_id": 1"#, with: #""image_id": 9"#) + "]"))
        #expect(image?.description.contains("annotation 7 refers to image_id 9") == true, "\(String(describing: image))")
        let category = try Self.importError(Self.instances(annotations: "[" + Self.goodAnnotation.replacingOccurrences(of: #""category_id": 1"#, with: #""category_id": 5"#) + "]"))
        #expect(category?.description.contains("category_id 5") == true && category?.description.contains("annotation 7") == true)
        let odd = try Self.importError(Self.instances(annotations: "[" + Self.goodAnnotation.replacingOccurrences(of: "[[0, 0, 3, 0, 3, 3]]", with: "[[0, 0, 3, 0, 3]]") + "]"))
        #expect(odd?.description.contains("annotation 7") == true && odd?.description.contains("odd number of coordinates") == true)
        let rle = try Self.importError(Self.instances(annotations: "[" + Self.goodAnnotation.replacingOccurrences(of: "[[0, 0, 3, 0, 3, 3]]", with: #"{"counts": [3, 4], "size": [4, 4]}"#) + "]"))
        #expect(rle?.description.contains("sum to 7") == true, "\(String(describing: rle))")
    }

    @Test func optionsAreValidated() throws {
        #expect(throws: COCOImportError.self) { try COCOImportOptions.Classes(parsing: "0") }
        #expect(try COCOImportOptions.Classes(parsing: "ALL") == .all)
        #expect(throws: COCOImportError.self) { try COCOImportOptions(split: "training").validate() }
        #expect(throws: COCOImportError.self) { try COCOImportOptions(split: "train", minAreaFraction: 1.5).validate() }
        #expect(COCOImporter.folderName("traffic light", id: 10) == "traffic_light")
        #expect(COCOImporter.folderName("..", id: 3) == "category_3")
        #expect(COCOImporter.folderName("", id: 4) == "category_4")
    }
}
