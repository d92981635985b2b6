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
        // The set is a plain-layout split whose labels are the dataset's: decoded, keyed and packed
        // like any split.
        var samples: [SampleFile] = []
        for (label, c) in classes.enumerated() {
            for f in DatasetLayout.entries(DatasetLayout.join(folder, c)) where ImageFile.isImage(name: f) {
                samples.append(SampleFile(className: c, label: label, imagePath: DatasetLayout.join(folder, c, f), maskPath: nil))
            }
        }
        guard !samples.isEmpty else {
            throw ImageDataError.invalidLayout(path: folder, problem: "test set `\(name)` holds no images (.png, .jpg, .jpeg) in its class folders")
        }
        let listing = SplitListing(name: "test", layout: .plain, classFolders: classes, samples: samples, strayFiles: [])
        let layout = DatasetLayout(root: folder, classes: classes, splits: ["test": listing])
        let decode = { try Dataset.decode(layout: layout, listing: listing, options: options, log: log, layoutIssues: []) }
        guard let directory = options.cacheDirectory else { return try decode() }
        let key = try PackedCache.key(root: folder, listing: listing, options: options)
        return try PackedCache(directory: directory).loadOrBuild(split: "testset-\(name)", key: key, memoryBudget: options.memoryBudgetBytes,
                                                                 log: log, decode: decode)
    }
}
