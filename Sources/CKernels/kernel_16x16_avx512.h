// The AVX-512 16 × 16 micro-kernel shared by the implicit convolution (its packed panels) and the
// Winograd convolution (its products in the transformed domain). x86-64 only.
#ifndef BACKDROP_KERNEL_16X16_AVX512_H
#define BACKDROP_KERNEL_16X16_AVX512_H

#include <immintrin.h>

#ifndef BD_AVX512
#define BD_AVX512 __attribute__((target("avx512f")))
#endif

/// C[16 rows, 16 columns] = A-panel `[K][16]` ᵀ · B-panel `[K][16]`; row i stored at `c + i·ldc`
/// (64-byte aligned when `stream`), with streaming stores when `stream` (a constant once inlined).
BD_AVX512 static inline __attribute__((always_inline)) void kernel_16x16(const int stream, long K, const float *a, const float *b,
                                                                        float *c, long ldc) {
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
#define BD_STORE(i) do { if (stream) _mm512_stream_ps(c + i * ldc, c##i); else _mm512_storeu_ps(c + i * ldc, c##i); } while (0)
    BD_STORE(0); BD_STORE(1); BD_STORE(2); BD_STORE(3); BD_STORE(4); BD_STORE(5); BD_STORE(6); BD_STORE(7);
    BD_STORE(8); BD_STORE(9); BD_STORE(10); BD_STORE(11); BD_STORE(12); BD_STORE(13); BD_STORE(14); BD_STORE(15);
#undef BD_STORE
}

#endif
