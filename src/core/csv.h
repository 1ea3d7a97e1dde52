/* One line of CSV (RFC 4180): fields separated by commas, a field optionally quoted, a quote
 * inside a quoted field doubled. Pure; for the risk lists' import (and bank statements).
 * A line holds no line break (the caller splits on CRLF or LF, outside quotes only: quoted
 * line breaks are not supported and refused). */
#ifndef HB_CORE_CSV_H
#define HB_CORE_CSV_H

#include <stddef.h>

#include "core/error.h"
#include "core/invariant.h"

#define CSV_FIELDS_MAX 16
#define CSV_FIELD_MAX 256 /* bytes of a field, with its NUL */

typedef struct csv_row {
    int count;
    char fields[CSV_FIELDS_MAX][CSV_FIELD_MAX];
} csv_row;

/* Parse len bytes into out. INVALID_ARGUMENT (why set) for a NUL byte, a line break, a quote
 * inside an unquoted field, an unterminated quoted field, text after a closing quote, more
 * than CSV_FIELDS_MAX fields or a field longer than CSV_FIELD_MAX - 1 bytes. */
hb_err csv_parse_line(const char *line, size_t len, csv_row *out, const char **why) WARN_UNUSED;

/* The next line of text[*pos..len): its start and length without the CR LF or LF; false at
 * the end. */
int csv_next_line(const char *text, size_t len, size_t *pos, const char **line, size_t *line_len);

#endif
