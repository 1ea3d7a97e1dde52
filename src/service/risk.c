#include "service/risk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ids.h"
#include "core/text.h"
#include "core/clock.h"
#include "core/csv.h"
#include "core/money.h"
#include "service/customer.h"
#include "service/wallet.h"

static const char *const kind_names[] = {"", "accounts", "devices", "codes"};

const char *risk_list_kind_name(risk_list_kind k)
{
    return k >= RISK_LIST_ACCOUNT && k <= RISK_LIST_CODE ? kind_names[k] : "";
}

risk_list_kind risk_list_kind_parse(const char *name)
{
    for (int k = RISK_LIST_ACCOUNT; k <= RISK_LIST_CODE; k++) {
        if (strcmp(kind_names[k], name) == 0) return (risk_list_kind)k;
    }
    return (risk_list_kind)0;
}

hb_err risk_case_record(txn *t, int64_t account_id, const char *rule, const char *object,
                        const char *decision, const char *reason)
{
    store *s = txn_store(t);
    int64_t now = txn_now_ms(t);
    risk_case c;
    hb_err err = store_case_find_open(s, account_id, rule, object, &c);
    if (err == HB_ERR_OK) {
        err = store_case_touch(s, c.id, now, decision, reason);
    } else if (err == HB_ERR_NOT_FOUND) {
        int64_t last = 0;
        err = store_max_id(s, STORE_SEQ_CASE, &last);
        memset(&c, 0, sizeof c);
        c.id = last + 1;
        c.account_id = account_id;
        snprintf(c.rule, sizeof c.rule, "%s", rule);
        snprintf(c.object, sizeof c.object, "%s", object);
        snprintf(c.decision, sizeof c.decision, "%s", decision);
        snprintf(c.reason, sizeof c.reason, "%s", reason);
        c.events = 1;
        c.first_at_ms = now;
        c.last_at_ms = now;
        if (err == HB_ERR_OK) err = store_case_insert(s, &c);
    }
    if (err != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    const int64_t ints[] = {c.id, account_id, now};
    const char *const texts[] = {rule, object, decision, reason};
    return txn_digest_row(t, "risk_case_event", ints, 3, texts, 4);
}

static bool live(const txn *t, const risk_list_entry *e)
{
    return e->expires_at_ms == 0 || e->expires_at_ms > txn_now_ms(t);
}

/* Refuse with err, keeping the case opened for it. */
static hb_err refuse(txn *t, int64_t account_id, const char *rule, const char *object,
                     const char *decision, hb_err err, const char *reason)
{
    hb_err rec = risk_case_record(t, account_id, rule, object, decision, reason);
    if (rec != HB_ERR_OK) return rec;
    txn_fail_detail(t, "%s", reason);
    char subject[IDS_TEXT_MAX];
    ids_format(ID_ACCOUNT, account_id, subject, sizeof subject);
    txn_audit(t, "risk.refuse", subject);
    txn_keep_refusal(t);
    return err;
}

/* Device binding: an account's first money movement from a device binds them; a device
 * already bound to [risk] device_accounts accounts within the window takes no more. The
 * binding is written with the movement (a failed movement binds nothing). bindings are the
 * device's, read once for this rule and the multi-account rule; *bound says whether the actor
 * was bound before. */
static hb_err bind_device(txn *t, const risk_event *ev, const device_binding *bindings, int n,
                          bool *bound)
{
    const policy *pol = txn_policy(t);
    store *s = txn_store(t);
    int64_t now = txn_now_ms(t), since = now - pol->risk_device_window_s * 1000, count = 0;
    *bound = false;
    for (int i = 0; i < n; i++) {
        *bound |= bindings[i].account_id == ev->actor_id;
        count += bindings[i].first_at_ms > since;
    }
    if (n == LIMIT_DEVICE_BINDINGS && !*bound) {
        /* a device with more bindings than were read: ask the store exactly */
        if (store_binding_exists(s, ev->device, ev->actor_id, bound) != HB_ERR_OK ||
            store_binding_count(s, ev->device, since, &count) != HB_ERR_OK) {
            return HB_ERR_UNAVAILABLE;
        }
    }
    if (*bound) {
        return store_binding_used(s, ev->device, ev->actor_id, now) == HB_ERR_OK
                   ? HB_ERR_OK
                   : HB_ERR_UNAVAILABLE;
    }
    if (pol->risk_device_accounts > 0 && count >= pol->risk_device_accounts) {
        return refuse(t, ev->actor_id, "device.binding", "", "block", HB_ERR_RISK_BLOCKED,
                      "this device is linked to too many accounts already");
    }
    if (store_binding_insert(s, ev->device, ev->actor_id, now) != HB_ERR_OK) {
        return HB_ERR_UNAVAILABLE;
    }
    const int64_t ints[] = {ev->actor_id, now};
    const char *const texts[] = {ev->device};
    return txn_digest_row(t, "device_binding", ints, 2, texts, 1);
}

static hb_err large_report_add(txn *t, int64_t account_id, int kind, int64_t amount,
                               const char *reference);

/* The night pattern: small payments between 00:00 and 06:00 (the policy's zone), counted in
 * windows of night_window_s from the first; the night_count-th freezes the account, opens a
 * case and a suspicious-pattern report, and is refused ACCOUNT_FROZEN. */
static hb_err night_rule(txn *t, const risk_event *ev)
{
    const policy *pol = txn_policy(t);
    if (pol->risk_night_count <= 0 || ev->amount <= 0 || ev->amount >= pol->risk_night_below) {
        return HB_ERR_OK;
    }
    if (txn_minute_of_day(t) >= 360) return HB_ERR_OK; /* 06:00 */
    int64_t now = txn_now_ms(t);
    const account *a = NULL;
    hb_err err = txn_account(t, ev->actor_id, &a);
    if (err != HB_ERR_OK) return err;
    if (a->status != ACCOUNT_ACTIVE) return HB_ERR_OK; /* the ledger refuses it as it is */
    store *s = txn_store(t);
    int64_t start = 0, count = 0;
    err = store_night_get(s, ev->actor_id, &start, &count);
    if (err == HB_ERR_NOT_FOUND || (err == HB_ERR_OK && now - start >= pol->risk_night_window_s * 1000)) {
        start = now;
        count = 0;
        err = HB_ERR_OK;
    }
    if (err != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    count++;
    if (store_night_put(s, ev->actor_id, start, count) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    const int64_t ints[] = {ev->actor_id, start, count};
    if (txn_digest_row(t, "night_count", ints, 3, NULL, 0) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    if (count < pol->risk_night_count) return HB_ERR_OK;
    /* the count starts again: an account unfrozen by the operator is not frozen at once */
    if (store_night_put(s, ev->actor_id, now, 0) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    err = txn_account_set_status(t, ev->actor_id, ACCOUNT_FROZEN, a->restricted_until_ms);
    char reason[LIMIT_ERR_DETAIL_LEN + 1];
    snprintf(reason, sizeof reason, "%lld small payments between 00:00 and 06:00 within %lld s",
             (long long)count, (long long)pol->risk_night_window_s);
    if (err == HB_ERR_OK) err = risk_case_record(t, ev->actor_id, "night_pattern", "", "freeze", reason);
    if (err == HB_ERR_OK) err = large_report_add(t, ev->actor_id, 3, ev->amount, "night_pattern");
    if (err != HB_ERR_OK) return err;
    txn_fail_detail(t, "this account is frozen; contact the operator");
    char subject[IDS_TEXT_MAX];
    ids_format(ID_ACCOUNT, ev->actor_id, subject, sizeof subject);
    txn_audit(t, "risk.freeze", subject);
    txn_keep_refusal(t);
    return HB_ERR_ACCOUNT_FROZEN;
}

/* Multi-account device: [risk] multi_accounts accounts moving money from one device within
 * multi_window_s are all restricted for restrict_days, each with its case; the movement that
 * shows it is refused ACCOUNT_RESTRICTED (an account restricted already is left to the
 * ledger, which refuses it the same way). */
static hb_err multi_account(txn *t, const risk_event *ev, const device_binding *bindings, int n)
{
    const policy *pol = txn_policy(t);
    if (pol->risk_multi_accounts <= 0) return HB_ERR_OK;
    int64_t now = txn_now_ms(t);
    const account *actor = NULL;
    hb_err err = txn_account(t, ev->actor_id, &actor);
    if (err != HB_ERR_OK) return err;
    if (actor->restricted_until_ms > now) return HB_ERR_OK;
    /* the accounts that moved money from the device within the window: the actor, now, and
     * the others by their last movement */
    int64_t since = now - pol->risk_multi_window_s * 1000, ids[LIMIT_DEVICE_BINDINGS + 1];
    int count = 0;
    ids[count++] = ev->actor_id;
    for (int i = 0; i < n; i++) {
        if (bindings[i].account_id != ev->actor_id && bindings[i].last_at_ms > since) {
            ids[count++] = bindings[i].account_id;
        }
    }
    if (count < pol->risk_multi_accounts) return HB_ERR_OK;
    int64_t until = now + pol->risk_restrict_days * 86400000;
    char reason[LIMIT_ERR_DETAIL_LEN + 1];
    snprintf(reason, sizeof reason, "%d accounts moved money from one device within %lld s", count,
             (long long)pol->risk_multi_window_s);
    for (int i = 0; i < count; i++) {
        const account *a = NULL;
        err = txn_account(t, ids[i], &a);
        if (err == HB_ERR_NOT_FOUND) continue;
        if (err == HB_ERR_OK && a->restricted_until_ms < until) {
            err = txn_account_set_status(t, ids[i], a->status, until);
        }
        if (err == HB_ERR_OK) err = risk_case_record(t, ids[i], "multi_account", "", "restrict", reason);
        if (err != HB_ERR_OK) return err;
    }
    txn_fail_detail(t, "this account is restricted for %lld days; contact the operator",
                    (long long)pol->risk_restrict_days);
    char subject[IDS_TEXT_MAX];
    ids_format(ID_ACCOUNT, ev->actor_id, subject, sizeof subject);
    txn_audit(t, "risk.restrict", subject);
    txn_keep_refusal(t);
    return HB_ERR_ACCOUNT_RESTRICTED;
}

/* The static-code cap: a payer paying more than [payments] static_daily_cap in a business day
 * through static codes is blocked (dynamic codes carry the tier's limits only). */
static hb_err static_cap(txn *t, const risk_event *ev)
{
    int64_t so_far = 0;
    if (store_static_day_get(txn_store(t), ev->actor_id, txn_business_day(t), &so_far) !=
        HB_ERR_OK) {
        return HB_ERR_UNAVAILABLE;
    }
    int64_t cap = txn_policy(t)->static_daily_cap;
    if (so_far + ev->amount <= cap) return HB_ERR_OK;
    char text[MONEY_TEXT_MAX], reason[LIMIT_ERR_DETAIL_LEN + 1], date[16];
    money_format(cap, text, sizeof text);
    snprintf(reason, sizeof reason, "above the %s a day a payer may pay through static codes", text);
    clock_day_format(txn_business_day(t), date, sizeof date);
    return refuse(t, ev->actor_id, "static_cap", date, "block", HB_ERR_RISK_BLOCKED, reason);
}

/* The lists: the actor, the device and the code in one read. */
static hb_err screen_lists(txn *t, const risk_event *ev, bool device)
{
    char account_id[IDS_TEXT_MAX], code[IDS_TEXT_MAX] = "";
    ids_format(ID_ACCOUNT, ev->actor_id, account_id, sizeof account_id);
    if (ev->code_id > 0) ids_format(ID_CODE, ev->code_id, code, sizeof code);
    risk_list_entry hits[3];
    int n = 0;
    if (store_list_screen(txn_store(t), account_id, device ? ev->device : "", code,
                          txn_now_ms(t), hits, &n) != HB_ERR_OK) {
        return HB_ERR_UNAVAILABLE;
    }
    const risk_list_entry *by_kind[RISK_LIST_CODE + 1] = {NULL};
    for (int i = 0; i < n; i++) {
        if (live(t, &hits[i])) by_kind[hits[i].kind] = &hits[i];
    }
    if (by_kind[RISK_LIST_ACCOUNT] != NULL) {
        return refuse(t, ev->actor_id, "blacklist.account", "", "block", HB_ERR_RISK_BLOCKED,
                      "this account may not move money; contact the operator");
    }
    if (by_kind[RISK_LIST_DEVICE] != NULL) {
        return refuse(t, ev->actor_id, "blacklist.device", "", "block", HB_ERR_RISK_BLOCKED,
                      "this device may not move money; contact the operator");
    }
    if (by_kind[RISK_LIST_CODE] != NULL && by_kind[RISK_LIST_CODE]->fuse) {
        return refuse(t, ev->actor_id, "fused.code", code, "block", HB_ERR_CODE_FUSED,
                      "this code has been stopped; ask the merchant for another");
    }
    if (by_kind[RISK_LIST_CODE] != NULL) {
        return refuse(t, ev->actor_id, "blacklist.code", code, "block", HB_ERR_RISK_BLOCKED,
                      "this code may not be paid; contact the operator");
    }
    return HB_ERR_OK;
}

hb_err risk_screen(txn *t, const risk_event *ev)
{
    const policy *pol = txn_policy(t);
    if (!pol->risk_enabled) return HB_ERR_OK;
    bool device = ev->device != NULL && ev->device[0] != '\0';
    /* the lists first: a refusal by a list keeps no binding, count or restriction */
    hb_err err = screen_lists(t, ev, device);
    if (err == HB_ERR_OK && ev->kind == RISK_EV_PAYMENT && ev->static_code) err = static_cap(t, ev);
    if (err != HB_ERR_OK) return err;
    /* then the rules that keep state */
    if (device && (pol->risk_device_accounts > 0 || pol->risk_multi_accounts > 0)) {
        device_binding bindings[LIMIT_DEVICE_BINDINGS];
        int n = 0;
        bool bound = false;
        /* all of them at once; a device with more: the latest used (the multi-account rule
         * looks at those), and bind_device asks the store for the rest */
        store *s = txn_store(t);
        if (store_binding_all(s, ev->device, false, LIMIT_DEVICE_BINDINGS, bindings, &n) != HB_ERR_OK ||
            (n == LIMIT_DEVICE_BINDINGS &&
             store_binding_all(s, ev->device, true, LIMIT_DEVICE_BINDINGS, bindings, &n) != HB_ERR_OK)) {
            return HB_ERR_UNAVAILABLE;
        }
        err = bind_device(t, ev, bindings, n, &bound);
        if (err == HB_ERR_OK) err = multi_account(t, ev, bindings, n);
        if (err != HB_ERR_OK) return err;
    }
    bool outgoing = ev->kind == RISK_EV_TRANSFER || ev->kind == RISK_EV_WITHDRAW ||
                    ev->kind == RISK_EV_PACKET || ev->kind == RISK_EV_PAYMENT;
    return outgoing ? night_rule(t, ev) : HB_ERR_OK;
}

hb_err risk_after_payment(txn *t, const risk_event *ev, int64_t owner_id)
{
    const policy *pol = txn_policy(t);
    store *s = txn_store(t);
    if (ev->static_code) { /* counted with the rules off too: turned on mid-day, the cap holds */
        if (store_static_day_add(s, ev->actor_id, txn_business_day(t), ev->amount) != HB_ERR_OK) {
            return HB_ERR_UNAVAILABLE;
        }
        const int64_t ints[] = {ev->actor_id, txn_business_day(t), ev->amount};
        if (txn_digest_row(t, "static_day", ints, 3, NULL, 0) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    }
    if (!pol->risk_enabled) return HB_ERR_OK;
    int64_t limit = pol->risk_same_amount_run, code_id = ev->code_id, amount = ev->amount;
    if (limit <= 0) return HB_ERR_OK;
    int64_t last = 0, run_length = 0;
    hb_err err = store_code_run_get(s, code_id, &last, &run_length);
    if (err == HB_ERR_NOT_FOUND) {
        last = 0;
        run_length = 0;
        err = HB_ERR_OK;
    }
    if (err != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    run_length = last == amount ? run_length + 1 : 1;
    if (store_code_run_put(s, code_id, amount, run_length) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    const int64_t ints[] = {code_id, amount, run_length};
    if (txn_digest_row(t, "code_run", ints, 3, NULL, 0) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    if (run_length < limit) return HB_ERR_OK; /* (>: a run the limit was lowered under) */
    /* the limit-th payment of one amount in a row is accepted; the code stops taking more */
    risk_list_entry e;
    memset(&e, 0, sizeof e);
    e.kind = RISK_LIST_CODE;
    ids_format(ID_CODE, code_id, e.value, sizeof e.value);
    e.fuse = true;
    snprintf(e.reason, sizeof e.reason, "%lld payments of the same amount in a row",
             (long long)run_length);
    e.created_at_ms = txn_now_ms(t);
    e.expires_at_ms = e.created_at_ms + pol->risk_fuse_s * 1000; /* it ends by itself */
    snprintf(e.created_by, sizeof e.created_by, "rule:same_amount");
    /* the run starts afresh: when the fuse ends, the code counts from its next payment */
    if (store_list_put(s, &e) != HB_ERR_OK || store_code_run_put(s, code_id, 0, 0) != HB_ERR_OK) {
        return HB_ERR_UNAVAILABLE;
    }
    const int64_t fuse_ints[] = {RISK_LIST_CODE, 1, e.expires_at_ms, e.created_at_ms};
    const char *const fuse_texts[] = {e.value, e.reason, e.created_by};
    const int64_t run_ints[] = {code_id, 0, 0};
    if (txn_digest_row(t, "risk_list", fuse_ints, 4, fuse_texts, 3) != HB_ERR_OK ||
        txn_digest_row(t, "code_run", run_ints, 3, NULL, 0) != HB_ERR_OK) {
        return HB_ERR_UNAVAILABLE;
    }
    txn_risk_note(t, "fuse", "the code takes no more payments; the merchant should show another");
    return risk_case_record(t, owner_id, "same_amount", e.value, "fuse", e.reason);
}

static hb_err large_report_add(txn *t, int64_t account_id, int kind, int64_t amount,
                               const char *reference)
{
    store *s = txn_store(t);
    large_report r = {.account_id = account_id, .day = txn_business_day(t), .kind = kind,
                      .amount = amount, .created_at_ms = txn_now_ms(t)};
    snprintf(r.reference, sizeof r.reference, "%s", reference);
    int64_t last = 0;
    if (store_max_id(s, STORE_SEQ_LARGE_REPORT, &last) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    r.id = last + 1;
    if (store_large_insert(s, &r) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    if (kind != 3) txn_risk_note(t, "report", "a large-transaction report was filed");
    const int64_t ints[] = {r.id, account_id, r.day, kind, amount, r.created_at_ms};
    const char *const texts[] = {reference};
    return txn_digest_row(t, "large_report", ints, 6, texts, 1);
}

hb_err risk_after_movement(txn *t, int64_t account_id, int64_t amount, const char *reference)
{
    const policy *pol = txn_policy(t);
    if (!pol->risk_enabled) return HB_ERR_OK;
    hb_err err = HB_ERR_OK;
    if (pol->risk_large_single > 0 && amount >= pol->risk_large_single) {
        err = large_report_add(t, account_id, 1, amount, reference);
    }
    if (err != HB_ERR_OK || pol->risk_large_daily <= 0) return err;
    int64_t total = 0;
    err = txn_day_debits(t, account_id, &total);
    if (err != HB_ERR_OK) return err == HB_ERR_NOT_FOUND ? HB_ERR_OK : err;
    if (total < pol->risk_large_daily || total - amount >= pol->risk_large_daily) return HB_ERR_OK;
    bool done = false; /* the day crossed the threshold with this movement: report it once */
    if (store_large_daily_exists(txn_store(t), account_id, txn_business_day(t), &done) != HB_ERR_OK) {
        return HB_ERR_UNAVAILABLE;
    }
    return done ? HB_ERR_OK : large_report_add(t, account_id, 2, total, reference);
}

hb_err risk_after_packet(txn *t, int64_t sender_id, int64_t amount)
{
    const policy *pol = txn_policy(t);
    if (!pol->risk_enabled || pol->risk_dispersion <= 0) return HB_ERR_OK;
    store *s = txn_store(t);
    int64_t day = txn_business_day(t), n = 0, total = 0, squares = 0;
    hb_err err = store_packet_day_get(s, sender_id, day, &n, &total, &squares);
    if (err == HB_ERR_NOT_FOUND) err = HB_ERR_OK;
    if (err != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    n++;
    total += amount; /* a day's packets are bounded by the daily limits: no overflow */
    __int128 sq = (__int128)squares + (__int128)amount * amount;
    squares = sq > INT64_MAX ? INT64_MAX : (int64_t)sq; /* saturated: surely spread wide */
    if (store_packet_day_put(s, sender_id, day, n, total, squares) != HB_ERR_OK) {
        return HB_ERR_UNAVAILABLE;
    }
    const int64_t ints[] = {sender_id, day, n, total, squares};
    if (txn_digest_row(t, "packet_day", ints, 5, NULL, 0) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    if (n < 2) return HB_ERR_OK;
    /* variance > limit^2  <=>  n * squares - total^2 > limit^2 * n^2, all in integers */
    __int128 spread = (__int128)n * squares - (__int128)total * total;
    __int128 bound = (__int128)pol->risk_dispersion * pol->risk_dispersion * n * n;
    if (squares < INT64_MAX && spread <= bound) return HB_ERR_OK;
    char date[16], reason[LIMIT_ERR_DETAIL_LEN + 1];
    clock_day_format(day, date, sizeof date);
    snprintf(reason, sizeof reason, "the amounts of %lld red packets sent on %s spread wide",
             (long long)n, date);
    txn_risk_note(t, "review", reason);
    return risk_case_record(t, sender_id, "amount_dispersion", date, "review", reason);
}

/* ---- lists --------------------------------------------------------------------------------- */

static hb_err exec_list(txn *t, command *cmd)
{
    risk_list_cmd *c = (risk_list_cmd *)cmd;
    risk_list_entry *e = &c->entry;
    store *s = txn_store(t);
    char object[LIMIT_OBJECT_LEN + 1];
    snprintf(object, sizeof object, "%.10s:%.21s", risk_list_kind_name(e->kind), e->value);
    if (c->remove) {
        risk_list_entry old;
        hb_err err = store_list_get(s, e->kind, e->value, &old);
        if (err == HB_ERR_NOT_FOUND) txn_fail_detail(t, "not on the list");
        if (err != HB_ERR_OK) return err;
        if (store_list_delete(s, e->kind, e->value) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
        int64_t code_id = 0;
        if (e->kind == RISK_LIST_CODE && ids_parse(ID_CODE, e->value, &code_id) == HB_ERR_OK &&
            store_code_run_put(s, code_id, 0, 0) != HB_ERR_OK) { /* a fuse lifted: anew */
            return HB_ERR_UNAVAILABLE;
        }
        const int64_t ints[] = {e->kind};
        const char *const texts[] = {e->value};
        if (txn_digest_row(t, "risk_list_remove", ints, 1, texts, 1) != HB_ERR_OK) {
            return HB_ERR_UNAVAILABLE;
        }
        txn_audit(t, "risk.list.remove", object);
        return HB_ERR_OK;
    }
    e->created_at_ms = txn_now_ms(t);
    snprintf(e->created_by, sizeof e->created_by, "%s", cmd->actor);
    if (e->expires_at_ms < 0) e->expires_at_ms = 0;
    if (store_list_put(s, e) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    const int64_t ints[] = {e->kind, e->fuse, e->expires_at_ms, e->created_at_ms};
    const char *const texts[] = {e->value, e->reason, e->created_by};
    if (txn_digest_row(t, "risk_list", ints, 4, texts, 3) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    txn_audit(t, "risk.list.add", object);
    return HB_ERR_OK;
}

static hb_err replay_list(txn *t, command *cmd, const char *result, size_t len)
{
    (void)t, (void)cmd, (void)result, (void)len;
    return HB_ERR_OK;
}

/* Why an entry cannot be listed (NULL when it can); its account or code id made canonical. */
static const char *entry_problem(risk_list_entry *e)
{
    int64_t id = 0;
    if (e->kind < RISK_LIST_ACCOUNT || e->kind > RISK_LIST_CODE) {
        return "the list is accounts, devices or codes";
    }
    if (e->kind == RISK_LIST_ACCOUNT && ids_parse(ID_ACCOUNT, e->value, &id) != HB_ERR_OK) {
        return "an account list entry is an account id (acct_N)";
    }
    if (e->kind == RISK_LIST_CODE && ids_parse(ID_CODE, e->value, &id) != HB_ERR_OK) {
        return "a code list entry is a code id (code_N)";
    }
    if (!text_valid(e->value, LIMIT_DEVICE_LEN, false) || text_has_invisible(e->value)) {
        return "the value must be 1..128 bytes of printable UTF-8";
    }
    if (!text_valid(e->reason, LIMIT_ERR_DETAIL_LEN, true)) return "the reason must be valid UTF-8";
    if (e->expires_at_ms < 0) return "the expiry must be a time";
    if (e->kind != RISK_LIST_DEVICE) {
        ids_format(e->kind == RISK_LIST_ACCOUNT ? ID_ACCOUNT : ID_CODE, id, e->value, sizeof e->value);
    }
    return NULL;
}

hb_err risk_list_prepare(risk_list_cmd *c, const char *actor, char *why, size_t why_size)
{
    risk_list_entry *e = &c->entry;
    const char *bad = entry_problem(e);
    if (bad != NULL) {
        snprintf(why, why_size, "%s", bad);
        return HB_ERR_INVALID_ARGUMENT;
    }
    char canonical[LIMIT_DEVICE_LEN + LIMIT_ERR_DETAIL_LEN + 64];
    int n = snprintf(canonical, sizeof canonical, "risk.list|%d|%d|%s|%lld|%s", c->remove, e->kind,
                     e->value, (long long)e->expires_at_ms, e->reason);
    hb_err err = wallet_command_init(&c->base, actor, NULL, canonical,
                                     n > 0 && (size_t)n < sizeof canonical ? (size_t)n : 0);
    c->base.exec = exec_list;
    c->base.replay = replay_list;
    return err;
}

static hb_err exec_import(txn *t, command *cmd)
{
    risk_import_cmd *c = (risk_import_cmd *)cmd;
    store *s = txn_store(t);
    int64_t now = txn_now_ms(t);
    for (int i = 0; i < c->count; i++) {
        risk_list_entry *e = &c->entries[i];
        e->created_at_ms = now;
        snprintf(e->created_by, sizeof e->created_by, "%s", cmd->actor);
        if (store_list_put(s, e) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
        const int64_t ints[] = {e->kind, e->fuse, e->expires_at_ms, e->created_at_ms};
        const char *const texts[] = {e->value, e->reason, e->created_by};
        if (txn_digest_row(t, "risk_list", ints, 4, texts, 3) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    }
    char object[LIMIT_OBJECT_LEN + 1];
    snprintf(object, sizeof object, "%s:%d", risk_list_kind_name(c->kind), c->count);
    txn_audit(t, "risk.list.import", object);
    return HB_ERR_OK;
}

hb_err risk_import_parse(risk_import_cmd *c, risk_list_kind kind, const char *csv, size_t len,
                         int64_t now_ms, const char *actor, char *why, size_t why_size)
{
    c->kind = kind;
    c->count = 0;
    size_t pos = 0, line_len = 0;
    const char *line = NULL;
    int number = 0;
    while (csv_next_line(csv, len, &pos, &line, &line_len)) {
        number++;
        if (line_len == 0) continue;
        csv_row row;
        const char *problem = NULL;
        if (csv_parse_line(line, line_len, &row, &problem) != HB_ERR_OK) {
            snprintf(why, why_size, "line %d: %s", number, problem);
            return HB_ERR_INVALID_ARGUMENT;
        }
        if (number == 1 && strcmp(row.fields[0], "value") == 0) continue; /* the header */
        /* value,reason,expires_at; an export's created_at,created_by may follow (ignored) */
        if (row.count > 5) {
            snprintf(why, why_size, "line %d: value,reason,expires_at (unix seconds; empty = never)",
                     number);
            return HB_ERR_INVALID_ARGUMENT;
        }
        if (strlen(row.fields[0]) > LIMIT_DEVICE_LEN ||
            (row.count > 1 && strlen(row.fields[1]) > LIMIT_ERR_DETAIL_LEN)) {
            snprintf(why, why_size, "line %d: a value is at most %d bytes, a reason %d", number,
                     LIMIT_DEVICE_LEN, LIMIT_ERR_DETAIL_LEN);
            return HB_ERR_INVALID_ARGUMENT;
        }
        risk_list_entry spare; /* where a line past the cap is read, to be refused */
        memset(&spare, 0, sizeof spare);
        risk_list_entry *e = c->count < RISK_IMPORT_MAX ? &c->entries[c->count] : &spare;
        memset(e, 0, sizeof *e);
        e->kind = kind;
        memcpy(e->value, row.fields[0], strlen(row.fields[0]) + 1);
        if (row.count > 1) memcpy(e->reason, row.fields[1], strlen(row.fields[1]) + 1);
        if (row.count > 2 && row.fields[2][0] != '\0') {
            char *end = NULL;
            long long s = strtoll(row.fields[2], &end, 10);
            if (end == row.fields[2] || *end != '\0' || s < 0 || s > 253402300799LL) {
                snprintf(why, why_size, "line %d: expires_at must be unix seconds", number);
                return HB_ERR_INVALID_ARGUMENT;
            }
            e->expires_at_ms = s * 1000;
        }
        const char *bad = entry_problem(e);
        if (bad != NULL) {
            snprintf(why, why_size, "line %d: %s", number, bad);
            return HB_ERR_INVALID_ARGUMENT;
        }
        if (e->expires_at_ms != 0 && e->expires_at_ms <= now_ms) continue; /* expired: skip */
        if (c->count == RISK_IMPORT_MAX) {
            snprintf(why, why_size, "at most %d entries an import", RISK_IMPORT_MAX);
            return HB_ERR_INVALID_ARGUMENT;
        }
        c->count++;
    }
    if (c->count == 0) {
        snprintf(why, why_size, "nothing to import");
        return HB_ERR_INVALID_ARGUMENT;
    }
    char canonical[96];
    int n = snprintf(canonical, sizeof canonical, "risk.import|%d|%d", kind, c->count);
    hb_err err = wallet_command_init(&c->base, actor, NULL, canonical, (size_t)n);
    c->base.exec = exec_import;
    c->base.replay = replay_list;
    return err;
}

/* text as a quoted CSV field (quotes doubled) at out; returns its length (<= 2 len + 2). */
static size_t csv_quote(char *out, const char *text)
{
    size_t n = 0;
    out[n++] = '"';
    for (const char *p = text; *p; p++) {
        if (*p == '"') out[n++] = '"';
        out[n++] = *p;
    }
    out[n++] = '"';
    return n;
}

hb_err risk_list_csv(store *reader, risk_list_kind kind, int64_t now_ms, csv_out sink, void *ctx)
{
    static const char header[] = "value,reason,expires_at,created_at,created_by\r\n";
    if (!sink(ctx, header, sizeof header - 1)) return HB_ERR_UNAVAILABLE;
    risk_list_entry *page = malloc(sizeof *page * 200);
    if (page == NULL) return HB_ERR_UNAVAILABLE;
    char after[LIMIT_DEVICE_LEN + 1] = "";
    hb_err err = HB_ERR_OK;
    for (;;) {
        int count = 0;
        err = store_list_page(reader, kind, after, now_ms, 200, page, &count);
        if (err != HB_ERR_OK) break;
        for (int i = 0; i < count && err == HB_ERR_OK; i++) {
            char line[2 * (LIMIT_DEVICE_LEN + LIMIT_ERR_DETAIL_LEN + LIMIT_ACTOR_LEN) + 96];
            size_t n = csv_quote(line, page[i].value);
            line[n++] = ',';
            n += csv_quote(line + n, page[i].reason);
            int k = snprintf(line + n, sizeof line - n, ",%lld,%lld,",
                             page[i].expires_at_ms ? (long long)(page[i].expires_at_ms / 1000) : 0LL,
                             (long long)(page[i].created_at_ms / 1000));
            n += (size_t)k;
            n += csv_quote(line + n, page[i].created_by);
            line[n++] = '\r';
            line[n++] = '\n';
            if (!sink(ctx, line, n)) err = HB_ERR_UNAVAILABLE;
        }
        if (err != HB_ERR_OK || count < 200) break;
        snprintf(after, sizeof after, "%s", page[count - 1].value);
    }
    free(page);
    return err;
}

/* ---- resolving cases ------------------------------------------------------------------------ */

static hb_err exec_resolve(txn *t, command *cmd)
{
    risk_resolve_cmd *c = (risk_resolve_cmd *)cmd;
    store *s = txn_store(t);
    risk_case *k = &c->result;
    hb_err err = store_case_get(s, c->case_id, k);
    if (err == HB_ERR_NOT_FOUND) txn_fail_detail(t, "no such case");
    if (err != HB_ERR_OK) return err;
    if (k->status != 0) {
        txn_fail_detail(t, "the case is resolved already");
        return HB_ERR_INVALID_ARGUMENT;
    }
    const char *a = c->action;
    if (strcmp(a, "unfreeze") == 0) {
        err = txn_account_set_status(t, k->account_id, ACCOUNT_ACTIVE, 0);
    } else if (strcmp(a, "lift_restriction") == 0) {
        const account *acct = NULL;
        err = txn_account(t, k->account_id, &acct);
        if (err == HB_ERR_OK) err = txn_account_set_status(t, k->account_id, acct->status, 0);
    } else if (strcmp(a, "lift_fuse") == 0) {
        if (strncmp(k->object, "code_", 5) != 0) {
            txn_fail_detail(t, "this case concerns no code");
            return HB_ERR_INVALID_ARGUMENT;
        }
        err = store_list_delete(s, RISK_LIST_CODE, k->object);
        if (err == HB_ERR_NOT_FOUND) err = HB_ERR_OK; /* lifted already */
        int64_t code_id = 0;
        if (err == HB_ERR_OK && ids_parse(ID_CODE, k->object, &code_id) == HB_ERR_OK) {
            err = store_code_run_put(s, code_id, 0, 0); /* the run starts again */
        }
    } else if (strcmp(a, "blacklist") == 0) {
        risk_list_entry e;
        memset(&e, 0, sizeof e);
        e.kind = RISK_LIST_ACCOUNT;
        ids_format(ID_ACCOUNT, k->account_id, e.value, sizeof e.value);
        snprintf(e.reason, sizeof e.reason, "case %lld: %s", (long long)k->id, c->note);
        e.created_at_ms = txn_now_ms(t);
        snprintf(e.created_by, sizeof e.created_by, "%s", cmd->actor);
        err = store_list_put(s, &e);
    } else if (strcmp(a, "dismiss") != 0 && strcmp(a, "confirm") != 0) {
        txn_fail_detail(t, "action must be dismiss, confirm, unfreeze, lift_restriction, "
                           "lift_fuse or blacklist");
        return HB_ERR_INVALID_ARGUMENT;
    }
    if (err == HB_ERR_NOT_FOUND) txn_fail_detail(t, "the case's account is gone");
    if (err != HB_ERR_OK) return err;
    char resolution[LIMIT_ERR_DETAIL_LEN + 1];
    snprintf(resolution, sizeof resolution, "%s: %s", a, c->note);
    if (store_case_resolve(s, k->id, resolution, cmd->actor, txn_now_ms(t)) != HB_ERR_OK) {
        return HB_ERR_UNAVAILABLE;
    }
    k->status = 1;
    snprintf(k->resolution, sizeof k->resolution, "%s", resolution);
    snprintf(k->resolved_by, sizeof k->resolved_by, "%s", cmd->actor);
    k->resolved_at_ms = txn_now_ms(t);
    const int64_t ints[] = {k->id, k->resolved_at_ms};
    const char *const texts[] = {resolution, cmd->actor};
    if (txn_digest_row(t, "risk_case_resolve", ints, 2, texts, 2) != HB_ERR_OK) {
        return HB_ERR_UNAVAILABLE;
    }
    char object[IDS_TEXT_MAX];
    ids_format(ID_CASE, k->id, object, sizeof object);
    txn_audit(t, "risk.resolve", object);
    return HB_ERR_OK;
}

hb_err risk_resolve_prepare(risk_resolve_cmd *c, const char *actor, char *why, size_t why_size)
{
    if (c->case_id <= 0 || !text_valid(c->note, sizeof c->note - 1, true)) {
        snprintf(why, why_size, "note must be at most %zu bytes of valid UTF-8", sizeof c->note - 1);
        return HB_ERR_INVALID_ARGUMENT;
    }
    char canonical[256];
    int n = snprintf(canonical, sizeof canonical, "risk.resolve|%lld|%s|%s", (long long)c->case_id,
                     c->action, c->note);
    hb_err err = wallet_command_init(&c->base, actor, NULL, canonical,
                                     n > 0 && (size_t)n < sizeof canonical ? (size_t)n : 0);
    c->base.exec = exec_resolve;
    c->base.replay = replay_list;
    return err;
}

/* ---- large-transaction reports ---------------------------------------------------------------- */

const char *risk_large_kind_name(int kind)
{
    return kind == 1 ? "single" : kind == 2 ? "daily_total" : "night_pattern";
}

json_t *risk_large_json(store *reader, const keyring *keys, const large_report *r)
{
    char account_text[IDS_TEXT_MAX], day[16];
    ids_format(ID_ACCOUNT, r->account_id, account_text, sizeof account_text);
    clock_day_format(r->day, day, sizeof day);
    customer_view v;
    bool named = customer_view_get(reader, keys, r->account_id, false, &v) == HB_ERR_OK;
    json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:I,s:s,s:I}", "id", (json_int_t)r->id, "account",
                          account_text, "date", day, "kind", risk_large_kind_name(r->kind),
                          "amount", (json_int_t)r->amount, "reference", r->reference,
                          "created_at", (json_int_t)r->created_at_ms);
    /* masked for every role (DESIGN.md section 6) */
    json_object_set_new(o, "name", named ? json_string(v.name) : json_null());
    json_object_set_new(o, "id_number", named && v.id_number[0] ? json_string(v.id_number) : json_null());
    return o;
}
