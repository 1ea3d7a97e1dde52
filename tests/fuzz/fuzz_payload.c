/* Fuzz: what a payer scans (payment_open_payload): an EMVCo payload, a /p/ link or a bare
 * token. Arbitrary text is refused with INVALID_CODE or CODE_EXPIRED, or opens into a token
 * in range whose amount and currency the payload itself agrees with. The input's first byte
 * also picks a genuine payload (static or dynamic, built with the EMV builder around a sealed
 * token) to edit with the rest: an edited payload that still opens must name the same code,
 * amount and currency (a changed token never opens; a changed amount never passes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/emv.h"
#include "service/payment.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static keyring keys;
static int ready;
#define NOW_MS 1795744800000LL

static void die(const char *what)
{
    fprintf(stderr, "fuzz_payload: %s\n", what);
    abort();
}

static void init_keys(void)
{
    uint8_t master[CRYPTO_KEY_LEN];
    for (int i = 0; i < CRYPTO_KEY_LEN; i++) master[i] = (uint8_t)(i * 7);
    if (code_token_key_derive(master, 1, &keys.code_tokens[0]) != HB_ERR_OK) die("derive");
    keys.code_key_current = 1;
    keys.code_key_min = 1;
    ready = 1;
}

static void check(const char *text, code_token *out, hb_err *err)
{
    char why[160] = "";
    *err = payment_open_payload(text, &keys, NOW_MS, out, why, sizeof why);
    if (*err == HB_ERR_INVALID_CODE || *err == HB_ERR_CODE_EXPIRED) {
        if (why[0] == '\0') die("a refusal without a reason");
        return;
    }
    if (*err != HB_ERR_OK) die("neither opened nor refused");
    if (out->code_id <= 0 || out->amount < 0 || out->currency == CURRENCY_NONE) {
        die("a token out of range");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready) init_keys();
    if (size > 600) return 0;
    char text[601];
    memcpy(text, data, size);
    text[size] = '\0';
    code_token t;
    hb_err err;
    check(text, &t, &err);
    if (size < 4) return 0;
    /* a genuine payload, then edits */
    code_token sealed = {.code_id = 1 + data[1], .not_after_s = 0, .amount = 0,
                         .currency = (data[2] & 1) ? CURRENCY_HKD : CURRENCY_CNY};
    bool dynamic = data[0] & 1;
    if (dynamic) {
        sealed.amount = 1 + data[3] * 97;
        sealed.not_after_s = NOW_MS / 1000 + 60;
    }
    emv_payload p;
    memset(&p, 0, sizeof p);
    p.dynamic = dynamic;
    snprintf(p.guid, sizeof p.guid, "cn.hongbao");
    if (code_token_seal(&keys.code_tokens[0], (data[2] & 2) ? CRYPTO_SUITE_SM4_SM3 : CRYPTO_SUITE_AES_GCM,
                        &sealed, p.token) != HB_ERR_OK) {
        die("seal");
    }
    snprintf(p.mcc, sizeof p.mcc, "5999");
    p.currency = sealed.currency;
    p.has_amount = dynamic;
    p.amount_fen = sealed.amount;
    snprintf(p.country, sizeof p.country, "CN");
    snprintf(p.merchant_name, sizeof p.merchant_name, "Shop");
    snprintf(p.city, sizeof p.city, "Shanghai");
    char payload[EMV_PAYLOAD_MAX];
    size_t len = 0;
    char why[160];
    if (emv_build(&p, payload, sizeof payload, &len, why, sizeof why) != HB_ERR_OK) die("build");
    check(payload, &t, &err);
    if (err != HB_ERR_OK || t.code_id != sealed.code_id) die("a genuine payload did not open");
    for (size_t i = 4; i + 1 < size; i += 2) {
        payload[data[i] % len] = (char)(0x20 + data[i + 1] % 95);
    }
    check(payload, &t, &err);
    if (err == HB_ERR_OK && (t.code_id != sealed.code_id || t.amount != sealed.amount ||
                             t.currency != sealed.currency)) {
        die("an edited payload opened as another code");
    }
    return 0;
}
