/* Manual corrections under maker-checker (issue 9): one admin proposes a transfer with a
 * reason; another admin approves it (the transfer is made, kind adjustment, reference adj_N)
 * or rejects it. The proposer may not approve its own, nor may a key made after the proposal
 * (which the proposer could have made itself); it may withdraw it (reject). Maker-checker
 * holds as far as each admin key belongs to one person. Both
 * steps are audited. Only wallets, merchants' available accounts and fee revenue may take
 * part: a merchant's pending account, the packet escrow and the custody reserve are tied to
 * payments, packets and the bank, and are corrected through those. No tier limit or risk rule
 * applies (two people agreed); the ledger's own bounds do (a wallet never goes negative). */
#ifndef HB_SERVICE_ADJUST_H
#define HB_SERVICE_ADJUST_H

#include <jansson.h>

#include "engine/engine.h"

typedef struct adjust_propose_cmd {
    command base;
    adjustment adj; /* in: debit_id, credit_id, amount, currency (NONE = the debit's), reason;
                       out: the stored proposal */
} adjust_propose_cmd;

/* INVALID_ARGUMENT (why set) for a bad amount or reason. */
hb_err adjust_propose_prepare(adjust_propose_cmd *c, const char *actor, const char *idem_key,
                              char *why, size_t why_size) WARN_UNUSED;

typedef struct adjust_decide_cmd {
    command base;
    int64_t id;
    bool approve;
    /* a browser session's start (0 for keys, checked in the writer): a session begun after
     * the proposal (whose proposer may have made its login link) may not approve it */
    int64_t approver_since_ms;
    char note[LIMIT_ERR_DETAIL_LEN + 1];
    adjustment adj; /* out */
} adjust_decide_cmd;

/* Decided in the writer: FORBIDDEN when the proposer approves its own, ALREADY_DECIDED when it
 * is not proposed any more, NOT_FOUND, or the transfer's own refusals (INSUFFICIENT_FUNDS,
 * ACCOUNT_FROZEN ...: the proposal stays proposed). */
hb_err adjust_decide_prepare(adjust_decide_cmd *c, const char *actor, char *why,
                             size_t why_size) WARN_UNUSED;

json_t *adjust_json(const adjustment *a);
const char *adjust_status_name(adjustment_status s);
adjustment_status adjust_status_parse(const char *name); /* 0 for unknown */

#endif
