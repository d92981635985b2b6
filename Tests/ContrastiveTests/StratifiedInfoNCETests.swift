import Contrastive
import NN
import Testing
import TensorCore
import TestSupport

/// The fused InfoNCE of every additive stratum (`stratifiedInfoNCELosses`, MoCo v2's `L_MSR`)
/// against the composite it replaces, by central differences, and across worker counts.
@Suite struct StratifiedInfoNCETests {
    /// Random inputs: queries and keys `[r, d]`, queue `[q, d]` (not unit: the callers normalize),
    /// strata `[k, d]` at scale `scale`.
    struct Inputs {
        var queries: Tensor, keys: Tensor, queue: Tensor, strata: Tensor
        init(r: Int, d: Int, q: Int, k: Int, scale: Float = 0.6, seed: UInt64) {
            var rng = SeededRNG(seed: seed)
            (queries, keys, queue) = (rng.tensor([r, d]), rng.tensor([r, d]), rng.tensor([q, d]))
            strata = rng.tensor([k, d]) * scale
        }
    }

    /// The fused op on `normalize(queries)` with unit keys and queue, as MoCo v2 calls it.
    static func fused(_ x: Inputs, queries: Tensor, strata: Tensor, temperature: Float) -> Tensor {
        let (keys, queue) = withoutGradients { (x.keys.l2Normalized(axis: 1), x.queue.l2Normalized(axis: 1)) }
        return stratifiedInfoNCELosses(queries: queries.l2Normalized(axis: 1), keys: keys, queue: queue, strata: strata, temperature: temperature)
    }

    /// What the regularizer computes stratum by stratum without the fused op: stratify every
    /// vector, stop the keys and the queue, `infoNCETerm` of each stratum. `[K]`.
    static func composite(_ x: Inputs, queries: Tensor, strata: Tensor, temperature: Float) -> Tensor {
        let k = strata.shape[0], d = strata.shape[1]
        func stratify(_ z: Tensor) -> Tensor {
            (z.l2Normalized(axis: 1).reshaped([1, z.shape[0], d]) + strata.reshaped([k, 1, d])).l2Normalized(axis: 2)
        }
        func stratum(_ t: Tensor, _ s: Int) -> Tensor { t.slice(axis: 0, s..<(s + 1)).reshaped([t.shape[1], d]) }
        let (q, keys, queue) = (stratify(queries), stratify(x.keys).detached(), stratify(x.queue).detached())
        let losses = (0..<k).map { s in
            infoNCETerm(query: stratum(q, s), key: stratum(keys, s), queue: stratum(queue, s), temperature: temperature).loss().reshaped([1])
        }
        return Tensor.concat(losses, axis: 0)
    }

    /// Values and both gradients (queries before normalization, strata) of `Σ_k c_k L_k` agree with
    /// the composite to float round-off, on shapes with a row count that is not a multiple of the
    /// kernels' 8 lanes or 16-row blocks.
    @Test(arguments: [(5, 4, 13, 3), (37, 8, 41, 16), (3, 32, 8, 1)])
    func matchesTheComposite(_ shape: (Int, Int, Int, Int)) {
        let (r, d, q, k) = shape
        let x = Inputs(r: r, d: d, q: q, k: k, seed: UInt64(r * 100 + q))
        var rng = SeededRNG(seed: 5)
        let weights = rng.tensor([k])
        let queries = x.queries.trackedLeaf(), strata = x.strata.trackedLeaf()
        let fused = Self.fused(x, queries: queries, strata: strata, temperature: 0.2)
        let composite = Self.composite(x, queries: queries, strata: strata, temperature: 0.2)
        for (a, b) in zip(fused.scalars, composite.scalars) {
            #expect(abs(a - b) <= 2e-5 * max(1, abs(b)), "\(shape): fused \(a) vs composite \(b)")
        }
        let gf = (fused * weights).sum().gradients(for: [queries, strata])
        let gc = (composite * weights).sum().gradients(for: [queries, strata])
        for leaf in [queries, strata] {
            let (a, b) = (gf[leaf]!.scalars, gc[leaf]!.scalars)
            let scale = b.map(abs).max()!
            let worst = zip(a, b).map { abs($0 - $1) }.max()!
            #expect(worst <= 1e-4 * max(scale, 1e-3), "\(shape) \(leaf.shape): gradient differs by \(worst) (largest \(scale))")
        }
    }

    /// The queries' gradient against central differences of the fused op itself (`expectGradient`,
    /// the curved-op tolerances). Not the strata's: by MoCo's stop-gradients it leaves out how m_k
    /// moves the keys and the queue, which a difference in m_k cannot (`matchesTheComposite`
    /// checks it).
    @Test func queryGradientMatchesCentralDifferences() {
        let x = Inputs(r: 6, d: 4, q: 11, k: 3, scale: 1, seed: 21)
        expectGradient([x.queries], eps: 1e-3, atol: 5e-3, "stratifiedInfoNCELosses, queries") {
            Self.fused(x, queries: $0[0], strata: x.strata, temperature: 0.5)
        }
    }

    /// One worker and the machine's workers give the same bits, forward and backward (rows run
    /// whole; W's partial sums run over fixed 16-row blocks added in order).
    @Test func resultDoesNotDependOnTheWorkers() {
        let x = Inputs(r: 40, d: 8, q: 700, k: 5, seed: 3)
        func run() -> [[UInt32]] {
            let queries = x.queries.trackedLeaf(), strata = x.strata.trackedLeaf()
            let losses = Self.fused(x, queries: queries, strata: strata, temperature: 0.2)
            let g = (losses * Tensor(shape: [5], [1, 2, 3, 4, 5])).sum().gradients(for: [queries, strata])
            return [losses.scalars, g[queries]!.scalars, g[strata]!.scalars].map { $0.map(\.bitPattern) }
        }
        let one = Parallel.withWorkerLimit(1) { run() }
        #expect(one == run())
    }

    /// The AVX2 and the portable row kernels give the same bits, forward and backward, for row
    /// lengths around the 8 lanes (on a CPU without AVX2 both calls run the portable build).
    @Test(arguments: [1, 7, 8, 9, 16, 23, 64, 4097])
    func bothBuildsGiveTheSameBits(_ q: Int) {
        let x = Inputs(r: 19, d: 6, q: q, k: 3, scale: 0.8, seed: UInt64(q))
        func run(portable: Bool) -> [[UInt32]] {
            let queries = x.queries.trackedLeaf(), strata = x.strata.trackedLeaf()
            let (keys, queue) = withoutGradients { (x.keys.l2Normalized(axis: 1), x.queue.l2Normalized(axis: 1)) }
            let losses = stratifiedInfoNCELosses(queries: queries.l2Normalized(axis: 1), keys: keys, queue: queue, strata: strata,
                                                 temperature: 0.1, portableKernels: portable)
            let g = (losses * Tensor(shape: [3], [1, -2, 0.5])).sum().gradients(for: [queries, strata])
            return [losses.scalars, g[queries]!.scalars, g[strata]!.scalars].map { $0.map(\.bitPattern) }
        }
        #expect(run(portable: true) == run(portable: false), "row length \(q)")
    }

    /// Only the tracked inputs get a gradient: the meta step differentiates the strata alone.
    @Test func untrackedQueriesGetNoGradient() {
        let x = Inputs(r: 4, d: 4, q: 9, k: 2, seed: 8)
        let strata = x.strata.trackedLeaf()
        let losses = Self.fused(x, queries: x.queries, strata: strata, temperature: 0.2)
        let g = losses.sum().gradients(for: [strata])
        #expect(g[strata] != nil)
        let reference = Self.composite(x, queries: x.queries, strata: strata, temperature: 0.2).sum().gradients(for: [strata])
        let worst = zip(g[strata]!.scalars, reference[strata]!.scalars).map { abs($0 - $1) }.max()!
        #expect(worst <= 1e-5)
    }

    /// MoCo v2's `L_MSR` through the fused op equals the regularizer's stratum-by-stratum sum
    /// (`Σ_k P_k · L_base(stratum k)`) with its gradients in the online vectors, M and w; with hard
    /// negatives the regularizer keeps the composite (`additiveStrataLosses` is nil).
    @Test func mocoRegularizerMatchesTheStratumByStratumSum() throws {
        let method = try tinyMethod("mocov2") as! MoCoV2
        let regularizer = MetaSemanticRegularizer(dimension: method.comparisonDimension, options: ICLMSROptions(strata: 4), seed: 2)
        regularizer.priorLogits.value = Tensor(shape: [4], [0.3, -0.2, 0.5, 0])
        var rng = SeededRNG(seed: 9)
        let online = (rng.tensor([6, 8]).trackedLeaf(), rng.tensor([6, 8]).trackedLeaf())
        let vectors = ComparisonVectors(pairs: [(online.0, rng.tensor([6, 8])), (online.1, rng.tensor([6, 8]))],
                                        negatives: rng.tensor([16, 8]), features: online.0)
        let leaves = [online.0, online.1, regularizer.strata.value, regularizer.priorLogits.value]
        let fusedLoss = regularizer.loss(vectors, method: method)
        let p = regularizer.prior()
        var stratumSum = Tensor(0)
        for k in 0..<4 {
            let m = regularizer.strata.value.slice(axis: 0, k..<(k + 1))
            let stratified = vectors.mapVectors { ($0.l2Normalized(axis: 1) + m).l2Normalized(axis: 1) }
            stratumSum = stratumSum + method.baseLoss(stratified) * p.slice(axis: 0, k..<(k + 1)).reshaped([])
        }
        #expect(abs(fusedLoss.item - stratumSum.item) <= 1e-5 * max(1, abs(stratumSum.item)))
        let (gf, gc) = (fusedLoss.gradients(for: leaves), stratumSum.gradients(for: leaves))
        for leaf in leaves {
            let worst = zip(gf[leaf]!.scalars, gc[leaf]!.scalars).map { abs($0 - $1) }.max()!
            #expect(worst <= 1e-5, "\(leaf.shape): \(worst)")
        }
        var hard = vectors
        hard.hardNegatives = rng.tensor([3, 8])
        #expect(method.additiveStrataLosses(hard, strata: regularizer.strata.value) == nil)
        #expect(method.additiveStrataLosses(vectors, strata: regularizer.strata.value) != nil)
    }
}
