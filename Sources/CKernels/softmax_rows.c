// log-softmax rows, portable build (see include/softmax_rows.h). Every step is its own statement
// and every fused multiply-add an explicit `fmaf`, so the compiler contracts nothing and the AVX2
// build (softmax_rows_avx2.c) can repeat the same operations lane by lane.
#include "softmax_rows.h"
#include "softmax_shared.h"
#include <math.h>
#include <stdint.h>
#include <string.h>

#pragma STDC FP_CONTRACT OFF

static inline float exp_approx(float x) {
    float t = x * BD_LOG2E;
    float n = nearbyintf(t);
    float r = fmaf(n, -BD_LN2_HI, x);
    r = fmaf(n, -BD_LN2_LO, r);
    float p = BD_EXP_P0;
    p = fmaf(p, r, BD_EXP_P1);
    p = fmaf(p, r, BD_EXP_P2);
    p = fmaf(p, r, BD_EXP_P3);
    p = fmaf(p, r, BD_EXP_P4);
    p = fmaf(p, r, BD_EXP_P5);
    float r2 = r * r;
    float y = fmaf(p, r2, r);
    y = y + 1.0f;
    if (x < BD_EXP_LOW) return 0.0f;          // also −∞
    if (x > BD_EXP_HIGH) return INFINITY;
    if (x != x) return x;                     // NaN
    int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return y * scale;
}

/// The 8-lane sum both builds use: lane l adds elements l, l + 8, l + 16, … in order; then
/// (l0 + l4, l1 + l5, l2 + l6, l3 + l7) → (· + ·₊₂) → one.
static inline float lane_total(const float lane[8]) {
    float b0 = lane[0] + lane[4], b1 = lane[1] + lane[5], b2 = lane[2] + lane[6], b3 = lane[3] + lane[7];
    float c0 = b0 + b2, c1 = b1 + b3;
    return c0 + c1;
}

void bd_exp_approx_portable(const float *x, float *y, long n) {
    for (long i = 0; i < n; i++) y[i] = exp_approx(x[i]);
}

void bd_log_softmax_rows_portable(const float *x, float *out, long rows, long n) {
    for (long r = 0; r < rows; r++) {
        const float *row = x + r * n;
        float m = -INFINITY;
        for (long j = 0; j < n; j++) m = row[j] > m ? row[j] : m;
        float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        for (long j = 0; j < n; j++) {
            float d = row[j] - m;
            lane[j % 8] = lane[j % 8] + exp_approx(d);
        }
        float lse = m + logf(lane_total(lane));
        float *o = out + r * n;
        for (long j = 0; j < n; j++) o[j] = row[j] - lse;
    }
}

void bd_log_softmax_backward_rows_portable(const float *out, const float *g, float *dx, long rows, long n) {
    for (long r = 0; r < rows; r++) {
        const float *o = out + r * n, *gr = g + r * n;
        float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        for (long j = 0; j < n; j++) lane[j % 8] = lane[j % 8] + gr[j];
        float s = lane_total(lane);
        float *d = dx + r * n;
        for (long j = 0; j < n; j++) d[j] = o[j] == -INFINITY ? 0.0f : fmaf(-exp_approx(o[j]), s, gr[j]);
    }
}
