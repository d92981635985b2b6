// Weight gradient of a 3×3 convolution (or a 1×1 one), stride 1 or 2, without an im2col matrix
// (see include/implicit_conv.h).
//
// dWᵀ[k = (ci, ky, kx)][co] = Σ_pixels x[ci, S·oy + ky − p, S·ox + kx − p] · dy[co, oy, ox]. Per image,
// the output gradient is transposed to `[pixel][Co]` by 16 × 16 register transposes. A tile then
// keeps all nine taps of one input channel × 32 (or 16) output channels in registers: per output
// pixel it loads 2 vectors of the transposed gradient and broadcasts the nine input values the taps
// see (with stride 2, from every other column of every other row). The AVX-512 tile reads the input
// planes themselves when the padding is at most 1, skipping the taps of border pixels that fall in
// the padding; otherwise (and always in the AVX2 build) the input is first copied into zero-padded
// planes, so every tap is an in-bounds read. A 1×1 tile
// keeps 8 input channels × 16 output channels and reads the input directly (no padding).
#include "kernel_shared.h"
#include <string.h>

void bd_copy_padded_image(const bd_weight_gradient_shape *s, const float *x, long b, float *xpad) {
    const long H = s->height, W = s->width, p = s->padding, Ci = s->in_channels, Hp = H + 2 * p, Wp = W + 2 * p;
    for (long ci = 0; ci < Ci; ci++)
        for (long iy = 0; iy < H; iy++)
            memcpy(xpad + (ci * Hp + iy + p) * Wp + p, x + ((b * Ci + ci) * H + iy) * W, sizeof(float) * W);
}

long bd_weight_gradient_scratch_count(const bd_weight_gradient_shape *s) {
    long Ho, Wo;
    bd_weight_gradient_output(s, &Ho, &Wo);
    return bd_weight_gradient_padded_count(s) + Ho * Wo * s->out_channels;
}

void bd_weight_gradient_1x1_run(const bd_weight_gradient_shape *s, const float *x, const float *dy, long image_begin,
                                long image_end, float *dwt, float *scratch, bd_transpose_image_fn transpose,
                                bd_tile_1x1_fn tile, long tile_channels) {
    const long H = s->height, W = s->width, Ci = s->in_channels, Co = s->out_channels, stride = s->stride > 1 ? s->stride : 1;
    long Ho, Wo;
    bd_weight_gradient_output(s, &Ho, &Wo);
    float *dyt = scratch + bd_weight_gradient_padded_count(s);
    for (long b = image_begin; b < image_end; b++) {
        transpose(dy + b * Co * Ho * Wo, Co, Ho * Wo, dyt);
        const float *xb = x + b * Ci * H * W;
        for (long co0 = 0; co0 < Co; co0 += tile_channels)
            for (long ci0 = 0; ci0 < Ci; ci0 += 8)
                tile(xb + ci0 * H * W, H * W, W, stride, Ho, Wo, dyt + co0, Co, dwt + ci0 * Co + co0);
    }
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#include <string.h>

#define BD_AVX512 __attribute__((target("avx512f")))

/// 16×16 block transpose: dst[j][i] = src[i][j], rows `src_ld` / `dst_ld` floats apart.
BD_AVX512 static void transpose16(const float *src, long src_ld, float *dst, long dst_ld) {
    __m512 r[16], t[16];
    for (int i = 0; i < 16; i++) r[i] = _mm512_loadu_ps(src + i * src_ld);
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
        r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
        r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
        r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
    }
    // Rows g, g+4, g+8, g+12 now hold 4-float pieces of output rows; gather them by 128-bit lanes.
    for (int g = 0; g < 4; g++) {
        __m512 a = r[g], b = r[g + 4], c = r[g + 8], d = r[g + 12];
        __m512 ab_lo = _mm512_shuffle_f32x4(a, b, 0x88), ab_hi = _mm512_shuffle_f32x4(a, b, 0xDD);
        __m512 cd_lo = _mm512_shuffle_f32x4(c, d, 0x88), cd_hi = _mm512_shuffle_f32x4(c, d, 0xDD);
        t[g] = _mm512_shuffle_f32x4(ab_lo, cd_lo, 0x88);
        t[g + 8] = _mm512_shuffle_f32x4(ab_lo, cd_lo, 0xDD);
        t[g + 4] = _mm512_shuffle_f32x4(ab_hi, cd_hi, 0x88);
        t[g + 12] = _mm512_shuffle_f32x4(ab_hi, cd_hi, 0xDD);
    }
    for (int i = 0; i < 16; i++) _mm512_storeu_ps(dst + i * dst_ld, t[i]);
}

/// The nine taps of a 3×3 kernel: X(tap, ky, kx).
#define BD_TAPS(X) X(0,0,0) X(1,0,1) X(2,0,2) X(3,1,0) X(4,1,1) X(5,1,2) X(6,2,0) X(7,2,1) X(8,2,2)

/// One output pixel's products for a 16·`nv`-channel tile: tap (ky, kx) adds
/// `r[ky·W + kx] · g` to `acc[3·ky + kx]` when bit ky of `rows` and bit kx of `columns` are set (all
/// constants once inlined); the other taps lie in the padding, their products are zero and adding
/// them would leave every sum as it is, so they are neither read nor added. `r` is the pixel's
/// top-left tap as an address: it may lie outside the plane when that tap does.
BD_AVX512 static inline __attribute__((always_inline)) void pixel_3x3(const int nv, const int rows, const int columns, uintptr_t r,
                                                                     long W, const float *d, __m512 acc[9][2]) {
    __m512 g[2];
    for (int v = 0; v < nv; v++) g[v] = _mm512_loadu_ps(d + 16 * v);
#define STEP(t, ky, kx)                                                                                     \
    if (((rows >> ky) & 1) && ((columns >> kx) & 1)) {                                                      \
        __m512 b = _mm512_set1_ps(*(const float *)(r + (uintptr_t)((ky * W + kx) * (long)sizeof(float)))); \
        for (int v = 0; v < nv; v++) acc[t][v] = _mm512_fmadd_ps(b, g[v], acc[t][v]);                     \
    }
    BD_TAPS(STEP)
#undef STEP
}

/// `pixel_3x3` with its column bits known only at run time: one of the four patterns a 3-wide
/// kernel with padding ≤ 1 can have (bit 1 always set).
BD_AVX512 static inline __attribute__((always_inline)) void border_pixel_3x3(const int nv, const int rows, int columns, uintptr_t r,
                                                                            long W, const float *d, __m512 acc[9][2]) {
    switch (columns) {
    case 7: pixel_3x3(nv, rows, 7, r, W, d, acc); break;
    case 6: pixel_3x3(nv, rows, 6, r, W, d, acc); break;
    case 3: pixel_3x3(nv, rows, 3, r, W, d, acc); break;
    default: pixel_3x3(nv, rows, 2, r, W, d, acc); break;
    }
}

/// The tap bits (bit k for tap k = 0, 1, 2) of a 3-wide kernel whose window starts at `start`
/// in a line of `n` values: those inside it.
static inline int taps_inside(long start, long n) {
    return (start >= 0 ? 1 : 0) | (start + 1 >= 0 && start + 1 < n ? 2 : 0) | (start + 2 < n ? 4 : 0);
}

/// One output row of a tile: its first and last pixels with the tap columns inside the plane, the
/// ones between with all three (padding ≤ 1 keeps them inside).
BD_AVX512 static inline __attribute__((always_inline)) void row_3x3(const int nv, const int stride, const int rows, uintptr_t r,
                                                                   long W, long p, long Wo, const float *d, long Co, __m512 acc[9][2]) {
    const uintptr_t step = (uintptr_t)(stride * (long)sizeof(float));
    border_pixel_3x3(nv, rows, taps_inside(-p, W), r, W, d, acc);
    long ox = 1;
    for (r += step, d += Co; ox + 1 < Wo; ox++, r += step, d += Co) pixel_3x3(nv, rows, 7, r, W, d, acc);
    if (ox < Wo) border_pixel_3x3(nv, rows, taps_inside(stride * ox - p, W), r, W, d, acc);
}

/// Nine taps × 16·`nv` output channels (`nv` = 1 or 2, and `stride` 1 or 2, constants once
/// inlined, so the 9·nv accumulators live in registers): `rows[t · Co + c] += Σ_pixels
/// plane[tap t of pixel] · dyt[pixel · Co + c]` for c < 16·nv (`rows`, `dyt` offset to the tile's
/// first channel) over the `H × W` input `plane` of padding `p` ≤ 1; output pixel (oy, ox) sees
/// the plane from (stride·oy − p, stride·ox − p). Taps in the padding are skipped, not read (the
/// sums are those over the zero-padded plane bit for bit: each accumulator takes its pixels in
/// order, and a zero product changes no sum).
BD_AVX512 static inline __attribute__((always_inline)) void tile_3x3(const int nv, const int stride, const float *plane, long H,
                                                                    long W, long p, long Ho, long Wo, const float *dyt, long Co,
                                                                    float *rows) {
    __m512 acc[9][2];
    for (int t = 0; t < 9; t++)
        for (int v = 0; v < nv; v++) acc[t][v] = _mm512_loadu_ps(rows + t * Co + 16 * v);
    for (long oy = 0; oy < Ho; oy++) {
        // Integer arithmetic: the first pixel's top-left tap may lie before the plane.
        uintptr_t r = (uintptr_t)plane + (uintptr_t)(((stride * oy - p) * W - p) * (long)sizeof(float));
        const float *d = dyt + oy * Wo * Co;
        switch (taps_inside(stride * oy - p, H)) {
        case 7: row_3x3(nv, stride, 7, r, W, p, Wo, d, Co, acc); break;
        case 6: row_3x3(nv, stride, 6, r, W, p, Wo, d, Co, acc); break;
        case 3: row_3x3(nv, stride, 3, r, W, p, Wo, d, Co, acc); break;
        default: row_3x3(nv, stride, 2, r, W, p, Wo, d, Co, acc); break;
        }
    }
    for (int t = 0; t < 9; t++)
        for (int v = 0; v < nv; v++) _mm512_storeu_ps(rows + t * Co + 16 * v, acc[t][v]);
}

/// The output gradient of one image, `[Co][plane]`, transposed to `dyt [plane][Co]`.
BD_AVX512 static void transpose_image(const float *dyb, long Co, long plane, float *dyt) {
    for (long c0 = 0; c0 < Co; c0 += 16)
        for (long q0 = 0; q0 < plane; q0 += 16)
            transpose16(dyb + c0 * plane + q0, plane, dyt + q0 * Co + c0, Co);
}

/// 8 input channels × 16 output channels of a 1×1 kernel: `rows[r · Co + c] += Σ_pixels
/// xb[r · H·W + stride·oy·W + stride·ox] · dyt[pixel · Co + c]` (`rows`, `dyt` offset to the tile's
/// first channels); each accumulator takes its pixels in order.
BD_AVX512 static void tile_1x1(const float *xb, long HW, long W, long stride, long Ho, long Wo, const float *dyt, long Co,
                               float *rows) {
    __m512 acc[8];
    for (int r = 0; r < 8; r++) acc[r] = _mm512_loadu_ps(rows + r * Co);
    for (long oy = 0; oy < Ho; oy++) {
        const float *xr = xb + stride * oy * W, *d = dyt + oy * Wo * Co;
        for (long ox = 0; ox < Wo; ox++, xr += stride, d += Co) {
            __m512 g = _mm512_loadu_ps(d);
            for (int r = 0; r < 8; r++) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(xr[r * HW]), g, acc[r]);
        }
    }
    for (int r = 0; r < 8; r++) _mm512_storeu_ps(rows + r * Co, acc[r]);
}

BD_AVX512 void bd_weight_gradient_1x1_avx512(const bd_weight_gradient_shape *s, const float *x, const float *dy, long image_begin,
                                             long image_end, float *dwt, float *scratch) {
    bd_weight_gradient_1x1_run(s, x, dy, image_begin, image_end, dwt, scratch, transpose_image, tile_1x1, 16);
}

BD_AVX512 void bd_weight_gradient_3x3_avx512(const bd_weight_gradient_shape *s, const float *x, const float *dy, long image_begin, long image_end,
                                      float *dwt, float *scratch) {
    const long H = s->height, W = s->width, p = s->padding, Ci = s->in_channels, Co = s->out_channels;
    long Ho, Wo;
    bd_weight_gradient_output(s, &Ho, &Wo);
    const long plane = Ho * Wo;
    const int strided = s->stride == 2;
    // Padding ≤ 1: the tiles read the input planes themselves, skipping the taps in the padding.
    // Wider padding: zero-padded copies, read as planes of padding 0.
    const int padded = p > 1;
    const long Hr = padded ? H + 2 * p : H, Wr = padded ? W + 2 * p : W, pr = padded ? 0 : p;
    float *xpad = scratch, *dyt = scratch + bd_weight_gradient_padded_count(s);
    if (padded) memset(xpad, 0, sizeof(float) * Ci * Hr * Wr);
    for (long b = image_begin; b < image_end; b++) {
        if (padded) bd_copy_padded_image(s, x, b, xpad);
        const float *planes = padded ? xpad : x + b * Ci * H * W;
        transpose_image(dy + b * Co * plane, Co, plane, dyt);
        for (long co0 = 0; co0 < Co; co0 += (Co % 32 == 0 ? 32 : 16))
            for (long ci = 0; ci < Ci; ci++) {
                float *rows = dwt + ci * 9 * Co + co0;
                const float *xplane = planes + ci * Hr * Wr;
                if (Co % 32 == 0) {
                    if (strided) tile_3x3(2, 2, xplane, Hr, Wr, pr, Ho, Wo, dyt + co0, Co, rows);
                    else tile_3x3(2, 1, xplane, Hr, Wr, pr, Ho, Wo, dyt + co0, Co, rows);
                } else {
                    if (strided) tile_3x3(1, 2, xplane, Hr, Wr, pr, Ho, Wo, dyt + co0, Co, rows);
                    else tile_3x3(1, 1, xplane, Hr, Wr, pr, Ho, Wo, dyt + co0, Co, rows);
                }
            }
    }
}

#else

void bd_weight_gradient_3x3_avx512(const bd_weight_gradient_shape *s, const float *x, const float *dy, long image_begin, long image_end,
                            float *dwt, float *scratch) {
    (void)s; (void)x; (void)dy; (void)image_begin; (void)image_end; (void)dwt; (void)scratch;
}
void bd_weight_gradient_1x1_avx512(const bd_weight_gradient_shape *s, const float *x, const float *dy, long image_begin,
                                   long image_end, float *dwt, float *scratch) {
    (void)s; (void)x; (void)dy; (void)image_begin; (void)image_end; (void)dwt; (void)scratch;
}

#endif
