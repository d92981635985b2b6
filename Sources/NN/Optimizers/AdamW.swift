import Foundation
import TensorCore

/// Adam with decoupled weight decay, exactly as `torch.optim.AdamW` (amsgrad off, maximize off).
///
/// For each parameter `p` with gradient `∇` (λ = 0 where `excludeFromWeightDecay` matches) and its
/// own step count `t` (incremented before use):
///
///     p ← p − lr·λ·p
///     m ← β₁·m + (1 − β₁)·∇
///     v ← β₂·v + (1 − β₂)·∇²
///     p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
///
/// ε is added outside the square root, after the second-moment bias correction, as PyTorch does.
///
/// Per-parameter state: `exp_avg.<name>`, `exp_avg_sq.<name>` (shape of the parameter) and
/// `step.<name>` (a scalar holding `t`), all created on the parameter's first step.
///
/// References: Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019.
/// Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015.
public final class AdamW: Optimizer {
    public let parameters: [NamedParameter]
    public let beta1: Float, beta2: Float, eps: Float, weightDecay: Float
    public let excludeFromWeightDecay: ParameterSelector

    private struct Moments { var m: Tensor, v: Tensor, step: Int }
    private var state: [String: Moments] = [:]

    /// - Parameters:
    ///   - parameters: the parameters to train, with their dotted names.
    ///   - beta1, beta2: moment decay rates (PyTorch defaults 0.9, 0.999).
    ///   - eps: added to the bias-corrected √v (PyTorch default 1e-8).
    ///   - weightDecay: λ of the decoupled decay (PyTorch default 0.01).
    ///   - excludeFromWeightDecay: parameters that get λ = 0 (e.g. `.biasesAndNorms`).
    public init(_ parameters: [NamedParameter], beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8,
                weightDecay: Float = 0.01, excludeFromWeightDecay: ParameterSelector = .none) {
        precondition((0..<1).contains(beta1) && (0..<1).contains(beta2), "AdamW: betas must lie in [0, 1), got (\(beta1), \(beta2))")
        (self.parameters, self.beta1, self.beta2, self.eps, self.weightDecay) = (parameters, beta1, beta2, eps, weightDecay)
        self.excludeFromWeightDecay = excludeFromWeightDecay
    }

    public func step(_ gradients: Gradients, learningRate lr: Float, allowMissingGradients: Bool) throws {
        for p in parameters {
            guard let grad = try gradient(of: p, in: gradients, allowMissing: allowMissingGradients) else { continue }
            let wd = excludeFromWeightDecay.matches(p.name, p.parameter.shape) ? 0 : weightDecay
            var s = state.removeValue(forKey: p.name)
                ?? Moments(m: .zeros(p.parameter.shape), v: .zeros(p.parameter.shape), step: 0)
            s.step += 1
            let (b1, b2) = (beta1, beta2)
            let g = grad.pointer
            s.m.withMutableStorage { m in for i in 0..<m.count { m[i] = b1 * m[i] + (1 - b1) * g[i] } }
            s.v.withMutableStorage { v in for i in 0..<v.count { v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i] } }
            // Bias corrections in Double, then rounded once, as PyTorch computes them on Python floats.
            let bc1 = 1 - Foundation.pow(Double(b1), Double(s.step))
            let bc2Sqrt = Float((1 - Foundation.pow(Double(b2), Double(s.step))).squareRoot())
            let stepSize = Float(Double(lr) / bc1), eps = self.eps, decay = Float(1 - Double(lr) * Double(wd))
            let mp = s.m.pointer, vp = s.v.pointer
            updateInPlace(p) { w in
                for i in 0..<w.count {
                    w[i] *= decay
                    w[i] -= stepSize * (mp[i] / (vp[i].squareRoot() / bc2Sqrt + eps))
                }
            }
            state[p.name] = s
        }
    }

    public func stateTensors() -> [(name: String, tensor: Tensor)] {
        parameters.flatMap { p -> [(name: String, tensor: Tensor)] in
            guard let s = state[p.name] else { return [] }
            return [("exp_avg.\(p.name)", s.m), ("exp_avg_sq.\(p.name)", s.v), ("step.\(p.name)", Tensor(Float(s.step)))]
        }
    }

    /// Restores state saved by `stateTensors()`; a parameter's three entries must come together.
    public func loadStateTensors(_ tensors: [String: Tensor]) throws {
        let byName = Dictionary(uniqueKeysWithValues: parameters.map { ($0.name, $0) })
        var m: [String: Tensor] = [:], v: [String: Tensor] = [:], steps: [String: Int] = [:]
        for (key, t) in tensors {
            guard let dot = key.firstIndex(of: "."), let p = byName[String(key[key.index(after: dot)...])] else {
                throw OptimizerError.unknownStateKey(key)
            }
            switch key[..<dot] {
            case "exp_avg", "exp_avg_sq":
                guard t.shape == p.parameter.shape else { throw OptimizerError.stateShape(key: key, expected: p.parameter.shape, actual: t.shape) }
                if key.hasPrefix("exp_avg_sq.") { v[p.name] = t.detached() } else { m[p.name] = t.detached() }
            case "step":
                guard t.count == 1 else { throw OptimizerError.stateShape(key: key, expected: [], actual: t.shape) }
                let value = t.scalars[0]
                guard value.isFinite, value >= 1, value.rounded() == value else { throw OptimizerStateError.invalidValue(key: key, reason: "step \(value) is not a positive integer") }
                steps[p.name] = Int(value)
            default:
                throw OptimizerError.unknownStateKey(key)
            }
        }
        var loaded: [String: Moments] = [:]
        for name in Set(m.keys).union(v.keys).union(steps.keys) {
            guard let mm = m[name] else { throw OptimizerStateError.missing(key: "exp_avg.\(name)", reason: "other AdamW state for '\(name)' is present") }
            guard let vv = v[name] else { throw OptimizerStateError.missing(key: "exp_avg_sq.\(name)", reason: "other AdamW state for '\(name)' is present") }
            guard let st = steps[name] else { throw OptimizerStateError.missing(key: "step.\(name)", reason: "other AdamW state for '\(name)' is present") }
            loaded[name] = Moments(m: mm, v: vv, step: st)
        }
        state = loaded
    }
}

/// A checkpoint's optimizer state is incomplete or holds an impossible value.
public enum OptimizerStateError: Error, CustomStringConvertible {
    case missing(key: String, reason: String)
    case invalidValue(key: String, reason: String)

    public var description: String {
        switch self {
        case .missing(let k, let r): return "optimizer state: '\(k)' is missing (\(r)); the checkpoint is incomplete"
        case .invalidValue(let k, let r): return "optimizer state '\(k)': \(r)"
        }
    }
}
