// InfoNCE of every additive stratum from one shared similarity row, AVX2 build (see
// include/stratified_infonce.h): lane for lane the operations of the portable build
// (stratified_infonce.c) — multiplies and adds kept separate, element j summed in lane j mod 8 —
// so both give the same bits.
#include "stratified_infonce.h"
#include <math.h>

#pragma STDC FP_CONTRACT OFF

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include "softmax_avx2_shared.h"

/// The stratum's logits of eight negatives (the portable `logit`, lane by lane).
BD_AVX2 static inline __m256 logit8(__m256 g, __m256 u, __m256 r, __m256 c, __m256 v) {
    __m256 t = _mm256_add_ps(g, u);
    t = _mm256_mul_ps(t, r);
    t = _mm256_add_ps(t, c);
    return _mm256_mul_ps(t, v);
}

/// The exponential of one value (the portable build's, the same bits).
BD_AVX2 static inline float exp1(float x) { return _mm256_cvtss_f32(exp_approx8(_mm256_set1_ps(x))); }

BD_AVX2 void bd_stratified_infonce_forward_row_avx2(const float *g, long q, long k, const float *u, const float *v, const float *pos,
                                                    const float *r, const float *c, float *scratch, float *lse) {
    const long full = q - q % 8;
    const __m256i tail = head_mask(q - full);
    for (long s = 0; s < k; s++) {
        const float *rs = r + s * q, *cs = c + s * q;
        const __m256 us = _mm256_set1_ps(u[s]), vs = _mm256_set1_ps(v[s]);
        // The row's largest logit (max is exact: any order gives the portable build's value).
        __m256 mv = _mm256_set1_ps(pos[s]);
        for (long j = 0; j < full; j += 8) {
            __m256 x = logit8(_mm256_loadu_ps(g + j), us, _mm256_loadu_ps(rs + j), _mm256_loadu_ps(cs + j), vs);
            _mm256_storeu_ps(scratch + j, x);
            mv = _mm256_max_ps(x, mv);
        }
        float m;
        {
            float lanes[8];
            _mm256_storeu_ps(lanes, mv);
            m = pos[s];
            for (int l = 0; l < 8; l++) m = lanes[l] > m ? lanes[l] : m;
            if (full < q) {
                __m256 x = logit8(_mm256_maskload_ps(g + full, tail), us, _mm256_maskload_ps(rs + full, tail),
                                  _mm256_maskload_ps(cs + full, tail), vs);
                _mm256_maskstore_ps(scratch + full, tail, x);
                _mm256_storeu_ps(lanes, x);
                for (long l = 0; full + l < q; l++) m = lanes[l] > m ? lanes[l] : m;
            }
        }
        const __m256 mb = _mm256_set1_ps(m);
        __m256 sum = _mm256_setzero_ps();
        for (long j = 0; j < full; j += 8) sum = _mm256_add_ps(sum, exp_approx8(_mm256_sub_ps(_mm256_loadu_ps(scratch + j), mb)));
        if (full < q) {
            __m256 e = exp_approx8(_mm256_sub_ps(_mm256_maskload_ps(scratch + full, tail), mb));
            sum = _mm256_add_ps(sum, _mm256_and_ps(e, _mm256_castsi256_ps(tail)));
        }
        float e0 = exp1(pos[s] - m);
        lse[s] = m + logf(lane_total8(sum) + e0);
    }
}

BD_AVX2 void bd_stratified_infonce_backward_row_avx2(const float *g, long q, long k, const float *u, const float *v, const float *pos,
                                                     const float *r, const float *c, const float *lse, const float *coef,
                                                     float *scratch, float *d, float *w, float *sigma, float *rho, float *e0) {
    (void)scratch;
    const long full = q - q % 8;
    const __m256i tail = head_mask(q - full);
    if (d) for (long j = 0; j < q; j++) d[j] = 0;
    for (long s = 0; s < k; s++) {
        const float *rs = r + s * q, *cs = c + s * q;
        float *ws = w ? w + s * q : 0;
        const __m256 us = _mm256_set1_ps(u[s]), vs = _mm256_set1_ps(v[s]), ls = _mm256_set1_ps(lse[s]), cf = _mm256_set1_ps(coef[s]);
        __m256 lane_sigma = _mm256_setzero_ps(), lane_rho = _mm256_setzero_ps();
        for (long j = 0; j <= full; j += 8) {
            const int last = j == full;
            if (last && full == q) break;
            __m256 gj, rj, cj;
            if (last) {
                gj = _mm256_maskload_ps(g + j, tail), rj = _mm256_maskload_ps(rs + j, tail), cj = _mm256_maskload_ps(cs + j, tail);
            } else {
                gj = _mm256_loadu_ps(g + j), rj = _mm256_loadu_ps(rs + j), cj = _mm256_loadu_ps(cs + j);
            }
            __m256 x = logit8(gj, us, rj, cj, vs);
            __m256 e = _mm256_mul_ps(cf, exp_approx8(_mm256_sub_ps(x, ls)));
            if (last) e = _mm256_and_ps(e, _mm256_castsi256_ps(tail));   // lanes past the row add +0 (exact)
            __m256 er = _mm256_mul_ps(e, rj);
            lane_sigma = _mm256_add_ps(lane_sigma, er);
            lane_rho = _mm256_add_ps(lane_rho, _mm256_mul_ps(e, x));
            if (last) {
                if (d) _mm256_maskstore_ps(d + j, tail, _mm256_add_ps(_mm256_maskload_ps(d + j, tail), _mm256_mul_ps(er, vs)));
                if (ws) _mm256_maskstore_ps(ws + j, tail, _mm256_add_ps(_mm256_maskload_ps(ws + j, tail), _mm256_mul_ps(e, vs)));
            } else {
                if (d) _mm256_storeu_ps(d + j, _mm256_add_ps(_mm256_loadu_ps(d + j), _mm256_mul_ps(er, vs)));
                if (ws) _mm256_storeu_ps(ws + j, _mm256_add_ps(_mm256_loadu_ps(ws + j), _mm256_mul_ps(e, vs)));
            }
        }
        float e = coef[s] * (exp1(pos[s] - lse[s]) - 1.0f);
        e0[s] = e;
        sigma[s] = lane_total8(lane_sigma);
        rho[s] = e * pos[s] + lane_total8(lane_rho);
    }
}

#else

void bd_stratified_infonce_forward_row_avx2(const float *g, long q, long k, const float *u, const float *v, const float *pos,
                                            const float *r, const float *c, float *scratch, float *lse) {
    bd_stratified_infonce_forward_row_portable(g, q, k, u, v, pos, r, c, scratch, lse);
}

void bd_stratified_infonce_backward_row_avx2(const float *g, long q, long k, const float *u, const float *v, const float *pos,
                                             const float *r, const float *c, const float *lse, const float *coef,
                                             float *scratch, float *d, float *w, float *sigma, float *rho, float *e0) {
    bd_stratified_infonce_backward_row_portable(g, q, k, u, v, pos, r, c, lse, coef, scratch, d, w, sigma, rho, e0);
}

#endif
