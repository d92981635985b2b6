import ImageData
import NN
import TensorCore

/// The experiment's evaluation of one trained backbone: both protocols on every test view.
///
/// The linear probe is fitted once on the train split rendered in `probeView` and applied to the
/// test split rendered in each test view; the kNN memory bank is the same train features. Every
/// row carries its protocol parameters (see `EvaluationResult`).
public struct FrozenEvaluation: Sendable {
    public var probeView: ViewKind
    public var testViews: [ViewKind]
    public var knn: KNNClassifier
    public var probe: LinearProbe
    /// Images per backbone forward pass during feature extraction.
    public var batchSize: Int

    public init(probeView: ViewKind = .full, testViews: [ViewKind] = ViewKind.allCases, knn: KNNClassifier = KNNClassifier(),
                probe: LinearProbe = LinearProbe(), batchSize: Int = 256) {
        self.probeView = probeView
        self.testViews = testViews
        self.knn = knn
        self.probe = probe
        self.batchSize = batchSize
    }

    /// Evaluates `backbone` (frozen: eval-mode batch norm, no gradients, nothing updated).
    /// - Parameters:
    ///   - train: renderer of the train split (probe view and kNN bank).
    ///   - test: renderer of the test split (its partner table defines the mixed views).
    ///   - normalization: the per-channel normalization used in training.
    ///   - progress: called with a line before each extraction (nil: silent).
    /// - Returns: for each test view, the linear row then the kNN row.
    public func run(backbone: any Backbone, train: ViewRenderer, test: ViewRenderer, normalization: Normalization,
                    progress: ((String) -> Void)? = nil) throws -> [EvaluationResult] {
        progress?("features: train split, view \(probeView.rawValue), \(train.split.count) images")
        let trainFeatures = try FeatureExtractor.extract(backbone: backbone, renderer: train, view: probeView,
                                                         normalization: normalization, batchSize: batchSize)
        let model = probe.fit(trainFeatures)
        var rows: [EvaluationResult] = []
        for view in testViews {
            progress?("features: test split, view \(view.rawValue), \(test.split.count) images")
            let testFeatures = try FeatureExtractor.extract(backbone: backbone, renderer: test, view: view,
                                                            normalization: normalization, batchSize: batchSize)
            rows.append(model.evaluate(testFeatures))
            rows.append(knn.evaluate(train: trainFeatures, test: testFeatures))
        }
        return rows
    }
}
