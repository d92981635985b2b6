import Foundation
import Testing
import TestSupport
@testable import TensorCore

/// The log-softmax row kernels: both builds give the same bits, the exponential is within 2 ulp,
/// and every layout runs the same row kernel.
@Suite struct SoftmaxRowsTests {
    /// Distance in units in the last place between two finite floats of the same sign.
    func ulps(_ a: Float, _ b: Float) -> Int { abs(Int(a.bitPattern) - Int(b.bitPattern)) }

    /// How many elements differ in their bits (every NaN counts as the same value: the builds
    /// may give NaNs of different signs).
    func differingBits(_ a: [Float], _ b: [Float]) -> Int {
        zip(a, b).filter { $0.isNaN != $1.isNaN || (!$0.isNaN && $0.bitPattern != $1.bitPattern) }.count + abs(a.count - b.count)
    }

    @Test func exponentialIsWithinTwoUlp() {
        let xs = (0...200_000).map { Float(-87.33) + Float(87.33 + 88.37) * Float($0) / 200_000 }
        let ys = SoftmaxRows.exp(xs)
        var worst = 0
        for (x, y) in zip(xs, ys) { worst = max(worst, ulps(y, Float(Foundation.exp(Double(x))))) }
        #expect(worst <= 2, "worst \(worst) ulp")
        #expect(SoftmaxRows.exp([0, -0.0]) == [1, 1])
    }

    @Test func exponentialAtTheEdges() {
        let y = SoftmaxRows.exp([-.infinity, -100, -87.34, 88.4, 100, .infinity, .nan])
        #expect(y[0] == 0 && y[1] == 0 && y[2] == 0, "subnormal results flush to 0: \(y)")
        #expect(y[3] == .infinity && y[4] == .infinity && y[5] == .infinity)
        #expect(y[6].isNaN)
        #expect(SoftmaxRows.exp([-87.33])[0].isNormal)
    }

    /// Rows of every length up to 40 (each remainder of the 8-lane loop) and one as long as a
    /// MoCo queue row, with −∞ entries, a NaN and an all −∞ row: forward and backward.
    @Test(.enabled(if: SoftmaxRows.avx2, "this CPU has no AVX2 + FMA"))
    func bothBuildsAgreeBitForBit() {
        var rng = SeededRNG(seed: 17)
        for n in Array(1...40) + [4097] {
            let rows = 5
            var x = rng.tensor([rows, n], -30, 30).scalars
            x[n / 2] = -.infinity                      // row 0: one −∞
            for j in 0..<n { x[n + j] = -.infinity }  // row 1: all −∞
            x[2 * n + n - 1] = .nan                   // row 2: a NaN
            let g = rng.tensor([rows, n], -1, 1).scalars
            func run(_ avx2: Bool) -> (out: [Float], dx: [Float]) {
                var out = [Float](repeating: 0, count: x.count), dx = out
                x.withUnsafeBufferPointer { xp in out.withUnsafeMutableBufferPointer { SoftmaxRows.forward(xp.baseAddress!, $0.baseAddress!, rows: rows, n: n, avx2: avx2) } }
                out.withUnsafeBufferPointer { op in g.withUnsafeBufferPointer { gp in
                    dx.withUnsafeMutableBufferPointer { SoftmaxRows.backward(output: op.baseAddress!, gradient: gp.baseAddress!, $0.baseAddress!, rows: rows, n: n, avx2: avx2) }
                } }
                return (out, dx)
            }
            let (a, b) = (run(true), run(false))
            #expect(differingBits(a.out, b.out) == 0, "forward, n \(n)")
            #expect(differingBits(a.dx, b.dx) == 0, "backward, n \(n)")
            let nanRows = a.out[n..<(3 * n)].allSatisfy { $0.isNaN }
            #expect(nanRows, "an all −∞ row and a row with a NaN give NaN, n \(n)")
            if n > 1 { #expect(a.out[n / 2] == -.infinity && a.dx[n / 2] == 0, "−∞ in, −∞ out, zero gradient, n \(n)") }
        }
    }

    /// Along a middle axis the strided rows are gathered, run through the same kernel and
    /// scattered back: the same bits as the last axis of the transposed tensor.
    @Test func everyAxisRunsTheSameRowKernel() {
        var rng = SeededRNG(seed: 5)
        let x = rng.tensor([3, 37, 4], -5, 5).trackedLeaf()
        let g = rng.tensor([3, 37, 4], -1, 1)
        let y = x.logSoftmax(axis: 1)
        let dx = y.gradients(for: [x], seed: g)[x]!
        let xt = x.detached().transposed(1, 2).trackedLeaf()
        let yt = xt.logSoftmax(axis: -1)
        let dxt = yt.gradients(for: [xt], seed: g.transposed(1, 2))[xt]!
        #expect(y.transposed(1, 2).scalars.map(\.bitPattern) == yt.scalars.map(\.bitPattern))
        #expect(dx.transposed(1, 2).scalars.map(\.bitPattern) == dxt.scalars.map(\.bitPattern))
    }

    /// Rows split across the workers: the same bits as one worker running them all.
    @Test func workerCountChangesNoBit() {
        var rng = SeededRNG(seed: 9)
        let x = rng.tensor([256, 1025], -10, 10)
        let one = Parallel.withWorkerLimit(1) { x.logSoftmax().scalars }
        let two = x.logSoftmax().scalars
        #expect(one.map(\.bitPattern) == two.map(\.bitPattern))
    }
}
