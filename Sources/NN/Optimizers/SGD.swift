import TensorCore

/// Stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay (added to
/// the gradient; a selector can exclude parameters), exactly as `torch.optim.SGD`:
///
///     g ← ∇ + λ·p            (λ = 0 for parameters the exclusion selector picks)
///     b ← g on the first step, else μ·b + (1 − dampening)·g
///     g ← g + μ·b if Nesterov, else b
///     p ← p − lr·g
///
/// References: Sutskever et al., "On the importance of initialization and momentum in deep
/// learning", ICML 2013.
public final class SGD: Optimizer {
    public let parameters: [NamedParameter]
    public let momentum: Float, dampening: Float, nesterov: Bool, weightDecay: Float
    public let excludeFromWeightDecay: ParameterSelector
    private var buffers: [String: Tensor] = [:]

    public init(_ parameters: [NamedParameter], momentum: Float = 0, dampening: Float = 0, nesterov: Bool = false,
                weightDecay: Float = 0, excludeFromWeightDecay: ParameterSelector = .none) {
        precondition(!nesterov || (momentum > 0 && dampening == 0), "SGD: Nesterov momentum needs momentum > 0 and zero dampening")
        (self.parameters, self.momentum, self.dampening, self.nesterov, self.weightDecay) = (parameters, momentum, dampening, nesterov, weightDecay)
        self.excludeFromWeightDecay = excludeFromWeightDecay
    }

    public func step(_ gradients: Gradients, learningRate lr: Float, allowMissingGradients: Bool) throws {
        for p in parameters {
            guard let grad = try gradient(of: p, in: gradients, allowMissing: allowMissingGradients) else { continue }
            let wd = excludeFromWeightDecay.matches(p.name, p.parameter.shape) ? 0 : weightDecay
            let g = grad.pointer
            let (mu, damp, nesterov) = (momentum, dampening, self.nesterov)
            var buffer = buffers.removeValue(forKey: p.name)
            let first = buffer == nil
            if momentum != 0 && first { buffer = Tensor.zeros(p.parameter.shape) }
            let value = p.parameter.value.pointer
            if var b = buffer {
                b.withMutableStorage { bb in
                    for i in 0..<bb.count {
                        let d = g[i] + wd * value[i]
                        bb[i] = first ? d : mu * bb[i] + (1 - damp) * d
                    }
                }
                let bp = b.pointer
                updateInPlace(p) { w in
                    for i in 0..<w.count {
                        let d = g[i] + wd * w[i]
                        w[i] -= lr * (nesterov ? d + mu * bp[i] : bp[i])
                    }
                }
                buffers[p.name] = b
            } else {
                updateInPlace(p) { w in for i in 0..<w.count { w[i] -= lr * (g[i] + wd * w[i]) } }
            }
        }
    }

    public func stateTensors() -> [(name: String, tensor: Tensor)] { momentumStateTensors(buffers) }

    public func loadStateTensors(_ tensors: [String: Tensor]) throws { buffers = try loadMomentumBuffers(tensors) }
}
