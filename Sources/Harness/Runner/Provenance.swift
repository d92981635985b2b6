import Foundation
import ImageData
import ResultsStore
import TensorCore

/// Where a run's inputs came from, computed once per reproduction and stored with every run.
public struct RunSources: Sendable, Equatable {
    /// The git commit the binary was built from (``SourceRevision``), or `unknown`.
    public var gitCommit: String
    /// Whether that build had uncommitted changes (nil when unknown).
    public var gitDirty: Bool?
    /// SHA-256 over the dataset's files (see `DatasetFiles.sha256(root:)`).
    public var datasetSHA256: String
    public var versions: [String: String]

    public init(gitCommit: String, gitDirty: Bool?, datasetSHA256: String, versions: [String: String] = RunSources.toolVersions) {
        self.gitCommit = gitCommit
        self.gitDirty = gitDirty
        self.datasetSHA256 = datasetSHA256
        self.versions = versions
    }

    /// The version of Backdrop's result format.
    public static let backdropVersion = "0.1.0"

    /// Backdrop's version, the tools and libraries that produced a result, the CPU it ran on, the
    /// machine's CPU count (`cpus`), the worker threads the kernels used (`threads`,
    /// `Parallel.workerCount`: results do not depend on it, run times do) and the convolution
    /// kernels it used (`Tensor.convolutionKernels`: their round-off differs, so the same seed on
    /// another CPU kind can end elsewhere).
    public static var toolVersions: [String: String] {
        var swift = "unknown"
        #if swift(>=6.3)
        swift = "6.3+"
        #elseif swift(>=6.2)
        swift = "6.2"
        #elseif swift(>=6.1)
        swift = "6.1"
        #elseif swift(>=6.0)
        swift = "6.0"
        #endif
        return ["backdrop": backdropVersion, "swift": swift, "os": ProcessInfo.processInfo.operatingSystemVersionString,
                "convolution": Tensor.convolutionKernels, "blas": BLAS.libraryDescription, "libpng": PNGCodec.libraryVersion,
                "sqlite": ResultsDatabase.sqliteVersion, "cpu": cpuModel,
                "cpus": String(ProcessInfo.processInfo.activeProcessorCount), "threads": String(Parallel.workerCount)]
    }

    /// The processor's model name (`/proc/cpuinfo`), or the architecture where that file is absent.
    static let cpuModel: String = {
        if let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
           let line = info.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
           let colon = line.firstIndex(of: ":") {
            return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        #if arch(x86_64)
        return "x86_64"
        #elseif arch(arm64)
        return "arm64"
        #else
        return "unknown"
        #endif
    }()
}

/// The source revision a binary was built from: its git commit and whether the tree had
/// uncommitted changes. The command line fills it from what was recorded at build time, so it is
/// right wherever the binary runs.
public struct SourceRevision: Sendable, Equatable {
    /// `git rev-parse HEAD` at build time, or `unknown`.
    public var commit: String
    /// Uncommitted changes at build time; nil when unknown.
    public var dirty: Bool?

    public init(commit: String, dirty: Bool?) {
        self.commit = commit
        self.dirty = dirty
    }

    /// A library caller that states no revision (tests, embedding code).
    public static let unrecorded = SourceRevision(commit: "unknown", dirty: nil)
}

/// Finding, generating and hashing the dataset of a spec.
public enum DatasetFiles {
    /// The folder a spec trains on: the spec's folder, or `<results>/datasets/<hash16>/` for the
    /// built-in generator (written there when absent: into a temporary sibling first, then
    /// renamed, so concurrent reproductions never see half a dataset).
    /// - Returns: the folder and whether it was generated now.
    public static func prepare(_ spec: ExperimentSpec.DatasetSpec, resultsDirectory: String,
                               log: (String) -> Void = { _ in }) throws -> (root: String, generated: Bool) {
        guard let parameters = spec.builtin else {
            let root = spec.folder ?? ""
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw SpecError(location: "dataset.folder", key: "dataset.folder", message: "\(root) is not a folder")
            }
            return (root, false)
        }
        let parent = URL(fileURLWithPath: resultsDirectory).appendingPathComponent("datasets")
        let root = parent.appendingPathComponent(String(spec.builtinHash.prefix(16)))
        if FileManager.default.fileExists(atPath: root.appendingPathComponent("generator.json").path) { return (root.path, false) }
        try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        let temporary = parent.appendingPathComponent(".partial-\(UUID().uuidString)")
        log("generating the built-in dataset into \(root.path) (\(parameters.classes) classes, \(parameters.perClass)+\(parameters.testPerClass) per class, \(parameters.size) px)")
        _ = try SceneGenerator.write(parameters, to: temporary.path)
        if rename(temporary.path, root.path) != 0 {
            try? FileManager.default.removeItem(at: temporary)   // another process won the race
            guard FileManager.default.fileExists(atPath: root.appendingPathComponent("generator.json").path) else {
                throw SpecError(location: root.path, key: "dataset", message: "could not move the generated dataset into place (errno \(errno))")
            }
            return (root.path, false)
        }
        return (root.path, true)
    }

    /// SHA-256 over every file under `root` except dot-files: for each file in sorted
    /// relative-path order, the path, a NUL, the byte count, a NUL, then the bytes.
    public static func sha256(root: String) throws -> String {
        let base = URL(fileURLWithPath: root).standardizedFileURL
        guard let enumerator = FileManager.default.enumerator(at: base, includingPropertiesForKeys: [.isRegularFileKey],
                                                              options: [.skipsHiddenFiles]) else {
            throw SpecError(location: root, key: "dataset", message: "cannot list the dataset folder")
        }
        var files: [String] = []
        let prefix = base.path.hasSuffix("/") ? base.path : base.path + "/"
        for case let url as URL in enumerator where (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true {
            let path = url.standardizedFileURL.path
            files.append(path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path)
        }
        var hasher = SHA256Hasher()
        for relative in files.sorted() {
            let data = try Data(contentsOf: base.appendingPathComponent(relative))
            hasher.update(Array(relative.utf8) + [0] + Array(String(data.count).utf8) + [0])
            hasher.update(data)
        }
        return hasher.finalizeHex()
    }
}
