// log-softmax rows, AVX2 + FMA build (see include/softmax_rows.h): lane for lane the operations of
// the portable build (softmax_rows.c), so both give the same bits.
#include "softmax_rows.h"
#include "softmax_shared.h"
#include <math.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include "softmax_avx2_shared.h"

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
