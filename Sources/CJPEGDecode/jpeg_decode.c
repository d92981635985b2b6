// See include/jpeg_decode.h. The only C in the JPEG path: setjmp/longjmp cannot be used from Swift.
#include "jpeg_decode.h"

#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>

_Static_assert(BACKDROP_JPEG_MESSAGE_LENGTH >= JMSG_LENGTH_MAX, "message buffer shorter than libjpeg's messages");

/// libjpeg's error manager plus the place to jump back to and the info that receives the message.
struct recovering_error_manager {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    backdrop_jpeg_info *info;
};

/// Replaces libjpeg's error_exit (which prints and calls exit()): keep the message, jump back.
static void recover_from_error(j_common_ptr cinfo) {
    struct recovering_error_manager *err = (struct recovering_error_manager *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, err->info->message);
    longjmp(err->jump, 1);
}

/// Warnings that mean pixels are missing or damaged: libjpeg carries on and paints them gray,
/// which would silently put a broken image into a dataset.
static int is_damage_warning(int code) {
    return code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER || code == JWRN_HUFF_BAD_CODE || code == JWRN_MUST_RESYNC;
}

/// Replaces libjpeg's emit_message (which prints warnings to stderr): damage warnings become
/// errors; other warnings (e.g. extraneous bytes before a marker) and trace messages are dropped.
static void filter_message(j_common_ptr cinfo, int level) {
    if (level < 0 && is_damage_warning(cinfo->err->msg_code)) recover_from_error(cinfo);
}

static void install(struct jpeg_decompress_struct *cinfo, struct recovering_error_manager *err, backdrop_jpeg_info *info) {
    cinfo->err = jpeg_std_error(&err->pub);
    err->pub.error_exit = recover_from_error;
    err->pub.emit_message = filter_message;
    err->info = info;
    info->message[0] = '\0';
}

static void describe(const struct jpeg_decompress_struct *cinfo, backdrop_jpeg_info *info) {
    info->width = (int)cinfo->image_width;
    info->height = (int)cinfo->image_height;
    info->components = cinfo->num_components;
    info->color_space = (int)cinfo->jpeg_color_space;
    info->progressive = cinfo->progressive_mode ? 1 : 0;
}

int backdrop_jpeg_read_info(const unsigned char *data, size_t size, backdrop_jpeg_info *info) {
    struct jpeg_decompress_struct cinfo;
    struct recovering_error_manager err;
    install(&cinfo, &err, info);
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&cinfo);
        return 1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    describe(&cinfo, info);
    jpeg_destroy_decompress(&cinfo);
    return 0;
}

/// Pillow's MULDIV255: a * b / 255, rounded.
static inline int muldiv255(int a, int b) {
    int t = a * b + 128;
    return ((t >> 8) + t) >> 8;
}

/// One row of stored (Adobe-inverted) CMYK to RGB, as Pillow's "CMYK;I" raw mode followed by
/// convert("RGB"): with C = 255 - C', K = 255 - K', R = (255 - K) - (C * (255 - K)) / 255.
static void cmyk_row_to_rgb(const JSAMPLE *cmyk, unsigned char *rgb, int width) {
    for (int x = 0; x < width; x++) {
        int nk = cmyk[4 * x + 3];
        for (int c = 0; c < 3; c++) {
            int v = nk - muldiv255(255 - cmyk[4 * x + c], nk);
            rgb[3 * x + c] = (unsigned char)(v < 0 ? 0 : (v > 255 ? 255 : v));
        }
    }
}

int backdrop_jpeg_decode_rgb(const unsigned char *data, size_t size, unsigned char *rgb,
                             int width, int height, backdrop_jpeg_info *info) {
    struct jpeg_decompress_struct cinfo;
    struct recovering_error_manager err;
    install(&cinfo, &err, info);
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&cinfo);
        return 1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    describe(&cinfo, info);
    if (info->width != width || info->height != height) {
        snprintf(info->message, BACKDROP_JPEG_MESSAGE_LENGTH, "header says %dx%d, the buffer is for %dx%d",
                 info->width, info->height, width, height);
        jpeg_destroy_decompress(&cinfo);
        return 1;
    }
    int cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
    cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
    jpeg_start_decompress(&cinfo);
    if (cinfo.output_components != (cmyk ? 4 : 3)) {
        snprintf(info->message, BACKDROP_JPEG_MESSAGE_LENGTH, "unexpected %d output components", cinfo.output_components);
        jpeg_destroy_decompress(&cinfo);
        return 1;
    }
    // Freed with the decompressor (JPOOL_IMAGE), also when an error jumps out.
    JSAMPARRAY cmyk_row = cmyk ? (*cinfo.mem->alloc_sarray)((j_common_ptr)&cinfo, JPOOL_IMAGE, (JDIMENSION)width * 4, 1) : NULL;
    size_t stride = (size_t)width * 3;
    while (cinfo.output_scanline < cinfo.output_height) {
        unsigned char *out = rgb + (size_t)cinfo.output_scanline * stride;
        JSAMPROW row = out;
        JDIMENSION read = jpeg_read_scanlines(&cinfo, cmyk ? cmyk_row : &row, 1);
        if (read != 1) {  // the memory source never suspends; guard against looping forever anyway
            snprintf(info->message, BACKDROP_JPEG_MESSAGE_LENGTH, "no data for row %u", cinfo.output_scanline);
            jpeg_destroy_decompress(&cinfo);
            return 1;
        }
        if (cmyk) cmyk_row_to_rgb(cmyk_row[0], out, width);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    return 0;
}
