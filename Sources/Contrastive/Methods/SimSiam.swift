import ImageData
import NN
import TensorCore

/// SimSiam: a shared encoder and projector, a predictor, and the symmetric negative cosine with
/// a stop-gradient on the projection side; no negatives, no EMA.
///
/// `L = −½ cos(p₁, sg z₂) − ½ cos(p₂, sg z₁)`. Projector (solo-learn): three layers with BN, the
/// last BN without affine parameters; predictor `Linear(d→h, no bias) → BN → ReLU → Linear(h→d)`.
/// Comparison vectors (what ICL-MSR stratifies): `(p₁, sg z₂)` and `(p₂, sg z₁)`.
///
/// References: Chen & He, "Exploring Simple Siamese Representation Learning", CVPR 2021.
public final class SimSiam: ContrastiveMethod {
    public let methodName = "simsiam"
    public let backbone: any Backbone
    public let projector: Sequential, predictor: Sequential
    public let outputDimension: Int

    public init(backbone: any Backbone, projectorHidden: Int, projectorOutput: Int, predictorHidden: Int, seed: UInt64) {
        var rng = SeededRNG(seed: seed)
        self.backbone = backbone
        projector = Heads.threeLayerBN(backbone.featureDimension, hidden: projectorHidden, output: projectorOutput, finalBatchNorm: true, rng: &rng)
        predictor = Heads.twoLayerBN(projectorOutput, hidden: predictorHidden, output: projectorOutput, firstBias: false, rng: &rng)
        outputDimension = projectorOutput
    }

    public var children: [(String, any Module)] { [("backbone", backbone), ("projector", projector), ("predictor", predictor)] }
    public var comparisonDimension: Int { outputDimension }
    public func trainableParameters() -> [NamedParameter] { optimizerParameters() }
    public func didStep(step: Int, totalSteps: Int) {}

    public func comparisonVectors(view1: Tensor, view2: Tensor, mode: ForwardMode, reusingTargetsOf previous: ComparisonVectors?) throws -> ComparisonVectors {
        let e = try encodeBothViews(view1, view2, backbone: backbone, projector: projector, mode: mode)
        let (p1, p2) = splitViews(try predictor(e.projections, mode: mode))
        return ComparisonVectors(pairs: [(p1, e.view2.detached()), (p2, e.view1.detached())], features: e.features.detached())
    }

    public func baseLoss(_ vectors: ComparisonVectors) -> Tensor {
        vectors.pairs.map { -0.5 * meanCosine($0.first, $0.second.detached()) }.reduce(Tensor(0), +)
    }
}

extension SimSiam: FusedAdditiveStrata {
    /// `Σ_pairs −½·meanCosine` in every stratum at once (`stratifiedMeanCosines`).
    public func additiveStrataLosses(_ vectors: ComparisonVectors, strata: Tensor) -> Tensor? {
        vectors.pairs.map { -0.5 * stratifiedMeanCosines($0.first, $0.second, strata: strata) }.reduce(Tensor.zeros([strata.shape[0]]), +)
    }
}

extension SimSiam {
    /// solo-learn's CIFAR recipe: SGD, 0.5 per 256 images, weight decay 1e-5 on every parameter;
    /// the weaker symmetric augmentations.
    public static let recipe = MethodRecipe(optimizer: OptimizerSpec(kind: .sgd, baseLearningRate: 0.5, weightDecay: 1e-5, excludeBiasAndNorm: false),
                                            augmentation: .symmetricWeak)

    /// SimSiam with `options` over its defaults for backbone width `F`: projector 4F → 4F (3
    /// layers), predictor F.
    public convenience init(backbone: any Backbone, options: MethodOptions, seed: UInt64) {
        let f = backbone.featureDimension
        self.init(backbone: backbone, projectorHidden: options.projectorHidden ?? 4 * f, projectorOutput: options.projectorOutput ?? 4 * f,
                  predictorHidden: options.predictorHidden ?? f, seed: seed)
    }
}
