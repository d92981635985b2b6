import Contrastive
import NN
import Testing
import TensorCore
import TestSupport

/// The methods whose additive strata are computed side by side (`FusedAdditiveStrata`): Barlow
/// Twins (one batch norm and one batched product for all strata), BYOL and SimSiam (the stratified
/// cosines of all strata at once). MoCo v2's one-op strata have their own suite
/// (`StratifiedInfoNCETests`).
@Suite struct FusedStrataTests {
    /// Each stratum's loss, and the gradients of a weighted sum of them in the online vectors and M,
    /// against the regularizer's stratum-by-stratum `baseLoss` of `normalize(normalize(z) + m_k)`.
    @Test(arguments: ["barlowtwins", "byol", "simsiam"])
    func sideBySideMatchesTheStratumByStratumLosses(_ name: String) throws {
        let method = try tinyMethod(name)
        let fused = try #require(method as? any FusedAdditiveStrata)
        var rng = SeededRNG(seed: 12)
        let pairCount = name == "barlowtwins" ? 1 : 2
        let pairs = (0..<pairCount).map { _ in (first: rng.tensor([6, 8]).trackedLeaf(), second: rng.tensor([6, 8]).trackedLeaf()) }
        let strata = (rng.tensor([3, 8]) * 0.7).trackedLeaf()
        let vectors = ComparisonVectors(pairs: pairs, features: pairs[0].first)
        let losses = try #require(fused.additiveStrataLosses(vectors, strata: strata))
        let perStratum = Tensor.concat((0..<3).map { k in
            let m = strata.slice(axis: 0, k..<(k + 1))
            return method.baseLoss(vectors.mapVectors { ($0.l2Normalized(axis: 1) + m).l2Normalized(axis: 1) }).reshaped([1])
        }, axis: 0)
        for (a, b) in zip(losses.scalars, perStratum.scalars) { #expect(abs(a - b) <= 1e-5 * max(1, abs(b)), "\(name): \(a) vs \(b)") }
        // The targets of BYOL and SimSiam are stopped (no gradient either way); Barlow Twins' are not.
        let leaves = pairs.flatMap { [$0.first, $0.second] } + [strata]
        let weights = Tensor(shape: [3], [0.5, -1, 2])
        let (gf, gc) = ((losses * weights).sum().gradients(for: leaves), (perStratum * weights).sum().gradients(for: leaves))
        for leaf in leaves {
            #expect((gf[leaf] == nil) == (gc[leaf] == nil), "\(name) \(leaf.shape): gradient present in one form only")
            guard let f = gf[leaf], let c = gc[leaf] else { continue }
            let scale = c.scalars.map(abs).max()!
            let worst = zip(f.scalars, c.scalars).map { abs($0 - $1) }.max()!
            #expect(worst <= 1e-4 * max(scale, 1e-3), "\(name) \(leaf.shape): \(worst) (largest \(scale))")
        }
    }
}
