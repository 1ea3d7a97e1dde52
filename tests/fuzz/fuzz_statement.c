/* Fuzz: a bank statement (reconcile_parse): any text is refused with a reason naming the line,
 * or gives 1..RECON_LINES_MAX lines, each with a real date, a positive amount, a direction and
 * a reference of 1..128 bytes, in the order of the file. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/reconcile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what)
{
    fprintf(stderr, "fuzz_statement: %s\n", what);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 200000) return 0;
    recon_line *lines = NULL;
    int count = 0;
    char why[256] = "";
    hb_err err = reconcile_parse((const char *)data, size, &lines, &count, why, sizeof why);
    if (err != HB_ERR_OK) {
        if (err != HB_ERR_INVALID_ARGUMENT || why[0] == '\0') die("a refusal without a reason");
        if (lines != NULL || count != 0) die("a refusal that kept lines");
        return 0;
    }
    if (count < 1 || count > RECON_LINES_MAX || lines == NULL) die("a count out of range");
    int previous = 0;
    for (int i = 0; i < count; i++) {
        const recon_line *l = &lines[i];
        if (l->line <= previous) die("lines out of order");
        previous = l->line;
        if (l->amount <= 0 || l->day < 0) die("an amount or date out of range");
        size_t len = strlen(l->reference);
        if (len < 1 || len > LIMIT_REFERENCE_LEN) die("a reference out of range");
    }
    free(lines);
    return 0;
}
