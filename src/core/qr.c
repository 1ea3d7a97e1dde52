#include "core/qr.h"

#include <png.h>
#include <qrencode.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The symbol of text, or NULL (INVALID_ARGUMENT / UNAVAILABLE in *err). */
static QRcode *encode(const char *text, hb_err *err)
{
    size_t n = text != NULL ? strlen(text) : 0;
    if (n == 0 || n > QR_TEXT_MAX) {
        *err = HB_ERR_INVALID_ARGUMENT;
        return NULL;
    }
    QRcode *q = QRcode_encodeData((int)n, (const unsigned char *)text, 0, QR_ECLEVEL_M);
    *err = q != NULL ? HB_ERR_OK : HB_ERR_UNAVAILABLE;
    return q;
}

/* Is the module at (x, y) of the quiet-zoned symbol dark? */
static bool dark(const QRcode *q, int x, int y)
{
    x -= QR_QUIET_ZONE;
    y -= QR_QUIET_ZONE;
    if (x < 0 || y < 0 || x >= q->width || y >= q->width) return false;
    return (q->data[y * q->width + x] & 1) != 0;
}

typedef struct buffer {
    uint8_t *data;
    size_t len;
    size_t cap;
    bool failed;
} buffer;

static void append(buffer *b, const void *data, size_t n)
{
    if (b->failed) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->len + n + 1) cap *= 2;
        uint8_t *bigger = realloc(b->data, cap);
        if (bigger == NULL) {
            b->failed = true;
            return;
        }
        b->data = bigger;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = 0;
}

static void png_write(png_structp png, png_bytep data, png_size_t n)
{
    append(png_get_io_ptr(png), data, n);
}

static void png_flush(png_structp png)
{
    (void)png;
}

/* Write the image; false when libpng failed (it longjmps here). Nothing set before the
 * setjmp is changed after it, so nothing is clobbered. */
static bool write_png(png_structp png, png_infop info, const QRcode *q, int scale, buffer *b,
                      png_bytep row)
{
    if (setjmp(png_jmpbuf(png)) != 0) return false;
    png_uint_32 side = (png_uint_32)((q->width + 2 * QR_QUIET_ZONE) * scale);
    png_set_write_fn(png, b, png_write, png_flush);
    png_set_IHDR(png, info, side, side, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (png_uint_32 y = 0; y < side; y++) {
        for (png_uint_32 x = 0; x < side; x++) {
            row[x] = dark(q, (int)x / scale, (int)y / scale) ? 0 : 255;
        }
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    return true;
}

hb_err qr_png(const char *text, int scale, uint8_t **out, size_t *len)
{
    if (scale < 1 || scale > QR_SCALE_MAX) return HB_ERR_INVALID_ARGUMENT;
    hb_err err = HB_ERR_OK;
    QRcode *q = encode(text, &err);
    if (q == NULL) return err;
    buffer b = {0};
    png_bytep row = malloc((size_t)(q->width + 2 * QR_QUIET_ZONE) * (size_t)scale);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png != NULL ? png_create_info_struct(png) : NULL;
    bool ok = row != NULL && info != NULL && write_png(png, info, q, scale, &b, row) && !b.failed;
    png_destroy_write_struct(&png, &info);
    free(row);
    QRcode_free(q);
    if (!ok) {
        free(b.data);
        return HB_ERR_UNAVAILABLE;
    }
    *out = b.data;
    *len = b.len;
    return HB_ERR_OK;
}

hb_err qr_svg(const char *text, char **out, size_t *len)
{
    hb_err err = HB_ERR_OK;
    QRcode *q = encode(text, &err);
    if (q == NULL) return err;
    int modules = q->width + 2 * QR_QUIET_ZONE;
    buffer b = {0};
    char line[160];
    int n = snprintf(line, sizeof line,
                     "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
                     "shape-rendering=\"crispEdges\"><rect width=\"%d\" height=\"%d\" "
                     "fill=\"#fff\"/><path fill=\"#000\" d=\"",
                     modules, modules, modules, modules);
    append(&b, line, (size_t)n);
    for (int y = 0; y < modules; y++) {
        for (int x = 0; x < modules; x++) {
            if (!dark(q, x, y)) continue;
            n = snprintf(line, sizeof line, "M%d %dh1v1h-1z", x, y);
            append(&b, line, (size_t)n);
        }
    }
    append(&b, "\"/></svg>\n", 10);
    QRcode_free(q);
    if (b.failed) {
        free(b.data);
        return HB_ERR_UNAVAILABLE;
    }
    *out = (char *)b.data;
    *len = b.len;
    return HB_ERR_OK;
}

hb_err qr_terminal(const char *text, char **out)
{
    hb_err err = HB_ERR_OK;
    QRcode *q = encode(text, &err);
    if (q == NULL) return err;
    int modules = q->width + 2 * QR_QUIET_ZONE;
    buffer b = {0};
    /* light is a printed block; two rows share a character cell */
    static const char *const cells[4] = {"\u2588", "\u2580", "\u2584", " "};
    for (int y = 0; y < modules; y += 2) {
        for (int x = 0; x < modules; x++) {
            int top_dark = dark(q, x, y), bottom_dark = y + 1 < modules ? dark(q, x, y + 1) : 0;
            /* 0: both light (full block), 1: top light, 2: bottom light, 3: both dark */
            int cell = top_dark ? (bottom_dark ? 3 : 2) : (bottom_dark ? 1 : 0);
            append(&b, cells[cell], strlen(cells[cell]));
        }
        append(&b, "\n", 1);
    }
    QRcode_free(q);
    if (b.failed) {
        free(b.data);
        return HB_ERR_UNAVAILABLE;
    }
    *out = (char *)b.data;
    return HB_ERR_OK;
}
