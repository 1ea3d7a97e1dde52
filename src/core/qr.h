/* QR codes of a payload (a payment code's EMVCo string, a claim link): PNG, SVG and terminal
 * text, rendered in memory with libqrencode (byte mode, error correction level M, the
 * standard quiet zone of 4 modules) and libpng. */
#ifndef HB_CORE_QR_H
#define HB_CORE_QR_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/invariant.h"

#define QR_QUIET_ZONE 4
#define QR_TEXT_MAX 1024
#define QR_SCALE_MAX 32

/* A grey-scale PNG, scale pixels a module (1..QR_SCALE_MAX). *out is malloc'd (free it).
 * INVALID_ARGUMENT for empty or overlong text or a bad scale; UNAVAILABLE when a library
 * fails. */
hb_err qr_png(const char *text, int scale, uint8_t **out, size_t *len) WARN_UNUSED;
/* An SVG document, one unit a module, the dark modules as one path. *out malloc'd, NUL-ended. */
hb_err qr_svg(const char *text, char **out, size_t *len) WARN_UNUSED;
/* Lines of UTF-8 half blocks (two module rows a line), dark on light, for a terminal. */
hb_err qr_terminal(const char *text, char **out) WARN_UNUSED;

#endif
