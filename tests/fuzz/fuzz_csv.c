/* Fuzz: the CSV line parser (core/csv.h). Any bytes are refused with a reason or parse into
 * fields that, written back with every field quoted (quotes doubled), parse again to the same
 * fields. Every line csv_next_line yields lies inside the input and holds no LF. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what)
{
    fprintf(stderr, "fuzz_csv: %s\n", what);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    size_t pos = 0;
    const char *line = NULL;
    size_t len = 0;
    static csv_row row, again;
    static char written[CSV_FIELDS_MAX * (2 * CSV_FIELD_MAX + 3)];
    while (csv_next_line(text, size, &pos, &line, &len)) {
        if (line < text || line + len > text + size || memchr(line, '\n', len) != NULL) {
            die("a line outside the input or holding a line feed");
        }
        const char *why = NULL;
        hb_err err = csv_parse_line(line, len, &row, &why);
        if (err != HB_ERR_OK) {
            if (err != HB_ERR_INVALID_ARGUMENT || why == NULL) die("a refusal without a reason");
            continue;
        }
        if (row.count < 1 || row.count > CSV_FIELDS_MAX) die("a field count out of range");
        size_t w = 0;
        for (int i = 0; i < row.count; i++) {
            if (i > 0) written[w++] = ',';
            written[w++] = '"';
            for (const char *p = row.fields[i]; *p; p++) {
                if (*p == '"') written[w++] = '"';
                written[w++] = *p;
            }
            written[w++] = '"';
        }
        if (csv_parse_line(written, w, &again, &why) != HB_ERR_OK || again.count != row.count) {
            die("fields written back do not parse again");
        }
        for (int i = 0; i < row.count; i++) {
            if (strcmp(row.fields[i], again.fields[i]) != 0) die("a field changed on the way back");
        }
    }
    return 0;
}
