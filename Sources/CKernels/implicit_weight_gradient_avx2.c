// Weight gradient of a 3×3 (or 1×1) convolution, stride 1 or 2, AVX2 + FMA build (see
// implicit_weight_gradient.c for the method). Per image the input is copied into zero-padded
// planes and the output gradient transposed to `[pixel][Co]` by 8 × 8 register transposes; a tile
// keeps the nine taps of one input channel × 8 output channels in 9 YMM accumulators and
// takes four pixels at a time. Pixels are
// summed in the same order as the AVX-512 build, so both give bit-identical results.
#include "kernel_shared.h"

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#include <string.h>

#define BD_AVX2 __attribute__((target("avx2,fma")))

/// 8×8 block transpose: dst[j][i] = src[i][j], rows `src_ld` / `dst_ld` floats apart.
BD_AVX2 static void transpose8(const float *src, long src_ld, float *dst, long dst_ld) {
    __m256 r[8], t[8];
    for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(src + i * src_ld);
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        r[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    // r[0..3] hold columns 0,1,2,3 of rows 0–3 (low lane) and columns 4–7 (high lane); r[4..7]
    // the same for rows 4–7: join the 128-bit halves.
    for (int i = 0; i < 4; i++) {
        t[i] = _mm256_permute2f128_ps(r[i], r[i + 4], 0x20);
        t[i + 4] = _mm256_permute2f128_ps(r[i], r[i + 4], 0x31);
    }
    for (int i = 0; i < 8; i++) _mm256_storeu_ps(dst + i * dst_ld, t[i]);
}

/// Nine taps × 8 output channels: `rows[t · Co + c] += Σ_pixels xplane[tap t of pixel] ·
/// dyt[pixel · Co + c]` for c < 8 (`rows`, `dyt` offset to the tile's first channel); output pixel
/// (oy, ox) sees the padded plane from (stride·oy, stride·ox), `stride` 1 or 2 (a constant once
/// inlined).
///
/// Four neighbouring pixels of a row at a time: they read 3·stride + 3 input values per tap row
/// (pixel j, tap column kx reads value stride·j + kx), so each value is broadcast once for every
/// tap that sees it — with stride 1, 22 loads per 36 FMAs instead of 10 per 9. Each accumulator
/// still takes its pixels in order (value m feeds pixel (m − kx) / stride, increasing with m),
/// the order of the AVX-512 build.
BD_AVX2 static inline __attribute__((always_inline)) void tile_3x3(const int stride, const float *xplane, long Wp, long Ho, long Wo,
                                                                  const float *dyt, long Co, float *rows) {
    __m256 acc[9];
    for (int t = 0; t < 9; t++) acc[t] = _mm256_loadu_ps(rows + t * Co);
    for (long oy = 0; oy < Ho; oy++) {
        const float *row = xplane + stride * oy * Wp;
        const float *d = dyt + oy * Wo * Co;
        long ox = 0;
        for (; ox + 4 <= Wo; ox += 4, d += 4 * Co) {
            __m256 g[4];
            for (int j = 0; j < 4; j++) g[j] = _mm256_loadu_ps(d + j * Co);
            // Value m of all three tap rows before value m + 1: consecutive FMAs go to different
            // accumulators (each one's chain still runs over its pixels in order).
            for (int m = 0; m < 3 * stride + 3; m++) {
                for (int ky = 0; ky < 3; ky++) {
                    __m256 v = _mm256_broadcast_ss(row + ky * Wp + stride * ox + m);
                    for (int kx = 0; kx < 3; kx++) {
                        int j = (m - kx) / stride;
                        if (m >= kx && (m - kx) % stride == 0 && j < 4) acc[ky * 3 + kx] = _mm256_fmadd_ps(v, g[j], acc[ky * 3 + kx]);
                    }
                }
            }
        }
        for (; ox < Wo; ox++, d += Co) {
            __m256 g = _mm256_loadu_ps(d);
            for (int ky = 0; ky < 3; ky++)
                for (int kx = 0; kx < 3; kx++)
                    acc[ky * 3 + kx] = _mm256_fmadd_ps(_mm256_broadcast_ss(row + ky * Wp + stride * ox + kx), g, acc[ky * 3 + kx]);
        }
    }
    for (int t = 0; t < 9; t++) _mm256_storeu_ps(rows + t * Co, acc[t]);
}

/// The output gradient of one image, `[Co][plane]`, transposed to `dyt [plane][Co]`.
BD_AVX2 static void transpose_image(const float *dyb, long Co, long plane, float *dyt) {
    for (long c0 = 0; c0 < Co; c0 += 8)
        for (long q0 = 0; q0 < plane; q0 += 8)
            transpose8(dyb + c0 * plane + q0, plane, dyt + q0 * Co + c0, Co);
}

/// 8 input channels × 8 output channels of a 1×1 kernel: `rows[r · Co + c] += Σ_pixels
/// xb[r · H·W + stride·oy·W + stride·ox] · dyt[pixel · Co + c]`; each accumulator takes its pixels
/// in order, as in the AVX-512 build.
BD_AVX2 static void tile_1x1(const float *xb, long HW, long W, long stride, long Ho, long Wo, const float *dyt, long Co,
                             float *rows) {
    __m256 acc[8];
    for (int r = 0; r < 8; r++) acc[r] = _mm256_loadu_ps(rows + r * Co);
    for (long oy = 0; oy < Ho; oy++) {
        const float *xr = xb + stride * oy * W, *d = dyt + oy * Wo * Co;
        for (long ox = 0; ox < Wo; ox++, xr += stride, d += Co) {
            __m256 g = _mm256_loadu_ps(d);
            for (int r = 0; r < 8; r++) acc[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(xr + r * HW), g, acc[r]);
        }
    }
    for (int r = 0; r < 8; r++) _mm256_storeu_ps(rows + r * Co, acc[r]);
}

BD_AVX2 void bd_weight_gradient_1x1_avx2(const bd_weight_gradient_shape *s, const float *x, const float *dy, long image_begin,
                                         long image_end, float *dwt, float *scratch) {
    bd_weight_gradient_1x1_run(s, x, dy, image_begin, image_end, dwt, scratch, transpose_image, tile_1x1, 8);
}

BD_AVX2 void bd_weight_gradient_3x3_avx2(const bd_weight_gradient_shape *s, const float *x, const float *dy, long image_begin,
                                         long image_end, float *dwt, float *scratch) {
    const long H = s->height, W = s->width, p = s->padding, Ci = s->in_channels, Co = s->out_channels;
    const long Hp = H + 2 * p, Wp = W + 2 * p;
    long Ho, Wo;
    bd_weight_gradient_output(s, &Ho, &Wo);
    const long plane = Ho * Wo;
    float *xpad = scratch, *dyt = scratch + bd_weight_gradient_padded_count(s);
    memset(xpad, 0, sizeof(float) * Ci * Hp * Wp);
    for (long b = image_begin; b < image_end; b++) {
        bd_copy_padded_image(s, x, b, xpad);
        transpose_image(dy + b * Co * plane, Co, plane, dyt);
        for (long co0 = 0; co0 < Co; co0 += 8)
            for (long ci = 0; ci < Ci; ci++) {
                if (s->stride == 2) tile_3x3(2, xpad + ci * Hp * Wp, Wp, Ho, Wo, dyt + co0, Co, dwt + ci * 9 * Co + co0);
                else tile_3x3(1, xpad + ci * Hp * Wp, Wp, Ho, Wo, dyt + co0, Co, dwt + ci * 9 * Co + co0);
            }
    }
}

#else

void bd_weight_gradient_3x3_avx2(const bd_weight_gradient_shape *s, const float *x, const float *dy, long image_begin,
                                 long image_end, float *dwt, float *scratch) {
    (void)s; (void)x; (void)dy; (void)image_begin; (void)image_end; (void)dwt; (void)scratch;
}
void bd_weight_gradient_1x1_avx2(const bd_weight_gradient_shape *s, const float *x, const float *dy, long image_begin,
                                 long image_end, float *dwt, float *scratch) {
    (void)s; (void)x; (void)dy; (void)image_begin; (void)image_end; (void)dwt; (void)scratch;
}

#endif
