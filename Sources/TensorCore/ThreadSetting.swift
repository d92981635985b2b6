import Foundation

/// How many worker threads the kernels use: `--threads N` over `BACKDROP_THREADS=N` over the CPUs
/// this process may run on (`AvailableCPUs`). The commands that compute resolve it once at their
/// start and hand it to `Parallel.configure(threads:)`.
public enum ThreadSetting {
    /// The environment variable that sets the thread count when no `--threads` is given.
    public static let environmentVariable = "BACKDROP_THREADS"

    /// The thread count for a command given `option` (its `--threads`, nil when absent) in
    /// `environment`; `available` is consulted only when neither sets it.
    /// - Throws: `ThreadSettingError` naming `--threads` or `BACKDROP_THREADS` when the value is
    ///   not a whole number of at least 1.
    public static func resolve(option: Int?, environment: [String: String],
                               available: () -> Int = { AvailableCPUs.count() }) throws -> Int {
        if let option {
            guard option >= 1 else {
                throw ThreadSettingError("--threads \(option): the number of worker threads must be at least 1, e.g. --threads 4 "
                                         + "(leave it out to use the CPUs this process may run on)")
            }
            return option
        }
        if let text = environment[environmentVariable] { return try parseEnvironment(text) }
        return available()
    }

    /// The value of `BACKDROP_THREADS`: a whole number of at least 1 (surrounding blanks allowed).
    public static func parseEnvironment(_ text: String) throws -> Int {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let n = Int(trimmed), n >= 1 else {
            throw ThreadSettingError("\(environmentVariable)=\(text): expected a whole number of worker threads, at least 1, "
                                     + "e.g. \(environmentVariable)=4; unset it to use the CPUs this process may run on")
        }
        return n
    }
}

/// A thread count given on the command line or in `BACKDROP_THREADS` that is not a whole number of
/// at least 1; the message names the option or variable and the fix.
public struct ThreadSettingError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
