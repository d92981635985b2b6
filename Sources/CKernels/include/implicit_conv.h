// Stride-1 convolution as an implicit GEMM: the patch matrix is never written out. Each block of
// 16 output pixels gets its `[K][16]` patch panel packed straight from the input (one masked
// vector load per patch row), and a 16 × 16 AVX-512 micro-kernel multiplies it by 16 output
// channels' packed weights, writing NCHW output rows directly.
//
// The same routine gives a stride-1 convolution's input gradient: it is the convolution of the
// output gradient with the weights flipped in space and transposed in channels, padding
// `kernel − 1 − padding` (`bd_pack_conv_weights(…, flip_transpose = 1, …)`). The weight gradient
// of a 3 × 3 stride-1 convolution has its own kernel (`bd_weight_gradient_3x3`): its reduction
// runs over pixels, the contiguous dimension of both operands.
#ifndef BACKDROP_IMPLICIT_CONV_H
#define BACKDROP_IMPLICIT_CONV_H

/// Output panels (16 pixels each) packed per block before the weight panels sweep over them.
#define BD_PANELS_PER_BLOCK 4

/// Widest kernel the panel packer handles (it precomputes one lane mask per kernel column).
#define BD_MAX_KERNEL_W 16

/// A stride-1 convolution, NCHW, no bias. Output: `[batch, out_channels, Ho, Wo]` with
/// `Ho = height + 2·padding − kernel_h + 1` (same for `Wo`).
typedef struct {
    long batch, in_channels, height, width, out_channels, kernel_h, kernel_w, padding;
} bd_conv_shape;

/// 1 when this CPU and OS run the AVX-512 kernels (`avx512f` and ZMM state enabled), else 0; the
/// other functions must then not be called.
int bd_implicit_conv_available(void);

/// Packs the weights of the convolution `s` as `[out_channels / 16][K][16]`, `K = in_channels ·
/// kernel_h · kernel_w` (patch row `k = (ci · kernel_h + ky) · kernel_w + kx`). Requires
/// `out_channels % 16 == 0`.
/// - `flip_transpose == 0`: `w` is `[out_channels, in_channels, kh, kw]`.
/// - `flip_transpose == 1`: `w` is a forward weight `[in_channels, out_channels, kh, kw]` and the
///   packed weight is `w[ci, co, kh − 1 − ky, kw − 1 − kx]` (input-gradient convolution).
void bd_pack_conv_weights(const bd_conv_shape *s, const float *w, int flip_transpose, float *packed);

/// Floats of 64-byte-aligned scratch one caller of `bd_implicit_conv_panels` needs.
long bd_implicit_conv_scratch_count(const bd_conv_shape *s);

/// Writes output panels `panel_begin ..< panel_end` of `y`: panel `q` is the 16 pixels
/// `16q ..< 16q + 16` of the flattened `[batch · Ho · Wo]` index, all channels. Requires
/// `Ho · Wo % 16 == 0` (a panel never straddles two images), `out_channels % 16 == 0` and
/// `kernel_w ≤ BD_MAX_KERNEL_W`.
/// Disjoint panel ranges may run concurrently, each with its own `scratch`.
void bd_implicit_conv_panels(const bd_conv_shape *s, const float *x, const float *packed_w, float *y,
                             long panel_begin, long panel_end, float *scratch);

/// Floats of 64-byte-aligned scratch one caller of `bd_weight_gradient_3x3` needs.
long bd_weight_gradient_scratch_count(const bd_conv_shape *s);

/// Adds the weight gradient of the 3 × 3 stride-1 convolution `s` over images
/// `image_begin ..< image_end` to `dwt`, laid out `[K][out_channels]` (transposed):
/// `dwt[(ci·9 + ky·3 + kx)·Co + co] += Σ dy[b, co, oy, ox] · x[b, ci, oy + ky − pad, ox + kx − pad]`.
/// `dy` is `[batch, Co, Ho, Wo]`. Requires `kernel_h == kernel_w == 3`, `out_channels % 16 == 0`
/// and `Ho · Wo % 16 == 0`. Sums pixels in a fixed order (deterministic).
void bd_weight_gradient_3x3(const bd_conv_shape *s, const float *x, const float *dy, long image_begin, long image_end,
                            float *dwt, float *scratch);

#endif
