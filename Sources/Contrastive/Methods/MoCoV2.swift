import ImageData
import NN
import TensorCore

/// MoCo v2: a query encoder, a momentum (EMA) key encoder and a queue of past keys as
/// negatives; InfoNCE with temperature T; MLP head without BN.
///
/// Symmetrized as in solo-learn's MoCo v2+: `L = ½ InfoNCE(q₁; k₂, queue) + ½ InfoNCE(q₂; k₁, queue)`,
/// `InfoNCE(q; k, Q) = CE([q·k, q·Qᵀ] / T, 0)` on L2-normalized vectors. After each step the
/// key encoder follows `ξ ← τξ + (1 − τ)θ` (cosine τ schedule from `emaBase` to `emaFinal`) and
/// both views' keys (2N) enter one FIFO queue `[Q, d]` (a buffer, so checkpoints carry it;
/// size it to the dataset).
///
/// Shuffled BN substitute: MoCo shuffles the key batch across GPUs so that batch statistics
/// cannot leak which key matches which query. On one device we forward the key encoder on each
/// view **separately** (its BN statistics come from N images of one view), while the query
/// encoder sees both views together (2N), so query and key batches never share statistics.
/// Comparison vectors (what ICL-MSR stratifies): `(q₁, k₂)`, `(q₂, k₁)` and the queue.
///
/// References: He, Fan, Wu, Xie & Girshick, "Momentum Contrast for Unsupervised Visual
/// Representation Learning", CVPR 2020; Chen, Fan, Girshick & He, "Improved Baselines with
/// Momentum Contrastive Learning", arXiv:2003.04297, 2020.
public final class MoCoV2: ContrastiveMethod {
    public let methodName = "mocov2"
    public let backbone: any Backbone
    public let projector: Sequential
    /// The momentum encoder (`key_encoder.backbone.*`, `key_encoder.projector.*`).
    public let keyEncoder: EncoderWithHead
    /// `[Q, d]` L2-normalized past keys, and the next write position (`queue_ptr`).
    public let queue: Buffer, queuePointer: Buffer
    public let temperature: Float, emaBase: Float, emaFinal: Float
    public private(set) var currentTau: Float {
        get { emaTau.value.item }
        set { emaTau.value = Tensor(newValue) }
    }
    /// `currentTau` as a scalar buffer (`ema_tau`), so checkpoints carry it and a resumed run logs
    /// the same τ as an uninterrupted one.
    let emaTau = Buffer(Tensor(0))
    /// Keys of the last `.train` forward, enqueued by `didStep`.
    private var pendingKeys: Tensor?

    public init(backbone: any Backbone, targetBackbone: (any Backbone)? = nil, projectorHidden: Int, projectorOutput: Int,
                temperature: Float, queueSize: Int, emaBase: Float, emaFinal: Float, seed: UInt64) throws {
        var rng = SeededRNG(seed: seed)
        self.backbone = backbone
        projector = Heads.twoLayer(backbone.featureDimension, hidden: projectorHidden, output: projectorOutput, rng: &rng)
        let kb = try targetBackbone ?? architecturalCopy(of: backbone)
        MomentumUpdate.copyState(from: backbone, to: kb)
        keyEncoder = EncoderWithHead(backbone: kb, projector: architecturalCopy(of: projector))
        queue = Buffer(Tensor.normal([queueSize, projectorOutput], rng: &rng).l2Normalized(axis: 1))
        queuePointer = Buffer(.zeros([]), kind: .int64)
        (self.temperature, self.emaBase, self.emaFinal) = (temperature, emaBase, emaFinal)
        currentTau = emaBase
    }

    public var children: [(String, any Module)] { [("backbone", backbone), ("projector", projector), ("key_encoder", keyEncoder)] }
    public var ownBuffers: [(String, Buffer)] { [("queue", queue), ("queue_ptr", queuePointer), ("ema_tau", emaTau)] }
    public var comparisonDimension: Int { (projector.layers.last as! Linear).outFeatures }
    public func trainableParameters() -> [NamedParameter] { optimizerParameters().filter { !$0.name.hasPrefix("key_encoder.") } }

    public func didStep(step: Int, totalSteps: Int) {
        currentTau = MomentumUpdate.cosineTau(base: emaBase, final: emaFinal, step: step, totalSteps: totalSteps)
        MomentumUpdate.update(target: keyEncoder, online: OnlineView(backbone: backbone, projector: projector), tau: currentTau)
        if let keys = pendingKeys { enqueue(keys) }
        pendingKeys = nil
    }

    /// Writes the rows of `keys` `[M, d]` at the queue pointer (wrapping), then advances it.
    func enqueue(_ keys: Tensor) {
        let (q, d, m) = (queue.value.shape[0], queue.value.shape[1], keys.shape[0])
        var ptr = Int(queuePointer.value.item)
        let k = keys.pointer
        queue.value.withMutableStorage { b in
            for i in 0..<m { for j in 0..<d { b[((ptr + i) % q) * d + j] = k[i * d + j] } }
        }
        ptr = (ptr + m) % q
        queuePointer.value = Tensor(Float(ptr))
    }

    public func comparisonVectors(view1: Tensor, view2: Tensor, mode: ForwardMode, reusingTargetsOf previous: ComparisonVectors?) throws -> ComparisonVectors {
        let e = try encodeBothViews(view1, view2, backbone: backbone, projector: projector, mode: mode)
        let (k1, k2): (Tensor, Tensor)
        if let previous {
            (k1, k2) = (previous.pairs[1].second, previous.pairs[0].second)
        } else {
            (k1, k2) = try withoutGradients {
                (try keyEncoder(view1, mode: mode).projection.l2Normalized(axis: 1), try keyEncoder(view2, mode: mode).projection.l2Normalized(axis: 1))
            }
            if mode.updatesRunningStatistics { pendingKeys = Tensor.concat([k1, k2], axis: 0) }
        }
        return ComparisonVectors(pairs: [(e.view1, k2), (e.view2, k1)],
                                 negatives: queue.value, features: e.features.detached(),
                                 metrics: ["temperature": temperature, "ema_tau": currentTau])
    }

    public func baseLoss(_ vectors: ComparisonVectors) -> Tensor {
        let negatives = vectors.negatives!.detached(), hard = vectors.hardNegatives?.detached()
        return vectors.pairs.map {
            infoNCELoss(query: $0.first, key: $0.second.detached(), queue: negatives, temperature: temperature, extraNegatives: hard) * 0.5
        }.reduce(Tensor(0), +)
    }
}

extension MoCoV2: FusedAdditiveStrata {
    /// Both InfoNCE pairs of every stratum through `stratifiedInfoNCELosses`: the queries of the
    /// two pairs stacked `[2N, d]` against their keys, so `½ (mean over pair 1 + mean over pair 2)`
    /// is the mean over the stacked rows. Nil with hard negatives (their columns are not in the
    /// fused op).
    public func additiveStrataLosses(_ vectors: ComparisonVectors, strata: Tensor) -> Tensor? {
        guard vectors.hardNegatives == nil, let negatives = vectors.negatives, vectors.pairs.count == 2,
              vectors.pairs[0].first.shape == vectors.pairs[1].first.shape else { return nil }
        let queries = Tensor.concat(vectors.pairs.map { $0.first.l2Normalized(axis: 1) }, axis: 0)
        let (keys, queue) = withoutGradients {
            (Tensor.concat(vectors.pairs.map { $0.second.detached().l2Normalized(axis: 1) }, axis: 0), negatives.detached().l2Normalized(axis: 1))
        }
        return stratifiedInfoNCELosses(queries: queries, keys: keys, queue: queue, strata: strata, temperature: temperature)
    }
}

extension MoCoV2: HardNegativeContrastiveMethod {
    /// The plain comparison vectors plus the hard negatives' keys: the N images `[N, 3, H, W]`
    /// through the momentum key encoder (a forward of their own, like each view's keys; no
    /// gradient), L2-normalized `[N, d]`. They join the queue's negatives for this batch only and
    /// are never enqueued (the queue holds keys of the views, as without them).
    public func comparisonVectors(view1: Tensor, view2: Tensor, hardNegatives: Tensor, mode: ForwardMode) throws -> ComparisonVectors {
        var vectors = try comparisonVectors(view1: view1, view2: view2, mode: mode, reusingTargetsOf: nil)
        vectors.hardNegatives = try withoutGradients { try keyEncoder(hardNegatives, mode: mode).projection.l2Normalized(axis: 1) }
        return vectors
    }
}

/// MoCo's InfoNCE: logits `[q·k, q·Qᵀ] / T` `[N, 1 + Q]` of L2-normalized vectors, target 0.
///
/// With `extraNegatives` `H` `[M, d]` (the hard negatives' keys), the logits are
/// `[q·k, q·Qᵀ, q·Ĥᵀ] / T` `[N, 1 + Q + M]`: every query sees all M, as every query sees the
/// whole queue. Without them the computation is exactly the plain loss.
/// - Parameters: query, key: `[N, d]`; queue: `[Q, d]`; extraNegatives: `[M, d]` or nil. Output: scalar.
public func infoNCELoss(query: Tensor, key: Tensor, queue: Tensor, temperature: Float, extraNegatives: Tensor? = nil) -> Tensor {
    infoNCETerm(query: query, key: key, queue: queue, temperature: temperature, extraNegatives: extraNegatives).loss()
}

/// InfoNCE as one `LogitTerm` (what `infoNCELoss` computes): `S = [q·k, q·Qᵀ, q·Ĥᵀ] / T`
/// `[N, 1 + Q + M]` of L2-normalized vectors, target 0, coefficient `coefficient`.
public func infoNCETerm(query: Tensor, key: Tensor, queue: Tensor, temperature: Float, extraNegatives: Tensor? = nil,
                        coefficient: Float = 1) -> LogitTerm {
    let q = query.l2Normalized(axis: 1), k = key.l2Normalized(axis: 1), negatives = queue.l2Normalized(axis: 1)
    let positive = (q * k).sum(axis: 1, keepDims: true)
    var columns = [positive, Tensor.matmul(q, negatives, transposeB: true)]
    if let extra = extraNegatives {
        precondition(extra.rank == 2 && extra.shape[1] == query.shape[1], "infoNCELoss: extra negatives must be [M, \(query.shape[1])], got \(extra.shape)")
        columns.append(Tensor.matmul(q, extra.l2Normalized(axis: 1), transposeB: true))
    }
    let logits = Tensor.concat(columns, axis: 1) * (1 / temperature)
    return LogitTerm(logits: logits, targets: [Int](repeating: 0, count: query.shape[0]), coefficient: coefficient)
}

extension MoCoV2 {
    /// solo-learn's CIFAR recipe: SGD, 0.3 per 256 images, weight decay 1e-4 on every parameter;
    /// the weaker symmetric augmentations.
    public static let recipe = MethodRecipe(optimizer: OptimizerSpec(kind: .sgd, baseLearningRate: 0.3, weightDecay: 1e-4, excludeBiasAndNorm: false),
                                            augmentation: .symmetricWeak)

    /// The queue "sized to the dataset": 4096 negatives, or as many whole batches as a train split
    /// of `trainImages` holds (at least one batch).
    public static func defaultQueueSize(batchSize: Int, trainImages: Int) -> Int {
        max(batchSize, min(4096, (trainImages / batchSize) * batchSize))
    }

    /// MoCo v2 with `options` over its defaults for backbone width `F`: head 4F → F/2 (no BN),
    /// temperature 0.2, queue 4096, EMA 0.99 → 0.999.
    public convenience init(backbone: any Backbone, options: MethodOptions, seed: UInt64) throws {
        let f = backbone.featureDimension
        try self.init(backbone: backbone, projectorHidden: options.projectorHidden ?? 4 * f, projectorOutput: options.projectorOutput ?? max(f / 2, 1),
                      temperature: options.temperature ?? 0.2, queueSize: options.queueSize ?? 4096,
                      emaBase: options.emaBase ?? 0.99, emaFinal: options.emaFinal ?? 0.999, seed: seed)
    }
}
