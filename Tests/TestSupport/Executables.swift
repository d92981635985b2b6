import Foundation

/// The project's executables as the tests see them: `swift build --build-tests` builds them in the
/// products folder next to the test bundle (a filtered build may not).
public enum Executables {
    /// What a finished process printed and its exit status.
    public struct Result: Sendable {
        public let status: Int32
        public let stdout: String
        public let stderr: String
    }

    /// The executable `name` from the same build as the running test bundle, looked up in the
    /// bundle's folder and the folders above it; `nil` when it was not built.
    public static func url(_ name: String) -> URL? {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir.deleteLastPathComponent()
        }
        return nil
    }

    /// Runs the built executable `name` with `arguments` to completion, capturing both streams.
    /// - Parameter environment: variables set (over this process's environment) for the run.
    /// - Throws: `CocoaError(.fileNoSuchFile)` when the executable was not built, or what
    ///   `Process.run()` throws.
    public static func run(_ name: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        guard let executable = url(name) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: name])
        }
        return try run(executable, arguments, environment: environment)
    }

    /// Runs the tool `name` found on `PATH` (`sinfo`, `scancel`, …) to completion.
    /// - Throws: `CocoaError(.fileNoSuchFile)` when no such tool is on `PATH`.
    public static func runFromPath(_ name: String, _ arguments: [String]) throws -> Result {
        let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
        guard let folder = folders.first(where: { FileManager.default.isExecutableFile(atPath: "\($0)/\(name)") }) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: name])
        }
        return try run(URL(fileURLWithPath: "\(folder)/\(name)"), arguments)
    }

    static func run(_ executable: URL, _ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, given in given }
        }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                      stderr: String(decoding: e, as: UTF8.self))
    }
}
