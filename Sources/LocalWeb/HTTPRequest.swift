import Foundation

/// One parsed HTTP/1.x request: its method, path and query (the body, which GET and HEAD do not
/// have, is never read).
public struct HTTPRequest: Sendable, Equatable {
    /// `GET`, `HEAD`, … as sent (upper case by the protocol).
    public var method: String
    /// The path, percent-decoded, always starting with `/`.
    public var path: String
    /// The query parameters, percent-decoded (`+` read as a space); a repeated name keeps its
    /// last value.
    public var query: [String: String]
    /// The header fields, names lower-cased; a repeated field keeps its last value.
    public var headers: [String: String]

    public init(method: String, path: String, query: [String: String] = [:], headers: [String: String] = [:]) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
    }

    /// The path split at `/`, without empty components (`/experiments/3/` → `["experiments", "3"]`).
    public var pathComponents: [String] { path.split(separator: "/").map(String.init) }

    /// Parses the head of a request (request line and header fields, without the blank line).
    ///
    /// - Throws: ``HTTPRequestError`` naming what is wrong with it.
    public init(head: String) throws {
        let lines = head.components(separatedBy: "\r\n")
        let parts = lines[0].split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, parts[2].hasPrefix("HTTP/1.") else {
            throw HTTPRequestError.malformedRequestLine(String(lines[0].prefix(200)))
        }
        method = String(parts[0])
        let target = String(parts[1])
        guard target.hasPrefix("/") else { throw HTTPRequestError.malformedTarget(String(target.prefix(200))) }
        let pathPart = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        guard let decodedPath = String(pathPart[0]).removingPercentEncoding else {
            throw HTTPRequestError.malformedTarget(String(target.prefix(200)))
        }
        path = decodedPath
        query = [:]
        if pathPart.count == 2 {
            for pair in pathPart[1].split(separator: "&") {
                let nameAndValue = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard let name = Self.decodeQueryPart(nameAndValue[0]),
                      let value = Self.decodeQueryPart(nameAndValue.count == 2 ? nameAndValue[1] : "") else {
                    throw HTTPRequestError.malformedTarget(String(target.prefix(200)))
                }
                query[name] = value
            }
        }
        headers = [:]
        for line in lines.dropFirst() where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { throw HTTPRequestError.malformedHeader(String(line.prefix(200))) }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
    }

    private static func decodeQueryPart(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}

/// Why a request could not be parsed (answered `400 Bad Request` with this text).
public enum HTTPRequestError: Error, Equatable, CustomStringConvertible {
    case malformedRequestLine(String)
    case malformedTarget(String)
    case malformedHeader(String)

    public var description: String {
        switch self {
        case .malformedRequestLine(let line): return "malformed request line \"\(line)\"; expected e.g. \"GET / HTTP/1.1\""
        case .malformedTarget(let target): return "malformed request target \"\(target)\"; expected a path starting with / and a well-encoded query"
        case .malformedHeader(let line): return "malformed header field \"\(line)\"; expected \"Name: value\""
        }
    }
}
