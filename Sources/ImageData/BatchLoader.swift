import Dispatch
import Foundation
import TensorCore

/// What the batch loader produces per step.
public struct TrainingBatch: Sendable {
    /// First augmented view, normalized: `[B, 3, S, S]`.
    public var view1: Tensor
    /// Second augmented view, normalized: `[B, 3, S, S]`.
    public var view2: Tensor
    /// Foreground weights in [0, 1] that followed each view's geometric augmentations: `[B, 1, S, S]`.
    public var mask1: Tensor
    public var mask2: Tensor
    /// Class labels (never used by self-supervised training; kept for diagnostics).
    public var labels: [Int]
    /// Indices of the samples in the split.
    public var indices: [Int]
    /// Same-background hard negatives, normalized: `[B, 3, S, S]`, row k built from sample
    /// `indices[k]`'s background (`BackgroundIntervention.hardNegatives`); `nil` without them.
    public var hardNegatives: Tensor? = nil
}

/// Per-channel normalization `(x − mean) / std`, in [0, 1] units.
public struct Normalization: Sendable, Equatable {
    public var mean: [Float]
    public var std: [Float]

    public init(mean: [Float], std: [Float]) {
        self.mean = mean
        self.std = std
    }

    /// The statistics of a split's cached pixels.
    public init(of split: DatasetSplit) {
        let stats = split.channelStatistics()
        self.init(mean: stats.mean, std: stats.std)
    }

    public static let none = Normalization(mean: [0, 0, 0], std: [1, 1, 1])

    /// Writes `(x − mean_c) / std_c` of planar `[3, plane]` pixels in [0, 1] to sample `k` of a
    /// `[B, 3, plane]` buffer.
    func store(_ pixels: [Float], into dst: UnsafeMutablePointer<Float>, sample k: Int, plane: Int) {
        for c in 0..<3 {
            let m = mean[c], inv = 1 / std[c]
            let base = (k * 3 + c) * plane
            for j in 0..<plane { dst[base + j] = (pixels[c * plane + j] - m) * inv }
        }
    }
}

/// Batch loader configuration.
public struct LoaderConfiguration: Sendable {
    public var batchSize: Int
    /// The view the model trains on (`full` or `foreground` in the experiment).
    public var view: ViewKind
    public var preset: AugmentationPreset
    public var normalization: Normalization
    /// Seeds the per-epoch shuffle and every augmentation draw.
    public var seed: UInt64
    /// Drop the last incomplete batch (contrastive losses prefer equal batch sizes).
    public var dropLast: Bool
    /// A background intervention applied to each view before its augmentation (nil: none).
    public var intervention: BackgroundIntervention?

    public init(batchSize: Int, view: ViewKind = .full, preset: AugmentationPreset = .symmetric,
                normalization: Normalization = .none, seed: UInt64 = 0, dropLast: Bool = true,
                intervention: BackgroundIntervention? = nil) {
        self.intervention = intervention
        self.batchSize = batchSize
        self.view = view
        self.preset = preset
        self.normalization = normalization
        self.seed = seed
        self.dropLast = dropLast
    }
}

/// Produces two augmented views per image as `[B, 3, S, S]` tensors, shuffled per epoch by seed.
///
/// `batch(epoch:index:)` is a pure function of its arguments (so a resumed run sees the same
/// batches); iterating `epoch(_:)` prepares batch k + 1 on a background queue while the caller
/// works on batch k. Within a batch, samples are augmented in parallel.
public final class BatchLoader: Sendable {
    public let renderer: ViewRenderer
    public let configuration: LoaderConfiguration
    private let queue = DispatchQueue(label: "ImageData.BatchLoader.prefetch", qos: .userInitiated)

    public init(renderer: ViewRenderer, configuration: LoaderConfiguration) throws {
        guard configuration.batchSize >= 1 else {
            throw ImageDataError.invalidParameter(name: "batchSize", value: "\(configuration.batchSize)", fix: "use a batch size of at least 1")
        }
        guard !configuration.dropLast || configuration.batchSize <= renderer.split.count else {
            throw ImageDataError.invalidParameter(name: "batchSize", value: "\(configuration.batchSize)",
                                                  fix: "the split has only \(renderer.split.count) images; use a smaller batch or dropLast: false")
        }
        self.renderer = renderer
        self.configuration = configuration
    }

    /// Number of batches per epoch.
    public var batchesPerEpoch: Int {
        let n = renderer.split.count, b = configuration.batchSize
        return configuration.dropLast ? n / b : (n + b - 1) / b
    }

    /// The sample order of `epoch` (a seeded permutation).
    public func order(epoch: Int) -> [Int] {
        var order = Array(0..<renderer.split.count)
        var rng = SeededRNG(seed: configuration.seed, streams: 0x5348_5546, UInt64(epoch))
        rng.shuffle(&order)
        return order
    }

    /// Batch `index` of `epoch`, computed synchronously.
    public func batch(epoch: Int, index: Int) -> TrainingBatch {
        let order = order(epoch: epoch)
        let b = configuration.batchSize
        let indices = Array(order[(index * b)..<min((index + 1) * b, order.count)])
        return makeBatch(indices: indices, epoch: epoch)
    }

    /// Augments `indices` into a batch (the work the prefetch thread does).
    public func makeBatch(indices: [Int], epoch: Int) -> TrainingBatch {
        let s = renderer.split.size, n = indices.count, plane = s * s
        let v1 = TensorStorage(uninitializedCount: n * 3 * plane), v2 = TensorStorage(uninitializedCount: n * 3 * plane)
        let m1 = TensorStorage(uninitializedCount: n * plane), m2 = TensorStorage(uninitializedCount: n * plane)
        nonisolated(unsafe) let p1 = v1.pointer, p2 = v2.pointer, q1 = m1.pointer, q2 = m2.pointer
        let (a1, a2) = configuration.preset.views
        let norm = configuration.normalization, seed = configuration.seed, view = configuration.view
        let intervention = configuration.intervention
        let renderer = self.renderer
        forEachIndex(n) { k in
            let i = indices[k]
            let (pixels, mask) = renderer.renderWithMask(view, sample: i)
            for (viewIndex, params) in [(0, a1), (1, a2)] {
                var rng = SeededRNG(seed: seed, streams: UInt64(epoch), UInt64(i), UInt64(viewIndex))
                let image = intervention?.apply(to: pixels, sample: i, view: viewIndex, epoch: epoch, seed: seed, renderer: renderer, mask: mask) ?? pixels
                let out = Augmenter.apply(params, image: image, mask: mask, size: s, rng: &rng)
                let dst = viewIndex == 0 ? p1 : p2, mdst = viewIndex == 0 ? q1 : q2
                norm.store(out.pixels, into: dst, sample: k, plane: plane)
                for j in 0..<plane { mdst[k * plane + j] = out.mask[j] }
            }
        }
        var batch = TrainingBatch(view1: Tensor(shape: [n, 3, s, s], storage: v1), view2: Tensor(shape: [n, 3, s, s], storage: v2),
                                  mask1: Tensor(shape: [n, 1, s, s], storage: m1), mask2: Tensor(shape: [n, 1, s, s], storage: m2),
                                  labels: indices.map { renderer.split.labels[$0] }, indices: indices)
        if let intervention, intervention.hardNegatives {
            batch.hardNegatives = makeHardNegatives(indices: indices, epoch: epoch, intervention: intervention)
        }
        return batch
    }

    /// One same-background hard negative per sample (partners drawn outside the batch), augmented with the first view's
    /// parameters from its own stream (`BackgroundIntervention.hardNegativeStream`): `[n, 3, S, S]`.
    func makeHardNegatives(indices: [Int], epoch: Int, intervention: BackgroundIntervention) -> Tensor {
        let s = renderer.split.size, n = indices.count, plane = s * s
        let storage = TensorStorage(uninitializedCount: n * 3 * plane)
        nonisolated(unsafe) let dst = storage.pointer
        let params = configuration.preset.views.0, norm = configuration.normalization, seed = configuration.seed
        let renderer = self.renderer
        forEachIndex(n) { k in
            let i = indices[k]
            var rng = BackgroundIntervention.hardNegativeStream(seed: seed, epoch: epoch, sample: i)
            let negative = intervention.hardNegative(sample: i, batch: indices, rng: &rng, renderer: renderer)
            let out = Augmenter.apply(params, image: negative.pixels, mask: negative.mask, size: s, rng: &rng)
            norm.store(out.pixels, into: dst, sample: k, plane: plane)
        }
        return Tensor(shape: [n, 3, s, s], storage: storage)
    }

    /// The batches of `epoch`, with the next one prepared in the background.
    public func epoch(_ epoch: Int) -> EpochBatches { EpochBatches(loader: self, epoch: epoch) }

    /// Renders samples in one view, unaugmented and normalized, for evaluation: `[n, 3, S, S]`.
    public static func render(_ renderer: ViewRenderer, view: ViewKind, indices: [Int], normalization: Normalization) -> Tensor {
        let s = renderer.split.size, plane = s * s
        let storage = TensorStorage(uninitializedCount: indices.count * 3 * plane)
        nonisolated(unsafe) let dst = storage.pointer
        forEachIndex(indices.count) { k in
            let px = renderer.render(view, sample: indices[k])
            for c in 0..<3 {
                let mean = normalization.mean[c], inv = 1 / normalization.std[c]
                for j in 0..<plane { dst[(k * 3 + c) * plane + j] = (Float(px[3 * j + c]) / 255 - mean) * inv }
            }
        }
        return Tensor(shape: [indices.count, 3, s, s], storage: storage)
    }

    fileprivate func schedule(_ indices: [Int], epoch: Int) -> PendingBatch {
        let pending = PendingBatch()
        queue.async { [self] in pending.fulfil(makeBatch(indices: indices, epoch: epoch)) }
        return pending
    }
}

/// A batch being prepared on the prefetch queue.
final class PendingBatch: @unchecked Sendable {
    private let ready = DispatchSemaphore(value: 0)
    private var value: TrainingBatch?

    func fulfil(_ batch: TrainingBatch) {
        value = batch
        ready.signal()
    }

    func wait() -> TrainingBatch {
        ready.wait()
        return value!
    }
}

/// One epoch of batches; iterating it keeps one batch in preparation ahead of the caller.
public struct EpochBatches: Sequence {
    let loader: BatchLoader
    let epoch: Int

    public func makeIterator() -> Iterator { Iterator(loader: loader, epoch: epoch) }

    public final class Iterator: IteratorProtocol {
        let loader: BatchLoader
        let epoch: Int
        let order: [Int]
        let count: Int
        var nextIndex = 0
        var pending: PendingBatch?

        init(loader: BatchLoader, epoch: Int) {
            self.loader = loader
            self.epoch = epoch
            self.order = loader.order(epoch: epoch)
            self.count = loader.batchesPerEpoch
            if count > 0 { pending = loader.schedule(indices(0), epoch: epoch) }
        }

        func indices(_ b: Int) -> [Int] {
            let size = loader.configuration.batchSize
            return Array(order[(b * size)..<Swift.min((b + 1) * size, order.count)])
        }

        public func next() -> TrainingBatch? {
            guard nextIndex < count, let current = pending else { return nil }
            let batch = current.wait()
            nextIndex += 1
            pending = nextIndex < count ? loader.schedule(indices(nextIndex), epoch: epoch) : nil
            return batch
        }

        deinit { _ = pending?.wait() }
    }
}
