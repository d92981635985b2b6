import ArgumentParser
import Foundation

/// Runs a tool found on `PATH` (`sbatch`, `squeue`, `sacct`) to completion and returns what it printed.
enum ExternalTool {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Whether `name` is an executable on `PATH`.
    static func isAvailable(_ name: String) -> Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").contains {
            FileManager.default.isExecutableFile(atPath: "\($0)/\(name)")
        }
    }

    /// - Throws: a `ValidationError` naming the tool when it is not on `PATH`.
    static func run(_ name: String, _ arguments: [String]) throws -> Result {
        guard isAvailable(name) else { throw ValidationError("\(name) not found on PATH: is Slurm installed here (apt-get install slurm-client)?") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [name] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }
}
