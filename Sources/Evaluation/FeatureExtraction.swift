import ImageData
import NN
import TensorCore

/// Frozen features of one split rendered in one view.
public struct FeatureSet: Sendable {
    /// `[N, D]` backbone features (raw, not normalized).
    public var features: Tensor
    /// N labels in `0..<classCount`.
    public var labels: [Int]
    public var classCount: Int
    /// The view the images were rendered in (`full`, `foreground`, …).
    public var view: String
    /// The split's name (`train`, `test`).
    public var split: String

    public init(features: Tensor, labels: [Int], classCount: Int, view: String, split: String) {
        precondition(features.rank == 2 && features.shape[0] == labels.count,
                     "FeatureSet: features \(features.shape) do not match \(labels.count) labels")
        self.features = features.detached()
        self.labels = labels
        self.classCount = classCount
        self.view = view
        self.split = split
    }

    public var count: Int { labels.count }
    public var dimension: Int { features.shape[1] }

    /// The features with every row divided by its L2 norm: `[N, D]`.
    public func l2Normalized() -> Tensor { withoutGradients { features.l2Normalized(axis: 1) } }
}

/// Extracts frozen backbone features.
///
/// The backbone runs in `ForwardMode.eval` (batch norm uses its running statistics and updates
/// nothing) inside `withoutGradients`, in batches of `batchSize` images, on unaugmented views
/// rendered by `ImageData` and normalized like the training batches.
public enum FeatureExtractor {
    /// Features of every sample of `renderer.split` (or of the samples `indices`) rendered in `view`.
    /// - Parameters:
    ///   - backbone: `[B, 3, S, S] → [B, D]`; left unchanged.
    ///   - renderer: the split and its view options (fill, partners).
    ///   - normalization: the per-channel normalization used in training.
    ///   - batchSize: images per forward pass (memory vs. speed only; results do not depend on it).
    ///   - indices: the samples to extract, in this order (nil: every sample).
    /// - Returns: `[N, D]` features in sample order (N = `indices.count` when given).
    public static func extract(backbone: any Backbone, renderer: ViewRenderer, view: ViewKind,
                               normalization: Normalization, batchSize: Int = 256, indices: [Int]? = nil) throws -> FeatureSet {
        precondition(batchSize >= 1, "FeatureExtractor: batchSize must be ≥ 1")
        let samples = indices ?? Array(0..<renderer.split.count)
        let n = samples.count
        let d = backbone.featureDimension
        let out = Tensor.uninitialized([n, d])
        let o = out.storage.pointer
        try withoutGradients {
            var start = 0
            while start < n {
                let end = min(start + batchSize, n)
                let images = BatchLoader.render(renderer, view: view, indices: Array(samples[start..<end]), normalization: normalization)
                let f = try backbone(images, mode: .eval)
                guard f.shape == [end - start, d] else {
                    throw ShapeError(layer: "FeatureExtractor", expected: "[\(end - start), \(d)] backbone output", actual: f.shape)
                }
                (o + start * d).update(from: f.pointer, count: (end - start) * d)
                start = end
            }
        }
        return FeatureSet(features: out, labels: samples.map { renderer.split.labels[$0] }, classCount: renderer.split.classes.count,
                          view: view.rawValue, split: renderer.split.name)
    }
}
