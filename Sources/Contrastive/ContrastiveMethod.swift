import NN
import TensorCore

/// What one method step produces: the scalar loss to differentiate and named scalar metrics
/// (positive/negative similarity, EMA τ, representation std, …) for logging.
public struct MethodOutput {
    public var loss: Tensor
    public var metrics: [String: Float]
    public init(loss: Tensor, metrics: [String: Float] = [:]) { self.loss = loss; self.metrics = metrics }
}

/// The vectors a method's loss compares, produced by one forward pass over two views.
///
/// ICL-MSR stratifies exactly these: every tensor of `pairs` and `negatives` is mapped through
/// the injection of a stratum before the method's `baseLoss(_:)` is applied again.
public struct ComparisonVectors {
    /// One entry per term of the loss: `(first, second)`, both `[N, d]`. SimCLR and Barlow
    /// Twins have one pair `(z₁, z₂)`; symmetric methods have two (BYOL `(p₁, z̄₂), (p₂, z̄₁)`,
    /// SimSiam `(p₁, sg z₂), (p₂, sg z₁)`, MoCo v2 `(q₁, k₂), (q₂, k₁)`).
    public var pairs: [(first: Tensor, second: Tensor)]
    /// Constant negatives `[Q, d]` shared by every row (MoCo v2's queue), or `nil`.
    public var negatives: Tensor?
    /// Same-background hard negatives `[M, d]` added to every row's negatives for this batch only
    /// (`HardNegativeContrastiveMethod`): SimCLR's online projections (with gradient), MoCo v2's
    /// keys (constant); `nil` without them.
    public var hardNegatives: Tensor?
    /// Backbone features of both views `[2N, F]`, detached (for metrics only).
    public var features: Tensor
    /// Metrics the forward pass already knows (EMA τ, temperature, …).
    public var metrics: [String: Float]

    public init(pairs: [(first: Tensor, second: Tensor)], negatives: Tensor? = nil, hardNegatives: Tensor? = nil,
                features: Tensor, metrics: [String: Float] = [:]) {
        self.pairs = pairs; self.negatives = negatives; self.hardNegatives = hardNegatives
        self.features = features; self.metrics = metrics
    }

    /// The same structure with every compared tensor (pairs, negatives, hard negatives) mapped by `f`.
    public func mapVectors(_ f: (Tensor) -> Tensor) -> ComparisonVectors {
        ComparisonVectors(pairs: pairs.map { (f($0.first), f($0.second)) }, negatives: negatives.map(f),
                          hardNegatives: hardNegatives.map(f), features: features, metrics: metrics)
    }
}

/// A self-supervised contrastive method: it owns its encoder (backbone) and heads and turns two
/// augmented views of the same images into a loss.
///
/// Conformers are `Module`s, so `namedParameters()` / `namedBuffers()` cover every trained
/// parameter and buffer with stable dotted names (`backbone.layer1.conv1.weight`,
/// `projector.0.weight`, …). State that is neither (EMA target networks are modules too; the
/// MoCo queue is a buffer) is also reachable through `namedParameters()` / `namedBuffers()`, so
/// checkpoints are complete.
///
/// The loss is split in two so regularizers can act between them (ICL-MSR, see
/// `MetaSemanticRegularizer`): `comparisonVectors` runs the networks, `baseLoss` maps the
/// compared vectors to the scalar loss. `loss(view1:view2:mode:)` composes them.
public protocol ContrastiveMethod: Module {
    /// Short identifier: `simclr`, `mocov2`, `byol`, `simsiam`, `barlowtwins`.
    var methodName: String { get }
    /// The encoder whose features are evaluated (`[N, 3, H, W] → [N, featureDimension]`).
    var backbone: any Backbone { get }
    /// The parameters the encoder optimizer trains (online networks only; EMA targets excluded).
    func trainableParameters() -> [NamedParameter]
    /// Loss and metrics for two views `[N, 3, H, W]` of the same N images.
    func loss(view1: Tensor, view2: Tensor, mode: ForwardMode) throws -> MethodOutput
    /// Called after each optimizer step (EMA target updates, queue bookkeeping).
    /// - Parameters: step: the 0-based step just taken; totalSteps: the run's total (for τ schedules).
    func didStep(step: Int, totalSteps: Int)

    /// `d`, the width of the compared vectors (projector or predictor output).
    var comparisonDimension: Int { get }
    /// Whether the loss sees its vectors only after L2 normalization (so a stratum with `m = 0`
    /// leaves it unchanged). True for SimCLR, MoCo v2, BYOL, SimSiam; false for Barlow Twins.
    var lossSeesOnlyNormalizedVectors: Bool { get }
    /// Runs the networks on two views `[N, 3, H, W]`.
    ///
    /// - Parameters:
    ///   - mode: `.train` for a real step; `.trainFrozenStatistics` for virtual passes (no
    ///     running-statistic updates and no queue bookkeeping).
    ///   - previous: vectors of an earlier pass over the *same views* with the same target
    ///     networks; methods with EMA targets reuse its target-side tensors instead of running
    ///     the target network again (they are identical; ICL-MSR's virtual passes use this).
    func comparisonVectors(view1: Tensor, view2: Tensor, mode: ForwardMode, reusingTargetsOf previous: ComparisonVectors?) throws -> ComparisonVectors
    /// The method's loss of (possibly stratified) comparison vectors. Output: scalar.
    func baseLoss(_ vectors: ComparisonVectors) -> Tensor
}

extension ContrastiveMethod {
    public var lossSeesOnlyNormalizedVectors: Bool { true }

    /// Default composition: forward, base loss, then metrics of the unstratified vectors.
    public func loss(view1: Tensor, view2: Tensor, mode: ForwardMode) throws -> MethodOutput {
        let vectors = try comparisonVectors(view1: view1, view2: view2, mode: mode, reusingTargetsOf: nil)
        let loss = baseLoss(vectors)
        return MethodOutput(loss: loss, metrics: representationMetrics(vectors).merging(["loss": loss.item]) { _, b in b })
    }

    /// Collapse and similarity diagnostics of a forward pass (no autograd):
    /// - `pos_sim`: mean cosine of the compared pairs (first pair),
    /// - `neg_sim`: mean cosine between *different* images across the first pair,
    /// - `feature_std`: mean per-dimension std of the L2-normalized backbone features (≈ 1/√F
    ///   when spread out, → 0 on collapse; SimSiam §4.1),
    /// - `output_std`: the same for the first compared vectors,
    /// plus the forward pass's own metrics.
    public func representationMetrics(_ vectors: ComparisonVectors) -> [String: Float] {
        var m = vectors.metrics
        guard let pair = vectors.pairs.first else { return m }
        let (pos, neg) = pairSimilarities(pair.first, pair.second)
        m["pos_sim"] = pos
        m["neg_sim"] = neg
        m["feature_std"] = normalizedStandardDeviation(vectors.features)
        m["output_std"] = normalizedStandardDeviation(pair.first)
        return m
    }
}

/// Mean cosine of matching rows and of non-matching rows of `a`, `b` (`[N, d]`).
func pairSimilarities(_ a: Tensor, _ b: Tensor) -> (positive: Float, negative: Float) {
    let n = a.shape[0]
    let s = withoutGradients { Tensor.matmul(a.detached().l2Normalized(axis: 1), b.detached().l2Normalized(axis: 1), transposeB: true) }.scalars
    var pos: Double = 0, neg: Double = 0
    for i in 0..<n { for j in 0..<n { if i == j { pos += Double(s[i * n + j]) } else { neg += Double(s[i * n + j]) } } }
    return (Float(pos / Double(n)), n > 1 ? Float(neg / Double(n * (n - 1))) : 0)
}

/// Mean over dimensions of the batch std of the L2-normalized rows of `x` (`[N, d]`).
func normalizedStandardDeviation(_ x: Tensor) -> Float {
    let (n, d) = (x.shape[0], x.shape[1])
    guard n > 1 else { return 0 }
    let v = withoutGradients { x.detached().l2Normalized(axis: 1) }.scalars
    var total: Double = 0
    for j in 0..<d {
        var s: Double = 0, ss: Double = 0
        for i in 0..<n { let e = Double(v[i * d + j]); s += e; ss += e * e }
        let mean = s / Double(n)
        total += max(ss / Double(n) - mean * mean, 0).squareRoot()
    }
    return Float(total / Double(d))
}

/// Both views through `backbone` and `projector` as one batch, so batch norm sees 2N samples.
/// - Returns: the features `[2N, F]` and the projections split by view (`[N, d]` each).
func encodeBothViews(_ view1: Tensor, _ view2: Tensor, backbone: any Backbone, projector: any Layer,
                     mode: ForwardMode) throws -> (features: Tensor, projections: Tensor, view1: Tensor, view2: Tensor) {
    let h = try backbone(Tensor.concat([view1, view2], axis: 0), mode: mode)
    let z = try projector(h, mode: mode)
    let (z1, z2) = splitViews(z)
    return (h, z, z1, z2)
}

/// Splits a `[2N, …]` batch of two stacked views into its two `[N, …]` halves.
func splitViews(_ t: Tensor) -> (Tensor, Tensor) {
    let n = t.shape[0] / 2
    return (t.slice(axis: 0, 0..<n), t.slice(axis: 0, n..<(2 * n)))
}
