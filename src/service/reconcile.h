/* Reconciliation with the custody bank and the daily flow report (issue 9).
 *
 * A bank statement is CSV, one movement of the custody account a line: date (YYYY-MM-DD, the
 * bank's booking date), amount (decimal yuan, at most two decimals, positive), direction
 * (credit: money came in, a top-up; debit: money went out, a withdrawal), reference (the
 * external_ref given with the top-up or withdrawal); an optional header line "date,...".
 * Each line is matched with the ledger's top-up or withdrawal of that reference in the
 * currency; every line without one, every ledger movement of the statement's days without a
 * line, and every pair whose amount, direction or date (more than a day apart: a bank may
 * book the next day) differs is listed. The ledger's own invariants are checked too. */
#ifndef HB_SERVICE_RECONCILE_H
#define HB_SERVICE_RECONCILE_H

#include <jansson.h>

#include "store/store.h"

#define RECON_LINES_MAX 200000

typedef struct recon_line {
    int line; /* in the file, from 1 */
    int64_t day;
    int64_t amount;
    bool credit;
    char reference[LIMIT_REFERENCE_LEN + 1];
} recon_line;

typedef enum recon_kind {
    RECON_MISSING_IN_LEDGER = 1,    /* a statement line with no movement */
    RECON_MISSING_IN_STATEMENT = 2, /* a movement of the statement's days with no line */
    RECON_AMOUNT = 3,
    RECON_DIRECTION = 4,
    RECON_DATE = 5,
    RECON_DUPLICATE = 6, /* a reference on two statement lines */
} recon_kind;

typedef struct recon_diff {
    recon_kind kind;
    int line;            /* 0: a ledger movement alone */
    int64_t transfer_id; /* 0: a statement line alone */
    char reference[LIMIT_REFERENCE_LEN + 1];
    int64_t statement_amount, ledger_amount;
} recon_diff;

typedef struct recon_report {
    currency cur;
    int64_t from_day, to_day;
    int lines, matched;
    int outside; /* lines dated outside the named days: left out, neither matched nor missing */
    int64_t statement_credits, statement_debits; /* fen */
    int64_t ledger_topups, ledger_withdrawals;   /* fen, of the days */
    int diff_count;
    recon_diff *diffs; /* diff_count of them (malloc'd) */
    ledger_report ledger;
} recon_report;

/* Parse a statement. INVALID_ARGUMENT with the line and why for a bad line, no line at all, or
 * more than RECON_LINES_MAX. *lines is malloc'd. */
hb_err reconcile_parse(const char *csv, size_t len, recon_line **lines, int *count, char *why,
                       size_t size) WARN_UNUSED;
/* Match the lines with the ledger; days from..to (0, 0 = the statement's first and last;
 * lines outside named days are left out). */
hb_err reconcile_run(store *s, currency cur, const recon_line *lines, int count, int64_t from_day,
                     int64_t to_day, recon_report *out) WARN_UNUSED;
bool reconcile_ok(const recon_report *r);
json_t *reconcile_json(const recon_report *r);
void reconcile_free(recon_report *r);
const char *reconcile_kind_name(recon_kind k);

/* The daily report: every flow of a business day (top-ups, red packets sent, claimed and
 * refunded, payments and their fees, refunds and their fees, settlements, withdrawals,
 * transfers between wallets, adjustments) with counts and amounts per currency, and per system
 * account the
 * day's net that the flows make, which the report ties to the ledger: the sum of the day's
 * transfers into and out of each. */
typedef struct daily_flow {
    transfer_kind kind;
    currency cur;
    int64_t count, amount;
} daily_flow;

typedef struct daily_report {
    int64_t day;
    int flow_count;
    daily_flow flows[TRANSFER_KIND_COUNT * CURRENCY_COUNT];
    int64_t transfers; /* of the day */
    int64_t custody_net[CURRENCY_COUNT], escrow_net[CURRENCY_COUNT], fees_net[CURRENCY_COUNT];
    bool ties_out; /* the system accounts' nets from the flows equal those from the ledger */
} daily_report;

hb_err reconcile_daily(store *s, int64_t day, daily_report *out) WARN_UNUSED;
json_t *reconcile_daily_json(const daily_report *r);

#endif
