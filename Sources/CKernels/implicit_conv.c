// Implicit-GEMM convolution (see include/implicit_conv.h).
#include "kernel_shared.h"

// Weight packing, scratch sizes and panel segments are plain C; only the kernels below need
// x86-64 and AVX-512.

/// Bit j of `m` moved to bit 2j (16 bits → 32).
static unsigned spread_even(unsigned m) {
    unsigned r = 0;
    for (int j = 0; j < 16; j++) r |= ((m >> j) & 1u) << (2 * j);
    return r;
}

void bd_plan_panel_segments(const bd_implicit_conv *c, long p0, bd_panel_segments *s) {
    const long W = c->in_width, Wo = c->out_width, st = c->stride > 1 ? c->stride : 1;
    s->count = 0;
    for (int lane = 0; lane < 16; s->count++) {
        long p = p0 + lane, oy = p / Wo, ox = p % Wo;
        int count = (int)(Wo - ox) < 16 - lane ? (int)(Wo - ox) : 16 - lane;
        s->in_row[s->count] = st * oy;
        for (long tx = 0; tx < c->taps_x; tx++) {
            // Lane j reads column st·(ox + j − lane) + tap_col[tx] = shift + st·j of the input row.
            long shift = st * (ox - lane) + c->tap_col[tx];
            long lo = lane, hi = lane + count;
            if (st == 1) {
                if (lo + shift < 0) lo = -shift;
                if (hi + shift > W) hi = W - shift;
            } else {
                while (lo < hi && shift + st * lo < 0) lo++;
                while (hi > lo && shift + st * (hi - 1) >= W) hi--;
            }
            unsigned mask = hi > lo ? (((1u << (hi - lo)) - 1u) << lo) : 0u;
            s->mask[s->count][tx] = mask;
            s->window[s->count][tx] = st == 2 ? spread_even(mask) : 0u;
            s->offset[s->count][tx] = shift;
        }
        lane += count;
    }
}

void bd_implicit_conv_pack_weights(const bd_implicit_conv *c, const float *w, float *packed) {
    const long K = c->in_channels * c->taps_y * c->taps_x;
    for (long co = 0; co < c->out_channels; co++) {
        float *dst = packed + (co / 16) * K * 16 + (co % 16);
        const float *src = w + co * K;
        for (long k = 0; k < K; k++) dst[k * 16] = src[k];
    }
}

long bd_implicit_conv_scratch_count(const bd_implicit_conv *c) {
    return BD_PANELS_PER_BLOCK * c->in_channels * c->taps_y * c->taps_x * 16;
}

long bd_implicit_conv_phases_scratch_count(const bd_implicit_conv_phases *p) {
    long most = 0;
    for (int i = 0; i < 4; i++) {
        const bd_implicit_conv *c = &p->phase[i];
        long k = c->taps_y > 0 ? bd_implicit_conv_scratch_count(c) : 0;
        if (k > most) most = k;
    }
    return most + bd_phase_tile_count(p);
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <cpuid.h>
#include <immintrin.h>
#include <stdint.h>

#define BD_AVX512 __attribute__((target("avx512f")))
#include "kernel_16x16_avx512.h"

int bd_cpu_has_avx512(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return 0;          // OSXSAVE
    unsigned xcr0_lo, xcr0_hi;
    __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
    if ((xcr0_lo & 0xE6u) != 0xE6u) return 0;                                    // XMM, YMM, opmask, ZMM state
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return (b & (1u << 16)) ? 1 : 0;                                             // AVX512F
}

/// Packs the `[K][16]` B panel of output pixels `p0 ..< p0 + 16` of image `b` straight from `x`
/// (see `bd_implicit_conv` for what each patch row reads): every segment
/// (`bd_plan_panel_segments`) of a patch row is one masked load — with stride 2, two masked loads
/// of the segment's 32-float window (only the even elements of its lanes are read) and one
/// permute that keeps the even elements.
BD_AVX512 static void pack_panel(const bd_implicit_conv *c, const float *x, long b, long p0, float *panel) {
    const long H = c->in_height, W = c->in_width, ty_n = c->taps_y, tx_n = c->taps_x;
    const int stride2 = c->stride == 2;
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
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
                    for (long tx = 0; tx < tx_n; tx++, dst += 16) _mm512_store_ps(dst, _mm512_setzero_ps());
                    continue;
                }
                // Masked-off lanes are never read (AVX-512 suppresses their faults), so the base
                // may point outside the row; integer arithmetic keeps that well-defined in C.
                uintptr_t row = (uintptr_t)(plane + iy * W);
                for (long tx = 0; tx < tx_n; tx++, dst += 16) {
                    const float *base = (const float *)(row + (uintptr_t)(sg.offset[0][tx] * (long)sizeof(float)));
                    _mm512_store_ps(dst, _mm512_maskz_loadu_ps((__mmask16)sg.mask[0][tx], base));
                }
                continue;
            }
            for (long tx = 0; tx < tx_n; tx++, dst += 16) {
                __m512 v = _mm512_setzero_ps();
                for (int t = 0; t < sg.count; t++) {
                    const float *base = bd_segment_base(&sg, plane, H, W, c->tap_row[ty], t, tx);
                    if (!base) continue;
                    if (!stride2) { v = _mm512_mask_loadu_ps(v, (__mmask16)sg.mask[t][tx], base); continue; }
                    unsigned w = sg.window[t][tx];
                    __m512 lo = _mm512_maskz_loadu_ps((__mmask16)(w & 0xFFFFu), base);
                    __m512 hi = _mm512_maskz_loadu_ps((__mmask16)(w >> 16), (const float *)((uintptr_t)base + 16 * sizeof(float)));
                    // Segments cover disjoint lanes: each sets its own.
                    v = _mm512_mask_mov_ps(v, (__mmask16)sg.mask[t][tx], _mm512_permutex2var_ps(lo, even, hi));
                }
                _mm512_store_ps(dst, v);
            }
        }
    }
}

BD_AVX512 void bd_implicit_conv_panels_avx512(const bd_implicit_conv *c, const float *x, const float *packed_w, float *y,
                                       long panel_begin, long panel_end, float *scratch) {
    const long plane = c->out_height * c->out_width, K = c->in_channels * c->taps_y * c->taps_x;
    int groups = bd_direct_groups(c);
    if (groups) {
        bd_direct_panels_avx512(c, groups, x, packed_w, y, panel_begin, panel_end);
        return;
    }
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
                if (c->stream_output) kernel_16x16(1, K, a, scratch + (q - q0) * K * 16, out, plane);
                else kernel_16x16(0, K, a, scratch + (q - q0) * K * 16, out, plane);
            }
        }
    }
    if (c->stream_output) _mm_sfence();
}

/// `dst[2j] = even[j]`, `dst[2j + 1] = odd[j]` for j < 8; a missing (NULL) phase gives zeros. With
/// `stream` (a constant once inlined) streaming stores (`dst` 16-byte aligned). Baseline SSE: the
/// interleave only moves values, so both builds share it and give the same bits.
static inline __attribute__((always_inline)) void interleave8(const int stream, const float *even, const float *odd, float *dst) {
    for (int h = 0; h < 8; h += 4) {
        __m128 e = even ? _mm_loadu_ps(even + h) : _mm_setzero_ps(), o = odd ? _mm_loadu_ps(odd + h) : _mm_setzero_ps();
        __m128 lo = _mm_unpacklo_ps(e, o), hi = _mm_unpackhi_ps(e, o);   // e0 o0 e1 o1, e2 o2 e3 o3
        if (stream) {
            _mm_stream_ps(dst + 2 * h, lo);
            _mm_stream_ps(dst + 2 * h + 4, hi);
        } else {
            _mm_storeu_ps(dst + 2 * h, lo);
            _mm_storeu_ps(dst + 2 * h + 4, hi);
        }
    }
}

/// Writes the `dx` rows of panels `q0 ..< q1` from a block's phase tiles (`bd_phase_tile_count`),
/// `dx` with streaming stores when `p->stream_output`.
static inline __attribute__((always_inline)) void interleave_rows(const int stream, const bd_implicit_conv_phases *p,
                                                                 const float *tiles, float *dx, long q0, long q1) {
    const bd_implicit_conv *c = &p->phase[0];
    const long Ci = c->out_channels, Ho = c->out_height, Wo = c->out_width, plane = Ho * Wo, span = BD_PANELS_PER_BLOCK * 16;
    for (long q = q0; q < q1; q++) {
        long first = q * 16, b = first / plane, p0 = first % plane;
        for (long ci = 0; ci < Ci; ci++)
            for (long r = 0; r < 16; r += 8) {
                long oy = (p0 + r) / Wo, ox = (p0 + r) % Wo, at = ci * span + (q - q0) * 16 + r;
                for (int py = 0; py < 2; py++) {
                    const float *even = p->phase[2 * py].taps_y ? tiles + 2 * py * Ci * span + at : 0;
                    const float *odd = p->phase[2 * py + 1].taps_y ? tiles + (2 * py + 1) * Ci * span + at : 0;
                    interleave8(stream, even, odd, dx + ((b * Ci + ci) * 2 * Ho + 2 * oy + py) * 2 * Wo + 2 * ox);
                }
            }
    }
}

/// Writes the `dx` rows of panels `q0 ..< q1` from a block's phase tiles (`bd_phase_tile_count`).
static void interleave_phases(const bd_implicit_conv_phases *p, const float *tiles, float *dx, long q0, long q1) {
    if (p->stream_output) interleave_rows(1, p, tiles, dx, q0, q1);
    else interleave_rows(0, p, tiles, dx, q0, q1);
}

void bd_implicit_conv_phases_run(const bd_implicit_conv_phases *p, const float *dy, const float *packed_w, float *dx,
                                 long panel_begin, long panel_end, float *scratch, bd_pack_panel_fn pack,
                                 bd_channel_block_fn multiply, bd_direct_panel_fn direct) {
    const long Ci = p->phase[0].out_channels, plane = p->phase[0].out_height * p->phase[0].out_width;
    const long span = BD_PANELS_PER_BLOCK * 16;
    float *tiles = scratch, *panels = scratch + bd_phase_tile_count(p);
    for (long q0 = panel_begin; q0 < panel_end; q0 += BD_PANELS_PER_BLOCK) {
        long q1 = q0 + BD_PANELS_PER_BLOCK < panel_end ? q0 + BD_PANELS_PER_BLOCK : panel_end;
        for (int ph = 0; ph < 4; ph++) {
            const bd_implicit_conv *c = &p->phase[ph];
            if (c->taps_y == 0) continue;
            const long K = c->in_channels * c->taps_y * c->taps_x;
            float *tile = tiles + ph * Ci * span;
            if (direct && bd_direct_groups(c) == 1) {
                for (long q = q0; q < q1; q++)
                    direct(c, dy, packed_w + p->weight_offset[ph], q * 16 / plane, q * 16 % plane, tile + (q - q0) * 16, span);
                continue;
            }
            for (long q = q0; q < q1; q++) pack(c, dy, q * 16 / plane, q * 16 % plane, panels + (q - q0) * K * 16);
            for (long cb = 0; cb < Ci / 16; cb++) {
                const float *a = packed_w + p->weight_offset[ph] + cb * K * 16;
                for (long q = q0; q < q1; q++) multiply(K, a, panels + (q - q0) * K * 16, tile + cb * 16 * span + (q - q0) * 16, span);
            }
        }
        interleave_phases(p, tiles, dx, q0, q1);
    }
    if (p->stream_output) _mm_sfence();
}

/// 16 output channels × 16 pixels into rows `ldc` apart (regular stores).
BD_AVX512 static void channel_block_16x16(long K, const float *a, const float *panel, float *c, long ldc) {
    kernel_16x16(0, K, a, panel, c, ldc);
}

BD_AVX512 void bd_implicit_conv_phases_avx512(const bd_implicit_conv_phases *p, const float *dy, const float *packed_w, float *dx,
                                              long panel_begin, long panel_end, float *scratch) {
    bd_implicit_conv_phases_run(p, dy, packed_w, dx, panel_begin, panel_end, scratch, pack_panel, channel_block_16x16,
                                bd_direct_channel_blocks_avx512);
}

#else

int bd_cpu_has_avx512(void) { return 0; }
void bd_implicit_conv_panels_avx512(const bd_implicit_conv *c, const float *x, const float *packed_w, float *y,
                             long panel_begin, long panel_end, float *scratch) {
    (void)c; (void)x; (void)packed_w; (void)y; (void)panel_begin; (void)panel_end; (void)scratch;
}
void bd_implicit_conv_phases_avx512(const bd_implicit_conv_phases *p, const float *dy, const float *packed_w, float *dx,
                                    long panel_begin, long panel_end, float *scratch) {
    (void)p; (void)dy; (void)packed_w; (void)dx; (void)panel_begin; (void)panel_end; (void)scratch;
}

#endif
