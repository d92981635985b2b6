import ArgumentParser
import Foundation
import LocalWeb
import ResultsSite
import ResultsStore

/// `backdrop serve`: a read-only local web page over the results database.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a read-only web page over the results database: experiments, runs, live training curves, reports.",
        discussion: """
            Open the printed address in a browser. / lists the experiments; /experiments/<id> shows an experiment's runs \
            (status, epoch and step, start and finish) and its training loss per step, redrawn every 2 s while the runs \
            train (another metric: ?key=lr); /experiments/<id>/report is the page `backdrop report` writes. JSON: \
            /api/experiments, /api/experiments/<id>/runs, /api/runs/<id>/metrics?key=loss&after=<step>. \
            Every request opens the database read-only, so the page follows a `backdrop reproduce` writing it and can \
            never change it. Only this machine can connect unless --host names another address.
            """)

    @Option(help: "Results database (must exist; it is only read).") var db = "Results/backdrop.sqlite"
    @Option(help: "Port to listen on; 0 picks a free one (printed).") var port = 8080
    @Option(help: "Address to listen on. The default serves this machine only; another (e.g. 0.0.0.0) lets anyone who can reach it read the results.")
    var host = "127.0.0.1"

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 (any free port) to 65535 (got \(port))") }
    }

    func run() throws {
        // Refuse a missing or unreadable database now, with the fix, rather than on the first request.
        try ResultsDatabase(path: db, mode: .readOnly).close()
        let site = ResultsSite(databasePath: db)
        let server = try HTTPServer(host: host, port: port) { request in site.respond(to: request) }
        if !server.isLoopback {
            FileHandle.standardError.write(Data("""
                warning: listening on \(server.address), not a loopback address: anyone who can reach this machine on \
                port \(server.port) can read the results database (read-only); the default --host 127.0.0.1 serves this machine only

                """.utf8))
        }
        let signals = StopOnSignals { server.stop() }
        defer { signals.cancel() }
        FileHandle.standardOutput.write(Data("Serving \(db) at \(server.url) (Ctrl-C to stop)\n".utf8))
        server.serve()
        FileHandle.standardError.write(Data("stopped serving \(db)\n".utf8))
    }
}

/// While alive, turns the first Ctrl-C (SIGINT) or SIGTERM into a call of `stop`; a second
/// one ends the process the usual way.
final class StopOnSignals {
    private let sources: [DispatchSourceSignal]

    init(_ stop: @escaping @Sendable () -> Void) {
        sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                signal(SIGINT, SIG_DFL)
                signal(SIGTERM, SIG_DFL)
                stop()
            }
            source.resume()
            return source
        }
    }

    /// Restores the default behaviour of both signals.
    func cancel() {
        for source in sources { source.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
