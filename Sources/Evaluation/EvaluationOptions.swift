import ImageData
import TensorCore

/// How a trained backbone is evaluated, as a configuration states it (`evaluation:` in a spec):
///
/// ```yaml
/// evaluation: {testViews: [full, foreground], probeViews: [train-view, full, foreground],
///              knn: {k: 20, temperature: 0.07}, probe: {weightDecay: 1.0e-4, maxIterations: 1000}}
/// ```
///
/// Probe views: a probe fitted on the *train view* alone cannot separate what the encoder learnt
/// from what the probe learnt (an untrained encoder reproduces the train-view pattern), so by
/// default every cell is also evaluated under the fixed `full` and `foreground` probes.
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

    /// The renderings of the train split the probes and kNN banks are fitted on, each evaluated
    /// on every test view.
    public var probeViews: [ProbeChoice] = Self.defaultProbeViews
    public var testViews: [ViewKind] = ViewKind.standard
    public var knn = KNNOptions()
    public var probe = ProbeOptions()
    /// The per-epoch stratum–background check (`nil`: off; absent from the stored configuration,
    /// so configurations without it keep their hashes).
    public var epochDiagnostics: EpochDiagnosticsOptions? = nil
    /// Named folders of test images evaluated beside the test views, sorted by name (`nil`: none;
    /// absent from the stored configuration, so configurations without them keep their hashes).
    public var testSets: [TestSet]? = nil

    /// The train view, and the fixed full and foreground probes.
    public static let defaultProbeViews: [ProbeChoice] = [.trainView, .view(.full), .view(.foreground)]

    public init(probeViews: [ProbeChoice] = Self.defaultProbeViews, testViews: [ViewKind] = ViewKind.standard,
                knn: KNNOptions = KNNOptions(), probe: ProbeOptions = ProbeOptions(), epochDiagnostics: EpochDiagnosticsOptions? = nil) {
        (self.probeViews, self.testViews, self.knn, self.probe) = (probeViews, testViews, knn, probe)
        self.epochDiagnostics = epochDiagnostics
    }

    /// A copy with `train-view` replaced by `trainView` (each view once): the probes actually fitted.
    public func resolved(trainView: ViewKind) -> EvaluationOptions {
        var o = self
        var seen: Set<ProbeChoice> = []
        o.probeViews = probeViews.map { $0 == .trainView ? .view(trainView) : $0 }.filter { seen.insert($0).inserted }
        return o
    }

    /// - Throws: `InvalidOption` naming the first bad key (`knn.k`, `probe.maxIterations`, …).
    public func validate() throws {
        guard !probeViews.isEmpty else { throw InvalidOption(key: "probeViews", message: "the list is empty") }
        guard Set(probeViews).count == probeViews.count else { throw InvalidOption(key: "probeViews", message: "lists a probe view twice") }
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
        do { try epochDiagnostics?.validate() } catch let e as InvalidOption { throw e.scoped("epochDiagnostics") }
        for set in testSets ?? [] { try set.validate() }
        if let names = testSets?.map(\.name), Set(names).count != names.count {
            throw InvalidOption(key: "testSets", message: "names a test set twice")
        }
    }

    /// The linear probe `probe` describes.
    public var linearProbe: LinearProbe { LinearProbe(weightDecay: probe.weightDecay, maxIterations: probe.maxIterations) }

    /// The evaluation these options describe, for an encoder trained on `trainView`.
    public func makeEvaluation(trainView: ViewKind) -> FrozenEvaluation {
        let views = resolved(trainView: trainView).probeViews.compactMap { choice -> ViewKind? in
            if case .view(let v) = choice { return v }
            return nil
        }
        return FrozenEvaluation(probeViews: views, testViews: testViews, sameAsTest: probeViews.contains(.sameAsTest),
                         knn: KNNClassifier(k: knn.k, temperature: knn.temperature),
                         probe: linearProbe, testSets: (testSets ?? []).map(\.name))
    }
}

/// Which rendering of the train split a probe and a kNN bank are fitted on; spelled `train-view`,
/// `same-as-test` or a view name (`full`).
public enum ProbeChoice: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The view the encoder was trained on (what the probe saw then depends on the encoder's cell).
    case trainView
    /// Each test view's own rendering of the train split.
    case sameAsTest
    /// One fixed view for every encoder.
    case view(ViewKind)

    /// Every choice: `train-view`, `same-as-test`, then each view.
    public static let all: [ProbeChoice] = [.trainView, .sameAsTest] + ViewKind.allCases.map(ProbeChoice.view)
    /// Every spelling, in the order of `all`.
    public static let names = all.map(\.description)

    public init?(name: String) {
        guard let choice = Self.all.first(where: { $0.description == name }) else { return nil }
        self = choice
    }

    public var description: String {
        switch self {
        case .trainView: return "train-view"
        case .sameAsTest: return "same-as-test"
        case .view(let v): return v.rawValue
        }
    }

    public init(from decoder: Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        guard let choice = ProbeChoice(name: name) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown probe view '\(name)'"))
        }
        self = choice
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
