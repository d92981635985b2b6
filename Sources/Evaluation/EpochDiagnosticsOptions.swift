import ImageData
import TensorCore

/// The per-epoch stratum–background check, as a configuration states it
/// (`evaluation.epochDiagnostics` in a spec; absent or `every: 0`: off):
///
/// ```yaml
/// evaluation: {epochDiagnostics: {every: 5, probeView: full, images: 1000}}
/// ```
///
/// At the end of every `every`-th epoch and of the last one, the frozen encoder is measured
/// without disturbing training (see `Harness.EpochDiagnostics`): background reliance (the
/// top-1 on the test split's `only-background` view of a linear probe fitted on the train split's
/// `probeView`, and the `full` top-1 under the same probe) and, for ICL-MSR cells on a dataset
/// with known background families, the NMI of the argmax stratum with the background family and
/// with the class.
public struct EpochDiagnosticsOptions: Codable, Sendable, Equatable {
    /// Measure after every this many epochs (and after the last); at least 1.
    public var every: Int
    /// The rendering of the train split the probe is fitted on (a fixed view, so the probe does
    /// not change with the encoder's train view).
    public var probeView: ViewKind
    /// At most this many images of each split, evenly spaced in sample order (every class keeps
    /// its share; no random draw); `nil`: every image.
    public var images: Int?

    public init(every: Int, probeView: ViewKind = .full, images: Int? = nil) {
        (self.every, self.probeView, self.images) = (every, probeView, images)
    }

    /// Whether the end of `epoch` (0-based) of a run of `epochs` is measured.
    public func isDue(epoch: Int, epochs: Int) -> Bool {
        (epoch + 1) % every == 0 || epoch + 1 == epochs
    }

    /// The samples of a split of `count` used: `images` evenly spaced indices (`⌊i·count/images⌋`),
    /// or all of them.
    public func sampleIndices(count: Int) -> [Int] {
        guard let cap = images, cap < count else { return Array(0..<count) }
        return (0..<cap).map { $0 * count / cap }
    }

    /// - Throws: `InvalidOption` naming `every` or `images`.
    public func validate() throws {
        guard every >= 1 else {
            throw InvalidOption(key: "every", value: every, reason: "measure every N ≥ 1 epochs (leave epochDiagnostics out to turn the check off)")
        }
        if let n = images, n < 2 {
            throw InvalidOption(key: "images", value: n, reason: "a probe needs at least 2 images per split; leave images out to use every image")
        }
    }
}
