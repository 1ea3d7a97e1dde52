#include "service/wallet.h"

#include <stdio.h>
#include <string.h>

#include "core/digest.h"
#include "core/text.h"
#include "core/ids.h"
#include "core/money.h"
#include "service/customer.h"
#include "service/risk.h"

/* ---- shared ------------------------------------------------------------------------------- */

static bool text_ok(const char *text, size_t max_len, bool may_be_empty)
{
    return text_valid(text, max_len, may_be_empty);
}

/* Fill the command's common fields; the request hash covers `canonical`. */
hb_err wallet_command_init(command *cmd, const char *actor, const char *idem_key,
                           const char *canonical, size_t canonical_len)
{
    if (actor == NULL || !text_ok(actor, LIMIT_ACTOR_LEN, false)) return HB_ERR_INVALID_ARGUMENT;
    if (idem_key != NULL && !text_ok(idem_key, LIMIT_IDEM_KEY_LEN, true)) {
        return HB_ERR_INVALID_ARGUMENT;
    }
    snprintf(cmd->actor, sizeof cmd->actor, "%s", actor);
    snprintf(cmd->idem_key, sizeof cmd->idem_key, "%s", idem_key ? idem_key : "");
    cmd->idem_scope[0] = '\0';
    cmd->err = HB_ERR_OK;
    cmd->replayed = false;
    cmd->err_detail[0] = '\0';
    return digest_sha256(canonical, canonical_len, cmd->request_hash);
}

/* An idempotency record whose result names no row: only a damaged store does this. The
 * command fails on its own (the rest of its batch goes on) and says why. */
static hb_err replay_missing(txn *t, const char *result)
{
    txn_fail_detail(t, "the idempotency key's earlier result (%.40s) is missing from the store",
                    result);
    return HB_ERR_NOT_FOUND;
}

/* ---- accounts ------------------------------------------------------------------------------- */

static void account_result(txn *t, const account *a)
{
    char id[IDS_TEXT_MAX];
    int n = ids_format(ID_ACCOUNT, a->id, id, sizeof id);
    txn_set_result(t, id, (size_t)n);
}

static hb_err replay_account(txn *t, command *cmd, const char *result, size_t len)
{
    account_create_cmd *c = (account_create_cmd *)cmd;
    (void)len;
    int64_t id = 0;
    const account *a = NULL;
    hb_err err = ids_parse(ID_ACCOUNT, result, &id);
    if (err == HB_ERR_OK) err = txn_account(t, id, &a);
    if (err == HB_ERR_UNAVAILABLE) return err;
    if (err != HB_ERR_OK) return replay_missing(t, result);
    c->account = *a;
    return HB_ERR_OK;
}

static hb_err exec_account_create(txn *t, command *cmd)
{
    account_create_cmd *c = (account_create_cmd *)cmd;
    account *a = &c->account;
    if (a->tier == TIER_SYSTEM && a->kind != ACCOUNT_WALLET) {
        const account *existing = NULL;
        hb_err err = txn_system_account(t, a->kind, a->currency, &existing);
        if (err == HB_ERR_OK) {
            txn_fail_detail(t, "the %s %s account exists already: acct_%lld",
                            currency_code(a->currency), account_kind_name(a->kind),
                            (long long)existing->id);
            return HB_ERR_DUPLICATE;
        }
        if (err != HB_ERR_NOT_FOUND) return err;
    }
    hb_err err = txn_account_create(t, a);
    if (err != HB_ERR_OK) return err;
    char object[IDS_TEXT_MAX];
    ids_format(ID_ACCOUNT, a->id, object, sizeof object);
    txn_audit(t, "account.create", object);
    account_result(t, a);
    return HB_ERR_OK;
}

static bool kind_fits_tier(account_kind kind, tier t)
{
    switch (kind) {
    case ACCOUNT_WALLET:
        return t != TIER_SYSTEM;
    case ACCOUNT_MERCHANT_PENDING:
    case ACCOUNT_MERCHANT_AVAILABLE:
        return t == TIER_ENTERPRISE || t == TIER_PROVIDER;
    case ACCOUNT_PACKET_ESCROW:
    case ACCOUNT_FEE_REVENUE:
    case ACCOUNT_CUSTODY_RESERVE:
        return t == TIER_SYSTEM;
    default:
        return false;
    }
}

hb_err wallet_account_create_prepare(account_create_cmd *c, const char *actor,
                                     const char *idem_key)
{
    account *a = &c->account;
    if (!text_ok(a->owner, LIMIT_OWNER_LEN, false) || a->kind <= ACCOUNT_KIND_NONE ||
        a->kind >= ACCOUNT_KIND_COUNT || (unsigned)a->tier >= TIER_COUNT ||
        !currency_valid(a->currency) || !kind_fits_tier(a->kind, a->tier)) {
        return HB_ERR_INVALID_ARGUMENT;
    }
    a->id = 0;
    a->balance = 0;
    a->status = ACCOUNT_ACTIVE;
    a->restricted_until_ms = 0;
    a->flags = a->kind == ACCOUNT_CUSTODY_RESERVE ? ACCOUNT_FLAG_NO_POSITIVE
                                                  : ACCOUNT_FLAG_NO_NEGATIVE;
    /* an account without a customer record (the operator's tool) is taken as ID-verified */
    a->real_name_level = WALLET_BARE_REAL_NAME_LEVEL;
    a->region[0] = '\0';
    char canonical[256];
    int n = snprintf(canonical, sizeof canonical, "account.create|%zu:%s|%d|%d|%s",
                     strlen(a->owner), a->owner, a->kind, a->tier, currency_code(a->currency));
    ASSERT(n > 0 && (size_t)n < sizeof canonical);
    hb_err err = wallet_command_init(&c->base, actor, idem_key, canonical, (size_t)n);
    c->base.exec = exec_account_create;
    c->base.replay = replay_account;
    return err;
}

/* ---- transfers ------------------------------------------------------------------------------ */

static hb_err replay_transfer(txn *t, command *cmd, const char *result, size_t len)
{
    transfer_cmd *c = (transfer_cmd *)cmd;
    (void)len;
    int64_t id = 0;
    hb_err err = ids_parse(ID_TRANSFER, result, &id);
    if (err == HB_ERR_OK) err = store_transfer_get(txn_store(t), id, &c->transfer);
    if (err == HB_ERR_UNAVAILABLE) return err;
    if (err != HB_ERR_OK) return replay_missing(t, result);
    return HB_ERR_OK;
}

/* The account must be a wallet (or, for a withdrawal, a merchant's available account). A
 * payee that is not one answers NOT_FOUND, like a missing account, so that payers cannot learn
 * what other accounts are. */
static hb_err require_kind(txn *t, int64_t id, bool wallet_only, bool payee, currency *cur)
{
    const account *a = NULL;
    hb_err err = txn_account(t, id, &a);
    if (err == HB_ERR_NOT_FOUND) txn_fail_detail(t, "no such account: acct_%lld", (long long)id);
    if (err != HB_ERR_OK) return err;
    bool ok = a->kind == ACCOUNT_WALLET ||
              (!wallet_only && a->kind == ACCOUNT_MERCHANT_AVAILABLE);
    if (!ok && payee) {
        txn_fail_detail(t, "no such account: acct_%lld", (long long)id);
        return HB_ERR_NOT_FOUND;
    }
    if (!ok) {
        txn_fail_detail(t, "acct_%lld is not a wallet", (long long)id);
        return HB_ERR_INVALID_ARGUMENT;
    }
    if (*cur == CURRENCY_NONE) *cur = a->currency;
    return HB_ERR_OK;
}

/* The payer's tier limits (DESIGN.md section 2): one movement at most single_limit, and what
 * it pays in a business day at most daily_limit. System accounts have none. */
/* a x bp / 10000, rounded down (a <= the ledger's bound, bp <= 100000: no overflow) */
static int64_t scale_bp(int64_t a, int64_t bp)
{
    return (int64_t)(((__int128)a * bp) / 10000);
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

void wallet_effective_limits(const policy *pol, const tier_policy *tp, const account *a,
                             effective_limits *out)
{
    int64_t bp = policy_region_multiplier(pol, a->region);
    out->single = scale_bp(tp->single_limit, bp);
    out->daily = scale_bp(tp->daily_limit, bp);
    out->yearly = LIMIT_BALANCE_MAX_FEN;
    out->capped = false;
    if (a->tier == TIER_PERSONAL) {
        const real_name_cap *cap = &pol->real_name[a->real_name_level];
        out->capped = cap->single < out->single || cap->daily < out->daily;
        out->single = min64(out->single, cap->single);
        out->daily = min64(out->daily, cap->daily);
        out->yearly = cap->yearly;
    }
}

hb_err wallet_check_limits(txn *t, int64_t payer_id, int64_t amount)
{
    const account *payer = NULL;
    hb_err err = txn_account(t, payer_id, &payer);
    if (err != HB_ERR_OK) return err;
    if (payer->tier == TIER_SYSTEM || amount <= 0) return HB_ERR_OK; /* bad amounts: ledger */
    tier_policy terms = txn_policy(t)->tiers[payer->tier];
    if (payer->tier == TIER_PROVIDER) { /* its agreement, if it has one */
        customer c;
        err = store_customer_get(txn_store(t), payer_id, &c);
        if (err == HB_ERR_OK) customer_terms(txn_policy(t), &c, &terms);
        if (err == HB_ERR_UNAVAILABLE) return err;
    }
    effective_limits lim;
    wallet_effective_limits(txn_policy(t), &terms, payer, &lim);
    char limit[MONEY_TEXT_MAX];
    if (payer->tier == TIER_PERSONAL && lim.single == 0) {
        txn_fail_detail(t, "unverified (real-name level %d): this account can receive but not pay",
                        payer->real_name_level);
        return HB_ERR_LIMIT_EXCEEDED;
    }
    if (amount > lim.single) {
        money_format(lim.single, limit, sizeof limit);
        txn_fail_detail(t, "above the single-transaction limit of %s (%s tier%s%s%s)", limit,
                        tier_name(payer->tier), payer->region[0] ? ", region " : "",
                        payer->region, lim.capped ? ", real-name level" : "");
        return HB_ERR_LIMIT_EXCEEDED;
    }
    bool yearly = false;
    err = txn_charge(t, payer_id, amount, lim.daily, lim.yearly, &yearly);
    if (err == HB_ERR_LIMIT_EXCEEDED) {
        money_format(yearly ? lim.yearly : lim.daily, limit, sizeof limit);
        txn_fail_detail(t, "above the %s limit of %s (%s tier%s%s%s)", yearly ? "yearly" : "daily",
                        limit, tier_name(payer->tier), payer->region[0] ? ", region " : "",
                        payer->region,
                        yearly || lim.capped ? ", real-name level" : "");
    }
    return err;
}

static hb_err exec_transfer(txn *t, command *cmd)
{
    transfer_cmd *c = (transfer_cmd *)cmd;
    transfer *tr = &c->transfer;
    hb_err err = HB_ERR_OK;
    /* The payer first, its limits next, the payee last: a refused payment reveals nothing
     * about the payee. */
    switch (tr->kind) {
    case TRANSFER_TOPUP:
        err = require_kind(t, tr->credit_id, true, false, &tr->currency);
        if (err == HB_ERR_OK) {
            err = risk_screen(t, &(risk_event){.kind = RISK_EV_TOPUP, .actor_id = tr->credit_id,
                                               .amount = tr->amount});
        }
        break;
    case TRANSFER_WITHDRAW:
        err = require_kind(t, tr->debit_id, false, false, &tr->currency);
        if (err == HB_ERR_OK) {
            err = risk_screen(t, &(risk_event){.kind = RISK_EV_WITHDRAW, .actor_id = tr->debit_id,
                                               .device = c->device, .amount = tr->amount});
        }
        if (err == HB_ERR_OK) err = wallet_check_limits(t, tr->debit_id, tr->amount);
        break;
    default:
        err = require_kind(t, tr->debit_id, true, false, &tr->currency);
        /* the risk screen before anything is charged: a refusal keeps only its case */
        if (err == HB_ERR_OK) {
            err = risk_screen(t, &(risk_event){.kind = RISK_EV_TRANSFER, .actor_id = tr->debit_id,
                                               .device = c->device, .amount = tr->amount});
        }
        if (err == HB_ERR_OK) err = wallet_check_limits(t, tr->debit_id, tr->amount);
        if (err == HB_ERR_OK) err = require_kind(t, tr->credit_id, true, true, &tr->currency);
        break;
    }
    if (err != HB_ERR_OK) return err;
    if (tr->kind == TRANSFER_TOPUP || tr->kind == TRANSFER_WITHDRAW) {
        const account *reserve = NULL;
        err = txn_system_account(t, ACCOUNT_CUSTODY_RESERVE, tr->currency, &reserve);
        if (err == HB_ERR_NOT_FOUND) {
            txn_fail_detail(t, "no %s custody reserve: run hongbao init",
                            currency_code(tr->currency));
        }
        if (err != HB_ERR_OK) return err;
        if (tr->kind == TRANSFER_TOPUP) {
            tr->debit_id = reserve->id;
        } else {
            tr->credit_id = reserve->id;
        }
    }
    err = txn_transfer(t, tr);
    if (err != HB_ERR_OK) return err;
    char object[IDS_TEXT_MAX];
    int n = ids_format(ID_TRANSFER, tr->id, object, sizeof object);
    if (tr->kind != TRANSFER_TOPUP) {
        err = risk_after_movement(t, tr->debit_id, tr->amount, object);
        if (err != HB_ERR_OK) return err;
    }
    static const char *const actions[TRANSFER_P2P + 1] = {"", "transfer.topup",
                                                          "transfer.withdraw", "transfer.p2p"};
    txn_audit(t, actions[tr->kind], object);
    txn_set_result(t, object, (size_t)n);
    return HB_ERR_OK;
}

hb_err wallet_transfer_prepare(transfer_cmd *c, const char *actor, const char *idem_key)
{
    transfer *tr = &c->transfer;
    /* packet movements run only inside the packet commands (packet.c) */
    if (tr->kind <= TRANSFER_KIND_NONE || tr->kind > TRANSFER_P2P ||
        !text_ok(tr->reference, LIMIT_REFERENCE_LEN, true) ||
        (tr->currency != CURRENCY_NONE && !currency_valid(tr->currency))) {
        return HB_ERR_INVALID_ARGUMENT;
    }
    if ((tr->kind == TRANSFER_TOPUP || tr->kind == TRANSFER_WITHDRAW) &&
        tr->reference[0] == '\0') {
        return HB_ERR_INVALID_ARGUMENT; /* money crossing the bank needs its bank reference */
    }
    if (tr->kind == TRANSFER_TOPUP) tr->debit_id = 0;
    if (tr->kind == TRANSFER_WITHDRAW) tr->credit_id = 0;
    tr->id = 0;
    tr->created_at_ms = 0;
    snprintf(tr->idem_key, sizeof tr->idem_key, "%s", idem_key ? idem_key : "");
    char canonical[512];
    int n = snprintf(canonical, sizeof canonical, "transfer|%d|%lld|%lld|%lld|%s|%zu:%s",
                     tr->kind, (long long)tr->debit_id, (long long)tr->credit_id,
                     (long long)tr->amount, currency_code(tr->currency), strlen(tr->reference),
                     tr->reference);
    ASSERT(n > 0 && (size_t)n < sizeof canonical);
    hb_err err = wallet_command_init(&c->base, actor, idem_key, canonical, (size_t)n);
    c->base.exec = exec_transfer;
    c->base.replay = replay_transfer;
    return err;
}

/* ---- status ----------------------------------------------------------------------------------- */

static hb_err exec_status(txn *t, command *cmd)
{
    status_cmd *c = (status_cmd *)cmd;
    const account *a = NULL;
    hb_err err = txn_account(t, c->account_id, &a);
    if (err == HB_ERR_NOT_FOUND) txn_fail_detail(t, "no such account");
    if (err != HB_ERR_OK) return err;
    if (a->tier == TIER_SYSTEM) {
        txn_fail_detail(t, "system accounts cannot be frozen or closed");
        return HB_ERR_FORBIDDEN;
    }
    account_status status = c->status == WALLET_KEEP_STATUS ? a->status : c->status;
    int64_t until = c->restricted_until_ms == WALLET_KEEP_RESTRICTION ? a->restricted_until_ms
                                                                      : c->restricted_until_ms;
    if (status == ACCOUNT_CLOSED && a->status != ACCOUNT_CLOSED && a->balance != 0) {
        txn_fail_detail(t, "only an empty account can be closed");
        return HB_ERR_FORBIDDEN;
    }
    if (status == ACCOUNT_CLOSED && a->status != ACCOUNT_CLOSED) {
        /* an open red packet's remainder must have a wallet to go back to */
        int64_t open = 0;
        if (store_packet_open_count(txn_store(t), c->account_id, &open) != HB_ERR_OK) {
            return HB_ERR_UNAVAILABLE;
        }
        if (open > 0) {
            txn_fail_detail(t, "the account has %lld red packet%s not yet claimed out or refunded",
                            (long long)open, open == 1 ? "" : "s");
            return HB_ERR_FORBIDDEN;
        }
    }
    err = txn_account_set_status(t, c->account_id, status, until);
    if (err != HB_ERR_OK) return err;
    err = txn_account(t, c->account_id, &a);
    if (err != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    c->account = *a;
    char object[IDS_TEXT_MAX];
    ids_format(ID_ACCOUNT, a->id, object, sizeof object);
    txn_audit(t, "account.status", object);
    account_result(t, a);
    return HB_ERR_OK;
}

static hb_err replay_status(txn *t, command *cmd, const char *result, size_t len)
{
    status_cmd *c = (status_cmd *)cmd;
    (void)len;
    int64_t id = 0;
    const account *a = NULL;
    hb_err err = ids_parse(ID_ACCOUNT, result, &id);
    if (err == HB_ERR_OK) err = txn_account(t, id, &a);
    if (err == HB_ERR_UNAVAILABLE) return err;
    if (err != HB_ERR_OK) return replay_missing(t, result);
    c->account = *a;
    return HB_ERR_OK;
}

hb_err wallet_status_prepare(status_cmd *c, const char *actor, const char *idem_key)
{
    if ((unsigned)c->status > WALLET_KEEP_STATUS ||
        (c->restricted_until_ms < 0 && c->restricted_until_ms != WALLET_KEEP_RESTRICTION) ||
        (c->status == WALLET_KEEP_STATUS && c->restricted_until_ms == WALLET_KEEP_RESTRICTION)) {
        return HB_ERR_INVALID_ARGUMENT;
    }
    char canonical[128];
    int n = snprintf(canonical, sizeof canonical, "account.status|%lld|%d|%lld",
                     (long long)c->account_id, c->status, (long long)c->restricted_until_ms);
    ASSERT(n > 0 && (size_t)n < sizeof canonical);
    hb_err err = wallet_command_init(&c->base, actor, idem_key, canonical, (size_t)n);
    c->base.exec = exec_status;
    c->base.replay = replay_status;
    return err;
}

/* ---- system accounts ---------------------------------------------------------------------- */

hb_err wallet_init_system(engine *e, currency cur, char *err_text, size_t err_text_size)
{
    static const account_kind kinds[] = {ACCOUNT_CUSTODY_RESERVE, ACCOUNT_FEE_REVENUE,
                                         ACCOUNT_PACKET_ESCROW};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        account_create_cmd c;
        memset(&c, 0, sizeof c);
        snprintf(c.account.owner, sizeof c.account.owner, "platform");
        c.account.kind = kinds[i];
        c.account.tier = TIER_SYSTEM;
        c.account.currency = cur;
        hb_err err = wallet_account_create_prepare(&c, "system:init", NULL);
        if (err == HB_ERR_OK) err = engine_submit(e, &c.base);
        if (err == HB_ERR_DUPLICATE) continue; /* exists already */
        if (err != HB_ERR_OK) {
            snprintf(err_text, err_text_size, "cannot create the %s %s account: %s %s",
                     currency_code(cur), account_kind_name(kinds[i]), hb_err_name(err),
                     c.base.err_detail);
            return err;
        }
    }
    return HB_ERR_OK;
}
