import Foundation
import NN
import TensorCore

/// Training with ICL-MSR: the encoder minimizes `L_enc = L_base + λ L_MSR`; every
/// `metaInterval` iterations Φ = (M, w) takes a bi-level meta step.
///
/// One iteration (`step(view1:view2:learningRate:step:totalSteps:)`):
/// 1. Forward at θₜ (`.train`): comparison vectors, `L_base`, `L_MSR`; `g = ∇θ L_enc(θₜ; Φ)`;
///    encoder optimizer step → θₜ₊₁.
/// 2. Meta step (when `step % metaInterval == 0`), all passes in `.trainFrozenStatistics` (no
///    running-statistic updates) with the EMA targets not advanced (their vectors from step 1 are
///    reused, so target networks never run again):
///    - θ' = θ − α g (θ = θₜ and the step-1 gradient with `metaGradient: shared`; θ = θₜ₊₁ and a
///      fresh gradient with `recomputed`), α = `virtualLR` or the encoder lr;
///    - `g' = ∇θ L_base(θ')`, `L_meta = L_base(θ')`;
///    - ε = r/‖g'‖; the encoder is run *forward only* (no graph) at θ + εg' (`z⁺`) and, with
///      `finiteDifference: central`, at θ − εg' (`z⁻`); with `reflected` the vectors at θ − εg'
///      are taken as `z⁻ = 2z − z⁺`, `z` the pass at θ the iteration already made (one forward
///      fewer, O(ε) instead of O(ε²) error; docs/ICL-MSR.md);
///    - `∇Φ L_meta ≈ −αλ [∇Φ L_MSR(z⁺) − ∇Φ L_MSR(z⁻)] / 2ε`, differentiated through the
///      regularizer alone, then a meta-optimizer step;
///    - the encoder's parameters are restored to θₜ₊₁ exactly (the same storages are reassigned).
/// 3. `method.didStep` (EMA targets, MoCo queue).
///
/// With `meta: frozen` step 2 never runs: Φ keeps its seeded initialization, and an iteration
/// costs one forward+backward (the K strata in the loss) like a non-meta iteration.
///
/// With `weight = 0` the encoder objective is exactly `L_base` and the meta step has no side
/// effect on the method, so the method's trajectory equals `PlainStepper`'s bit for bit.
///
/// Metrics: the method's own, plus `loss` (L_enc), `loss_base`, `loss_msr`, `loss_meta`,
/// `meta_grad_norm` (‖∇Φ‖), `fd_epsilon`, `prior_entropy`, `strata_cosine` (the last two every
/// step; the meta ones on meta steps only, so never with `meta: frozen`).
///
/// References: see `MetaSemanticRegularizer`.
public final class ICLMSRStepper: TrainingStepper {
    public let method: any ContrastiveMethod
    public let optimizer: any Optimizer
    public let options: ICLMSROptions
    public let regularizer: MetaSemanticRegularizer
    public let metaOptimizer: any Optimizer
    /// Called with each phase of an iteration and its wall time in seconds (benchmarks only;
    /// `nil`, the default, reads no clock). Timing changes nothing the step computes.
    public var phaseObserver: ((ICLMSRPhase, Double) -> Void)?

    /// - Parameters:
    ///   - method: the base method.
    ///   - optimizer: the encoder optimizer, built over `method.trainableParameters()`.
    ///   - options: validated here (with `form: geometric-mean`, `method` must be a
    ///     `SoftmaxContrastiveMethod`).
    ///   - seed: initialization seed of the strata.
    /// - Throws: `InvalidOption` naming the first bad option.
    public init(method: any ContrastiveMethod, optimizer: any Optimizer, options: ICLMSROptions = .init(), seed: UInt64) throws {
        try options.validate()
        if options.form == .geometricMean, !(method is any SoftmaxContrastiveMethod) {
            throw InvalidOption(key: "form", value: options.form.rawValue,
                                reason: "needs a softmax cross-entropy loss over similarity logits, which \(method.methodName) does not have")
        }
        self.method = method
        self.optimizer = optimizer
        self.options = options
        regularizer = MetaSemanticRegularizer(dimension: method.comparisonDimension, options: options, seed: seed)
        let meta = options.metaOptimizer
        switch meta.kind {
        case .sgd: metaOptimizer = SGD(regularizer.metaParameters(), momentum: meta.effectiveMomentum, weightDecay: meta.effectiveWeightDecay)
        case .adam: metaOptimizer = AdamW(regularizer.metaParameters(), weightDecay: meta.effectiveWeightDecay)
        }
    }

    var metaLearningRate: Float { options.metaOptimizer.lr }

    /// `L_enc`, `L_base` and `L_MSR` at the current parameters.
    func encoderObjective(_ vectors: ComparisonVectors) -> (enc: Tensor, base: Tensor, msr: Tensor) {
        let base = timed(.baseLoss, phaseObserver) { method.baseLoss(vectors) }
        guard options.weight != 0 else {
            let msr = timed(.regularizerLoss, phaseObserver) { withoutGradients { regularizer.loss(vectors, method: method) } }
            return (base, base, msr)
        }
        let msr = timed(.regularizerLoss, phaseObserver) { regularizer.loss(vectors, method: method) }
        return (base + msr * options.weight, base, msr)
    }

    public func step(view1: Tensor, view2: Tensor, learningRate: Float, step: Int, totalSteps: Int) throws -> [String: Float] {
        let params = method.trainableParameters().map(\.parameter)
        let thetaT = params.map(\.value)
        let vectors = try timed(.encoderForward, phaseObserver) {
            try method.comparisonVectors(view1: view1, view2: view2, mode: .train, reusingTargetsOf: nil)
        }
        let (enc, base, msr) = encoderObjective(vectors)
        let grads = timed(.encoderBackward, phaseObserver) { enc.gradients(for: thetaT) }
        let gEnc = try params.indices.map { i -> Tensor in
            guard let g = grads[thetaT[i]] else { throw OptimizerError.missingGradient(parameter: method.trainableParameters()[i].name) }
            return g
        }
        try timed(.encoderUpdate, phaseObserver) { try optimizer.step(grads, learningRate: learningRate) }

        var metrics = timed(.bookkeeping, phaseObserver) { method.representationMetrics(vectors) }
        metrics["loss"] = enc.item
        metrics["loss_base"] = base.item
        metrics["loss_msr"] = msr.item
        metrics["lr"] = learningRate
        if options.meta == .bilevel, step % options.metaInterval == 0 {
            let meta = try metaStep(view1: view1, view2: view2, vectors: vectors, thetaT: thetaT, gEnc: gEnc,
                                    alpha: options.virtualLR ?? learningRate)
            metrics.merge(meta) { _, b in b }
        }
        timed(.bookkeeping, phaseObserver) {
            metrics.merge(regularizer.diagnostics()) { _, b in b }
            method.didStep(step: step, totalSteps: totalSteps)
        }
        return metrics
    }

    /// The bi-level meta step; leaves the encoder at the parameters it found (θₜ₊₁).
    func metaStep(view1: Tensor, view2: Tensor, vectors: ComparisonVectors, thetaT: [Tensor], gEnc: [Tensor], alpha: Float) throws -> [String: Float] {
        let params = method.trainableParameters().map(\.parameter)
        let thetaNext = params.map(\.value)
        defer { timed(.metaUpdate, phaseObserver) { for (p, v) in zip(params, thetaNext) { p.value = v } } }

        // θ and ∇θ L_enc(θ; Φ) of the virtual step.
        // `centre`: the comparison vectors at θ.
        var theta = thetaT, g = gEnc, centre = vectors
        if options.metaGradient == .recomputed {
            theta = thetaNext
            (centre, g) = try timed(.recomputedGradient, phaseObserver) {
                let v = try method.comparisonVectors(view1: view1, view2: view2, mode: .trainFrozenStatistics, reusingTargetsOf: vectors)
                let grads = encoderObjective(v).enc.gradients(for: theta)
                return (v, theta.map { grads[$0] ?? .zeros($0.shape) })
            }
        }

        let (hyper, metrics) = try hypergradient(view1: view1, view2: view2, vectors: centre, theta: theta, gradient: g, alpha: alpha)
        if let hyper {
            try timed(.metaUpdate, phaseObserver) { try metaOptimizer.step(hyper, learningRate: metaLearningRate, allowMissingGradients: true) }
        }
        return metrics
    }

    /// The finite-difference hypergradient `∇Φ L_meta` for the virtual step `θ' = θ − α g`, keyed
    /// by the current leaves of `regularizer.metaParameters()` (`nil` when `g' = 0`). Leaves the
    /// encoder's parameters at the perturbed values; the caller restores them.
    /// - Parameters: vectors: the forward pass at θ (its target-side vectors are reused, and its
    ///   compared vectors are the centre of the central difference).
    func hypergradient(view1: Tensor, view2: Tensor, vectors: ComparisonVectors, theta: [Tensor], gradient g: [Tensor],
                       alpha: Float) throws -> (Gradients?, [String: Float]) {
        let params = method.trainableParameters().map(\.parameter)
        func assign(_ values: [Tensor]) { for (p, v) in zip(params, values) { p.value = v } }

        // θ' = θ − α g;  g' = ∇θ L_base(θ').
        let (metaLoss, gPrime) = try timed(.virtualPass, phaseObserver) {
            assign(withoutGradients { zip(theta, g).map { $0 - $1 * alpha } })
            let leaves = params.map(\.value)
            let virtual = try method.comparisonVectors(view1: view1, view2: view2, mode: .trainFrozenStatistics, reusingTargetsOf: vectors)
            let metaLoss = method.baseLoss(virtual)
            let gradsVirtual = metaLoss.gradients(for: leaves)
            return (metaLoss, leaves.map { gradsVirtual[$0] ?? .zeros($0.shape) })
        }
        var normSquared: Double = 0
        for t in gPrime { for x in t.scalars { normSquared += Double(x) * Double(x) } }
        let norm = Float(normSquared.squareRoot())

        var metrics: [String: Float] = ["loss_meta": metaLoss.item]
        guard norm > 0, norm.isFinite else {
            metrics["meta_grad_norm"] = 0
            return (nil, metrics)
        }
        let eps = options.fdRadius / norm
        metrics["fd_epsilon"] = eps

        // Encoder forward only (no graph) at θ + εg', and at θ − εg' (`central`) or z⁻ = 2z − z⁺
        // through the vectors at θ the caller already has (`reflected`; docs/ICL-MSR.md, "The
        // meta step").
        func perturbedVectors(_ sign: Float) throws -> ComparisonVectors {
            try timed(.perturbedForward, phaseObserver) {
                assign(withoutGradients { zip(theta, gPrime).map { $0 + $1 * (sign * eps) } })
                return try withoutGradients {
                    try method.comparisonVectors(view1: view1, view2: view2, mode: .trainFrozenStatistics, reusingTargetsOf: vectors)
                }
            }
        }
        let plus = try perturbedVectors(1)
        let minus = switch options.finiteDifference {
        case .central: try perturbedVectors(-1)
        case .reflected: plus.reflected(through: vectors)
        }
        // ∇Φ of  −α/(2ε) · λ · [L_MSR(z⁺; Φ) − L_MSR(z⁻; Φ)]  is the hypergradient; Φ is
        // differentiated through the regularizer alone.
        let metaParams = regularizer.metaParameters()
        let hyper = timed(.hypergradient, phaseObserver) {
            let c = -alpha * options.weight / (2 * eps)
            let surrogate = (regularizer.loss(plus, method: method) - regularizer.loss(minus, method: method)) * c
            return surrogate.gradients(for: metaParams.map(\.parameter.value))
        }
        var hyperNorm: Double = 0
        for p in metaParams { for x in (hyper[p.parameter.value]?.scalars ?? []) { hyperNorm += Double(x) * Double(x) } }
        metrics["meta_grad_norm"] = Float(hyperNorm.squareRoot())
        return (hyper, metrics)
    }

    public func stateTensors() -> [(name: String, tensor: Tensor)] {
        prefixed("method.", method.stateTensors()) + prefixed("optimizer.", optimizer.stateTensors())
            + prefixed("regularizer.", regularizer.stateTensors()) + prefixed("meta_optimizer.", metaOptimizer.stateTensors())
    }

    public func loadStateTensors(_ tensors: [String: Tensor]) throws {
        var rest = tensors
        try loadModuleState(method, from: &rest, prefix: "method.")
        try loadModuleState(regularizer, from: &rest, prefix: "regularizer.")
        try optimizer.loadStateTensors(take(prefix: "optimizer.", from: &rest))
        try metaOptimizer.loadStateTensors(take(prefix: "meta_optimizer.", from: &rest))
        if let unknown = rest.keys.sorted().first { throw TrainingStateError.unknownKey(unknown) }
    }
}

extension ComparisonVectors {
    /// `2c − self` for every compared tensor, `c` the same tensor of `centre` (no graph): the
    /// point opposite `self` across `centre`. A tensor both share (a reused target, the queue)
    /// comes back unchanged (`2c − c = c` exactly in floating point). Both must have the same
    /// structure (`centre` is the pass at θ, `self` the pass at θ + εg' that reused its targets).
    func reflected(through centre: ComparisonVectors) -> ComparisonVectors {
        func reflect(_ p: Tensor, _ c: Tensor) -> Tensor { c.storage === p.storage ? p : c.detached() * 2 - p }
        return withoutGradients {
            ComparisonVectors(pairs: zip(pairs, centre.pairs).map { (reflect($0.first, $1.first), reflect($0.second, $1.second)) },
                              negatives: zip2(negatives, centre.negatives).map { reflect($0.0, $0.1) },
                              hardNegatives: zip2(hardNegatives, centre.hardNegatives).map { reflect($0.0, $0.1) },
                              features: features, metrics: metrics)
        }
    }
}

/// Both values, or `nil` when either is missing.
private func zip2<A, B>(_ a: A?, _ b: B?) -> (A, B)? {
    guard let a, let b else { return nil }
    return (a, b)
}
