import Foundation

/// Which CIFAR-100 label becomes the class folder.
public enum CIFAR100Labels: String, CaseIterable, Sendable {
    /// The 100 fine classes (`fine_label_names.txt`).
    case fine
    /// The 20 superclasses (`coarse_label_names.txt`).
    case coarse
}

/// Imports the binary versions of CIFAR-10 and CIFAR-100 into the plain image-folder layout
/// `OUT/{train,test}/<class>/<stem>-<index>.png` (32 × 32 RGB PNGs) plus `OUT/manifest.json`.
///
/// - CIFAR-10 (`cifar-10-binary.tar.gz` → `cifar-10-batches-bin/`): `data_batch_1.bin` …
///   `data_batch_5.bin` (train), `test_batch.bin` (test), `batches.meta.txt` (10 class names).
///   Record: 1 label byte (0–9), then 3072 pixel bytes: the R plane (1024 bytes, row-major
///   32 × 32), then G, then B.
/// - CIFAR-100 (`cifar-100-binary.tar.gz` → `cifar-100-binary/`): `train.bin`, `test.bin`,
///   `fine_label_names.txt` (100), `coarse_label_names.txt` (20). Record: coarse label byte,
///   fine label byte, then the same 3072 pixel bytes.
///
/// The files may sit in `dir` itself or in the archive's subfolder inside it. The record index is
/// zero-padded to 5 digits: `train/frog/data_batch_3-04211.png` is record 4211 of `data_batch_3.bin`.
public enum CIFARImporter {
    /// Bytes of pixels per record: three 32 × 32 planes.
    public static let pixelBytes = 3072
    static let side = 32
    static let indexDigits = 5

    static let fix10 = "download the CIFAR-10 binary version (cifar-10-binary.tar.gz, https://www.cs.toronto.edu/~kriz/cifar.html) and extract it into the folder"
    static let fix100 = "download the CIFAR-100 binary version (cifar-100-binary.tar.gz, https://www.cs.toronto.edu/~kriz/cifar.html) and extract it into the folder"

    /// Imports CIFAR-10 from `dir` into `out` (which must be empty or absent).
    /// - Throws: `BinaryDatasetError` for missing files, wrong lengths, bad labels or write failures.
    @discardableResult
    public static func importCIFAR10(from dir: String, to out: String,
                                     progress: ((BinaryImportProgress) -> Void)? = nil) throws -> BinaryImportManifest {
        let sub = "cifar-10-batches-bin"
        let record = "1 label byte + \(pixelBytes) pixel bytes"
        let files = try ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"].map {
            try BinaryRecordFile.open($0 + ".bin", in: dir, subfolder: sub, recordBytes: 1 + pixelBytes, record: record, fix: fix10)
        }
        let names = try readLabelNames("batches.meta.txt", in: dir, subfolder: sub, count: 10, fix: fix10)
        let sources = files.map { file in
            RecordSource(file: file, split: file.stem == "test_batch" ? "test" : "train", labels: .inRecord(offset: 0), labelBase: 0,
                         pixelOffset: 1, side: side, planes: .rowMajor, indexDigits: indexDigits)
        }
        let plan = BinaryImportPlan(source: "cifar10", labelKind: nil, directory: dir, classes: names, side: side, sources: sources,
                                    otherFiles: [try BinaryRecordFile.locate("batches.meta.txt", in: dir, subfolder: sub, fix: fix10)])
        return try BinaryImport.run(plan, out: out, progress: progress)
    }

    /// Imports CIFAR-100 from `dir` into `out` with the `labels` kind as class folders.
    /// - Throws: `BinaryDatasetError` for missing files, wrong lengths, bad labels or write failures.
    @discardableResult
    public static func importCIFAR100(from dir: String, to out: String, labels: CIFAR100Labels = .fine,
                                      progress: ((BinaryImportProgress) -> Void)? = nil) throws -> BinaryImportManifest {
        let sub = "cifar-100-binary"
        let record = "1 coarse label byte + 1 fine label byte + \(pixelBytes) pixel bytes"
        let files = try ["train", "test"].map {
            try BinaryRecordFile.open($0 + ".bin", in: dir, subfolder: sub, recordBytes: 2 + pixelBytes, record: record, fix: fix100)
        }
        let namesFile = labels == .fine ? "fine_label_names.txt" : "coarse_label_names.txt"
        let names = try readLabelNames(namesFile, in: dir, subfolder: sub, count: labels == .fine ? 100 : 20, fix: fix100)
        let sources = files.map { file in
            RecordSource(file: file, split: file.stem, labels: .inRecord(offset: labels == .fine ? 1 : 0), labelBase: 0,
                         pixelOffset: 2, side: side, planes: .rowMajor, indexDigits: indexDigits)
        }
        let plan = BinaryImportPlan(source: "cifar100", labelKind: labels.rawValue, directory: dir, classes: names, side: side,
                                    sources: sources, otherFiles: [try BinaryRecordFile.locate(namesFile, in: dir, subfolder: sub, fix: fix100)])
        return try BinaryImport.run(plan, out: out, progress: progress)
    }
}
