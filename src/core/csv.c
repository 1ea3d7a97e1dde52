#include "core/csv.h"

#include <stdbool.h>
#include <string.h>

hb_err csv_parse_line(const char *line, size_t len, csv_row *out, const char **why)
{
    memset(out, 0, sizeof *out);
    size_t i = 0;
    for (;;) {
        if (out->count == CSV_FIELDS_MAX) {
            *why = "too many fields";
            return HB_ERR_INVALID_ARGUMENT;
        }
        char *field = out->fields[out->count++];
        size_t n = 0;
        bool quoted = i < len && line[i] == '"';
        if (quoted) i++;
        for (;;) {
            if (i == len) {
                if (quoted) {
                    *why = "an unterminated quoted field";
                    return HB_ERR_INVALID_ARGUMENT;
                }
                break;
            }
            char c = line[i];
            if (c == '\0' || c == '\r' || c == '\n') {
                *why = "a NUL byte or a line break inside a line";
                return HB_ERR_INVALID_ARGUMENT;
            }
            if (quoted && c == '"') {
                if (i + 1 < len && line[i + 1] == '"') {
                    i += 2;
                    c = '"';
                } else {
                    i++;
                    if (i < len && line[i] != ',') {
                        *why = "text after a closing quote";
                        return HB_ERR_INVALID_ARGUMENT;
                    }
                    break;
                }
            } else if (!quoted && c == '"') {
                *why = "a quote inside an unquoted field";
                return HB_ERR_INVALID_ARGUMENT;
            } else if (!quoted && c == ',') {
                break;
            } else {
                i++;
            }
            if (n + 1 >= CSV_FIELD_MAX) {
                *why = "a field too long";
                return HB_ERR_INVALID_ARGUMENT;
            }
            field[n++] = c;
        }
        field[n] = '\0';
        if (i == len) return HB_ERR_OK;
        ASSERT(line[i] == ',');
        i++; /* past the comma: another field follows, maybe empty */
        if (i == len) {
            if (out->count == CSV_FIELDS_MAX) {
                *why = "too many fields";
                return HB_ERR_INVALID_ARGUMENT;
            }
            out->fields[out->count++][0] = '\0';
            return HB_ERR_OK;
        }
    }
}

int csv_next_line(const char *text, size_t len, size_t *pos, const char **line, size_t *line_len)
{
    if (*pos >= len) return 0;
    const char *start = text + *pos;
    const char *nl = memchr(start, '\n', len - *pos);
    size_t n = nl != NULL ? (size_t)(nl - start) : len - *pos;
    *pos += n + (nl != NULL ? 1 : 0);
    if (n > 0 && start[n - 1] == '\r') n--;
    *line = start;
    *line_len = n;
    return 1;
}
