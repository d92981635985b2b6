import Contrastive
import NN
import Testing
import TensorCore
import TestSupport

/// Barlow Twins' additive strata computed side by side (`BarlowTwins.additiveStrataLosses`).
@Suite struct BarlowStrataTests {
    /// Barlow Twins' strata side by side (`additiveStrataLosses`) against the regularizer's
    /// stratum-by-stratum losses: each stratum's loss, and the gradients of a weighted sum in both
    /// views and M.
    @Test func barlowStrataSideBySideMatchTheStratumByStratumLosses() throws {
        let method = try tinyMethod("barlowtwins") as! BarlowTwins
        var rng = SeededRNG(seed: 12)
        let (z1, z2) = (rng.tensor([6, 8]).trackedLeaf(), rng.tensor([6, 8]).trackedLeaf())
        let strata = (rng.tensor([3, 8]) * 0.7).trackedLeaf()
        let vectors = ComparisonVectors(pairs: [(z1, z2)], features: z1)
        let fused = try #require(method.additiveStrataLosses(vectors, strata: strata))
        let perStratum = Tensor.concat((0..<3).map { k in
            let m = strata.slice(axis: 0, k..<(k + 1))
            return method.baseLoss(vectors.mapVectors { ($0.l2Normalized(axis: 1) + m).l2Normalized(axis: 1) }).reshaped([1])
        }, axis: 0)
        for (a, b) in zip(fused.scalars, perStratum.scalars) { #expect(abs(a - b) <= 1e-5 * max(1, abs(b)), "\(a) vs \(b)") }
        let weights = Tensor(shape: [3], [0.5, -1, 2])
        let (gf, gc) = ((fused * weights).sum().gradients(for: [z1, z2, strata]), (perStratum * weights).sum().gradients(for: [z1, z2, strata]))
        for leaf in [z1, z2, strata] {
            let scale = gc[leaf]!.scalars.map(abs).max()!
            let worst = zip(gf[leaf]!.scalars, gc[leaf]!.scalars).map { abs($0 - $1) }.max()!
            #expect(worst <= 1e-4 * max(scale, 1e-3), "\(leaf.shape): \(worst) (largest \(scale))")
        }
    }
}
