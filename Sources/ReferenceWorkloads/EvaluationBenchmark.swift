import Foundation
import Evaluation
import TensorCore

/// Timings of the frozen-feature protocols (linear probe, weighted kNN) on synthetic features.
public struct EvaluationBenchmarkResult: Codable, Sendable {
    public var train: Int, test: Int, dimension: Int, classes: Int
    /// Linear probe: wall seconds of `LinearProbe.fit`, its L-BFGS iterations, and seconds per iteration.
    public var probeSeconds: Double, probeIterations: Int, probeSecondsPerIteration: Double, probeTrainTop1: Double
    /// kNN: wall seconds to score every test row against the train bank, and test rows per second.
    public var knnSeconds: Double, knnQueriesPerSecond: Double, knnTop1: Double

    enum CodingKeys: String, CodingKey {
        case train, test, dimension, classes
        case probeSeconds = "probe_s", probeIterations = "probe_iterations", probeSecondsPerIteration = "probe_s_per_iteration"
        case probeTrainTop1 = "probe_train_top1", knnSeconds = "knn_s", knnQueriesPerSecond = "knn_queries_per_s", knnTop1 = "knn_top1"
    }
}

extension ReferenceBenchmarks {
    /// Features shaped like a backbone's after ReLU and pooling: class `c`'s rows are
    /// `max(0, μ_c + ε)` with `μ_c ~ N(0, 1)` per dimension and `ε ~ N(0, noise²)`, labels cycling
    /// through the classes. Deterministic in `seed`.
    public static func syntheticFeatures(count: Int, dimension: Int, classes: Int, noise: Float, seed: UInt64) -> (Tensor, [Int]) {
        var centreRNG = SeededRNG(seed: 7)   // the same class centres for train and test
        let centres = Tensor.normal([classes, dimension], rng: &centreRNG).scalars
        var rng = SeededRNG(seed: seed)
        let eps = Tensor.normal([count, dimension], rng: &rng).scalars
        let labels = (0..<count).map { $0 % classes }
        var values = [Float](repeating: 0, count: count * dimension)
        for i in 0..<count { for j in 0..<dimension {
            values[i * dimension + j] = max(0, centres[labels[i] * dimension + j] + noise * eps[i * dimension + j])
        } }
        return (Tensor(shape: [count, dimension], values), labels)
    }

    /// Fits the default `LinearProbe` on `train` synthetic features and scores `test` with the
    /// default `KNNClassifier` (k 20, T 0.07): the two protocols every evaluation runs per view.
    /// `noise` sets how far apart the classes are (larger: harder, more L-BFGS iterations).
    public static func evaluation(train: Int, test: Int, dimension: Int, classes: Int, noise: Float = 8) -> EvaluationBenchmarkResult {
        let (trainX, trainY) = syntheticFeatures(count: train, dimension: dimension, classes: classes, noise: noise, seed: 1)
        let (testX, testY) = syntheticFeatures(count: test, dimension: dimension, classes: classes, noise: noise, seed: 2)
        let trainSet = FeatureSet(features: trainX, labels: trainY, classCount: classes, view: "synthetic", split: "train")
        let testSet = FeatureSet(features: testX, labels: testY, classCount: classes, view: "synthetic", split: "test")
        let t0 = Date()
        let model = LinearProbe().fit(trainSet)
        let probeSeconds = Date().timeIntervalSince(t0)
        let t1 = Date()
        let knn = KNNClassifier().evaluate(train: trainSet, test: testSet)
        let knnSeconds = Date().timeIntervalSince(t1)
        let iterations = max(1, model.recipe.iterations)
        return EvaluationBenchmarkResult(train: train, test: test, dimension: dimension, classes: classes,
                                         probeSeconds: probeSeconds, probeIterations: model.recipe.iterations,
                                         probeSecondsPerIteration: probeSeconds / Double(iterations), probeTrainTop1: model.recipe.trainTop1,
                                         knnSeconds: knnSeconds, knnQueriesPerSecond: Double(test) / knnSeconds, knnTop1: knn.top1)
    }
}
