import ImageData
import TensorCore

/// A named test set (`evaluation.testSets.<name>: <folder>` in a spec): a folder of the
/// dataset's classes in the plain layout `<folder>/<class>/<file>.{png,jpg,jpeg}` whose images
/// are evaluated as they are (resized to the dataset's size, no mask) beside the test split's
/// synthesized views, by the same probes and kNN banks. ImageNet-9's fixed variants
/// (`backdrop dataset import in9` writes them as `testsets/in9-mixed-rand/`, …) are such sets.
///
/// Its rows carry the set's name as their test view (`test_view = 'in9-mixed-rand'`), so a name
/// may not be a view name. `sha256` covers the folder's files, so an edited set changes the
/// configuration hash: a different run.
public struct TestSet: Codable, Sendable, Equatable {
    /// Letters, digits, `-` and `_`; not a view name (`full`, …) nor `train-view`/`same-as-test`.
    public var name: String
    /// The folder as the spec gives it (relative to the working directory, like `dataset.folder`).
    public var folder: String
    /// SHA-256 over the folder's files (path, size and bytes of each, sorted by path).
    public var sha256: String

    public init(name: String, folder: String, sha256: String) {
        (self.name, self.folder, self.sha256) = (name, folder, sha256)
    }

    /// - Throws: `InvalidOption` naming the set (`testSets.<name>`) and what to change.
    public func validate() throws {
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw InvalidOption(key: "testSets.\(name)", message: "a test-set name uses letters, digits, '-' and '_' only (it becomes the rows' test view)")
        }
        guard ProbeChoice(name: name) == nil else {
            throw InvalidOption(key: "testSets.\(name)", message: "'\(name)' names a view; give the test set another name, e.g. in9-\(name)")
        }
    }
}
