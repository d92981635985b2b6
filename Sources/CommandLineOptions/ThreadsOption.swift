import ArgumentParser
import Foundation
import TensorCore

/// `--threads N` of the commands that compute (`backdrop train`, `reproduce`, `reproduce-cell`, and
/// every timing command of `backdrop-bench`): the number of worker threads of the kernels.
/// Precedence: `--threads` over `BACKDROP_THREADS` over the CPUs this process may run on (affinity
/// mask and cgroup quota, see `AvailableCPUs`).
public struct ThreadsOption: ParsableArguments {
    @Option(help: ArgumentHelp("Worker threads of the kernels (default: $BACKDROP_THREADS, else the CPUs this process may run on: "
            + "its affinity mask and cgroup CPU quota). Results are the same for any count.", valueName: "n"))
    public var threads: Int?

    public init() {}

    public func validate() throws { _ = try resolved() }

    /// The thread count these options and the environment choose, or a `ValidationError` naming
    /// `--threads` or `BACKDROP_THREADS` and the fix.
    public func resolved() throws -> Int {
        do {
            return try ThreadSetting.resolve(option: threads, environment: ProcessInfo.processInfo.environment)
        } catch let e as ThreadSettingError {
            throw ValidationError(e.message)
        }
    }

    /// Sets the process's thread count (`Parallel.configure`) before any kernel runs; returns it.
    @discardableResult
    public func configure() throws -> Int {
        let n = try resolved()
        Parallel.configure(threads: n)
        return n
    }
}
