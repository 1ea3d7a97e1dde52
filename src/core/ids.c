#include "core/ids.h"

#include <stdio.h>
#include <string.h>

static const char *const id_prefixes[ID_KIND_COUNT] = {"acct_", "tr_",  "pkt_", "clm_", "code_",
                                                      "pay_",  "rfd_", "stl_", "whk_", "evt_",
                                                      "case_", "adj_"};

const char *ids_prefix(id_kind kind)
{
    ASSERT(kind < ID_KIND_COUNT);
    return id_prefixes[kind];
}

int ids_format(id_kind kind, int64_t id, char *buf, size_t size)
{
    ASSERT(id > 0);
    ASSERT(size >= IDS_TEXT_MAX);
    /* By hand rather than snprintf: ids are formatted several times per command. */
    const char *prefix = ids_prefix(kind);
    size_t n = strlen(prefix);
    memcpy(buf, prefix, n);
    char digits[20];
    size_t d = 0;
    for (uint64_t v = (uint64_t)id; v > 0; v /= 10) digits[d++] = (char)('0' + v % 10);
    ASSERT(n + d < size);
    while (d > 0) buf[n++] = digits[--d];
    buf[n] = '\0';
    return (int)n;
}

hb_err ids_parse(id_kind kind, const char *text, int64_t *out)
{
    if (text == NULL) return HB_ERR_INVALID_ARGUMENT;
    const char *prefix = ids_prefix(kind);
    size_t prefix_len = strlen(prefix);
    if (strncmp(text, prefix, prefix_len) == 0) text += prefix_len;
    size_t len = strlen(text);
    if (len == 0 || len > 19 || text[0] == '0') return HB_ERR_INVALID_ARGUMENT;
    int64_t value = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9') return HB_ERR_INVALID_ARGUMENT;
        int digit = text[i] - '0';
        if (value > (INT64_MAX - digit) / 10) return HB_ERR_INVALID_ARGUMENT;
        value = value * 10 + digit;
    }
    *out = value;
    return HB_ERR_OK;
}
