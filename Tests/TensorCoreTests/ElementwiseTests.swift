import Foundation
import Testing
import TensorCore
import TestSupport

/// A pair of operand shapes for a broadcasting binary op.
struct BroadcastCase: Sendable, CustomTestStringConvertible {
    let a: [Int], b: [Int], out: [Int]
    var testDescription: String { "\(a) ⊕ \(b) → \(out)" }
}

let broadcastCases: [BroadcastCase] = [
    .init(a: [2, 3], b: [2, 3], out: [2, 3]),
    .init(a: [2, 3], b: [3], out: [2, 3]),
    .init(a: [3], b: [2, 3], out: [2, 3]),
    .init(a: [2, 1, 4], b: [3, 1], out: [2, 3, 4]),
    .init(a: [2, 3], b: [], out: [2, 3]),
    .init(a: [], b: [4], out: [4]),
    .init(a: [2, 3, 2, 2], b: [1, 3, 1, 1], out: [2, 3, 2, 2]),
    .init(a: [1, 3], b: [2, 1], out: [2, 3]),
    .init(a: [2, 3], b: [1, 1, 3], out: [1, 2, 3]),
]

/// Naive broadcast evaluation by multi-index, independent of `Broadcast.forEachRun`.
func naiveBroadcast(_ a: Tensor, _ b: Tensor, _ out: [Int], _ f: (Float, Float) -> Float) -> Tensor {
    let r = out.count
    func index(of shape: [Int], _ idx: [Int]) -> Int {
        var k = 0
        let off = r - shape.count
        for (d, e) in shape.enumerated() { k = k * e + (e == 1 ? 0 : idx[d + off]) }
        return k
    }
    let av = a.scalars, bv = b.scalars
    var values: [Float] = []
    var idx = [Int](repeating: 0, count: r)
    for _ in 0..<out.reduce(1, *) {
        values.append(f(av[index(of: a.shape, idx)], bv[index(of: b.shape, idx)]))
        var d = r - 1
        while d >= 0 { idx[d] += 1; if idx[d] < out[d] { break }; idx[d] = 0; d -= 1 }
    }
    return Tensor(shape: out, values)
}

@Suite struct ElementwiseTests {
    // MARK: binary ops — forward against a naive multi-index broadcast, backward by central differences

    @Test(arguments: broadcastCases)
    func addSubMulDivForward(_ c: BroadcastCase) {
        var rng = SeededRNG(seed: 1)
        let a = rng.tensor(c.a), b = rng.tensor(c.b, 0.5, 2)
        expectClose(a + b, naiveBroadcast(a, b, c.out, +), "add")
        expectClose(a - b, naiveBroadcast(a, b, c.out, -), "sub")
        expectClose(a * b, naiveBroadcast(a, b, c.out, *), "mul")
        expectClose(a / b, naiveBroadcast(a, b, c.out, /), "div")
        let base = rng.tensor(c.a, 0.5, 2)
        expectClose(base.pow(b), naiveBroadcast(base, b, c.out) { Foundation.pow($0, $1) }, "pow")
    }

    @Test(arguments: broadcastCases)
    func addSubGradients(_ c: BroadcastCase) {
        var rng = SeededRNG(seed: 2)
        let inputs = [rng.tensor(c.a), rng.tensor(c.b)]
        expectGradient(inputs, "add \(c.testDescription)") { $0[0] + $0[1] }
        expectGradient(inputs, "sub \(c.testDescription)") { $0[0] - $0[1] }
    }

    @Test(arguments: broadcastCases)
    func mulDivGradients(_ c: BroadcastCase) {
        var rng = SeededRNG(seed: 3)
        let inputs = [rng.tensor(c.a), rng.tensor(c.b, 0.5, 1.5)]
        expectGradient(inputs, "mul \(c.testDescription)") { $0[0] * $0[1] }
        // division: d/db (a/b) = -a/b² is curved; eps 1e-3 with b ∈ [0.5, 1.5).
        expectGradient(inputs, eps: 1e-3, atol: 5e-3, "div \(c.testDescription)") { $0[0] / $0[1] }
    }

    @Test(arguments: broadcastCases)
    func powGradients(_ c: BroadcastCase) {
        var rng = SeededRNG(seed: 4)
        let inputs = [rng.tensor(c.a, 0.5, 2), rng.tensor(c.b, -1.5, 2.5)]
        expectGradient(inputs, eps: 1e-3, atol: 5e-3, "pow \(c.testDescription)") { $0[0].pow($0[1]) }
    }

    @Test func sameTensorOnBothSidesAccumulates() {
        var rng = SeededRNG(seed: 5)
        expectGradient([rng.tensor([3, 2], 0.5, 1.5)], eps: 1e-3, atol: 5e-3) { x in
            x[0] * x[0] + x[0] / x[0] - x[0]
        }
    }

    @Test func scalarOverloadsMatchTensorOps() {
        let x = Tensor(shape: [3], [1, 2, 4])
        #expect((x + 1).scalars == [2, 3, 5])
        #expect((x - 1).scalars == [0, 1, 3])
        #expect((x * 2).scalars == [2, 4, 8])
        #expect((x / 2).scalars == [0.5, 1, 2])
        #expect((1 + x).scalars == [2, 3, 5])
        #expect((1 - x).scalars == [0, -1, -3])
        #expect((2 * x).scalars == [2, 4, 8])
        #expect((4 / x).scalars == [4, 2, 1])
        #expect((-x).scalars == [-1, -2, -4])
        var rng = SeededRNG(seed: 6)
        let inputs = [rng.tensor([2, 3], 0.5, 1.5)]
        expectGradient(inputs, eps: 1e-3, atol: 5e-3, "scalar-left division") { 3 / $0[0] }
        expectGradient(inputs, "scalar-left subtraction") { 3 - $0[0] * 2 + 1 }
    }

    // MARK: unary ops

    @Test func unaryForwardValues() {
        let x = Tensor(shape: [4], [0.25, 1, 2, 4])
        expectClose(x.exp(), [0.25, 1, 2, 4].map { Foundation.exp($0) })
        expectClose(x.log(), [0.25, 1, 2, 4].map { Foundation.log($0) })
        expectClose(x.sqrt(), [0.5, 1, 1.4142135, 2])
        expectClose(x.pow(3), [0.015625, 1, 8, 64])
        expectClose(x.pow(Tensor(shape: [4], [2, 0, -1, 0.5])), [0.0625, 1, 0.5, 2])
        let y = Tensor(shape: [5], [-2, -0.5, 0, 0.5, 2])
        #expect(y.relu().scalars == [0, 0, 0, 0.5, 2])
        expectClose(y.sigmoid(), [-2, -0.5, 0, 0.5, 2].map { 1 / (1 + Foundation.exp(-$0)) })
        expectClose(y.tanh(), [-2, -0.5, 0, 0.5, 2].map { Foundation.tanh($0) })
        #expect(y.clamped(min: -1, max: 1).scalars == [-1, -0.5, 0, 0.5, 1])
        #expect(y.clamped(min: 0.1).scalars == [0.1, 0.1, 0.1, 0.5, 2])
        #expect((-y).scalars == [2, 0.5, 0, -0.5, -2])
    }

    @Test func smoothUnaryGradients() {
        var rng = SeededRNG(seed: 7)
        let any = [rng.tensor([3, 4], -2, 2)]
        let positive = [rng.tensor([3, 4], 0.5, 3)]
        expectGradient(any, "neg") { -$0[0] }
        expectGradient(any, eps: 1e-3, atol: 5e-3, "exp") { $0[0].exp() }
        expectGradient(positive, eps: 1e-3, atol: 5e-3, "log") { $0[0].log() }
        expectGradient(positive, eps: 1e-3, atol: 5e-3, "sqrt") { $0[0].sqrt() }
        expectGradient(positive, eps: 1e-3, atol: 5e-3, "pow 2.5") { $0[0].pow(2.5) }
        expectGradient(positive, eps: 1e-3, atol: 5e-3, "pow -1.5") { $0[0].pow(-1.5) }
        expectGradient(any, "pow 2 (negative base, integer exponent)") { $0[0].pow(2) }
        expectGradient(any, "sigmoid") { $0[0].sigmoid() }
        expectGradient(any, "tanh") { $0[0].tanh() }
    }

    @Test func piecewiseLinearGradients() {
        var rng = SeededRNG(seed: 8)
        let x = [rng.distinctTensor([4, 5], spacing: 0.1)]   // |x| ≥ 0.025, gaps ≥ 0.1
        expectGradient(x, "relu") { $0[0].relu() }
        expectGradient(x, "clamped both") { $0[0].clamped(min: -0.35, max: 0.43) }
        expectGradient(x, "clamped min") { $0[0].clamped(min: 0.12) }
        // Hand check: gradient passes inside the closed range only.
        let t = Tensor(shape: [4], [-2, -1, 0.5, 3]).trackedLeaf()
        let g = t.clamped(min: -1, max: 1).sum().gradients(for: [t])[t]!
        #expect(g.scalars == [0, 1, 1, 0])
        let r = Tensor(shape: [3], [-1, 0.5, 2]).trackedLeaf()
        #expect(r.relu().sum().gradients(for: [r])[r]!.scalars == [0, 1, 1])
    }

    /// Sizes around the SIMD width and past the parallel threshold (2¹⁸ elements, 4096-element
    /// blocks) of the vectorized add/relu paths, against scalar loops.
    @Test(arguments: [1, 7, 8, 9, 4097, 300_001])
    func vectorizedAddAndReluMatchScalar(_ n: Int) {
        var rng = SeededRNG(seed: 12)
        let a = rng.tensor([n]), b = rng.tensor([n])
        let av = a.scalars, bv = b.scalars
        #expect((a + b).scalars == zip(av, bv).map { $0 + $1 })
        #expect(a.relu().scalars == av.map { $0 > 0 ? $0 : 0 })
        let leaf = a.trackedLeaf()
        let g = leaf.relu().gradients(for: [leaf], seed: b)[leaf]!
        #expect(g.scalars == zip(av, bv).map { $0 > 0 ? $1 : 0 })
        let ga = (leaf + b).gradients(for: [leaf], seed: b)[leaf]!
        #expect(ga.scalars == bv)
    }

    @Test func maskedFillForwardAndGradient() {
        let x = Tensor(shape: [2, 3], [1, 2, 3, 4, 5, 6])
        let mask = Tensor(shape: [2, 3], [0, 1, 0, 1, 0, 2])
        #expect(x.maskedFill(mask, with: -9).scalars == [1, -9, 3, -9, 5, -9])
        // Broadcast mask [3] over [2, 3].
        let rowMask = Tensor(shape: [3], [1, 0, 0])
        #expect(x.maskedFill(rowMask, with: .infinity).scalars == [.infinity, 2, 3, .infinity, 5, 6])
        let leaf = x.trackedLeaf()
        let g = (leaf.maskedFill(mask, with: 0) * Tensor(shape: [2, 3], [1, 2, 3, 4, 5, 6])).sum().gradients(for: [leaf])[leaf]!
        #expect(g.scalars == [1, 0, 3, 0, 5, 0])
        var rng = SeededRNG(seed: 9)
        expectGradient([rng.tensor([2, 3])], "maskedFill") { $0[0].maskedFill(mask, with: 7) }
        expectGradient([rng.tensor([2, 3])], "maskedFill broadcast mask") { $0[0].maskedFill(rowMask, with: -1) }
    }

    @Test(arguments: [([3], [2, 3]), ([2, 1], [2, 4]), ([1, 3, 1], [2, 3, 4]), ([], [2, 2]), ([2, 3], [2, 3])])
    func broadcastToForwardAndGradient(_ from: [Int], _ to: [Int]) {
        var rng = SeededRNG(seed: 10)
        let x = rng.tensor(from)
        expectClose(x.broadcast(to: to), naiveBroadcast(x, Tensor.zeros(to), to) { a, _ in a })
        expectGradient([x], "broadcast \(from) → \(to)") { $0[0].broadcast(to: to) }
    }
}
