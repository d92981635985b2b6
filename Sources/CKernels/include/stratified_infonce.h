// InfoNCE of every additive background stratum from one shared similarity row (ICL-MSR on MoCo v2).
//
// With unit query q̂, unit queue rows n̂_j and stratum vector m, the stratified vectors are
// q̃ = (q̂ + m)/a and ñ_j = (n̂_j + m)/b_j (a, b_j their norms), so the stratum's logit is
//
//     s_j = q̃·ñ_j / T = ((G_j + u)·r_j + c_j) · v,     G_j = q̂·n̂_j, u = q̂·m, r_j = 1/b_j,
//                                                       c_j = m·ñ_j,  v = 1/(a·T),
//
// and one row of G = q̂·n̂ᵀ serves all K strata: each costs a few operations per logit instead of
// a d-long dot product. These kernels take one query row and run every stratum on it; the caller
// (Contrastive's `stratifiedInfoNCELosses`) prepares u, v, r, c and the positive logits.
//
// Two builds, chosen by the caller (`bd_cpu_has_avx2_fma`): AVX2 (`*_avx2`) and portable C
// (`*_portable`). Both run the same float operations in the same order — separate multiplies and
// adds (no FMA contraction), every sum in 8 lanes (element j in lane j mod 8) combined by one fixed
// tree, the exponential of the log-softmax rows (softmax_rows.h) — so they agree bit for bit, and
// rows are never split, so the result does not depend on how rows are shared among workers.
#ifndef BACKDROP_STRATIFIED_INFONCE_H
#define BACKDROP_STRATIFIED_INFONCE_H

/// One query row through all `k` strata, forward: `lse[s] = log(e^pos[s] + Σ_j e^(s_sj))` with
/// `s_sj = ((g[j] + u[s])·r[s·q + j] + c[s·q + j])·v[s]`, `j < q`.
/// - Parameters: g: `[q]`, the row of G; u, v, pos: `[k]`; r, c: `[k, q]`; scratch: `[q]`.
void bd_stratified_infonce_forward_row_portable(const float *g, long q, long k, const float *u, const float *v, const float *pos,
                                                const float *r, const float *c, float *scratch, float *lse);
void bd_stratified_infonce_forward_row_avx2(const float *g, long q, long k, const float *u, const float *v, const float *pos,
                                            const float *r, const float *c, float *scratch, float *lse);

/// One query row through all `k` strata, backward, given the forward's `lse` and each stratum's
/// loss gradient `coef[s]` (the upstream gradient of that stratum's loss over the number of rows).
/// With `e_sj = coef[s]·softmax_j` (negatives) and `e0[s] = coef[s]·(softmax_0 − 1)` (positive):
///
///     d[j]         += Σ_s e_sj·r[s·q + j]·v[s]    (when `d` is not NULL; `d` is the row of D,
///                                                  ∂L/∂G = D/1, accumulated over strata in order)
///     w[s·q + j]   += e_sj·v[s]                   (when `w` is not NULL)
///     sigma[s]      = Σ_j e_sj·r[s·q + j]
///     rho[s]        = e0[s]·pos[s] + Σ_j e_sj·s_sj
///
/// - Parameters: scratch: `[q]`; sigma, rho, e0: `[k]` outputs.
void bd_stratified_infonce_backward_row_portable(const float *g, long q, long k, const float *u, const float *v, const float *pos,
                                                 const float *r, const float *c, const float *lse, const float *coef,
                                                 float *scratch, float *d, float *w, float *sigma, float *rho, float *e0);
void bd_stratified_infonce_backward_row_avx2(const float *g, long q, long k, const float *u, const float *v, const float *pos,
                                             const float *r, const float *c, const float *lse, const float *coef,
                                             float *scratch, float *d, float *w, float *sigma, float *rho, float *e0);

#endif
