import TensorCore

/// Layer-wise adaptive rate scaling on top of SGD with momentum, as solo-learn's `LARS`
/// (the optimizer its Barlow Twins, BYOL and SimCLR recipes use).
///
/// For each parameter `p` with gradient `∇` (λ = 0 where `excludeFromWeightDecay` matches):
///
///     d ← ∇ + λ·p
///     unless excludeFromAdaptation matches p:
///         q ← η·‖p‖ / (‖∇‖ + λ·‖p‖ + ε)      (.sumOfNorms, solo-learn and You et al. eq. 6)
///         q ← η·‖p‖ / ‖∇ + λ·p‖              (.updateNorm, the Barlow Twins reference)
///         q ← min(q / lr, 1)                 if clip (solo-learn's clip_lars_lr)
///         d ← q·d
///     b ← d on the first step, else μ·b + (1 − dampening)·d
///     d ← d + μ·b if Nesterov, else b
///     p ← p − lr·d
///
/// With `clip` the effective step size is `lr·min(q/lr, 1) = min(q, lr)`: the layer never moves
/// faster than plain SGD would at the scheduled rate. A learning rate of 0 gives `q/lr = ∞`, so
/// the clipped ratio is 1 (as in solo-learn, where the division yields `inf`).
///
/// When the trust ratio is undefined (‖p‖ = 0, or ‖∇‖ = 0 for `.sumOfNorms`, ‖d‖ = 0 for
/// `.updateNorm`), `q = 1`. In that case solo-learn also skips the weight-decay term (it adds
/// `λ·p` inside its LARS branch); `.sumOfNorms` reproduces that, `.updateNorm` keeps it, as the
/// Barlow Twins code does.
///
/// To reproduce solo-learn's `exclude_bias_n_norm_lars=True`, pass `.biasesAndNorms` for both
/// selectors: solo-learn applies weight decay only to parameters it adapts.
///
/// Per-parameter state: `momentum_buffer.<parameter name>` (absent until the first step, and
/// never created when `momentum == 0`).
///
/// References: You, Gitman & Ginsburg, "Large Batch Training of Convolutional Networks",
/// arXiv:1708.03888, 2017. Zbontar et al., "Barlow Twins: Self-Supervised Learning via Redundancy
/// Reduction", ICML 2021. da Costa et al., "solo-learn: A Library of Self-supervised Methods for
/// Visual Representation Learning", JMLR 2022.
public final class LARS: Optimizer {
    /// How the trust ratio's denominator is formed.
    public enum TrustRatio: String, Sendable, Codable {
        /// `‖∇‖ + λ·‖p‖ + ε` (You et al. eq. 6; solo-learn, PyTorch Lightning Bolts).
        case sumOfNorms
        /// `‖∇ + λ·p‖` (facebookresearch/barlowtwins), no ε.
        case updateNorm
    }

    public let parameters: [NamedParameter]
    public let momentum: Float, dampening: Float, nesterov: Bool, weightDecay: Float
    /// The trust coefficient η.
    public let eta: Float
    /// ε in the `.sumOfNorms` denominator.
    public let eps: Float
    /// Clip the adapted rate at the scheduled one (solo-learn's `clip_lars_lr`).
    public let clip: Bool
    public let trustRatio: TrustRatio
    public let excludeFromWeightDecay: ParameterSelector
    public let excludeFromAdaptation: ParameterSelector
    private var buffers: [String: Tensor] = [:]

    /// - Parameters:
    ///   - parameters: the parameters to train, with their dotted names.
    ///   - momentum: μ (solo-learn's recipes use 0.9).
    ///   - eta: the trust coefficient η (0.02 as in solo-learn's Barlow Twins configs; the paper's
    ///     default is 0.001).
    ///   - eps: added to the `.sumOfNorms` denominator.
    ///   - clip: use `min(q/lr, 1)` as the scale (solo-learn's `clip_lars_lr`).
    ///   - trustRatio: the denominator convention (default solo-learn's).
    ///   - excludeFromWeightDecay, excludeFromAdaptation: parameters that get λ = 0 / q = 1.
    /// - Precondition: Nesterov momentum needs `momentum > 0` and zero dampening.
    public init(_ parameters: [NamedParameter], momentum: Float = 0.9, dampening: Float = 0, nesterov: Bool = false,
                weightDecay: Float = 0, eta: Float = 0.02, eps: Float = 1e-8, clip: Bool = false,
                trustRatio: TrustRatio = .sumOfNorms,
                excludeFromWeightDecay: ParameterSelector = .none, excludeFromAdaptation: ParameterSelector = .none) {
        precondition(!nesterov || (momentum > 0 && dampening == 0), "LARS: Nesterov momentum needs momentum > 0 and zero dampening")
        (self.parameters, self.momentum, self.dampening, self.nesterov, self.weightDecay) = (parameters, momentum, dampening, nesterov, weightDecay)
        (self.eta, self.eps, self.clip, self.trustRatio) = (eta, eps, clip, trustRatio)
        self.excludeFromWeightDecay = excludeFromWeightDecay
        self.excludeFromAdaptation = excludeFromAdaptation
    }

    public func step(_ gradients: Gradients, learningRate lr: Float, allowMissingGradients: Bool) throws {
        for p in parameters {
            guard let grad = try gradient(of: p, in: gradients, allowMissing: allowMissingGradients) else { continue }
            var wd = excludeFromWeightDecay.matches(p.name, p.parameter.shape) ? 0 : weightDecay
            let g = grad.pointer, w = p.parameter.value.pointer, n = grad.count

            var scale: Float = 1
            if !excludeFromAdaptation.matches(p.name, p.parameter.shape) {
                var pp: Double = 0, gg: Double = 0, dd: Double = 0
                for i in 0..<n {
                    let (wi, gi) = (Double(w[i]), Double(g[i])), di = gi + Double(wd) * wi
                    pp += wi * wi; gg += gi * gi; dd += di * di
                }
                let pNorm = Float(pp.squareRoot()), gNorm = Float(gg.squareRoot()), dNorm = Float(dd.squareRoot())
                var q: Float?
                switch trustRatio {
                case .sumOfNorms:
                    if pNorm > 0 && gNorm > 0 { q = eta * pNorm / (gNorm + wd * pNorm + eps) } else { wd = 0 }
                case .updateNorm:
                    if pNorm > 0 && dNorm > 0 { q = eta * pNorm / dNorm }
                }
                if var q {
                    if clip { q = Swift.min(q / lr, 1) }
                    scale = q
                }
            }

            var d = Tensor.uninitialized(p.parameter.shape)
            d.withMutableStorage { db in for i in 0..<n { db[i] = scale * (g[i] + wd * w[i]) } }
            let dp = d.pointer
            guard momentum != 0 else {
                updateInPlace(p) { v in for i in 0..<n { v[i] -= lr * dp[i] } }
                continue
            }
            let (mu, damp) = (momentum, dampening)
            var b = d  // the first step's buffer is d itself (shared storage, copied on first write)
            if var existing = buffers.removeValue(forKey: p.name) {
                existing.withMutableStorage { bb in for i in 0..<n { bb[i] = mu * bb[i] + (1 - damp) * dp[i] } }
                b = existing
            }
            let bp = b.pointer, nesterov = self.nesterov
            updateInPlace(p) { v in for i in 0..<n { v[i] -= lr * (nesterov ? dp[i] + mu * bp[i] : bp[i]) } }
            buffers[p.name] = b
        }
    }

    public func stateTensors() -> [(name: String, tensor: Tensor)] { momentumStateTensors(buffers) }

    public func loadStateTensors(_ tensors: [String: Tensor]) throws { buffers = try loadMomentumBuffers(tensors) }
}
