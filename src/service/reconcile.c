#include "service/reconcile.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "core/csv.h"
#include "core/money.h"
#include "core/text.h"

static const char *const kind_names[] = {"",           "missing_in_ledger", "missing_in_statement",
                                         "amount_differs", "direction_differs", "date_differs",
                                         "duplicate_reference"};

const char *reconcile_kind_name(recon_kind k)
{
    return k >= RECON_MISSING_IN_LEDGER && k <= RECON_DUPLICATE ? kind_names[k] : "";
}

static hb_err bad_line(int line, const char *what, char *why, size_t size)
{
    snprintf(why, size, "line %d: %s", line, what);
    return HB_ERR_INVALID_ARGUMENT;
}

static hb_err parse_one(const csv_row *row, int line, recon_line *out, char *why, size_t size)
{
    if (row->count != 4) return bad_line(line, "expected date,amount,direction,reference", why, size);
    memset(out, 0, sizeof *out);
    out->line = line;
    if (clock_day_parse(row->fields[0], &out->day) != 0) {
        return bad_line(line, "the date must be YYYY-MM-DD", why, size);
    }
    if (money_parse(row->fields[1], strlen(row->fields[1]), &out->amount) != HB_ERR_OK ||
        out->amount <= 0 || out->amount > LIMIT_AMOUNT_MAX_FEN) {
        return bad_line(line, "the amount must be positive yuan with at most two decimals", why, size);
    }
    if (strcasecmp(row->fields[2], "credit") == 0) {
        out->credit = true;
    } else if (strcasecmp(row->fields[2], "debit") != 0) {
        return bad_line(line, "the direction must be credit or debit", why, size);
    }
    const char *ref = row->fields[3];
    size_t ref_len = strlen(ref);
    if (ref_len == 0 || ref_len > LIMIT_REFERENCE_LEN || !text_valid(ref, LIMIT_REFERENCE_LEN, false)) {
        return bad_line(line, "the reference must be 1..128 bytes of UTF-8", why, size);
    }
    memcpy(out->reference, ref, ref_len + 1);
    return HB_ERR_OK;
}

hb_err reconcile_parse(const char *csv, size_t len, recon_line **lines, int *count, char *why,
                       size_t size)
{
    *lines = NULL;
    *count = 0;
    size_t pos = 0, line_len = 0;
    const char *text = NULL;
    int number = 0, capacity = 0;
    recon_line *out = NULL;
    csv_row *row = malloc(sizeof *row);
    if (row == NULL) return HB_ERR_UNAVAILABLE;
    hb_err err = HB_ERR_OK;
    while (err == HB_ERR_OK && csv_next_line(csv, len, &pos, &text, &line_len)) {
        number++;
        if (line_len == 0) continue;
        const char *problem = NULL;
        if (csv_parse_line(text, line_len, row, &problem) != HB_ERR_OK) {
            err = bad_line(number, problem, why, size);
            break;
        }
        if (*count == 0 && number == 1 && row->count >= 1 && strcasecmp(row->fields[0], "date") == 0) {
            continue; /* the header */
        }
        if (*count == RECON_LINES_MAX) {
            err = bad_line(number, "more lines than a statement may have (200,000)", why, size);
            break;
        }
        if (*count == capacity) {
            capacity = capacity == 0 ? 256 : capacity * 2;
            recon_line *grown = realloc(out, (size_t)capacity * sizeof *grown);
            if (grown == NULL) {
                err = HB_ERR_UNAVAILABLE;
                break;
            }
            out = grown;
        }
        err = parse_one(row, number, &out[*count], why, size);
        if (err == HB_ERR_OK) (*count)++;
    }
    free(row);
    if (err == HB_ERR_OK && *count == 0) {
        snprintf(why, size, "the statement has no lines");
        err = HB_ERR_INVALID_ARGUMENT;
    }
    if (err != HB_ERR_OK) {
        free(out);
        *count = 0;
        return err;
    }
    *lines = out;
    return HB_ERR_OK;
}

/* ---- matching ----------------------------------------------------------------------------- */

typedef struct movement {
    transfer t;
    int64_t day;
    bool matched;
} movement;

static int by_reference(const void *a, const void *b)
{
    const movement *x = a, *y = b;
    int c = strcmp(x->t.reference, y->t.reference);
    return c != 0 ? c : (x->t.id < y->t.id ? -1 : x->t.id > y->t.id);
}

static int line_by_reference(const void *a, const void *b)
{
    const recon_line *const *x = a, *const *y = b;
    int c = strcmp((*x)->reference, (*y)->reference);
    return c != 0 ? c : (*x)->line - (*y)->line;
}

static hb_err add_diff(recon_report *r, int *capacity, recon_kind kind, const recon_line *l,
                       const movement *m)
{
    if (r->diff_count == *capacity) {
        *capacity = *capacity == 0 ? 64 : *capacity * 2;
        recon_diff *grown = realloc(r->diffs, (size_t)*capacity * sizeof *grown);
        if (grown == NULL) return HB_ERR_UNAVAILABLE;
        r->diffs = grown;
    }
    recon_diff *d = &r->diffs[r->diff_count++];
    memset(d, 0, sizeof *d);
    d->kind = kind;
    if (l != NULL) {
        d->line = l->line;
        d->statement_amount = l->amount;
        snprintf(d->reference, sizeof d->reference, "%s", l->reference);
    }
    if (m != NULL) {
        d->transfer_id = m->t.id;
        d->ledger_amount = m->t.amount;
        snprintf(d->reference, sizeof d->reference, "%s", m->t.reference);
    }
    return HB_ERR_OK;
}

/* The custody account's movements of the currency created in days from-1..to+1 (a bank may
 * book a day apart from the ledger). */
static hb_err load_movements(store *s, currency cur, int64_t from_day, int64_t to_day,
                             movement **out, int *count)
{
    enum { PAGE = 512 };
    transfer *page = malloc(PAGE * sizeof *page);
    if (page == NULL) return HB_ERR_UNAVAILABLE;
    int capacity = 0;
    *out = NULL;
    *count = 0;
    int64_t after = 0;
    hb_err err = HB_ERR_OK;
    for (int n = PAGE; n == PAGE && err == HB_ERR_OK;) {
        err = store_transfer_range(s, clock_day_start_ms(from_day - 1), clock_day_start_ms(to_day + 2),
                                   TRANSFER_TOPUP, TRANSFER_WITHDRAW, after, PAGE, page, &n);
        for (int i = 0; err == HB_ERR_OK && i < n; i++) {
            after = page[i].id;
            if (page[i].currency != cur) continue;
            if (*count == capacity) {
                capacity = capacity == 0 ? 256 : capacity * 2;
                movement *grown = realloc(*out, (size_t)capacity * sizeof *grown);
                if (grown == NULL) {
                    err = HB_ERR_UNAVAILABLE;
                    break;
                }
                *out = grown;
            }
            movement *m = &(*out)[(*count)++];
            m->t = page[i];
            m->day = clock_business_day(page[i].created_at_ms, NULL);
            m->matched = false;
        }
    }
    free(page);
    return err;
}

hb_err reconcile_run(store *s, currency cur, const recon_line *lines, int count, int64_t from_day,
                     int64_t to_day, recon_report *out)
{
    memset(out, 0, sizeof *out);
    out->cur = cur;
    out->lines = count;
    if (from_day == 0 && to_day == 0) {
        from_day = INT64_MAX;
        to_day = INT64_MIN;
        for (int i = 0; i < count; i++) {
            if (lines[i].day < from_day) from_day = lines[i].day;
            if (lines[i].day > to_day) to_day = lines[i].day;
        }
    }
    out->from_day = from_day;
    out->to_day = to_day;
    __int128 credits = 0, debits = 0; /* 200,000 lines of up to 10^15 fen: past int64 */
    movement *moves = NULL;
    int n_moves = 0, capacity = 0;
    const recon_line **sorted = malloc((size_t)(count > 0 ? count : 1) * sizeof *sorted);
    hb_err err = sorted == NULL ? HB_ERR_UNAVAILABLE
                                : load_movements(s, cur, from_day, to_day, &moves, &n_moves);
    if (err == HB_ERR_OK && n_moves > 0) qsort(moves, (size_t)n_moves, sizeof *moves, by_reference);
    for (int i = 0; err == HB_ERR_OK && i < count; i++) sorted[i] = &lines[i];
    if (err == HB_ERR_OK && count > 0) qsort(sorted, (size_t)count, sizeof *sorted, line_by_reference);
    for (int i = 0; err == HB_ERR_OK && i < count; i++) {
        const recon_line *l = sorted[i];
        if (l->day < from_day || l->day > to_day) {
            out->outside++; /* another period's line: its movement is not loaded */
            continue;
        }
        if (l->credit) {
            credits += l->amount;
        } else {
            debits += l->amount;
        }
        if (i > 0 && strcmp(sorted[i - 1]->reference, l->reference) == 0) {
            err = add_diff(out, &capacity, RECON_DUPLICATE, l, NULL);
            continue;
        }
        /* the movements of this reference: the first not matched yet */
        movement key = {.t = {.id = 0}};
        snprintf(key.t.reference, sizeof key.t.reference, "%s", l->reference);
        int lo = 0, hi = n_moves;
        while (lo < hi) { /* the first movement with reference >= l's */
            int mid = lo + (hi - lo) / 2;
            if (strcmp(moves[mid].t.reference, l->reference) < 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        movement *m = NULL;
        for (int j = lo; j < n_moves && strcmp(moves[j].t.reference, l->reference) == 0; j++) {
            if (!moves[j].matched) {
                m = &moves[j];
                break;
            }
        }
        if (m == NULL) {
            err = add_diff(out, &capacity, RECON_MISSING_IN_LEDGER, l, NULL);
            continue;
        }
        m->matched = true;
        bool credit = m->t.kind == TRANSFER_TOPUP;
        if (credit != l->credit) {
            err = add_diff(out, &capacity, RECON_DIRECTION, l, m);
        } else if (m->t.amount != l->amount) {
            err = add_diff(out, &capacity, RECON_AMOUNT, l, m);
        } else if (m->day < l->day - 1 || m->day > l->day + 1) {
            err = add_diff(out, &capacity, RECON_DATE, l, m);
        } else {
            out->matched++;
        }
    }
    for (int i = 0; err == HB_ERR_OK && i < n_moves; i++) {
        const movement *m = &moves[i];
        if (m->day < from_day || m->day > to_day) continue;
        if (m->t.kind == TRANSFER_TOPUP) {
            out->ledger_topups += m->t.amount;
        } else {
            out->ledger_withdrawals += m->t.amount;
        }
        if (!m->matched) err = add_diff(out, &capacity, RECON_MISSING_IN_STATEMENT, NULL, m);
    }
    out->statement_credits = credits > INT64_MAX ? INT64_MAX : (int64_t)credits;
    out->statement_debits = debits > INT64_MAX ? INT64_MAX : (int64_t)debits;
    free(moves);
    free(sorted);
    if (err == HB_ERR_OK && store_ledger_check(s, &out->ledger) != HB_ERR_OK) err = HB_ERR_UNAVAILABLE;
    if (err != HB_ERR_OK) reconcile_free(out);
    return err;
}

bool reconcile_ok(const recon_report *r)
{
    return r->diff_count == 0 && r->ledger.balanced;
}

void reconcile_free(recon_report *r)
{
    free(r->diffs);
    r->diffs = NULL;
    r->diff_count = 0;
}

json_t *reconcile_json(const recon_report *r)
{
    char from[16], to[16];
    clock_day_format(r->from_day, from, sizeof from);
    clock_day_format(r->to_day, to, sizeof to);
    json_t *diffs = json_array();
    for (int i = 0; i < r->diff_count; i++) {
        const recon_diff *d = &r->diffs[i];
        json_t *o = json_pack("{s:s,s:s}", "kind", reconcile_kind_name(d->kind), "reference",
                              d->reference);
        json_object_set_new(o, "line", d->line > 0 ? json_integer(d->line) : json_null());
        char id[32];
        snprintf(id, sizeof id, "tr_%lld", (long long)d->transfer_id);
        json_object_set_new(o, "transfer", d->transfer_id > 0 ? json_string(id) : json_null());
        json_object_set_new(o, "statement_amount",
                            d->line > 0 ? json_integer(d->statement_amount) : json_null());
        json_object_set_new(o, "ledger_amount",
                            d->transfer_id > 0 ? json_integer(d->ledger_amount) : json_null());
        json_array_append_new(diffs, o);
    }
    return json_pack("{s:b,s:s,s:s,s:s,s:i,s:i,s:i,s:I,s:I,s:I,s:I,s:o,s:b}", "ok",
                     reconcile_ok(r), "currency", currency_code(r->cur), "from", from, "to", to,
                     "lines", r->lines, "matched", r->matched, "lines_outside_days", r->outside, "statement_credits", (json_int_t)r->statement_credits,
                     "statement_debits", (json_int_t)r->statement_debits, "ledger_topups",
                     (json_int_t)r->ledger_topups, "ledger_withdrawals",
                     (json_int_t)r->ledger_withdrawals, "differences", diffs, "ledger_balanced",
                     r->ledger.balanced);
}

/* ---- the daily report ----------------------------------------------------------------------- */

hb_err reconcile_daily(store *s, int64_t day, daily_report *out)
{
    memset(out, 0, sizeof *out);
    out->day = day;
    int64_t custody[CURRENCY_COUNT] = {0}, escrow[CURRENCY_COUNT] = {0}, fees[CURRENCY_COUNT] = {0};
    for (int c = CURRENCY_CNY; c < CURRENCY_COUNT; c++) {
        account a;
        hb_err err = store_account_find_system(s, ACCOUNT_CUSTODY_RESERVE, (currency)c, &a);
        if (err == HB_ERR_OK) custody[c] = a.id;
        if (err == HB_ERR_OK) err = store_account_find_system(s, ACCOUNT_PACKET_ESCROW, (currency)c, &a);
        if (err == HB_ERR_OK) escrow[c] = a.id;
        if (err == HB_ERR_OK) err = store_account_find_system(s, ACCOUNT_FEE_REVENUE, (currency)c, &a);
        if (err == HB_ERR_OK) fees[c] = a.id;
        if (err != HB_ERR_OK && err != HB_ERR_NOT_FOUND) return HB_ERR_UNAVAILABLE;
    }
    daily_flow flows[TRANSFER_KIND_COUNT][CURRENCY_COUNT];
    memset(flows, 0, sizeof flows);
    int64_t ledger_custody[CURRENCY_COUNT] = {0}, ledger_escrow[CURRENCY_COUNT] = {0},
            ledger_fees[CURRENCY_COUNT] = {0}, adjusted_fees[CURRENCY_COUNT] = {0};
    enum { PAGE = 512 };
    transfer *page = malloc(PAGE * sizeof *page);
    if (page == NULL) return HB_ERR_UNAVAILABLE;
    int64_t after = 0;
    hb_err err = HB_ERR_OK;
    for (int n = PAGE; n == PAGE && err == HB_ERR_OK;) {
        err = store_transfer_range(s, clock_day_start_ms(day), clock_day_start_ms(day + 1),
                                   TRANSFER_KIND_NONE, TRANSFER_KIND_NONE, after, PAGE, page, &n);
        for (int i = 0; err == HB_ERR_OK && i < n; i++) {
            const transfer *t = &page[i];
            after = t->id;
            out->transfers++;
            daily_flow *f = &flows[t->kind][t->currency];
            f->count++;
            f->amount += t->amount;
            /* the ledger's view: what each system account took in and gave out */
            int c = (int)t->currency;
            ledger_custody[c] += (t->credit_id == custody[c]) * t->amount - (t->debit_id == custody[c]) * t->amount;
            ledger_escrow[c] += (t->credit_id == escrow[c]) * t->amount - (t->debit_id == escrow[c]) * t->amount;
            ledger_fees[c] += (t->credit_id == fees[c]) * t->amount - (t->debit_id == fees[c]) * t->amount;
            if (t->kind == TRANSFER_ADJUSTMENT) { /* a correction of fee revenue, either way */
                adjusted_fees[c] += (t->credit_id == fees[c]) * t->amount -
                                    (t->debit_id == fees[c]) * t->amount;
            }
        }
    }
    free(page);
    if (err != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    out->ties_out = true;
    for (int c = CURRENCY_CNY; c < CURRENCY_COUNT; c++) {
        for (int k = 1; k < TRANSFER_KIND_COUNT; k++) {
            if (flows[k][c].count == 0) continue;
            flows[k][c].kind = (transfer_kind)k;
            flows[k][c].cur = (currency)c;
            out->flows[out->flow_count++] = flows[k][c];
        }
        /* the flows' view */
        out->custody_net[c] = flows[TRANSFER_WITHDRAW][c].amount - flows[TRANSFER_TOPUP][c].amount;
        out->escrow_net[c] = flows[TRANSFER_PACKET_SEND][c].amount -
                             flows[TRANSFER_PACKET_CLAIM][c].amount -
                             flows[TRANSFER_PACKET_REFUND][c].amount;
        out->fees_net[c] = flows[TRANSFER_PAYMENT_FEE][c].amount - flows[TRANSFER_FEE_REFUND][c].amount +
                           adjusted_fees[c];
        out->ties_out &= out->custody_net[c] == ledger_custody[c] &&
                         out->escrow_net[c] == ledger_escrow[c] && out->fees_net[c] == ledger_fees[c];
    }
    return HB_ERR_OK;
}

json_t *reconcile_daily_json(const daily_report *r)
{
    char date[16];
    clock_day_format(r->day, date, sizeof date);
    json_t *flows = json_array();
    for (int i = 0; i < r->flow_count; i++) {
        const daily_flow *f = &r->flows[i];
        json_array_append_new(flows, json_pack("{s:s,s:s,s:I,s:I}", "flow", transfer_kind_name(f->kind),
                                               "currency", currency_code(f->cur), "count",
                                               (json_int_t)f->count, "amount", (json_int_t)f->amount));
    }
    json_t *nets = json_array();
    for (int c = CURRENCY_CNY; c < CURRENCY_COUNT; c++) {
        json_array_append_new(nets, json_pack("{s:s,s:I,s:I,s:I}", "currency",
                                              currency_code((currency)c), "custody_reserve",
                                              (json_int_t)r->custody_net[c], "packet_escrow",
                                              (json_int_t)r->escrow_net[c], "fee_revenue",
                                              (json_int_t)r->fees_net[c]));
    }
    return json_pack("{s:s,s:I,s:o,s:o,s:b}", "date", date, "transfers", (json_int_t)r->transfers,
                     "flows", flows, "system_account_nets", nets, "ties_out", r->ties_out);
}
