#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import TestSupport

/// A running `backdrop serve` process: started with `--port 0`, its port read from the line it
/// prints. ``stop()`` ends it (SIGTERM, then SIGKILL after a few seconds); the tests call it in a
/// `defer` so no server outlives its test.
final class ServeProcess: @unchecked Sendable {
    let process = Process()
    /// The first line the server printed, e.g. `Serving r.sqlite at http://127.0.0.1:41234/ (Ctrl-C to stop)`.
    let banner: String
    let port: Int
    private let output = CapturedOutput()

    /// Starts `backdrop serve --port 0 --db db` plus `arguments`, waiting up to `timeout`
    /// seconds for its banner.
    init(db: String, arguments: [String] = [], timeout: TimeInterval = 30) throws {
        guard let executable = Executables.url("backdrop") else { throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: "backdrop"]) }
        process.executableURL = executable
        process.arguments = ["serve", "--port", "0", "--db", db] + arguments
        output.attach(to: process)
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while !output.stdout.contains("\n") && process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        banner = output.stdout.split(separator: "\n").first.map(String.init) ?? ""
        guard let range = banner.range(of: #":[0-9]+/ "#, options: .regularExpression),
              let port = Int(banner[range].dropFirst().dropLast(2)) else {
            Self.end(process, output)
            throw ServeTestError("no server banner within \(timeout) s; stdout: \(output.stdout) stderr: \(output.stderr)")
        }
        self.port = port
    }

    var stderr: String { output.stderr }

    /// Ends the server: SIGTERM (what Ctrl-C does), SIGKILL when it has not exited 5 s later.
    /// Returns its exit status.
    @discardableResult
    func stop() -> Int32 { Self.end(process, output) }

    /// Sends Ctrl-C (SIGINT) and waits up to 5 s for the server to exit; returns its exit status
    /// (after ``stop()`` when it did not exit).
    func interrupt() -> Int32 {
        if process.isRunning { kill(process.processIdentifier, SIGINT) }
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        return Self.end(process, output)
    }

    @discardableResult
    private static func end(_ process: Process, _ output: CapturedOutput) -> Int32 {
        if process.isRunning { process.terminate() }
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        output.waitForEnd(timeout: 5)
        return process.terminationStatus
    }

    /// Sends `GET path` and returns the answer.
    func get(_ path: String) throws -> HTTPAnswer {
        try HTTPAnswer.exchange(port: port, "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n\r\n")
    }

    /// `GET path`, expecting 200 and a JSON body.
    func json(_ path: String) throws -> Any {
        let answer = try get(path)
        guard answer.status == 200 else { throw ServeTestError("\(path): \(answer.status) \(answer.body)") }
        return try JSONSerialization.jsonObject(with: Data(answer.body.utf8))
    }
}

/// A child process's two output streams, collected as they arrive by two reading threads.
final class CapturedOutput: @unchecked Sendable {
    private let lock = NSLock()
    private var out = Data(), err = Data()
    private let readers = DispatchGroup()

    func attach(to process: Process) {
        let outPipe = Pipe(), errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        read(outPipe.fileHandleForReading, error: false)
        read(errPipe.fileHandleForReading, error: true)
    }

    private func read(_ handle: FileHandle, error: Bool) {
        readers.enter()
        DispatchQueue.global().async {
            defer { self.readers.leave() }
            while true {
                let data = handle.availableData
                if data.isEmpty { return }
                self.lock.lock()
                if error { self.err.append(data) } else { self.out.append(data) }
                self.lock.unlock()
            }
        }
    }

    /// Waits up to `timeout` seconds for both streams to end (all writers closed them).
    func waitForEnd(timeout: TimeInterval) { _ = readers.wait(timeout: .now() + timeout) }

    var stdout: String { lock.lock(); defer { lock.unlock() }; return String(decoding: out, as: UTF8.self) }
    var stderr: String { lock.lock(); defer { lock.unlock() }; return String(decoding: err, as: UTF8.self) }
}

/// One HTTP answer read off a socket: status, header fields (names lower-cased) and body.
struct HTTPAnswer {
    var status: Int
    var headers: [String: String]
    var body: String

    /// Connects to `address`:`port`, sends `request` as is, reads until the server closes the
    /// connection (at most 15 s) and parses the answer.
    static func exchange(port: Int, address: String = "127.0.0.1", _ request: String) throws -> HTTPAnswer {
        let fd = try connectedSocket(address: address, port: port)
        defer { close(fd) }
        let bytes = Array(request.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress!, $0.count, 0) }
            guard n > 0 else { break }   // the server may answer and close before reading all of an oversized request
            sent += n
        }
        var data = [UInt8](), chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { break }
            data += chunk[0..<n]
        }
        let text = String(decoding: data, as: UTF8.self)
        guard let end = text.range(of: "\r\n\r\n") else { throw ServeTestError("no complete answer: \(text.prefix(300))") }
        let lines = text[..<end.lowerBound].components(separatedBy: "\r\n")
        guard let status = Int(lines[0].split(separator: " ").dropFirst().first ?? "") else { throw ServeTestError("bad status line \(lines[0])") }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return HTTPAnswer(status: status, headers: headers, body: String(text[end.upperBound...]))
    }

    /// A TCP socket connected to an IPv4 `address`, with a 15 s receive timeout.
    static func connectedSocket(address: String, port: Int) throws -> Int32 {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        var timeout = timeval(tv_sec: 15, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var target = sockaddr_in()
        target.sin_family = sa_family_t(AF_INET)
        target.sin_port = in_port_t(UInt16(port).bigEndian)
        target.sin_addr.s_addr = inet_addr(address)
        let status = withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard status == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw ServeTestError("cannot connect to \(address):\(port): \(reason)")
        }
        return fd
    }
}

/// The IPv4 addresses of this machine's interfaces other than loopback.
func nonLoopbackIPv4Addresses() -> [String] {
    var first: UnsafeMutablePointer<ifaddrs>?
    guard getifaddrs(&first) == 0 else { return [] }
    defer { freeifaddrs(first) }
    var out: [String] = []
    var cursor = first
    while let entry = cursor {
        defer { cursor = entry.pointee.ifa_next }
        guard let address = entry.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET) else { continue }
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        guard getnameinfo(address, socklen_t(MemoryLayout<sockaddr_in>.size), &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST) == 0 else { continue }
        let text = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if !text.hasPrefix("127.") { out.append(text) }
    }
    return out
}

/// Runs `executable` with `arguments`, killing it after `timeout` seconds; returns its exit
/// status and both streams.
func runWithTimeout(_ executable: String, _ arguments: [String], timeout: TimeInterval) throws -> (status: Int32, stdout: String, stderr: String, timedOut: Bool) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let output = CapturedOutput()
    output.attach(to: process)
    try process.run()
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
    let timedOut = process.isRunning
    if timedOut { kill(process.processIdentifier, SIGKILL) }
    process.waitUntilExit()
    output.waitForEnd(timeout: 30)
    return (process.terminationStatus, output.stdout, output.stderr, timedOut)
}

/// The headless browser the tests drive: `chromium` or `chromium-browser` on PATH, or nil.
let chromiumPath: String? = {
    let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
    for name in ["chromium", "chromium-browser"] {
        for folder in folders where FileManager.default.isExecutableFile(atPath: folder + "/" + name) { return folder + "/" + name }
    }
    return nil
}()

/// The DOM of `url` after headless Chromium has run its scripts for 5 s of virtual time
/// (`--dump-dom`), with a fresh profile in `profile`; killed after 120 s. On a heavily loaded
/// machine Chromium occasionally exits 0 having printed nothing; that one case is tried once more.
func dumpDOM(_ browser: String, _ url: String, profile: URL) throws -> (status: Int32, stdout: String, stderr: String, timedOut: Bool) {
    func attempt(_ n: Int) throws -> (status: Int32, stdout: String, stderr: String, timedOut: Bool) {
        try runWithTimeout(browser, ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                                     "--no-proxy-server", "--user-data-dir=\(profile.path)-\(n)", "--virtual-time-budget=5000",
                                     "--dump-dom", url], timeout: 120)
    }
    let first = try attempt(1)
    guard first.status == 0, !first.timedOut, first.stdout.isEmpty else { return first }
    return try attempt(2)
}

struct ServeTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
