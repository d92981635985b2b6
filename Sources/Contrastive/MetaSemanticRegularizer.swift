import Foundation
import NN
import TensorCore

/// A method whose base loss in every additive stratum can be computed at once: MoCo v2 shares one
/// similarity matrix among the strata (`stratifiedInfoNCELosses`); Barlow Twins, BYOL and SimSiam
/// lay the strata side by side (`MetaSemanticRegularizer.additiveStrataSideBySide`).
public protocol FusedAdditiveStrata: ContrastiveMethod {
    /// `[K]`: entry k equals `baseLoss` of the vectors in stratum k of `strata` `[K, d]`
    /// (`normalize(normalize(z) + m_k)`) up to float round-off; nil where the fused form does not
    /// apply (the caller then builds the K losses one by one).
    func additiveStrataLosses(_ vectors: ComparisonVectors, strata: Tensor) -> Tensor?
}

/// The meta semantic regularizer of ICL-MSR: K background strata `M` `[K, d]` and prior logits
/// `w` `[K]`, and the interventional loss `L_MSR` built from any method's `baseLoss`.
///
/// For a method's comparison vectors `z` (every tensor of `ComparisonVectors.pairs` and its
/// `negatives`), stratum k gives `normalize(normalize(z) + m_k)` (`additive`) or
/// `normalize(z ⊙ (1 + tanh m_k))` (`gated`), and
///
///     L_MSR = Σ_k softmax(w)_k · L_base(stratum k of the vectors)          (form: arithmetic-mean)
///
/// (`prior: uniform` uses 1/K). Inside a stratum every sample carries the same injected
/// "background", so it cannot tell instances apart; the encoder must separate them by content.
/// With `form: geometric-mean` (softmax methods only) the prior acts inside the softmax: one
/// cross-entropy of the prior-averaged logits of each loss term t,
///
///     L_MSR = Σ_t c_t · CE(Σ_k P(b_k) S_{t,k}, y_t),
///
/// which is the cross-entropy of the normalized weighted geometric mean of the per-stratum
/// distributions `softmax(S_{t,k})` (see `geometricMeanLoss(perStratum:prior:)`).
///
/// References: Qiang, Li, Zheng, Su, Xiong, "Interventional Contrastive Learning with Meta
/// Semantic Regularizer", ICML 2022 (arXiv:2206.14702). The equations are Backdrop's
/// reconstruction (no official code exists); the paper contributes the backdoor-adjustment
/// idea, the learned strata and their meta-learning. The finite-difference hypergradient follows
/// Liu, Simonyan & Yang, "DARTS: Differentiable Architecture Search", ICLR 2019.
public final class MetaSemanticRegularizer: Module {
    public let options: ICLMSROptions
    /// `M` `[K, d]`, one row per stratum.
    public let strata: Parameter
    /// `w` `[K]`, the prior logits (trained only with `prior: learned`).
    public let priorLogits: Parameter

    /// - Parameters: dimension: `d`, the width of the method's compared vectors; seed: the
    ///   initialization seed of `M ~ N(0, σ²/d)`.
    public init(dimension: Int, options: ICLMSROptions, seed: UInt64) {
        self.options = options
        var rng = SeededRNG(seed: seed)
        strata = Parameter(.normal([options.strata, dimension], std: options.strataScale / Float(dimension).squareRoot(), rng: &rng))
        priorLogits = Parameter(.zeros([options.strata]))
    }

    public var ownParameters: [(String, Parameter)] { [("strata", strata), ("prior_logits", priorLogits)] }

    /// The parameters the meta-optimizer trains (`w` only with a learned prior).
    public func metaParameters() -> [NamedParameter] {
        [NamedParameter(name: "strata", parameter: strata)]
            + (options.prior == .learned ? [NamedParameter(name: "prior_logits", parameter: priorLogits)] : [])
    }

    /// `P(b)`, `[K]`.
    public func prior() -> Tensor {
        options.prior == .uniform ? Tensor(repeating: 1 / Float(options.strata), shape: [options.strata]) : priorLogits.value.softmax(axis: 0)
    }

    /// Stratum-`k` versions of `z` `[N, d]` for all k at once: `[K, N, d]`.
    public func stratify(_ z: Tensor) -> Tensor {
        let n = z.shape[0], d = z.shape[1], k = options.strata
        let m = strata.value.reshaped([k, 1, d])
        switch options.injection {
        case .additive:
            return (z.l2Normalized(axis: 1).reshaped([1, n, d]) + m).l2Normalized(axis: 2)
        case .gated:
            return (z.reshaped([1, n, d]) * (m.tanh() + 1)).l2Normalized(axis: 2)
        }
    }

    /// Every additive stratum of `z` `[N, d]` side by side: `[N, K, d]`, row i holding
    /// `normalize(normalize(z_i) + m_k)` for k = 0…K−1 — the values of `stratify` (`injection:
    /// additive`) with the strata on the middle axis, so the fused losses reduce over N per stratum
    /// in one op. - Parameter strata: `[K, d]`.
    public static func additiveStrataSideBySide(_ z: Tensor, strata: Tensor) -> Tensor {
        let (n, d, k) = (z.shape[0], z.shape[1], strata.shape[0])
        return (z.l2Normalized(axis: 1).reshaped([n, 1, d]) + strata.reshaped([1, k, d])).l2Normalized(axis: 2)
    }

    /// `L_MSR` of `method`'s comparison vectors in the configured `form`. Output: scalar.
    /// - Precondition: with `form: geometric-mean`, `method` is a `SoftmaxContrastiveMethod`
    ///   (`ICLMSROptions.validate(for:)` and `ICLMSRStepper.init` refuse other methods).
    ///
    /// With `injection: additive` and `form: arithmetic-mean`, a method that computes all K losses
    /// at once (`FusedAdditiveStrata`: MoCo v2, Barlow Twins, BYOL, SimSiam) does so; the value is the
    /// composite's up to float round-off.
    public func loss(_ vectors: ComparisonVectors, method: any ContrastiveMethod) -> Tensor {
        if options.injection == .additive, options.form == .arithmeticMean, let fused = method as? any FusedAdditiveStrata,
           let losses = fused.additiveStrataLosses(vectors, strata: strata.value) {
            return (losses * prior()).sum()
        }
        let stratified = vectors.mapVectors(stratify)
        func stratum(_ k: Int) -> ComparisonVectors {
            stratified.mapVectors { $0.slice(axis: 0, k..<(k + 1)).reshaped([$0.shape[1], $0.shape[2]]) }
        }
        switch options.form {
        case .arithmeticMean:
            // Σ_k P(b_k) L_base(stratum k).
            let p = prior()
            var total: Tensor?
            for k in 0..<options.strata {
                let term = method.baseLoss(stratum(k)) * p.slice(axis: 0, k..<(k + 1)).reshaped([])
                total = total.map { $0 + term } ?? term
            }
            return total!
        case .geometricMean:
            guard let softmaxMethod = method as? any SoftmaxContrastiveMethod else {
                preconditionFailure("ICL-MSR form geometric-mean needs a softmax method, got \(method.methodName)")
            }
            let perStratum = (0..<options.strata).map { softmaxMethod.logitTerms(stratum($0)) }
            return Self.geometricMeanLoss(perStratum: perStratum, prior: prior())
        }
    }

    /// The cross-entropy of the normalized weighted geometric mean (NWGM) of K per-stratum
    /// softmax distributions, for each loss term t:
    ///
    ///     L = Σ_t c_t · CE(S̄_t, y_t),   S̄_t = Σ_k P_k S_{t,k}   (exclusions applied after the mean).
    ///
    /// `softmax(S̄)_j = Π_k softmax(S_k)_j^{P_k} / Σ_j' Π_k softmax(S_k)_j'^{P_k}` (the
    /// per-stratum normalizers cancel), the usual NWGM approximation of the backdoor sum
    /// `Σ_k P(b_k) P(y | x, b_k)` (Xu et al., ICML 2015; Wang et al., CVPR 2020). Because
    /// log-sum-exp is convex, `L ≤ Σ_k P_k Σ_t c_t CE(S_{t,k}, y_t)` (the arithmetic form), with
    /// equality when the strata's logits of each row differ only by a constant.
    /// - Parameters:
    ///   - perStratum: K lists of the same T terms (same shapes, targets and coefficients).
    ///   - prior: `P` `[K]`.
    /// - Returns: a scalar.
    public static func geometricMeanLoss(perStratum: [[LogitTerm]], prior: Tensor) -> Tensor {
        precondition(!perStratum.isEmpty && perStratum.count == prior.shape[0], "geometricMeanLoss: \(perStratum.count) strata, prior \(prior.shape)")
        var total: Tensor?
        for t in perStratum[0].indices {
            var mean: Tensor?
            for (k, terms) in perStratum.enumerated() {
                let weighted = terms[t].logits * prior.slice(axis: 0, k..<(k + 1)).reshaped([])
                mean = mean.map { $0 + weighted } ?? weighted
            }
            let term = perStratum[0][t].loss(logits: mean!)
            total = total.map { $0 + term } ?? term
        }
        return total!
    }

    /// Diagnostics: prior entropy (nats) and the mean pairwise cosine of the strata (→ 1 when
    /// they collapse onto one direction; 0 for K = 1).
    public func diagnostics() -> [String: Float] {
        withoutGradients {
            let p = prior().scalars
            let entropy = -p.reduce(0) { $0 + ($1 > 0 ? Double($1) * Foundation.log(Double($1)) : 0) }
            let k = options.strata
            var cosine: Double = 0
            if k > 1 {
                let s = Tensor.matmul(strata.value.l2Normalized(axis: 1), strata.value.l2Normalized(axis: 1), transposeB: true).scalars
                for i in 0..<k { for j in 0..<k where i != j { cosine += Double(s[i * k + j]) } }
                cosine /= Double(k * (k - 1))
            }
            return ["prior_entropy": Float(entropy), "strata_cosine": Float(cosine)]
        }
    }
}
