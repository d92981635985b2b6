import NN
import TensorCore

extension MetaSemanticRegularizer {
    /// The stratum of each compared vector: `k*(i) = argmax_k cos(z_i, m_k)` (the first k on a tie).
    ///
    /// Cosine, not the injected vectors: with `additive` injection every stratum version
    /// `normalize(ẑ + m_k)` moves ẑ towards `m_k`, so the stratum a vector already points to is the
    /// background the regularizer believes it carries; with `gated` injection `m_k` is a gate, and
    /// the cosine reads the same direction. A stratum that a background family consistently picks
    /// is a "background stratum"; `MutualInformation.normalized` of these labels with the
    /// families measures it.
    /// - Parameter z: `[N, d]` compared vectors (`d` = the strata's width; any norm).
    /// - Returns: N stratum indices in `0..<K`.
    public func assignStrata(_ z: Tensor) -> [Int] {
        precondition(z.rank == 2 && z.shape[1] == strata.value.shape[1],
                     "assignStrata: vectors \(z.shape) do not match strata \(strata.value.shape)")
        let k = options.strata, n = z.shape[0]
        let cosines = withoutGradients {
            Tensor.matmul(z.detached().l2Normalized(axis: 1), strata.value.detached().l2Normalized(axis: 1), transposeB: true)
        }.scalars                                                                                    // [N, K]
        return (0..<n).map { i in
            var best = 0
            for j in 1..<max(k, 1) where cosines[i * k + j] > cosines[i * k + best] { best = j }
            return best
        }
    }
}

extension ContrastiveMethod {
    /// The vectors this method compares (and ICL-MSR stratifies) for unaugmented images, on the
    /// online side: SimCLR and Barlow Twins `z = g(f(x))`, MoCo v2 the query `q`, BYOL and SimSiam
    /// the predictor output `p = h(g(f(x)))`. Computed in `ForwardMode.eval` (batch norm on running
    /// statistics, no running-statistic update, no queue bookkeeping) without gradients, so nothing
    /// is changed and each image's vector does not depend on the others in the batch.
    ///
    /// One forward pass: the first half of the batch is given as view 1 and the second half as
    /// view 2 (an odd batch repeats its last image, which is dropped again), and each half's
    /// online vectors are read where `ComparisonVectors` documents them — view 1 at
    /// `pairs[0].first`, view 2 at `pairs[1].first` for the symmetric methods (two pairs) and at
    /// `pairs[0].second` for SimCLR and Barlow Twins (one pair of online vectors).
    /// - Parameter images: `[N, 3, H, W]` normalized images, N ≥ 1.
    /// - Returns: `[N, d]`, `d = comparisonDimension`.
    public func comparedVectors(of images: Tensor) throws -> Tensor {
        let n = images.shape[0]
        precondition(n >= 1, "comparedVectors: empty batch")
        let padded = n % 2 == 0 ? images : Tensor.concat([images, images.slice(axis: 0, (n - 1)..<n)], axis: 0)
        let half = padded.shape[0] / 2
        return try withoutGradients {
            let v = try comparisonVectors(view1: padded.slice(axis: 0, 0..<half), view2: padded.slice(axis: 0, half..<(2 * half)),
                                          mode: .eval, reusingTargetsOf: nil)
            let second = v.pairs.count > 1 ? v.pairs[1].first : v.pairs[0].second
            return Tensor.concat([v.pairs[0].first, second], axis: 0).slice(axis: 0, 0..<n).detached()
        }
    }
}
