import Foundation
import Testing
import TensorCore
import TestSupport

@Suite struct BatchNormTests {
    // Planes of 6, 35 (two 16-wide SIMD blocks + 3) and 17 elements exercise the vector remainders.
    @Test(arguments: [[4, 3], [2, 3], [3, 2, 2, 3], [1, 2, 3, 2], [2, 3, 5, 7], [3, 2, 1, 17]])
    func forwardMatchesNaive(_ shape: [Int]) {
        var rng = SeededRNG(seed: 40)
        let x = rng.tensor(shape, -2, 3)
        let c = shape[1]
        let gamma = rng.tensor([c], 0.5, 2), beta = rng.tensor([c])
        let (y, stats) = Tensor.batchNorm(x, gamma: gamma, beta: beta, eps: 1e-5)
        let (ref, means, vars) = naiveBatchNorm(x, gamma: gamma.scalars, beta: beta.scalars, eps: 1e-5)
        expectClose(y, ref, tol: 1e-4)
        #expect(stats.count == shape[0] * (shape.count == 4 ? shape[2] * shape[3] : 1))
        for ch in 0..<c {
            #expect(abs(Double(stats.mean[ch]) - means[ch]) < 1e-5)
            // The statistics carry the *biased* variance (divided by the count, not count − 1).
            #expect(abs(Double(stats.variance[ch]) - vars[ch]) < 1e-5)
        }
    }

    @Test(arguments: [[4, 3], [3, 2, 2, 3], [2, 2, 5, 7]])
    func gradients(_ shape: [Int]) {
        var rng = SeededRNG(seed: 41)
        let c = shape[1]
        let inputs = [rng.tensor(shape, -2, 2), rng.tensor([c], 0.5, 2), rng.tensor([c])]
        // Normalization divides by σ, so errors scale by γ/σ ≈ 2: eps 1e-3 keeps the curvature term small.
        expectGradient(inputs, eps: 1e-3, atol: 5e-3, "batchNorm \(shape)") {
            Tensor.batchNorm($0[0], gamma: $0[1], beta: $0[2], eps: 1e-5).0
        }
        expectGradient([inputs[0]], eps: 1e-3, atol: 5e-3, "batchNorm \(shape), x only") {
            Tensor.batchNorm($0[0], gamma: inputs[1], beta: inputs[2], eps: 1e-5).0
        }
    }

    /// `batchNormReLU` is `relu(batchNorm(x) [+ residual])` bit for bit: output, statistics and
    /// every gradient (x, γ, β, residual), on planes with and without vector remainders, rank 2 and
    /// 4, and one big enough to split channels across workers.
    @Test(arguments: [[6, 3], [3, 2, 2, 3], [2, 3, 5, 7], [3, 2, 1, 17], [16, 8, 16, 16]], [false, true])
    func fusedReLUMatchesTheOpsInTurn(_ shape: [Int], _ withResidual: Bool) {
        var rng = SeededRNG(seed: 45)
        let c = shape[1]
        let x = rng.tensor(shape, -2, 2).trackedLeaf()
        let gamma = rng.tensor([c], 0.5, 2).trackedLeaf(), beta = rng.tensor([c], -0.5, 0.5).trackedLeaf()
        let residual = rng.tensor(shape, -1, 1).trackedLeaf(), upstream = rng.tensor(shape)
        let (fused, stats) = Tensor.batchNormReLU(x, gamma: gamma, beta: beta, eps: 1e-5, adding: withResidual ? residual : nil)
        let (normalized, reference) = Tensor.batchNorm(x, gamma: gamma, beta: beta, eps: 1e-5)
        let inTurn = (withResidual ? normalized + residual : normalized).relu()
        #expect(fused.scalars == inTurn.scalars)
        #expect(fused.scalars.contains(0) && fused.scalars.contains { $0 > 0 }, "the test data must hit both sides of the ReLU")
        #expect(stats.mean == reference.mean && stats.variance == reference.variance && stats.count == reference.count)
        let leaves = withResidual ? [x, gamma, beta, residual] : [x, gamma, beta]
        let g = (fused * upstream).sum().gradients(for: leaves), gr = (inTurn * upstream).sum().gradients(for: leaves)
        for (leaf, name) in zip(leaves, ["x", "gamma", "beta", "residual"]) {
            #expect(g[leaf]!.scalars == gr[leaf]!.scalars, "d\(name)")
        }
    }

    /// `channelAffineReLU` without a graph (one pass) is the ops in turn bit for bit; with tracked
    /// inputs it records them (gradients flow), on a plane with remainders and one big enough to
    /// split across workers.
    @Test(arguments: [[5, 3, 5, 7], [16, 8, 16, 16]], [false, true])
    func channelAffineReLUMatchesTheOpsInTurn(_ shape: [Int], _ withResidual: Bool) {
        var rng = SeededRNG(seed: 47)
        let c = shape[1]
        let x = rng.tensor(shape, -2, 2), scale = rng.tensor([c], 0.5, 2), shift = rng.tensor([c], -0.5, 0.5)
        let residual = rng.tensor(shape, -1, 1)
        let affine = Tensor.channelAffine(x, scale: scale, shift: shift)
        let inTurn = (withResidual ? affine + residual : affine).relu()
        let onePass = withoutGradients { Tensor.channelAffineReLU(x, scale: scale, shift: shift, adding: withResidual ? residual : nil) }
        #expect(onePass.scalars == inTurn.scalars)
        #expect(!onePass.isTracked && onePass.scalars.contains(0) && onePass.scalars.contains { $0 > 0 })
        let tracked = x.trackedLeaf()
        let recorded = Tensor.channelAffineReLU(tracked, scale: scale, shift: shift, adding: withResidual ? residual : nil)
        #expect(recorded.scalars == inTurn.scalars)
        let dx = recorded.sum().gradients(for: [tracked])[tracked]!
        #expect(dx.scalars == recorded.scalars.indices.map { recorded.scalars[$0] > 0 ? scale.scalars[($0 / (shape[2] * shape[3])) % c] : 0 })
    }

    /// Central differences through the fused op, on the first seed whose pre-activations all lie
    /// at least 0.05 from the ReLU's kink (a 1e-3 step never crosses it), with some on each side.
    @Test(arguments: [false, true])
    func fusedReLUGradients(_ withResidual: Bool) throws {
        let shape = [3, 2, 2, 3]
        let draws = (46..<246).lazy.map { seed in
            var rng = SeededRNG(seed: UInt64(seed))
            let x = rng.tensor(shape, -2, 2), gamma = rng.tensor([2], 0.5, 2), beta = rng.tensor([2], -0.5, 0.5)
            return withResidual ? [x, gamma, beta, rng.tensor(shape, -1, 1)] : [x, gamma, beta]
        }
        let inputs = try #require(draws.first { t in
            let normalized = Tensor.batchNorm(t[0], gamma: t[1], beta: t[2], eps: 1e-5).0
            let pre = (t.count > 3 ? normalized + t[3] : normalized).scalars
            return pre.allSatisfy { abs($0) > 0.05 } && pre.contains { $0 < 0 } && pre.contains { $0 > 0 }
        })
        expectGradient(inputs, eps: 1e-3, atol: 5e-3, "batchNormReLU \(withResidual ? "+ residual" : "")") {
            Tensor.batchNormReLU($0[0], gamma: $0[1], beta: $0[2], eps: 1e-5, adding: $0.count > 3 ? $0[3] : nil).0
        }
    }

    /// Large enough (C·M·3 ≥ 2¹⁶) that the fused kernels split channels across workers; checked
    /// against batch norm composed from primitive ops, forward and all three gradients.
    @Test func parallelPathMatchesCompositeOps() {
        var rng = SeededRNG(seed: 43)
        let x = rng.tensor([16, 8, 16, 16], -1, 2).trackedLeaf()
        let gamma = rng.tensor([8], 0.5, 2).trackedLeaf(), beta = rng.tensor([8]).trackedLeaf()
        let r = rng.tensor(x.shape)
        let (y, stats) = Tensor.batchNorm(x, gamma: gamma, beta: beta, eps: 1e-5)
        let mean = x.mean(axes: [0, 2, 3], keepDims: true)
        let centered = x - mean
        let variance = (centered * centered).mean(axes: [0, 2, 3], keepDims: true)
        let ref = centered / (variance + 1e-5).sqrt() * gamma.reshaped([1, 8, 1, 1]) + beta.reshaped([1, 8, 1, 1])
        expectClose(y, ref, tol: 1e-4, "forward")
        expectClose(Tensor(shape: [8], stats.mean), mean.reshaped([8]), tol: 1e-5, "mean")
        expectClose(Tensor(shape: [8], stats.variance), variance.reshaped([8]), tol: 1e-5, "variance")
        let g = (y * r).sum().gradients(for: [x, gamma, beta])
        let gr = (ref * r).sum().gradients(for: [x, gamma, beta])
        expectClose(g[x]!, gr[x]!, tol: 1e-4, "dx")
        expectClose(g[gamma]!, gr[gamma]!, tol: 1e-3, "dgamma")
        expectClose(g[beta]!, gr[beta]!, tol: 1e-3, "dbeta")
        // channelAffine's parallel path (N·C·plane ≥ 2¹⁶) against broadcasting ops.
        let a = Tensor.channelAffine(x, scale: gamma, shift: beta)
        expectClose(a, x * gamma.reshaped([1, 8, 1, 1]) + beta.reshaped([1, 8, 1, 1]), tol: 1e-6, "channelAffine")
    }

    @Test func torchGoldenValues() {
        // torch.nn.functional.batch_norm(x, None, None, g, b, training=True, eps=1e-5), backward of Σ y·R.
        let x = Tensor(shape: [3, 2], [1, 2, 3, -1, 0.5, 4]).trackedLeaf()
        let g = Tensor(shape: [2], [1.5, -0.5]).trackedLeaf(), b = Tensor(shape: [2], [0.1, 0.2]).trackedLeaf()
        let (y, _) = Tensor.batchNorm(x, gamma: g, beta: b, eps: 1e-5)
        expectClose(y, [-0.59436214, 0.11888939, 2.1830864, 0.84888494, -1.2887242, -0.36777431], tol: 1e-5)
        let grads = (y * Tensor(shape: [3, 2], [1, 2, -1, 0.5, 3, -2])).sum().gradients(for: [x, g, b])
        expectClose(grads[x]!, [-0.99193728, -0.48026016, 0.19836357, 0.19210343, 0.79357362, 0.28815669], tol: 1e-4)
        expectClose(grads[g]!, [-4.6290808, -2.5955398], tol: 1e-5)
        expectClose(grads[b]!, [3, 0.5], tol: 1e-6)
    }

    @Test(arguments: [[3, 2], [2, 3, 2, 2]])
    func channelAffine(_ shape: [Int]) {
        var rng = SeededRNG(seed: 42)
        let c = shape[1], plane = shape.count == 4 ? shape[2] * shape[3] : 1
        let x = rng.tensor(shape), scale = rng.tensor([c]), shift = rng.tensor([c])
        let y = Tensor.channelAffine(x, scale: scale, shift: shift)
        let xv = x.scalars, sv = scale.scalars, tv = shift.scalars
        expectClose(y, (0..<x.count).map { i in let ch = (i / plane) % c; return xv[i] * sv[ch] + tv[ch] })
        expectGradient([x, scale, shift], "channelAffine \(shape)") { Tensor.channelAffine($0[0], scale: $0[1], shift: $0[2]) }
    }
}

struct PoolCase: Sendable, CustomTestStringConvertible {
    let kernel: Int, stride: Int?, padding: Int
    var testDescription: String { "k\(kernel) s\(stride.map(String.init) ?? "=k") p\(padding)" }
}
let poolCases: [PoolCase] = [.init(kernel: 2, stride: nil, padding: 0), .init(kernel: 3, stride: 1, padding: 1),
                             .init(kernel: 3, stride: 2, padding: 1), .init(kernel: 2, stride: 1, padding: 1),
                             .init(kernel: 4, stride: 3, padding: 2), .init(kernel: 1, stride: 2, padding: 0)]

@Suite struct PoolingTests {
    @Test func globalAveragePooled() {
        var rng = SeededRNG(seed: 50)
        let x = rng.tensor([2, 3, 2, 3])
        let v = x.scalars
        expectClose(x.globalAveragePooled(), (0..<6).map { r in v[(r * 6)..<(r * 6 + 6)].reduce(0, +) / 6 })
        expectGradient([x], "globalAveragePooled") { $0[0].globalAveragePooled() }
    }

    @Test(arguments: poolCases)
    func avgPooled(_ c: PoolCase) {
        var rng = SeededRNG(seed: 51)
        let x = rng.tensor([2, 2, 5, 6])
        expectClose(x.avgPooled(kernel: c.kernel, stride: c.stride, padding: c.padding),
                    naivePool(x, kernel: c.kernel, stride: c.stride ?? c.kernel, padding: c.padding, isMax: false))
        expectGradient([x], "avgPooled \(c.testDescription)") { $0[0].avgPooled(kernel: c.kernel, stride: c.stride, padding: c.padding) }
    }

    @Test(arguments: poolCases)
    func maxPooled(_ c: PoolCase) {
        var rng = SeededRNG(seed: 52)
        // All-negative distinct inputs: zero padding must never win a window.
        let x = rng.distinctTensor([2, 2, 5, 6], spacing: 0.05).map { $0 - 10 }
        expectClose(x.maxPooled(kernel: c.kernel, stride: c.stride, padding: c.padding),
                    naivePool(x, kernel: c.kernel, stride: c.stride ?? c.kernel, padding: c.padding, isMax: true))
        expectGradient([x], "maxPooled \(c.testDescription)") { $0[0].maxPooled(kernel: c.kernel, stride: c.stride, padding: c.padding) }
    }

    @Test func torchGoldenValues() {
        // x = ((arange(16)·7 mod 11) − 5)/3 as [1,1,4,4]; kernel 3, stride 2, padding 1.
        let x = Tensor(shape: [1, 1, 4, 4], (0..<16).map { Float(($0 * 7) % 11 - 5) / 3 }).trackedLeaf()
        let avg = x.avgPooled(kernel: 3, stride: 2, padding: 1)
        expectClose(avg, [-0.18518519, 0.22222222, -0.11111111, 0.07407407])
        let third: Float = 1 / 9, twoNinths: Float = 2 / 9
        expectClose(avg.sum().gradients(for: [x])[x]!,
                    [third, twoNinths, third, third, twoNinths, 4 / 9, twoNinths, twoNinths,
                     third, twoNinths, third, third, third, twoNinths, third, third])
        let mx = x.maxPooled(kernel: 3, stride: 2, padding: 1)
        expectClose(mx, [0.6666667, 1.6666666, 1, 1.6666666])
        #expect(mx.sum().gradients(for: [x])[x]!.scalars == [0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0])
    }

    @Test func maxPoolGradientAccumulatesOverlappingWindows() {
        // Stride 1, kernel 2 on a 1×3 row padded by nothing: the middle max wins both windows.
        let x = Tensor(shape: [1, 1, 2, 3], [0, 5, 1, 0, 0, 0]).trackedLeaf()
        let y = x.maxPooled(kernel: 2, stride: 1)
        #expect(y.scalars == [5, 5])
        #expect(y.sum().gradients(for: [x])[x]!.scalars == [0, 2, 0, 0, 0, 0])
    }
}

@Suite struct SoftmaxFamilyTests {
    @Test(arguments: [0, 1, -1])
    func logSoftmaxAndSoftmax(_ axis: Int) {
        var rng = SeededRNG(seed: 60)
        let x = rng.tensor([3, 4], -3, 3)
        let a = axis < 0 ? axis + 2 : axis
        let v = x.scalars.map(Double.init)
        func at(_ i: Int, _ j: Int) -> Int { i * 4 + j }
        var expected = [Float](repeating: 0, count: 12)
        let outer = a == 0 ? 4 : 3, n = a == 0 ? 3 : 4
        for o in 0..<outer {
            let idx = (0..<n).map { a == 0 ? at($0, o) : at(o, $0) }
            let lse = Foundation.log(idx.map { Foundation.exp(v[$0]) }.reduce(0, +))
            for k in idx { expected[k] = Float(v[k] - lse) }
        }
        expectClose(x.logSoftmax(axis: axis), expected)
        expectClose(x.softmax(axis: axis), expected.map { Foundation.exp($0) })
        let sums = x.softmax(axis: axis).sum(axis: axis).scalars
        #expect(sums.allSatisfy { abs($0 - 1) < 1e-6 })
        expectGradient([x], "logSoftmax axis \(axis)") { $0[0].logSoftmax(axis: axis) }
        expectGradient([x], "softmax axis \(axis)") { $0[0].softmax(axis: axis) }
        expectGradient([x], "logSumExp axis \(axis)") { $0[0].logSumExp(axis: axis) }
        expectGradient([x], "logSumExp axis \(axis) keepDims") { $0[0].logSumExp(axis: axis, keepDims: true) }
    }

    @Test func logSoftmaxIsStableForLargeLogits() {
        let x = Tensor(shape: [1, 3], [1000, 1001, 999])
        let y = x.logSoftmax()
        let lse = 1001 + Foundation.log(Foundation.exp(-1.0) + 1 + Foundation.exp(-2.0))
        // Float32 spacing near 1000 is 6e-5, so x − lse carries about that much rounding.
        expectClose(y, [Float(1000 - lse), Float(1001 - lse), Float(999 - lse)], tol: 5e-5)
        expectClose(x.logSumExp(), [Float(lse)], tol: 1e-6)
        #expect(x.softmax().scalars.allSatisfy { $0.isFinite })
    }

    @Test func logSoftmaxWithMinusInfinity() {
        let x = Tensor(shape: [2, 3], [1, -.infinity, 2, -.infinity, 0, 0]).trackedLeaf()
        let y = x.logSoftmax()
        let l = Foundation.log(Foundation.exp(Float(1)) + Foundation.exp(Float(2)))
        expectClose(y, [1 - l, -.infinity, 2 - l, -.infinity, -Foundation.log(Float(2)), -Foundation.log(Float(2))])
        // Upstream gradient non-zero everywhere, also at the -inf positions.
        let seed = Tensor(shape: [2, 3], [0.5, 3, -1, 2, 1, -0.25])
        let g = y.gradients(for: [x], seed: seed)[x]!.scalars
        #expect(g[1] == 0 && g[3] == 0, "documented: -inf inputs get zero gradient, got \(g)")
        #expect(g.allSatisfy { $0.isFinite })
        // Finite entries: dx_j = g_j − softmax_j · Σ g (sum over the whole row).
        let p1 = Foundation.exp(1 - l), p2 = Foundation.exp(2 - l)
        let s0: Float = 0.5 + 3 - 1, s1: Float = 2 + 1 - 0.25
        expectClose(Tensor(shape: [4], [g[0], g[2], g[4], g[5]]),
                    [0.5 - p1 * s0, -1 - p2 * s0, 1 - 0.5 * s1, -0.25 - 0.5 * s1], tol: 1e-6)
        // logSumExp of an all -inf row is -inf (not NaN).
        #expect(Tensor(shape: [1, 2], [-.infinity, -.infinity]).logSumExp().item == -.infinity)
    }

    @Test func crossEntropyHandExample() {
        let logits = Tensor(shape: [2, 3], [1, 2, 3, 1, 1, 1]).trackedLeaf()
        let loss = logits.crossEntropy(targets: [2, 0])
        let lse0 = Foundation.log(Foundation.exp(1.0) + Foundation.exp(2.0) + Foundation.exp(3.0))
        let expected = ((lse0 - 3) + Foundation.log(3.0)) / 2
        #expect(loss.shape == [])
        #expect(abs(Double(loss.item) - expected) < 1e-6)
        // d/dlogits = (softmax − onehot) / N
        let g = loss.gradients(for: [logits])[logits]!
        let p = [1.0, 2.0, 3.0].map { Foundation.exp($0 - lse0) }
        expectClose(g, [Float(p[0] / 2), Float(p[1] / 2), Float((p[2] - 1) / 2),
                        Float((1.0 / 3 - 1) / 2), Float(1.0 / 6), Float(1.0 / 6)], tol: 1e-6)
        var rng = SeededRNG(seed: 61)
        expectGradient([rng.tensor([4, 5], -2, 2)], "crossEntropy") { $0[0].crossEntropy(targets: [0, 4, 2, 2]) }
    }

    @Test(arguments: [0, 1, -1])
    func l2NormalizedAndCosine(_ axis: Int) {
        var rng = SeededRNG(seed: 62)
        let x = rng.tensor([3, 4]), y = rng.tensor([3, 4])
        let a = axis < 0 ? axis + 2 : axis
        let nx = x.l2Normalized(axis: axis)
        let norms = (x * x).sum(axis: axis).scalars.map { $0.squareRoot() }
        let xv = x.scalars
        expectClose(nx, (0..<12).map { i in xv[i] / norms[a == 0 ? i % 4 : i / 4] })
        #expect((nx * nx).sum(axis: axis).scalars.allSatisfy { abs($0 - 1) < 1e-5 })
        let cos = Tensor.cosineSimilarity(x, y, axis: axis)
        let dot = (x * y).sum(axis: axis).scalars, ny = (y * y).sum(axis: axis).scalars.map { $0.squareRoot() }
        expectClose(cos, (0..<dot.count).map { dot[$0] / (norms[$0] * ny[$0]) })
        expectGradient([x], "l2Normalized axis \(axis)") { $0[0].l2Normalized(axis: axis) }
        expectGradient([x, y], "cosineSimilarity axis \(axis)") { Tensor.cosineSimilarity($0[0], $0[1], axis: axis) }
    }

    @Test func cosineSimilarityHandValues() {
        let a = Tensor(shape: [3, 2], [1, 0, 1, 1, 3, 4]), b = Tensor(shape: [3, 2], [0, 2, -1, -1, 6, 8])
        expectClose(Tensor.cosineSimilarity(a, b), [0, -1, 1], tol: 1e-6)
    }

    @Test func zeroVectorsStayFinite() {
        // torch.nn.functional.normalize: x / max(‖x‖, eps) — a zero row maps to zero with a finite
        // gradient of g / eps.
        let x = Tensor(shape: [2, 3], [0, 0, 0, 3, 0, 4]).trackedLeaf()
        let y = x.l2Normalized(axis: 1, eps: 1e-3)
        expectClose(y, [0, 0, 0, 0.6, 0, 0.8])
        let seed = Tensor(shape: [2, 3], [1, -2, 0.5, 0, 0, 0])
        let g = y.gradients(for: [x], seed: seed)[x]!
        #expect(g.scalars.allSatisfy { $0.isFinite }, "gradient at a zero vector is \(g.scalars)")
        expectClose(g, [1000, -2000, 500, 0, 0, 0], tol: 1e-4)
        let other = Tensor(shape: [2, 3], [1, 2, 3, 1, 1, 1])
        let c = Tensor.cosineSimilarity(x, other, axis: 1)
        #expect(c.scalars[0] == 0 && c.scalars.allSatisfy { $0.isFinite })
        let gc = c.sum().gradients(for: [x])[x]!
        #expect(gc.scalars.allSatisfy { $0.isFinite }, "cosineSimilarity gradient at a zero vector is \(gc.scalars)")
    }

    /// Along the last axis `l2Normalized` is one op: its forward is the composite's bit for bit
    /// (the same ordered sum, clamp, root and division), its gradient the composite's up to
    /// round-off — with rows split across workers and a zero row that the clamp holds.
    @Test(arguments: [1, 7, 128])
    func fusedLastAxisMatchesTheComposite(_ n: Int) {
        var rng = SeededRNG(seed: 63)
        var values = rng.tensor([600, n], -2, 2).scalars
        for j in 0..<n { values[5 * n + j] = 0 }
        let x = Tensor(shape: [600, n], values).trackedLeaf()
        let seed = rng.tensor([600, n], -1, 1)
        let fused = x.l2Normalized(axis: 1, eps: 1e-3)
        let composite = x / (x * x).sum(axis: 1, keepDims: true).clamped(min: 1e-6).sqrt()
        #expect(fused.scalars.map(\.bitPattern) == composite.scalars.map(\.bitPattern))
        let gFused = fused.gradients(for: [x], seed: seed)[x]!, gComposite = composite.gradients(for: [x], seed: seed)[x]!
        expectClose(gFused, gComposite.scalars, tol: 1e-5)
        #expect((0..<n).allSatisfy { gFused.scalars[5 * n + $0] == seed.scalars[5 * n + $0] / 1e-3 }, "a zero row gets g / eps")
    }
}
