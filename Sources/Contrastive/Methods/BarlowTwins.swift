import ImageData
import NN
import TensorCore

/// Barlow Twins: the cross-correlation of the batch-normalized projections of two views is
/// pushed towards the identity.
///
/// `ẑ_v = (z_v − mean) / std` over the batch (affine-free batch norm, biased variance),
/// `C = ẑ₁ᵀ ẑ₂ / N` `[d, d]`, `L = scale · (Σ_i (1 − C_ii)² + λ Σ_{i≠j} C_ij²)` (solo-learn's
/// `barlow_loss_func`). Projector: three layers with BN (solo-learn).
/// Comparison vectors (what ICL-MSR stratifies): `(z₁, z₂)`. The loss does not L2-normalize,
/// so stratum `m = 0` still changes it (it sees `normalize(z)`).
///
/// References: Zbontar, Jing, Misra, LeCun & Deny, "Barlow Twins: Self-Supervised Learning via
/// Redundancy Reduction", ICML 2021.
public final class BarlowTwins: ContrastiveMethod {
    public let methodName = "barlowtwins"
    public let backbone: any Backbone
    public let projector: Sequential
    public let lambda: Float, scale: Float
    public let outputDimension: Int

    public init(backbone: any Backbone, projectorHidden: Int, projectorOutput: Int, lambda: Float, scale: Float, seed: UInt64) {
        var rng = SeededRNG(seed: seed)
        self.backbone = backbone
        projector = Heads.threeLayerBN(backbone.featureDimension, hidden: projectorHidden, output: projectorOutput, finalBatchNorm: false, rng: &rng)
        (self.lambda, self.scale, outputDimension) = (lambda, scale, projectorOutput)
    }

    public var children: [(String, any Module)] { [("backbone", backbone), ("projector", projector)] }
    public var comparisonDimension: Int { outputDimension }
    public var lossSeesOnlyNormalizedVectors: Bool { false }
    public func trainableParameters() -> [NamedParameter] { optimizerParameters() }
    public func didStep(step: Int, totalSteps: Int) {}

    public func comparisonVectors(view1: Tensor, view2: Tensor, mode: ForwardMode, reusingTargetsOf previous: ComparisonVectors?) throws -> ComparisonVectors {
        let e = try encodeBothViews(view1, view2, backbone: backbone, projector: projector, mode: mode)
        return ComparisonVectors(pairs: [(e.view1, e.view2)], features: e.features.detached(), metrics: ["lambda": lambda])
    }

    public func baseLoss(_ vectors: ComparisonVectors) -> Tensor {
        barlowTwinsLoss(vectors.pairs[0].first, vectors.pairs[0].second, lambda: lambda, scale: scale)
    }
}

extension BarlowTwins: FusedAdditiveStrata {
    /// Barlow Twins' loss in all K additive strata at once: the stratified projections of each
    /// view side by side `[N, K·d]`, so one batch norm standardizes every stratum's columns (each
    /// over the N rows, as the per-stratum loss does), the K cross-correlations as one batched
    /// product, and the loss terms summed per stratum. The same arithmetic as K calls of
    /// `barlowTwinsLoss` in a dozen ops instead of a dozen per stratum; only the order of the last
    /// sums differs (float round-off).
    public func additiveStrataLosses(_ vectors: ComparisonVectors, strata: Tensor) -> Tensor? {
        guard vectors.pairs.count == 1 else { return nil }
        let (z1, z2) = vectors.pairs[0]
        let (n, d, k) = (z1.shape[0], z1.shape[1], strata.shape[0])
        let (ones, zeros) = (Tensor.ones([k * d]), Tensor.zeros([k * d]))
        /// `[K, N, d]`: the batch-normalized stratum k of every row of `z`.
        func standardizedStrata(_ z: Tensor) -> Tensor {
            let sideBySide = MetaSemanticRegularizer.additiveStrataSideBySide(z, strata: strata).reshaped([n, k * d])
            return Tensor.batchNorm(sideBySide, gamma: ones, beta: zeros, eps: barlowTwinsEps).0.reshaped([n, k, d]).permuted([1, 0, 2])
        }
        let c = Tensor.batchedMatmul(standardizedStrata(z1), standardizedStrata(z2), transposeA: true) * (1 / Float(n))
        let (eye, weights) = barlowTwinsTargets(d: d, lambda: lambda)
        let diff = c - eye
        return (diff * diff * weights).sum(axes: [1, 2]) * scale
    }
}

/// The batch-norm epsilon of Barlow Twins' loss.
public let barlowTwinsEps: Float = 1e-5

/// The identity target `[d, d]` of the cross-correlation and the weights of its terms (1 on the
/// diagonal, λ off it).
func barlowTwinsTargets(d: Int, lambda: Float) -> (eye: Tensor, weights: Tensor) {
    var eye = [Float](repeating: 0, count: d * d), weights = [Float](repeating: lambda, count: d * d)
    for i in 0..<d { eye[i * d + i] = 1; weights[i * d + i] = 1 }
    return (Tensor(shape: [d, d], eye), Tensor(shape: [d, d], weights))
}

/// Barlow Twins' loss of two `[N, d]` projections. Output: scalar.
public func barlowTwinsLoss(_ z1: Tensor, _ z2: Tensor, lambda: Float, scale: Float, eps: Float = barlowTwinsEps) -> Tensor {
    let (n, d) = (z1.shape[0], z1.shape[1])
    let ones = Tensor.ones([d]), zeros = Tensor.zeros([d])
    let a = Tensor.batchNorm(z1, gamma: ones, beta: zeros, eps: eps).0
    let b = Tensor.batchNorm(z2, gamma: ones, beta: zeros, eps: eps).0
    let c = Tensor.matmul(a, b, transposeA: true) * (1 / Float(n))
    let (eye, weights) = barlowTwinsTargets(d: d, lambda: lambda)
    let diff = c - eye
    return (diff * diff * weights).sum() * scale
}

extension BarlowTwins {
    /// solo-learn's CIFAR recipe: LARS, 0.3 per 256 images, weight decay 1e-4; asymmetric augmentations.
    public static let recipe = MethodRecipe(optimizer: OptimizerSpec(kind: .lars, baseLearningRate: 0.3, weightDecay: 1e-4),
                                            augmentation: .asymmetric)

    /// Barlow Twins with `options` over its defaults for backbone width `F`: projector 4F → 4F
    /// (3 layers), λ 0.0051, scale 0.1.
    public convenience init(backbone: any Backbone, options: MethodOptions, seed: UInt64) {
        let f = backbone.featureDimension
        self.init(backbone: backbone, projectorHidden: options.projectorHidden ?? 4 * f, projectorOutput: options.projectorOutput ?? 4 * f,
                  lambda: options.lambda ?? 0.0051, scale: options.scale ?? 0.1, seed: seed)
    }
}
