/* Payments through payment codes, refunds, and D+1 settlement (DESIGN.md section 3).
 *
 * Pay: the payer scans a code's EMVCo payload (or opens its /p/ link); the sealed token
 * inside names the code. A merchant code's payment moves amount - fee from the payer's wallet
 * to the merchant's pending account and the fee to fee revenue, in one transaction; the fee
 * is amount x the merchant's rate in basis points rounded half-up to the fen (money_fee_bp).
 * A personal code's payment credits the owner's wallet at once, no fee, nothing to settle.
 * The payer's tier limits apply, and the static-code cap: at most [payments]
 * static_daily_cap (500.00) a business day through static codes.
 *
 * Refund: full or partial, never more than remains. The fee goes back pro rata: after a
 * refund the payer has been returned round_half_up(fee x refunded / amount) of the fee in
 * total (so a full refund returns the whole fee, and partial refunds never add up to more);
 * the rest of the refund comes from the merchant's pending account before settlement and
 * from its available account after (INSUFFICIENT_FUNDS if it lacks it), or from the owner's
 * wallet for a personal code.
 *
 * Settle day D: every merchant's unsettled payments of D and earlier move, net of fees and
 * of refunds already paid out of pending, to its available account, in one batch per
 * merchant stamped on each payment. A merchant with a batch for D is skipped, so settling D
 * again changes nothing, and a payment that commits late waits for the next day's batch. */
#ifndef HB_SERVICE_PAYMENT_H
#define HB_SERVICE_PAYMENT_H

#include <jansson.h>

#include "core/code_token.h"
#include "engine/engine.h"
#include "service/keyring.h"

typedef struct payment_cmd {
    command base;
    /* in */
    int64_t payer_id;
    int64_t amount; /* static codes: what the payer entered; dynamic: 0 or the order's amount */
    char device[LIMIT_DEVICE_LEN + 1];
    char region[LIMIT_REGION_LEN + 1];
    code_token token; /* opened by payment_prepare */
    /* out */
    payment payment;
    paycode code;
} payment_cmd;

typedef struct refund_cmd {
    command base;
    int64_t payment_id;
    int64_t amount;
    int64_t owner_id; /* the caller's customer when a merchant refunds (its own payments
                       * only); 0 for an admin */
    refund refund;    /* out */
    payment payment;  /* out: after the refund */
} refund_cmd;

typedef struct settle_cmd {
    command base;
    int64_t day;
    int64_t after;         /* in: merchants after this one (0 = from the first) */
    int considered;        /* out: merchants looked at (a full page: submit again) */
    int64_t last_merchant; /* out: the last of them (the next command's `after`) */
    int created;           /* out: batches made by this command */
    int skipped;           /* out: merchants whose accounts refused the move (left unsettled) */
    char skip_detail[LIMIT_ERR_DETAIL_LEN + 1]; /* out: the first skip's reason */
    settlement batches[LIMIT_SETTLE_PAGE]; /* out: the batches made */
} settle_cmd;

/* Find the token in what the payer scanned: an EMVCo payload carrying our GUID (whose amount,
 * if any, must match the token's), a link whose path ends in /p/TOKEN, or a bare token; and
 * open it. INVALID_CODE (why set) for anything else or a token that does not open;
 * CODE_EXPIRED for a dynamic token past its minute. */
hb_err payment_open_payload(const char *payload, const keyring *keys, int64_t now_ms,
                            code_token *out, char *why, size_t why_size) WARN_UNUSED;

/* Validate and fill the command; c->token must be set (payment_open_payload). */
hb_err payment_prepare(payment_cmd *c, const char *actor, const char *idem_key, char *why,
                       size_t why_size) WARN_UNUSED;
hb_err refund_prepare(refund_cmd *c, const char *actor, const char *idem_key, char *why,
                      size_t why_size) WARN_UNUSED;
/* One page of merchants (LIMIT_SETTLE_PAGE) after `after`; submit again, after the last
 * merchant considered, while a full page was considered. A merchant whose pending or
 * available account refuses the move (frozen, closed, a net above the transfer maximum) is
 * skipped and counted: its payments stay unsettled for a later run. */
hb_err settle_prepare(settle_cmd *c, int64_t day, int64_t after, const char *actor) WARN_UNUSED;

/* Settle business day `day` through the engine, page after page. *batches counts what was
 * created, *skipped the merchants left unsettled (detail: the first reason). INVALID_ARGUMENT
 * (detail) for a day that has not ended. */
hb_err payment_settle_day(engine *e, int64_t day, const char *actor, int *batches, int *skipped,
                          char *detail, size_t detail_size) WARN_UNUSED;

/* "succeeded", "partially_refunded" or "refunded". */
const char *payment_status(const payment *p);
/* The public JSON of a payment, a refund and a settlement batch (new references). */
json_t *payment_json(const payment *p);
json_t *refund_json(const refund *r);
json_t *settlement_json(const settlement *b);
/* A batch's settlement file: a header, one line per payment, a total line. Writes through
 * the callback (returns false to stop); reads through a read connection. */
typedef bool (*csv_sink)(void *ctx, const char *text, size_t len);
hb_err settlement_csv(store *reader, const settlement *b, csv_sink sink, void *ctx) WARN_UNUSED;

#endif
