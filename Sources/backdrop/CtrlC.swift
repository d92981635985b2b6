import Foundation
import Harness
import ResultsStore

/// While alive, turns Ctrl-C (SIGINT) into a call of `onInterrupt` on a background queue instead
/// of killing the process, so a long command can stop cleanly. With `secondQuits`, a second
/// Ctrl-C ends the process the usual way (for when the clean stop takes too long).
final class CtrlCHandler {
    private let source: DispatchSourceSignal

    init(secondQuits: Bool = true, onInterrupt: @escaping @Sendable () -> Void) {
        signal(SIGINT, SIG_IGN)
        let seen = StopRequest()
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler {
            if secondQuits, seen.isRequested { signal(SIGINT, SIG_DFL); raise(SIGINT) }
            seen.request()
            onInterrupt()
        }
        source.resume()
    }

    /// A query stops with "the query was interrupted" (exit 1) instead of dying mid-read.
    convenience init(_ interruption: QueryInterruption) {
        self.init { interruption.interrupt() }
    }

    /// Training stops after its current step with a checkpoint; `announce` is printed once.
    convenience init(_ stop: StopRequest, secondQuits: Bool = true, announce: String?) {
        self.init(secondQuits: secondQuits) {
            if let announce, !stop.isRequested { FileHandle.standardError.write(Data((announce + "\n").utf8)) }
            stop.request()
        }
    }

    /// Restores the default Ctrl-C behaviour.
    func cancel() {
        source.cancel()
        signal(SIGINT, SIG_DFL)
    }
}

/// This process's command line as one shell-quoted line, starting with `backdrop`: what to run
/// again to resume, and what an ad-hoc experiment records as its "overrides".
enum ThisCommand {
    static var line: String {
        (["backdrop"] + CommandLine.arguments.dropFirst()).map(ShellQuoting.quote).joined(separator: " ")
    }
}
