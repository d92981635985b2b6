import Testing
import TensorCore
import TestSupport

@Suite struct AutogradTests {
    @Test func gradientOfSharedSubexpressionAccumulates() {
        let x = Tensor(shape: [2], [3, -2]).trackedLeaf()
        let y = (x * x + x).sum()          // dy/dx = 2x + 1
        let g = y.gradients(for: [x])[x]!
        #expect(g.scalars == [7, -3])
    }

    @Test func detachedStopsGradient() {
        let x = Tensor(shape: [2], [1, 2]).trackedLeaf()
        let y = (x * x.detached()).sum()   // d/dx = x (not 2x)
        #expect(y.gradients(for: [x])[x]!.scalars == [1, 2])
    }

    @Test func withoutGradientsRecordsNothing() {
        let x = Tensor(shape: [2], [1, 2]).trackedLeaf()
        let y = withoutGradients { (x * x).sum() }
        #expect(!y.isTracked)
        #expect(y.gradients(for: [x]).count == 0)
    }

    @Test func unrelatedLeafHasNoGradient() {
        let x = Tensor(shape: [1], [1]).trackedLeaf(), z = Tensor(shape: [1], [5]).trackedLeaf()
        let g = (x * 2).sum().gradients(for: [x, z])
        #expect(g[z] == nil)
        #expect(g[x]!.scalars == [2])
    }

    @Test func gradientCheckCatchesAWrongRule() {
        // A deliberately wrong pullback must be flagged: the checker can fail.
        let wrong: ([Tensor]) -> Tensor = { xs in
            let x = xs[0]
            let out = x.map { $0 * $0 }
            return Tensor.record("wrongSquare", result: out, inputs: [x]) { g in [g] }
        }
        var rng = SeededRNG(seed: 1)
        #expect(!checkGradient([rng.tensor([4])], wrong).passed)
    }
}
