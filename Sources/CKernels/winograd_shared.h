// Pieces of the AVX-512 Winograd kernels shared by the convolution and its weight gradient (not
// part of the public header): where a block lies, and the input transform `V = Bᵀ d B` of its tiles.
#ifndef BACKDROP_WINOGRAD_SHARED_H
#define BACKDROP_WINOGRAD_SHARED_H

#include "winograd_conv.h"

/// Output-row pairs per block: 1 for planes whose width is a multiple of 32, 2 for 16, 4 for 8.
static inline long bd_winograd_row_pairs(const bd_winograd_conv *c) { return c->width >= 32 ? 1 : 32 / c->width; }

/// Blocks side by side in one row pair: `width / 32` for widths that are multiples of 32, else 1.
static inline long bd_winograd_column_blocks(const bd_winograd_conv *c) { return c->width >= 32 ? c->width / 32 : 1; }

/// Blocks per image (blocks never straddle two images).
static inline long bd_winograd_blocks_per_image(const bd_winograd_conv *c) {
    return c->height / 2 / bd_winograd_row_pairs(c) * bd_winograd_column_blocks(c);
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

#define BD_AVX512 __attribute__((target("avx512f")))

/// Where a block lies: image `b`, first output-row pair `pair0`, first column `col0`.
typedef struct {
    long b, pair0, col0;
} block_place;

/// Lane permutes picking the even / odd elements of a 32-float pair `lo ‖ hi`.
BD_AVX512 static inline __m512i even_lanes(void) {
    return _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
}
BD_AVX512 static inline __m512i odd_lanes(void) {
    return _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
}

/// `a ‖ b` (AVX-512F has no 32-bit-lane insert of 8 floats; the 64-bit one moves the same bits).
BD_AVX512 static inline __m512 join_halves(__m256 a, __m256 b) {
    return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(a)), _mm256_castps_pd(b), 1));
}

static inline block_place place_block(const bd_winograd_conv *c, long P, long q) {
    long column_blocks = bd_winograd_column_blocks(c), per_image = bd_winograd_blocks_per_image(c);
    long r = q % per_image;
    block_place p = {q / per_image, r / column_blocks * P, r % column_blocks * 32};
    return p;
}

/// The block's 32 floats of relative input row `jr` (0 … 3) of one channel `plane`: for row pair p
/// of the block, input row `2·(pair0 + p) − 1 + jr`, `32 / P` floats from `col0` (zeros outside the
/// plane), concatenated as `lo ‖ hi`.
BD_AVX512 static inline __attribute__((always_inline)) void load_block_row(const int P, const bd_winograd_conv *c, const float *plane,
                                                                          const block_place *bp, int jr, __m512 *lo, __m512 *hi) {
    const long H = c->height, W = c->width;
    if (P == 1) {
        long iy = 2 * bp->pair0 - 1 + jr;
        int inside = iy >= 0 && iy < H;
        *lo = inside ? _mm512_loadu_ps(plane + iy * W + bp->col0) : _mm512_setzero_ps();
        *hi = inside ? _mm512_loadu_ps(plane + iy * W + bp->col0 + 16) : _mm512_setzero_ps();
    } else if (P == 2) {
        long iy0 = 2 * bp->pair0 - 1 + jr, iy1 = iy0 + 2;
        *lo = iy0 >= 0 && iy0 < H ? _mm512_loadu_ps(plane + iy0 * W) : _mm512_setzero_ps();
        *hi = iy1 >= 0 && iy1 < H ? _mm512_loadu_ps(plane + iy1 * W) : _mm512_setzero_ps();
    } else {
        __m256 part[4];
        for (int p = 0; p < 4; p++) {
            long iy = 2 * (bp->pair0 + p) - 1 + jr;
            part[p] = iy >= 0 && iy < H ? _mm256_loadu_ps(plane + iy * W) : _mm256_setzero_ps();
        }
        *lo = join_halves(part[0], part[1]);
        *hi = join_halves(part[2], part[3]);
    }
}

/// `V[ξ][ci][lane] = (Bᵀ d B)[ξ]` of every input channel's 4 × 4 tile `d` of the block's 16
/// tiles, into `v`: row (ξ, ci) of 16 lanes at `v + (ξ·Ci + ci)·ld` (`ld` ≥ 16, a multiple of 16).
BD_AVX512 static inline __attribute__((always_inline)) void transform_input(const int P, const bd_winograd_conv *c, const float *x,
                                                                           const block_place *bp, float *v, long ld) {
    const long H = c->height, W = c->width, Ci = c->in_channels;
    // Lane t is tile t mod (16 / P) of row pair t div (16 / P); its columns 2t − 1 … 2t + 2 of its
    // segment are odd[t − 1], even[t], odd[t], even[t + 1] (zero past the segment's ends).
    const __m512i even = even_lanes(), odd = odd_lanes();
    const __m512i previous = _mm512_setr_epi32(0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14);
    const __m512i next = _mm512_setr_epi32(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 15);
    const __mmask16 not_first = P == 1 ? 0xFFFE : P == 2 ? 0xFEFE : 0xEEEE;
    const __mmask16 not_last = P == 1 ? 0x7FFF : P == 2 ? 0x7F7F : 0x7777;
    const float *image = x + bp->b * Ci * H * W;
    const int left_halo = P == 1 && bp->col0 > 0, right_halo = P == 1 && bp->col0 + 32 < W;
    for (long ci = 0; ci < Ci; ci++) {
        const float *plane = image + ci * H * W;
        __m512 r[4][4];   // Bᵀ applied along each input row: r[row][j]
        for (int jr = 0; jr < 4; jr++) {
            __m512 lo, hi;
            load_block_row(P, c, plane, bp, jr, &lo, &hi);
            __m512 e = _mm512_permutex2var_ps(lo, even, hi), o = _mm512_permutex2var_ps(lo, odd, hi);
            __m512 c0 = _mm512_maskz_permutexvar_ps(not_first, previous, o);
            __m512 c3 = _mm512_maskz_permutexvar_ps(not_last, next, e);
            if (left_halo || right_halo) {
                long iy = 2 * bp->pair0 - 1 + jr;
                if (iy >= 0 && iy < H) {
                    const float *row = plane + iy * W;
                    if (left_halo) c0 = _mm512_mask_mov_ps(c0, 1, _mm512_set1_ps(row[bp->col0 - 1]));
                    if (right_halo) c3 = _mm512_mask_mov_ps(c3, 0x8000, _mm512_set1_ps(row[bp->col0 + 32]));
                }
            }
            r[jr][0] = _mm512_sub_ps(c0, o);
            r[jr][1] = _mm512_add_ps(e, o);
            r[jr][2] = _mm512_sub_ps(o, e);
            r[jr][3] = _mm512_sub_ps(e, c3);
        }
        for (int j = 0; j < 4; j++) {
            _mm512_store_ps(v + ((0 + j) * Ci + ci) * ld, _mm512_sub_ps(r[0][j], r[2][j]));
            _mm512_store_ps(v + ((4 + j) * Ci + ci) * ld, _mm512_add_ps(r[1][j], r[2][j]));
            _mm512_store_ps(v + ((8 + j) * Ci + ci) * ld, _mm512_sub_ps(r[2][j], r[1][j]));
            _mm512_store_ps(v + ((12 + j) * Ci + ci) * ld, _mm512_sub_ps(r[1][j], r[3][j]));
        }
    }
}

#endif

#endif
