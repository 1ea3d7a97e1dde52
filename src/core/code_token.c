#include "core/code_token.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "core/emv.h"

#define VERSION 1
#define PLAIN_LEN 22
#define HEADER_LEN 2
#define TOKEN_BYTES_MAX 64

hb_err code_token_key_derive(const uint8_t master[CRYPTO_KEY_LEN], uint8_t id, code_token_key *out)
{
    if (id == 0) return HB_ERR_INVALID_ARGUMENT;
    char purpose[64];
    snprintf(purpose, sizeof purpose, "hongbao code token v1 key %u", (unsigned)id);
    out->id = id;
    return crypto_keys_derive(master, purpose, CRYPTO_SUITE_AES_GCM, &out->keys);
}

static void put_be(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++) p[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
}

static uint64_t get_be(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) v = (v << 8) | p[i];
    return v;
}

hb_err code_token_seal(const code_token_key *k, crypto_suite suite, const code_token *t,
                       char out[CODE_TOKEN_TEXT_MAX + 1])
{
    int numeric = emv_currency_numeric(t->currency);
    if (t->code_id <= 0 || t->not_after_s < 0 || t->not_after_s > (int64_t)UINT32_MAX ||
        t->amount < 0 || numeric == 0 || k->id == 0 ||
        (suite != CRYPTO_SUITE_AES_GCM && suite != CRYPTO_SUITE_SM4_SM3)) {
        return HB_ERR_INVALID_ARGUMENT;
    }
    uint8_t plain[PLAIN_LEN];
    put_be(plain, (uint64_t)t->code_id, 8);
    put_be(plain + 8, (uint64_t)t->not_after_s, 4);
    put_be(plain + 12, (uint64_t)t->amount, 8);
    put_be(plain + 20, (uint64_t)numeric, 2);
    uint8_t token[TOKEN_BYTES_MAX];
    token[0] = VERSION;
    token[1] = k->id;
    crypto_keys keys = k->keys;
    keys.seal_suite = suite;
    size_t box_len = 0;
    hb_err err = crypto_seal(&keys, plain, sizeof plain, token, HEADER_LEN, token + HEADER_LEN,
                             &box_len);
    OPENSSL_cleanse(plain, sizeof plain);
    OPENSSL_cleanse(&keys, sizeof keys);
    if (err != HB_ERR_OK) return err;
    ASSERT(HEADER_LEN + box_len <= TOKEN_BYTES_MAX);
    crypto_base64url(token, HEADER_LEN + box_len, out);
    ASSERT(strlen(out) <= CODE_TOKEN_TEXT_MAX);
    return HB_ERR_OK;
}

hb_err code_token_open(const code_token_key *keys, size_t count, const char *text, size_t len,
                       int64_t now_s, code_token *out, crypto_suite *suite)
{
    uint8_t token[TOKEN_BYTES_MAX];
    size_t n = 0;
    if (len > CODE_TOKEN_TEXT_MAX || !crypto_unbase64url(text, len, token, sizeof token, &n) ||
        n < HEADER_LEN + 1 || token[0] != VERSION) {
        return HB_ERR_INVALID_CODE;
    }
    const code_token_key *k = NULL;
    for (size_t i = 0; i < count && k == NULL; i++) {
        if (keys[i].id == token[1]) k = &keys[i];
    }
    if (k == NULL) return HB_ERR_INVALID_CODE;
    const uint8_t *box = token + HEADER_LEN;
    size_t box_len = n - HEADER_LEN;
    if (crypto_plain_len(box, box_len) != PLAIN_LEN) return HB_ERR_INVALID_CODE;
    uint8_t plain[PLAIN_LEN];
    size_t plain_len = 0;
    hb_err err = crypto_open(&k->keys, box, box_len, token, HEADER_LEN, plain, &plain_len);
    if (err == HB_ERR_UNAVAILABLE) return err;
    if (err != HB_ERR_OK || plain_len != PLAIN_LEN) return HB_ERR_INVALID_CODE;
    code_token t = {.code_id = (int64_t)get_be(plain, 8),
                    .not_after_s = (int64_t)get_be(plain + 8, 4),
                    .amount = (int64_t)get_be(plain + 12, 8),
                    .currency = emv_currency_from_numeric((int)get_be(plain + 20, 2))};
    OPENSSL_cleanse(plain, sizeof plain);
    /* only this code seals, so a token that opens holds what it sealed; check anyway */
    if (t.code_id <= 0 || t.amount < 0 || t.currency == CURRENCY_NONE) return HB_ERR_INVALID_CODE;
    if (suite != NULL) *suite = (crypto_suite)box[0];
    *out = t;
    if (t.not_after_s != 0 && now_s > t.not_after_s) return HB_ERR_CODE_EXPIRED;
    return HB_ERR_OK;
}
