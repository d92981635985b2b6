// The AVX-512 implicit convolution's micro-kernel reading its B operand straight from the input
// (see include/implicit_conv.h): for panels whose 16 pixels share one output row, or one row of
// two images, at stride 1, each patch row is one masked load (two for two images) fed directly into
// the FMAs — no packed panel — and the tap rows in the padding are skipped for the whole panel.
// The packed micro-kernel (implicit_conv.c) serves every other panel; both run each output's FMA
// chain in the same order, a skipped product being a product with a padding zero, so they (and
// the AVX2 build) give the same bits.
#include "kernel_shared.h"

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#include <stdint.h>

#define BD_AVX512 __attribute__((target("avx512f")))

/// Where a panel read straight from the input finds its 16 lanes: `groups` (1 or 2) runs of
/// 16 / `groups` lanes, each from one output row `out_row` (stride 1, so also the input row before
/// the tap shift) — one row of one image, or the same row of two consecutive images. For tap
/// column `tx` run 0's lane j reads `row + offset[tx] + j` where its mask bit is set, run 1's lane j
/// the same place `group_step` floats further (the next image, its lanes counted from 8).
typedef struct {
    long out_row;
    long offset[BD_MAX_TAPS];
    unsigned mask[2][BD_MAX_TAPS];
    long group_step;
} bd_direct_panel;

/// C[16 output channels, 16 pixels] like `kernel_16x16`, its B operand read straight from the input
/// instead of a packed panel: patch row k's 16 values are one masked load per run of `d`, going
/// into the FMAs directly. Tap rows outside the plane are skipped (their patch rows are zero and
/// adding a zero product leaves every sum as it was), so the sums are `kernel_16x16`'s bit for bit.
/// Run g's 16 / `groups` channel rows go to `out[g] + i·ldc` (`groups` a constant once inlined).
BD_AVX512 static inline __attribute__((always_inline)) void kernel_direct_16x16(const int stream, const int groups,
                                                                               const bd_implicit_conv *c, const float *image,
                                                                               const bd_direct_panel *d, const float *a,
                                                                               float *const out[2], long ldc) {
    const long H = c->in_height, W = c->in_width, ty_n = c->taps_y, tx_n = c->taps_x;
    __m512 c0 = _mm512_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
    __m512 c8 = c0, c9 = c0, c10 = c0, c11 = c0, c12 = c0, c13 = c0, c14 = c0, c15 = c0;
    const uintptr_t group_step = (uintptr_t)(d->group_step * (long)sizeof(float));
    for (long ci = 0; ci < c->in_channels; ci++) {
        const float *plane = image + ci * H * W;
        for (long ty = 0; ty < ty_n; ty++) {
            long iy = d->out_row + c->tap_row[ty];
            if (iy < 0 || iy >= H) { a += tx_n * 16; continue; }
            // Masked-off lanes are never read, so a base may point outside the row (integer
            // arithmetic keeps that well-defined in C).
            uintptr_t row = (uintptr_t)(plane + iy * W);
            for (long tx = 0; tx < tx_n; tx++) {
                uintptr_t base = row + (uintptr_t)(d->offset[tx] * (long)sizeof(float));
                __m512 bv = _mm512_maskz_loadu_ps((__mmask16)d->mask[0][tx], (const float *)base);
                if (groups == 2) bv = _mm512_mask_loadu_ps(bv, (__mmask16)d->mask[1][tx], (const float *)(base + group_step));
#define BD_STEP(i) c##i = _mm512_fmadd_ps(_mm512_set1_ps(a[i]), bv, c##i)
                BD_STEP(0); BD_STEP(1); BD_STEP(2); BD_STEP(3); BD_STEP(4); BD_STEP(5); BD_STEP(6); BD_STEP(7);
                BD_STEP(8); BD_STEP(9); BD_STEP(10); BD_STEP(11); BD_STEP(12); BD_STEP(13); BD_STEP(14); BD_STEP(15);
#undef BD_STEP
                a += 16;
            }
        }
    }
    // Two runs: lanes 0–7 to the first image's row, 8–15 to the second's (32-byte aligned when
    // streamed: whole 8-float rows of a 64-byte-aligned output).
#define BD_HALF(v, h) _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), h))
#define BD_STORE(i)                                                                                            \
    do {                                                                                                       \
        if (groups == 1) {                                                                                     \
            if (stream) _mm512_stream_ps(out[0] + i * ldc, c##i); else _mm512_storeu_ps(out[0] + i * ldc, c##i); \
        } else {                                                                                               \
            for (int h = 0; h < 2; h++) {                                                                      \
                __m256 v = h ? BD_HALF(c##i, 1) : BD_HALF(c##i, 0);                                            \
                if (stream) _mm256_stream_ps(out[h] + i * ldc, v); else _mm256_storeu_ps(out[h] + i * ldc, v);  \
            }                                                                                                  \
        }                                                                                                      \
    } while (0)
    BD_STORE(0); BD_STORE(1); BD_STORE(2); BD_STORE(3); BD_STORE(4); BD_STORE(5); BD_STORE(6); BD_STORE(7);
    BD_STORE(8); BD_STORE(9); BD_STORE(10); BD_STORE(11); BD_STORE(12); BD_STORE(13); BD_STORE(14); BD_STORE(15);
#undef BD_STORE
#undef BD_HALF
}

/// `d` for the one-row panel of output pixels `p0 ..< p0 + 16` of an image (one segment).
static void plan_direct_row(const bd_implicit_conv *c, long p0, bd_direct_panel *d) {
    bd_panel_segments sg;
    bd_plan_panel_segments(c, p0, &sg);
    d->out_row = sg.in_row[0];
    for (long tx = 0; tx < c->taps_x; tx++) d->offset[tx] = sg.offset[0][tx], d->mask[0][tx] = sg.mask[0][tx];
}

/// Every 16-channel block of one panel `d` of image `b` (`kernel_direct_16x16`): block `cb`'s run g
/// rows from `out + cb·16·ldc + g·image_step`.
BD_AVX512 static inline __attribute__((always_inline)) void channel_blocks(const int stream, const int groups, const bd_implicit_conv *c,
                                                                          const float *x, long b, const bd_direct_panel *d,
                                                                          const float *packed_w, float *out, long image_step, long ldc) {
    const long K = c->in_channels * c->taps_y * c->taps_x;
    const float *image = x + b * c->in_channels * c->in_height * c->in_width;
    for (long cb = 0; cb < c->out_channels / 16; cb++) {
        float *const rows[2] = {out + cb * 16 * ldc, out + cb * 16 * ldc + image_step};
        kernel_direct_16x16(stream, groups, c, image, d, packed_w + cb * K * 16, rows, ldc);
    }
}

/// Output panels `panel_begin ..< panel_end` read straight from the input, `groups` runs each
/// (`bd_direct_groups`): each panel's 16-channel blocks in turn (its input rows stay in L1 across
/// them), no packed panel.
BD_AVX512 static inline __attribute__((always_inline)) void direct_panels(const int stream, const int groups, const bd_implicit_conv *c,
                                                                         const float *x, const float *packed_w, float *y,
                                                                         long panel_begin, long panel_end) {
    const long Ho = c->out_height, Wo = c->out_width, plane = Ho * Wo, W = c->in_width;
    bd_direct_panel d;
    d.group_step = c->in_channels * c->in_height * W - 8;
    if (groups == 2)
        for (long tx = 0; tx < c->taps_x; tx++) {
            // Lane j < 8 reads column j + tap_col of its row: those inside it.
            long shift = c->tap_col[tx], lo = shift < 0 ? -shift : 0, hi = W - shift < 8 ? W - shift : 8;
            unsigned m = hi > lo ? ((1u << (hi - lo)) - 1u) << lo : 0u;
            d.offset[tx] = shift;
            d.mask[0][tx] = m;
            d.mask[1][tx] = m << 8;
        }
    for (long q = panel_begin; q < panel_end; q++) {
        long b, p0;
        if (groups == 1) {
            b = q * 16 / plane, p0 = q * 16 % plane;
            plan_direct_row(c, p0, &d);
        } else {
            b = 2 * (q / Ho), p0 = q % Ho * Wo;
            d.out_row = q % Ho;
        }
        channel_blocks(stream, groups, c, x, b, &d, packed_w, y + b * c->out_channels * plane + p0, c->out_channels * plane, plane);
    }
    if (stream) _mm_sfence();
}

BD_AVX512 static void direct_panels_1(const bd_implicit_conv *c, const float *x, const float *w, float *y, long q0, long q1) {
    direct_panels(0, 1, c, x, w, y, q0, q1);
}
BD_AVX512 static void direct_panels_1_streaming(const bd_implicit_conv *c, const float *x, const float *w, float *y, long q0, long q1) {
    direct_panels(1, 1, c, x, w, y, q0, q1);
}
BD_AVX512 static void direct_panels_2(const bd_implicit_conv *c, const float *x, const float *w, float *y, long q0, long q1) {
    direct_panels(0, 2, c, x, w, y, q0, q1);
}
BD_AVX512 static void direct_panels_2_streaming(const bd_implicit_conv *c, const float *x, const float *w, float *y, long q0, long q1) {
    direct_panels(1, 2, c, x, w, y, q0, q1);
}

BD_AVX512 void bd_direct_panels_avx512(const bd_implicit_conv *c, int groups, const float *x, const float *packed_w, float *y,
                             long panel_begin, long panel_end) {
    if (groups == 2) (c->stream_output ? direct_panels_2_streaming : direct_panels_2)(c, x, packed_w, y, panel_begin, panel_end);
    else (c->stream_output ? direct_panels_1_streaming : direct_panels_1)(c, x, packed_w, y, panel_begin, panel_end);
}

/// Every 16-channel block of the one-row panel of pixels `p0 ..< p0 + 16` of image `b`, read
/// straight from the input, block `cb`'s rows at `out + cb·16·ldc + i·ldc` (regular stores).
BD_AVX512 void bd_direct_channel_blocks_avx512(const bd_implicit_conv *c, const float *x, const float *packed_w, long b, long p0,
                                            float *out, long ldc) {
    bd_direct_panel d;
    plan_direct_row(c, p0, &d);
    channel_blocks(0, 1, c, x, b, &d, packed_w, out, 0, ldc);
}

#endif
