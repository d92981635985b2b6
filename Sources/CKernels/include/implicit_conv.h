// Convolutions as implicit GEMMs: the patch matrix is never written out. Each block of 16 output
// pixels gets its `[K][16]` patch panel packed straight from the input (one masked vector load per
// patch row and output-row segment), and a micro-kernel multiplies it by 16 output channels'
// packed weights, writing NCHW output rows directly. Where a panel's pixels all lie in one output
// row, or in the same row of two images, and the stride is 1, the AVX-512 micro-kernel reads
// those loads from the input itself (no panel) and skips the tap rows in the padding. Two builds, chosen at run
// time: AVX-512 (`*_avx512`, a 16 × 16 micro-kernel) and AVX2 + FMA (`*_avx2`, 6 × 16 and
// 4 × 16). Both run every output's FMA chain in the same order, so they agree bit for bit.
//
// One descriptor (`bd_implicit_conv`) covers the forward pass (tap shifts `tap − padding`) and the
// input gradient, which is the convolution of the output gradient with the weights flipped in
// space and transposed in channels (tap shifts `tap − (kernel − 1 − padding)`).
//
// The weight gradient of a 3 × 3 convolution (stride 1 or 2) has its own kernel
// (`bd_weight_gradient_3x3`): its reduction runs over pixels, the contiguous dimension of both
// operands.
#ifndef BACKDROP_IMPLICIT_CONV_H
#define BACKDROP_IMPLICIT_CONV_H

/// Output panels (16 pixels each) packed per block before the weight panels sweep over them.
#define BD_PANELS_PER_BLOCK 4

/// Most tap rows (and tap columns) a descriptor may have.
#define BD_MAX_TAPS 16

/// An implicit convolution, NCHW, of stride `stride` (1 or 2; 0 counts as 1). Output pixel (oy, ox)
/// of image b, tap (ty, tx), input channel ci reads
/// `x[b, ci, stride·oy + tap_row[ty], stride·ox + tap_col[tx]]` of the input
/// `[batch, in_channels, in_height, in_width]`, or 0 outside it. Patch row
/// `k = (ci · taps_y + ty) · taps_x + tx`, `K = in_channels · taps_y · taps_x`. Output
/// `[batch, out_channels, out_height, out_width]`.
typedef struct {
    long batch;
    long in_channels, in_height, in_width;
    long out_channels, out_height, out_width;
    long taps_y, taps_x;
    long tap_row[BD_MAX_TAPS], tap_col[BD_MAX_TAPS];
    /// Nonzero: the output is written with streaming (non-temporal) stores and the panel functions
    /// end with `sfence` — for outputs too large to still be cached when their reader comes.
    long stream_output;
    /// 1 or 2 (0 counts as 1). Stride 2 packs each patch row from a 32-float window of the input
    /// row, keeping its even elements (one lane permute); the input gradient of a stride-2
    /// convolution runs as four stride-1 phases (`bd_implicit_conv_phases`).
    long stride;
} bd_implicit_conv;

/// 1 when this CPU and OS run the AVX-512 kernels (`avx512f` and ZMM state enabled), else 0; the
/// `*_avx512` functions must then not be called.
int bd_cpu_has_avx512(void);

/// 1 when this CPU and OS run the AVX2 + FMA kernels (`avx2`, `fma` and YMM state enabled), else 0;
/// the `*_avx2` functions must then not be called.
int bd_cpu_has_avx2_fma(void);

/// Packs weights `w[out_channels][K]` as `[out_channels / 16][K][16]`.
void bd_implicit_conv_pack_weights(const bd_implicit_conv *c, const float *w, float *packed);

/// Floats of 64-byte-aligned scratch one caller of `bd_implicit_conv_panels_*` needs.
long bd_implicit_conv_scratch_count(const bd_implicit_conv *c);

/// Writes output panels `panel_begin ..< panel_end`: panel `q` is the 16 pixels `16q ..< 16q + 16`
/// of the flattened `[batch · out_height · out_width]` index, all output channels — except, in the
/// AVX-512 build, a stride-1 convolution with 8-wide output rows, an even batch and at least 8
/// input channels, whose panel `q` is row `q mod out_height` of images `2·(q div out_height)` and
/// the next one (so all its pixels see the same tap rows). Either way the `batch · out_height ·
/// out_width / 16` panels partition the output. Requires
/// `out_height · out_width % 16 == 0` (a panel never straddles two images), `out_channels % 16 == 0`
/// and `1 ≤ taps_y, taps_x ≤ BD_MAX_TAPS`. Disjoint panel ranges may run concurrently, each with
/// its own `scratch`.
void bd_implicit_conv_panels_avx512(const bd_implicit_conv *c, const float *x, const float *packed_w, float *y,
                                    long panel_begin, long panel_end, float *scratch);
/// `bd_implicit_conv_panels_avx512` on AVX2 + FMA; the same results bit for bit.
void bd_implicit_conv_panels_avx2(const bd_implicit_conv *c, const float *x, const float *packed_w, float *y,
                                  long panel_begin, long panel_end, float *scratch);

/// The input gradient of a stride-2 convolution as four stride-1 convolutions of the output
/// gradient, one per phase of the input plane (its even and odd rows and columns), so no tap
/// multiplies a zero: `phase[2·py + px]` maps `dy [batch, Co, Ho, Wo]` to the values
/// `dx[b, c, 2·oy + py, 2·ox + px]` of `dx [batch, Ci, 2·Ho, 2·Wo]` (its input is `dy`, its
/// output `[batch, Ci, Ho, Wo]`, stride 1; every phase the same output shape). A phase with
/// `taps_y == 0` has no tap and writes zeros. Phase `i`'s weights, packed as
/// `bd_implicit_conv_pack_weights` packs them, start `weight_offset[i]` floats into the packed
/// buffer.
typedef struct {
    bd_implicit_conv phase[4];
    long weight_offset[4];
    /// Nonzero: `dx` is written with streaming stores (64-byte aligned; `sfence` at the end).
    long stream_output;
} bd_implicit_conv_phases;

/// Floats of 64-byte-aligned scratch one caller of `bd_implicit_conv_phases_*` needs.
long bd_implicit_conv_phases_scratch_count(const bd_implicit_conv_phases *p);

/// Writes the `dx` pixels of phase-plane panels `panel_begin ..< panel_end` (panel `q`: phase
/// pixels `16q ..< 16q + 16` of the flattened `[batch · Ho · Wo]` index) for all four phases and
/// every channel: each block of panels computes the phases into scratch, then interleaves them
/// into whole `dx` rows (each written once). Requires the phases' `out_channels % 16 == 0`,
/// `Ho · Wo % 16 == 0` and `Wo % 8 == 0`. Disjoint panel ranges may run concurrently.
void bd_implicit_conv_phases_avx512(const bd_implicit_conv_phases *p, const float *dy, const float *packed_w, float *dx,
                                    long panel_begin, long panel_end, float *scratch);
/// `bd_implicit_conv_phases_avx512` on AVX2 + FMA; the same results bit for bit.
void bd_implicit_conv_phases_avx2(const bd_implicit_conv_phases *p, const float *dy, const float *packed_w, float *dx,
                                  long panel_begin, long panel_end, float *scratch);

/// A square `kernel × kernel` convolution (3 × 3, or 1 × 1 with padding 0) of stride 1 or 2 (0
/// counts as 1), NCHW: input `[batch, in_channels, height, width]`, output
/// `[batch, out_channels, Ho, Wo]` with `Ho = (height + 2·padding − kernel) / stride + 1` (and `Wo`
/// likewise).
typedef struct {
    long batch, in_channels, height, width, out_channels, padding;
    long stride;
    long kernel;
} bd_weight_gradient_shape;

/// Floats of 64-byte-aligned scratch one caller of `bd_weight_gradient_3x3_*` or
/// `bd_weight_gradient_1x1_*` needs.
long bd_weight_gradient_scratch_count(const bd_weight_gradient_shape *s);

/// Adds the weight gradient of `s` over images `image_begin ..< image_end` to `dwt`, laid out
/// `[K][out_channels]` (transposed), `S` the stride:
/// `dwt[(ci·9 + ky·3 + kx)·Co + co] += Σ dy[b, co, oy, ox] · x[b, ci, S·oy + ky − pad, S·ox + kx − pad]`.
/// Requires `out_channels % 16 == 0` and an output plane of whole 16s. Sums pixels in a fixed
/// order (deterministic).
void bd_weight_gradient_3x3_avx512(const bd_weight_gradient_shape *s, const float *x, const float *dy, long image_begin,
                                   long image_end, float *dwt, float *scratch);
/// `bd_weight_gradient_3x3_avx512` on AVX2 + FMA; the same pixel order, so the same results bit for
/// bit.
void bd_weight_gradient_3x3_avx2(const bd_weight_gradient_shape *s, const float *x, const float *dy, long image_begin,
                                 long image_end, float *dwt, float *scratch);

/// The weight gradient of a 1 × 1 convolution (`kernel` 1, padding 0, stride 1 or 2) over images
/// `image_begin ..< image_end`, added to `dwt` laid out `[in_channels][out_channels]`:
/// `dwt[ci·Co + co] += Σ dy[b, co, oy, ox] · x[b, ci, S·oy, S·ox]`. Requires `out_channels % 16 == 0`
/// and an output plane of whole 16s; pixels summed in a fixed order (deterministic).
void bd_weight_gradient_1x1_avx512(const bd_weight_gradient_shape *s, const float *x, const float *dy, long image_begin,
                                   long image_end, float *dwt, float *scratch);
/// `bd_weight_gradient_1x1_avx512` on AVX2 + FMA; the same pixel order, so the same results bit for
/// bit.
void bd_weight_gradient_1x1_avx2(const bd_weight_gradient_shape *s, const float *x, const float *dy, long image_begin,
                                 long image_end, float *dwt, float *scratch);

#endif
