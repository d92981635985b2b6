import Foundation
import NN
import TensorCore

/// The options of ICL-MSR (every choice of our reconstruction is one of them).
///
/// From the paper: background strata as learnable "meta semantic" vectors, a backdoor
/// adjustment with the prior P(b), a regularizer added to any CL method, trained by
/// meta-learning. Backdrop's reconstruction (options here): the injection forms, `L_MSR` as the
/// prior-weighted base loss, the learned-vs-uniform prior, `strataScale`, the one-step virtual
/// update with α = `virtualLR`, the DARTS finite difference with radius `fdRadius`,
/// `metaInterval`, the meta-optimizer (MetaMask's SGD 1e-3 / 0.9 / 5e-4) and `metaGradient`.
/// Defaults: K 16, λ 1, learned prior, additive, σ 0.5, α = encoder lr, r 0.01, every step,
/// SGD(1e-3, 0.9, 5e-4), shared gradient.
public struct ICLMSROptions: Sendable, Equatable, Codable {
    /// How the prior over strata is formed.
    public enum Prior: String, Sendable, Codable, CaseIterable { case learned, uniform }
    /// How a stratum enters a compared vector.
    public enum Injection: String, Sendable, Codable, CaseIterable { case additive, gated }
    /// Where the virtual step's gradient `∇θ L_enc` is taken.
    public enum MetaGradient: String, Sendable, Codable, CaseIterable {
        /// At the parameters the iteration's encoder gradient was computed at (θₜ), reusing that
        /// gradient: no extra backward pass. The meta step thus sees the encoder before its update.
        case shared
        /// At the updated encoder θₜ₊₁, with a fresh forward+backward of `L_enc` (the literal
        /// order "encoder step, then meta step"; one more pass per meta step).
        case recomputed
    }
    /// The optimizer of Φ = (M, w).
    public enum MetaOptimizer: Sendable, Equatable, Codable {
        case sgd(learningRate: Float = 1e-3, momentum: Float = 0.9, weightDecay: Float = 5e-4)
        case adam(learningRate: Float = 1e-3, weightDecay: Float = 0)
    }

    /// K, the number of meta semantic vectors (background strata).
    public var strata: Int = 16
    /// λ, the weight of `L_MSR` in the encoder objective.
    public var weight: Float = 1
    public var prior: Prior = .learned
    public var injection: Injection = .additive
    /// σ of the initialization `m_k ~ N(0, σ²/d)`.
    public var strataScale: Float = 0.5
    /// α of the virtual step; `nil` uses the encoder's current learning rate.
    public var virtualLR: Float? = nil
    /// r of the finite difference: `ε = r / ‖g'‖`.
    public var fdRadius: Float = 0.01
    /// A meta step every `metaInterval` iterations (at steps divisible by it).
    public var metaInterval: Int = 1
    public var metaOptimizer: MetaOptimizer = .sgd()
    public var metaGradient: MetaGradient = .shared

    public init(strata: Int = 16, weight: Float = 1, prior: Prior = .learned, injection: Injection = .additive,
                strataScale: Float = 0.5, virtualLR: Float? = nil, fdRadius: Float = 0.01, metaInterval: Int = 1,
                metaOptimizer: MetaOptimizer = .sgd(), metaGradient: MetaGradient = .shared) {
        (self.strata, self.weight, self.prior, self.injection, self.strataScale) = (strata, weight, prior, injection, strataScale)
        (self.virtualLR, self.fdRadius, self.metaInterval, self.metaOptimizer, self.metaGradient) = (virtualLR, fdRadius, metaInterval, metaOptimizer, metaGradient)
    }

    /// Throws `ConfigurationError.invalidOption` naming the first invalid option.
    public func validate() throws {
        func bad(_ option: String, _ value: Any, _ reason: String) -> ConfigurationError {
            .invalidOption(option: option, value: "\(value)", reason: reason)
        }
        guard strata >= 1 else { throw bad("strata", strata, "K must be at least 1") }
        guard weight.isFinite, weight >= 0 else { throw bad("weight", weight, "λ must be finite and ≥ 0") }
        guard strataScale.isFinite, strataScale >= 0 else { throw bad("strataScale", strataScale, "must be finite and ≥ 0") }
        if let a = virtualLR { guard a.isFinite, a > 0 else { throw bad("virtualLR", a, "α must be finite and > 0 (omit it to use the encoder lr)") } }
        guard fdRadius.isFinite, fdRadius > 0 else { throw bad("fdRadius", fdRadius, "r must be finite and > 0") }
        guard metaInterval >= 1 else { throw bad("metaInterval", metaInterval, "must be at least 1") }
        switch metaOptimizer {
        case let .sgd(lr, momentum, wd):
            guard lr.isFinite, lr > 0 else { throw bad("metaOptimizer.learningRate", lr, "must be finite and > 0") }
            guard (0..<1).contains(momentum) else { throw bad("metaOptimizer.momentum", momentum, "must lie in [0, 1)") }
            guard wd.isFinite, wd >= 0 else { throw bad("metaOptimizer.weightDecay", wd, "must be finite and ≥ 0") }
        case let .adam(lr, wd):
            guard lr.isFinite, lr > 0 else { throw bad("metaOptimizer.learningRate", lr, "must be finite and > 0") }
            guard wd.isFinite, wd >= 0 else { throw bad("metaOptimizer.weightDecay", wd, "must be finite and ≥ 0") }
        }
    }
}

/// The meta semantic regularizer of ICL-MSR: K background strata `M` `[K, d]` and prior logits
/// `w` `[K]`, and the interventional loss `L_MSR` built from any method's `baseLoss`.
///
/// For a method's comparison vectors `z` (every tensor of `ComparisonVectors.pairs` and its
/// `negatives`), stratum k gives `normalize(normalize(z) + m_k)` (`additive`) or
/// `normalize(z ⊙ (1 + tanh m_k))` (`gated`), and
///
///     L_MSR = Σ_k softmax(w)_k · L_base(stratum k of the vectors)
///
/// (`prior: uniform` uses 1/K). Inside a stratum every sample carries the same injected
/// "background", so it cannot tell instances apart; the encoder must separate them by content.
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

    /// `L_MSR = Σ_k P(b_k) L_base(stratum k)` for `method`'s comparison vectors. Output: scalar.
    public func loss(_ vectors: ComparisonVectors, method: any ContrastiveMethod) -> Tensor {
        let stratified = vectors.mapVectors(stratify)
        let p = prior()
        var total: Tensor?
        for k in 0..<options.strata {
            let slice = stratified.mapVectors { $0.slice(axis: 0, k..<(k + 1)).reshaped([$0.shape[1], $0.shape[2]]) }
            let term = method.baseLoss(slice) * p.slice(axis: 0, k..<(k + 1)).reshaped([])
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
///    - ε = r/‖g'‖; the encoder is run *forward only* at θ ± εg' (no graph), and
///      `∇Φ L_enc = λ ∇Φ L_MSR` is differentiated through the regularizer alone;
///    - `∇Φ L_meta ≈ −α [∇Φ L_enc(θ + εg') − ∇Φ L_enc(θ − εg')] / 2ε`, then a meta-optimizer step;
///    - the encoder's parameters are restored to θₜ₊₁ exactly (the same storages are reassigned).
/// 3. `method.didStep` (EMA targets, MoCo queue).
///
/// With `weight = 0` the encoder objective is exactly `L_base` and the meta step has no side
/// effect on the method, so the method's trajectory equals `PlainStepper`'s bit for bit.
///
/// Metrics: the method's own, plus `loss` (L_enc), `loss_base`, `loss_msr`, `loss_meta`,
/// `meta_grad_norm` (‖∇Φ‖), `fd_epsilon`, `prior_entropy`, `strata_cosine` (the last two every
/// step; the meta ones on meta steps only).
///
/// References: see `MetaSemanticRegularizer`.
public final class ICLMSRStepper: TrainingStepper {
    public let method: any ContrastiveMethod
    public let optimizer: any Optimizer
    public let options: ICLMSROptions
    public let regularizer: MetaSemanticRegularizer
    public let metaOptimizer: any Optimizer

    /// - Parameters:
    ///   - method: the base method.
    ///   - optimizer: the encoder optimizer, built over `method.trainableParameters()`.
    ///   - options: validated here.
    ///   - seed: initialization seed of the strata.
    public init(method: any ContrastiveMethod, optimizer: any Optimizer, options: ICLMSROptions = .init(), seed: UInt64) throws {
        try options.validate()
        self.method = method
        self.optimizer = optimizer
        self.options = options
        regularizer = MetaSemanticRegularizer(dimension: method.comparisonDimension, options: options, seed: seed)
        switch options.metaOptimizer {
        case let .sgd(_, momentum, wd):
            metaOptimizer = SGD(regularizer.metaParameters(), momentum: momentum, weightDecay: wd)
        case let .adam(_, wd):
            metaOptimizer = AdamW(regularizer.metaParameters(), weightDecay: wd)
        }
    }

    var metaLearningRate: Float {
        switch options.metaOptimizer {
        case .sgd(let lr, _, _), .adam(let lr, _): return lr
        }
    }

    /// `L_enc`, `L_base` and `L_MSR` at the current parameters.
    func encoderObjective(_ vectors: ComparisonVectors) -> (enc: Tensor, base: Tensor, msr: Tensor) {
        let base = method.baseLoss(vectors)
        guard options.weight != 0 else {
            let msr = withoutGradients { regularizer.loss(vectors, method: method) }
            return (base, base, msr)
        }
        let msr = regularizer.loss(vectors, method: method)
        return (base + msr * options.weight, base, msr)
    }

    public func step(view1: Tensor, view2: Tensor, learningRate: Float, step: Int, totalSteps: Int) throws -> [String: Float] {
        let params = method.trainableParameters().map(\.parameter)
        let thetaT = params.map(\.value)
        let vectors = try method.comparisonVectors(view1: view1, view2: view2, mode: .train, reusingTargetsOf: nil)
        let (enc, base, msr) = encoderObjective(vectors)
        let grads = enc.gradients(for: thetaT)
        let gEnc = try params.indices.map { i -> Tensor in
            guard let g = grads[thetaT[i]] else { throw OptimizerError.missingGradient(parameter: method.trainableParameters()[i].name) }
            return g
        }
        try optimizer.step(grads, learningRate: learningRate)

        var metrics = method.representationMetrics(vectors)
        metrics["loss"] = enc.item
        metrics["loss_base"] = base.item
        metrics["loss_msr"] = msr.item
        metrics["lr"] = learningRate
        if step % options.metaInterval == 0 {
            let meta = try metaStep(view1: view1, view2: view2, vectors: vectors, thetaT: thetaT, gEnc: gEnc,
                                    alpha: options.virtualLR ?? learningRate)
            metrics.merge(meta) { _, b in b }
        }
        metrics.merge(regularizer.diagnostics()) { _, b in b }
        method.didStep(step: step, totalSteps: totalSteps)
        return metrics
    }

    /// The bi-level meta step; leaves the encoder at the parameters it found (θₜ₊₁).
    func metaStep(view1: Tensor, view2: Tensor, vectors: ComparisonVectors, thetaT: [Tensor], gEnc: [Tensor], alpha: Float) throws -> [String: Float] {
        let params = method.trainableParameters().map(\.parameter)
        let thetaNext = params.map(\.value)
        defer { for (p, v) in zip(params, thetaNext) { p.value = v } }

        // θ and ∇θ L_enc(θ; Φ) of the virtual step.
        var theta = thetaT, g = gEnc
        if options.metaGradient == .recomputed {
            theta = thetaNext
            let v = try method.comparisonVectors(view1: view1, view2: view2, mode: .trainFrozenStatistics, reusingTargetsOf: vectors)
            let grads = encoderObjective(v).enc.gradients(for: theta)
            g = theta.map { grads[$0] ?? .zeros($0.shape) }
        }

        let (hyper, metrics) = try hypergradient(view1: view1, view2: view2, vectors: vectors, theta: theta, gradient: g, alpha: alpha)
        if let hyper { try metaOptimizer.step(hyper, learningRate: metaLearningRate, allowMissingGradients: true) }
        return metrics
    }

    /// The finite-difference hypergradient `∇Φ L_meta` for the virtual step `θ' = θ − α g`, keyed
    /// by the current leaves of `regularizer.metaParameters()` (`nil` when `g' = 0`). Leaves the
    /// encoder's parameters at the perturbed values; the caller restores them.
    /// - Parameters: vectors: the iteration's forward pass (its target-side vectors are reused).
    func hypergradient(view1: Tensor, view2: Tensor, vectors: ComparisonVectors, theta: [Tensor], gradient g: [Tensor],
                       alpha: Float) throws -> (Gradients?, [String: Float]) {
        let params = method.trainableParameters().map(\.parameter)
        func assign(_ values: [Tensor]) { for (p, v) in zip(params, values) { p.value = v } }

        // θ' = θ − α g;  g' = ∇θ L_base(θ').
        assign(withoutGradients { zip(theta, g).map { $0 - $1 * alpha } })
        let leaves = params.map(\.value)
        let virtual = try method.comparisonVectors(view1: view1, view2: view2, mode: .trainFrozenStatistics, reusingTargetsOf: vectors)
        let metaLoss = method.baseLoss(virtual)
        let gradsVirtual = metaLoss.gradients(for: leaves)
        let gPrime = leaves.map { gradsVirtual[$0] ?? .zeros($0.shape) }
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

        // Encoder forward only at θ ± εg'; Φ differentiated through the regularizer alone.
        func perturbedVectors(_ sign: Float) throws -> ComparisonVectors {
            assign(withoutGradients { zip(theta, gPrime).map { $0 + $1 * (sign * eps) } })
            return try withoutGradients {
                try method.comparisonVectors(view1: view1, view2: view2, mode: .trainFrozenStatistics, reusingTargetsOf: vectors)
            }
        }
        let plus = try perturbedVectors(1), minus = try perturbedVectors(-1)
        // ∇Φ of  −α/(2ε) · λ · [L_MSR(z⁺; Φ) − L_MSR(z⁻; Φ)]  is the hypergradient.
        let c = -alpha * options.weight / (2 * eps)
        let surrogate = (regularizer.loss(plus, method: method) - regularizer.loss(minus, method: method)) * c
        let metaParams = regularizer.metaParameters()
        let hyper = surrogate.gradients(for: metaParams.map(\.parameter.value))
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
