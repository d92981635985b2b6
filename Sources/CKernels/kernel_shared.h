// Pieces both builds of the implicit kernels share (not part of the public header).
#ifndef BACKDROP_KERNEL_SHARED_H
#define BACKDROP_KERNEL_SHARED_H

#include "implicit_conv.h"
#include <stdint.h>

/// How the 16 output pixels `p0 ..< p0 + 16` of one image fall into segments, each within one
/// output row (one segment when the output width is a multiple of 16, more when it is narrower).
/// Segment `t` reads input row `in_row[t] + tap_row[ty]` (`in_row` = stride · its output row); for
/// tap column `tx` its lanes read that row at `offset[t][tx] + stride · lane`, lanes whose bit is
/// set in `mask[t][tx]` only (the rest are padding, never read). With stride 2, `window[t][tx]`
/// has bit `2·lane` set for each of those lanes: the elements of the 32-float window at
/// `offset[t][tx]` a stride-2 packer loads. Masks and offsets depend only on the segment and the
/// tap column, so the packers compute them once per panel.
typedef struct {
    int count;
    long in_row[16];
    long offset[16][BD_MAX_TAPS];
    unsigned mask[16][BD_MAX_TAPS];
    unsigned window[16][BD_MAX_TAPS];
} bd_panel_segments;

/// Fills `s` for the panel starting at pixel `p0` of an image (see `bd_panel_segments`).
void bd_plan_panel_segments(const bd_implicit_conv *c, long p0, bd_panel_segments *s);

/// Where segment `t` of `s` reads tap column `tx` of tap row offset `tap_row` in an `H × W`
/// `plane` (lane 0's element), or NULL when that input row lies outside the plane. Integer
/// arithmetic: masked-off lanes may lie outside the row (masked loads never read them).
static inline const float *bd_segment_base(const bd_panel_segments *s, const float *plane, long H, long W, long tap_row, int t, long tx) {
    long iy = s->in_row[t] + tap_row;
    if (iy < 0 || iy >= H) return 0;
    return (const float *)((uintptr_t)(plane + iy * W) + (uintptr_t)(s->offset[t][tx] * (long)sizeof(float)));
}

/// Floats of one block's phase tiles in `bd_implicit_conv_phases_*`' scratch: four phases ×
/// every channel × a block's pixels, laid out `[phase][channel][BD_PANELS_PER_BLOCK · 16]`.
static inline long bd_phase_tile_count(const bd_implicit_conv_phases *p) {
    return 4 * p->phase[0].out_channels * BD_PANELS_PER_BLOCK * 16;
}

/// One ISA's pieces of `bd_implicit_conv_phases_*`: its panel packer (the `[K][16]` panel of
/// pixels `p0 ..< p0 + 16` of image `b`) and its product of 16 packed weight rows with a panel,
/// rows stored `ldc` apart.
typedef void (*bd_pack_panel_fn)(const bd_implicit_conv *c, const float *x, long b, long p0, float *panel);
typedef void (*bd_channel_block_fn)(long K, const float *a, const float *panel, float *c, long ldc);
/// An ISA's product of every 16-channel block of packed weights with the one-row panel of pixels
/// `p0 ..< p0 + 16` of image `b`, read straight from the input (no packed panel); block `cb`'s rows
/// stored from `out + cb·16·ldc`, `ldc` apart. Requires a stride-1 `c` whose output rows are whole
/// 16s.
typedef void (*bd_direct_panel_fn)(const bd_implicit_conv *c, const float *x, const float *packed_w, long b, long p0,
                                   float *out, long ldc);
/// The AVX-512 `bd_direct_panel_fn`. x86-64 only.
void bd_direct_channel_blocks_avx512(const bd_implicit_conv *c, const float *x, const float *packed_w, long b, long p0,
                                     float *out, long ldc);

/// How the AVX-512 build reads `c`'s panels straight from the input (`bd_direct_panels_avx512`),
/// stride 1 only: 1 when its output rows are whole 16s (panel q: pixels 16q ..< 16q + 16, within
/// one row), 2 when they are 8 wide and the batch even (panel q: row q mod Ho of images
/// 2·(q div Ho) and the next one, so every lane sees the same tap rows and those in the padding
/// are skipped for all), else 0 (packed panels). Inputs of few channels (a stem's, short K) run
/// faster packed (3 channels: −4%).
static inline int bd_direct_groups(const bd_implicit_conv *c) {
    if (c->stride > 1 || c->in_channels < 8) return 0;
    if (c->out_width % 16 == 0) return 1;
    if (c->out_width == 8 && c->batch % 2 == 0) return 2;
    return 0;
}

/// The AVX-512 panels `panel_begin ..< panel_end` of `c` read straight from the input, `groups`
/// (`bd_direct_groups`, nonzero) runs each: each panel's 16-channel blocks in turn, streamed
/// when `c->stream_output`. x86-64 only.
void bd_direct_panels_avx512(const bd_implicit_conv *c, int groups, const float *x, const float *packed_w, float *y,
                             long panel_begin, long panel_end);

/// `bd_implicit_conv_phases_*` with that ISA's `pack` and `multiply` (and `direct`, or NULL, for
/// the phases with `bd_direct_groups` 1): the block loop and the interleave into `dx` (baseline
/// SSE; it only moves values), shared by both builds. x86-64 only.
void bd_implicit_conv_phases_run(const bd_implicit_conv_phases *p, const float *dy, const float *packed_w, float *dx,
                                 long panel_begin, long panel_end, float *scratch, bd_pack_panel_fn pack,
                                 bd_channel_block_fn multiply, bd_direct_panel_fn direct);

/// The output plane of `s`: `Ho = (H + 2p − kernel) / stride + 1`, `Wo` likewise (stride 0 counts
/// as 1).
static inline void bd_weight_gradient_output(const bd_weight_gradient_shape *s, long *Ho, long *Wo) {
    long stride = s->stride > 1 ? s->stride : 1;
    *Ho = (s->height + 2 * s->padding - s->kernel) / stride + 1;
    *Wo = (s->width + 2 * s->padding - s->kernel) / stride + 1;
}

/// Floats of `bd_weight_gradient_*`' zero-padded input planes (none for a 1 × 1 kernel, which reads
/// the input directly); the transposed output gradient follows them in the scratch.
static inline long bd_weight_gradient_padded_count(const bd_weight_gradient_shape *s) {
    if (s->kernel == 1) return 0;
    return (s->in_channels * (s->height + 2 * s->padding) * (s->width + 2 * s->padding) + 15) / 16 * 16;
}

/// One ISA's pieces of the 1 × 1 weight gradient: the transpose of one image's output gradient
/// `[Co][plane]` to `[plane][Co]`, and the tile of 8 input channels × `tile_channels` output
/// channels `rows[r · Co + c] += Σ_pixels xb[r · HW + stride·oy·W + stride·ox] · dyt[pixel · Co + c]`
/// (each accumulator taking its pixels in order).
typedef void (*bd_transpose_image_fn)(const float *dyb, long Co, long plane, float *dyt);
typedef void (*bd_tile_1x1_fn)(const float *xb, long HW, long W, long stride, long Ho, long Wo, const float *dyt, long Co,
                               float *rows);

/// `bd_weight_gradient_1x1_*` with that ISA's `transpose` and `tile` (`tile_channels` output
/// channels per tile): the same loops, so the same pixel order, in every build.
void bd_weight_gradient_1x1_run(const bd_weight_gradient_shape *s, const float *x, const float *dy, long image_begin,
                                long image_end, float *dwt, float *scratch, bd_transpose_image_fn transpose,
                                bd_tile_1x1_fn tile, long tile_channels);

/// Copies image `b` of `x` (`[batch, Ci, H, W]`) into the interior of `xpad` (`[Ci, H + 2p, W + 2p]`,
/// whose border the caller zeroed once).
void bd_copy_padded_image(const bd_weight_gradient_shape *s, const float *x, long b, float *xpad);

#endif
