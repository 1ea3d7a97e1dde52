#include "core/signature.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/digest.h"

/* Take "name=value" from *p up to the next ',' (or the end); advance *p past it. */
static bool take_param(const char **p, const char *name, char *out, size_t size)
{
    size_t name_len = strlen(name);
    if (strncmp(*p, name, name_len) != 0 || (*p)[name_len] != '=') return false;
    const char *value = *p + name_len + 1;
    const char *end = strchr(value, ',');
    size_t len = end ? (size_t)(end - value) : strlen(value);
    if (len == 0 || len >= size) return false;
    memcpy(out, value, len);
    out[len] = '\0';
    *p = end ? end + 1 : value + len;
    return true;
}

hb_err signature_parse(const char *params, signature_header *out, const char **why)
{
    char sig_text[72];
    const char *p = params;
    *why = "malformed Authorization header: expected HB1-HMAC-SHA256 key=…,ts=…,nonce=…,sig=…";
    if (!take_param(&p, "key", out->key_id, sizeof out->key_id) ||
        !take_param(&p, "ts", out->ts_text, sizeof out->ts_text) ||
        !take_param(&p, "nonce", out->nonce, sizeof out->nonce) ||
        !take_param(&p, "sig", sig_text, sizeof sig_text) || *p != '\0') {
        return HB_ERR_INVALID_ARGUMENT;
    }
    out->ts = 0;
    for (const char *c = out->ts_text; *c; c++) {
        if (*c < '0' || *c > '9' || out->ts > 100000000000LL) {
            *why = "ts must be decimal Unix seconds";
            return HB_ERR_INVALID_ARGUMENT;
        }
        out->ts = out->ts * 10 + (*c - '0');
    }
    size_t nonce_len = strlen(out->nonce);
    bool nonce_ok = nonce_len >= LIMIT_NONCE_MIN && nonce_len <= LIMIT_NONCE_MAX;
    for (size_t i = 0; nonce_ok && i < nonce_len; i++) {
        char c = out->nonce[i];
        nonce_ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    }
    if (!nonce_ok) {
        *why = "the nonce must be 16-64 letters or digits";
        return HB_ERR_INVALID_ARGUMENT;
    }
    if (!crypto_unhex(sig_text, strlen(sig_text), out->sig, sizeof out->sig)) {
        *why = "the signature must be 64 hex digits";
        return HB_ERR_INVALID_ARGUMENT;
    }
    *why = "";
    return HB_ERR_OK;
}

hb_err signature_compute(const char *secret, const char *method, const char *target,
                         const char *ts_text, const char *nonce, const void *body,
                         size_t body_len, uint8_t out[32])
{
    uint8_t body_hash[32];
    char body_hex[65];
    hb_err err = digest_sha256(body ? body : "", body_len, body_hash);
    if (err != HB_ERR_OK) return err;
    crypto_hex(body_hash, 32, body_hex);
    size_t cap = strlen(method) + strlen(target) + strlen(ts_text) + strlen(nonce) + 72;
    char *to_sign = malloc(cap);
    if (to_sign == NULL) return HB_ERR_UNAVAILABLE;
    int n = snprintf(to_sign, cap, "%s\n%s\n%s\n%s\n%s\n", method, target, ts_text, nonce,
                     body_hex);
    ASSERT(n > 0 && (size_t)n < cap);
    err = crypto_hmac_sha256(secret, strlen(secret), to_sign, (size_t)n, out);
    free(to_sign);
    return err;
}
