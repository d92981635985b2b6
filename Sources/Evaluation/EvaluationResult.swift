/// The two frozen-feature evaluation protocols of the experiment.
public enum EvaluationProtocol: String, Codable, Sendable, CaseIterable {
    /// Multinomial logistic regression on frozen, L2-normalized features (`LinearProbe`).
    case linear
    /// Cosine-similarity weighted k-nearest-neighbour vote (`KNNClassifier`).
    case knn
}

/// The training recipe of a linear probe, recorded with every linear result.
public struct LinearProbeRecipe: Codable, Sendable, Equatable {
    /// Always `"lbfgs"`: full-batch L-BFGS (see `LinearProbe`).
    public var optimizer: String
    /// λ of the penalty `λ/2 · ‖W‖²` added to the mean cross-entropy (bias not penalized).
    public var weightDecay: Double
    /// L-BFGS iteration cap.
    public var maxIterations: Int
    /// Stopping rule: `‖∇‖∞ ≤ gradientTolerance`, or a relative objective change below
    /// `relativeTolerance` on 5 consecutive iterations.
    public var gradientTolerance: Double
    public var relativeTolerance: Double
    /// L-BFGS history length.
    public var history: Int
    /// Whether the normalized features were standardized per dimension (see `LinearProbe`).
    public var standardize: Bool
    /// Iterations actually run ("epochs" of a full-batch method).
    public var iterations: Int
    /// Whether the stopping rule (not the cap) ended training.
    public var converged: Bool
    /// Final training objective and training-set top-1 of the probe.
    public var finalObjective: Double
    public var trainTop1: Double
    /// The probe's learning rate: L-BFGS picks its step by a backtracking line search starting
    /// at 1, so there is none; recorded as `"line-search"` for completeness.
    public var learningRate: String

    enum CodingKeys: String, CodingKey {
        case optimizer, iterations, converged, history, standardize
        case weightDecay = "weight_decay", maxIterations = "max_iterations"
        case gradientTolerance = "gradient_tolerance", relativeTolerance = "relative_tolerance"
        case finalObjective = "final_objective", trainTop1 = "train_top1", learningRate = "lr"
    }
}

/// One evaluation number with every parameter needed to interpret it.
///
/// A row says which protocol produced it, on which features (the probe / memory-bank view of the
/// train split and the test view of the test split), over how many test images, and the
/// protocol's parameters (`k`, `temperature` for kNN; the probe recipe for linear). Accuracies are
/// fractions in [0, 1]. Encodes to the JSON shape of `backdrop train --json`
/// (`{"protocol": "knn", "test_view": "full", "top1": 0.93, …}`).
public struct EvaluationResult: Codable, Sendable, Equatable {
    public var evaluationProtocol: EvaluationProtocol
    /// View of the train split the probe was fitted on / the kNN memory bank was built from.
    public var probeView: String
    /// View of the evaluated split.
    public var testView: String
    /// Name of the evaluated split (`test`).
    public var split: String
    public var top1: Double
    /// Top-`topK` accuracy (top-5, or top-C when there are fewer than 5 classes).
    public var top5: Double
    /// The k of the "top-5" column: `min(5, classCount)`.
    public var topK: Int
    /// Number of evaluated images.
    public var n: Int
    /// Number of train-split images the probe / memory bank used.
    public var trainCount: Int
    public var classCount: Int
    public var featureDimension: Int
    /// Where features come from (`backbone`: pooled backbone output, eval-mode batch norm).
    public var featureSource: String
    /// kNN: neighbours and vote temperature (nil for linear).
    public var k: Int?
    public var temperature: Double?
    /// Linear: the probe's recipe and training outcome (nil for kNN).
    public var probe: LinearProbeRecipe?

    public init(evaluationProtocol: EvaluationProtocol, probeView: String, testView: String, split: String = "test",
                top1: Double, top5: Double, topK: Int, n: Int, trainCount: Int, classCount: Int, featureDimension: Int,
                featureSource: String = "backbone", k: Int? = nil, temperature: Double? = nil, probe: LinearProbeRecipe? = nil) {
        self.evaluationProtocol = evaluationProtocol
        self.probeView = probeView
        self.testView = testView
        self.split = split
        self.top1 = top1
        self.top5 = top5
        self.topK = topK
        self.n = n
        self.trainCount = trainCount
        self.classCount = classCount
        self.featureDimension = featureDimension
        self.featureSource = featureSource
        self.k = k
        self.temperature = temperature
        self.probe = probe
    }

    enum CodingKeys: String, CodingKey {
        case evaluationProtocol = "protocol", probeView = "probe_view", testView = "test_view", split, top1, top5
        case topK = "top_k", n, trainCount = "train_count", classCount = "classes", featureDimension = "feature_dimension"
        case featureSource = "feature_source", k, temperature, probe
    }

    /// `linear  full→foreground  top1 93.5%  top5 99.0%  (n 200, …)`: one human-readable line.
    public var summary: String {
        let params: String
        switch evaluationProtocol {
        case .knn: params = "k \(k ?? 0), T \(temperature.map { String($0) } ?? "?")"
        case .linear: params = probe.map { "L-BFGS wd \($0.weightDecay), \($0.iterations) it\($0.converged ? "" : " (cap)")" } ?? ""
        }
        return "\(evaluationProtocol.rawValue) \(probeView)→\(testView) top1 \(Self.percent(top1)) top\(topK) \(Self.percent(top5)) (n \(n); \(params))"
    }

    static func percent(_ x: Double) -> String {
        let v = (x * 1000).rounded() / 10
        return "\(v)%"
    }
}
