import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The standard error of one child process: each complete line is passed on to the runner's
/// log as it arrives, and the last 400 are kept to explain a crash ("Fatal error: …" comes before
/// a backtrace of many lines).
final class ChildOutput: @unchecked Sendable {
    /// Give this to `Process.standardError`.
    let pipe = Pipe()
    private let log: @Sendable (String) -> Void
    private let lock = NSLock()
    private var partial = Data()
    private var last: [String] = []
    private static let kept = 400

    init(log: @escaping @Sendable (String) -> Void) {
        self.log = log
        pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            self?.take(handle.availableData)
        }
    }

    /// Reads what is left after the child exited and returns its last lines (oldest first).
    func finish() -> [String] {
        let reader = pipe.fileHandleForReading
        reader.readabilityHandler = nil
        take(reader.readDataToEndOfFile())
        lock.lock()
        defer { lock.unlock() }
        if !partial.isEmpty {
            emit(String(decoding: partial, as: UTF8.self))
            partial.removeAll()
        }
        return last
    }

    private func take(_ data: Data) {
        guard !data.isEmpty else { return }
        lock.lock()
        defer { lock.unlock() }
        partial.append(data)
        while let newline = partial.firstIndex(of: 0x0A) {
            emit(String(decoding: partial[partial.startIndex..<newline], as: UTF8.self))
            partial.removeSubrange(partial.startIndex...newline)
        }
    }

    /// Call with `lock` held.
    private func emit(_ line: String) {
        log(line)
        last.append(line)
        if last.count > Self.kept { last.removeFirst(last.count - Self.kept) }
    }

    /// `SIGILL`, `SIGKILL`, … for the signals a crashed or killed cell usually dies of.
    static func signalName(_ signal: Int32) -> String? {
        let names: [Int32: String] = [SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL",
                                      SIGTRAP: "SIGTRAP", SIGABRT: "SIGABRT", SIGBUS: "SIGBUS", SIGFPE: "SIGFPE",
                                      SIGKILL: "SIGKILL", SIGSEGV: "SIGSEGV", SIGPIPE: "SIGPIPE", SIGTERM: "SIGTERM"]
        return names[signal]
    }
}
