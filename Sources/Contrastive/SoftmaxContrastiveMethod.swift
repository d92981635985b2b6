import NN
import TensorCore

/// One softmax cross-entropy term of a method's loss: `coefficient · CE(S, y)` with the
/// candidates marked in `excluded` removed from the softmax.
public struct LogitTerm {
    /// `S` `[R, C]`, before any exclusion (so logits of several strata can be averaged).
    public var logits: Tensor
    /// `[R, C]`, non-zero where a candidate is not in the softmax (SimCLR's self-similarity);
    /// `nil`: every candidate counts.
    public var excluded: Tensor?
    /// `y`, the positive's column for each of the R rows.
    public var targets: [Int]
    public var coefficient: Float

    public init(logits: Tensor, excluded: Tensor? = nil, targets: [Int], coefficient: Float = 1) {
        (self.logits, self.excluded, self.targets, self.coefficient) = (logits, excluded, targets, coefficient)
    }

    /// `coefficient · CE(logits, targets)` over the allowed candidates. Output: scalar.
    public func loss(logits s: Tensor) -> Tensor {
        let allowed = excluded.map { s.maskedFill($0, with: -.infinity) } ?? s
        return allowed.crossEntropy(targets: targets) * coefficient
    }
}

/// A method whose `baseLoss` is a sum of softmax cross-entropies over similarity logits,
/// `L_base = Σ_t c_t · CE(S_t, y_t)` (SimCLR's NT-Xent, MoCo v2's InfoNCE). Such a loss has a
/// distribution `softmax(S_t)` per row, which ICL-MSR's `form: geometric-mean` combines across
/// strata (`MetaSemanticRegularizer.geometricMeanLoss(perStratum:prior:)`).
public protocol SoftmaxContrastiveMethod: ContrastiveMethod {
    /// The terms of `baseLoss(vectors)`, with the same normalization and stop-gradients, so that
    /// `Σ_t term.loss(logits: term.logits)` equals `baseLoss(vectors)`.
    func logitTerms(_ vectors: ComparisonVectors) -> [LogitTerm]
}

extension SimCLR: SoftmaxContrastiveMethod {
    /// NT-Xent's single term: `S = z zᵀ / T` `[2N, 2N]` of `z = normalize(cat(z₁, z₂))`, the
    /// diagonal excluded, the positive of row i at (i + N) mod 2N (as `ntXentLoss`); with hard
    /// negatives `h` `[M, d]`, `S = [z zᵀ, z ĥᵀ] / T` `[2N, 2N + M]`.
    public func logitTerms(_ vectors: ComparisonVectors) -> [LogitTerm] {
        let (z1, z2) = vectors.pairs[0]
        let n = z1.shape[0], m = vectors.hardNegatives?.shape[0] ?? 0, width = 2 * n + m
        let z = Tensor.concat([z1, z2], axis: 0).l2Normalized(axis: 1)
        var similarities = Tensor.matmul(z, z, transposeB: true)
        if let h = vectors.hardNegatives {
            similarities = Tensor.concat([similarities, Tensor.matmul(z, h.l2Normalized(axis: 1), transposeB: true)], axis: 1)
        }
        var eye = [Float](repeating: 0, count: 2 * n * width)
        for i in 0..<(2 * n) { eye[i * width + i] = 1 }
        return [LogitTerm(logits: similarities * (1 / temperature),
                          excluded: Tensor(shape: [2 * n, width], eye), targets: (0..<(2 * n)).map { ($0 + n) % (2 * n) })]
    }
}

extension MoCoV2: SoftmaxContrastiveMethod {
    /// InfoNCE per pair `(q, k)`: `S = [q·k, q·Qᵀ] / T` `[N, 1 + Q]` of L2-normalized vectors
    /// (key and queue without gradient), target 0, coefficient ½ (as `infoNCELoss`); hard
    /// negatives `H` `[M, d]` add the columns `q·Ĥᵀ`.
    public func logitTerms(_ vectors: ComparisonVectors) -> [LogitTerm] {
        let negatives = vectors.negatives!.detached().l2Normalized(axis: 1)
        let hard = vectors.hardNegatives.map { $0.detached().l2Normalized(axis: 1) }
        return vectors.pairs.map { pair in
            let q = pair.first.l2Normalized(axis: 1), k = pair.second.detached().l2Normalized(axis: 1)
            let positive = (q * k).sum(axis: 1, keepDims: true)
            var columns = [positive, Tensor.matmul(q, negatives, transposeB: true)]
            if let hard { columns.append(Tensor.matmul(q, hard, transposeB: true)) }
            let logits = Tensor.concat(columns, axis: 1) * (1 / temperature)
            return LogitTerm(logits: logits, targets: [Int](repeating: 0, count: q.shape[0]), coefficient: 0.5)
        }
    }
}
