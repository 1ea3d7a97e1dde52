#include "core/emv.h"

#include <stdio.h>
#include <string.h>

#include "core/money.h"

uint16_t emv_crc16(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint16_t crc = 0xFFFF;
    for (size_t i = 0; i < len; i++) {
        crc = (uint16_t)(crc ^ ((unsigned)p[i] << 8));
        for (int b = 0; b < 8; b++) {
            unsigned v = (unsigned)crc << 1;
            if (crc & 0x8000) v ^= 0x1021;
            crc = (uint16_t)v;
        }
    }
    return crc;
}

int emv_currency_numeric(currency c)
{
    switch (c) {
    case CURRENCY_CNY: return 156;
    case CURRENCY_HKD: return 344;
    default: return 0;
    }
}

currency emv_currency_from_numeric(int code)
{
    return code == 156 ? CURRENCY_CNY : code == 344 ? CURRENCY_HKD : CURRENCY_NONE;
}

/* ---- build ------------------------------------------------------------------------------ */

typedef struct writer {
    char *out;
    size_t size;
    size_t len;
    bool overflow;
} writer;

static void put_field(writer *w, int tag, const char *value, size_t n)
{
    ASSERT(tag >= 0 && tag <= 99 && n >= 1 && n <= EMV_VALUE_MAX);
    if (w->len + 4 + n >= w->size) {
        w->overflow = true;
        return;
    }
    snprintf(w->out + w->len, 5, "%02d%02zu", tag, n);
    memcpy(w->out + w->len + 4, value, n);
    w->len += 4 + n;
    w->out[w->len] = '\0';
}

/* The n bytes at v are min..max characters of the class (no NUL, nothing outside it). */
static bool bytes_ok(const char *v, size_t n, size_t min, size_t max, emv_charset cs)
{
    if (n < min || n > max) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        bool ok = cs == EMV_DIGITS  ? (c >= '0' && c <= '9')
                  : cs == EMV_ALPHA ? (c >= 'A' && c <= 'Z')
                                   : (c >= 0x20 && c <= 0x7E);
        if (!ok) return false;
    }
    return true;
}

bool emv_value_ok(const char *v, size_t min, size_t max, emv_charset cs)
{
    return bytes_ok(v, strlen(v), min, max, cs);
}

hb_err emv_build(const emv_payload *p, char *out, size_t size, size_t *len, char *why,
                 size_t why_size)
{
#define REFUSE(...)                                                                            \
    do {                                                                                       \
        snprintf(why, why_size, __VA_ARGS__);                                                  \
        return HB_ERR_INVALID_ARGUMENT;                                                        \
    } while (0)
    int tt = p->template_tag == 0 ? 26 : p->template_tag;
    if (tt < 26 || tt > 51) REFUSE("the merchant template tag must be 26..51");
    if (!emv_value_ok(p->guid, 1, 32, EMV_TEXT)) REFUSE("the GUID must be 1..32 printable characters");
    if (!emv_value_ok(p->token, 1, EMV_VALUE_MAX - 4 - 4 - strlen(p->guid), EMV_TEXT)) {
        REFUSE("the token must be printable and fit the template's 99 characters");
    }
    if (!emv_value_ok(p->mcc, 4, 4, EMV_DIGITS)) REFUSE("the MCC must be 4 digits");
    int numeric = emv_currency_numeric(p->currency);
    if (numeric == 0) REFUSE("unknown currency");
    if (p->dynamic && !p->has_amount) REFUSE("a dynamic payload carries its amount");
    char amount[MONEY_TEXT_MAX] = "";
    if (p->has_amount) {
        if (p->amount_fen < 1 || money_format(p->amount_fen, amount, sizeof amount) < 0 ||
            strlen(amount) > 13) {
            REFUSE("the amount must be 0.01..9999999999.99");
        }
    }
    if (!emv_value_ok(p->country, 2, 2, EMV_ALPHA)) REFUSE("the country must be 2 capital letters");
    if (!emv_value_ok(p->merchant_name, 1, 25, EMV_TEXT)) {
        REFUSE("the merchant name must be 1..25 printable ASCII characters");
    }
    if (!emv_value_ok(p->city, 1, 15, EMV_TEXT)) REFUSE("the city must be 1..15 printable ASCII characters");
    if (!emv_value_ok(p->reference, 0, 25, EMV_TEXT)) REFUSE("the reference must be 0..25 printable characters");
#undef REFUSE
    writer w = {.out = out, .size = size, .len = 0, .overflow = size == 0};
    if (size > 0) out[0] = '\0';
    put_field(&w, 0, "01", 2);
    put_field(&w, 1, p->dynamic ? "12" : "11", 2);
    char tmpl[EMV_VALUE_MAX + 1];
    writer tw = {.out = tmpl, .size = sizeof tmpl, .len = 0, .overflow = false};
    put_field(&tw, 0, p->guid, strlen(p->guid));
    put_field(&tw, 1, p->token, strlen(p->token));
    ASSERT(!tw.overflow); /* bounded by the checks above */
    put_field(&w, tt, tmpl, tw.len);
    put_field(&w, 52, p->mcc, 4);
    char cur[4];
    snprintf(cur, sizeof cur, "%03d", numeric);
    put_field(&w, 53, cur, 3);
    if (p->has_amount) put_field(&w, 54, amount, strlen(amount));
    put_field(&w, 58, p->country, 2);
    put_field(&w, 59, p->merchant_name, strlen(p->merchant_name));
    put_field(&w, 60, p->city, strlen(p->city));
    if (p->reference[0] != '\0') {
        char ref[EMV_VALUE_MAX + 1];
        writer rw = {.out = ref, .size = sizeof ref, .len = 0, .overflow = false};
        put_field(&rw, 5, p->reference, strlen(p->reference));
        put_field(&w, 62, ref, rw.len);
    }
    if (w.overflow || w.len + 8 >= size) {
        snprintf(why, why_size, "the payload does not fit the buffer");
        return HB_ERR_INVALID_ARGUMENT;
    }
    memcpy(out + w.len, "6304", 4);
    uint16_t crc = emv_crc16(out, w.len + 4);
    snprintf(out + w.len + 4, 5, "%04X", crc);
    *len = w.len + 8;
    return HB_ERR_OK;
}

/* ---- parse ------------------------------------------------------------------------------ */

typedef struct field {
    int tag;
    const char *value;
    size_t len;
} field;

/* Split text into fields; false (why set) on a bad tag or length or an overrun. */
static bool split_fields(const char *text, size_t len, field *fields, int max, int *count,
                         char *why, size_t why_size)
{
    size_t at = 0;
    int n = 0;
    while (at < len) {
        if (len - at < 4) {
            snprintf(why, why_size, "a field header is cut short at offset %zu", at);
            return false;
        }
        const char *h = text + at;
        for (int i = 0; i < 4; i++) {
            if (h[i] < '0' || h[i] > '9') {
                snprintf(why, why_size, "a tag or length that is not digits at offset %zu", at);
                return false;
            }
        }
        int tag = (h[0] - '0') * 10 + (h[1] - '0');
        size_t flen = (size_t)(h[2] - '0') * 10 + (size_t)(h[3] - '0');
        if (flen == 0 || flen > len - at - 4) {
            snprintf(why, why_size, "field %02d has a bad length", tag);
            return false;
        }
        for (int i = 0; i < n; i++) {
            if (fields[i].tag == tag) {
                snprintf(why, why_size, "field %02d appears twice", tag);
                return false;
            }
        }
        if (n == max) {
            snprintf(why, why_size, "too many fields");
            return false;
        }
        fields[n++] = (field){.tag = tag, .value = h + 4, .len = flen};
        at += 4 + flen;
    }
    *count = n;
    return true;
}

static const field *find(const field *fields, int n, int tag)
{
    for (int i = 0; i < n; i++) {
        if (fields[i].tag == tag) return &fields[i];
    }
    return NULL;
}

/* Copy a field's value (printable ASCII of the given class and length range) into dst; every
 * byte is checked, so a NUL inside a value cannot cut it short. */
static bool copy_value(const field *f, char *dst, size_t dst_size, size_t min, size_t max,
                       emv_charset cs)
{
    if (f == NULL || f->len >= dst_size || !bytes_ok(f->value, f->len, min, max, cs)) return false;
    memcpy(dst, f->value, f->len);
    dst[f->len] = '\0';
    return true;
}

hb_err emv_parse(const char *text, size_t len, const char *guid, emv_payload *out, char *why,
                 size_t why_size)
{
#define REFUSE(...)                                                                            \
    do {                                                                                       \
        snprintf(why, why_size, __VA_ARGS__);                                                  \
        return HB_ERR_INVALID_CODE;                                                            \
    } while (0)
    if (len < 12 || len > EMV_PAYLOAD_MAX) REFUSE("the payload's length is out of range");
    field fields[64];
    int n = 0;
    if (!split_fields(text, len, fields, 64, &n, why, why_size)) return HB_ERR_INVALID_CODE;
    if (fields[0].tag != 0 || fields[0].len != 2 || memcmp(fields[0].value, "01", 2) != 0) {
        REFUSE("field 00 must come first and hold \"01\"");
    }
    const field *crc = &fields[n - 1];
    if (crc->tag != 63 || crc->len != 4) REFUSE("field 63 (CRC) must come last with 4 digits");
    unsigned int want = 0;
    char hex[5];
    memcpy(hex, crc->value, 4);
    hex[4] = '\0';
    for (int i = 0; i < 4; i++) {
        char c = hex[i];
        unsigned int v = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                         : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                         : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                                                : 16u;
        if (v == 16u) REFUSE("field 63 (CRC) is not hexadecimal");
        want = want << 4 | v;
    }
    if (emv_crc16(text, len - 4) != want) REFUSE("the CRC does not match");
    memset(out, 0, sizeof *out);
    const field *init = find(fields, n, 1);
    if (init == NULL || init->len != 2 || init->value[0] != '1' ||
        (init->value[1] != '1' && init->value[1] != '2')) {
        REFUSE("field 01 must be \"11\" (static) or \"12\" (dynamic)");
    }
    out->dynamic = init->value[1] == '2';
    /* our merchant template: the first of 26..51 whose sub-field 00 is the GUID */
    for (int i = 0; i < n && out->template_tag == 0; i++) {
        if (fields[i].tag < 26 || fields[i].tag > 51) continue;
        field sub[16];
        int m = 0;
        char ignored[128];
        if (!split_fields(fields[i].value, fields[i].len, sub, 16, &m, ignored, sizeof ignored)) {
            REFUSE("merchant template %02d is malformed", fields[i].tag);
        }
        const field *g = find(sub, m, 0);
        if (g == NULL || strlen(guid) != g->len || memcmp(g->value, guid, g->len) != 0) continue;
        if (!copy_value(g, out->guid, sizeof out->guid, 1, 32, EMV_TEXT) ||
            !copy_value(find(sub, m, 1), out->token, sizeof out->token, 1, EMV_VALUE_MAX,
                        EMV_TEXT)) {
            REFUSE("merchant template %02d has no token", fields[i].tag);
        }
        out->template_tag = fields[i].tag;
    }
    if (out->template_tag == 0) REFUSE("no merchant template of this platform");
    if (!copy_value(find(fields, n, 52), out->mcc, sizeof out->mcc, 4, 4, EMV_DIGITS)) {
        REFUSE("field 52 (MCC) must be 4 digits");
    }
    char cur[4];
    if (!copy_value(find(fields, n, 53), cur, sizeof cur, 3, 3, EMV_DIGITS)) {
        REFUSE("field 53 (currency) must be 3 digits");
    }
    out->currency = emv_currency_from_numeric((cur[0] - '0') * 100 + (cur[1] - '0') * 10 + (cur[2] - '0'));
    if (out->currency == CURRENCY_NONE) REFUSE("field 53 names a currency this platform does not hold");
    const field *amount = find(fields, n, 54);
    if (amount != NULL) {
        if (amount->len > 13 || money_parse(amount->value, amount->len, &out->amount_fen) != HB_ERR_OK ||
            out->amount_fen < 1) {
            REFUSE("field 54 (amount) is not an amount");
        }
        out->has_amount = true;
    }
    if (out->dynamic && !out->has_amount) REFUSE("a dynamic payload needs field 54 (amount)");
    if (!copy_value(find(fields, n, 58), out->country, sizeof out->country, 2, 2, EMV_ALPHA)) {
        REFUSE("field 58 (country) must be 2 capital letters");
    }
    if (!copy_value(find(fields, n, 59), out->merchant_name, sizeof out->merchant_name, 1, 25,
                    EMV_TEXT)) {
        REFUSE("field 59 (merchant name) is missing or malformed");
    }
    if (!copy_value(find(fields, n, 60), out->city, sizeof out->city, 1, 15, EMV_TEXT)) {
        REFUSE("field 60 (city) is missing or malformed");
    }
    const field *extra = find(fields, n, 62);
    if (extra != NULL) {
        field sub[16];
        int m = 0;
        char ignored[128];
        if (!split_fields(extra->value, extra->len, sub, 16, &m, ignored, sizeof ignored)) {
            REFUSE("field 62 is malformed");
        }
        const field *ref = find(sub, m, 5);
        if (ref != NULL &&
            !copy_value(ref, out->reference, sizeof out->reference, 1, 25, EMV_TEXT)) {
            REFUSE("field 62's reference label is malformed");
        }
    }
#undef REFUSE
    return HB_ERR_OK;
}
