import Testing
import TensorCore
import TestSupport

/// Kernels split work across workers that claim pieces dynamically; results must not depend on
/// which worker did what (the same seed gives the same numbers on every run).
@Suite struct DeterminismTests {
    @Test func conv2dGradientsAreBitIdenticalAcrossRepeats() {
        var rng = SeededRNG(seed: 5)
        // 8×8 planes → 16 images per chunk; batch 150 → 10 chunks in 8 gradient groups.
        let x = rng.tensor([150, 8, 8, 8]), w = rng.tensor([16, 8, 3, 3]), seed = rng.tensor([150, 16, 8, 8])
        func gradients() -> [[Float]] {
            let xl = x.trackedLeaf(), wl = w.trackedLeaf()
            let y = Tensor.conv2d(xl, weight: wl, stride: 1, padding: 1)
            let g = y.gradients(for: [xl, wl], seed: seed)
            return [y.scalars, g[xl]!.scalars, g[wl]!.scalars]
        }
        let first = gradients()
        for _ in 0..<6 { #expect(gradients() == first) }
    }
}
