import Foundation
import ImageData
import ResultsStore
import TensorCore

/// Where a run's inputs came from, computed once per reproduction and stored with every run.
public struct RunSources: Sendable, Equatable {
    /// `git rev-parse HEAD`, or `unknown` outside a git checkout.
    public var gitCommit: String
    /// Whether `git status --porcelain` listed anything (nil when not in a checkout).
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

    /// Backdrop's version, the tools that produced a result and the convolution kernels it ran
    /// on (`Tensor.convolutionKernels`: their round-off differs, so the same seed on another CPU
    /// kind can end elsewhere).
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
                "convolution": Tensor.convolutionKernels]
    }

    /// The git state of the current directory: `(HEAD, dirty)`, or `("unknown", nil)`.
    public static func git(in directory: String = FileManager.default.currentDirectoryPath) -> (commit: String, dirty: Bool?) {
        guard let head = runTool("/usr/bin/env", ["git", "-C", directory, "rev-parse", "HEAD"]), !head.isEmpty else { return ("unknown", nil) }
        let status = runTool("/usr/bin/env", ["git", "-C", directory, "status", "--porcelain"])
        return (head, status.map { !$0.isEmpty })
    }

    /// Runs a tool and returns its trimmed standard output, or nil when it fails.
    static func runTool(_ path: String, _ arguments: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
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
