import Foundation
import ResultsStore

/// While alive, turns Ctrl-C (SIGINT) into ``QueryInterruption/interrupt()``, so a long query
/// stops with "the query was interrupted" (exit 1) instead of killing the process mid-read.
/// A second Ctrl-C after the first ends the process the usual way.
final class InterruptOnSIGINT {
    private let source: DispatchSourceSignal

    init(_ interruption: QueryInterruption) {
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler {
            if interruption.wasRequested { signal(SIGINT, SIG_DFL); raise(SIGINT) }
            interruption.interrupt()
        }
        source.resume()
    }

    /// Restores the default Ctrl-C behaviour.
    func cancel() {
        source.cancel()
        signal(SIGINT, SIG_DFL)
    }
}
