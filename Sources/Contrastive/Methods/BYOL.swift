import ImageData
import NN
import TensorCore

/// BYOL: an online network (encoder, projector, predictor) regresses the projection of an EMA
/// target network; symmetric loss, no negatives.
///
/// `L = Σ_{(v,v')} 2 − 2·cos(p_v, z̄_v')` over `(1, 2)` and `(2, 1)`, where `z̄` comes from the
/// target (no gradient). The target follows `ξ ← τξ + (1 − τ)θ` after every step with the cosine
/// schedule `τ = 1 − (1 − τ_base)(cos(πk/K) + 1)/2` (from `emaBase` to `emaFinal`). Both views go
/// through each network in one forward (BN sees 2N). The target's BN statistics are its own.
/// Comparison vectors (what ICL-MSR stratifies): `(p₁, z̄₂)` and `(p₂, z̄₁)`.
///
/// References: Grill et al., "Bootstrap Your Own Latent: A New Approach to Self-Supervised
/// Learning", NeurIPS 2020.
public final class BYOL: ContrastiveMethod {
    public let methodName = "byol"
    public let backbone: any Backbone
    public let projector: Sequential, predictor: Sequential
    /// The EMA target (`target.backbone.*`, `target.projector.*`).
    public let target: EncoderWithHead
    public let emaBase: Float, emaFinal: Float
    /// τ of the latest target update (for metrics; `emaBase` before the first).
    public private(set) var currentTau: Float {
        get { emaTau.value.item }
        set { emaTau.value = Tensor(newValue) }
    }
    /// `currentTau` as a scalar buffer (`ema_tau`), so checkpoints carry it and a resumed run logs
    /// the same τ as an uninterrupted one.
    let emaTau = Buffer(Tensor(0))

    /// - Parameters: targetBackbone: the target's encoder (a copy of `backbone` is made when `nil`).
    public init(backbone: any Backbone, targetBackbone: (any Backbone)? = nil, projectorHidden: Int, projectorOutput: Int,
                predictorHidden: Int, emaBase: Float, emaFinal: Float, seed: UInt64) throws {
        var rng = SeededRNG(seed: seed)
        self.backbone = backbone
        projector = Heads.twoLayerBN(backbone.featureDimension, hidden: projectorHidden, output: projectorOutput, rng: &rng)
        predictor = Heads.twoLayerBN(projectorOutput, hidden: predictorHidden, output: projectorOutput, rng: &rng)
        let tb = try targetBackbone ?? architecturalCopy(of: backbone)
        MomentumUpdate.copyState(from: backbone, to: tb)
        target = EncoderWithHead(backbone: tb, projector: architecturalCopy(of: projector))
        (self.emaBase, self.emaFinal) = (emaBase, emaFinal)
        currentTau = emaBase
    }

    public var children: [(String, any Module)] { [("backbone", backbone), ("projector", projector), ("predictor", predictor), ("target", target)] }
    public var ownBuffers: [(String, Buffer)] { [("ema_tau", emaTau)] }
    public var comparisonDimension: Int { (projector.layers.last as! Linear).outFeatures }
    public func trainableParameters() -> [NamedParameter] { optimizerParameters().filter { !$0.name.hasPrefix("target.") } }

    public func didStep(step: Int, totalSteps: Int) {
        currentTau = MomentumUpdate.cosineTau(base: emaBase, final: emaFinal, step: step, totalSteps: totalSteps)
        MomentumUpdate.update(target: target, online: OnlineView(backbone: backbone, projector: projector), tau: currentTau)
    }

    public func comparisonVectors(view1: Tensor, view2: Tensor, mode: ForwardMode, reusingTargetsOf previous: ComparisonVectors?) throws -> ComparisonVectors {
        let n = view1.shape[0]
        let x = Tensor.concat([view1, view2], axis: 0)
        let h = try backbone(x, mode: mode)
        let p = try predictor(projector(h, mode: mode), mode: mode)
        let (t1, t2): (Tensor, Tensor)
        if let previous {
            (t1, t2) = (previous.pairs[1].second, previous.pairs[0].second)
        } else {
            let zt = try withoutGradients { try target(x, mode: mode).projection }
            (t1, t2) = (zt.slice(axis: 0, 0..<n), zt.slice(axis: 0, n..<(2 * n)))
        }
        return ComparisonVectors(pairs: [(p.slice(axis: 0, 0..<n), t2), (p.slice(axis: 0, n..<(2 * n)), t1)],
                                 features: h.detached(), metrics: ["ema_tau": currentTau])
    }

    public func baseLoss(_ vectors: ComparisonVectors) -> Tensor {
        vectors.pairs.map { 2 - 2 * meanCosine($0.first, $0.second.detached()) }.reduce(Tensor(0), +)
    }
}

/// The online encoder and projector seen with the target's names, for the EMA update.
final class OnlineView: Module {
    let backbone: any Backbone, projector: Sequential
    init(backbone: any Backbone, projector: Sequential) { self.backbone = backbone; self.projector = projector }
    var children: [(String, any Module)] { [("backbone", backbone), ("projector", projector)] }
}

/// Mean over rows of the cosine similarity of `a` and `b` (`[N, d]`). Output: scalar.
func meanCosine(_ a: Tensor, _ b: Tensor) -> Tensor {
    (a.l2Normalized(axis: 1) * b.l2Normalized(axis: 1)).sum(axis: 1).mean()
}

/// `meanCosine` of every additive stratum at once: entry k is `meanCosine` of
/// `normalize(normalize(a) + m_k)` and the same of `b`, stopped after stratification (BYOL's and
/// SimSiam's targets). The strata side by side `[N, K, d]`, a handful of ops instead of a handful
/// per stratum; the stratified vectors are unit already, so their dot product is the cosine (no
/// second normalization), and the mean over the rows runs in another order than K separate means
/// (round-off).
/// - Parameters: a, b: `[N, d]`; strata: `[K, d]`. Output: `[K]`.
func stratifiedMeanCosines(_ a: Tensor, _ b: Tensor, strata: Tensor) -> Tensor {
    let sa = MetaSemanticRegularizer.additiveStrataSideBySide(a, strata: strata)
    let sb = MetaSemanticRegularizer.additiveStrataSideBySide(b, strata: strata).detached()
    return (sa * sb).sum(axis: 2).mean(axis: 0)
}

extension BYOL: FusedAdditiveStrata {
    /// `Σ_pairs 2 − 2·meanCosine` in every stratum at once (`stratifiedMeanCosines`).
    public func additiveStrataLosses(_ vectors: ComparisonVectors, strata: Tensor) -> Tensor? {
        vectors.pairs.map { 2 - 2 * stratifiedMeanCosines($0.first, $0.second, strata: strata) }.reduce(Tensor.zeros([strata.shape[0]]), +)
    }
}

extension BYOL {
    /// solo-learn's CIFAR recipe: LARS, 1.0 per 256 images, weight decay 1e-5; asymmetric augmentations.
    public static let recipe = MethodRecipe(optimizer: OptimizerSpec(kind: .lars, baseLearningRate: 1.0, weightDecay: 1e-5),
                                            augmentation: .asymmetric)

    /// BYOL with `options` over its defaults for backbone width `F`: projector 8F → F/2,
    /// predictor 8F, EMA 0.99 → 1.0.
    public convenience init(backbone: any Backbone, options: MethodOptions, seed: UInt64) throws {
        let f = backbone.featureDimension
        try self.init(backbone: backbone, projectorHidden: options.projectorHidden ?? 8 * f, projectorOutput: options.projectorOutput ?? max(f / 2, 1),
                      predictorHidden: options.predictorHidden ?? 8 * f, emaBase: options.emaBase ?? 0.99, emaFinal: options.emaFinal ?? 1.0, seed: seed)
    }
}
