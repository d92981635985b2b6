// Batch normalization's passes over activations, AVX2 builds (`bd_cpu_has_avx2_fma`,
// implicit_conv.h; the caller checks the CPU): the per-plane sums of its statistics and of its
// backward pass, and its output passes with non-temporal (streaming) stores — for activations
// larger than the cache the output would leave it before its reader comes, so a regular store's
// read-for-ownership of every line would be wasted memory traffic.
//
// Each function runs exactly the float operations, in the same order, of its Swift counterpart
// in TensorCore's `Vector` (two 8-lane accumulators over 16 values, the lanes of their sum added
// first to last from −0, then the scalar tail; no fused multiply-add: `#pragma STDC FP_CONTRACT
// OFF`), including where the counterpart's 8-lane loop and its scalar tail differ (a ReLU keeps −0
// in the lanes and writes +0 in the tail; a mask keeps NaN's gradient in the lanes and drops it in
// the tail), so the results are the same bits. Streaming stores are weakly ordered: call
// `bd_streaming_fence` on the writing thread before another thread reads the output.
#ifndef BACKDROP_BATCH_NORM_PASSES_H
#define BACKDROP_BATCH_NORM_PASSES_H

/// `Σ p[i]`, `n` values (`Vector.sum`).
float bd_sum_avx2(const float *p, long n);

/// `Σ (p[i] − m)²` (`Vector.sumSquaredDeviation`).
float bd_sum_squared_deviation_avx2(const float *p, long n, float m);

/// `sums[0] = Σ g'[i]`, `sums[1] = Σ g'[i]·(x[i] − m)` (`Vector.sumAndCenteredDot`); `g'` = `g` or,
/// with `masked`, `g` only where `x[i]·ra + rb > 0` (the gradient through the ReLU after batch norm).
void bd_sum_and_centered_dot_avx2(const float *g, const float *x, long n, float m, int masked, float ra, float rb, float *sums);

/// `y[i] = x[i]·a + b` (`Vector.affine`); with `relu`, `max(·, 0)` (`Vector.affineReLU`); with
/// `r` non-null, `max(x[i]·a + b + r[i], 0)` (`Vector.affineAddReLU`, `relu` ignored), `n` values,
/// written with streaming stores.
void bd_affine_streaming_avx2(const float *x, const float *r, float *y, long n, float a, float b, int relu);

/// `dx[i] = k·(M·g'[i] − s − (x[i] − m)·c)` (`Vector.batchNormInputGradient`), `g'` as in
/// `bd_sum_and_centered_dot_avx2`, `n` values, written with streaming stores.
void bd_batch_norm_input_gradient_streaming_avx2(const float *g, const float *x, float *dx, long n,
                                                 float k, float M, float s, float m, float c,
                                                 int masked, float ra, float rb);

/// `dx[i] = out[i] > 0 ? g[i] : 0` (`Vector.reluBackward` over one of its runs: the lanes drop `g`
/// where `out <= 0`, so NaN keeps it; the tail keeps it where `out > 0`), `n` values, written with
/// streaming stores: the gradient through the ReLU after batch norm and a residual add.
void bd_relu_backward_streaming_avx2(const float *g, const float *out, float *dx, long n);

/// Orders this thread's streaming stores before its later stores (`sfence`).
void bd_streaming_fence(void);

#endif
