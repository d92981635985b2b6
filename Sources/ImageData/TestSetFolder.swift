import Crypto
import Foundation

extension Dataset {
    /// Checks that the class folders of test set `name` at `folder` are exactly `classes`.
    /// - Throws: `ImageDataError.invalidLayout` naming the folder, the missing and the extra class
    ///   folders, and the dataset's classes.
    public static func checkTestSetClasses(name: String, folder: String, classes: [String]) throws {
        guard DatasetLayout.isDirectory(folder) else {
            throw ImageDataError.invalidLayout(path: folder, problem: "test set `\(name)` not found; give a folder holding <class>/<image> for each of the dataset's classes")
        }
        let found = DatasetLayout.subfolders(folder)
        let missing = classes.filter { !found.contains($0) }, extra = found.filter { !classes.contains($0) }
        guard missing.isEmpty && extra.isEmpty else {
            var parts: [String] = []
            if !missing.isEmpty { parts.append("missing class folders \(missing.map { "`\($0)`" }.joined(separator: ", "))") }
            if !extra.isEmpty { parts.append("class folders the dataset does not have \(extra.map { "`\($0)`" }.joined(separator: ", "))") }
            throw ImageDataError.invalidLayout(path: folder, problem: "test set `\(name)` has \(parts.joined(separator: " and ")); "
                                               + "its class folders must be the dataset's: \(classes.joined(separator: ", "))")
        }
    }

    /// Decodes a named test set: a folder in the plain layout `<folder>/<class>/<file>` (`.png`,
    /// `.jpg`, `.jpeg`; other files are ignored) whose class folders are exactly `classes` (the
    /// dataset's). Images are resized to `options.size` with `options.resize`; there are no
    /// masks (every mask byte is 0), so only the `full` view of it is meaningful.
    /// - Parameters:
    ///   - name: the set's name; it names the returned split's samples in messages, and the
    ///     split itself is called `test` (its rows belong to the test split).
    ///   - options: size, filter and bad-sample policy (the mask format is not used); with
    ///     `cacheDirectory`, the decoded set is packed there (`PackedCache`, split name
    ///     `testset-<name>`, keyed by the folder, classes, size, filter, policy and every image's
    ///     path, size and modification time) and mapped by later runs.
    ///   - log: where the split came from (decoded and packed, or mapped).
    /// - Throws: `ImageDataError.invalidLayout` naming the folder when it is missing, empty, or
    ///   its class folders differ from `classes` (naming the missing and the extra ones);
    ///   `.badSamples` for unreadable images under `onBadSample: fail`.
    public static func loadTestSet(name: String, folder: String, classes: [String], options: DatasetOptions = DatasetOptions(),
                                   log: ((String) -> Void)? = nil) throws -> DatasetSplit {
        try checkTestSetClasses(name: name, folder: folder, classes: classes)
        var files: [(path: String, label: Int)] = []
        for (label, c) in classes.enumerated() {
            for f in DatasetLayout.entries(DatasetLayout.join(folder, c)) where ImageFile.isImage(name: f) {
                files.append((DatasetLayout.join(folder, c, f), label))
            }
        }
        guard !files.isEmpty else {
            throw ImageDataError.invalidLayout(path: folder, problem: "test set `\(name)` holds no images (.png, .jpg, .jpeg) in its class folders")
        }
        guard let directory = options.cacheDirectory else { return try decodeTestSet(name: name, folder: folder, files: files, classes: classes, options: options) }
        // Packed like a split: keyed by the folder, the classes, the size, filter and policy, and
        // every image's path, size and modification time.
        var hasher = SHA256()
        func add(_ text: String) { hasher.update(data: Array(text.utf8) + [0]) }
        for part in ["backdrop-testset-\(PackedCache.formatVersion)", URL(fileURLWithPath: folder).standardizedFileURL.path,
                     "\(options.size)", "\(options.resize)", options.onBadSample.rawValue] + classes {
            add(part)
        }
        for f in files { add(try PackedCache.fileStamp(f.path)) }
        let key = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        return try PackedCache(directory: directory).loadOrBuild(split: "testset-\(name)", key: key, memoryBudget: options.memoryBudgetBytes, log: log) {
            try decodeTestSet(name: name, folder: folder, files: files, classes: classes, options: options)
        }
    }

    /// Decodes the images of a test set (see `loadTestSet`).
    static func decodeTestSet(name: String, folder: String, files: [(path: String, label: Int)], classes: [String],
                              options: DatasetOptions) throws -> DatasetSplit {
        let start = Date()
        let s = options.size, filter = options.resize, images = files
        let decoded = parallelMap(images.count) { i -> Result<[UInt8], ImageDataError> in
            do {
                let image = try ImageFile.decode(contentsOf: images[i].path)
                return .success(Resize.resize(image.rgb, width: image.width, height: image.height, channels: 3, to: s, s, filter: filter))
            } catch let e as ImageDataError {
                return .failure(e)
            } catch {
                return .failure(.unreadableFile(path: images[i].path, reason: "\(error)"))
            }
        }
        var pixels: [UInt8] = [], labels: [Int] = [], paths: [String] = [], issues: [DatasetIssue] = []
        for (i, result) in decoded.enumerated() {
            switch result {
            case .success(let px):
                pixels += px
                labels.append(files[i].label)
                paths.append(files[i].path)
            case .failure(let e):
                issues.append(DatasetIssue(.error, .unreadableImage, files[i].path, e.description))
            }
        }
        if options.onBadSample == .fail && !issues.isEmpty { throw ImageDataError.badSamples(issues) }
        guard !labels.isEmpty else {
            throw ImageDataError.invalidLayout(path: folder, problem: "test set `\(name)` has no readable image")
        }
        var split = DatasetSplit(name: "test", classes: classes, size: s, pixels: pixels, masks: [UInt8](repeating: 0, count: labels.count * s * s),
                                 labels: labels, paths: paths, skippedCount: issues.count, issues: issues)
        split.origin = .decoded(seconds: Date().timeIntervalSince(start))
        return split
    }
}
