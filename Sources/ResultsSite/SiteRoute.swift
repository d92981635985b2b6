import LocalWeb

/// The pages and JSON endpoints of the results site, parsed from a request's path and query.
enum SiteRoute: Equatable {
    /// `/`: the experiments.
    case home
    /// `/experiments/<id>?key=<metric>`: an experiment's runs and the live chart of one metric.
    case experiment(id: Int64, key: String)
    /// `/experiments/<id>/report`: the HTML `backdrop report` writes for the experiment.
    case report(id: Int64)
    /// `/api/experiments`: every experiment with its cell counts.
    case experimentsJSON
    /// `/api/experiments/<id>/runs?key=<metric>`: the runs, with their progress in that metric.
    case runsJSON(experimentID: Int64, key: String)
    /// `/api/runs/<id>/metrics?key=<metric>&after=<step>`: a run's values after a step.
    case metricsJSON(runID: Int64, key: String, after: Int?)

    /// The metric charted and followed when the request names none: the per-step training loss.
    static let defaultKey = "loss"

    /// What a wrong path is told.
    static let pathHelp = "the pages are /, /experiments/<id> and /experiments/<id>/report; the JSON endpoints are "
        + "/api/experiments, /api/experiments/<id>/runs and /api/runs/<id>/metrics?key=loss&after=<step>"

    /// - Throws: ``SiteError/notFound(_:)`` for a path that names no page, ``SiteError/badRequest(_:)``
    ///   for an id or query value that is not well-formed.
    init(_ request: HTTPRequest) throws(SiteError) {
        let parts = request.pathComponents
        switch (parts.count, parts.first, parts.count > 1 ? parts[1] : nil, parts.last) {
        case (0, _, _, _):
            self = .home
        case (2, "experiments", let id?, _):
            self = .experiment(id: try Self.id(id, of: "experiment"), key: try Self.key(request))
        case (3, "experiments", let id?, "report"):
            self = .report(id: try Self.id(id, of: "experiment"))
        case (2, "api", "experiments", _):
            self = .experimentsJSON
        case (4, "api", "experiments", "runs"):
            self = .runsJSON(experimentID: try Self.id(parts[2], of: "experiment"), key: try Self.key(request))
        case (4, "api", "runs", "metrics"):
            self = .metricsJSON(runID: try Self.id(parts[2], of: "run"), key: try Self.key(request), after: try Self.step(request))
        default:
            throw .notFound("no page at \(request.path); \(Self.pathHelp)")
        }
    }

    private static func id(_ text: String, of kind: String) throws(SiteError) -> Int64 {
        guard let id = Int64(text), id > 0 else {
            throw .badRequest("\(kind) id must be a positive whole number, not \"\(text.prefix(100))\"")
        }
        return id
    }

    private static func key(_ request: HTTPRequest) throws(SiteError) -> String {
        guard let key = request.query["key"] else { return defaultKey }
        guard !key.isEmpty, key.count <= 100 else { throw .badRequest("key must name a metric (1 to 100 characters), e.g. key=loss") }
        return key
    }

    private static func step(_ request: HTTPRequest) throws(SiteError) -> Int? {
        guard let text = request.query["after"] else { return nil }
        guard let step = Int(text) else { throw .badRequest("after must be a step number, not \"\(text.prefix(100))\"") }
        return step
    }
}

/// A request the site cannot answer with a page, and the status it is answered with.
enum SiteError: Error, Equatable {
    /// 400: an id or query value that is not well-formed.
    case badRequest(String)
    /// 404: no such page, experiment or run.
    case notFound(String)

    var response: HTTPResponse {
        switch self {
        case .badRequest(let message): return .text(message, status: 400)
        case .notFound(let message): return .text(message, status: 404)
        }
    }
}
