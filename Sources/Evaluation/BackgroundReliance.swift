import ImageData
import NN
import TensorCore

/// How much a frozen encoder's class read-out rests on the background: a linear probe fitted on
/// the train split rendered in one fixed view, applied to the test split's `only-background`
/// view (the object filled, the background kept) and, for reference, to its `full` view.
///
/// The same machinery as `FrozenEvaluation` (`FeatureExtractor` in eval mode, `LinearProbe` by
/// L-BFGS), so the numbers equal that evaluation's `linear` rows of the same probe view on the
/// same images. Chance is 1/C; an `only-background` top-1 near the `full` top-1 means the
/// read-out works from the background alone.
public struct BackgroundReliance: Sendable {
    /// The train view the probe is fitted on.
    public var probeView: ViewKind
    public var probe: LinearProbe
    /// Train and test samples used (nil: all).
    public var trainIndices: [Int]?
    public var testIndices: [Int]?
    /// Images per backbone forward pass.
    public var batchSize: Int

    public init(probeView: ViewKind = .full, probe: LinearProbe = LinearProbe(), trainIndices: [Int]? = nil,
                testIndices: [Int]? = nil, batchSize: Int = 256) {
        self.probeView = probeView
        self.probe = probe
        self.trainIndices = trainIndices
        self.testIndices = testIndices
        self.batchSize = batchSize
    }

    /// Top-1 of the one probe on the test split's `only-background` and `full` views.
    public struct Outcome: Sendable, Equatable {
        public var onlyBackground: Double
        public var full: Double
    }

    /// Measures `backbone` (frozen: eval-mode batch norm, no gradients, nothing updated).
    /// - Parameters: train, test: the splits' renderers; normalization: the training normalization.
    public func measure(backbone: any Backbone, train: ViewRenderer, test: ViewRenderer, normalization: Normalization) throws -> Outcome {
        func features(_ renderer: ViewRenderer, _ view: ViewKind, _ indices: [Int]?) throws -> FeatureSet {
            try FeatureExtractor.extract(backbone: backbone, renderer: renderer, view: view, normalization: normalization,
                                         batchSize: batchSize, indices: indices)
        }
        let model = probe.fit(try features(train, probeView, trainIndices))
        let onlyBackground = model.evaluate(try features(test, .onlyBackground, testIndices)).top1
        let full = model.evaluate(try features(test, .full, testIndices)).top1
        return Outcome(onlyBackground: onlyBackground, full: full)
    }
}
