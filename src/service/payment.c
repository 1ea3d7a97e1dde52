#include "service/payment.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/emv.h"
#include "core/ids.h"
#include "core/money.h"
#include "service/paycode.h"
#include "service/risk.h"
#include "service/wallet.h"
#include "service/webhook.h"

/* ---- shared ------------------------------------------------------------------------------ */

const char *payment_status(const payment *p)
{
    if (p->refunded == 0) return "succeeded";
    return p->refunded < p->amount ? "partially_refunded" : "refunded";
}

static hb_err digest_payment(txn *t, const payment *p)
{
    const int64_t ints[] = {p->id,           p->code_id,       p->code_kind,     p->payer_id,
                            p->owner_id,     p->credit_id,     p->amount,        p->fee,
                            p->fee_rate_bp,  p->refunded,      p->refunded_fee,  p->settles,
                            p->business_day, p->settlement_id, p->transfer_id,
                            p->fee_transfer_id, p->created_at_ms, p->refunded_at_ms};
    const char *const texts[] = {currency_code(p->currency), p->device, p->region, p->order_no};
    return txn_digest_row(t, "payment", ints, sizeof ints / sizeof ints[0], texts, 4);
}

static hb_err replay_missing(txn *t, const char *result)
{
    txn_fail_detail(t, "the idempotency key's earlier result (%.40s) is missing from the store",
                    result);
    return HB_ERR_NOT_FOUND;
}

static void id_result(txn *t, id_kind kind, int64_t id)
{
    char text[IDS_TEXT_MAX];
    int n = ids_format(kind, id, text, sizeof text);
    txn_set_result(t, text, (size_t)n);
}

static hb_err fee_account(txn *t, currency cur, const account **out)
{
    hb_err err = txn_system_account(t, ACCOUNT_FEE_REVENUE, cur, out);
    if (err == HB_ERR_NOT_FOUND) {
        txn_fail_detail(t, "no %s fee revenue account: run hongbao init", currency_code(cur));
    }
    return err;
}

/* A transfer of the command: kind, accounts, amount; its reference names the payment, and
 * it carries the command's idempotency key (for tracing a client's retries). */
static hb_err move(txn *t, const command *cmd, transfer_kind kind, int64_t from, int64_t to,
                   int64_t amount, currency cur, const char *reference, int64_t *id)
{
    transfer tr = {.debit_id = from, .credit_id = to, .amount = amount, .currency = cur,
                   .kind = kind};
    snprintf(tr.reference, sizeof tr.reference, "%s", reference);
    if (cmd != NULL) snprintf(tr.idem_key, sizeof tr.idem_key, "%s", cmd->idem_key);
    hb_err err = txn_transfer(t, &tr);
    *id = tr.id;
    return err;
}

json_t *payment_json(const payment *p)
{
    char id[IDS_TEXT_MAX], code[IDS_TEXT_MAX], payer[IDS_TEXT_MAX], owner[IDS_TEXT_MAX];
    ids_format(ID_PAYMENT, p->id, id, sizeof id);
    ids_format(ID_CODE, p->code_id, code, sizeof code);
    ids_format(ID_ACCOUNT, p->payer_id, payer, sizeof payer);
    ids_format(ID_ACCOUNT, p->owner_id, owner, sizeof owner);
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:s,s:I}", "id", id,
                          "object", "payment", "code", code, "code_kind",
                          p->code_kind == CODE_STATIC ? "static" : "dynamic", "payer", payer,
                          "payee", owner, "amount", (json_int_t)p->amount, "fee",
                          (json_int_t)p->fee, "net", (json_int_t)(p->amount - p->fee),
                          "fee_rate_bp", (json_int_t)p->fee_rate_bp, "refunded",
                          (json_int_t)p->refunded, "refunded_fee", (json_int_t)p->refunded_fee,
                          "currency", currency_code(p->currency), "created_at",
                          (json_int_t)p->created_at_ms);
    if (o == NULL) return NULL;
    json_object_set_new(o, "status", json_string(payment_status(p)));
    json_object_set_new(o, "order_no", p->order_no[0] ? json_string(p->order_no) : json_null());
    char day[16];
    clock_day_format(p->business_day, day, sizeof day);
    json_object_set_new(o, "business_day", json_string(day));
    if (p->settles && p->settlement_id != 0) {
        char stl[IDS_TEXT_MAX];
        ids_format(ID_SETTLEMENT, p->settlement_id, stl, sizeof stl);
        json_object_set_new(o, "settlement", json_string(stl));
    } else {
        json_object_set_new(o, "settlement", json_null());
    }
    json_object_set_new(o, "settles", json_boolean(p->settles));
    return o;
}

json_t *refund_json(const refund *r)
{
    char id[IDS_TEXT_MAX], pay[IDS_TEXT_MAX];
    ids_format(ID_REFUND, r->id, id, sizeof id);
    ids_format(ID_PAYMENT, r->payment_id, pay, sizeof pay);
    return json_pack("{s:s,s:s,s:s,s:I,s:I,s:I}", "id", id, "object", "refund", "payment", pay,
                     "amount", (json_int_t)r->amount, "fee", (json_int_t)r->fee, "created_at",
                     (json_int_t)r->created_at_ms);
}

json_t *settlement_json(const settlement *b)
{
    char id[IDS_TEXT_MAX], merchant[IDS_TEXT_MAX], day[16];
    ids_format(ID_SETTLEMENT, b->id, id, sizeof id);
    ids_format(ID_ACCOUNT, b->merchant_id, merchant, sizeof merchant);
    clock_day_format(b->day, day, sizeof day);
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I}", "id", id, "object",
                     "settlement", "merchant", merchant, "date", day, "currency",
                     currency_code(b->currency), "gross", (json_int_t)b->gross, "fees",
                     (json_int_t)b->fees, "refunds", (json_int_t)b->refunds, "net",
                     (json_int_t)b->net, "count", (json_int_t)b->count, "created_at",
                     (json_int_t)b->created_at_ms);
}

/* ---- the payload ---------------------------------------------------------------------------- */

hb_err payment_open_payload(const char *payload, const keyring *keys, int64_t now_ms,
                            code_token *out, char *why, size_t why_size)
{
    size_t len = strlen(payload);
    const char *token = payload;
    size_t token_len = len;
    emv_payload emv;
    bool is_emv = len >= 6 && strncmp(payload, "000201", 6) == 0;
    if (is_emv) {
        hb_err err = emv_parse(payload, len, PAYCODE_GUID, &emv, why, why_size);
        if (err != HB_ERR_OK) return HB_ERR_INVALID_CODE;
        token = emv.token;
        token_len = strlen(emv.token);
    } else {
        const char *p = strstr(payload, "/p/");
        while (p != NULL && strstr(p + 1, "/p/") != NULL) p = strstr(p + 1, "/p/");
        if (p != NULL) {
            token = p + 3;
            token_len = strcspn(token, "?#/");
        }
    }
    hb_err err = keyring_code_open(keys, token, token_len, now_ms / 1000, out);
    if (err == HB_ERR_CODE_EXPIRED) {
        snprintf(why, why_size, "the code's token has expired: scan the code again");
        return err;
    }
    if (err != HB_ERR_OK) {
        snprintf(why, why_size, "not a payment code of this platform");
        return HB_ERR_INVALID_CODE;
    }
    if (is_emv && (emv.currency != out->currency ||
                   (out->amount != 0 && (!emv.has_amount || emv.amount_fen != out->amount)) ||
                   (out->amount == 0 && emv.has_amount))) {
        snprintf(why, why_size, "the payload's amount or currency differs from its token's");
        return HB_ERR_INVALID_CODE;
    }
    return HB_ERR_OK;
}

/* ---- pay ---------------------------------------------------------------------------------- */

static hb_err replay_pay(txn *t, command *cmd, const char *result, size_t len)
{
    payment_cmd *c = (payment_cmd *)cmd;
    (void)len;
    int64_t id = 0;
    hb_err err = ids_parse(ID_PAYMENT, result, &id);
    if (err == HB_ERR_OK) err = store_payment_get(txn_store(t), id, &c->payment);
    if (err == HB_ERR_OK) err = store_code_get(txn_store(t), c->payment.code_id, &c->code);
    if (err == HB_ERR_UNAVAILABLE) return err;
    return err == HB_ERR_OK ? HB_ERR_OK : replay_missing(t, result);
}

/* The code the token names, still taking payments. */
static hb_err check_code(txn *t, payment_cmd *c)
{
    paycode *code = &c->code;
    hb_err err = store_code_get(txn_store(t), c->token.code_id, code);
    if (err == HB_ERR_NOT_FOUND || (err == HB_ERR_OK && (code->currency != c->token.currency ||
                                                         code->amount != c->token.amount))) {
        txn_fail_detail(t, "not a payment code of this platform");
        return HB_ERR_INVALID_CODE;
    }
    if (err != HB_ERR_OK) return err;
    code_status shown = paycode_status_at(code, txn_now_ms(t));
    if (shown == CODE_USED) {
        txn_fail_detail(t, "this order has been paid already");
        return HB_ERR_CODE_USED;
    }
    if (shown == CODE_CANCELLED) {
        txn_fail_detail(t, code->kind == CODE_STATIC ? "the code has been revoked"
                                                     : "the order has been cancelled");
        return HB_ERR_CODE_EXPIRED;
    }
    if (shown == CODE_EXPIRED) {
        txn_fail_detail(t, "the order has expired");
        return HB_ERR_CODE_EXPIRED;
    }
    return HB_ERR_OK;
}

/* The merchant's rate within its tier's current range (-1 = the range's lowest). */
static int64_t fee_rate(const policy *pol, const customer *owner)
{
    const tier_policy *tp = &pol->tiers[owner->tier];
    int64_t rate = owner->fee_rate_bp < 0 ? tp->fee_min_bp : owner->fee_rate_bp;
    if (rate < tp->fee_min_bp) rate = tp->fee_min_bp;
    if (rate > tp->fee_max_bp) rate = tp->fee_max_bp;
    return rate;
}

static hb_err exec_pay(txn *t, command *cmd)
{
    payment_cmd *c = (payment_cmd *)cmd;
    hb_err err = check_code(t, c);
    if (err != HB_ERR_OK) return err;
    const paycode *code = &c->code;
    payment *p = &c->payment;
    memset(p, 0, sizeof *p);
    p->code_id = code->id;
    p->code_kind = code->kind;
    p->payer_id = c->payer_id;
    p->owner_id = code->owner_id;
    p->currency = code->currency;
    if (code->kind == CODE_DYNAMIC) {
        if (c->amount != 0 && c->amount != code->amount) {
            txn_fail_detail(t, "amount differs from the order's");
            return HB_ERR_INVALID_ARGUMENT;
        }
        p->amount = code->amount;
    } else {
        if (c->amount <= 0) {
            txn_fail_detail(t, "a static code needs the amount the payer enters");
            return HB_ERR_INVALID_ARGUMENT;
        }
        p->amount = c->amount;
    }
    snprintf(p->device, sizeof p->device, "%s", c->device);
    snprintf(p->region, sizeof p->region, "%s", c->region);
    snprintf(p->order_no, sizeof p->order_no, "%s", code->order_no);
    /* the payer first: a refused payment reveals nothing about the payee */
    const account *payer = NULL;
    err = txn_account(t, p->payer_id, &payer);
    if (err == HB_ERR_OK && (payer->kind != ACCOUNT_WALLET || payer->currency != p->currency)) {
        err = HB_ERR_NOT_FOUND;
    }
    if (err == HB_ERR_NOT_FOUND) txn_fail_detail(t, "no %s wallet: payer", currency_code(p->currency));
    if (err != HB_ERR_OK) return err;
    if (p->payer_id == p->owner_id) {
        txn_fail_detail(t, "a code cannot be paid by its own owner");
        return HB_ERR_INVALID_ARGUMENT;
    }
    p->business_day = txn_business_day(t);
    /* the risk screen before anything is charged: a refusal keeps only its case */
    const risk_event screened = {.kind = RISK_EV_PAYMENT, .actor_id = p->payer_id,
                                 .device = c->device, .code_id = code->id,
                                 .static_code = code->kind == CODE_STATIC, .amount = p->amount};
    err = risk_screen(t, &screened);
    if (err != HB_ERR_OK) return err;
    err = wallet_check_limits(t, p->payer_id, p->amount);
    if (err != HB_ERR_OK) return err;
    customer owner;
    err = store_customer_get(txn_store(t), p->owner_id, &owner);
    if (err == HB_ERR_NOT_FOUND) {
        txn_fail_detail(t, "the code's owner is gone");
        return HB_ERR_INVALID_CODE;
    }
    if (err != HB_ERR_OK) return err;
    p->settles = owner.tier != TIER_PERSONAL;
    p->credit_id = p->settles ? owner.pending_id : owner.id;
    p->fee_rate_bp = p->settles ? fee_rate(txn_policy(t), &owner) : 0;
    p->fee = money_fee_bp(p->amount, p->fee_rate_bp);
    int64_t last = 0;
    if (store_max_id(txn_store(t), STORE_SEQ_PAYMENT, &last) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    p->id = last + 1;
    char ref[IDS_TEXT_MAX];
    ids_format(ID_PAYMENT, p->id, ref, sizeof ref);
    if (p->amount > p->fee) {
        err = move(t, cmd, TRANSFER_PAYMENT, p->payer_id, p->credit_id, p->amount - p->fee, p->currency,
                   ref, &p->transfer_id);
        if (err != HB_ERR_OK) return err;
    }
    if (p->fee > 0) {
        const account *fees = NULL;
        err = fee_account(t, p->currency, &fees);
        if (err == HB_ERR_OK) {
            err = move(t, NULL, TRANSFER_PAYMENT_FEE, p->payer_id, fees->id, p->fee, p->currency, ref,
                       &p->fee_transfer_id);
        }
        if (err != HB_ERR_OK) return err;
    }
    p->created_at_ms = txn_now_ms(t);
    store *s = txn_store(t);
    if (store_payment_insert(s, p) != HB_ERR_OK || txn_row_written(t, ROWS_PAYMENT, p) != HB_ERR_OK) {
        return HB_ERR_UNAVAILABLE;
    }
    if (code->kind == CODE_DYNAMIC) {
        if (store_code_end(s, code->id, CODE_USED, p->created_at_ms) != HB_ERR_OK) {
            return HB_ERR_UNAVAILABLE;
        }
        c->code.status = CODE_USED;
        c->code.ended_at_ms = p->created_at_ms;
        const int64_t ints[] = {code->id, CODE_USED, p->created_at_ms};
        if (txn_digest_row(t, "code_end", ints, 3, NULL, 0) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    }
    if (digest_payment(t, p) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    err = risk_after_payment(t, &screened, p->owner_id);
    if (err == HB_ERR_OK) err = risk_after_movement(t, p->payer_id, p->amount, ref);
    if (err != HB_ERR_OK) return err;
    err = webhook_emit(t, p->owner_id, WEBHOOK_PAYMENT_SUCCEEDED, ref, payment_json(p));
    if (err != HB_ERR_OK) return err;
    txn_audit(t, "payment.create", ref);
    id_result(t, ID_PAYMENT, p->id);
    return HB_ERR_OK;
}

hb_err payment_prepare(payment_cmd *c, const char *actor, const char *idem_key, char *why,
                       size_t why_size)
{
    if (c->payer_id <= 0) {
        snprintf(why, why_size, "no payer");
        return HB_ERR_INVALID_ARGUMENT;
    }
    if (c->amount < 0 || c->amount > LIMIT_AMOUNT_MAX_FEN) {
        snprintf(why, why_size, "amount must be 1..%lld fen", (long long)LIMIT_AMOUNT_MAX_FEN);
        return HB_ERR_INVALID_ARGUMENT;
    }
    char canonical[LIMIT_DEVICE_LEN + LIMIT_REGION_LEN + 160];
    int n = snprintf(canonical, sizeof canonical, "payment|%lld|%lld|%lld|%lld|%zu:%s|%zu:%s",
                     (long long)c->payer_id, (long long)c->amount, (long long)c->token.code_id,
                     (long long)c->token.amount, strlen(c->device), c->device, strlen(c->region),
                     c->region);
    ASSERT(n > 0 && (size_t)n < sizeof canonical);
    hb_err err = wallet_command_init(&c->base, actor, idem_key, canonical, (size_t)n);
    if (err != HB_ERR_OK) snprintf(why, why_size, "bad actor or idempotency key");
    c->base.exec = exec_pay;
    c->base.replay = replay_pay;
    return err;
}

/* ---- refund ------------------------------------------------------------------------------- */

static hb_err replay_refund(txn *t, command *cmd, const char *result, size_t len)
{
    refund_cmd *c = (refund_cmd *)cmd;
    (void)len;
    int64_t id = 0;
    hb_err err = ids_parse(ID_REFUND, result, &id);
    if (err == HB_ERR_OK) err = store_refund_get(txn_store(t), id, &c->refund);
    if (err == HB_ERR_OK && c->refund.payment_id != c->payment_id) err = HB_ERR_NOT_FOUND;
    if (err == HB_ERR_OK) err = store_payment_get(txn_store(t), c->payment_id, &c->payment);
    if (err == HB_ERR_UNAVAILABLE) return err;
    return err == HB_ERR_OK ? HB_ERR_OK : replay_missing(t, result);
}

static hb_err exec_refund(txn *t, command *cmd)
{
    refund_cmd *c = (refund_cmd *)cmd;
    payment *p = &c->payment;
    store *s = txn_store(t);
    hb_err err = store_payment_get(s, c->payment_id, p);
    if (err == HB_ERR_OK && c->owner_id != 0 && p->owner_id != c->owner_id) err = HB_ERR_NOT_FOUND;
    if (err == HB_ERR_NOT_FOUND) txn_fail_detail(t, "no such payment");
    if (err != HB_ERR_OK) return err;
    int64_t remains = p->amount - p->refunded;
    if (c->amount > remains) {
        char text[MONEY_TEXT_MAX];
        money_format(remains, text, sizeof text);
        txn_fail_detail(t, "more than remains to refund (%s)", text);
        return HB_ERR_INVALID_ARGUMENT;
    }
    refund *r = &c->refund;
    memset(r, 0, sizeof *r);
    r->payment_id = p->id;
    r->amount = c->amount;
    /* the fee returned so far is always round_half_up(fee * refunded / amount) */
    r->fee = money_pro_rata(p->fee, p->refunded + r->amount, p->amount) - p->refunded_fee;
    ASSERT(r->fee >= 0 && r->fee <= r->amount);
    if (!p->settles || p->settlement_id == 0) {
        r->source_id = p->credit_id; /* the owner's wallet, or still pending */
    } else {
        customer owner;
        err = store_customer_get(s, p->owner_id, &owner);
        if (err != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
        r->source_id = owner.available_id;
    }
    /* the owner pays it back: a listed owner may not move money out */
    err = risk_screen(t, &(risk_event){.kind = RISK_EV_REFUND, .actor_id = p->owner_id,
                                       .amount = r->amount});
    if (err != HB_ERR_OK) return err;
    int64_t last = 0;
    if (store_max_id(s, STORE_SEQ_REFUND, &last) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    r->id = last + 1;
    char ref[IDS_TEXT_MAX];
    ids_format(ID_REFUND, r->id, ref, sizeof ref);
    if (r->amount > r->fee) {
        err = move(t, cmd, TRANSFER_REFUND, r->source_id, p->payer_id, r->amount - r->fee, p->currency,
                   ref, &r->transfer_id);
        if (err == HB_ERR_INSUFFICIENT_FUNDS) {
            txn_fail_detail(t, "the merchant's %s account lacks the refund",
                            p->settlement_id != 0 ? "available" : "pending");
        }
        if (err != HB_ERR_OK) return err;
    }
    if (r->fee > 0) {
        const account *fees = NULL;
        err = fee_account(t, p->currency, &fees);
        if (err == HB_ERR_OK) {
            err = move(t, NULL, TRANSFER_FEE_REFUND, fees->id, p->payer_id, r->fee, p->currency, ref,
                       &r->fee_transfer_id);
        }
        if (err != HB_ERR_OK) return err;
    }
    r->created_at_ms = txn_now_ms(t);
    if (store_payment_refunded(s, p->id, p->refunded, r->amount, r->fee, r->created_at_ms) !=
            HB_ERR_OK ||
        store_refund_insert(s, r) != HB_ERR_OK || txn_row_written(t, ROWS_REFUND, r) != HB_ERR_OK) {
        return HB_ERR_UNAVAILABLE;
    }
    p->refunded += r->amount;
    p->refunded_fee += r->fee;
    p->refunded_at_ms = r->created_at_ms;
    /* the refund itself is in the record's row digest; the payment's changed totals here */
    if (digest_payment(t, p) != HB_ERR_OK) {
        return HB_ERR_UNAVAILABLE;
    }
    char pay_id[IDS_TEXT_MAX];
    ids_format(ID_PAYMENT, p->id, pay_id, sizeof pay_id);
    json_t *data = payment_json(p);
    if (data != NULL) json_object_set_new(data, "refund", refund_json(r));
    err = webhook_emit(t, p->owner_id, WEBHOOK_PAYMENT_REFUNDED, pay_id, data);
    if (err != HB_ERR_OK) return err;
    txn_audit(t, "payment.refund", ref);
    id_result(t, ID_REFUND, r->id);
    return HB_ERR_OK;
}

hb_err refund_prepare(refund_cmd *c, const char *actor, const char *idem_key, char *why,
                      size_t why_size)
{
    if (c->payment_id <= 0 || c->amount <= 0 || c->amount > LIMIT_AMOUNT_MAX_FEN) {
        snprintf(why, why_size, "amount must be 1..%lld fen", (long long)LIMIT_AMOUNT_MAX_FEN);
        return HB_ERR_INVALID_ARGUMENT;
    }
    char canonical[96];
    int n = snprintf(canonical, sizeof canonical, "refund|%lld|%lld|%lld", (long long)c->payment_id,
                     (long long)c->amount, (long long)c->owner_id);
    ASSERT(n > 0 && (size_t)n < sizeof canonical);
    hb_err err = wallet_command_init(&c->base, actor, idem_key, canonical, (size_t)n);
    if (err != HB_ERR_OK) snprintf(why, why_size, "bad actor or idempotency key");
    c->base.exec = exec_refund;
    c->base.replay = replay_refund;
    return err;
}

/* ---- settlement ------------------------------------------------------------------------------ */

static hb_err exec_settle(txn *t, command *cmd)
{
    settle_cmd *c = (settle_cmd *)cmd;
    c->created = 0;
    c->skipped = 0;
    c->considered = 0;
    c->last_merchant = c->after;
    if (c->day >= txn_business_day(t)) {
        char day[16];
        clock_day_format(c->day, day, sizeof day);
        txn_fail_detail(t, "business day %s has not ended", day);
        return HB_ERR_INVALID_ARGUMENT;
    }
    store *s = txn_store(t);
    int count = 0;
    if (store_settle_due(s, c->day, c->after, LIMIT_SETTLE_PAGE, c->batches, &count) != HB_ERR_OK) {
        return HB_ERR_UNAVAILABLE;
    }
    c->considered = count;
    if (count > 0) c->last_merchant = c->batches[count - 1].merchant_id;
    int64_t last = 0;
    if (count > 0 && store_max_id(s, STORE_SEQ_SETTLEMENT, &last) != HB_ERR_OK) {
        return HB_ERR_UNAVAILABLE;
    }
    for (int i = 0; i < count; i++) {
        settlement b = c->batches[i];
        b.id = last + 1 + c->created;
        b.created_at_ms = txn_now_ms(t);
        customer owner;
        hb_err err = store_customer_get(s, b.merchant_id, &owner);
        if (err != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
        char ref[IDS_TEXT_MAX];
        ids_format(ID_SETTLEMENT, b.id, ref, sizeof ref);
        if (b.net > 0) {
            err = move(t, NULL, TRANSFER_SETTLEMENT, b.pending_id, owner.available_id, b.net,
                       b.currency, ref, &b.transfer_id);
            if (err == HB_ERR_UNAVAILABLE) return err;
            if (err != HB_ERR_OK) {
                /* the ledger refused it before writing anything: leave this merchant's
                 * payments for a later run, settle the others */
                if (c->skipped++ == 0) {
                    snprintf(c->skip_detail, sizeof c->skip_detail, "acct_%lld: %.120s",
                             (long long)b.merchant_id, cmd->err_detail);
                }
                cmd->err_detail[0] = '\0';
                continue;
            }
        }
        if (store_settlement_insert(s, &b) != HB_ERR_OK ||
            txn_row_written(t, ROWS_SETTLEMENT, &b) != HB_ERR_OK) {
            return HB_ERR_UNAVAILABLE;
        }
        c->batches[c->created++] = b;
    }
    cmd->bookkeeping = c->created == 0; /* nothing settled: no audit record */
    if (c->created == 0) return HB_ERR_OK;
    char day[16];
    clock_day_format(c->day, day, sizeof day);
    txn_audit(t, "settlement.run", day);
    return HB_ERR_OK;
}

static hb_err replay_settle(txn *t, command *cmd, const char *result, size_t len)
{
    (void)t, (void)cmd, (void)result, (void)len;
    return HB_ERR_OK;
}

hb_err settle_prepare(settle_cmd *c, int64_t day, int64_t after, const char *actor)
{
    memset(c, 0, sizeof *c);
    c->day = day;
    c->after = after;
    char canonical[64];
    int n = snprintf(canonical, sizeof canonical, "settle|%lld|%lld", (long long)day,
                     (long long)after);
    hb_err err = wallet_command_init(&c->base, actor, NULL, canonical, (size_t)n);
    c->base.exec = exec_settle;
    c->base.replay = replay_settle;
    return err;
}

hb_err payment_settle_day(engine *e, int64_t day, const char *actor, int *batches, int *skipped,
                          char *detail, size_t detail_size)
{
    *batches = 0;
    *skipped = 0;
    detail[0] = '\0';
    settle_cmd *c = malloc(sizeof *c);
    if (c == NULL) return HB_ERR_UNAVAILABLE;
    hb_err err = HB_ERR_OK;
    int64_t after = 0;
    for (;;) {
        err = settle_prepare(c, day, after, actor);
        if (err == HB_ERR_OK) err = engine_submit(e, &c->base);
        if (err != HB_ERR_OK) {
            snprintf(detail, detail_size, "%s", c->base.err_detail);
            break;
        }
        *batches += c->created;
        if (c->skipped > 0 && *skipped == 0) snprintf(detail, detail_size, "%s", c->skip_detail);
        *skipped += c->skipped;
        if (c->considered < LIMIT_SETTLE_PAGE) break;
        after = c->last_merchant;
    }
    free(c);
    return err;
}

/* ---- the settlement file -------------------------------------------------------------------- */

/* A line formatted into line[] (n as snprintf returned) to the sink, unless it did not fit. */
static bool csv_emit(csv_sink sink, void *ctx, const char *line, int n, size_t size)
{
    return n > 0 && (size_t)n < size && sink(ctx, line, (size_t)n);
}

hb_err settlement_csv(store *reader, const settlement *b, csv_sink sink, void *ctx)
{
    char day[16], stl[IDS_TEXT_MAX];
    clock_day_format(b->day, day, sizeof day);
    ids_format(ID_SETTLEMENT, b->id, stl, sizeof stl);
    static const char header[] = "settlement,date,payment,created_at,code,order_no,currency,"
                                 "amount,fee,refunded,refunded_fee,net\r\n";
    if (!sink(ctx, header, sizeof header - 1)) return HB_ERR_UNAVAILABLE;
    char line[512];
    payment_filter f = {.settlement_id = b->id};
    payment *rows = malloc(sizeof *rows * 200);
    if (rows == NULL) return HB_ERR_UNAVAILABLE;
    int64_t after = 0, sums[5] = {0}; /* amount, fee, refunded, refunded fee, net */
    hb_err err = HB_ERR_OK;
    for (;;) {
        int count = 0;
        err = store_payment_list(reader, &f, after, 200, rows, &count);
        if (err != HB_ERR_OK) break;
        for (int i = 0; i < count; i++) {
            const payment *p = &rows[i];
            /* as the batch took it: later refunds came from available, not from the batch */
            int64_t back = p->settled_refunded, back_fee = p->settled_refunded_fee;
            int64_t line_net = p->amount - p->fee - back + back_fee;
            char amount[MONEY_TEXT_MAX], fee[MONEY_TEXT_MAX], refunded[MONEY_TEXT_MAX],
                refunded_fee[MONEY_TEXT_MAX], net[MONEY_TEXT_MAX];
            money_format(p->amount, amount, sizeof amount);
            money_format(p->fee, fee, sizeof fee);
            money_format(back, refunded, sizeof refunded);
            money_format(back_fee, refunded_fee, sizeof refunded_fee);
            money_format(line_net, net, sizeof net);
            /* order numbers are printable ASCII; quote them, doubling quotes (RFC 4180) */
            char order[2 * LIMIT_ORDER_NO_LEN + 3];
            size_t o = 0;
            order[o++] = '"';
            for (const char *q = p->order_no; *q; q++) {
                if (*q == '"') order[o++] = '"';
                order[o++] = *q;
            }
            order[o++] = '"';
            order[o] = '\0';
            int n = snprintf(line, sizeof line, "%s,%s,pay_%lld,%lld,code_%lld,%s,%s,%s,%s,%s,%s,%s\r\n",
                             stl, day, (long long)p->id, (long long)p->created_at_ms,
                             (long long)p->code_id, order, currency_code(p->currency), amount,
                             fee, refunded, refunded_fee, net);
            if (!csv_emit(sink, ctx, line, n, sizeof line)) {
                err = HB_ERR_UNAVAILABLE;
                break;
            }
            sums[0] += p->amount;
            sums[1] += p->fee;
            sums[2] += back;
            sums[3] += back_fee;
            sums[4] += line_net;
            after = p->id;
        }
        if (err != HB_ERR_OK || count < 200) break;
    }
    free(rows);
    if (err != HB_ERR_OK) return err;
    /* the lines add up to the batch, or the store was changed under it */
    if (sums[0] != b->gross || sums[1] - sums[3] != b->fees || sums[2] != b->refunds ||
        sums[4] != b->net) {
        return HB_ERR_UNAVAILABLE;
    }
    char text[5][MONEY_TEXT_MAX];
    for (int i = 0; i < 5; i++) money_format(sums[i], text[i], sizeof text[i]);
    int n = snprintf(line, sizeof line, "%s,%s,total,,,,%s,%s,%s,%s,%s,%s\r\n", stl, day,
                     currency_code(b->currency), text[0], text[1], text[2], text[3], text[4]);
    if (!csv_emit(sink, ctx, line, n, sizeof line)) return HB_ERR_UNAVAILABLE;
    return HB_ERR_OK;
}
