import Foundation
import TensorCore

/// Cosine-similarity weighted k-nearest-neighbour classification on frozen features.
///
/// Train ("memory bank") and test features are L2-normalized; for each test feature the `k` train
/// features with the highest cosine similarity `s` vote for their class with weight `exp(s / T)`;
/// the class scores are the summed votes. Neighbours with equal similarity are taken in train
/// order (lower index first). Similarities come from BLAS (`Tensor.matmul`) in chunks of
/// `chunkSize` test rows, so memory stays at `chunkSize × N_train` floats.
///
/// References: Wu et al., "Unsupervised Feature Learning via Non-Parametric Instance
/// Discrimination", CVPR 2018 (the weighted kNN protocol); da Costa et al., "solo-learn", JMLR
/// 2022 (`WeightedKNNClassifier`, k = 20, T = 0.07 defaults).
public struct KNNClassifier: Sendable {
    public var k: Int
    public var temperature: Float
    public var chunkSize: Int

    /// - Precondition: `k ≥ 1`, `temperature > 0`.
    public init(k: Int = 20, temperature: Float = 0.07, chunkSize: Int = 512) {
        precondition(k >= 1, "KNNClassifier: k must be ≥ 1, got \(k)")
        precondition(temperature > 0 && temperature.isFinite, "KNNClassifier: temperature must be > 0, got \(temperature)")
        precondition(chunkSize >= 1, "KNNClassifier: chunkSize must be ≥ 1")
        self.k = k
        self.temperature = temperature
        self.chunkSize = chunkSize
    }

    /// Vote scores `[M, C]` of `test` rows against the memory bank `train`.
    /// - Parameters:
    ///   - train: `[N, D]` features (normalized here), with `trainLabels` (N of them, in `0..<classCount`).
    ///   - test: `[M, D]` features (normalized here).
    public func scores(train: Tensor, trainLabels: [Int], test: Tensor, classCount: Int) -> Tensor {
        precondition(train.rank == 2 && test.rank == 2 && train.shape[1] == test.shape[1],
                     "KNNClassifier: feature shapes \(train.shape) and \(test.shape) do not match")
        precondition(trainLabels.count == train.shape[0], "KNNClassifier: \(trainLabels.count) labels for \(train.shape[0]) train features")
        let n = train.shape[0], m = test.shape[0]
        let kk = min(k, n)
        let out = Tensor.zeros([m, classCount])
        guard n > 0, m > 0 else { return out }
        let (bank, queries) = withoutGradients { (train.l2Normalized(axis: 1), test.l2Normalized(axis: 1)) }
        nonisolated(unsafe) let o = out.storage.pointer
        let invT = 1 / temperature
        var start = 0
        while start < m {
            let end = min(start + chunkSize, m)
            let sims = withoutGradients { Tensor.matmul(queries.slice(axis: 0, start..<end), bank, transposeB: true) }  // [c, N]
            nonisolated(unsafe) let sp = sims.pointer
            let rowBase = start
            Parallel.forEachChunk(end - start, costPerItem: n * 4, minimumWork: 1 << 16) { rows in
                var bestValue = [Float](repeating: 0, count: kk)
                var bestIndex = [Int](repeating: 0, count: kk)
                for r in rows {
                    let row = sp + r * n
                    var filled = 0
                    for j in 0..<n {
                        let v = row[j]
                        // Keep the k largest, ties resolved in favour of the earlier index.
                        if filled == kk && !(v > bestValue[kk - 1]) { continue }
                        var pos = filled == kk ? kk - 1 : filled
                        while pos > 0 && v > bestValue[pos - 1] {
                            bestValue[pos] = bestValue[pos - 1]
                            bestIndex[pos] = bestIndex[pos - 1]
                            pos -= 1
                        }
                        bestValue[pos] = v
                        bestIndex[pos] = j
                        if filled < kk { filled += 1 }
                    }
                    let dst = o + (rowBase + r) * classCount
                    for t in 0..<filled { dst[trainLabels[bestIndex[t]]] += Foundation.exp(bestValue[t] * invT) }
                }
            }
            start = end
        }
        return out
    }

    /// Top-1 / top-5 of `test` classified against the memory bank `train`, as a result row.
    public func evaluate(train: FeatureSet, test: FeatureSet) -> EvaluationResult {
        precondition(train.classCount == test.classCount, "KNNClassifier: train has \(train.classCount) classes, test \(test.classCount)")
        let s = scores(train: train.features, trainLabels: train.labels, test: test.features, classCount: train.classCount)
        let acc = TopK.accuracy(scores: s, labels: test.labels)
        return EvaluationResult(evaluationProtocol: .knn, probeView: train.view, testView: test.view, split: test.split,
                                top1: acc.top1, top5: acc.topK, topK: acc.k, n: test.count, trainCount: train.count,
                                classCount: train.classCount, featureDimension: train.dimension,
                                k: min(k, train.count), temperature: Double("\(temperature)") ?? Double(temperature))
    }
}
