import Dispatch
import ImageData
import TensorCore

/// Two augmented views of the same images: `[B, 3, S, S]` each, and optionally one
/// same-background hard negative per image (`[B, 3, S, S]`, `BackgroundIntervention.hardNegatives`).
public struct ViewPair: @unchecked Sendable {
    public var view1: Tensor
    public var view2: Tensor
    public var hardNegatives: Tensor?
    public init(view1: Tensor, view2: Tensor, hardNegatives: Tensor? = nil) {
        self.view1 = view1; self.view2 = view2; self.hardNegatives = hardNegatives
    }
    public var count: Int { view1.shape[0] }
}

/// Batches for training, addressed by `(epoch, index)`.
///
/// `batch(epoch:index:)` must be a pure function of its arguments (seeded shuffles and
/// augmentations), so a resumed run needs only its position to see the same data: the position
/// is the whole "loader / RNG state" a checkpoint stores.
public protocol BatchSource: Sendable {
    var batchesPerEpoch: Int { get }
    /// Images per batch (every batch: contrastive training drops the last partial one).
    var imagesPerBatch: Int { get }
    func viewPair(epoch: Int, index: Int) -> ViewPair
    /// Everything that determines the batches (seed, sizes, view, preset); a checkpoint refuses
    /// to resume under a different one.
    var fingerprint: String { get }
}

extension BatchLoader: BatchSource {
    public var imagesPerBatch: Int { configuration.batchSize }

    public func viewPair(epoch: Int, index: Int) -> ViewPair {
        let b = batch(epoch: epoch, index: index)
        return ViewPair(view1: b.view1, view2: b.view2, hardNegatives: b.hardNegatives)
    }

    public var fingerprint: String {
        let c = configuration
        return "BatchLoader(images \(renderer.split.count), size \(renderer.split.size), batch \(c.batchSize), view \(c.view.rawValue), "
            + "preset \(c.preset.rawValue), seed \(c.seed), dropLast \(c.dropLast), normalization \(c.normalization.mean) \(c.normalization.std)"
            + (c.intervention?.hardNegatives == true ? ", hard negatives)" : ")")
    }
}

/// Prepares the next batch on a background queue while the caller trains on the current one.
final class Prefetcher: @unchecked Sendable {
    private let source: any BatchSource
    private let queue = DispatchQueue(label: "Harness.Prefetcher", qos: .userInitiated)
    private var pending: (epoch: Int, index: Int, group: DispatchGroup, box: Box)?

    final class Box: @unchecked Sendable { var value: ViewPair? }

    init(source: any BatchSource) { self.source = source }

    /// Starts preparing `(epoch, index)` unless it is already in preparation.
    func prefetch(epoch: Int, index: Int) {
        if let p = pending, p.epoch == epoch, p.index == index { return }
        drain()
        let group = DispatchGroup(), box = Box(), source = self.source
        queue.async(group: group) { box.value = source.viewPair(epoch: epoch, index: index) }
        pending = (epoch, index, group, box)
    }

    /// The batch `(epoch, index)`: the prefetched one when it matches, else computed now.
    func take(epoch: Int, index: Int) -> ViewPair {
        if let p = pending, p.epoch == epoch, p.index == index {
            p.group.wait()
            pending = nil
            return p.box.value!
        }
        drain()
        return source.viewPair(epoch: epoch, index: index)
    }

    /// Waits for a batch in preparation and drops it.
    func drain() {
        pending?.group.wait()
        pending = nil
    }

    deinit { pending?.group.wait() }
}
