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

    /// `coefficient · CE(S, targets)` over the allowed candidates, of `s` (nil: this term's own
    /// `logits`; given: e.g. logits averaged over strata). Output: scalar.
    public func loss(logits s: Tensor? = nil) -> Tensor {
        let s = s ?? logits
        let allowed = excluded.map { s.maskedFill($0, with: -.infinity) } ?? s
        let ce = allowed.crossEntropy(targets: targets)
        return coefficient == 1 ? ce : ce * coefficient
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
    /// NT-Xent's single term (`ntXentTerm`), with the hard negatives as extra columns when given.
    public func logitTerms(_ vectors: ComparisonVectors) -> [LogitTerm] {
        [ntXentTerm(vectors.pairs[0].first, vectors.pairs[0].second, temperature: temperature, extraNegatives: vectors.hardNegatives)]
    }
}

extension MoCoV2: SoftmaxContrastiveMethod {
    /// InfoNCE per pair `(q, k)` (`infoNCETerm`; key, queue and hard negatives without gradient),
    /// coefficient ½ each, as `baseLoss`.
    public func logitTerms(_ vectors: ComparisonVectors) -> [LogitTerm] {
        let negatives = vectors.negatives!.detached(), hard = vectors.hardNegatives?.detached()
        return vectors.pairs.map {
            infoNCETerm(query: $0.first, key: $0.second.detached(), queue: negatives, temperature: temperature, extraNegatives: hard, coefficient: 0.5)
        }
    }
}
