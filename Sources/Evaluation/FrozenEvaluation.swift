import ImageData
import NN
import TensorCore

/// The experiment's evaluation of one trained backbone: both protocols for every
/// (probe view, test view) pair.
///
/// A linear probe is fitted on the train split rendered in a probe view and applied to the test
/// split rendered in a test view; the kNN memory bank is the same train features. Fixed probe
/// views hold the probe constant across encoders trained on different views, so a difference
/// between encoders is the encoder's, not the probe's. Each distinct probe view's train features
/// are extracted and fitted once, each test view's features once. Every row carries its probe
/// view and protocol parameters (see `EvaluationResult`).
public struct FrozenEvaluation: Sendable {
    /// Probe views used for every test view.
    public var probeViews: [ViewKind]
    public var testViews: [ViewKind]
    /// Also fit a probe on each test view's own rendering of the train split (`same-as-test`).
    public var sameAsTest: Bool
    public var knn: KNNClassifier
    public var probe: LinearProbe
    /// Images per backbone forward pass during feature extraction.
    public var batchSize: Int
    /// Names of the test sets `run` must be given (`TestSet`), evaluated after the test views.
    public var testSets: [String]

    public init(probeViews: [ViewKind] = [.full], testViews: [ViewKind] = ViewKind.standard, sameAsTest: Bool = false,
                knn: KNNClassifier = KNNClassifier(), probe: LinearProbe = LinearProbe(), batchSize: Int = 256, testSets: [String] = []) {
        self.probeViews = probeViews
        self.testViews = testViews
        self.sameAsTest = sameAsTest
        self.knn = knn
        self.probe = probe
        self.batchSize = batchSize
        self.testSets = testSets
    }

    /// The probe views evaluated on `test`, each once: `probeViews`, then `test` itself with `sameAsTest`.
    public func probeViews(for test: ViewKind) -> [ViewKind] {
        var seen: Set<ViewKind> = []
        return (probeViews + (sameAsTest ? [test] : [])).filter { seen.insert($0).inserted }
    }

    /// The (probe view, test view) pairs evaluated, test view by test view.
    public var pairs: [(probe: ViewKind, test: ViewKind)] {
        testViews.flatMap { test in probeViews(for: test).map { (probe: $0, test: test) } }
    }

    /// Evaluates `backbone` (frozen: eval-mode batch norm, no gradients, nothing updated).
    /// - Parameters:
    ///   - train: renderer of the train split (probe views and kNN banks).
    ///   - test: renderer of the test split (its partner table defines the mixed views).
    ///   - normalization: the per-channel normalization used in training.
    ///   - testSets: the split of each name in `testSets` (its images as they are, in the `full`
    ///     view; masks unused). Each is evaluated under every fixed probe view (not `same-as-test`:
    ///     a test set has no rendering of the train split), its rows named by the set.
    ///   - progress: called with a line before each extraction (nil: silent).
    /// - Returns: for each pair of `pairs`, the linear row then the kNN row; then the same for
    ///   each test set and probe view.
    public func run(backbone: any Backbone, train: ViewRenderer, test: ViewRenderer, normalization: Normalization,
                    testSets sets: [String: DatasetSplit] = [:], progress: ((String) -> Void)? = nil) throws -> [EvaluationResult] {
        let missing = testSets.filter { sets[$0] == nil }
        precondition(missing.isEmpty, "FrozenEvaluation.run: no split given for test sets \(missing)")
        var trainFeatures: [ViewKind: FeatureSet] = [:]
        var probes: [ViewKind: LinearProbe.Model] = [:]
        var rows: [EvaluationResult] = []
        /// Extracts the train split's features in `probeView` and fits its probe, once.
        func fitProbe(_ probeView: ViewKind) throws {
            guard trainFeatures[probeView] == nil else { return }
            progress?("features: train split, view \(probeView.rawValue), \(train.split.count) images")
            let features = try FeatureExtractor.extract(backbone: backbone, renderer: train, view: probeView,
                                                        normalization: normalization, batchSize: batchSize)
            trainFeatures[probeView] = features
            probes[probeView] = probe.fit(features)
        }
        for view in testViews {
            progress?("features: test split, view \(view.rawValue), \(test.split.count) images")
            let testFeatures = try FeatureExtractor.extract(backbone: backbone, renderer: test, view: view,
                                                            normalization: normalization, batchSize: batchSize)
            for probeView in probeViews(for: view) {
                try fitProbe(probeView)
                rows.append(probes[probeView]!.evaluate(testFeatures))
                rows.append(knn.evaluate(train: trainFeatures[probeView]!, test: testFeatures))
            }
        }
        for name in testSets {
            let split = sets[name]!
            progress?("features: test set \(name), \(split.count) images")
            var features = try FeatureExtractor.extract(backbone: backbone, renderer: ViewRenderer(split: split), view: .full,
                                                        normalization: normalization, batchSize: batchSize)
            features.view = name
            for probeView in probeViews {
                try fitProbe(probeView)
                rows.append(probes[probeView]!.evaluate(features))
                rows.append(knn.evaluate(train: trainFeatures[probeView]!, test: features))
            }
        }
        return rows
    }
}
