#include "service/paycode.h"

#include <stdio.h>
#include <string.h>

#include "core/ids.h"
#include "core/text.h"
#include "service/customer.h"
#include "service/wallet.h"

code_status paycode_status_at(const paycode *c, int64_t now_ms)
{
    if (c->status == CODE_ACTIVE && c->kind == CODE_DYNAMIC && now_ms >= c->expires_at_ms) {
        return CODE_EXPIRED;
    }
    return c->status;
}

static crypto_suite suite_of(const tier_policy *terms)
{
    return terms->crypto == POLICY_SM4 ? CRYPTO_SUITE_SM4_SM3 : CRYPTO_SUITE_AES_GCM;
}

static hb_err digest_code(txn *t, const paycode *c)
{
    const int64_t ints[] = {c->id,     c->owner_id,      c->kind,          c->amount,
                            c->suite,  c->status,        c->created_at_ms, c->expires_at_ms,
                            c->ended_at_ms};
    const char *const texts[] = {currency_code(c->currency), c->memo, c->order_no,
                                 c->merchant_name, c->city, c->mcc, c->token};
    return txn_digest_row(t, "code", ints, sizeof ints / sizeof ints[0], texts,
                          sizeof texts / sizeof texts[0]);
}

static void code_result(txn *t, int64_t id)
{
    char text[IDS_TEXT_MAX];
    int n = ids_format(ID_CODE, id, text, sizeof text);
    txn_set_result(t, text, (size_t)n);
}

static hb_err replay_code(txn *t, paycode *out, const char *result)
{
    int64_t id = 0;
    hb_err err = ids_parse(ID_CODE, result, &id);
    if (err == HB_ERR_OK) err = store_code_get(txn_store(t), id, out);
    if (err == HB_ERR_UNAVAILABLE) return err;
    if (err != HB_ERR_OK) {
        txn_fail_detail(t, "the idempotency key's earlier result (%.40s) is missing", result);
        return HB_ERR_NOT_FOUND;
    }
    return HB_ERR_OK;
}

/* ---- create ------------------------------------------------------------------------------- */

static hb_err replay_create(txn *t, command *cmd, const char *result, size_t len)
{
    (void)len;
    return replay_code(t, &((code_create_cmd *)cmd)->code, result);
}

static hb_err exec_create(txn *t, command *cmd)
{
    code_create_cmd *c = (code_create_cmd *)cmd;
    paycode *code = &c->code;
    const account *owner = NULL;
    hb_err err = txn_account(t, code->owner_id, &owner);
    if (err == HB_ERR_OK && owner->kind != ACCOUNT_WALLET) err = HB_ERR_NOT_FOUND;
    if (err == HB_ERR_NOT_FOUND) txn_fail_detail(t, "no such account: owner");
    if (err != HB_ERR_OK) return err;
    if (code->currency == CURRENCY_NONE) code->currency = owner->currency;
    if (code->currency != owner->currency) {
        txn_fail_detail(t, "the owner's wallet holds %s", currency_code(owner->currency));
        return HB_ERR_INVALID_ARGUMENT;
    }
    const policy *pol = txn_policy(t);
    const char *banned = policy_banned_phrase(pol, code->memo);
    if (banned != NULL) {
        txn_fail_detail(t, "the memo contains a banned phrase: %s", banned);
        return HB_ERR_INVALID_MESSAGE;
    }
    store *s = txn_store(t);
    if (code->kind == CODE_DYNAMIC) {
        paycode earlier;
        err = store_code_find_order(s, code->owner_id, code->order_no, &earlier);
        if (err == HB_ERR_OK) {
            txn_fail_detail(t, "order_no %s already has code_%lld", code->order_no,
                            (long long)earlier.id);
            return HB_ERR_INVALID_ARGUMENT;
        }
        if (err != HB_ERR_NOT_FOUND) return HB_ERR_UNAVAILABLE;
    }
    /* the owner's tier, or a provider's agreement */
    tier_policy terms = pol->tiers[owner->tier];
    customer row;
    err = store_customer_get(s, code->owner_id, &row);
    if (err == HB_ERR_OK) customer_terms(pol, &row, &terms);
    if (err == HB_ERR_UNAVAILABLE) return err;
    int64_t last = 0;
    if (store_max_id(s, STORE_SEQ_CODE, &last) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    code->id = last + 1;
    code->suite = (int)suite_of(&terms);
    code->status = CODE_ACTIVE;
    code->created_at_ms = txn_now_ms(t);
    code->expires_at_ms = code->kind == CODE_DYNAMIC
                              ? code->created_at_ms + terms.code_validity_s * 1000
                              : 0;
    code->ended_at_ms = 0;
    code->token[0] = '\0';
    if (code->kind == CODE_STATIC) {
        /* a sticker: sealed once, never expiring, the same every time it is shown */
        code_token tok = {.code_id = code->id, .not_after_s = 0, .amount = 0,
                          .currency = code->currency};
        if (code_token_seal(keyring_code_seal_key(c->keys), (crypto_suite)code->suite, &tok,
                            code->token) != HB_ERR_OK) {
            return HB_ERR_UNAVAILABLE;
        }
    }
    if (store_code_insert(s, code) != HB_ERR_OK || digest_code(t, code) != HB_ERR_OK) {
        return HB_ERR_UNAVAILABLE;
    }
    char object[IDS_TEXT_MAX];
    ids_format(ID_CODE, code->id, object, sizeof object);
    txn_audit(t, "code.create", object);
    code_result(t, code->id);
    return HB_ERR_OK;
}

hb_err paycode_create_prepare(code_create_cmd *c, const keyring *keys, const char *actor,
                              char *why, size_t why_size)
{
    paycode *code = &c->code;
#define REFUSE(code_, ...)                                                                     \
    do {                                                                                       \
        snprintf(why, why_size, __VA_ARGS__);                                                  \
        return code_;                                                                          \
    } while (0)
    if (code->owner_id <= 0) REFUSE(HB_ERR_INVALID_ARGUMENT, "no owner");
    if (code->kind != CODE_STATIC && code->kind != CODE_DYNAMIC) {
        REFUSE(HB_ERR_INVALID_ARGUMENT, "kind must be static or dynamic");
    }
    if (code->kind == CODE_STATIC && (code->amount != 0 || code->order_no[0] != '\0')) {
        REFUSE(HB_ERR_INVALID_ARGUMENT, "a static code has no amount or order_no: the payer enters the amount");
    }
    if (code->kind == CODE_DYNAMIC && (code->amount < 1 || code->amount > LIMIT_AMOUNT_MAX_FEN)) {
        REFUSE(HB_ERR_INVALID_ARGUMENT, "a dynamic code needs an amount of at least 1 fen");
    }
    if (code->kind == CODE_DYNAMIC && !emv_value_ok(code->order_no, 1, LIMIT_ORDER_NO_LEN, EMV_TEXT)) {
        REFUSE(HB_ERR_INVALID_ARGUMENT, "a dynamic code needs order_no: 1..%d printable ASCII characters",
               LIMIT_ORDER_NO_LEN);
    }
    if (!text_valid(code->memo, LIMIT_MEMO_LEN, true)) {
        REFUSE(HB_ERR_INVALID_ARGUMENT, "memo must be at most %d bytes of valid UTF-8", LIMIT_MEMO_LEN);
    }
    if (text_has_invisible(code->memo)) {
        REFUSE(HB_ERR_INVALID_MESSAGE, "the memo contains invisible formatting characters");
    }
    if (code->merchant_name[0] == '\0') snprintf(code->merchant_name, sizeof code->merchant_name, "hongbao");
    if (code->city[0] == '\0') snprintf(code->city, sizeof code->city, "Shanghai");
    if (code->mcc[0] == '\0') snprintf(code->mcc, sizeof code->mcc, "5999");
    if (!emv_value_ok(code->merchant_name, 1, 25, EMV_TEXT) || !emv_value_ok(code->city, 1, 15, EMV_TEXT) ||
        !emv_value_ok(code->mcc, 4, 4, EMV_DIGITS)) {
        REFUSE(HB_ERR_INVALID_ARGUMENT, "merchant_name (1..25) and city (1..15) must be printable "
                                        "ASCII, mcc 4 digits (EMVCo)");
    }
    if (code->currency != CURRENCY_NONE && !currency_valid(code->currency)) {
        REFUSE(HB_ERR_INVALID_ARGUMENT, "unknown currency");
    }
#undef REFUSE
    c->keys = keys;
    char canonical[512];
    int n = snprintf(canonical, sizeof canonical, "code.create|%lld|%d|%lld|%s|%zu:%s|%zu:%s|%s|%s|%s",
                     (long long)code->owner_id, code->kind, (long long)code->amount,
                     code->currency == CURRENCY_NONE ? "" : currency_code(code->currency),
                     strlen(code->memo), code->memo, strlen(code->order_no), code->order_no,
                     code->merchant_name, code->city, code->mcc);
    ASSERT(n > 0 && (size_t)n < sizeof canonical);
    hb_err err = wallet_command_init(&c->base, actor, NULL, canonical, (size_t)n);
    if (err != HB_ERR_OK) snprintf(why, why_size, "bad actor");
    c->base.exec = exec_create;
    c->base.replay = replay_create;
    return err;
}

/* ---- cancel ------------------------------------------------------------------------------- */

static hb_err replay_cancel(txn *t, command *cmd, const char *result, size_t len)
{
    (void)len;
    return replay_code(t, &((code_cancel_cmd *)cmd)->code, result);
}

static hb_err exec_cancel(txn *t, command *cmd)
{
    code_cancel_cmd *c = (code_cancel_cmd *)cmd;
    paycode *code = &c->code;
    hb_err err = store_code_get(txn_store(t), c->code_id, code);
    if (err == HB_ERR_NOT_FOUND) txn_fail_detail(t, "no such code");
    if (err != HB_ERR_OK) return err;
    int64_t now = txn_now_ms(t);
    code_status shown = paycode_status_at(code, now);
    if (shown == CODE_USED) {
        txn_fail_detail(t, "the code was paid already");
        return HB_ERR_CODE_USED;
    }
    if (shown != CODE_ACTIVE) {
        txn_fail_detail(t, "the code has ended (%s)", code_status_name(shown));
        return HB_ERR_CODE_EXPIRED;
    }
    if (store_code_end(txn_store(t), code->id, CODE_CANCELLED, now) != HB_ERR_OK) {
        return HB_ERR_UNAVAILABLE;
    }
    code->status = CODE_CANCELLED;
    code->ended_at_ms = now;
    if (digest_code(t, code) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    char object[IDS_TEXT_MAX];
    ids_format(ID_CODE, code->id, object, sizeof object);
    txn_audit(t, "code.cancel", object);
    code_result(t, code->id);
    return HB_ERR_OK;
}

hb_err paycode_cancel_prepare(code_cancel_cmd *c, const char *actor)
{
    if (c->code_id <= 0) return HB_ERR_INVALID_ARGUMENT;
    char canonical[64];
    int n = snprintf(canonical, sizeof canonical, "code.cancel|%lld", (long long)c->code_id);
    ASSERT(n > 0 && (size_t)n < sizeof canonical);
    hb_err err = wallet_command_init(&c->base, actor, NULL, canonical, (size_t)n);
    c->base.exec = exec_cancel;
    c->base.replay = replay_cancel;
    return err;
}

/* ---- payload -------------------------------------------------------------------------------- */

hb_err paycode_payload(const paycode *c, const keyring *keys, int64_t now_ms,
                       char payload[EMV_PAYLOAD_MAX], char token[CODE_TOKEN_TEXT_MAX + 1],
                       int64_t *refresh_at_ms)
{
    code_status shown = paycode_status_at(c, now_ms);
    if (shown == CODE_USED) return HB_ERR_CODE_USED;
    if (shown != CODE_ACTIVE) return HB_ERR_CODE_EXPIRED;
    *refresh_at_ms = 0;
    if (c->kind == CODE_STATIC) {
        snprintf(token, CODE_TOKEN_TEXT_MAX + 1, "%s", c->token);
    } else {
        /* valid to the end of this minute, or the code's expiry if sooner */
        int64_t now_s = now_ms / 1000;
        int64_t window_end = (now_s / LIMIT_CODE_RESEAL_S + 1) * LIMIT_CODE_RESEAL_S;
        int64_t expires_s = c->expires_at_ms / 1000;
        int64_t not_after = window_end < expires_s ? window_end : expires_s;
        code_token tok = {.code_id = c->id, .not_after_s = not_after, .amount = c->amount,
                          .currency = c->currency};
        hb_err err = code_token_seal(keyring_code_seal_key(keys), (crypto_suite)c->suite, &tok, token);
        if (err != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
        *refresh_at_ms = window_end * 1000 < c->expires_at_ms ? window_end * 1000 : c->expires_at_ms;
    }
    emv_payload p;
    memset(&p, 0, sizeof p);
    p.dynamic = c->kind == CODE_DYNAMIC;
    snprintf(p.guid, sizeof p.guid, "%s", PAYCODE_GUID);
    snprintf(p.token, sizeof p.token, "%s", token);
    snprintf(p.mcc, sizeof p.mcc, "%s", c->mcc);
    p.currency = c->currency;
    p.has_amount = c->kind == CODE_DYNAMIC;
    p.amount_fen = c->amount;
    snprintf(p.country, sizeof p.country, "%s", c->currency == CURRENCY_HKD ? "HK" : "CN");
    snprintf(p.merchant_name, sizeof p.merchant_name, "%s", c->merchant_name);
    snprintf(p.city, sizeof p.city, "%s", c->city);
    snprintf(p.reference, sizeof p.reference, "%.25s", c->order_no);
    size_t len = 0;
    char why[128];
    hb_err err = emv_build(&p, payload, EMV_PAYLOAD_MAX, &len, why, sizeof why);
    return err == HB_ERR_OK ? HB_ERR_OK : HB_ERR_UNAVAILABLE; /* values checked at creation */
}
