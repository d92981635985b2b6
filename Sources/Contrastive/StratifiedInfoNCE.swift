import CKernels
import TensorCore

/// InfoNCE in every additive background stratum at once (ICL-MSR's `L_MSR` terms on MoCo v2),
/// as one op with its own gradient.
///
/// Stratum k of a unit vector x is `normalize(x + m_k)` (`MetaSemanticRegularizer.stratify`,
/// `injection: additive`). With unit query q̂_i, key k̂_i and queue rows n̂_j, entry k of the result
/// is the InfoNCE loss of the stratified vectors, averaged over the R rows:
///
///     L_k = mean_i CE([q̃_ik·k̃_ik, q̃_ik·ñ_kjᵀ] / T, 0),   q̃_ik = (q̂_i + m_k)/a_ik,
///                                                       ñ_kj = (n̂_j + m_k)/b_kj, k̃ likewise,
///
/// the composite `infoNCETerm(query: q̃, key: k̃, queue: ñ)` of each stratum. Because
/// `q̃_ik·ñ_kj = ((q̂_i·n̂_j + q̂_i·m_k)/b_kj + m_k·ñ_kj)/a_ik`, one `G = q̂·n̂ᵀ` `[R, Q]` serves all K
/// strata: each stratum costs a few operations per logit (`CKernels/stratified_infonce.h`) instead
/// of its own `[R, d]·[d, Q]` product, and the `[K, R, 1 + Q]` logits are never stored (the
/// backward recomputes each row from G). The gradient reaches q̂ and M only: the keys and the
/// queue are stopped after stratification (MoCo's stop-gradients), so m_k acts through q̃ alone.
/// Backward, with `e_ikj = ∂L/∂s_ikj` (s the logits) and ρ_ik = q̃_ik·∂L/∂q̃_ik = Σ_j e_ikj s_ikj:
///
///     ∂L/∂q̃_ik = (Σ_j e_ikj ñ_kj + e_ik0 k̃_ik)/T,   ∂L/∂x_ik = (∂L/∂q̃_ik − ρ_ik q̃_ik)/a_ik   (x = q̂ + m)
///     ∂L/∂q̂_i = Σ_k ∂L/∂x_ik = D·n̂ + Σ_k (m_k σ_ik + e_ik0 k̃_ik)/(a_ik T) − ρ_ik q̃_ik/a_ik
///     ∂L/∂m_k = Σ_i ∂L/∂x_ik  (the same terms, summed over rows; D's part is (W_k ⊙ 1/b_k)·n̂)
///
/// with `D_ij = Σ_k e_ikj/(a_ik T b_kj)`, `σ_ik = Σ_j e_ikj/b_kj`, `W_kj = Σ_i e_ikj/(a_ik T)`: two
/// GEMMs with the queue instead of 2K. Where a norm is clamped at `eps` the projection term is
/// dropped, as `l2Normalized`'s gradient does.
///
/// Every sum has a fixed order (rows are never split; W's partial sums run over fixed blocks of
/// rows, added in block order), so the result does not depend on the number of workers, and the
/// row kernels' AVX2 and portable builds give the same bits, so neither depends on the CPU. The
/// values differ from the composite's by float round-off only (tested against it and by central
/// differences).
/// - Parameters:
///   - queries: q̂ `[R, d]`, unit rows (tracked).
///   - keys: k̂ `[R, d]`, unit rows (no gradient).
///   - queue: n̂ `[Q, d]`, unit rows (no gradient).
///   - strata: M `[K, d]`.
///   - portableKernels: run the portable C rows even where the AVX2 build would (the tests compare
///     the two builds; the result is the same).
/// - Returns: `[K]`.
public func stratifiedInfoNCELosses(queries: Tensor, keys: Tensor, queue: Tensor, strata: Tensor, temperature: Float,
                                    eps: Float = 1e-12, portableKernels: Bool = false) -> Tensor {
    precondition(queries.rank == 2 && keys.shape == queries.shape && queue.rank == 2 && strata.rank == 2
                    && queue.shape[1] == queries.shape[1] && strata.shape[1] == queries.shape[1],
                 "stratifiedInfoNCELosses: queries \(queries.shape), keys \(keys.shape), queue \(queue.shape), strata \(strata.shape)")
    let prepared = StratifiedRows(queries: queries, keys: keys, queue: queue, strata: strata, temperature: temperature, eps: eps,
                                  avx2: CPUFeatures.hasAVX2FMA && !portableKernels)
    let losses = prepared.forward()
    return Tensor.record("stratifiedInfoNCE", result: losses, inputs: [queries, strata]) { g in
        let (dq, dm) = prepared.backward(lossGradient: g, needQueries: queries.isTracked, needStrata: strata.isTracked)
        return [dq, dm]
    }
}

/// The per-stratum quantities of `stratifiedInfoNCELosses` (everything but the `[R, Q]` rows),
/// computed once and kept for the backward. Each array is a tensor's storage.
private final class StratifiedRows {
    /// Rows per block of W's partial sums (fixed, so W's bits do not depend on the workers).
    static let blockRows = 16

    let r: Int, d: Int, q: Int, k: Int
    /// Whether the rows run the AVX2 build (else the portable one; the same bits).
    let avx2: Bool
    let queue: Tensor, strata: Tensor
    /// G = q̂·n̂ᵀ `[R, Q]`.
    let gram: Tensor
    /// `[K, Q]`: 1/b_kj and m_k·ñ_kj.
    let inverseB: Tensor, strataDotQueue: Tensor
    /// `[R, K]`: q̂_i·m_k, 1/(a_ik T), 1/a_ik, the positive logit, the forward's log-sum-exp.
    let u: Tensor, v: Tensor, inverseA: Tensor, positive: Tensor, logSumExp: Tensor
    /// `[R, K]`: whether a_ik is clamped at eps.
    var clamped: [Bool]
    /// `[R, K, d]`: q̃_ik and k̃_ik.
    let stratifiedQueries: Tensor, stratifiedKeys: Tensor

    init(queries: Tensor, keys: Tensor, queue: Tensor, strata: Tensor, temperature: Float, eps: Float, avx2: Bool) {
        (r, d, q, k) = (queries.shape[0], queries.shape[1], queue.shape[0], strata.shape[0])
        self.avx2 = avx2
        self.queue = queue.detached()
        self.strata = strata.detached()
        gram = withoutGradients { Tensor.matmul(queries.detached(), queue.detached(), transposeB: true) }
        (inverseB, strataDotQueue) = (.uninitialized([k, q]), .uninitialized([k, q]))
        (u, v, inverseA, positive, logSumExp) = (.uninitialized([r, k]), .uninitialized([r, k]), .uninitialized([r, k]),
                                                 .uninitialized([r, k]), .uninitialized([r, k]))
        clamped = [Bool](repeating: false, count: r * k)
        (stratifiedQueries, stratifiedKeys) = (.uninitialized([r, k, d]), .uninitialized([r, k, d]))

        let (m, n, qp, kp) = (strata.pointer, queue.pointer, queries.pointer, keys.pointer)
        let (d, q, k, r) = (d, q, k, r), floor = eps * eps, invT = 1 / temperature
        // The queue in each stratum: b_kj = ‖n̂_j + m_k‖ and m_k·ñ_kj, as `l2Normalized` forms them.
        let (ib, cd) = (inverseB.storage.pointer, strataDotQueue.storage.pointer)
        Parallel.forEachChunk(k * q, costPerItem: 4 * d) { items in
            let x = UnsafeMutablePointer<Float>.allocate(capacity: d)
            defer { x.deallocate() }
            for item in items {
                let (s, j) = (item / q, item % q)
                var sum: Float = 0
                for c in 0..<d { x[c] = n[j * d + c] + m[s * d + c]; sum += x[c] * x[c] }
                let norm = max(sum, floor).squareRoot()
                var dot: Float = 0
                for c in 0..<d { dot += m[s * d + c] * (x[c] / norm) }
                (ib[item], cd[item]) = (1 / norm, dot)
            }
        }
        // Queries and keys in each stratum (R·K·d: small beside the rows).
        let (sq, sk) = (stratifiedQueries.storage.pointer, stratifiedKeys.storage.pointer)
        let (up, vp, ia, pos) = (u.storage.pointer, v.storage.pointer, inverseA.storage.pointer, positive.storage.pointer)
        for i in 0..<r {
            for s in 0..<k {
                let item = i * k + s, out = item * d
                var (sumQ, sumK, dotU): (Float, Float, Float) = (0, 0, 0)
                for c in 0..<d {
                    let mc = m[s * d + c]
                    let xq = qp[i * d + c] + mc, xk = kp[i * d + c] + mc
                    (sq[out + c], sk[out + c]) = (xq, xk)
                    sumQ += xq * xq
                    sumK += xk * xk
                    dotU += qp[i * d + c] * mc
                }
                let a = max(sumQ, floor).squareRoot(), b = max(sumK, floor).squareRoot()
                var dot: Float = 0
                for c in 0..<d {
                    sq[out + c] /= a
                    sk[out + c] /= b
                    dot += sq[out + c] * sk[out + c]
                }
                (up[item], ia[item], vp[item], clamped[item]) = (dotU, 1 / a, invT / a, sumQ < floor)
                pos[item] = dot * invT
            }
        }
    }

    /// `[K]`: each stratum's mean cross-entropy over the rows.
    func forward() -> Tensor {
        let (r, q, k) = (r, q, k), g = gram.pointer
        let row = avx2 ? bd_stratified_infonce_forward_row_avx2 : bd_stratified_infonce_forward_row_portable
        let (u, v, pos, ib, cd, lse) = (u.pointer, v.pointer, positive.pointer, inverseB.pointer, strataDotQueue.pointer,
                                        logSumExp.storage.pointer)
        Parallel.forEachChunk(r, costPerItem: 12 * k * q, minimumWork: 1 << 16) { rows in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: q)
            defer { scratch.deallocate() }
            for i in rows {
                row(g + i * q, q, k, u + i * k, v + i * k, pos + i * k, ib, cd, scratch, lse + i * k)
            }
        }
        var losses = [Float](repeating: 0, count: k)
        for s in 0..<k {
            var total: Float = 0
            for i in 0..<r { total += lse[i * k + s] - pos[i * k + s] }
            losses[s] = total / Float(r)
        }
        return Tensor(shape: [k], losses)
    }

    /// `(∂L/∂q̂ [R, d], ∂L/∂M [K, d])` for the output gradient `lossGradient` `[K]` (nil where not needed).
    func backward(lossGradient: Tensor, needQueries: Bool, needStrata: Bool) -> (Tensor?, Tensor?) {
        guard needQueries || needStrata else { return (nil, nil) }
        let (r, d, q, k) = (r, d, q, k), g = gram.pointer, lg = lossGradient.pointer
        let coef = Tensor(shape: [k], (0..<k).map { lg[$0] / Float(r) })
        let row = avx2 ? bd_stratified_infonce_backward_row_avx2 : bd_stratified_infonce_backward_row_portable
        let blocks = (r + Self.blockRows - 1) / Self.blockRows
        let rowGradient = needQueries ? Tensor.uninitialized([r, q]) : nil   // the row kernels zero each row of D first
        let partialW = needStrata ? Tensor(repeating: 0, shape: [blocks, k, q]) : nil
        let (sigma, rho, e0) = (Tensor.uninitialized([r, k]), Tensor.uninitialized([r, k]), Tensor.uninitialized([r, k]))
        let (u, v, pos, ib, cd, lse, cf) = (u.pointer, v.pointer, positive.pointer, inverseB.pointer, strataDotQueue.pointer,
                                            logSumExp.pointer, coef.pointer)
        let (dRows, pw) = (rowGradient?.storage.pointer, partialW?.storage.pointer)
        let (sg, rh, ez) = (sigma.storage.pointer, rho.storage.pointer, e0.storage.pointer)
        Parallel.forEachChunk(blocks, costPerItem: Self.blockRows * 16 * k * q, minimumWork: 1 << 16) { blockRange in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: q)
            defer { scratch.deallocate() }
            for b in blockRange {
                let w = pw.map { $0 + b * k * q }
                for i in (b * Self.blockRows)..<min(r, (b + 1) * Self.blockRows) {
                    row(g + i * q, q, k, u + i * k, v + i * k, pos + i * k, ib, cd, lse + i * k, cf,
                        scratch, dRows.map { $0 + i * q }, w, sg + i * k, rh + i * k, ez + i * k)
                }
            }
        }

        // ∂L/∂x_ik without D's part: (m_k σ_ik + e_ik0 k̃_ik)/(a_ik T) − ρ_ik q̃_ik/a_ik.
        let (m, sq, sk, ia) = (strata.pointer, stratifiedQueries.pointer, stratifiedKeys.pointer, inverseA.pointer)
        let dx = Tensor.uninitialized([r, k, d])
        let dxp = dx.storage.pointer
        for i in 0..<r {
            for s in 0..<k {
                let item = i * k + s, base = item * d
                let projection = clamped[item] ? 0 : rh[item] * ia[item]
                for c in 0..<d {
                    dxp[base + c] = (m[s * d + c] * sg[item] + ez[item] * sk[base + c]) * v[item] - projection * sq[base + c]
                }
            }
        }
        var dq: Tensor?
        if let rowGradient {
            var sum = Tensor.matmul(rowGradient, queue)   // D·n̂ [R, d]
            sum.withMutableStorage { out in
                for i in 0..<r { for s in 0..<k { for c in 0..<d { out[i * d + c] += dxp[(i * k + s) * d + c] } } }
            }
            dq = sum
        }
        var dm: Tensor?
        if let pw {
            // W_k ⊙ 1/b_k (its blocks added in order), then (W ⊙ 1/b)·n̂ [K, d].
            let weights = Tensor(repeating: 0, shape: [k, q])
            let wp = weights.storage.pointer
            for b in 0..<blocks { for e in 0..<(k * q) { wp[e] += pw[b * k * q + e] } }
            for e in 0..<(k * q) { wp[e] *= ib[e] }
            var sum = Tensor.matmul(weights, queue)
            sum.withMutableStorage { out in
                for i in 0..<r { for s in 0..<k { for c in 0..<d { out[s * d + c] += dxp[(i * k + s) * d + c] } } }
            }
            dm = sum
        }
        // The buffers read through raw pointers above live until here.
        withExtendedLifetime((coef, partialW, sigma, rho, e0, dx)) {}
        return (dq, dm)
    }
}
