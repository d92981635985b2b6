import Testing
@testable import TensorCore
import TestSupport

/// `batchedMatmul` is `matmul` of each slice, bit for bit, with its gradient.
@Suite struct BatchedMatmulTests {
    func operands(_ c: TransposeCase, batch: Int, m: Int, k: Int, n: Int, rng: inout SeededRNG) -> (Tensor, Tensor) {
        (rng.tensor(c.transposeA ? [batch, k, m] : [batch, m, k]), rng.tensor(c.transposeB ? [batch, n, k] : [batch, k, n]))
    }

    func slice(_ t: Tensor, _ i: Int) -> Tensor { t.slice(axis: 0, i..<(i + 1)).reshaped([t.shape[1], t.shape[2]]) }

    /// Each output slice has the bits of `matmul` of the input slices, on a small shape and on one
    /// large enough (m·n·k ≥ 2²⁰) for `gemm`'s parallel slices.
    @Test(arguments: transposeCases)
    func everySliceIsTheMatmul(_ c: TransposeCase) {
        var rng = SeededRNG(seed: 30)
        for (batch, m, k, n) in [(3, 2, 5, 4), (2, 130, 70, 121)] {
            let (a, b) = operands(c, batch: batch, m: m, k: k, n: n, rng: &rng)
            let y = Tensor.batchedMatmul(a, b, transposeA: c.transposeA, transposeB: c.transposeB)
            #expect(y.shape == [batch, m, n])
            for i in 0..<batch {
                let reference = Tensor.matmul(slice(a, i), slice(b, i), transposeA: c.transposeA, transposeB: c.transposeB)
                #expect(slice(y, i).scalars.map(\.bitPattern) == reference.scalars.map(\.bitPattern), "\(c.testDescription) slice \(i)")
            }
        }
    }

    @Test(arguments: transposeCases)
    func gradients(_ c: TransposeCase) {
        var rng = SeededRNG(seed: 31)
        let (a, b) = operands(c, batch: 2, m: 3, k: 4, n: 5, rng: &rng)
        expectGradient([a, b], c.testDescription) { Tensor.batchedMatmul($0[0], $0[1], transposeA: c.transposeA, transposeB: c.transposeB) }
        expectGradient([a], "\(c.testDescription) (A only)") { Tensor.batchedMatmul($0[0], b, transposeA: c.transposeA, transposeB: c.transposeB) }
        expectGradient([b], "\(c.testDescription) (B only)") { Tensor.batchedMatmul(a, $0[0], transposeA: c.transposeA, transposeB: c.transposeB) }
    }
}
