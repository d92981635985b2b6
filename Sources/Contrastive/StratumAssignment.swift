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
    /// The vectors this method compares (and ICL-MSR stratifies) for unaugmented images: the
    /// first compared vector of each image when the same batch is given as both views, in
    /// `ForwardMode.eval` (batch norm on running statistics, no running-statistic update, no
    /// queue bookkeeping) without gradients — SimCLR and Barlow Twins `z = g(f(x))`, MoCo v2 the
    /// query `q`, BYOL and SimSiam the predictor output `p = h(g(f(x)))`. Nothing is changed.
    /// - Parameter images: `[N, 3, H, W]` normalized images.
    /// - Returns: `[N, d]`, `d = comparisonDimension`.
    public func comparedVectors(of images: Tensor) throws -> Tensor {
        try withoutGradients {
            try comparisonVectors(view1: images, view2: images, mode: .eval, reusingTargetsOf: nil).pairs[0].first.detached()
        }
    }
}
