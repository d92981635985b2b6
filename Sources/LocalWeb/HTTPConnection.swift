#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// One connection: read the request head (bounded in size and time), answer it, close.
extension HTTPServer {
    /// Reads one request from the accepted socket `fd`, writes the answer and closes it.
    func answer(connection fd: Int32) {
        defer { close(fd) }
        var timeout = timeval(tv_sec: Int(Self.idleTimeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        #if canImport(Darwin)
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &yes, socklen_t(MemoryLayout<Int32>.size))
        #endif
        let (response, includeBody) = respond(to: readHead(fd))
        guard let response else { return }
        send(response.serialized(includingBody: includeBody), to: fd)
        // Read what the client may still send before closing, so the close does not reset the
        // connection before it has read the response.
        shutdown(fd, Int32(SHUT_WR))
        var drainTimeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &drainTimeout, socklen_t(MemoryLayout<timeval>.size))
        var scratch = [UInt8](repeating: 0, count: 4096), drained = 0
        while drained < 1 << 20 {
            let n = recv(fd, &scratch, scratch.count, 0)
            if n <= 0 { break }
            drained += n
        }
    }

    /// The response to what was read (nil: the client closed without a request), and whether
    /// it carries its body (not for `HEAD`).
    private func respond(to head: RequestHead) -> (HTTPResponse?, Bool) {
        switch head {
        case .closed:
            return (nil, false)
        case .timedOut:
            return (.text("no complete request within \(Int(Self.idleTimeout)) s", status: 408), true)
        case .tooLarge:
            return (.text("the request head is larger than \(Self.maxHeadBytes) bytes", status: 431), true)
        case .complete(let text):
            let request: HTTPRequest
            do { request = try HTTPRequest(head: text) } catch {
                return (.text("\(error)", status: 400), true)
            }
            guard request.method == "GET" || request.method == "HEAD" else {
                var refusal = HTTPResponse.text("\(request.method) is not allowed: this server is read-only (GET and HEAD only)", status: 405)
                refusal.extraHeaders["Allow"] = "GET, HEAD"
                return (refusal, true)
            }
            if isLoopback, let host = request.headers["host"], !Self.namesLoopback(host) {
                return (.text("this server answers only requests addressed to localhost, 127.0.0.1 or [::1], not \(host)", status: 421),
                        request.method != "HEAD")
            }
            return (handler(request), request.method != "HEAD")
        }
    }

    private enum RequestHead {
        case complete(String), closed, timedOut, tooLarge
    }

    /// Reads up to the blank line that ends the request head.
    private func readHead(_ fd: Int32) -> RequestHead {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n < 0 && errno == EINTR { continue }
            // A connection opened ahead of need (browsers do) and left silent is closed without an answer.
            if n < 0 { return !buffer.isEmpty && (errno == EAGAIN || errno == EWOULDBLOCK) ? .timedOut : .closed }
            if n == 0 { return .closed }
            let searchFrom = max(0, buffer.count - 3)
            buffer += chunk[0..<n]
            if let end = Self.endOfHead(in: buffer, from: searchFrom) {
                return end > Self.maxHeadBytes ? .tooLarge : .complete(String(decoding: buffer[0..<end], as: UTF8.self))
            }
            if buffer.count > Self.maxHeadBytes { return .tooLarge }
        }
    }

    /// The offset of `\r\n\r\n` in `bytes` at or after `start`.
    private static func endOfHead(in bytes: [UInt8], from start: Int) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in start...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return i
        }
        return nil
    }

    private func send(_ bytes: [UInt8], to fd: Int32) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Self.sendWithoutSignal(fd, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            offset += n
        }
    }
}
