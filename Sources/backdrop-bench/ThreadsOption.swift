import ArgumentParser
import Foundation
import TensorCore

/// `--threads N` of the timing commands: the kernels' worker threads (default: `BACKDROP_THREADS`,
/// else the CPUs this process may run on), as `backdrop train --threads` sets them.
struct ThreadsOption: ParsableArguments {
    @Option(help: ArgumentHelp("Worker threads of the kernels (default: $BACKDROP_THREADS, else the CPUs this process may run on).",
            valueName: "n"))
    var threads: Int?

    func validate() throws { _ = try resolved() }

    /// The chosen count, or a `ValidationError` naming `--threads` or `BACKDROP_THREADS` and the fix.
    func resolved() throws -> Int {
        do {
            return try ThreadSetting.resolve(option: threads, environment: ProcessInfo.processInfo.environment)
        } catch let e as ThreadSettingError {
            throw ValidationError(e.message)
        }
    }

    /// Sets the process's thread count (`Parallel.configure`) before any kernel runs.
    func configure() throws { Parallel.configure(threads: try resolved()) }
}
