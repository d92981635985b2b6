// Batch normalization's passes, AVX2 builds (see include/batch_norm_passes.h).
#include "batch_norm_passes.h"

#pragma STDC FP_CONTRACT OFF

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

#define BD_AVX2 __attribute__((target("avx2")))

/// `x[i]·a + b` (+ `r[i]` when `r`), then with `relu` the ReLU of the Swift loops' lanes
/// (`v < 0 ? 0 : v`: −0 and NaN kept) or, for their scalar tail (`tail`), `Swift.max(v, 0)` =
/// `0 >= v ? 0 : v` (−0 becomes +0). `relu` is implied by `r`.
static inline float affine_at(const float *x, const float *r, long i, float a, float b, int relu, int tail) {
    float v = x[i] * a + b;
    if (r) v = v + r[i];
    if (!r && !relu) return v;
    return tail ? (0.0f >= v ? 0.0f : v) : (v < 0.0f ? 0.0f : v);
}

/// Elements `0 ..< n − n % 8` are the Swift loop's lanes, the rest its scalar tail; `head` is how
/// many lanes run as scalars before `y + head` is 32-byte aligned for streaming stores.
static inline long aligned_head(const float *y, long lanes) {
    long head = (long)((32 - ((unsigned long)y & 31)) & 31) / (long)sizeof(float);
    if (((unsigned long)y & 3) != 0) return lanes;   // not float-aligned: no streaming at all
    return head < lanes ? head : lanes;
}

/// Lanes 0, 1, …, 7 of `v` added in turn to −0 (Swift's `SIMD8<Float>.sum()`).
BD_AVX2 static inline float lane_sum(__m256 v) {
    float lanes[8], s = -0.0f;
    _mm256_storeu_ps(lanes, v);
    for (int l = 0; l < 8; l++) s += lanes[l];
    return s;
}

BD_AVX2 float bd_sum_avx2(const float *p, long n) {
    __m256 a = _mm256_setzero_ps(), b = a;
    long i = 0;
    for (; i + 16 <= n; i += 16) {
        a = _mm256_add_ps(a, _mm256_loadu_ps(p + i));
        b = _mm256_add_ps(b, _mm256_loadu_ps(p + i + 8));
    }
    float s = lane_sum(_mm256_add_ps(a, b));
    for (; i < n; i++) s += p[i];
    return s;
}

BD_AVX2 float bd_sum_squared_deviation_avx2(const float *p, long n, float m) {
    __m256 a = _mm256_setzero_ps(), b = a;
    const __m256 mv = _mm256_set1_ps(m);
    long i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(p + i), mv), d1 = _mm256_sub_ps(_mm256_loadu_ps(p + i + 8), mv);
        a = _mm256_add_ps(a, _mm256_mul_ps(d0, d0));
        b = _mm256_add_ps(b, _mm256_mul_ps(d1, d1));
    }
    float s = lane_sum(_mm256_add_ps(a, b));
    for (; i < n; i++) { float d = p[i] - m; s += d * d; }
    return s;
}

BD_AVX2 void bd_sum_and_centered_dot_avx2(const float *g, const float *x, long n, float m, int masked, float ra, float rb, float *sums) {
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, d0 = s0, d1 = s0;
    const __m256 mv = _mm256_set1_ps(m), rav = _mm256_set1_ps(ra), rbv = _mm256_set1_ps(rb), zero = _mm256_setzero_ps();
    long i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 x0 = _mm256_loadu_ps(x + i), x1 = _mm256_loadu_ps(x + i + 8);
        __m256 g0 = _mm256_loadu_ps(g + i), g1 = _mm256_loadu_ps(g + i + 8);
        if (masked) {
            g0 = _mm256_blendv_ps(g0, zero, _mm256_cmp_ps(_mm256_add_ps(_mm256_mul_ps(x0, rav), rbv), zero, _CMP_LE_OQ));
            g1 = _mm256_blendv_ps(g1, zero, _mm256_cmp_ps(_mm256_add_ps(_mm256_mul_ps(x1, rav), rbv), zero, _CMP_LE_OQ));
        }
        s0 = _mm256_add_ps(s0, g0);
        s1 = _mm256_add_ps(s1, g1);
        d0 = _mm256_add_ps(d0, _mm256_mul_ps(g0, _mm256_sub_ps(x0, mv)));
        d1 = _mm256_add_ps(d1, _mm256_mul_ps(g1, _mm256_sub_ps(x1, mv)));
    }
    float s = lane_sum(_mm256_add_ps(s0, s1)), d = lane_sum(_mm256_add_ps(d0, d1));
    for (; i < n; i++) {
        float gi = (!masked || x[i] * ra + rb > 0.0f) ? g[i] : 0.0f;
        s += gi;
        d += gi * (x[i] - m);
    }
    sums[0] = s;
    sums[1] = d;
}

BD_AVX2 void bd_affine_streaming_avx2(const float *x, const float *r, float *y, long n, float a, float b, int relu) {
    const long lanes = n - n % 8, head = aligned_head(y, lanes);
    long i = 0;
    for (; i < head; i++) y[i] = affine_at(x, r, i, a, b, relu, 0);
    const __m256 av = _mm256_set1_ps(a), bv = _mm256_set1_ps(b), zero = _mm256_setzero_ps();
    for (; i + 8 <= lanes; i += 8) {
        __m256 v = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), av), bv);
        if (r) v = _mm256_add_ps(v, _mm256_loadu_ps(r + i));
        if (r || relu) v = _mm256_blendv_ps(v, zero, _mm256_cmp_ps(v, zero, _CMP_LT_OQ));
        _mm256_stream_ps(y + i, v);
    }
    for (; i < lanes; i++) y[i] = affine_at(x, r, i, a, b, relu, 0);   // an unaligned remainder of the lanes (only when head cut in)
    for (; i < n; i++) y[i] = affine_at(x, r, i, a, b, relu, 1);
}

BD_AVX2 void bd_batch_norm_input_gradient_streaming_avx2(const float *g, const float *x, float *dx, long n,
                                                         float k, float M, float s, float m, float c,
                                                         int masked, float ra, float rb) {
    const long lanes = n - n % 8, head = aligned_head(dx, lanes);
    long i = 0;
    // Lanes drop g where x·ra + rb <= 0 (NaN keeps g); the tail keeps g where x·ra + rb > 0.
#define BD_LANE_G(j) ((masked && x[j] * ra + rb <= 0.0f) ? 0.0f : g[j])
#define BD_TAIL_G(j) ((!masked || x[j] * ra + rb > 0.0f) ? g[j] : 0.0f)
    for (; i < head; i++) dx[i] = k * (M * BD_LANE_G(i) - s - (x[i] - m) * c);
    const __m256 kv = _mm256_set1_ps(k), Mv = _mm256_set1_ps(M), sv = _mm256_set1_ps(s), mv = _mm256_set1_ps(m);
    const __m256 cv = _mm256_set1_ps(c), rav = _mm256_set1_ps(ra), rbv = _mm256_set1_ps(rb), zero = _mm256_setzero_ps();
    for (; i + 8 <= lanes; i += 8) {
        __m256 gv = _mm256_loadu_ps(g + i), xv = _mm256_loadu_ps(x + i);
        if (masked) {
            __m256 pre = _mm256_add_ps(_mm256_mul_ps(xv, rav), rbv);
            gv = _mm256_blendv_ps(gv, zero, _mm256_cmp_ps(pre, zero, _CMP_LE_OQ));
        }
        __m256 t = _mm256_sub_ps(_mm256_sub_ps(_mm256_mul_ps(Mv, gv), sv), _mm256_mul_ps(_mm256_sub_ps(xv, mv), cv));
        _mm256_stream_ps(dx + i, _mm256_mul_ps(kv, t));
    }
    for (; i < lanes; i++) dx[i] = k * (M * BD_LANE_G(i) - s - (x[i] - m) * c);
    for (; i < n; i++) dx[i] = k * (M * BD_TAIL_G(i) - s - (x[i] - m) * c);
#undef BD_LANE_G
#undef BD_TAIL_G
}

BD_AVX2 void bd_relu_backward_streaming_avx2(const float *g, const float *out, float *dx, long n) {
    const long lanes = n - n % 8, head = aligned_head(dx, lanes);
    long i = 0;
    for (; i < head; i++) dx[i] = out[i] <= 0.0f ? 0.0f : g[i];
    const __m256 zero = _mm256_setzero_ps();
    for (; i + 8 <= lanes; i += 8) {
        __m256 v = _mm256_blendv_ps(_mm256_loadu_ps(g + i), zero, _mm256_cmp_ps(_mm256_loadu_ps(out + i), zero, _CMP_LE_OQ));
        _mm256_stream_ps(dx + i, v);
    }
    for (; i < lanes; i++) dx[i] = out[i] <= 0.0f ? 0.0f : g[i];
    for (; i < n; i++) dx[i] = out[i] > 0.0f ? g[i] : 0.0f;
}

void bd_streaming_fence(void) { _mm_sfence(); }

#else

float bd_sum_avx2(const float *p, long n) { (void)p; (void)n; return 0; }
float bd_sum_squared_deviation_avx2(const float *p, long n, float m) { (void)p; (void)n; (void)m; return 0; }
void bd_sum_and_centered_dot_avx2(const float *g, const float *x, long n, float m, int masked, float ra, float rb, float *sums) {
    (void)g; (void)x; (void)n; (void)m; (void)masked; (void)ra; (void)rb; sums[0] = sums[1] = 0;
}
void bd_affine_streaming_avx2(const float *x, const float *r, float *y, long n, float a, float b, int relu) {
    (void)x; (void)r; (void)y; (void)n; (void)a; (void)b; (void)relu;
}
void bd_batch_norm_input_gradient_streaming_avx2(const float *g, const float *x, float *dx, long n,
                                                 float k, float M, float s, float m, float c,
                                                 int masked, float ra, float rb) {
    (void)g; (void)x; (void)dx; (void)n; (void)k; (void)M; (void)s; (void)m; (void)c; (void)masked; (void)ra; (void)rb;
}
void bd_relu_backward_streaming_avx2(const float *g, const float *out, float *dx, long n) {
    (void)g; (void)out; (void)dx; (void)n;
}
void bd_streaming_fence(void) {}

#endif
