import Foundation
import LocalWeb
import Reports
import ResultsStore

/// The read-only web site over a results database: the experiments, each experiment's runs with
/// a chart of their training metric that follows the runs while they train, and the HTML report
/// of an experiment (see ``SiteRoute`` for the paths).
///
/// Every request opens the database read-only anew and closes it after answering, so the site
/// always shows what the file holds now, works while a training process writes it, and can never
/// write or create it.
public struct ResultsSite: Sendable {
    /// The results database file.
    public let databasePath: String

    /// The most metric values one `/api/runs/<id>/metrics` answer carries.
    static let maxPointsPerAnswer = 5000

    public init(databasePath: String) {
        self.databasePath = databasePath
    }

    /// The answer to one request: a page, a JSON document, or a plain-text explanation of why
    /// there is none (400 for a malformed id or query, 404 for no such page, experiment or run,
    /// 503 when the database file is gone, 500 when it cannot be read).
    public func respond(to request: HTTPRequest) -> HTTPResponse {
        do {
            let route = try SiteRoute(request)
            let store = try ResultsDatabase(path: databasePath, mode: .readOnly)
            defer { try? store.close() }
            return try answer(route, from: store)
        } catch let error as SiteError {
            return error.response
        } catch let error as ResultsStoreError {
            if case .missingDatabase = error { return .text("\(error)", status: 503) }
            return .text("cannot read the results database: \(error)", status: 500)
        } catch {
            return .text("cannot read the results database \(databasePath): \(error)", status: 500)
        }
    }

    private func answer(_ route: SiteRoute, from store: ResultsDatabase) throws -> HTTPResponse {
        switch route {
        case .home:
            return .html(SitePages.home(experiments: try store.experimentOverview(), databasePath: databasePath))
        case .experiment(let id, let key):
            let experiment = try experiment(id, in: store)
            let runs = try store.runs(experimentID: id)
            let progress = try store.runProgress(experimentID: id, key: key)
            return .html(SitePages.experiment(experiment, runs: runs.map { SiteJSON.RunSummary($0, progress: progress[$0.id]) },
                                              key: key, databasePath: databasePath))
        case .report(let id):
            _ = try experiment(id, in: store)
            return .html(try ExperimentReport(store: store, experiment: "#\(id)").html)
        case .experimentsJSON:
            return .json(try SiteJSON.encode(try store.experimentOverview().map(SiteJSON.ExperimentSummary.init)))
        case .runsJSON(let id, let key):
            _ = try experiment(id, in: store)
            let progress = try store.runProgress(experimentID: id, key: key)
            return .json(try SiteJSON.encode(try store.runs(experimentID: id).map { SiteJSON.RunSummary($0, progress: progress[$0.id]) }))
        case .metricsJSON(let runID, let key, let after):
            guard try store.run(id: runID) != nil else {
                throw SiteError.notFound("no run with id \(runID) in \(databasePath); /api/experiments/<id>/runs lists the runs of an experiment")
            }
            let values = try store.metrics(runID: runID, key: key, after: after, limit: Self.maxPointsPerAnswer + 1)
            let page = SiteJSON.MetricPage(run: runID, key: key,
                                           points: values.prefix(Self.maxPointsPerAnswer).map { .init(step: $0.step, epoch: $0.epoch, value: $0.value) },
                                           more: values.count > Self.maxPointsPerAnswer)
            return .json(try SiteJSON.encode(page))
        }
    }

    private func experiment(_ id: Int64, in store: ResultsDatabase) throws -> Experiment {
        guard let experiment = try store.experiment(id: id) else {
            throw SiteError.notFound("no experiment with id \(id) in \(databasePath); the experiments are listed at /")
        }
        return experiment
    }
}
