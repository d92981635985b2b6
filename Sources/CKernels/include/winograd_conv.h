// 3 × 3 convolutions of stride 1 and padding 1 by Winograd's minimal filtering F(2 × 2, 3 × 3)
// (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", CVPR 2016), fused: each block
// of 16 output tiles (2 × 2 pixels each) has its 4 × 4 input tiles transformed into a
// cache-resident scratch (`V = Bᵀ d B`), multiplied in the transformed domain by the transformed
// weights (`U = G g Gᵀ`, 16 products of [16 channels × Ci] by [Ci × 16 tiles], the same AVX-512
// micro-kernel shape as the implicit GEMM) and transformed back (`Y = Aᵀ M A`) straight into the
// NCHW output rows. 16 multiplies per 4 outputs and input channel instead of 36: 2.25× fewer.
//
// The sums differ from a direct convolution's by round-off (the transforms add and subtract
// inputs, and halve weights, before the products), so this is a kernel path of its own
// (`avx512-winograd`), not a variant of the exact implicit kernels. The input gradient of such a
// convolution is the same convolution of the output gradient with the weights flipped in space and
// transposed in channels; its weight gradient is F(3 × 3, 2 × 2), the same transforms transposed
// (`bd_winograd_weight_gradient_avx512`).
#ifndef BACKDROP_WINOGRAD_CONV_H
#define BACKDROP_WINOGRAD_CONV_H

/// A 3 × 3, stride-1, padding-1 convolution, NCHW: input `[batch, in_channels, height, width]`,
/// output `[batch, out_channels, height, width]`. `out_channels % 16 == 0`; `height` even and
/// `width` a multiple of 32, or `width` 16 with `height % 4 == 0`, or `width` 8 with
/// `height % 8 == 0` (`bd_winograd_supports`).
typedef struct {
    long batch, in_channels, out_channels, height, width;
    /// Nonzero: the output is written with streaming stores (64-byte aligned; `sfence` at the end).
    long stream_output;
} bd_winograd_conv;

/// 1 when `c` has a shape the blocks tile (see `bd_winograd_conv`), else 0.
int bd_winograd_supports(const bd_winograd_conv *c);

/// Blocks of 16 tiles in `c` (a block: one output-row pair × 32 columns, or 2 row pairs of a
/// 16-wide plane, or 4 of an 8-wide one, within one image). They partition the output.
long bd_winograd_block_count(const bd_winograd_conv *c);

/// Floats of `bd_winograd_transform_weights`' output: `16 · out_channels · in_channels`.
long bd_winograd_weight_count(const bd_winograd_conv *c);

/// `u[Co / 16][ξ][Ci][16] = (G g Gᵀ)[ξ]` of each `g = w[co][ci]` (`w` `[Co][Ci][3][3]`), ξ = 4i + j
/// the transformed tap, co's 16-block and lane `co % 16`.
void bd_winograd_transform_weights(const bd_winograd_conv *c, const float *w, float *u);

/// Floats of 64-byte-aligned scratch one caller of `bd_winograd_blocks_avx512` needs.
long bd_winograd_scratch_count(const bd_winograd_conv *c);

/// Writes every output channel of blocks `block_begin ..< block_end` from `x` and the transformed
/// weights `u`. Disjoint block ranges may run concurrently, each with its own `scratch`; each
/// output's sums run in one fixed order, so the result does not depend on how blocks are split.
/// Requires `bd_winograd_supports(c)` and AVX-512 (`bd_cpu_has_avx512`). x86-64 only.
void bd_winograd_blocks_avx512(const bd_winograd_conv *c, const float *x, const float *u, float *y, long block_begin,
                               long block_end, float *scratch);

/// Floats of 64-byte-aligned scratch one caller of `bd_winograd_weight_gradient_avx512` needs.
long bd_winograd_weight_gradient_scratch_count(const bd_winograd_conv *c);

/// Adds the weight gradient of `c` over images `image_begin ..< image_end` to `dwt`, laid out
/// `[in_channels · 9][out_channels]` (row `9·ci + 3·ky + kx`), from the input `x` and the output
/// gradient `dy` `[batch, out_channels, height, width]`, by F(3 × 3, 2 × 2) — the forward
/// algorithm transposed: per channel pair `dW = Gᵀ [Σ_tiles (A dY Aᵀ) ⊙ (Bᵀ d B)] G`, `dY` a
/// tile's 2 × 2 output gradient and `d` its 4 × 4 input tile. The products are summed over the
/// images' tiles in order in the transformed domain (16 multiplies per tile and channel pair
/// instead of 36) and transformed back once. Requires `bd_winograd_supports(c)`,
/// `in_channels % 16 == 0` and AVX-512. x86-64 only.
void bd_winograd_weight_gradient_avx512(const bd_winograd_conv *c, const float *x, const float *dy, long image_begin,
                                        long image_end, float *dwt, float *scratch);

#endif
