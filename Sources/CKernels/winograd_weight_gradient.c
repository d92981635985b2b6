// The weight gradient of a 3 × 3, stride-1, padding-1 convolution by F(3 × 3, 2 × 2), AVX-512 (see
// include/winograd_conv.h). Blocks of 16 tiles are those of the forward kernels; 4 of them (a
// chunk) have their input tiles transformed (`V = Bᵀ d B`, lanes = tiles) and their output-gradient
// tiles transformed (`Ê = A dY Aᵀ`, then transposed so lanes = output channels), and for each
// transformed tap ξ the chunk's products `M[ξ][ci][co] += Σ_t V[ξ][ci][t] · Ê[ξ][t][co]` are
// accumulated (the implicit GEMM's 16 × 16 micro-kernel, tiles in order). At the end of the image
// range, `dW = Gᵀ M G` per channel pair.
//
// A = [1 0; 1 1; 1 −1; 0 −1] (the forward's Aᵀ transposed), Gᵀ = [1 ½ ½ 0; 0 ½ −½ 0; 0 ½ ½ 1].
#include "winograd_shared.h"

/// Blocks whose transforms are accumulated together (64 tiles).
#define BD_CHUNK_BLOCKS 4
#define BD_CHUNK_TILES (BD_CHUNK_BLOCKS * 16)

long bd_winograd_weight_gradient_scratch_count(const bd_winograd_conv *c) {
    const long Ci = c->in_channels, Co = c->out_channels;
    return 16 * Ci * BD_CHUNK_TILES + 16 * BD_CHUNK_TILES * Co + 16 * Ci * Co + 16 * 16 * 16;
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))

/// Transposes the 16 × 16 floats `r` in place (`r[i]` lane j ↔ `r[j]` lane i).
BD_AVX512 static inline __attribute__((always_inline)) void transpose_16x16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]), t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    for (int i = 0; i < 16; i += 4) {
        __m512d a = _mm512_castps_pd(t[i]), b = _mm512_castps_pd(t[i + 1]), c = _mm512_castps_pd(t[i + 2]), d = _mm512_castps_pd(t[i + 3]);
        r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c)), r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d)), r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    // r[4g + j], 128-bit lane L: rows 4g … 4g + 3 of column 4L + j.
    for (int j = 0; j < 4; j++) {
        t[j] = _mm512_shuffle_f32x4(r[j], r[4 + j], 0x88), t[4 + j] = _mm512_shuffle_f32x4(r[j], r[4 + j], 0xdd);
        t[8 + j] = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0x88), t[12 + j] = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0xdd);
    }
    for (int j = 0; j < 4; j++) {
        r[j] = _mm512_shuffle_f32x4(t[j], t[8 + j], 0x88), r[8 + j] = _mm512_shuffle_f32x4(t[j], t[8 + j], 0xdd);
        r[4 + j] = _mm512_shuffle_f32x4(t[4 + j], t[12 + j], 0x88), r[12 + j] = _mm512_shuffle_f32x4(t[4 + j], t[12 + j], 0xdd);
    }
}

/// `Ê = A dY Aᵀ` of the block's 16 tiles for output channels `co0 … co0 + 15`, written transposed:
/// `et[(ξ·BD_CHUNK_TILES + tile0 + t)·Co + co0 + i]`. `temp`: 16 · 16 · 16 floats.
BD_AVX512 static inline __attribute__((always_inline)) void transform_output_gradient(const int P, const bd_winograd_conv *c,
                                                                                     const float *dy, const block_place *bp,
                                                                                     long co0, float *temp, float *et,
                                                                                     long tile0) {
    const __m512i even = even_lanes(), odd = odd_lanes();
    const long H = c->height, W = c->width, Co = c->out_channels;
    const __m512 zero = _mm512_setzero_ps();
    for (long i = 0; i < 16; i++) {
        const float *plane = dy + (bp->b * Co + co0 + i) * H * W;
        __m512 e[2][2];   // e[row][column parity]: the tiles' dY
        for (int row = 0; row < 2; row++) {
            __m512 lo, hi;
            load_block_row(P, c, plane, bp, row + 1, &lo, &hi);   // output row 2·pair + row
            e[row][0] = _mm512_permutex2var_ps(lo, even, hi), e[row][1] = _mm512_permutex2var_ps(lo, odd, hi);
        }
        __m512 r[4][2] = {{e[0][0], e[0][1]},
                          {_mm512_add_ps(e[0][0], e[1][0]), _mm512_add_ps(e[0][1], e[1][1])},
                          {_mm512_sub_ps(e[0][0], e[1][0]), _mm512_sub_ps(e[0][1], e[1][1])},
                          {_mm512_sub_ps(zero, e[1][0]), _mm512_sub_ps(zero, e[1][1])}};
        for (int a = 0; a < 4; a++) {
            float *out = temp + (a * 4 * 16 + i) * 16;
            _mm512_store_ps(out, r[a][0]);
            _mm512_store_ps(out + 256, _mm512_add_ps(r[a][0], r[a][1]));
            _mm512_store_ps(out + 512, _mm512_sub_ps(r[a][0], r[a][1]));
            _mm512_store_ps(out + 768, _mm512_sub_ps(zero, r[a][1]));
        }
    }
    for (int xi = 0; xi < 16; xi++) {
        __m512 r[16];
        for (int i = 0; i < 16; i++) r[i] = _mm512_load_ps(temp + (xi * 16 + i) * 16);
        transpose_16x16(r);
        for (int t = 0; t < 16; t++) _mm512_storeu_ps(et + (xi * BD_CHUNK_TILES + tile0 + t) * Co + co0, r[t]);
    }
}

/// `m[i·Co + lane] += Σ_{t < tiles} v[i·BD_CHUNK_TILES + t] · et[t·Co + lane]` for 16 input
/// channels i and 16 output channels (lanes): tiles in order.
BD_AVX512 static inline __attribute__((always_inline)) void multiply_accumulate(long tiles, const float *v, const float *et, long Co,
                                                                               float *m) {
    __m512 c0 = _mm512_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
    __m512 c8 = c0, c9 = c0, c10 = c0, c11 = c0, c12 = c0, c13 = c0, c14 = c0, c15 = c0;
    for (long t = 0; t < tiles; t++) {
        __m512 bv = _mm512_loadu_ps(et + t * Co);
#define BD_STEP(i) c##i = _mm512_fmadd_ps(_mm512_set1_ps(v[i * BD_CHUNK_TILES + t]), bv, c##i)
        BD_STEP(0); BD_STEP(1); BD_STEP(2); BD_STEP(3); BD_STEP(4); BD_STEP(5); BD_STEP(6); BD_STEP(7);
        BD_STEP(8); BD_STEP(9); BD_STEP(10); BD_STEP(11); BD_STEP(12); BD_STEP(13); BD_STEP(14); BD_STEP(15);
#undef BD_STEP
    }
#define BD_ADD(i) _mm512_storeu_ps(m + i * Co, _mm512_add_ps(_mm512_loadu_ps(m + i * Co), c##i))
    BD_ADD(0); BD_ADD(1); BD_ADD(2); BD_ADD(3); BD_ADD(4); BD_ADD(5); BD_ADD(6); BD_ADD(7);
    BD_ADD(8); BD_ADD(9); BD_ADD(10); BD_ADD(11); BD_ADD(12); BD_ADD(13); BD_ADD(14); BD_ADD(15);
#undef BD_ADD
}

/// `dwt[(9·ci + 3·ky + kx)·Co + co] += (Gᵀ M G)[ky][kx]` for every channel pair, `m` `[16][Ci][Co]`.
BD_AVX512 static void transform_back(const bd_winograd_conv *c, const float *m, float *dwt) {
    const long Ci = c->in_channels, Co = c->out_channels;
    const __m512 half = _mm512_set1_ps(0.5f);
    for (long ci = 0; ci < Ci; ci++)
        for (long co0 = 0; co0 < Co; co0 += 16) {
            __m512 t[3][4];   // Gᵀ M
            for (int j = 0; j < 4; j++) {
                __m512 a = _mm512_loadu_ps(m + ((0 + j) * Ci + ci) * Co + co0), b = _mm512_loadu_ps(m + ((4 + j) * Ci + ci) * Co + co0);
                __m512 d = _mm512_loadu_ps(m + ((8 + j) * Ci + ci) * Co + co0), e = _mm512_loadu_ps(m + ((12 + j) * Ci + ci) * Co + co0);
                __m512 sum = _mm512_mul_ps(half, _mm512_add_ps(b, d));
                t[0][j] = _mm512_add_ps(a, sum), t[1][j] = _mm512_mul_ps(half, _mm512_sub_ps(b, d)), t[2][j] = _mm512_add_ps(sum, e);
            }
            for (int r = 0; r < 3; r++) {
                __m512 sum = _mm512_mul_ps(half, _mm512_add_ps(t[r][1], t[r][2]));
                __m512 out[3] = {_mm512_add_ps(t[r][0], sum), _mm512_mul_ps(half, _mm512_sub_ps(t[r][1], t[r][2])),
                                 _mm512_add_ps(sum, t[r][3])};
                for (int s = 0; s < 3; s++) {
                    float *row = dwt + (9 * ci + 3 * r + s) * Co + co0;
                    _mm512_storeu_ps(row, _mm512_add_ps(_mm512_loadu_ps(row), out[s]));
                }
            }
        }
}

BD_AVX512 static inline __attribute__((always_inline)) void weight_gradient(const int P, const bd_winograd_conv *c, const float *x,
                                                                           const float *dy, long image_begin, long image_end,
                                                                           float *dwt, float *scratch) {
    const long Ci = c->in_channels, Co = c->out_channels, per_image = bd_winograd_blocks_per_image(c);
    float *v = scratch, *et = v + 16 * Ci * BD_CHUNK_TILES, *m = et + 16 * BD_CHUNK_TILES * Co, *temp = m + 16 * Ci * Co;
    for (long i = 0; i < 16 * Ci * Co; i++) m[i] = 0;
    const long q_end = image_end * per_image;
    for (long q = image_begin * per_image; q < q_end; q += BD_CHUNK_BLOCKS) {
        const long blocks = q_end - q < BD_CHUNK_BLOCKS ? q_end - q : BD_CHUNK_BLOCKS;
        for (long j = 0; j < blocks; j++) {
            block_place bp = place_block(c, P, q + j);
            transform_input(P, c, x, &bp, v + j * 16, BD_CHUNK_TILES);
            for (long co0 = 0; co0 < Co; co0 += 16) transform_output_gradient(P, c, dy, &bp, co0, temp, et, j * 16);
        }
        for (int xi = 0; xi < 16; xi++)
            for (long ci0 = 0; ci0 < Ci; ci0 += 16)
                for (long co0 = 0; co0 < Co; co0 += 16)
                    multiply_accumulate(blocks * 16, v + (xi * Ci + ci0) * BD_CHUNK_TILES, et + xi * BD_CHUNK_TILES * Co + co0, Co,
                                        m + (xi * Ci + ci0) * Co + co0);
    }
    transform_back(c, m, dwt);
}

BD_AVX512 static void weight_gradient_1(const bd_winograd_conv *c, const float *x, const float *dy, long i0, long i1, float *dwt, float *s) {
    weight_gradient(1, c, x, dy, i0, i1, dwt, s);
}
BD_AVX512 static void weight_gradient_2(const bd_winograd_conv *c, const float *x, const float *dy, long i0, long i1, float *dwt, float *s) {
    weight_gradient(2, c, x, dy, i0, i1, dwt, s);
}
BD_AVX512 static void weight_gradient_4(const bd_winograd_conv *c, const float *x, const float *dy, long i0, long i1, float *dwt, float *s) {
    weight_gradient(4, c, x, dy, i0, i1, dwt, s);
}

void bd_winograd_weight_gradient_avx512(const bd_winograd_conv *c, const float *x, const float *dy, long image_begin,
                                        long image_end, float *dwt, float *scratch) {
    long P = bd_winograd_row_pairs(c);
    (P == 1 ? weight_gradient_1 : P == 2 ? weight_gradient_2 : weight_gradient_4)(c, x, dy, image_begin, image_end, dwt, scratch);
}

#else

void bd_winograd_weight_gradient_avx512(const bd_winograd_conv *c, const float *x, const float *dy, long image_begin,
                                        long image_end, float *dwt, float *scratch) {
    (void)c, (void)x, (void)dy, (void)image_begin, (void)image_end, (void)dwt, (void)scratch;
}

#endif
