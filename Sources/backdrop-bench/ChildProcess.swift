import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs a program to completion, capturing its stdout and its peak resident memory (`wait4`'s
/// `ru_maxrss`), which `Foundation.Process` does not expose. Stderr is passed through.
struct ChildProcess {
    let status: Int32
    let output: String
    let peakRSSMegabytes: Double

    /// Runs `executable` with this process's environment plus `environment` (which wins).
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> ChildProcess {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("child-\(getpid())-\(UUID().uuidString).out").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment { merged[key] = value }
        let envp: [UnsafeMutablePointer<CChar>?] = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }
        let rc = posix_spawnp(&pid, executable, &actions, nil, argv, envp)
        guard rc == 0 else { throw ChildProcessError(message: "cannot start \(executable): \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        let exited = (status & 0x7f) == 0
        let output = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        return ChildProcess(status: exited ? (status >> 8) & 0xff : 128 + (status & 0x7f), output: output,
                            peakRSSMegabytes: Double(usage.ru_maxrss) / 1024)
    }
}

struct ChildProcessError: Error, CustomStringConvertible { let message: String; var description: String { message } }
