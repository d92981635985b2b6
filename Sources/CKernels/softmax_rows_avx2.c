// log-softmax rows, AVX2 + FMA build (see include/softmax_rows.h): lane for lane the operations of
// the portable build (softmax_rows.c), so both give the same bits.
#include "softmax_rows.h"
#include "softmax_shared.h"
#include <math.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#include <stdint.h>

#define BD_AVX2 __attribute__((target("avx2,fma")))

BD_AVX2 static inline __m256 exp_approx8(__m256 x) {
    __m256 t = _mm256_mul_ps(x, _mm256_set1_ps(BD_LOG2E));
    __m256 n = _mm256_round_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fmadd_ps(n, _mm256_set1_ps(-BD_LN2_HI), x);
    r = _mm256_fmadd_ps(n, _mm256_set1_ps(-BD_LN2_LO), r);
    __m256 p = _mm256_set1_ps(BD_EXP_P0);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(BD_EXP_P1));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(BD_EXP_P2));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(BD_EXP_P3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(BD_EXP_P4));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(BD_EXP_P5));
    __m256 r2 = _mm256_mul_ps(r, r);
    __m256 y = _mm256_fmadd_ps(p, r2, r);
    y = _mm256_add_ps(y, _mm256_set1_ps(1.0f));
    // 2ⁿ in the exponent bits; lanes outside [LOW, HIGH] or NaN are replaced below.
    __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    y = _mm256_mul_ps(y, _mm256_castsi256_ps(bits));
    __m256 low = _mm256_cmp_ps(x, _mm256_set1_ps(BD_EXP_LOW), _CMP_LT_OQ);
    __m256 high = _mm256_cmp_ps(x, _mm256_set1_ps(BD_EXP_HIGH), _CMP_GT_OQ);
    __m256 nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
    y = _mm256_andnot_ps(low, y);
    y = _mm256_blendv_ps(y, _mm256_set1_ps(INFINITY), high);
    return _mm256_blendv_ps(y, x, nan);
}

/// Lanes `0 ..< count` set (count ≤ 8).
BD_AVX2 static inline __m256i head_mask(long count) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/// The portable build's `lane_total` on a vector.
BD_AVX2 static inline float lane_total8(__m256 v) {
    __m128 b = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));   // l0+l4, l1+l5, l2+l6, l3+l7
    __m128 c = _mm_add_ps(b, _mm_movehl_ps(b, b));                                     // c0 = b0+b2, c1 = b1+b3
    return _mm_cvtss_f32(_mm_add_ss(c, _mm_shuffle_ps(c, c, 1)));                      // c0 + c1
}

BD_AVX2 void bd_exp_approx_avx2(const float *x, float *y, long n) {
    long j = 0;
    for (; j + 8 <= n; j += 8) _mm256_storeu_ps(y + j, exp_approx8(_mm256_loadu_ps(x + j)));
    if (j < n) {
        __m256i m = head_mask(n - j);
        _mm256_maskstore_ps(y + j, m, exp_approx8(_mm256_maskload_ps(x + j, m)));
    }
}

BD_AVX2 void bd_log_softmax_rows_avx2(const float *x, float *out, long rows, long n) {
    const long full = n - n % 8;
    for (long r = 0; r < rows; r++) {
        const float *row = x + r * n;
        // The largest value (max is exact, so the order does not matter; NaN lanes are skipped as
        // in the portable loop, and make the sum NaN below).
        __m256 mv = _mm256_set1_ps(-INFINITY);
        for (long j = 0; j < full; j += 8) mv = _mm256_max_ps(_mm256_loadu_ps(row + j), mv);
        float m;
        {
            float lanes[8];
            _mm256_storeu_ps(lanes, mv);
            m = -INFINITY;
            for (int l = 0; l < 8; l++) m = lanes[l] > m ? lanes[l] : m;
            for (long j = full; j < n; j++) m = row[j] > m ? row[j] : m;
        }
        __m256 mb = _mm256_set1_ps(m), sum = _mm256_setzero_ps();
        for (long j = 0; j < full; j += 8) sum = _mm256_add_ps(sum, exp_approx8(_mm256_sub_ps(_mm256_loadu_ps(row + j), mb)));
        if (full < n) {
            __m256i mask = head_mask(n - full);
            __m256 e = exp_approx8(_mm256_sub_ps(_mm256_maskload_ps(row + full, mask), mb));
            sum = _mm256_add_ps(sum, _mm256_and_ps(e, _mm256_castsi256_ps(mask)));
        }
        __m256 lse = _mm256_set1_ps(m + logf(lane_total8(sum)));
        float *o = out + r * n;
        for (long j = 0; j < full; j += 8) _mm256_storeu_ps(o + j, _mm256_sub_ps(_mm256_loadu_ps(row + j), lse));
        for (long j = full; j < n; j++) o[j] = row[j] - _mm256_cvtss_f32(lse);
    }
}

BD_AVX2 void bd_log_softmax_backward_rows_avx2(const float *out, const float *g, float *dx, long rows, long n) {
    const long full = n - n % 8;
    const __m256 minus_inf = _mm256_set1_ps(-INFINITY);
    for (long r = 0; r < rows; r++) {
        const float *o = out + r * n, *gr = g + r * n;
        __m256 sum = _mm256_setzero_ps();
        for (long j = 0; j < full; j += 8) sum = _mm256_add_ps(sum, _mm256_loadu_ps(gr + j));
        if (full < n) sum = _mm256_add_ps(sum, _mm256_maskload_ps(gr + full, head_mask(n - full)));
        const __m256 s = _mm256_set1_ps(lane_total8(sum));
        float *d = dx + r * n;
        long j = 0;
        for (; j + 8 <= n; j += 8) {
            __m256 ov = _mm256_loadu_ps(o + j);
            __m256 v = _mm256_fnmadd_ps(exp_approx8(ov), s, _mm256_loadu_ps(gr + j));
            _mm256_storeu_ps(d + j, _mm256_andnot_ps(_mm256_cmp_ps(ov, minus_inf, _CMP_EQ_OQ), v));
        }
        if (j < n) {
            __m256i mask = head_mask(n - j);
            __m256 ov = _mm256_maskload_ps(o + j, mask);
            __m256 v = _mm256_fnmadd_ps(exp_approx8(ov), s, _mm256_maskload_ps(gr + j, mask));
            _mm256_maskstore_ps(d + j, mask, _mm256_andnot_ps(_mm256_cmp_ps(ov, minus_inf, _CMP_EQ_OQ), v));
        }
    }
}

#else

void bd_exp_approx_avx2(const float *x, float *y, long n) { bd_exp_approx_portable(x, y, n); }
void bd_log_softmax_rows_avx2(const float *x, float *out, long rows, long n) { bd_log_softmax_rows_portable(x, out, rows, n); }
void bd_log_softmax_backward_rows_avx2(const float *out, const float *g, float *dx, long rows, long n) {
    bd_log_softmax_backward_rows_portable(out, g, dx, rows, n);
}

#endif
