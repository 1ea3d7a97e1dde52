/* Fuzz: the payment-code token parser. Arbitrary text either is refused (INVALID_CODE) or
 * opens into a token in range that re-seals and opens to the same values; it never opens
 * under another master key. The input's first byte also picks values to seal, so sealed
 * tokens with edits are tried as well: an edited token must never open. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/code_token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static code_token_key keys[2], other[1];
static int ready;

static void die(const char *what)
{
    fprintf(stderr, "fuzz_code_token: %s\n", what);
    abort();
}

static void init_keys(void)
{
    uint8_t master[CRYPTO_KEY_LEN];
    for (int i = 0; i < CRYPTO_KEY_LEN; i++) master[i] = (uint8_t)i;
    if (code_token_key_derive(master, 1, &keys[0]) != HB_ERR_OK ||
        code_token_key_derive(master, 2, &keys[1]) != HB_ERR_OK) {
        die("derive");
    }
    master[5] ^= 0x80;
    if (code_token_key_derive(master, 1, &other[0]) != HB_ERR_OK) die("derive");
    ready = 1;
}

static void check_text(const char *text, size_t len)
{
    code_token t;
    crypto_suite suite = 0;
    hb_err err = code_token_open(keys, 2, text, len, 0, &t, &suite);
    if (err == HB_ERR_INVALID_CODE) return;
    if (err != HB_ERR_OK) die("an open that is neither OK nor INVALID_CODE");
    if (t.code_id <= 0 || t.amount < 0 || t.currency == CURRENCY_NONE) die("a token out of range");
    code_token o;
    if (code_token_open(other, 1, text, len, 0, &o, NULL) != HB_ERR_INVALID_CODE) {
        die("opened under another master key");
    }
    char again[CODE_TOKEN_TEXT_MAX + 1];
    code_token back;
    if (code_token_seal(&keys[0], suite, &t, again) != HB_ERR_OK ||
        code_token_open(keys, 2, again, strlen(again), 0, &back, NULL) != HB_ERR_OK ||
        back.code_id != t.code_id || back.amount != t.amount || back.currency != t.currency ||
        back.not_after_s != t.not_after_s) {
        die("a token that opened does not round-trip");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready) init_keys();
    if (size > 256) return 0;
    char text[257];
    memcpy(text, data, size);
    text[size] = '\0';
    check_text(text, size);
    /* a sealed token from the input's first bytes, with the rest as edits */
    if (size >= 12) {
        code_token t;
        uint64_t id = 0, amount = 0;
        memcpy(&id, data, 8);
        memcpy(&amount, data + 4, 8);
        t.code_id = (int64_t)(id >> 1) | 1;
        t.not_after_s = 0;
        t.amount = (int64_t)(amount >> 14);
        t.currency = (data[11] & 1) ? CURRENCY_HKD : CURRENCY_CNY;
        char sealed[CODE_TOKEN_TEXT_MAX + 1];
        crypto_suite suite = (data[11] & 2) ? CRYPTO_SUITE_SM4_SM3 : CRYPTO_SUITE_AES_GCM;
        if (code_token_seal(&keys[data[10] & 1], suite, &t, sealed) != HB_ERR_OK) die("seal");
        size_t len = strlen(sealed);
        char original[CODE_TOKEN_TEXT_MAX + 1];
        memcpy(original, sealed, len + 1);
        for (size_t i = 12; i + 1 < size; i += 2) {
            sealed[data[i] % len] =
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[data[i + 1] % 64];
        }
        /* edits may undo each other: what counts is whether the text differs */
        bool edited = strcmp(sealed, original) != 0;
        code_token o;
        hb_err err = code_token_open(keys, 2, sealed, len, 0, &o, NULL);
        if (edited && err == HB_ERR_OK) die("an edited token opened");
        if (!edited && (err != HB_ERR_OK || o.code_id != t.code_id)) die("a sealed token did not open");
    }
    return 0;
}
