// Implicit-GEMM stride-1 convolution (see include/implicit_conv.h).
#include "implicit_conv.h"

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#include <stdint.h>

#define BD_AVX512 __attribute__((target("avx512f")))

#include <cpuid.h>

int bd_implicit_conv_available(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return 0;          // OSXSAVE
    unsigned xcr0_lo, xcr0_hi;
    __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
    if ((xcr0_lo & 0xE6u) != 0xE6u) return 0;                                    // XMM, YMM, opmask, ZMM state
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return (b & (1u << 16)) ? 1 : 0;                                             // AVX512F
}

void bd_pack_conv_weights(const bd_conv_shape *s, const float *w, int flip_transpose, float *packed) {
    const long co_n = s->out_channels, ci_n = s->in_channels, kh = s->kernel_h, kw = s->kernel_w;
    const long K = ci_n * kh * kw;
    for (long co = 0; co < co_n; co++) {
        float *dst = packed + (co / 16) * K * 16 + (co % 16);
        for (long ci = 0; ci < ci_n; ci++)
            for (long ky = 0; ky < kh; ky++)
                for (long kx = 0; kx < kw; kx++) {
                    long k = (ci * kh + ky) * kw + kx;
                    float v = flip_transpose
                        ? w[((ci * co_n + co) * kh + (kh - 1 - ky)) * kw + (kw - 1 - kx)]
                        : w[k + co * K];
                    dst[k * 16] = v;
                }
    }
}

/// Packs the `[K][16]` B panel of output pixels `p0 ..< p0 + 16` of image `b` straight from `x`:
/// row k = (ci, ky, kx) holds x[b, ci, oy + ky − pad, ox + kx − pad] (zero outside the image).
/// The 16 pixels fall into segments, each within one output row (one segment when the output
/// width is a multiple of 16 and more when it is narrower); every segment of a patch row is one
/// masked load, whose lane mask and source offset depend only on the segment and `kx`.
BD_AVX512 static void pack_panel(const bd_conv_shape *s, const float *x, long b, long p0, float *panel) {
    const long H = s->height, W = s->width, pad = s->padding, kh = s->kernel_h, kw = s->kernel_w;
    const long Wo = W + 2 * pad - kw + 1;
    long seg_oy[16], seg_offset[16][BD_MAX_KERNEL_W];
    __mmask16 seg_mask[16][BD_MAX_KERNEL_W];
    int nseg = 0;
    for (int lane = 0; lane < 16; nseg++) {
        long p = p0 + lane, oy = p / Wo, ox = p % Wo;
        int count = (int)(Wo - ox) < 16 - lane ? (int)(Wo - ox) : 16 - lane;
        seg_oy[nseg] = oy;
        for (long kx = 0; kx < kw; kx++) {
            // Lane j reads column ox + (j − lane) + kx − pad of the input row.
            long shift = ox - lane + kx - pad;
            long lo = lane, hi = lane + count;
            if (lo + shift < 0) lo = -shift;
            if (hi + shift > W) hi = W - shift;
            seg_mask[nseg][kx] = hi > lo ? (__mmask16)(((1u << (hi - lo)) - 1u) << lo) : 0;
            seg_offset[nseg][kx] = shift;
        }
        lane += count;
    }
    const float *image = x + b * s->in_channels * H * W;
    float *dst = panel;
    for (long ci = 0; ci < s->in_channels; ci++) {
        const float *plane = image + ci * H * W;
        for (long ky = 0; ky < kh; ky++) {
            if (nseg == 1) {
                long iy = seg_oy[0] + ky - pad;
                if (iy < 0 || iy >= H) {
                    for (long kx = 0; kx < kw; kx++, dst += 16) _mm512_store_ps(dst, _mm512_setzero_ps());
                    continue;
                }
                // Masked-off lanes are never read (AVX-512 suppresses their faults), so the base
                // may point before the row; integer arithmetic keeps that well-defined in C.
                uintptr_t row = (uintptr_t)(plane + iy * W);
                for (long kx = 0; kx < kw; kx++, dst += 16) {
                    const float *base = (const float *)(row + (uintptr_t)(seg_offset[0][kx] * (long)sizeof(float)));
                    _mm512_store_ps(dst, _mm512_maskz_loadu_ps(seg_mask[0][kx], base));
                }
                continue;
            }
            for (long kx = 0; kx < kw; kx++, dst += 16) {
                __m512 v = _mm512_setzero_ps();
                for (int t = 0; t < nseg; t++) {
                    long iy = seg_oy[t] + ky - pad;
                    if (iy < 0 || iy >= H) continue;
                    uintptr_t row = (uintptr_t)(plane + iy * W);
                    const float *base = (const float *)(row + (uintptr_t)(seg_offset[t][kx] * (long)sizeof(float)));
                    v = _mm512_mask_loadu_ps(v, seg_mask[t][kx], base);
                }
                _mm512_store_ps(dst, v);
            }
        }
    }
}

/// C[16 rows, 16 columns] = A-panel `[K][16]` ᵀ · B-panel `[K][16]`; row i stored at `c + i·ldc`.
BD_AVX512 static void kernel_16x16(long K, const float *a, const float *b, float *c, long ldc) {
    __m512 c0 = _mm512_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
    __m512 c8 = c0, c9 = c0, c10 = c0, c11 = c0, c12 = c0, c13 = c0, c14 = c0, c15 = c0;
    for (long k = 0; k < K; k++) {
        __m512 bv = _mm512_load_ps(b);
#define BD_STEP(i) c##i = _mm512_fmadd_ps(_mm512_set1_ps(a[i]), bv, c##i)
        BD_STEP(0); BD_STEP(1); BD_STEP(2); BD_STEP(3); BD_STEP(4); BD_STEP(5); BD_STEP(6); BD_STEP(7);
        BD_STEP(8); BD_STEP(9); BD_STEP(10); BD_STEP(11); BD_STEP(12); BD_STEP(13); BD_STEP(14); BD_STEP(15);
#undef BD_STEP
        a += 16; b += 16;
    }
    _mm512_storeu_ps(c + 0 * ldc, c0); _mm512_storeu_ps(c + 1 * ldc, c1);
    _mm512_storeu_ps(c + 2 * ldc, c2); _mm512_storeu_ps(c + 3 * ldc, c3);
    _mm512_storeu_ps(c + 4 * ldc, c4); _mm512_storeu_ps(c + 5 * ldc, c5);
    _mm512_storeu_ps(c + 6 * ldc, c6); _mm512_storeu_ps(c + 7 * ldc, c7);
    _mm512_storeu_ps(c + 8 * ldc, c8); _mm512_storeu_ps(c + 9 * ldc, c9);
    _mm512_storeu_ps(c + 10 * ldc, c10); _mm512_storeu_ps(c + 11 * ldc, c11);
    _mm512_storeu_ps(c + 12 * ldc, c12); _mm512_storeu_ps(c + 13 * ldc, c13);
    _mm512_storeu_ps(c + 14 * ldc, c14); _mm512_storeu_ps(c + 15 * ldc, c15);
}

long bd_implicit_conv_scratch_count(const bd_conv_shape *s) {
    return BD_PANELS_PER_BLOCK * s->in_channels * s->kernel_h * s->kernel_w * 16;
}

BD_AVX512 void bd_implicit_conv_panels(const bd_conv_shape *s, const float *x, const float *packed_w, float *y,
                                       long panel_begin, long panel_end, float *scratch) {
    const long Wo = s->width + 2 * s->padding - s->kernel_w + 1;
    const long Ho = s->height + 2 * s->padding - s->kernel_h + 1;
    const long plane = Ho * Wo, K = s->in_channels * s->kernel_h * s->kernel_w, co_n = s->out_channels;
    for (long q0 = panel_begin; q0 < panel_end; q0 += BD_PANELS_PER_BLOCK) {
        long q1 = q0 + BD_PANELS_PER_BLOCK < panel_end ? q0 + BD_PANELS_PER_BLOCK : panel_end;
        for (long q = q0; q < q1; q++) {
            long first = q * 16;
            pack_panel(s, x, first / plane, first % plane, scratch + (q - q0) * K * 16);
        }
        for (long cb = 0; cb < co_n / 16; cb++) {
            const float *a = packed_w + cb * K * 16;
            for (long q = q0; q < q1; q++) {
                long first = q * 16, b = first / plane, p0 = first % plane;
                kernel_16x16(K, a, scratch + (q - q0) * K * 16, y + (b * co_n + cb * 16) * plane + p0, plane);
            }
        }
    }
}

#else

int bd_implicit_conv_available(void) { return 0; }
void bd_pack_conv_weights(const bd_conv_shape *s, const float *w, int flip_transpose, float *packed) {
    (void)s; (void)w; (void)flip_transpose; (void)packed;
}
long bd_implicit_conv_scratch_count(const bd_conv_shape *s) { (void)s; return 0; }
void bd_implicit_conv_panels(const bd_conv_shape *s, const float *x, const float *packed_w, float *y,
                             long panel_begin, long panel_end, float *scratch) {
    (void)s; (void)x; (void)packed_w; (void)y; (void)panel_begin; (void)panel_end; (void)scratch;
}

#endif
