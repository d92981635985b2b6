// log-softmax over contiguous rows, forward and backward, with a vectorized exponential.
//
// Two builds, chosen at run time (`bd_cpu_has_avx2_fma`, implicit_conv.h): AVX2 + FMA (`*_avx2`)
// and portable C (`*_portable`). Both run the same float operations in the same order (the same
// FMAs, an 8-lane row sum combined by the same tree), so they agree bit for bit and the results
// do not depend on the CPU (NaNs may differ in sign).
//
// The exponential (`bd_exp_approx_*`) is the Cephes single-precision scheme: n = round(x·log₂e),
// r = x − n·ln 2 in two FMAs (ln 2 split hi + lo), e^r by a degree-7 polynomial
// (1 + r + r²·P(r)), times 2ⁿ built in the exponent bits. Within 2 ulp of the exact value on
// [−87.33, 88.37]; below −87.33 (where e^x is subnormal) it gives 0, above 88.37 +∞, and NaN for
// NaN. In a log-softmax every argument is ≤ 0 and the row's largest term is 1, so a flushed
// subnormal term is far below the sum's resolution.
#ifndef BACKDROP_SOFTMAX_ROWS_H
#define BACKDROP_SOFTMAX_ROWS_H

/// `y[i] = e^x[i]` as the row kernels compute it (see the header comment), `n` values.
void bd_exp_approx_portable(const float *x, float *y, long n);
void bd_exp_approx_avx2(const float *x, float *y, long n);

/// For each of `rows` contiguous rows of `n` floats: `out = x − (m + log Σ_j e^(x_j − m))`,
/// `m` the row's largest value (`−∞` rows give NaN, like `x − m` does). `out` may alias `x`.
void bd_log_softmax_rows_portable(const float *x, float *out, long rows, long n);
void bd_log_softmax_rows_avx2(const float *x, float *out, long rows, long n);

/// The gradient of `bd_log_softmax_rows` given its output `out` and the output gradient `g`:
/// `dx = g − e^out · Σ_j g_j` per row, and 0 where `out` is `−∞`.
void bd_log_softmax_backward_rows_portable(const float *out, const float *g, float *dx, long rows, long n);
void bd_log_softmax_backward_rows_avx2(const float *out, const float *g, float *dx, long rows, long n);

#endif
