import Foundation
import NN
import TensorCore
import TestSupport
import Testing

/// Hand-computed values over a few steps for SGD, and naive Double references for LARS and AdamW.
@Suite struct SGDTests {
    let g1: [Float] = [0.5, 1], g2: [Float] = [-1, 2], g3: [Float] = [0, 0]

    /// Runs `optimizer` on one parameter starting at [1, −2] with the given gradients.
    func run(_ make: ([NamedParameter]) -> any Optimizer, lr: Float = 0.1, grads: [[Float]]) throws -> [[Float]] {
        let p = Parameter(Tensor(shape: [2], [1, -2]))
        let opt = make([NamedParameter(name: "w", parameter: p)])
        var trace: [[Float]] = []
        for g in grads {
            try opt.step(gradients([(p, g)]), learningRate: lr)
            trace.append(p.value.scalars)
        }
        return trace
    }

    @Test func plain() throws {
        let t = try run({ SGD($0) }, grads: [g1, g2])
        #expect(allClose(t[0], [0.95, -2.1]))
        #expect(allClose(t[1], [1.05, -2.3]))
    }

    @Test func momentum() throws {
        // b₁ = g₁; b₂ = 0.9·b₁ + g₂ = [−0.55, 2.9]; b₃ = 0.9·b₂ = [−0.495, 2.61].
        let t = try run({ SGD($0, momentum: 0.9) }, grads: [g1, g2, g3])
        #expect(allClose(t[0], [0.95, -2.1]))
        #expect(allClose(t[1], [1.005, -2.39]))
        #expect(allClose(t[2], [1.0545, -2.651]))
    }

    @Test func nesterov() throws {
        // d₁ = g₁ + 0.9·g₁ = [0.95, 1.9]; d₂ = g₂ + 0.9·[−0.55, 2.9] = [−1.495, 4.61].
        let t = try run({ SGD($0, momentum: 0.9, nesterov: true) }, grads: [g1, g2])
        #expect(allClose(t[0], [0.905, -2.19]))
        #expect(allClose(t[1], [1.0545, -2.651]))
    }

    @Test func dampening() throws {
        // The first step uses the gradient undampened (PyTorch); b₂ = 0.9·g₁ + 0.5·g₂ = [−0.05, 1.9].
        let t = try run({ SGD($0, momentum: 0.9, dampening: 0.5) }, grads: [g1, g2])
        #expect(allClose(t[0], [0.95, -2.1]))
        #expect(allClose(t[1], [0.955, -2.29]))
    }

    @Test func weightDecayExcludesBiasesAndNorms() throws {
        let w = Parameter(Tensor(shape: [1, 2], [1, -2])), b = Parameter(Tensor(shape: [2], [1, -2]))
        let opt = SGD([NamedParameter(name: "fc.weight", parameter: w), NamedParameter(name: "fc.bias", parameter: b)],
                      weightDecay: 0.1, excludeFromWeightDecay: .biasesAndNorms)
        try opt.step(gradients([(w, g1), (b, g1)]), learningRate: 0.1)
        // weight: d = g + 0.1·w = [0.6, 0.8]; bias: d = g.
        #expect(allClose(w.value.scalars, [0.94, -2.08]))
        #expect(allClose(b.value.scalars, [0.95, -2.1]))
        try opt.step(gradients([(w, g2), (b, g2)]), learningRate: 0.1)
        // weight: d = [−1 + 0.094, 2 − 0.208] = [−0.906, 1.792].
        #expect(allClose(w.value.scalars, [1.0306, -2.2592]))
        #expect(allClose(b.value.scalars, [1.05, -2.3]))
    }

    @Test func missingGradientThrowsUnlessAllowed() throws {
        let a = Parameter(Tensor(shape: [2], [1, 2])), b = Parameter(Tensor(shape: [2], [3, 4]))
        let opt = SGD([NamedParameter(name: "a", parameter: a), NamedParameter(name: "b", parameter: b)])
        let g = gradients([(a, g1)])
        #expect(throws: OptimizerError.self) { try opt.step(g, learningRate: 0.1) }
        try opt.step(gradients([(a, g1)]), learningRate: 0.1, allowMissingGradients: true)
        #expect(b.value.scalars == [3, 4])
    }

    @Test func stateRoundTrip() throws {
        try checkStateRoundTrip { SGD($0, momentum: 0.9, weightDecay: 0.01) }
    }
}

/// Checks that `stateTensors` → `loadStateTensors` into a fresh optimizer continues identically,
/// and that unknown keys and wrong shapes are rejected.
func checkStateRoundTrip(_ make: ([NamedParameter]) -> any Optimizer) throws {
    var rng = SeededRNG(seed: 3)
    let initial = Tensor.normal([3, 2], rng: &rng)
    let gs = (0..<4).map { _ in Tensor.normal([3, 2], rng: &rng).scalars }
    let p1 = Parameter(initial), p2 = Parameter(initial)
    let o1 = make([NamedParameter(name: "layer.weight", parameter: p1)])
    for g in gs.prefix(2) { try o1.step(gradients([(p1, g)]), learningRate: 0.05) }
    let saved = o1.stateTensors()
    #expect(!saved.isEmpty)
    p2.value = p1.value
    let o2 = make([NamedParameter(name: "layer.weight", parameter: p2)])
    try o2.loadStateTensors(Dictionary(uniqueKeysWithValues: saved.map { ($0.name, $0.tensor) }))
    for g in gs.dropFirst(2) {
        try o1.step(gradients([(p1, g)]), learningRate: 0.05)
        try o2.step(gradients([(p2, g)]), learningRate: 0.05)
    }
    #expect(bits(p1.value) == bits(p2.value))

    let first = saved[0]
    #expect(throws: OptimizerError.self) { try o2.loadStateTensors([first.name + "x": first.tensor]) }
    #expect(throws: OptimizerError.self) { try o2.loadStateTensors(["nonsense": first.tensor]) }
    #expect(throws: OptimizerError.self) { try o2.loadStateTensors([first.name: Tensor.zeros([2, 3])]) }
}

// MARK: - LARS

/// A naive LARS in Double following solo-learn's `LARS.step` line by line (plus the Barlow Twins
/// denominator for `.updateNorm`).
struct ReferenceLARS {
    var momentum = 0.9, dampening = 0.0, nesterov = false, weightDecay = 0.0, eta = 0.02, eps = 1e-8, clip = false
    var updateNorm = false
    var buffers: [String: [Double]] = [:]

    mutating func step(_ name: String, _ p: inout [Double], _ g: [Double], lr: Double, excludeWD: Bool, excludeAdapt: Bool) {
        let wd = excludeWD ? 0 : weightDecay
        var d = g
        var applyDecay = true
        if !excludeAdapt {
            let pNorm = p.map { $0 * $0 }.reduce(0, +).squareRoot()
            let gNorm = g.map { $0 * $0 }.reduce(0, +).squareRoot()
            let u = zip(g, p).map { $0 + wd * $1 }, uNorm = u.map { $0 * $0 }.reduce(0, +).squareRoot()
            var q: Double? = nil
            if updateNorm {
                if pNorm > 0 && uNorm > 0 { q = eta * pNorm / uNorm }
            } else if pNorm != 0 && gNorm != 0 {
                q = eta * pNorm / (gNorm + pNorm * wd + eps)
            } else {
                applyDecay = false
            }
            d = applyDecay ? u : g
            if var q {
                if clip { q = min(q / lr, 1) }
                d = d.map { $0 * q }
            }
        } else {
            d = zip(g, p).map { $0 + wd * $1 }
        }
        if momentum != 0 {
            if var b = buffers[name] {
                b = zip(b, d).map { momentum * $0 + (1 - dampening) * $1 }
                buffers[name] = b
            } else {
                buffers[name] = d
            }
            let b = buffers[name]!
            d = nesterov ? zip(d, b).map { $0 + momentum * $1 } : b
        }
        p = zip(p, d).map { $0 - lr * $1 }
    }
}

@Suite struct LARSTests {
    /// ‖p‖ = 5, ‖g‖ = 1, η = 0.02 → q = 0.1.
    @Test func handComputedTrustRatio() throws {
        func once(lr: Float, clip: Bool) throws -> [Float] {
            let p = Parameter(Tensor(shape: [1, 2], [3, 4]))
            let opt = LARS([NamedParameter(name: "w", parameter: p)], momentum: 0, eta: 0.02, clip: clip)
            try opt.step(gradients([(p, [0.6, 0.8])]), learningRate: lr)
            return p.value.scalars
        }
        #expect(allClose(try once(lr: 1, clip: false), [2.94, 3.92]))      // p − 1·0.1·g
        #expect(allClose(try once(lr: 1, clip: true), [2.94, 3.92]))       // min(0.1/1, 1) = 0.1
        #expect(allClose(try once(lr: 0.05, clip: true), [2.97, 3.96]))    // min(0.1/0.05, 1) = 1 → plain SGD
        #expect(allClose(try once(lr: 0.05, clip: false), [2.997, 3.996]))   // 0.05·0.1·g
        #expect(allClose(try once(lr: 0, clip: true), [3, 4]))             // q/0 = ∞ → 1, lr 0 → no move
    }

    /// A rank-2 weight (adapted, decayed) and a rank-1 bias (excluded) against the reference.
    @Test(arguments: [
        (clip: false, updateNorm: false, nesterov: false, lr: 0.5),
        (clip: true, updateNorm: false, nesterov: false, lr: 0.5),
        (clip: true, updateNorm: false, nesterov: false, lr: 0.004),
        (clip: false, updateNorm: true, nesterov: false, lr: 0.5),
        (clip: false, updateNorm: false, nesterov: true, lr: 0.3),
    ])
    func matchesReference(_ c: (clip: Bool, updateNorm: Bool, nesterov: Bool, lr: Double)) throws {
        var rng = SeededRNG(seed: 11)
        let w0 = Tensor.normal([3, 4], rng: &rng), b0 = Tensor.normal([3], rng: &rng)
        let w = Parameter(w0), b = Parameter(b0)
        let opt = LARS([NamedParameter(name: "fc.weight", parameter: w), NamedParameter(name: "fc.bias", parameter: b)],
                       momentum: 0.9, nesterov: c.nesterov, weightDecay: 1e-2, eta: 0.02, clip: c.clip,
                       trustRatio: c.updateNorm ? .updateNorm : .sumOfNorms,
                       excludeFromWeightDecay: .biasesAndNorms, excludeFromAdaptation: .biasesAndNorms)
        var ref = ReferenceLARS(nesterov: c.nesterov, weightDecay: 1e-2, clip: c.clip, updateNorm: c.updateNorm)
        var rw = w0.scalars.map(Double.init), rb = b0.scalars.map(Double.init)
        for _ in 0..<3 {
            let gw = Tensor.normal([3, 4], rng: &rng).scalars, gb = Tensor.normal([3], rng: &rng).scalars
            try opt.step(gradients([(w, gw), (b, gb)]), learningRate: Float(c.lr))
            ref.step("fc.weight", &rw, gw.map(Double.init), lr: c.lr, excludeWD: false, excludeAdapt: false)
            ref.step("fc.bias", &rb, gb.map(Double.init), lr: c.lr, excludeWD: true, excludeAdapt: true)
        }
        #expect(allCloseToReference(w.value.scalars, rw, atol: 1e-6, rtol: 1e-5))
        #expect(allCloseToReference(b.value.scalars, rb, atol: 1e-6, rtol: 1e-5))
    }

    /// solo-learn leaves the gradient untouched (no trust ratio, no weight decay) when ‖p‖ = 0.
    @Test func zeroParameterSkipsScalingAndDecay() throws {
        let p = Parameter(Tensor.zeros([2, 2]))
        let opt = LARS([NamedParameter(name: "w", parameter: p)], momentum: 0, weightDecay: 0.5)
        try opt.step(gradients([(p, [1, 2, 3, 4])]), learningRate: 0.1)
        #expect(allClose(p.value.scalars, [-0.1, -0.2, -0.3, -0.4]))
    }

    @Test func stateRoundTrip() throws {
        try checkStateRoundTrip { LARS($0, momentum: 0.9, weightDecay: 1e-4, clip: true) }
    }
}

// MARK: - AdamW

/// A naive `torch.optim.AdamW` step in Double.
struct ReferenceAdamW {
    var beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0.01
    var m: [Double] = [], v: [Double] = [], t = 0

    mutating func step(_ p: inout [Double], _ g: [Double], lr: Double, decay: Bool) {
        if m.isEmpty { m = Array(repeating: 0, count: p.count); v = m }
        t += 1
        let wd = decay ? weightDecay : 0
        p = p.map { $0 * (1 - lr * wd) }
        m = zip(m, g).map { beta1 * $0 + (1 - beta1) * $1 }
        v = zip(v, g).map { beta2 * $0 + (1 - beta2) * $1 * $1 }
        let bc1 = 1 - pow(beta1, Double(t)), bc2 = 1 - pow(beta2, Double(t))
        for i in p.indices { p[i] -= lr / bc1 * m[i] / (v[i].squareRoot() / bc2.squareRoot() + eps) }
    }
}

@Suite struct AdamWTests {
    /// The first bias-corrected step is lr·g/(|g| + ε) ≈ lr·sign(g), after the decay p·(1 − lr·λ).
    @Test func firstStepByHand() throws {
        let p = Parameter(Tensor(shape: [2], [1, -2]))
        let opt = AdamW([NamedParameter(name: "w", parameter: p)], weightDecay: 0.01)
        try opt.step(gradients([(p, [0.5, -3])]), learningRate: 0.1)
        #expect(allClose(p.value.scalars, [0.899, -1.898]))
    }

    @Test func matchesReferenceWithExclusion() throws {
        var rng = SeededRNG(seed: 5)
        let w0 = Tensor.normal([2, 3], rng: &rng), b0 = Tensor.normal([2], rng: &rng)
        let w = Parameter(w0), b = Parameter(b0)
        let opt = AdamW([NamedParameter(name: "fc.weight", parameter: w), NamedParameter(name: "fc.bias", parameter: b)],
                        beta1: 0.8, beta2: 0.95, eps: 1e-6, weightDecay: 0.1, excludeFromWeightDecay: .biasesAndNorms)
        var rw = ReferenceAdamW(beta1: 0.8, beta2: 0.95, eps: 1e-6, weightDecay: 0.1), rb = rw
        var pw = w0.scalars.map(Double.init), pb = b0.scalars.map(Double.init)
        for step in 0..<3 {
            let lr = [0.01, 0.05, 0.02][step]
            let gw = Tensor.normal([2, 3], rng: &rng).scalars, gb = Tensor.normal([2], rng: &rng).scalars
            try opt.step(gradients([(w, gw), (b, gb)]), learningRate: Float(lr))
            rw.step(&pw, gw.map(Double.init), lr: lr, decay: true)
            rb.step(&pb, gb.map(Double.init), lr: lr, decay: false)
        }
        #expect(allCloseToReference(w.value.scalars, pw, atol: 1e-6, rtol: 1e-5))
        #expect(allCloseToReference(b.value.scalars, pb, atol: 1e-6, rtol: 1e-5))
        let state = Dictionary(uniqueKeysWithValues: opt.stateTensors().map { ($0.name, $0.tensor) })
        #expect(Set(state.keys) == ["exp_avg.fc.weight", "exp_avg_sq.fc.weight", "step.fc.weight",
                                    "exp_avg.fc.bias", "exp_avg_sq.fc.bias", "step.fc.bias"])
        #expect(state["step.fc.weight"]?.item == 3)
    }

    @Test func stateRoundTrip() throws {
        try checkStateRoundTrip { AdamW($0, weightDecay: 0.05) }
    }

    @Test func incompleteStateIsRejected() throws {
        let p = Parameter(Tensor.zeros([2]))
        let opt = AdamW([NamedParameter(name: "w", parameter: p)])
        #expect(throws: OptimizerStateError.self) { try opt.loadStateTensors(["exp_avg.w": .zeros([2]), "step.w": Tensor(1)]) }
        #expect(throws: OptimizerStateError.self) {
            try opt.loadStateTensors(["exp_avg.w": .zeros([2]), "exp_avg_sq.w": .zeros([2]), "step.w": Tensor(0.5)])
        }
    }
}
