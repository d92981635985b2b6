import TensorCore

/// The options of ICL-MSR (every choice of our reconstruction is one of them; spec key `iclmsr`).
///
/// From the paper: background strata as learnable "meta semantic" vectors, a backdoor
/// adjustment with the prior P(b), a regularizer added to any CL method, trained by
/// meta-learning. Backdrop's reconstruction (options here): the injection forms, `L_MSR` as the
/// prior-weighted base loss, the learned-vs-uniform prior, `strataScale`, the one-step virtual
/// update with α = `virtualLR`, the DARTS finite difference with radius `fdRadius`,
/// `metaInterval`, the meta-optimizer (MetaMask's SGD 1e-3 / 0.9 / 5e-4) and `metaGradient`.
/// Defaults: K 16, λ 1, learned prior, additive, σ 0.5, α = encoder lr, r 0.01, every step,
/// SGD(1e-3, 0.9, 5e-4), shared gradient. Keys: the property names (`metaOptimizer.lr`).
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
    public var metaInterval: Int = 1
    public var metaOptimizer: MetaOptimizer = .sgd()
    public var metaGradient: MetaGradient = .shared

    public init(strata: Int = 16, weight: Float = 1, prior: Prior = .learned, injection: Injection = .additive,
                strataScale: Float = 0.5, virtualLR: Float? = nil, fdRadius: Float = 0.01, metaInterval: Int = 1,
                metaOptimizer: MetaOptimizer = .sgd(), metaGradient: MetaGradient = .shared) {
        (self.strata, self.weight, self.prior, self.injection, self.strataScale) = (strata, weight, prior, injection, strataScale)
        (self.virtualLR, self.fdRadius, self.metaInterval, self.metaOptimizer, self.metaGradient) = (virtualLR, fdRadius, metaInterval, metaOptimizer, metaGradient)
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
}
