// The AVX2 + FMA pieces the vectorized row kernels share (softmax_rows_avx2.c,
// stratified_infonce_avx2.c): the exponential of include/softmax_rows.h eight lanes at a time, a
// head mask for row tails, and the fixed tree that adds eight lanes. Include only inside
// `#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))`.
#ifndef BACKDROP_SOFTMAX_AVX2_SHARED_H
#define BACKDROP_SOFTMAX_AVX2_SHARED_H

#include "softmax_shared.h"
#include <immintrin.h>
#include <math.h>
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

#endif
