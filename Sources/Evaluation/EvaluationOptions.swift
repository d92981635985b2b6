import ImageData
import TensorCore

/// How a trained backbone is evaluated, as a configuration states it (`evaluation:` in a spec):
///
/// ```yaml
/// evaluation: {testViews: [full, foreground], probeView: train-view,
///              knn: {k: 20, temperature: 0.07}, probe: {weightDecay: 1.0e-4, maxIterations: 1000}}
/// ```
public struct EvaluationOptions: Codable, Sendable, Equatable {
    /// The kNN classifier's options (`evaluation.knn`).
    public struct KNNOptions: Codable, Sendable, Equatable {
        public var k: Int = 20
        public var temperature: Float = 0.07
        public init(k: Int = 20, temperature: Float = 0.07) { (self.k, self.temperature) = (k, temperature) }
    }

    /// The linear probe's options (`evaluation.probe`).
    public struct ProbeOptions: Codable, Sendable, Equatable {
        /// λ of the penalty λ/2‖W‖².
        public var weightDecay: Double = 1e-4
        public var maxIterations: Int = 1000
        public init(weightDecay: Double = 1e-4, maxIterations: Int = 1000) { (self.weightDecay, self.maxIterations) = (weightDecay, maxIterations) }
    }

    /// View of the train split the probe and the kNN bank are fitted on; `nil`: the train view
    /// (spelled `train-view` in a spec).
    public var probeView: ViewKind? = nil
    public var testViews: [ViewKind] = ViewKind.allCases
    public var knn = KNNOptions()
    public var probe = ProbeOptions()

    public init(probeView: ViewKind? = nil, testViews: [ViewKind] = ViewKind.allCases, knn: KNNOptions = KNNOptions(), probe: ProbeOptions = ProbeOptions()) {
        (self.probeView, self.testViews, self.knn, self.probe) = (probeView, testViews, knn, probe)
    }

    /// - Throws: `InvalidOption` naming the first bad key (`knn.k`, `probe.maxIterations`, …).
    public func validate() throws {
        guard !testViews.isEmpty else { throw InvalidOption(key: "testViews", message: "the list is empty") }
        guard Set(testViews).count == testViews.count else { throw InvalidOption(key: "testViews", message: "lists a view twice") }
        guard knn.k >= 1 else { throw InvalidOption(key: "knn.k", value: knn.k, reason: "k must be at least 1") }
        guard knn.temperature.isFinite && knn.temperature > 0 else {
            throw InvalidOption(key: "knn.temperature", value: knn.temperature, reason: "must be finite and > 0")
        }
        guard probe.weightDecay.isFinite && probe.weightDecay >= 0 else {
            throw InvalidOption(key: "probe.weightDecay", value: probe.weightDecay, reason: "must be finite and ≥ 0")
        }
        guard probe.maxIterations >= 1 else { throw InvalidOption(key: "probe.maxIterations", value: probe.maxIterations, reason: "must be at least 1") }
    }

    /// The evaluation these options describe, with `trainView` standing in for a `nil` probe view.
    public func makeEvaluation(trainView: ViewKind) -> FrozenEvaluation {
        FrozenEvaluation(probeView: probeView ?? trainView, testViews: testViews,
                         knn: KNNClassifier(k: knn.k, temperature: knn.temperature),
                         probe: LinearProbe(weightDecay: probe.weightDecay, maxIterations: probe.maxIterations))
    }
}
