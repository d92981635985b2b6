import TensorCore

/// The options of ICL-MSR (every choice of our reconstruction is one of them; spec key `iclmsr`).
///
/// From the paper: background strata as learnable "meta semantic" vectors, a backdoor
/// adjustment with the prior P(b), a regularizer added to any CL method, trained by
/// meta-learning. Backdrop's reconstruction (options here): the injection forms, `L_MSR` as the
/// prior-weighted base loss, the learned-vs-uniform prior, `strataScale`, the one-step virtual
/// update with α = `virtualLR`, the DARTS finite difference with radius `fdRadius`,
/// `metaInterval`, `finiteDifference` (central or reflected), the meta-optimizer (MetaMask's SGD 1e-3 / 0.9 / 5e-4), `metaGradient`, and
/// the ablations `meta` (bi-level vs frozen strata) and `form` (how the strata are combined).
/// Defaults: K 16, λ 1, learned prior, additive, σ 0.5, α = encoder lr, r 0.01, every step,
/// SGD(1e-3, 0.9, 5e-4), shared gradient, bilevel, arithmetic mean. Keys: the property names
/// (`metaOptimizer.lr`). The whole option set is explained in `docs/ICL-MSR.md`.
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

    /// Whether Φ = (M, w) is meta-learned (key `meta`).
    public enum Meta: String, Sendable, Codable, CaseIterable {
        /// The bi-level meta step of `ICLMSRStepper` (the paper's meta-learning).
        case bilevel
        /// No meta step at all: M and w keep their seeded initialization (w = 0, so a learned
        /// prior stays uniform) and no extra pass runs. Ablates what the meta-learning adds.
        case frozen
    }

    /// Where the meta step's finite difference evaluates the encoder (key `finiteDifference`).
    public enum FiniteDifference: String, Sendable, Codable, CaseIterable {
        /// Two forward passes, at θ + εg' and θ − εg': the DARTS central difference, error O(ε²).
        case central
        /// One forward pass at θ + εg'; the vectors at θ − εg' are taken as `2z − z⁺`, `z` the
        /// iteration's own pass at θ. One encoder forward fewer per meta step, error O(ε) (the
        /// encoder's curvature; docs/ICL-MSR.md "The meta step").
        case reflected
    }

    /// How the K strata and the prior P(b) form `L_MSR` (key `form`).
    public enum Form: String, Sendable, Codable, CaseIterable {
        /// `Σ_k P(b_k) L_base(stratum k)`: the prior-weighted arithmetic mean of the K
        /// per-stratum losses. Works with every method.
        case arithmeticMean = "arithmetic-mean"
        /// One cross-entropy of the normalized prior-weighted geometric mean (NWGM) of the K
        /// per-stratum softmax distributions, i.e. of the prior-averaged logits
        /// `Σ_k P(b_k) S_k`. Only for methods whose loss is a softmax cross-entropy over
        /// similarity logits (`SoftmaxContrastiveMethod`: SimCLR, MoCo v2).
        case geometricMean = "geometric-mean"

        /// The methods this form can regularize.
        public var supportedMethods: [MethodName] {
            switch self {
            case .arithmeticMean: return MethodName.allCases
            case .geometricMean: return [.simclr, .mocov2]
            }
        }
    }

    /// The optimizer of Φ = (M, w).
    public struct MetaOptimizer: Sendable, Equatable, Codable {
        public enum Kind: String, Sendable, Codable, CaseIterable { case sgd, adam }
        public var kind: Kind
        public var lr: Float
        /// SGD momentum; `nil`: 0.9 with SGD. Adam (β 0.9, 0.999) takes none.
        public var momentum: Float?
        /// `nil`: 5e-4 with SGD (MetaMask), 0 with Adam.
        public var weightDecay: Float?

        public init(kind: Kind = .sgd, lr: Float = 1e-3, momentum: Float? = nil, weightDecay: Float? = nil) {
            (self.kind, self.lr, self.momentum, self.weightDecay) = (kind, lr, momentum, weightDecay)
        }

        /// SGD with momentum (defaults: MetaMask's 1e-3, 0.9, 5e-4).
        public static func sgd(lr: Float = 1e-3, momentum: Float = 0.9, weightDecay: Float = 5e-4) -> MetaOptimizer {
            MetaOptimizer(kind: .sgd, lr: lr, momentum: momentum, weightDecay: weightDecay)
        }

        /// Adam with decoupled weight decay.
        public static func adam(lr: Float = 1e-3, weightDecay: Float = 0) -> MetaOptimizer {
            MetaOptimizer(kind: .adam, lr: lr, momentum: nil, weightDecay: weightDecay)
        }

        /// The momentum actually used (0 for Adam).
        public var effectiveMomentum: Float { kind == .sgd ? (momentum ?? 0.9) : 0 }
        /// The weight decay actually used.
        public var effectiveWeightDecay: Float { weightDecay ?? (kind == .sgd ? 5e-4 : 0) }

        /// A copy with every default made explicit.
        public func resolved() -> MetaOptimizer {
            var o = self
            if kind == .sgd { o.momentum = effectiveMomentum }
            o.weightDecay = effectiveWeightDecay
            return o
        }

        /// - Throws: `InvalidOption` naming `lr`, `momentum` or `weightDecay`.
        public func validate() throws {
            guard lr.isFinite, lr > 0 else { throw InvalidOption(key: "lr", value: lr, reason: "must be finite and > 0") }
            if let m = momentum {
                guard kind == .sgd else { throw InvalidOption(key: "momentum", value: m, reason: "applies only to the sgd meta optimizer") }
                guard (0..<1).contains(m) else { throw InvalidOption(key: "momentum", value: m, reason: "must lie in [0, 1)") }
            }
            if let wd = weightDecay, !(wd.isFinite && wd >= 0) { throw InvalidOption(key: "weightDecay", value: wd, reason: "must be finite and ≥ 0") }
        }
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
    public var metaInterval: Int = ICLMSROptions.defaultMetaInterval
    /// 3: a meta step costs ≈ 1.2–2 plain steps (virtual pass, perturbed forwards, hypergradient),
    /// so with one on every iteration an ICL-MSR step costs 2.2–3.0× a plain one; every 3rd,
    /// 1.4–1.8× for all five methods (docs/ICL-MSR.md, "Cost per step"). 1 is the design's schedule.
    public static let defaultMetaInterval = 3
    public var metaOptimizer: MetaOptimizer = .sgd()
    public var metaGradient: MetaGradient = .shared
    /// `frozen` skips the meta step (then `virtualLR`, `fdRadius`, `metaInterval`,
    /// `metaOptimizer` and `metaGradient` have no effect).
    public var meta: Meta {
        get { storedMeta ?? .bilevel }
        set { storedMeta = newValue == .bilevel ? nil : newValue }
    }
    public var form: Form {
        get { storedForm ?? .arithmeticMean }
        set { storedForm = newValue == .arithmeticMean ? nil : newValue }
    }
    public var finiteDifference: FiniteDifference {
        get { storedFiniteDifference ?? .central }
        set { storedFiniteDifference = newValue == .central ? nil : newValue }
    }
    // Stored only when not the default, so configurations written before these options existed
    // keep their canonical JSON (and hash): a finished cell is not rerun for a new default key.
    private var storedMeta: Meta?
    private var storedForm: Form?
    private var storedFiniteDifference: FiniteDifference?

    enum CodingKeys: String, CodingKey {
        case strata, weight, prior, injection, strataScale, virtualLR, fdRadius, metaInterval, metaOptimizer, metaGradient
        case storedMeta = "meta", storedForm = "form", storedFiniteDifference = "finiteDifference"
    }

    public init(strata: Int = 16, weight: Float = 1, prior: Prior = .learned, injection: Injection = .additive,
                strataScale: Float = 0.5, virtualLR: Float? = nil, fdRadius: Float = 0.01, metaInterval: Int = defaultMetaInterval,
                metaOptimizer: MetaOptimizer = .sgd(), metaGradient: MetaGradient = .shared,
                meta: Meta = .bilevel, form: Form = .arithmeticMean, finiteDifference: FiniteDifference = .central) {
        (self.strata, self.weight, self.prior, self.injection, self.strataScale) = (strata, weight, prior, injection, strataScale)
        (self.virtualLR, self.fdRadius, self.metaInterval, self.metaOptimizer, self.metaGradient) = (virtualLR, fdRadius, metaInterval, metaOptimizer, metaGradient)
        self.meta = meta
        self.form = form
        self.finiteDifference = finiteDifference
    }

    /// - Throws: `InvalidOption` naming the first invalid option by its key (`strata`,
    ///   `metaOptimizer.lr`).
    public func validate() throws {
        func bad(_ key: String, _ value: Any, _ reason: String) -> InvalidOption { InvalidOption(key: key, value: value, reason: reason) }
        guard strata >= 1 else { throw bad("strata", strata, "K must be at least 1") }
        guard weight.isFinite, weight >= 0 else { throw bad("weight", weight, "λ must be finite and ≥ 0") }
        guard strataScale.isFinite, strataScale >= 0 else { throw bad("strataScale", strataScale, "must be finite and ≥ 0") }
        if let a = virtualLR { guard a.isFinite, a > 0 else { throw bad("virtualLR", a, "α must be finite and > 0 (omit it to use the encoder lr)") } }
        guard fdRadius.isFinite, fdRadius > 0 else { throw bad("fdRadius", fdRadius, "r must be finite and > 0") }
        guard metaInterval >= 1 else { throw bad("metaInterval", metaInterval, "must be at least 1") }
        do { try metaOptimizer.validate() } catch let e as InvalidOption { throw e.scoped("metaOptimizer") }
    }

    /// `validate()`, plus whether `form` can regularize `method`.
    /// - Throws: `InvalidOption` naming `form` when the method's loss has no softmax logits.
    public func validate(for method: MethodName) throws {
        try validate()
        guard form.supportedMethods.contains(method) else {
            throw InvalidOption(key: "form", value: form.rawValue,
                                reason: "needs a softmax cross-entropy loss over similarity logits, which \(method.rawValue) does not have; "
                                    + "use it with \(form.supportedMethods.map(\.rawValue).joined(separator: " or ")), "
                                    + "or form: \(Form.arithmeticMean.rawValue) with \(method.rawValue)")
        }
    }
}
