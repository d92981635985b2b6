import ImageData
import NN
import TensorCore

/// SimCLR: a shared encoder and projector, the NT-Xent loss over the 2N views of a batch.
///
/// Both views go through the networks in one forward pass, so batch norm sees 2N samples.
/// Comparison vectors (what ICL-MSR stratifies): the two projections `(z₁, z₂)`.
/// Head (solo-learn): `Linear(F→hidden) → BN → ReLU → Linear(hidden→out)`.
///
/// References: Chen, Kornblith, Norouzi & Hinton, "A Simple Framework for Contrastive Learning
/// of Visual Representations", ICML 2020.
public final class SimCLR: ContrastiveMethod {
    public let methodName = "simclr"
    public let backbone: any Backbone
    public let projector: Sequential
    public let temperature: Float

    /// - Parameters: projectorHidden, projectorOutput: head widths; temperature: T of NT-Xent;
    ///   seed: initialization seed of the projector.
    public init(backbone: any Backbone, projectorHidden: Int, projectorOutput: Int, temperature: Float, seed: UInt64) {
        var rng = SeededRNG(seed: seed)
        self.backbone = backbone
        projector = Heads.twoLayerBN(backbone.featureDimension, hidden: projectorHidden, output: projectorOutput, rng: &rng)
        self.temperature = temperature
    }

    public var children: [(String, any Module)] { [("backbone", backbone), ("projector", projector)] }
    public var comparisonDimension: Int { (projector.layers.last as! Linear).outFeatures }
    public func trainableParameters() -> [NamedParameter] { optimizerParameters() }
    public func didStep(step: Int, totalSteps: Int) {}

    public func comparisonVectors(view1: Tensor, view2: Tensor, mode: ForwardMode, reusingTargetsOf previous: ComparisonVectors?) throws -> ComparisonVectors {
        let e = try encodeBothViews(view1, view2, backbone: backbone, projector: projector, mode: mode)
        return ComparisonVectors(pairs: [(e.view1, e.view2)], features: e.features.detached(), metrics: ["temperature": temperature])
    }

    public func baseLoss(_ vectors: ComparisonVectors) -> Tensor {
        ntXentLoss(vectors.pairs[0].first, vectors.pairs[0].second, temperature: temperature, extraNegatives: vectors.hardNegatives)
    }
}

extension SimCLR: HardNegativeContrastiveMethod {
    /// The two views and the N hard negatives `[N, 3, H, W]` through the online backbone and
    /// projector as one batch of 3N (batch norm sees every image of the step, as it sees both
    /// views without them); the hard negatives' projections `[N, d]` keep their gradient, so the
    /// encoder is also pushed to tell the hard negative from the anchor.
    public func comparisonVectors(view1: Tensor, view2: Tensor, hardNegatives: Tensor, mode: ForwardMode) throws -> ComparisonVectors {
        let n = view1.shape[0], m = hardNegatives.shape[0]
        let h = try backbone(Tensor.concat([view1, view2, hardNegatives], axis: 0), mode: mode)
        let z = try projector(h, mode: mode)
        return ComparisonVectors(pairs: [(z.slice(axis: 0, 0..<n), z.slice(axis: 0, n..<(2 * n)))],
                                 hardNegatives: z.slice(axis: 0, (2 * n)..<(2 * n + m)),
                                 features: h.slice(axis: 0, 0..<(2 * n)).detached(), metrics: ["temperature": temperature])
    }
}

/// NT-Xent: `z = normalize(cat(z₁, z₂))` `[2N, d]`, logits `z zᵀ / T` without the diagonal; the
/// positive of row i is row (i + N) mod 2N; mean cross-entropy over the 2N rows.
///
/// With `extraNegatives` `h` `[M, d]` (same-background hard negatives, M = N), the logits gain
/// M columns `z ĥᵀ / T` of `ĥ = normalize(h)`: `[2N, 2N + M]`, positives unchanged. Every anchor
/// row sees all M extra negatives, not only its own: its own (row i mod N) shares its
/// background and is the hard one, the others are further negatives of different objects
/// (the loader draws partners outside the batch, so none shows an anchor's object), and the
/// term stays one matrix product, as Ryali et al. add their hard negatives to the negative set.
/// Without `extraNegatives` the computation is exactly the plain loss.
/// - Parameters: z1, z2: `[N, d]`; extraNegatives: `[M, d]` or nil. Output: scalar.
///
/// References: Chen et al., ICML 2020 (eq. 1); Ryali, Schwab & Morcos, arXiv:2103.12719, 2021.
public func ntXentLoss(_ z1: Tensor, _ z2: Tensor, temperature: Float, extraNegatives: Tensor? = nil) -> Tensor {
    ntXentTerm(z1, z2, temperature: temperature, extraNegatives: extraNegatives).loss()
}

/// NT-Xent as one `LogitTerm` (what `ntXentLoss` computes, and what ICL-MSR's geometric form
/// averages over strata): `S = [z zᵀ, z ĥᵀ] / T` `[2N, 2N + M]` of `z = normalize(cat(z₁, z₂))`
/// and the L2-normalized extra negatives `h` `[M, d]` (none: `[2N, 2N]`), the diagonal excluded,
/// the positive of row i at (i + N) mod 2N.
public func ntXentTerm(_ z1: Tensor, _ z2: Tensor, temperature: Float, extraNegatives: Tensor? = nil) -> LogitTerm {
    precondition(z1.shape == z2.shape && z1.rank == 2, "ntXentLoss: views must both be [N, d], got \(z1.shape) and \(z2.shape)")
    let n = z1.shape[0], m = extraNegatives?.shape[0] ?? 0, width = 2 * n + m
    let z = Tensor.concat([z1, z2], axis: 0).l2Normalized(axis: 1)
    var logits = Tensor.matmul(z, z, transposeB: true) * (1 / temperature)
    if let extra = extraNegatives {
        precondition(extra.rank == 2 && extra.shape[1] == z1.shape[1], "ntXentLoss: extra negatives must be [M, \(z1.shape[1])], got \(extra.shape)")
        logits = Tensor.concat([logits, Tensor.matmul(z, extra.l2Normalized(axis: 1), transposeB: true) * (1 / temperature)], axis: 1)
    }
    var eye = [Float](repeating: 0, count: 2 * n * width)
    for i in 0..<(2 * n) { eye[i * width + i] = 1 }
    return LogitTerm(logits: logits, excluded: Tensor(shape: [2 * n, width], eye), targets: (0..<(2 * n)).map { ($0 + n) % (2 * n) })
}

extension SimCLR {
    /// solo-learn's CIFAR recipe: LARS, 0.4 per 256 images, weight decay 1e-5; symmetric augmentations.
    public static let recipe = MethodRecipe(optimizer: OptimizerSpec(kind: .lars, baseLearningRate: 0.4, weightDecay: 1e-5),
                                            augmentation: .symmetric)

    /// SimCLR with `options` over its defaults for backbone width `F`: head 4F → F/2, temperature 0.2.
    public convenience init(backbone: any Backbone, options: MethodOptions, seed: UInt64) {
        let f = backbone.featureDimension
        self.init(backbone: backbone, projectorHidden: options.projectorHidden ?? 4 * f, projectorOutput: options.projectorOutput ?? max(f / 2, 1),
                  temperature: options.temperature ?? 0.2, seed: seed)
    }
}
