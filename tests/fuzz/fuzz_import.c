/* Fuzz: a risk list import (risk_import_parse): any text is refused with a reason naming what
 * is wrong, or gives 1..RISK_IMPORT_MAX entries each of which a single add would accept too
 * (canonical ids for accounts and codes, printable values, live expiries). The input's first
 * byte picks the list. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/risk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what)
{
    fprintf(stderr, "fuzz_import: %s\n", what);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 200000) return 0;
    static risk_import_cmd c;
    risk_list_kind kind = (risk_list_kind)(1 + data[0] % 3);
    char why[LIMIT_ERR_DETAIL_LEN + 1] = "";
    const int64_t now_ms = 1795744800000LL;
    hb_err err = risk_import_parse(&c, kind, (const char *)data + 1, size - 1, now_ms, "fuzz", why,
                                   sizeof why);
    if (err != HB_ERR_OK) {
        if (err != HB_ERR_INVALID_ARGUMENT || why[0] == '\0') die("a refusal without a reason");
        return 0;
    }
    if (c.count < 1 || c.count > RISK_IMPORT_MAX || c.kind != kind) die("a count out of range");
    for (int i = 0; i < c.count; i++) {
        static risk_list_cmd one;
        memset(&one, 0, sizeof one);
        one.entry = c.entries[i];
        if (one.entry.kind != kind) die("an entry of another list");
        if (one.entry.expires_at_ms != 0 && one.entry.expires_at_ms <= now_ms) die("an expired entry");
        char again[LIMIT_DEVICE_LEN + 1];
        memcpy(again, one.entry.value, sizeof again);
        if (risk_list_prepare(&one, "fuzz", why, sizeof why) != HB_ERR_OK) {
            die("an imported entry a single add refuses");
        }
        if (strcmp(again, one.entry.value) != 0) die("an imported value not canonical");
    }
    return 0;
}
