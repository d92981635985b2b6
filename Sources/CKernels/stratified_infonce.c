// InfoNCE of every additive stratum from one shared similarity row, portable build (see
// include/stratified_infonce.h). Every step its own statement, every sum in explicit 8 lanes, so
// the AVX2 build (stratified_infonce_avx2.c) can repeat the same operations lane by lane.
#include "stratified_infonce.h"
#include "softmax_rows.h"
#include <math.h>

#pragma STDC FP_CONTRACT OFF

/// (l0 + l4, l1 + l5, l2 + l6, l3 + l7) → (· + ·₊₂) → one: the same tree as the log-softmax rows.
static inline float lane_total(const float lane[8]) {
    float b0 = lane[0] + lane[4], b1 = lane[1] + lane[5], b2 = lane[2] + lane[6], b3 = lane[3] + lane[7];
    float c0 = b0 + b2, c1 = b1 + b3;
    return c0 + c1;
}

static inline void exp_row(const float *x, float *y, long n) { bd_exp_approx_portable(x, y, n); }

/// The stratum's logit of negative j.
static inline float logit(float g, float u, float r, float c, float v) {
    float t = g + u;
    t = t * r;
    t = t + c;
    return t * v;
}

void bd_stratified_infonce_forward_row_portable(const float *g, long q, long k, const float *u, const float *v, const float *pos,
                                       const float *r, const float *c, float *scratch, float *lse) {
    for (long s = 0; s < k; s++) {
        const float *rs = r + s * q, *cs = c + s * q;
        const float us = u[s], vs = v[s];
        // The row's largest logit (max is exact: any order gives the same value).
        float m = pos[s];
        for (long j = 0; j < q; j++) {
            float x = logit(g[j], us, rs[j], cs[j], vs);
            scratch[j] = x;
            m = x > m ? x : m;
        }
        for (long j = 0; j < q; j++) scratch[j] = scratch[j] - m;
        exp_row(scratch, scratch, q);
        float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        long j = 0;
        for (; j + 8 <= q; j += 8)
            for (int l = 0; l < 8; l++) lane[l] = lane[l] + scratch[j + l];
        for (int l = 0; j + l < q; l++) lane[l] = lane[l] + scratch[j + l];
        float p0 = pos[s] - m;
        float e0;
        exp_row(&p0, &e0, 1);
        lse[s] = m + logf(lane_total(lane) + e0);
    }
}

void bd_stratified_infonce_backward_row_portable(const float *g, long q, long k, const float *u, const float *v, const float *pos,
                                        const float *r, const float *c, const float *lse, const float *coef,
                                        float *scratch, float *d, float *w, float *sigma, float *rho, float *e0) {
    if (d) for (long j = 0; j < q; j++) d[j] = 0;
    for (long s = 0; s < k; s++) {
        const float *rs = r + s * q, *cs = c + s * q;
        const float us = u[s], vs = v[s], ls = lse[s], cf = coef[s];
        for (long j = 0; j < q; j++) scratch[j] = logit(g[j], us, rs[j], cs[j], vs) - ls;
        exp_row(scratch, scratch, q);   // softmax_j
        float lane_sigma[8] = {0, 0, 0, 0, 0, 0, 0, 0}, lane_rho[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        long j = 0;
        for (; j + 8 <= q; j += 8)
            for (int l = 0; l < 8; l++) {
                float e = cf * scratch[j + l];
                scratch[j + l] = e;
                lane_sigma[l] = lane_sigma[l] + e * rs[j + l];
                lane_rho[l] = lane_rho[l] + e * logit(g[j + l], us, rs[j + l], cs[j + l], vs);
            }
        for (int l = 0; j + l < q; l++) {
            float e = cf * scratch[j + l];
            scratch[j + l] = e;
            lane_sigma[l] = lane_sigma[l] + e * rs[j + l];
            lane_rho[l] = lane_rho[l] + e * logit(g[j + l], us, rs[j + l], cs[j + l], vs);
        }
        // scratch now holds e_sj.
        if (d) for (long i = 0; i < q; i++) d[i] = d[i] + (scratch[i] * rs[i]) * vs;
        if (w) {
            float *ws = w + s * q;
            for (long i = 0; i < q; i++) ws[i] = ws[i] + scratch[i] * vs;
        }
        float p0 = pos[s] - ls, soft0;
        exp_row(&p0, &soft0, 1);
        float e = cf * (soft0 - 1.0f);
        e0[s] = e;
        sigma[s] = lane_total(lane_sigma);
        rho[s] = e * pos[s] + lane_total(lane_rho);
    }
}
