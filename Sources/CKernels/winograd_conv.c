// Winograd F(2 × 2, 3 × 3) convolutions, AVX-512 (see include/winograd_conv.h). Lanes are tiles:
// a block's 16 tiles are one output-row pair × 32 columns (or 2 / 4 row pairs of a 16- / 8-wide
// plane), so each input row of a block is 32 floats whose even and odd elements (one lane permute
// each) are the tiles' 2nd and 3rd columns, and their neighbours the 1st and 4th.
//
// Transforms (Lavin & Gray 2016, F(2, 3)): Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1],
// G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1], Aᵀ = [1 1 1 0; 0 1 −1 −1].
#include "winograd_shared.h"

int bd_winograd_supports(const bd_winograd_conv *c) {
    if (c->batch < 1 || c->in_channels < 1 || c->out_channels < 16 || c->out_channels % 16 != 0) return 0;
    if (c->height < 2 || c->height % 2 != 0) return 0;
    if (c->width % 32 == 0) return 1;
    return (c->width == 16 && c->height % 4 == 0) || (c->width == 8 && c->height % 8 == 0);
}

long bd_winograd_block_count(const bd_winograd_conv *c) {
    return c->batch * bd_winograd_blocks_per_image(c);
}

long bd_winograd_weight_count(const bd_winograd_conv *c) { return 16 * c->out_channels * c->in_channels; }

void bd_winograd_transform_weights(const bd_winograd_conv *c, const float *w, float *u) {
    const long Co = c->out_channels, Ci = c->in_channels;
    for (long co = 0; co < Co; co++)
        for (long ci = 0; ci < Ci; ci++) {
            const float *g = w + (co * Ci + ci) * 9;
            double gg[4][3], t[4][4];   // G g, then (G g) Gᵀ — in double, rounded once
            for (int x = 0; x < 3; x++) {
                double a = g[x], b = g[3 + x], d = g[6 + x];
                gg[0][x] = a, gg[1][x] = 0.5 * (a + b + d), gg[2][x] = 0.5 * (a - b + d), gg[3][x] = d;
            }
            for (int i = 0; i < 4; i++) {
                double a = gg[i][0], b = gg[i][1], d = gg[i][2];
                t[i][0] = a, t[i][1] = 0.5 * (a + b + d), t[i][2] = 0.5 * (a - b + d), t[i][3] = d;
            }
            for (int xi = 0; xi < 16; xi++) u[((co / 16 * 16 + xi) * Ci + ci) * 16 + co % 16] = (float)t[xi / 4][xi % 4];
        }
}

long bd_winograd_scratch_count(const bd_winograd_conv *c) { return 16 * c->in_channels * 16 + 16 * 16 * 16; }

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include "kernel_16x16_avx512.h"

/// Stores output row `row` (0 or 1 of each pair) of the block from its tiles' two columns `y0`,
/// `y1` (lane t: tile t's left and right pixel) into channel plane `out`.
BD_AVX512 static inline __attribute__((always_inline)) void store_block_row(const int stream, const int P, const bd_winograd_conv *c,
                                                                           float *out, const block_place *bp, int row, __m512 y0,
                                                                           __m512 y1) {
    const __m512i first = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i second = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const long W = c->width;
    __m512 lo = _mm512_permutex2var_ps(y0, first, y1), hi = _mm512_permutex2var_ps(y0, second, y1);
    float *r0 = out + (2 * bp->pair0 + row) * W + bp->col0;
#define BD_PUT(p, v) do { if (stream) _mm512_stream_ps(p, v); else _mm512_storeu_ps(p, v); } while (0)
#define BD_PUT8(p, v) do { if (stream) _mm256_stream_ps(p, v); else _mm256_storeu_ps(p, v); } while (0)
#define BD_HALF(v, h) _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), h))
    if (P == 1) {
        BD_PUT(r0, lo); BD_PUT(r0 + 16, hi);
    } else if (P == 2) {
        BD_PUT(r0, lo); BD_PUT(r0 + 2 * W, hi);
    } else {
        BD_PUT8(r0, BD_HALF(lo, 0)); BD_PUT8(r0 + 2 * W, BD_HALF(lo, 1));
        BD_PUT8(r0 + 4 * W, BD_HALF(hi, 0)); BD_PUT8(r0 + 6 * W, BD_HALF(hi, 1));
    }
#undef BD_HALF
#undef BD_PUT8
#undef BD_PUT
}

/// `Y = Aᵀ M A` for the 16 output channels of `m` (`[16 ξ][16 k][16 lanes]`), written to the
/// block's pixels of channels `co0 … co0 + 15`.
BD_AVX512 static inline __attribute__((always_inline)) void transform_output(const int stream, const int P, const bd_winograd_conv *c,
                                                                            const float *m, const block_place *bp, long co0, float *y) {
    const long plane = c->height * c->width;
    for (long k = 0; k < 16; k++) {
        __m512 s0[4], s1[4];
        for (int j = 0; j < 4; j++) {
            __m512 m0 = _mm512_load_ps(m + ((0 + j) * 16 + k) * 16), m1 = _mm512_load_ps(m + ((4 + j) * 16 + k) * 16);
            __m512 m2 = _mm512_load_ps(m + ((8 + j) * 16 + k) * 16), m3 = _mm512_load_ps(m + ((12 + j) * 16 + k) * 16);
            s0[j] = _mm512_add_ps(_mm512_add_ps(m0, m1), m2);
            s1[j] = _mm512_sub_ps(_mm512_sub_ps(m1, m2), m3);
        }
        float *out = y + (bp->b * c->out_channels + co0 + k) * plane;
        store_block_row(stream, P, c, out, bp, 0, _mm512_add_ps(_mm512_add_ps(s0[0], s0[1]), s0[2]),
                        _mm512_sub_ps(_mm512_sub_ps(s0[1], s0[2]), s0[3]));
        store_block_row(stream, P, c, out, bp, 1, _mm512_add_ps(_mm512_add_ps(s1[0], s1[1]), s1[2]),
                        _mm512_sub_ps(_mm512_sub_ps(s1[1], s1[2]), s1[3]));
    }
}

/// Blocks `q0 ..< q1` with `P` row pairs each: transform a block's input once, then per 16 output
/// channels the 16 transformed-tap products and the output transform.
BD_AVX512 static inline __attribute__((always_inline)) void run_blocks(const int stream, const int P, const bd_winograd_conv *c,
                                                                      const float *x, const float *u, float *y, long q0, long q1,
                                                                      float *scratch) {
    const long Ci = c->in_channels;
    float *v = scratch, *m = scratch + 16 * Ci * 16;
    for (long q = q0; q < q1; q++) {
        block_place bp = place_block(c, P, q);
        transform_input(P, c, x, &bp, v, 16);
        for (long kb = 0; kb < c->out_channels / 16; kb++) {
            // m[ξ][k][lane] = Σ_ci u[ξ][ci][k] · v[ξ][ci][lane], ci in order.
            for (int xi = 0; xi < 16; xi++) kernel_16x16(0, Ci, u + (kb * 16 + xi) * Ci * 16, v + xi * Ci * 16, m + xi * 256, 16);
            transform_output(stream, P, c, m, &bp, kb * 16, y);
        }
    }
    if (stream) _mm_sfence();
}

#define BD_VARIANT(name, stream, P)                                                                                         \
    BD_AVX512 static void name(const bd_winograd_conv *c, const float *x, const float *u, float *y, long q0, long q1, float *s) { \
        run_blocks(stream, P, c, x, u, y, q0, q1, s);                                                                       \
    }
BD_VARIANT(blocks_1, 0, 1)
BD_VARIANT(blocks_2, 0, 2)
BD_VARIANT(blocks_4, 0, 4)
BD_VARIANT(blocks_1_streaming, 1, 1)
BD_VARIANT(blocks_2_streaming, 1, 2)
BD_VARIANT(blocks_4_streaming, 1, 4)
#undef BD_VARIANT

BD_AVX512 void bd_winograd_blocks_avx512(const bd_winograd_conv *c, const float *x, const float *u, float *y, long block_begin,
                                         long block_end, float *scratch) {
    long P = bd_winograd_row_pairs(c);
    void (*run)(const bd_winograd_conv *, const float *, const float *, float *, long, long, float *) =
        P == 1 ? (c->stream_output ? blocks_1_streaming : blocks_1)
        : P == 2 ? (c->stream_output ? blocks_2_streaming : blocks_2)
                 : (c->stream_output ? blocks_4_streaming : blocks_4);
    run(c, x, u, y, block_begin, block_end, scratch);
}

#else

void bd_winograd_blocks_avx512(const bd_winograd_conv *c, const float *x, const float *u, float *y, long block_begin,
                               long block_end, float *scratch) {
    (void)c, (void)x, (void)u, (void)y, (void)block_begin, (void)block_end, (void)scratch;
}

#endif
