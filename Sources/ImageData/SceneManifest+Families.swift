import Foundation

extension SceneManifest {
    /// The manifest's file name at a dataset root.
    public static let fileName = "generator.json"

    /// The manifest of the built-in generator at `root`, or `nil` when `root` has none (a dataset
    /// from elsewhere: its background families are unknown).
    /// - Throws: `ImageDataError.unreadableFile` when the file exists but does not decode.
    public static func load(root: String) throws -> SceneManifest? {
        let path = DatasetLayout.join(root, fileName)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            return try JSONDecoder().decode(SceneManifest.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw ImageDataError.unreadableFile(path: path, reason: "not a generator manifest (\(error)); regenerate the dataset with `backdrop dataset generate`")
        }
    }

    /// The background family (an index into `backgroundFamilies`) of every sample of `split`,
    /// in sample order.
    ///
    /// A sample is found by its file: `<root>/<split>/images/<class>/<class>_<index>.png` is image
    /// `index` of that class in `imageBackgrounds[split][class]` (file order is index order), so
    /// samples skipped while loading do not shift the others.
    /// - Throws: `ImageDataError.invalidLayout` naming the first sample the manifest does not cover.
    public func backgroundFamilies(of split: DatasetSplit) throws -> [Int] {
        guard let perClass = imageBackgrounds[split.name] else {
            throw ImageDataError.invalidLayout(path: Self.fileName, problem: "the manifest lists no images of split `\(split.name)`")
        }
        return try split.paths.map { path in
            let url = URL(fileURLWithPath: path)
            let className = url.deletingLastPathComponent().lastPathComponent
            let stem = url.deletingPathExtension().lastPathComponent
            guard let families = perClass[className], let index = stem.split(separator: "_").last.flatMap({ Int($0) }),
                  families.indices.contains(index) else {
                throw ImageDataError.invalidLayout(path: path, problem: "not an image the generator manifest (\(Self.fileName)) lists; was the folder edited after generation?")
            }
            return families[index]
        }
    }
}
