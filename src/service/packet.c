#include "service/packet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ids.h"
#include "core/money.h"
#include "core/scene.h"
#include "core/split.h"
#include "core/text.h"
#include "service/customer.h"
#include "service/risk.h"
#include "service/wallet.h"

/* ---- shared ---------------------------------------------------------------------------------- */

static size_t utf8_chars(const char *text)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
        if ((*p & 0xC0) != 0x80) n++;
    }
    return n;
}

packet_status packet_status_at(const packet *p, int64_t now_ms)
{
    if (p->status == PACKET_SENT && now_ms >= p->expires_at_ms) return PACKET_EXPIRED;
    return p->status;
}

/* The packet row as the audit digest sees it. */
static hb_err digest_packet(txn *t, const packet *p)
{
    const int64_t ints[] = {p->id, p->sender_id, p->total, p->count, p->mode, p->fission,
                            p->seed_id, p->allow_sender, p->status, p->claimed_count,
                            p->claimed_amount, p->refunded_amount, p->best_seq, p->created_at_ms,
                            p->expires_at_ms, p->finished_at_ms, p->fund_transfer_id,
                            p->refund_transfer_id};
    const char *const texts[] = {currency_code(p->currency), p->wishing, p->scene};
    return txn_digest_row(t, "packet", ints, sizeof ints / sizeof ints[0], texts, 3);
}

/* A chunk of shares as the audit digest sees it: its position and every amount. */
static hb_err digest_shares(txn *t, int64_t packet_id, int64_t first, const int64_t *amounts,
                            int64_t n)
{
    int64_t ints[2 + 48];
    ints[0] = packet_id;
    ints[1] = first;
    hb_err err = HB_ERR_OK;
    for (int64_t at = 0; err == HB_ERR_OK && at < n; at += 48) {
        int64_t k = n - at < 48 ? n - at : 48;
        memcpy(ints + 2, amounts + at, (size_t)k * sizeof *amounts);
        ints[1] = first + at;
        err = txn_digest_row(t, "packet_shares", ints, (size_t)(2 + k), NULL, 0);
    }
    return err;
}

/* The packet by id, NOT_FOUND (with a detail) when missing. */
static hb_err load_packet(txn *t, int64_t id, packet *out)
{
    hb_err err = store_packet_get(txn_store(t), id, out);
    if (err == HB_ERR_NOT_FOUND) txn_fail_detail(t, "no such red packet");
    return err;
}

/* A wallet of the currency, or NOT_FOUND naming what it was for. */
static hb_err require_wallet(txn *t, int64_t id, currency cur, const char *what,
                             const account **out)
{
    hb_err err = txn_account(t, id, out);
    if (err == HB_ERR_OK && ((*out)->kind != ACCOUNT_WALLET || (*out)->currency != cur)) {
        err = HB_ERR_NOT_FOUND;
    }
    if (err == HB_ERR_NOT_FOUND) txn_fail_detail(t, "no such account: %s", what);
    return err;
}

static hb_err escrow_account(txn *t, currency cur, const account **out)
{
    hb_err err = txn_system_account(t, ACCOUNT_PACKET_ESCROW, cur, out);
    if (err == HB_ERR_NOT_FOUND) {
        txn_fail_detail(t, "no %s packet escrow account: run hongbao init", currency_code(cur));
    }
    return err;
}

static hb_err replay_missing(txn *t, const char *result)
{
    txn_fail_detail(t, "the idempotency key's earlier result (%.40s) is missing from the store",
                    result);
    return HB_ERR_NOT_FOUND;
}

/* ---- create ------------------------------------------------------------------------------- */

static hb_err packet_result(txn *t, int64_t id)
{
    char text[IDS_TEXT_MAX];
    int n = ids_format(ID_PACKET, id, text, sizeof text);
    txn_set_result(t, text, (size_t)n);
    return HB_ERR_OK;
}

static hb_err replay_create(txn *t, command *cmd, const char *result, size_t len)
{
    packet_create_cmd *c = (packet_create_cmd *)cmd;
    (void)len;
    int64_t id = 0;
    hb_err err = ids_parse(ID_PACKET, result, &id);
    if (err == HB_ERR_OK) err = store_packet_get(txn_store(t), id, &c->packet);
    if (err == HB_ERR_UNAVAILABLE) return err;
    if (err != HB_ERR_OK) return replay_missing(t, result);
    return HB_ERR_OK;
}

/* What the sender's tier allows: shares, fission, the wishing's content. */
static hb_err check_sender(txn *t, const packet *p, const account *sender)
{
    const policy *pol = txn_policy(t);
    tier_policy terms = pol->tiers[sender->tier];
    if (sender->tier == TIER_PROVIDER) { /* its agreement, if it has one */
        customer row;
        hb_err err = store_customer_get(txn_store(t), sender->id, &row);
        if (err == HB_ERR_OK) customer_terms(pol, &row, &terms);
        if (err == HB_ERR_UNAVAILABLE) return err;
    }
    const tier_policy *tp = &terms;
    if (sender->tier != TIER_SYSTEM && p->count > tp->max_shares) {
        txn_fail_detail(t, "count above the %lld shares the %s tier%s allows",
                        (long long)tp->max_shares, tier_name(sender->tier),
                        sender->tier == TIER_PROVIDER ? " (or its agreement)" : "");
        return HB_ERR_INVALID_ARGUMENT;
    }
    if (p->fission && sender->tier != TIER_ENTERPRISE && sender->tier != TIER_PROVIDER) {
        txn_fail_detail(t, "fission packets are sent by enterprise and provider accounts");
        return HB_ERR_FORBIDDEN;
    }
    const char *banned = policy_banned_phrase(pol, p->wishing);
    if (banned != NULL) {
        txn_fail_detail(t, "the wishing contains a banned phrase: %s", banned);
        return HB_ERR_INVALID_MESSAGE;
    }
    return HB_ERR_OK;
}

static hb_err exec_create(txn *t, command *cmd)
{
    packet_create_cmd *c = (packet_create_cmd *)cmd;
    packet *p = &c->packet;
    const account *sender = NULL;
    hb_err err = txn_account(t, p->sender_id, &sender);
    if (err == HB_ERR_OK && sender->kind != ACCOUNT_WALLET) err = HB_ERR_NOT_FOUND;
    if (err == HB_ERR_NOT_FOUND) txn_fail_detail(t, "no such account: sender");
    if (err != HB_ERR_OK) return err;
    if (p->currency == CURRENCY_NONE) p->currency = sender->currency;
    if (p->currency != sender->currency) {
        txn_fail_detail(t, "the sender's wallet holds %s", currency_code(sender->currency));
        return HB_ERR_INVALID_ARGUMENT;
    }
    err = check_sender(t, p, sender);
    if (err != HB_ERR_OK) return err;
    if (p->fission) {
        const account *seed = NULL;
        err = require_wallet(t, p->seed_id, p->currency, "seed", &seed);
        if (err != HB_ERR_OK) return err;
    }
    /* the risk screen before anything is charged: a refusal keeps only its case */
    err = risk_screen(t, &(risk_event){.kind = RISK_EV_PACKET, .actor_id = p->sender_id,
                                       .device = c->device, .amount = p->total});
    if (err != HB_ERR_OK) return err;
    err = wallet_check_limits(t, p->sender_id, p->total);
    if (err != HB_ERR_OK) return err;
    const account *escrow = NULL;
    err = escrow_account(t, p->currency, &escrow);
    if (err != HB_ERR_OK) return err;
    int64_t last_id = 0;
    if (store_max_id(txn_store(t), STORE_SEQ_PACKET, &last_id) != HB_ERR_OK) {
        return HB_ERR_UNAVAILABLE;
    }
    p->id = last_id + 1;
    transfer tr = {.debit_id = p->sender_id, .credit_id = escrow->id, .amount = p->total,
                   .currency = p->currency, .kind = TRANSFER_PACKET_SEND};
    snprintf(tr.idem_key, sizeof tr.idem_key, "%s", cmd->idem_key);
    ids_format(ID_PACKET, p->id, tr.reference, sizeof tr.reference);
    err = txn_transfer(t, &tr);
    if (err != HB_ERR_OK) return err;
    p->status = PACKET_SENT;
    p->claimed_count = 0;
    p->claimed_amount = 0;
    p->refunded_amount = 0;
    p->created_at_ms = txn_now_ms(t);
    p->expires_at_ms = p->created_at_ms + c->expires_in_s * 1000;
    p->finished_at_ms = 0;
    p->fund_transfer_id = tr.id;
    p->refund_transfer_id = 0;
    store *s = txn_store(t);
    if (store_packet_insert(s, p) != HB_ERR_OK || txn_row_written(t, ROWS_PACKET, p) != HB_ERR_OK) {
        return HB_ERR_UNAVAILABLE;
    }
    for (int64_t first = 0; first < p->count; first += LIMIT_SHARE_CHUNK) {
        int64_t n = p->count - first < LIMIT_SHARE_CHUNK ? p->count - first : LIMIT_SHARE_CHUNK;
        if (store_packet_shares_put(s, p->id, first, c->shares + first, (int)n) != HB_ERR_OK) {
            return HB_ERR_UNAVAILABLE;
        }
        /* the amounts themselves, so that moving money between shares is caught */
        if (digest_shares(t, p->id, first, c->shares + first, n) != HB_ERR_OK) {
            return HB_ERR_UNAVAILABLE;
        }
    }
    if (digest_packet(t, p) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    char object[IDS_TEXT_MAX];
    ids_format(ID_PACKET, p->id, object, sizeof object);
    err = risk_after_movement(t, p->sender_id, p->total, object);
    if (err == HB_ERR_OK) err = risk_after_packet(t, p->sender_id, p->total);
    if (err != HB_ERR_OK) return err;
    txn_audit(t, "packet.create", object);
    return packet_result(t, p->id);
}

hb_err packet_create_prepare(packet_create_cmd *c, int64_t *shares, const char *actor,
                             const char *idem_key, char *why, size_t why_size)
{
    packet *p = &c->packet;
#define REFUSE(...)                                                                            \
    do {                                                                                       \
        snprintf(why, why_size, __VA_ARGS__);                                                  \
        return HB_ERR_INVALID_ARGUMENT;                                                        \
    } while (0)
    if (p->sender_id <= 0) REFUSE("no sender");
    if (p->count < 1 || p->count > LIMIT_PACKET_SHARES_MAX) {
        REFUSE("count must be 1..%d", LIMIT_PACKET_SHARES_MAX);
    }
    if (p->total < p->count) REFUSE("total must be at least count fen (1 fen a share)");
    if (p->total > LIMIT_AMOUNT_MAX_FEN) REFUSE("total too large");
    if (p->mode != SPLIT_RANDOM && p->mode != SPLIT_FIXED) REFUSE("mode must be random or fixed");
    if (p->mode == SPLIT_FIXED && p->total % p->count != 0) {
        REFUSE("a fixed packet's total must divide evenly into count shares");
    }
    if (c->expires_in_s == 0) c->expires_in_s = LIMIT_PACKET_EXPIRES_DEFAULT_S;
    if (c->expires_in_s < LIMIT_PACKET_EXPIRES_MIN_S || c->expires_in_s > LIMIT_PACKET_EXPIRES_MAX_S) {
        REFUSE("expires_in must be %d..%d seconds", LIMIT_PACKET_EXPIRES_MIN_S,
               LIMIT_PACKET_EXPIRES_MAX_S);
    }
    const scene *sc = NULL;
    if (p->scene[0] != '\0') {
        sc = scene_find(p->scene);
        if (sc == NULL) REFUSE("unknown scene (GET /v1/scenes lists them)");
    }
    if (!text_valid(p->wishing, LIMIT_WISHING_LEN, true) || utf8_chars(p->wishing) > LIMIT_WISHING_CHARS) {
        REFUSE("wishing must be at most %d characters of valid UTF-8", LIMIT_WISHING_CHARS);
    }
    if (text_has_invisible(p->wishing)) {
        snprintf(why, why_size, "the wishing contains invisible formatting characters");
        return HB_ERR_INVALID_MESSAGE;
    }
    if (p->wishing[0] == '\0') {
        snprintf(p->wishing, sizeof p->wishing, "%s", sc != NULL ? sc->wishing : SCENE_DEFAULT_WISHING);
    }
    if (p->fission) {
        if (p->count < LIMIT_FISSION_SHARES_MIN || p->count > LIMIT_FISSION_SHARES_MAX) {
            REFUSE("a fission packet has %d..%d shares", LIMIT_FISSION_SHARES_MIN,
                   LIMIT_FISSION_SHARES_MAX);
        }
        if (p->seed_id <= 0 || p->seed_id == p->sender_id) {
            REFUSE("a fission packet needs a seed recipient other than the sender");
        }
    } else if (p->seed_id != 0) {
        REFUSE("only a fission packet has a seed");
    }
    if (p->currency != CURRENCY_NONE && !currency_valid(p->currency)) REFUSE("unknown currency");
#undef REFUSE
    hb_rng_buffered rng;
    rng_buffered_init(&rng);
    hb_err err = split_shares((split_mode)p->mode, p->total, p->count, &rng.base, shares);
    rng_buffered_clear(&rng);
    if (err != HB_ERR_OK) {
        snprintf(why, why_size, "the random generator failed");
        return HB_ERR_UNAVAILABLE;
    }
    p->best_seq = 0;
    for (int64_t i = 1; i < p->count; i++) {
        if (shares[i] > shares[p->best_seq]) p->best_seq = i;
    }
    c->shares = shares;
    p->id = 0;
    char canonical[LIMIT_WISHING_LEN + 256];
    int n = snprintf(canonical, sizeof canonical,
                     "packet.create|%lld|%lld|%lld|%d|%d|%lld|%d|%s|%lld|%zu:%s|%zu:%s",
                     (long long)p->sender_id, (long long)p->total, (long long)p->count, p->mode,
                     p->fission, (long long)p->seed_id, p->allow_sender,
                     p->currency == CURRENCY_NONE ? "" : currency_code(p->currency),
                     (long long)c->expires_in_s, strlen(p->wishing), p->wishing, strlen(p->scene),
                     p->scene);
    ASSERT(n > 0 && (size_t)n < sizeof canonical);
    err = wallet_command_init(&c->base, actor, idem_key, canonical, (size_t)n);
    if (err != HB_ERR_OK) snprintf(why, why_size, "bad actor or idempotency key");
    c->base.exec = exec_create;
    c->base.replay = replay_create;
    return err;
}

/* ---- claim ---------------------------------------------------------------------------------- */

static void claim_result(txn *t, const claim *cl)
{
    char text[64];
    int n = snprintf(text, sizeof text, "%lld:%lld", (long long)cl->packet_id, (long long)cl->seq);
    txn_set_result(t, text, (size_t)n);
}

static hb_err replay_claim(txn *t, command *cmd, const char *result, size_t len)
{
    packet_claim_cmd *c = (packet_claim_cmd *)cmd;
    (void)len;
    /* "PACKET:SEQ", as claim_result wrote it */
    char *end = NULL;
    long long id = strtoll(result, &end, 10);
    long long seq = -1;
    if (end != result && *end == ':') {
        const char *rest = end + 1;
        seq = strtoll(rest, &end, 10);
        if (end == rest || *end != '\0') seq = -1;
    }
    hb_err err = HB_ERR_NOT_FOUND;
    if (id > 0 && seq >= 0) {
        err = store_claim_get(txn_store(t), id, seq, &c->claim);
        if (err == HB_ERR_OK) err = store_packet_get(txn_store(t), id, &c->packet);
    }
    if (err == HB_ERR_UNAVAILABLE) return err;
    if (err != HB_ERR_OK) return replay_missing(t, result);
    return HB_ERR_OK;
}

/* Which token lets whom claim: an ordinary packet's claim token lets anyone; a fission
 * packet's claim token lets its seed open the first share, and only its share token (which
 * exists once the seed has claimed) lets others claim the rest. Any other token is a wrong
 * token: NOT_FOUND, as for an unknown packet. */
static hb_err check_token(txn *t, const packet *p, const packet_claim_cmd *c)
{
    bool ok = false;
    if (!p->fission) {
        ok = c->token_kind == PACKET_TOKEN_CLAIM;
    } else if (c->claimer_id == p->seed_id) {
        ok = true; /* its own link, or the share link it was given (then ALREADY_CLAIMED) */
    } else {
        ok = c->token_kind == PACKET_TOKEN_SHARE && p->claimed_count > 0;
    }
    if (!ok) txn_fail_detail(t, "no such red packet");
    return ok ? HB_ERR_OK : HB_ERR_NOT_FOUND;
}

static hb_err exec_claim(txn *t, command *cmd)
{
    packet_claim_cmd *c = (packet_claim_cmd *)cmd;
    packet *p = &c->packet;
    int64_t earlier = 0, next_share = 0;
    hb_err err = store_packet_claim_view(txn_store(t), c->packet_id, c->claimer_id, p, &earlier,
                                         &next_share);
    if (err == HB_ERR_NOT_FOUND) txn_fail_detail(t, "no such red packet");
    if (err != HB_ERR_OK) return err;
    err = check_token(t, p, c);
    if (err != HB_ERR_OK) return err;
    const account *claimer = NULL;
    err = require_wallet(t, c->claimer_id, p->currency, "claimer", &claimer);
    if (err != HB_ERR_OK) return err;
    if (c->claimer_id == p->sender_id && !p->allow_sender) {
        txn_fail_detail(t, "the sender may not claim this packet");
        return HB_ERR_FORBIDDEN;
    }
    if (earlier != 0) {
        char id[IDS_TEXT_MAX];
        ids_format(ID_CLAIM, earlier, id, sizeof id);
        txn_fail_detail(t, "this account claimed this packet already (%s)", id);
        return HB_ERR_ALREADY_CLAIMED;
    }
    int64_t now = txn_now_ms(t);
    packet_status shown = packet_status_at(p, now);
    if (shown == PACKET_EXPIRED || shown == PACKET_REFUNDED) {
        txn_fail_detail(t, "the red packet has expired");
        return HB_ERR_PACKET_EXPIRED;
    }
    if (shown == PACKET_CLAIMED_OUT || p->claimed_count >= p->count) {
        txn_fail_detail(t, "every share of the red packet has been claimed");
        return HB_ERR_PACKET_EMPTY;
    }
    /* screened once the claim could succeed: a late grab keeps no risk state */
    err = risk_screen(t, &(risk_event){.kind = RISK_EV_CLAIM, .actor_id = c->claimer_id,
                                       .device = c->device, .amount = next_share});
    if (err != HB_ERR_OK) return err;
    claim *cl = &c->claim;
    cl->packet_id = p->id;
    cl->seq = p->claimed_count;
    cl->claimer_id = c->claimer_id;
    cl->claimed_at_ms = now;
    cl->amount = next_share;
    if (cl->amount <= 0) return HB_ERR_UNAVAILABLE; /* every share was stored at creation */
    const account *escrow = NULL;
    err = escrow_account(t, p->currency, &escrow);
    if (err != HB_ERR_OK) return err;
    transfer tr = {.debit_id = escrow->id, .credit_id = c->claimer_id, .amount = cl->amount,
                   .currency = p->currency, .kind = TRANSFER_PACKET_CLAIM};
    snprintf(tr.idem_key, sizeof tr.idem_key, "%s", cmd->idem_key);
    ids_format(ID_PACKET, p->id, tr.reference, sizeof tr.reference);
    err = txn_transfer(t, &tr);
    if (err != HB_ERR_OK) return err;
    cl->transfer_id = tr.id;
    store *s = txn_store(t);
    bool last = cl->seq + 1 == p->count;
    if (store_claim_insert(s, cl) != HB_ERR_OK || txn_row_written(t, ROWS_CLAIM, cl) != HB_ERR_OK ||
        store_packet_claimed(s, p->id, cl->seq, cl->amount, last, now) != HB_ERR_OK) {
        return HB_ERR_UNAVAILABLE;
    }
    p->claimed_count++;
    p->claimed_amount += cl->amount;
    if (last) {
        p->status = PACKET_CLAIMED_OUT;
        p->finished_at_ms = now;
    }
    if (digest_packet(t, p) != HB_ERR_OK) { /* the claim itself: in the row digest */
        return HB_ERR_UNAVAILABLE;
    }
    char object[IDS_TEXT_MAX];
    ids_format(ID_PACKET, p->id, object, sizeof object);
    txn_audit(t, "packet.claim", object);
    claim_result(t, cl);
    return HB_ERR_OK;
}

hb_err packet_claim_prepare(packet_claim_cmd *c, const char *actor, const char *idem_key)
{
    if (c->packet_id <= 0 || c->claimer_id <= 0 ||
        (c->token_kind != PACKET_TOKEN_CLAIM && c->token_kind != PACKET_TOKEN_SHARE)) {
        return HB_ERR_INVALID_ARGUMENT;
    }
    char canonical[128];
    int n = snprintf(canonical, sizeof canonical, "packet.claim|%lld|%lld",
                     (long long)c->packet_id, (long long)c->claimer_id);
    ASSERT(n > 0 && (size_t)n < sizeof canonical);
    hb_err err = wallet_command_init(&c->base, actor, idem_key, canonical, (size_t)n);
    c->base.exec = exec_claim;
    c->base.replay = replay_claim;
    return err;
}

/* ---- refund ---------------------------------------------------------------------------------- */

static hb_err exec_refund(txn *t, command *cmd)
{
    packet_refund_cmd *c = (packet_refund_cmd *)cmd;
    packet *p = &c->packet;
    hb_err err = load_packet(t, c->packet_id, p);
    if (err != HB_ERR_OK) return err;
    int64_t now = txn_now_ms(t);
    if (packet_status_at(p, now) != PACKET_EXPIRED) {
        /* claimed out, refunded already (by another sweeper), or not yet due */
        txn_fail_detail(t, "the red packet is %s: nothing to refund",
                        packet_status_name(packet_status_at(p, now)));
        return HB_ERR_ALREADY_SETTLED;
    }
    int64_t remainder = p->total - p->claimed_amount;
    ASSERT(remainder >= p->count - p->claimed_count && remainder > 0);
    const account *escrow = NULL;
    err = escrow_account(t, p->currency, &escrow);
    if (err != HB_ERR_OK) return err;
    transfer tr = {.debit_id = escrow->id, .credit_id = p->sender_id, .amount = remainder,
                   .currency = p->currency, .kind = TRANSFER_PACKET_REFUND};
    ids_format(ID_PACKET, p->id, tr.reference, sizeof tr.reference);
    err = txn_transfer(t, &tr);
    if (err != HB_ERR_OK) return err;
    if (store_packet_refunded(txn_store(t), p->id, p->claimed_count, remainder, tr.id, now) !=
        HB_ERR_OK) {
        return HB_ERR_UNAVAILABLE;
    }
    p->status = PACKET_REFUNDED;
    p->refunded_amount = remainder;
    p->refund_transfer_id = tr.id;
    p->finished_at_ms = now;
    if (digest_packet(t, p) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    char object[IDS_TEXT_MAX];
    ids_format(ID_PACKET, p->id, object, sizeof object);
    txn_audit(t, "packet.refund", object);
    return packet_result(t, p->id);
}

hb_err packet_refund_prepare(packet_refund_cmd *c, const char *actor)
{
    if (c->packet_id <= 0) return HB_ERR_INVALID_ARGUMENT;
    char canonical[64];
    int n = snprintf(canonical, sizeof canonical, "packet.refund|%lld", (long long)c->packet_id);
    ASSERT(n > 0 && (size_t)n < sizeof canonical);
    hb_err err = wallet_command_init(&c->base, actor, NULL, canonical, (size_t)n);
    c->base.exec = exec_refund;
    c->base.replay = NULL;
    return err;
}

/* ---- sweep ----------------------------------------------------------------------------------- */

#define SWEEP_PAGE 500

hb_err packet_sweep(engine *e, const char *url, int64_t now_ms, int64_t *refunded,
                    int64_t *failed, char *err_text, size_t err_text_size)
{
    *refunded = 0;
    *failed = 0;
    store_options opts = {.read_only = true};
    store *s = NULL;
    hb_err err = store_open(url, &opts, &s, err_text, err_text_size);
    if (err != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    packet_due *due = calloc(SWEEP_PAGE, sizeof *due);
    packet_refund_cmd *cmds = calloc(SWEEP_PAGE, sizeof *cmds);
    command **list = calloc(SWEEP_PAGE, sizeof *list);
    if (due == NULL || cmds == NULL || list == NULL) err = HB_ERR_UNAVAILABLE;
    /* Page through every due packet once: one whose refund is refused (its sender frozen)
     * stays sent and is passed over, so it never holds up the packets behind it. */
    packet_due after = {0, 0};
    bool first_page = true;
    int64_t first_refused = 0;
    hb_err first_code = HB_ERR_OK;
    while (err == HB_ERR_OK) {
        int count = 0;
        err = store_packet_list_expired(s, now_ms, first_page ? NULL : &after, SWEEP_PAGE, due,
                                        &count);
        if (err != HB_ERR_OK) {
            snprintf(err_text, err_text_size, "cannot list expired packets: %s",
                     store_last_error(s));
            break;
        }
        for (int i = 0; i < count; i++) {
            memset(&cmds[i], 0, sizeof cmds[i]);
            cmds[i].packet_id = due[i].id;
            hb_err perr = packet_refund_prepare(&cmds[i], "system:sweep");
            ASSERT(perr == HB_ERR_OK); /* ids from the store are positive */
            list[i] = &cmds[i].base;
        }
        err = engine_submit_many(e, list, (size_t)count);
        if (err != HB_ERR_OK) {
            snprintf(err_text, err_text_size, "the engine is stopping");
            break;
        }
        for (int i = 0; i < count; i++) {
            hb_err r = cmds[i].base.err;
            if (r == HB_ERR_OK) {
                (*refunded)++;
            } else if (r == HB_ERR_UNAVAILABLE) {
                err = HB_ERR_UNAVAILABLE;
                snprintf(err_text, err_text_size, "%s", cmds[i].base.err_detail);
            } else if (r != HB_ERR_ALREADY_SETTLED) {
                if ((*failed)++ == 0) {
                    first_refused = due[i].id;
                    first_code = r;
                }
            }
        }
        if (count < SWEEP_PAGE) break;
        after = due[count - 1];
        first_page = false;
    }
    if (*failed > 0) {
        /* one line a sweep, not one per packet: they are retried every sweep */
        fprintf(stderr,
                "{\"level\":\"warn\",\"msg\":\"packet refunds refused\",\"count\":%lld,"
                "\"first\":\"pkt_%lld\",\"code\":\"%s\"}\n",
                (long long)*failed, (long long)first_refused, hb_err_name(first_code));
    }
    free(due);
    free(cmds);
    free(list);
    store_close(s);
    return err;
}
