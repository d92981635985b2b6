/// A configuration value that cannot be used, named by its key path in Backdrop's one option
/// language — the keys of an experiment spec (`train.batchSize`, `iclmsr.strata`,
/// `optimizer.lr`, `evaluation.knn.k`).
///
/// Each room validates the options it owns and names them relative to itself (`ICLMSROptions`
/// throws `strata`); the room that holds that option under a key prefixes it with `scoped(_:)`
/// (`iclmsr.strata`). A front end spells the final key its own way in one place: a spec names the
/// key and its line, `backdrop train` the flag that set it.
public struct InvalidOption: Error, Equatable, Sendable, CustomStringConvertible {
    /// Dotted key path (`iclmsr.metaOptimizer.lr`).
    public var key: String
    /// What is wrong and how to fix it.
    public var message: String

    public init(key: String, message: String) {
        self.key = key
        self.message = message
    }

    /// A value and why it is refused: `invalid value 0: K must be at least 1`.
    public init(key: String, value: Any, reason: String) {
        self.init(key: key, message: "invalid value \(value): \(reason)")
    }

    /// The same error with `prefix` in front of its key (`strata` → `iclmsr.strata`).
    public func scoped(_ prefix: String) -> InvalidOption {
        InvalidOption(key: key.isEmpty ? prefix : "\(prefix).\(key)", message: message)
    }

    public var description: String { "\(key): \(message)" }
}
