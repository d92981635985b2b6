#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Foundation

/// A small HTTP/1.1 server over POSIX sockets for local pages: it answers `GET` and `HEAD`, one
/// request per connection (`Connection: close`), with what its handler returns.
///
/// ```swift
/// let server = try HTTPServer(host: "127.0.0.1", port: 0) { request in .text("hello", status: 200) }
/// print(server.url)      // http://127.0.0.1:<a free port>/
/// server.serve()         // blocks until stop() is called (from a signal handler, another thread)
/// ```
///
/// Bounded by design: a request head larger than ``maxHeadBytes`` is answered 431, a client that
/// stops sending part-way through its request for ``idleTimeout`` seconds is answered 408 (one
/// that sends nothing is closed silently, as browsers open connections ahead of need), at most
/// ``maxConnections`` are handled at once (more wait in the listen backlog), and a request body
/// is never read.
/// A server bound to a loopback address answers only requests whose `Host` names a loopback
/// address (`localhost`, `127.x.x.x`, `[::1]`), so that a web page from elsewhere cannot read it
/// by pointing its own host name at 127.0.0.1 (DNS rebinding).
public final class HTTPServer: @unchecked Sendable {
    /// Makes the response to one request; called on a connection thread, possibly concurrently.
    public typealias Handler = @Sendable (HTTPRequest) -> HTTPResponse

    /// The numeric address the server listens on (e.g. `127.0.0.1`, `::1`, `0.0.0.0`).
    public let address: String
    /// The port it listens on (the one the system chose when asked for port 0).
    public let port: Int
    /// Whether ``address`` is a loopback address (reachable from this machine only).
    public let isLoopback: Bool

    /// The largest request head (request line and header fields) read.
    public static let maxHeadBytes = 16 * 1024
    /// Seconds a connection may stay silent while its request is read or its answer written.
    public static let idleTimeout: TimeInterval = 10
    /// Connections answered at the same time.
    public static let maxConnections = 32

    private let listener: Int32
    let handler: Handler
    private let lock = NSLock()
    private var stopRequested = false
    private let connectionSlots = DispatchSemaphore(value: HTTPServer.maxConnections)
    private let connections = DispatchQueue(label: "LocalWeb.connections", attributes: .concurrent)
    private let inFlight = DispatchGroup()

    /// How long ``serve()`` waits, once stopped, for the requests in progress to be answered.
    public static let drainTimeout: TimeInterval = 1

    /// Binds and listens on `host` (a numeric address or a name such as `localhost`; the first
    /// address it resolves to) and `port` (0: any free port).
    ///
    /// - Throws: ``HTTPServerError`` naming the host, the port and the system's reason.
    public init(host: String, port: Int, handler: @escaping Handler) throws {
        guard (0...65535).contains(port) else { throw HTTPServerError.cannotListen(host: host, port: port, reason: "the port must be 0…65535") }
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Self.streamSocketType
        var found: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &found)
        guard status == 0, let info = found else {
            throw HTTPServerError.cannotListen(host: host, port: port, reason: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(found) }
        let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
        guard fd >= 0 else { throw HTTPServerError.cannotListen(host: host, port: port, reason: Self.lastError()) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        guard bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0, listen(fd, 64) == 0 else {
            let reason = Self.lastError()
            close(fd)
            throw HTTPServerError.cannotListen(host: host, port: port, reason: reason)
        }
        var bound = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        var hostBuffer = [CChar](repeating: 0, count: Int(NI_MAXHOST)), portBuffer = [CChar](repeating: 0, count: Int(NI_MAXSERV))
        let named = withUnsafeMutablePointer(to: &bound) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                getsockname(fd, address, &length) == 0
                    && getnameinfo(address, length, &hostBuffer, socklen_t(hostBuffer.count), &portBuffer, socklen_t(portBuffer.count),
                                   NI_NUMERICHOST | NI_NUMERICSERV) == 0
            }
        }
        guard named else {
            let reason = Self.lastError()
            close(fd)
            throw HTTPServerError.cannotListen(host: host, port: port, reason: reason)
        }
        listener = fd
        address = Self.string(hostBuffer)
        self.port = Int(Self.string(portBuffer)) ?? port
        isLoopback = Self.isLoopbackAddress(address)
        self.handler = handler
    }

    /// `http://<address>:<port>/` (an IPv6 address in brackets).
    public var url: String { "http://\(address.contains(":") ? "[\(address)]" : address):\(port)/" }

    /// Accepts and answers connections until ``stop()``; then waits up to ``drainTimeout`` for
    /// the requests in progress to be answered, closes the listening socket and returns.
    public func serve() {
        while !isStopping {
            guard connectionSlots.wait(timeout: .now() + .milliseconds(250)) == .success else { continue }
            var ready = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            let fd = poll(&ready, 1, 250) > 0 ? accept(listener, nil, nil) : -1
            guard fd >= 0 else { connectionSlots.signal(); continue }
            inFlight.enter()
            connections.async {
                defer { self.connectionSlots.signal(); self.inFlight.leave() }
                self.answer(connection: fd)
            }
        }
        _ = inFlight.wait(timeout: .now() + Self.drainTimeout)
        close(listener)
    }

    /// Makes ``serve()`` return within about a quarter of a second (safe from any thread).
    public func stop() {
        lock.lock()
        stopRequested = true
        lock.unlock()
    }

    private var isStopping: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopRequested
    }

    // MARK: Platform details

    #if canImport(Glibc)
    static let streamSocketType = Int32(SOCK_STREAM.rawValue)
    static func sendWithoutSignal(_ fd: Int32, _ pointer: UnsafeRawPointer, _ count: Int) -> Int {
        Glibc.send(fd, pointer, count, Int32(MSG_NOSIGNAL))
    }
    #else
    static let streamSocketType = SOCK_STREAM
    static func sendWithoutSignal(_ fd: Int32, _ pointer: UnsafeRawPointer, _ count: Int) -> Int {
        Darwin.send(fd, pointer, count, 0)
    }
    #endif

    private static func lastError() -> String { String(cString: strerror(errno)) }

    /// The text of a NUL-terminated C buffer.
    private static func string(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Whether a numeric address is a loopback one (`127.0.0.0/8`, `::1`, or IPv4-mapped `127.…`).
    static func isLoopbackAddress(_ address: String) -> Bool {
        address.hasPrefix("127.") || address == "::1" || address.lowercased().hasPrefix("::ffff:127.")
    }

    /// Whether a `Host` header value (`name[:port]`, `[v6][:port]`) names a loopback address.
    static func namesLoopback(_ host: String) -> Bool {
        var name = host.lowercased()
        if name.hasPrefix("["), let close = name.firstIndex(of: "]") {
            name = String(name[name.index(after: name.startIndex)..<close])
        } else if let colon = name.lastIndex(of: ":") {
            name = String(name[..<colon])
        }
        return name == "localhost" || isLoopbackAddress(name)
    }
}

/// Why the server could not start.
public enum HTTPServerError: Error, Equatable, CustomStringConvertible {
    case cannotListen(host: String, port: Int, reason: String)

    public var description: String {
        switch self {
        case .cannotListen(let host, let port, let reason):
            return "cannot listen on \(host) port \(port): \(reason)" + (reason.contains("in use") ? "; choose another port (0: any free one)" : "")
        }
    }
}
