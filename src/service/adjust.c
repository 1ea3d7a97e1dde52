#include "service/adjust.h"

#include <stdio.h>
#include <string.h>

#include "core/ids.h"
#include "core/money.h"
#include "core/text.h"
#include "service/wallet.h"

static const char *const status_names[] = {"", "proposed", "approved", "rejected"};

const char *adjust_status_name(adjustment_status s)
{
    return s >= ADJUSTMENT_PROPOSED && s <= ADJUSTMENT_REJECTED ? status_names[s] : "";
}

adjustment_status adjust_status_parse(const char *name)
{
    for (int i = ADJUSTMENT_PROPOSED; i <= ADJUSTMENT_REJECTED; i++) {
        if (strcmp(name, status_names[i]) == 0) return (adjustment_status)i;
    }
    return (adjustment_status)0;
}

/* An account a correction may touch: a wallet, a merchant's available account, fee revenue. */
static hb_err correctable(txn *t, int64_t id, currency *cur, const char *side)
{
    const account *a = NULL;
    hb_err err = txn_account(t, id, &a);
    if (err == HB_ERR_NOT_FOUND) {
        txn_fail_detail(t, "no such account: %s", side);
        return err;
    }
    if (err != HB_ERR_OK) return err;
    if (a->kind != ACCOUNT_WALLET && a->kind != ACCOUNT_MERCHANT_AVAILABLE &&
        a->kind != ACCOUNT_FEE_REVENUE) {
        txn_fail_detail(t, "the %s is a %s account: correct it through what feeds it", side,
                        account_kind_name(a->kind));
        return HB_ERR_INVALID_ARGUMENT;
    }
    if (*cur == CURRENCY_NONE) *cur = a->currency;
    if (a->currency != *cur) {
        txn_fail_detail(t, "the %s holds %s", side, currency_code(a->currency));
        return HB_ERR_INVALID_ARGUMENT;
    }
    return HB_ERR_OK;
}

static hb_err digest_adjustment(txn *t, const adjustment *a)
{
    const int64_t ints[] = {a->id,     a->debit_id,       a->credit_id,     a->amount,
                            a->status, a->proposed_at_ms, a->decided_at_ms, a->transfer_id};
    const char *const texts[] = {currency_code(a->currency), a->reason, a->proposed_by,
                                 a->decided_by, a->note};
    return txn_digest_row(t, "adjustment", ints, 8, texts, 5);
}

static void adjustment_result(txn *t, int64_t id)
{
    char text[IDS_TEXT_MAX];
    int n = ids_format(ID_ADJUSTMENT, id, text, sizeof text);
    txn_set_result(t, text, (size_t)n);
}

static hb_err exec_propose(txn *t, command *cmd)
{
    adjust_propose_cmd *c = (adjust_propose_cmd *)cmd;
    adjustment *a = &c->adj;
    hb_err err = correctable(t, a->debit_id, &a->currency, "account debited");
    if (err == HB_ERR_OK) err = correctable(t, a->credit_id, &a->currency, "account credited");
    if (err != HB_ERR_OK) return err;
    int64_t last = 0;
    if (store_max_id(txn_store(t), STORE_SEQ_ADJUSTMENT, &last) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    a->id = last + 1;
    a->status = ADJUSTMENT_PROPOSED;
    snprintf(a->proposed_by, sizeof a->proposed_by, "%s", cmd->actor);
    a->proposed_at_ms = txn_now_ms(t);
    a->decided_by[0] = '\0';
    a->decided_at_ms = 0;
    a->note[0] = '\0';
    a->transfer_id = 0;
    if (store_adjustment_insert(txn_store(t), a) != HB_ERR_OK || digest_adjustment(t, a) != HB_ERR_OK) {
        return HB_ERR_UNAVAILABLE;
    }
    char object[IDS_TEXT_MAX];
    ids_format(ID_ADJUSTMENT, a->id, object, sizeof object);
    txn_audit(t, "adjustment.propose", object);
    adjustment_result(t, a->id);
    return HB_ERR_OK;
}

static hb_err replay_propose(txn *t, command *cmd, const char *result, size_t len)
{
    (void)len;
    adjust_propose_cmd *c = (adjust_propose_cmd *)cmd;
    int64_t id = 0;
    if (ids_parse(ID_ADJUSTMENT, result, &id) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    hb_err err = store_adjustment_get(txn_store(t), id, &c->adj);
    return err == HB_ERR_OK ? HB_ERR_OK : HB_ERR_UNAVAILABLE;
}

hb_err adjust_propose_prepare(adjust_propose_cmd *c, const char *actor, const char *idem_key,
                              char *why, size_t why_size)
{
    adjustment *a = &c->adj;
    if (money_check_amount(a->amount, LIMIT_AMOUNT_MAX_FEN) != HB_ERR_OK) {
        snprintf(why, why_size, "the amount must be 1 fen or more");
        return HB_ERR_INVALID_ARGUMENT;
    }
    if (a->debit_id <= 0 || a->credit_id <= 0 || a->debit_id == a->credit_id) {
        snprintf(why, why_size, "from and to must be two accounts");
        return HB_ERR_INVALID_ARGUMENT;
    }
    if (!text_valid(a->reason, LIMIT_ERR_DETAIL_LEN, false)) {
        snprintf(why, why_size, "a reason (1..%d bytes of UTF-8) is required", LIMIT_ERR_DETAIL_LEN);
        return HB_ERR_INVALID_ARGUMENT;
    }
    char canonical[LIMIT_ERR_DETAIL_LEN + 128];
    int n = snprintf(canonical, sizeof canonical, "adjustment.propose|%lld|%lld|%lld|%s|%s",
                     (long long)a->debit_id, (long long)a->credit_id, (long long)a->amount,
                     currency_code(a->currency), a->reason);
    ASSERT(n > 0 && (size_t)n < sizeof canonical);
    hb_err err = wallet_command_init(&c->base, actor, idem_key, canonical, (size_t)n);
    c->base.exec = exec_propose;
    c->base.replay = replay_propose;
    return err;
}

static hb_err exec_decide(txn *t, command *cmd)
{
    adjust_decide_cmd *c = (adjust_decide_cmd *)cmd;
    adjustment *a = &c->adj;
    store *s = txn_store(t);
    hb_err err = store_adjustment_get(s, c->id, a);
    if (err == HB_ERR_NOT_FOUND) txn_fail_detail(t, "no such adjustment");
    if (err != HB_ERR_OK) return err;
    if (a->status != ADJUSTMENT_PROPOSED) {
        txn_fail_detail(t, "the adjustment was %s already", adjust_status_name(a->status));
        return HB_ERR_ALREADY_DECIDED;
    }
    if (c->approve && strcmp(a->proposed_by, cmd->actor) == 0) {
        txn_fail_detail(t, "the proposer may not approve its own adjustment: another admin must");
        return HB_ERR_FORBIDDEN;
    }
    if (c->approve && c->approver_since_ms > a->proposed_at_ms) {
        txn_fail_detail(t, "a browser session begun after the proposal may not approve it");
        return HB_ERR_FORBIDDEN;
    }
    if (c->approve && strncmp(cmd->actor, "web:", 4) == 0 && c->approver_since_ms == 0) {
        return HB_ERR_FORBIDDEN; /* a browser session always says when it began */
    }
    if (c->approve && strncmp(cmd->actor, "key:", 4) == 0) {
        /* a key made after the proposal (which the proposer may have made for itself) may not
         * approve it: the checker must hold a key it had before */
        api_key k;
        err = store_key_get(s, cmd->actor + 4, &k);
        if (err != HB_ERR_OK && err != HB_ERR_NOT_FOUND) return HB_ERR_UNAVAILABLE;
        if (err == HB_ERR_NOT_FOUND || k.created_at_ms > a->proposed_at_ms) {
            txn_fail_detail(t, "a key made after the proposal may not approve it");
            return HB_ERR_FORBIDDEN;
        }
    }
    char object[IDS_TEXT_MAX];
    ids_format(ID_ADJUSTMENT, a->id, object, sizeof object);
    if (c->approve) {
        transfer tr = {.debit_id = a->debit_id, .credit_id = a->credit_id, .amount = a->amount,
                       .currency = a->currency, .kind = TRANSFER_ADJUSTMENT};
        snprintf(tr.reference, sizeof tr.reference, "%s", object);
        err = txn_transfer(t, &tr);
        if (err != HB_ERR_OK) return err;
        a->transfer_id = tr.id;
    }
    a->status = c->approve ? ADJUSTMENT_APPROVED : ADJUSTMENT_REJECTED;
    snprintf(a->decided_by, sizeof a->decided_by, "%s", cmd->actor);
    a->decided_at_ms = txn_now_ms(t);
    snprintf(a->note, sizeof a->note, "%s", c->note);
    err = store_adjustment_decide(s, a);
    if (err == HB_ERR_NOT_FOUND) { /* another node decided it in between */
        txn_fail_detail(t, "the adjustment was decided already");
        return HB_ERR_ALREADY_DECIDED;
    }
    if (err != HB_ERR_OK || digest_adjustment(t, a) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    txn_audit(t, c->approve ? "adjustment.approve" : "adjustment.reject", object);
    adjustment_result(t, a->id);
    return HB_ERR_OK;
}

hb_err adjust_decide_prepare(adjust_decide_cmd *c, const char *actor, char *why, size_t why_size)
{
    if (c->id <= 0) {
        snprintf(why, why_size, "no such adjustment");
        return HB_ERR_NOT_FOUND;
    }
    if (!text_valid(c->note, LIMIT_ERR_DETAIL_LEN, true)) {
        snprintf(why, why_size, "the note must be valid UTF-8");
        return HB_ERR_INVALID_ARGUMENT;
    }
    char canonical[64];
    int n = snprintf(canonical, sizeof canonical, "adjustment.%s|%lld",
                     c->approve ? "approve" : "reject", (long long)c->id);
    hb_err err = wallet_command_init(&c->base, actor, NULL, canonical, (size_t)n);
    c->base.exec = exec_decide;
    return err;
}

json_t *adjust_json(const adjustment *a)
{
    char id[IDS_TEXT_MAX], from[IDS_TEXT_MAX], to[IDS_TEXT_MAX], tr[IDS_TEXT_MAX];
    ids_format(ID_ADJUSTMENT, a->id, id, sizeof id);
    ids_format(ID_ACCOUNT, a->debit_id, from, sizeof from);
    ids_format(ID_ACCOUNT, a->credit_id, to, sizeof to);
    if (a->transfer_id > 0) ids_format(ID_TRANSFER, a->transfer_id, tr, sizeof tr);
    json_t *o = json_pack("{s:s,s:s,s:s,s:I,s:s,s:s,s:s,s:s,s:I}", "id", id, "from", from, "to", to,
                          "amount", (json_int_t)a->amount, "currency", currency_code(a->currency),
                          "reason", a->reason, "status", adjust_status_name(a->status),
                          "proposed_by", a->proposed_by, "proposed_at", (json_int_t)a->proposed_at_ms);
    bool decided = a->status != ADJUSTMENT_PROPOSED;
    json_object_set_new(o, "decided_by", decided ? json_string(a->decided_by) : json_null());
    json_object_set_new(o, "decided_at", decided ? json_integer(a->decided_at_ms) : json_null());
    json_object_set_new(o, "note", decided ? json_string(a->note) : json_null());
    json_object_set_new(o, "transfer", a->transfer_id > 0 ? json_string(tr) : json_null());
    return o;
}
