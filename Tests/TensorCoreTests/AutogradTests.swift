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

    /// A sweep runs only the pullbacks that lead to a wanted leaf, and inside them
    /// `needsGradient` is false for inputs that lead to none: a regularizer's parameters (`m`
    /// here) cost nothing when only the encoder's (`w`) are asked for, and `w`'s gradient is the
    /// same bit for bit either way.
    @Test func sweepSkipsWhatNoWantedLeafNeeds() {
        final class Log: @unchecked Sendable { var calls: [String] = []; var needs: [String: [Bool]] = [:] }
        let log = Log()
        func probe(_ name: String, _ inputs: [Tensor]) -> Tensor {
            let out = inputs.dropFirst().reduce(inputs[0]) { $0 + $1 }.detached()
            return Tensor.record(name, result: out, inputs: inputs) { g in
                log.calls.append(name)
                log.needs[name] = inputs.map(\.needsGradient)
                return inputs.map { $0.shape == g.shape ? g : Tensor(repeating: g.scalars.reduce(0, +), shape: $0.shape) }
            }
        }
        var rng = SeededRNG(seed: 3)
        let x = rng.tensor([4, 3]), queue = rng.tensor([5, 3])
        let w = rng.tensor([3, 3]).trackedLeaf(), m = rng.tensor([1, 3]).trackedLeaf()
        func loss() -> Tensor {
            let z = Tensor.matmul(x, w)                              // encoder: leads to w
            let stratifiedQueue = probe("stratifyQueue", [queue + m]) // leads to m only
            let logits = Tensor.matmul(probe("stratify", [z, m]), stratifiedQueue, transposeB: true)
            return (logits * logits).sum()
        }
        let encoderOnly = loss().gradients(for: [w])
        #expect(log.calls.sorted() == ["stratify"], "the queue's pullback must not run for w's gradient")
        #expect(log.needs["stratify"] == [true, false])
        #expect(encoderOnly[m] == nil)
        log.calls = []
        let both = loss().gradients(for: [w, m])
        #expect(log.calls.sorted() == ["stratify", "stratifyQueue"])
        #expect(log.needs["stratify"] == [true, true])
        #expect(encoderOnly[w]!.scalars == both[w]!.scalars)
        #expect(both[m] != nil)
        // Outside a sweep, needsGradient is isTracked.
        #expect(w.needsGradient && !x.needsGradient)
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
