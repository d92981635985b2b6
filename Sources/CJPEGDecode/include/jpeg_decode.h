// Decoding a JPEG held in memory into a caller-supplied 8-bit RGB buffer through libjpeg(-turbo),
// with an error manager that longjmps back here instead of calling exit(), so every failure
// (corrupt data, truncation, unsupported variants) becomes a return code plus libjpeg's message.
#ifndef BACKDROP_JPEG_DECODE_H
#define BACKDROP_JPEG_DECODE_H

#include <stddef.h>

/// Length of `backdrop_jpeg_info.message`, libjpeg's JMSG_LENGTH_MAX.
#define BACKDROP_JPEG_MESSAGE_LENGTH 200

/// What the frame header says about a JPEG, and libjpeg's message when a call failed.
typedef struct {
    /// Image width and height in pixels.
    int width;
    int height;
    /// Colour components in the file: 1 (gray), 3 (YCbCr or RGB), 4 (CMYK or YCCK).
    int components;
    /// libjpeg's J_COLOR_SPACE of the file: 1 gray, 2 RGB, 3 YCbCr, 4 CMYK, 5 YCCK, 0 unknown.
    int color_space;
    /// 1 for progressive JPEGs, 0 for baseline / extended sequential.
    int progressive;
    /// NUL-terminated reason of the last failure (libjpeg's wording), empty on success.
    char message[BACKDROP_JPEG_MESSAGE_LENGTH];
} backdrop_jpeg_info;

/// Reads the headers of the `size` bytes at `data` into `info`.
/// Returns 0 on success, 1 on failure (reason in `info->message`).
int backdrop_jpeg_read_info(const unsigned char *data, size_t size, backdrop_jpeg_info *info);

/// Decodes the JPEG at `data` into `rgb`, which must hold `width * height * 3` bytes
/// (row-major, interleaved R, G, B); `width` and `height` must be what `backdrop_jpeg_read_info`
/// reported. Gray images are replicated into R = G = B; CMYK and YCCK files are converted the way
/// Pillow's convert("RGB") does, with Adobe's inverted CMYK convention (R = C' * K' / 255 where C'
/// and K' are the stored values). Premature end of data and damaged entropy-coded data, which
/// libjpeg only warns about (it fills the rest gray), are failures here.
/// Returns 0 on success, 1 on failure (reason in `info->message`).
int backdrop_jpeg_decode_rgb(const unsigned char *data, size_t size, unsigned char *rgb,
                             int width, int height, backdrop_jpeg_info *info);

#endif
