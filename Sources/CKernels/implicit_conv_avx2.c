// Implicit-GEMM convolution, AVX2 + FMA build (see include/implicit_conv.h).
//
// Same packing and panel order as the AVX-512 build: a `[K][16]` panel of 16 output pixels packed
// straight from the input, weights packed `[out_channels / 16][K][16]`. The micro-kernel keeps
// 6 output channels × 16 pixels (12 YMM accumulators, 2 panel vectors, 1 broadcast) and covers a
// 16-channel block as 6 + 6 + 4 rows. Every output is the same sequential FMA chain over
// k = 0 ..< K as in the AVX-512 build, so both give bit-identical results.
#include "kernel_shared.h"

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <cpuid.h>
#include <immintrin.h>
#include <stdint.h>

#define BD_AVX2 __attribute__((target("avx2,fma")))

int bd_cpu_has_avx2_fma(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    if (!(c & (1u << 27)) || !(c & (1u << 12)) || !(c & (1u << 28))) return 0;   // OSXSAVE, FMA, AVX
    unsigned xcr0_lo, xcr0_hi;
    __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
    if ((xcr0_lo & 0x6u) != 0x6u) return 0;                                      // XMM and YMM state
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return (b & (1u << 5)) ? 1 : 0;                                              // AVX2
}

/// The 8-lane vector mask of bits `bits` (lane j set when bit j is): for `_mm256_maskload_ps`.
BD_AVX2 static inline __m256i lane_mask(unsigned bits) {
    const __m256i lane_bit = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    return _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32((int)bits), lane_bit), lane_bit);
}

/// Loads the 8 lanes of `base` selected by `bits` (zero elsewhere). Masked-off lanes are never
/// read (VMASKMOVPS suppresses their faults), so `base` may point outside the row.
BD_AVX2 static inline __m256 load8(unsigned bits, const float *base) {
    if (bits == 0xFFu) return _mm256_loadu_ps(base);
    if (bits == 0) return _mm256_setzero_ps();
    return _mm256_maskload_ps(base, lane_mask(bits));
}

/// Lanes 0–7 of a stride-2 read: the even elements of the 16 floats at `base` whose bits are set in
/// `bits` (bit e for element e; unset elements are not read). With every even element set,
/// elements 0–14 lie in the row: two plain loads of elements 0–7 and 7–14 (VMASKMOVPS is slow on
/// some CPUs); otherwise masked loads, the odd elements not read.
BD_AVX2 static inline __m256 load8_even(unsigned bits, const float *base) {
    __m256 pairs;
    if ((bits & 0xFFFFu) == 0x5555u) {
        __m256 a = _mm256_loadu_ps(base), b = _mm256_loadu_ps((const float *)((uintptr_t)base + 7 * sizeof(float)));
        pairs = _mm256_shuffle_ps(a, b, 0xD8);     // x0 x2 x8 x10 | x4 x6 x12 x14 (b holds x7 … x14)
    } else {
        __m256 a = load8(bits & 0xFFu, base), b = load8((bits >> 8) & 0xFFu, (const float *)((uintptr_t)base + 8 * sizeof(float)));
        pairs = _mm256_shuffle_ps(a, b, 0x88);     // a0 a2 b0 b2 | a4 a6 b4 b6
    }
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(pairs), 0xD8));
}

/// Packs the `[K][16]` panel of output pixels `p0 ..< p0 + 16` of image `b` (see the AVX-512
/// `pack_panel`): one masked load pair per segment (`bd_plan_panel_segments`), tap column and
/// patch row; with stride 2, `load8_even` of the window's two 16-float halves.
BD_AVX2 static void pack_panel(const bd_implicit_conv *c, const float *x, long b, long p0, float *panel) {
    const long H = c->in_height, W = c->in_width, ty_n = c->taps_y, tx_n = c->taps_x;
    const int stride2 = c->stride == 2;
    bd_panel_segments sg;
    bd_plan_panel_segments(c, p0, &sg);
    const float *image = x + b * c->in_channels * H * W;
    float *dst = panel;
    for (long ci = 0; ci < c->in_channels; ci++) {
        const float *plane = image + ci * H * W;
        for (long ty = 0; ty < ty_n; ty++) {
            if (sg.count == 1 && !stride2) {
                long iy = sg.in_row[0] + c->tap_row[ty];
                if (iy < 0 || iy >= H) {
                    for (long tx = 0; tx < tx_n; tx++, dst += 16) {
                        _mm256_store_ps(dst, _mm256_setzero_ps());
                        _mm256_store_ps(dst + 8, _mm256_setzero_ps());
                    }
                    continue;
                }
                uintptr_t row = (uintptr_t)(plane + iy * W);
                for (long tx = 0; tx < tx_n; tx++, dst += 16) {
                    const float *base = (const float *)(row + (uintptr_t)(sg.offset[0][tx] * (long)sizeof(float)));
                    unsigned m = sg.mask[0][tx];
                    _mm256_store_ps(dst, load8(m & 0xFFu, base));
                    _mm256_store_ps(dst + 8, load8(m >> 8, (const float *)((uintptr_t)base + 8 * sizeof(float))));
                }
                continue;
            }
            for (long tx = 0; tx < tx_n; tx++, dst += 16) {
                __m256 lo = _mm256_setzero_ps(), hi = lo;
                for (int t = 0; t < sg.count; t++) {
                    const float *base = bd_segment_base(&sg, plane, H, W, c->tap_row[ty], t, tx);
                    if (!base) continue;
                    if (stride2) {
                        unsigned w = sg.window[t][tx];
                        if (w & 0xFFFFu) lo = _mm256_or_ps(lo, load8_even(w & 0xFFFFu, base));
                        if (w >> 16) hi = _mm256_or_ps(hi, load8_even(w >> 16, (const float *)((uintptr_t)base + 16 * sizeof(float))));
                        continue;
                    }
                    unsigned m = sg.mask[t][tx];
                    // Segments cover disjoint lanes: OR their masked loads together.
                    if (m & 0xFFu) lo = _mm256_or_ps(lo, load8(m & 0xFFu, base));
                    if (m >> 8) hi = _mm256_or_ps(hi, load8(m >> 8, (const float *)((uintptr_t)base + 8 * sizeof(float))));
                }
                _mm256_store_ps(dst, lo);
                _mm256_store_ps(dst + 8, hi);
            }
        }
    }
}

/// C[R rows, 16 columns] = A-rows `a[k·16 + i]` (i < R) ᵀ · B-panel `[K][16]`; row i stored at
/// `c + i·ldc`. `R` is 6 or 4, a constant once inlined, so the 2R accumulators stay in registers.
/// With `stream` (also a constant), streaming stores (`c` 32-byte aligned).
BD_AVX2 static inline __attribute__((always_inline)) void kernel_rx16(const int R, const int stream, long K, const float *a,
                                                                     const float *b, float *c, long ldc) {
    __m256 acc[6][2];
    for (int i = 0; i < R; i++) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
    for (long k = 0; k < K; k++) {
        __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
        for (int i = 0; i < R; i++) {
            __m256 av = _mm256_broadcast_ss(a + i);
            acc[i][0] = _mm256_fmadd_ps(av, b0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(av, b1, acc[i][1]);
        }
        a += 16; b += 16;
    }
    for (int i = 0; i < R; i++) {
        if (stream) {
            _mm256_stream_ps(c + i * ldc, acc[i][0]);
            _mm256_stream_ps(c + i * ldc + 8, acc[i][1]);
        } else {
            _mm256_storeu_ps(c + i * ldc, acc[i][0]);
            _mm256_storeu_ps(c + i * ldc + 8, acc[i][1]);
        }
    }
}

BD_AVX2 static void kernel_6x16(long K, const float *a, const float *b, float *c, long ldc) { kernel_rx16(6, 0, K, a, b, c, ldc); }
BD_AVX2 static void kernel_4x16(long K, const float *a, const float *b, float *c, long ldc) { kernel_rx16(4, 0, K, a, b, c, ldc); }
BD_AVX2 static void kernel_6x16_streaming(long K, const float *a, const float *b, float *c, long ldc) { kernel_rx16(6, 1, K, a, b, c, ldc); }
BD_AVX2 static void kernel_4x16_streaming(long K, const float *a, const float *b, float *c, long ldc) { kernel_rx16(4, 1, K, a, b, c, ldc); }

BD_AVX2 void bd_implicit_conv_panels_avx2(const bd_implicit_conv *c, const float *x, const float *packed_w, float *y,
                                          long panel_begin, long panel_end, float *scratch) {
    const long plane = c->out_height * c->out_width, K = c->in_channels * c->taps_y * c->taps_x;
    void (*const kernel6)(long, const float *, const float *, float *, long) = c->stream_output ? kernel_6x16_streaming : kernel_6x16;
    void (*const kernel4)(long, const float *, const float *, float *, long) = c->stream_output ? kernel_4x16_streaming : kernel_4x16;
    for (long q0 = panel_begin; q0 < panel_end; q0 += BD_PANELS_PER_BLOCK) {
        long q1 = q0 + BD_PANELS_PER_BLOCK < panel_end ? q0 + BD_PANELS_PER_BLOCK : panel_end;
        for (long q = q0; q < q1; q++) {
            long first = q * 16;
            pack_panel(c, x, first / plane, first % plane, scratch + (q - q0) * K * 16);
        }
        for (long cb = 0; cb < c->out_channels / 16; cb++) {
            const float *a = packed_w + cb * K * 16;
            for (long q = q0; q < q1; q++) {
                long first = q * 16, b = first / plane, p0 = first % plane;
                float *out = y + (b * c->out_channels + cb * 16) * plane + p0;
                const float *panel = scratch + (q - q0) * K * 16;
                kernel6(K, a, panel, out, plane);
                kernel6(K, a + 6, panel, out + 6 * plane, plane);
                kernel4(K, a + 12, panel, out + 12 * plane, plane);
            }
        }
    }
    if (c->stream_output) _mm_sfence();
}

/// 16 output channels × 16 pixels into rows `ldc` apart (6 + 6 + 4 rows, regular stores).
BD_AVX2 static void channel_block_16x16(long K, const float *a, const float *panel, float *c, long ldc) {
    kernel_6x16(K, a, panel, c, ldc);
    kernel_6x16(K, a + 6, panel, c + 6 * ldc, ldc);
    kernel_4x16(K, a + 12, panel, c + 12 * ldc, ldc);
}

BD_AVX2 void bd_implicit_conv_phases_avx2(const bd_implicit_conv_phases *p, const float *dy, const float *packed_w, float *dx,
                                          long panel_begin, long panel_end, float *scratch) {
    bd_implicit_conv_phases_run(p, dy, packed_w, dx, panel_begin, panel_end, scratch, pack_panel, channel_block_16x16, 0);
}

#else

int bd_cpu_has_avx2_fma(void) { return 0; }
void bd_implicit_conv_panels_avx2(const bd_implicit_conv *c, const float *x, const float *packed_w, float *y,
                                  long panel_begin, long panel_end, float *scratch) {
    (void)c; (void)x; (void)packed_w; (void)y; (void)panel_begin; (void)panel_end; (void)scratch;
}
void bd_implicit_conv_phases_avx2(const bd_implicit_conv_phases *p, const float *dy, const float *packed_w, float *dx,
                                  long panel_begin, long panel_end, float *scratch) {
    (void)p; (void)dy; (void)packed_w; (void)dx; (void)panel_begin; (void)panel_end; (void)scratch;
}

#endif
