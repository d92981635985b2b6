import Foundation

/// Imports the binary version of STL-10 (`stl10_binary.tar.gz` → `stl10_binary/`) into
/// `OUT/{train,test}/<class>/<stem>-<index>.png` and `OUT/unlabeled/<stem>-<index>.png`
/// (96 × 96 RGB PNGs) plus `OUT/manifest.json`.
///
/// Files: `train_X.bin`, `train_y.bin`, `test_X.bin`, `test_y.bin`, `unlabeled_X.bin` (not needed
/// with `includeUnlabeled: false`), `class_names.txt` (10 names). An `_X` record is 27 648 bytes:
/// the R, G and B planes of 96 × 96 bytes each, every plane stored column-major (pixel (x, y) of
/// plane c at `c·9216 + x·96 + y`). A `_y` file holds one label byte (1–10) per record.
///
/// The record index is zero-padded to 5 digits, 6 for the 100 000 unlabeled images:
/// `test/cat/test_X-00017.png`, `unlabeled/unlabeled_X-000042.png`.
public enum STL10Importer {
    static let side = 96
    /// Bytes per `_X` record: three 96 × 96 planes.
    public static let recordBytes = 3 * 96 * 96
    static let fix = "download the STL-10 binary version (stl10_binary.tar.gz, https://cs.stanford.edu/~acoates/stl10/) and extract it into the folder"

    /// Imports STL-10 from `dir` into `out` (which must be empty or absent).
    /// - Parameter includeUnlabeled: false skips `unlabeled_X.bin` (100 000 images, 2.7 GB).
    /// - Throws: `BinaryDatasetError` for missing files, wrong lengths, bad labels or write failures.
    @discardableResult
    public static func importDataset(from dir: String, to out: String, includeUnlabeled: Bool = true,
                                     progress: ((BinaryImportProgress) -> Void)? = nil) throws -> BinaryImportManifest {
        let sub = "stl10_binary"
        let record = "three 96×96 colour planes, column-major"
        let unlabeledFix = fix + ", or pass --skip-unlabeled"
        var sources: [RecordSource] = []
        var others: [String] = []
        for split in ["train", "test"] {
            let images = try BinaryRecordFile.open("\(split)_X.bin", in: dir, subfolder: sub, recordBytes: recordBytes, record: record, fix: fix)
            let labels = try BinaryRecordFile.open("\(split)_y.bin", in: dir, subfolder: sub, recordBytes: 1, record: "1 label byte, 1–10", fix: fix)
            guard labels.count == images.count else {
                throw BinaryDatasetError.countMismatch(images: images.path, imageCount: images.count, labels: labels.path, labelCount: labels.count)
            }
            sources.append(RecordSource(file: images, split: split, labels: .separate(labels, try labels.readAll()), labelBase: 1,
                                        pixelOffset: 0, side: side, planes: .columnMajor, indexDigits: 5))
            others.append(labels.path)
        }
        if includeUnlabeled {
            let images = try BinaryRecordFile.open("unlabeled_X.bin", in: dir, subfolder: sub, recordBytes: recordBytes, record: record, fix: unlabeledFix)
            sources.append(RecordSource(file: images, split: "unlabeled", labels: .none, labelBase: 1,
                                        pixelOffset: 0, side: side, planes: .columnMajor, indexDigits: 6))
        }
        let names = try readLabelNames("class_names.txt", in: dir, subfolder: sub, count: 10, fix: fix)
        others.append(try BinaryRecordFile.locate("class_names.txt", in: dir, subfolder: sub, fix: fix))
        let plan = BinaryImportPlan(source: "stl10", labelKind: nil, directory: dir, classes: names, side: side,
                                    sources: sources, otherFiles: others)
        return try BinaryImport.run(plan, out: out, progress: progress)
    }
}
