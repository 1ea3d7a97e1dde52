/* The store: every query hongbao runs, written once, over a driver (driver.h).
 *
 * Statements are prepared once at open and reused; each function binds, steps and resets
 * one of them. Rows read back are checked (ASSERT) against the bounds the schema promises,
 * so a corrupted or hand-edited database stops the process rather than moving wrong money. */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/money.h"
#include "store/store_internal.h"

#include <libpq-fe.h>

static const char *const statement_sql[STMT_COUNT] = {
#define STMT_SQL(name, sql) sql,
    STATEMENTS(STMT_SQL)
#undef STMT_SQL
};

/* ---- names ---------------------------------------------------------------------------- */

static const char *const account_kind_names[ACCOUNT_KIND_COUNT] = {
    "", "wallet", "merchant_pending", "merchant_available", "packet_escrow", "fee_revenue",
    "custody_reserve"};
static const char *const tier_names[TIER_COUNT] = {"system", "personal", "enterprise",
                                                   "provider"};
static const char *const status_names[ACCOUNT_STATUS_COUNT] = {"active", "frozen", "closed"};
static const char *const transfer_kind_names[TRANSFER_KIND_COUNT] = {
    "",        "topup",       "withdraw", "p2p",        "packet_send", "packet_claim",
    "packet_refund", "payment", "payment_fee", "refund", "fee_refund", "settlement",
    "adjustment"};
static const char *const packet_status_names[PACKET_STATUS_COUNT] = {"sent", "claimed_out",
                                                                     "expired", "refunded"};

const char *packet_status_name(packet_status st)
{
    return (unsigned)st < PACKET_STATUS_COUNT ? packet_status_names[st] : "";
}
static const char *const role_names[ROLE_COUNT] = {"", "admin", "merchant", "support", "person"};

const char *role_name(role r)
{
    return (unsigned)r < ROLE_COUNT ? role_names[r] : "";
}

role role_parse(const char *name)
{
    for (int i = 1; i < ROLE_COUNT; i++) {
        if (strcmp(name, role_names[i]) == 0) return (role)i;
    }
    return ROLE_NONE;
}

const char *account_kind_name(account_kind k)
{
    return (unsigned)k < ACCOUNT_KIND_COUNT ? account_kind_names[k] : "";
}

account_kind account_kind_parse(const char *name)
{
    for (int i = 1; i < ACCOUNT_KIND_COUNT; i++) {
        if (strcmp(name, account_kind_names[i]) == 0) return (account_kind)i;
    }
    return ACCOUNT_KIND_NONE;
}

account_class account_kind_class(account_kind k)
{
    switch (k) {
    case ACCOUNT_CUSTODY_RESERVE:
        return ACCOUNT_CLASS_CUSTODY;
    case ACCOUNT_FEE_REVENUE:
        return ACCOUNT_CLASS_PLATFORM;
    default:
        return ACCOUNT_CLASS_CUSTOMER;
    }
}

const char *tier_name(tier t)
{
    return (unsigned)t < TIER_COUNT ? tier_names[t] : "";
}

tier tier_parse(const char *name)
{
    for (int i = 0; i < TIER_COUNT; i++) {
        if (strcmp(name, tier_names[i]) == 0) return (tier)i;
    }
    return TIER_COUNT;
}

const char *account_status_name(account_status s)
{
    return (unsigned)s < ACCOUNT_STATUS_COUNT ? status_names[s] : "";
}

const char *transfer_kind_name(transfer_kind k)
{
    return (unsigned)k < TRANSFER_KIND_COUNT ? transfer_kind_names[k] : "";
}

transfer_kind transfer_kind_parse(const char *name)
{
    for (int i = 1; i < TRANSFER_KIND_COUNT; i++) {
        if (strcmp(name, transfer_kind_names[i]) == 0) return (transfer_kind)i;
    }
    return TRANSFER_KIND_NONE;
}

/* ---- open and close ------------------------------------------------------------------ */

static const driver_ops *driver_for(const char *url)
{
    if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0) {
        return &driver_pg;
    }
    return &driver_sqlite;
}

hb_err store_open(const char *url, const store_options *options, store **out, char *err_text,
                  size_t err_text_size)
{
    char scratch[8];
    if (err_text == NULL) {
        err_text = scratch;
        err_text_size = sizeof scratch;
    }
    err_text[0] = '\0';
    if (url == NULL || url[0] == '\0' || strlen(url) > LIMIT_PATH_LEN) {
        snprintf(err_text, err_text_size, "no store path given");
        return HB_ERR_INVALID_ARGUMENT;
    }
    const driver_ops *driver = driver_for(url);
    store *s = calloc(1, sizeof *s);
    if (s == NULL) return HB_ERR_UNAVAILABLE;
    s->driver = driver;
    hb_err err = driver->open(url, options, &s->conn, err_text, err_text_size);
    if (err != HB_ERR_OK) {
        free(s);
        return err;
    }
    for (int i = 0; i < STMT_COUNT; i++) {
        err = driver->prepare(s->conn, statement_sql[i], &s->stmts[i]);
        if (err != HB_ERR_OK) {
            snprintf(err_text, err_text_size, "cannot prepare statement %d: %s", i,
                     driver->last_error(s->conn));
            store_close(s);
            return HB_ERR_UNAVAILABLE;
        }
    }
    *out = s;
    return HB_ERR_OK;
}

void store_url_redacted(const char *url, char *out, size_t size)
{
    if (driver_for(url) != &driver_pg) {
        snprintf(out, size, "%s", url);
        return;
    }
    char *parse_error = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &parse_error);
    if (opts == NULL) {
        PQfreemem(parse_error);
        snprintf(out, size, "postgresql://(unparsable)");
        return;
    }
    const char *user = "", *host = "", *port = "", *db = "";
    for (PQconninfoOption *o = opts; o->keyword != NULL; o++) {
        if (o->val == NULL) continue;
        if (strcmp(o->keyword, "user") == 0) user = o->val;
        if (strcmp(o->keyword, "host") == 0) host = o->val;
        if (strcmp(o->keyword, "port") == 0) port = o->val;
        if (strcmp(o->keyword, "dbname") == 0) db = o->val;
    }
    snprintf(out, size, "postgresql://%s%s%s%s%s/%s", user, user[0] ? "@" : "", host,
             port[0] ? ":" : "", port, db);
    PQconninfoFree(opts);
}

void store_close(store *s)
{
    if (s == NULL) return;
    for (int i = 0; i < STMT_COUNT; i++) {
        if (s->stmts[i] != NULL) s->driver->finalize(s->stmts[i]);
    }
    s->driver->close(s->conn);
    store_lists_invalidate(s);
    free(s->lists);
    free(s);
}

hb_err store_ping(store *s)
{
    return s->driver->ping == NULL ? HB_ERR_OK : s->driver->ping(s->conn);
}

bool store_alive(const store *s)
{
    return s->driver->alive == NULL || s->driver->alive(s->conn);
}

const char *store_last_error(const store *s)
{
    return s->driver->last_error(s->conn);
}

bool store_exclusive_writer(const store *s)
{
    return s->driver->exclusive_writer;
}

hb_err store_data_version(store *s, int64_t *out)
{
    if (s->driver->data_version == NULL) return HB_ERR_UNAVAILABLE;
    return s->driver->data_version(s->conn, out);
}

/* ---- transactions ---------------------------------------------------------------------- */

hb_err store_begin(store *s)
{
    ASSERT(!s->in_transaction);
    hb_err err = s->driver->exec(s->conn, s->driver->begin_sql);
    if (err == HB_ERR_OK) s->in_transaction = true;
    s->lists_checked = false;
    s->lists_written = false;
    return err == HB_ERR_OK ? HB_ERR_OK : HB_ERR_UNAVAILABLE;
}

hb_err store_commit(store *s)
{
    ASSERT(s->in_transaction && !s->in_savepoint);
    hb_err err = run(s, stmt(s, STMT_COMMIT));
    if (err != HB_ERR_OK) return HB_ERR_UNAVAILABLE; /* the caller rolls back */
    s->in_transaction = false;
    return HB_ERR_OK;
}

void store_rollback(store *s)
{
    if (!s->in_transaction) return;
    (void)s->driver->exec(s->conn, "ROLLBACK");
    s->in_transaction = false;
    s->in_savepoint = false;
    if (s->lists_written) store_lists_invalidate(s);
}

hb_err store_savepoint(store *s)
{
    ASSERT(s->in_transaction && !s->in_savepoint);
    hb_err err = run_write(s, stmt(s, STMT_SAVEPOINT), -1);
    if (err == HB_ERR_OK) s->in_savepoint = true;
    return err == HB_ERR_OK ? HB_ERR_OK : HB_ERR_UNAVAILABLE;
}

hb_err store_savepoint_release(store *s)
{
    ASSERT(s->in_savepoint);
    s->in_savepoint = false;
    return run_write(s, stmt(s, STMT_RELEASE), -1) == HB_ERR_OK ? HB_ERR_OK : HB_ERR_UNAVAILABLE;
}

hb_err store_savepoint_rollback(store *s)
{
    ASSERT(s->in_savepoint);
    s->in_savepoint = false;
    if (s->lists_written) store_lists_invalidate(s);
    hb_err err = run(s, stmt(s, STMT_ROLLBACK_TO));
    if (err != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    /* ROLLBACK TO keeps the savepoint open; release it so the next command starts clean. */
    return run(s, stmt(s, STMT_RELEASE)) == HB_ERR_OK ? HB_ERR_OK : HB_ERR_UNAVAILABLE;
}

hb_err store_max_id(store *s, store_sequence seq, int64_t *out)
{
    static const stmt_id ids[] = {STMT_ACCOUNT_MAX_ID,    STMT_TRANSFER_MAX_ID,
                                  STMT_PACKET_MAX_ID,     STMT_CODE_MAX_ID,
                                  STMT_PAYMENT_MAX_ID,    STMT_REFUND_MAX_ID,
                                  STMT_SETTLEMENT_MAX_ID, STMT_WEBHOOK_MAX_ID,
                                  STMT_DELIVERY_MAX_ID,   STMT_CASE_MAX_ID,
                                  STMT_LARGE_MAX_ID,      STMT_ADJUSTMENT_MAX_ID};
    ASSERT((unsigned)seq < sizeof ids / sizeof ids[0]);
    return select_i64(s, ids[seq], out);
}

/* ---- accounts ---------------------------------------------------------------------------- */

static void account_assert_valid(const account *a)
{
    ASSERT(a->id > 0);
    ASSERT(a->real_name_level >= 0 && a->real_name_level <= 3);
    ASSERT(a->kind > ACCOUNT_KIND_NONE && a->kind < ACCOUNT_KIND_COUNT);
    ASSERT((unsigned)a->tier < TIER_COUNT);
    ASSERT(currency_valid(a->currency));
    ASSERT((a->flags & ~(uint32_t)ACCOUNT_FLAGS_ALL) == 0);
    ASSERT((unsigned)a->status < ACCOUNT_STATUS_COUNT);
    ASSERT(a->balance >= -LIMIT_BALANCE_MAX_FEN && a->balance <= LIMIT_BALANCE_MAX_FEN);
}

hb_err store_account_insert(store *s, const account *a)
{
    account_assert_valid(a);
    ASSERT(a->balance == 0); /* money only ever arrives by transfer */
    void *st = stmt(s, STMT_ACCOUNT_INSERT);
    const driver_ops *d = s->driver;
    d->bind_i64(st, 1, a->id);
    bind_str(s, st, 2, a->owner);
    d->bind_i64(st, 3, a->kind);
    d->bind_i64(st, 4, a->tier);
    bind_str(s, st, 5, currency_code(a->currency));
    d->bind_i64(st, 6, a->flags);
    d->bind_i64(st, 7, a->status);
    d->bind_i64(st, 8, a->restricted_until_ms);
    d->bind_i64(st, 9, a->created_at_ms);
    d->bind_i64(st, 10, a->real_name_level);
    bind_str(s, st, 11, a->region);
    bind_audit_tag(s, st, 12);
    hb_err err = run(s, st);
    if (err != HB_ERR_OK) return err;
    st = stmt(s, STMT_BALANCE_INSERT);
    d->bind_i64(st, 1, a->id);
    d->bind_i64(st, 2, 0);
    return run(s, st);
}

static void account_from_row(store *s, void *st, account *out)
{
    const driver_ops *d = s->driver;
    memset(out, 0, sizeof *out);
    out->id = d->column_i64(st, 0);
    column_copy(s, st, 1, out->owner, sizeof out->owner);
    out->kind = (account_kind)d->column_i64(st, 2);
    out->tier = (tier)d->column_i64(st, 3);
    out->currency = column_currency(s, st, 4);
    out->balance = d->column_i64(st, 5);
    out->flags = (uint32_t)d->column_i64(st, 6);
    out->status = (account_status)d->column_i64(st, 7);
    out->restricted_until_ms = d->column_i64(st, 8);
    out->created_at_ms = d->column_i64(st, 9);
    out->debit_day = d->column_i64(st, 10);
    out->day_debits = d->column_i64(st, 11);
    out->last_transfer_id = d->column_i64(st, 12);
    out->real_name_level = (int)d->column_i64(st, 13);
    column_copy(s, st, 14, out->region, sizeof out->region);
    out->debit_year = d->column_i64(st, 15);
    out->year_debits = d->column_i64(st, 16);
    account_assert_valid(out);
}

static void account_row(store *s, void *st, void *item)
{
    account_from_row(s, st, item);
}

static hb_err account_select_one(store *s, void *st, account *out)
{
    return select_one(s, st, out, account_row);
}

hb_err store_account_get(store *s, int64_t id, account *out)
{
    void *st = stmt(s, STMT_ACCOUNT_GET);
    s->driver->bind_i64(st, 1, id);
    hb_err err = account_select_one(s, st, out);
    ASSERT(err != HB_ERR_OK || out->id == id);
    return err;
}

hb_err store_account_find_system(store *s, account_kind kind, currency cur, account *out)
{
    ASSERT(currency_valid(cur));
    void *st = stmt(s, STMT_ACCOUNT_FIND_SYSTEM);
    s->driver->bind_i64(st, 1, kind);
    bind_str(s, st, 2, currency_code(cur));
    return account_select_one(s, st, out);
}

hb_err store_account_add_balance(store *s, int64_t id, int64_t delta, const debit_totals *totals,
                                 int64_t last_transfer_id, uint32_t flags)
{
    ASSERT(totals->day >= 0 && totals->day_debits >= 0 && totals->year >= 0 &&
           totals->year_debits >= 0 && last_transfer_id >= 0);
    void *st = stmt(s, STMT_BALANCE_ADD);
    s->driver->bind_i64(st, 1, id);
    s->driver->bind_i64(st, 2, delta);
    s->driver->bind_i64(st, 3, totals->day);
    s->driver->bind_i64(st, 4, totals->day_debits);
    s->driver->bind_i64(st, 5, last_transfer_id);
    /* The database refuses what the flags forbid, whatever the writer believed. */
    s->driver->bind_i64(st, 6, (flags & ACCOUNT_FLAG_NO_NEGATIVE) != 0);
    s->driver->bind_i64(st, 7, (flags & ACCOUNT_FLAG_NO_POSITIVE) != 0);
    s->driver->bind_i64(st, 8, totals->year);
    s->driver->bind_i64(st, 9, totals->year_debits);
    return run_write(s, st, 1);
}

hb_err store_account_set_real_name(store *s, int64_t id, int level)
{
    ASSERT(level >= 0 && level <= 3);
    void *st = stmt(s, STMT_ACCOUNT_SET_REAL_NAME);
    s->driver->bind_i64(st, 1, id);
    s->driver->bind_i64(st, 2, level);
    return run_write(s, st, 1);
}

hb_err store_account_balance(store *s, int64_t id, int64_t *balance, debit_totals *totals,
                             int64_t *last_transfer_id)
{
    void *st = stmt(s, STMT_BALANCE_GET);
    s->driver->bind_i64(st, 1, id);
    bool row = false;
    hb_err err = s->driver->step(st, &row);
    if (err == HB_ERR_OK && !row) err = HB_ERR_NOT_FOUND;
    if (err == HB_ERR_OK) {
        *balance = s->driver->column_i64(st, 0);
        totals->day = s->driver->column_i64(st, 1);
        totals->day_debits = s->driver->column_i64(st, 2);
        *last_transfer_id = s->driver->column_i64(st, 3);
        totals->year = s->driver->column_i64(st, 4);
        totals->year_debits = s->driver->column_i64(st, 5);
    }
    s->driver->reset(st);
    return err;
}

hb_err store_account_set_status(store *s, int64_t id, account_status status,
                                int64_t restricted_until_ms)
{
    ASSERT((unsigned)status < ACCOUNT_STATUS_COUNT && restricted_until_ms >= 0);
    void *st = stmt(s, STMT_ACCOUNT_SET_STATUS);
    s->driver->bind_i64(st, 1, id);
    s->driver->bind_i64(st, 2, status);
    s->driver->bind_i64(st, 3, restricted_until_ms);
    return run(s, st);
}

hb_err store_account_list(store *s, int64_t after_id, int limit, account *out, int *count)
{
    ASSERT(limit > 0 && limit <= LIMIT_PAGE_MAX);
    void *st = stmt(s, STMT_ACCOUNT_LIST);
    s->driver->bind_i64(st, 1, after_id);
    s->driver->bind_i64(st, 2, limit);
    hb_err err = list_rows(s, st, limit, out, sizeof *out, account_row, count);
    for (int i = 0; i < *count; i++) ASSERT(out[i].id > after_id);
    return err;
}

/* ---- transfers --------------------------------------------------------------------------- */

static void transfer_assert_valid(const transfer *t)
{
    ASSERT(t->id > 0);
    ASSERT(t->debit_id > 0 && t->credit_id > 0 && t->debit_id != t->credit_id);
    ASSERT(t->amount > 0 && t->amount <= LIMIT_AMOUNT_MAX_FEN);
    ASSERT(currency_valid(t->currency));
    ASSERT(t->kind > TRANSFER_KIND_NONE && t->kind < TRANSFER_KIND_COUNT);
}

hb_err store_transfer_insert(store *s, const transfer *t)
{
    transfer_assert_valid(t);
    void *st = stmt(s, STMT_TRANSFER_INSERT);
    const driver_ops *d = s->driver;
    d->bind_i64(st, 1, t->id);
    bind_str(s, st, 2, t->idem_key);
    d->bind_i64(st, 3, t->debit_id);
    d->bind_i64(st, 4, t->credit_id);
    d->bind_i64(st, 5, t->amount);
    bind_str(s, st, 6, currency_code(t->currency));
    d->bind_i64(st, 7, t->kind);
    bind_str(s, st, 8, t->reference);
    d->bind_i64(st, 9, t->created_at_ms);
    d->bind_i64(st, 10, t->prev_debit_id);
    d->bind_i64(st, 11, t->prev_credit_id);
    bind_audit_tag(s, st, 12);
    return run_write(s, st, 1);
}

static void transfer_from_row(store *s, void *st, transfer *out);

hb_err store_transfer_get(store *s, int64_t id, transfer *out)
{
    void *st = stmt(s, STMT_TRANSFER_GET);
    const driver_ops *d = s->driver;
    d->bind_i64(st, 1, id);
    bool row = false;
    hb_err err = d->step(st, &row);
    if (err == HB_ERR_OK && !row) err = HB_ERR_NOT_FOUND;
    if (err == HB_ERR_OK) {
        transfer_from_row(s, st, out);
        ASSERT(out->id == id);
    }
    d->reset(st);
    return err;
}

static void transfer_from_row(store *s, void *st, transfer *out)
{
    const driver_ops *d = s->driver;
    memset(out, 0, sizeof *out);
    out->id = d->column_i64(st, 0);
    column_copy(s, st, 1, out->idem_key, sizeof out->idem_key);
    out->debit_id = d->column_i64(st, 2);
    out->credit_id = d->column_i64(st, 3);
    out->amount = d->column_i64(st, 4);
    out->currency = column_currency(s, st, 5);
    out->kind = (transfer_kind)d->column_i64(st, 6);
    column_copy(s, st, 7, out->reference, sizeof out->reference);
    out->created_at_ms = d->column_i64(st, 8);
    out->prev_debit_id = d->column_i64(st, 9);
    out->prev_credit_id = d->column_i64(st, 10);
    transfer_assert_valid(out);
    ASSERT(out->prev_debit_id < out->id && out->prev_credit_id < out->id);
}

static void transfer_item(store *s, void *st, void *item)
{
    transfer_from_row(s, st, item);
}

hb_err store_transfer_range(store *s, int64_t from_ms, int64_t to_ms, transfer_kind kind1,
                            transfer_kind kind2, int64_t after_id, int limit, transfer *out,
                            int *count)
{
    void *st = stmt(s, STMT_TRANSFER_RANGE);
    const driver_ops *d = s->driver;
    d->bind_i64(st, 1, from_ms);
    d->bind_i64(st, 2, to_ms);
    d->bind_i64(st, 3, after_id);
    d->bind_i64(st, 4, kind1);
    d->bind_i64(st, 5, kind2);
    d->bind_i64(st, 6, limit);
    return list_rows(s, st, limit, out, sizeof *out, transfer_item, count);
}

hb_err store_transfer_list(store *s, int64_t account_id, int64_t before_id, int limit,
                           transfer *out, int *count)
{
    ASSERT(limit > 0 && limit <= LIMIT_PAGE_MAX);
    *count = 0;
    /* Walk the account's chain from its newest transfer, or from the one before the cursor. */
    int64_t next = 0;
    if (before_id > 0) {
        transfer cursor;
        hb_err err = store_transfer_get(s, before_id, &cursor);
        if (err != HB_ERR_OK) return err;
        if (cursor.debit_id != account_id && cursor.credit_id != account_id) {
            return HB_ERR_NOT_FOUND;
        }
        next = cursor.debit_id == account_id ? cursor.prev_debit_id : cursor.prev_credit_id;
    } else {
        int64_t balance = 0;
        debit_totals totals;
        hb_err err = store_account_balance(s, account_id, &balance, &totals, &next);
        if (err != HB_ERR_OK) return err;
    }
    int n = 0;
    while (next != 0 && n < limit) {
        hb_err err = store_transfer_get(s, next, &out[n]);
        if (err != HB_ERR_OK) return err == HB_ERR_NOT_FOUND ? HB_ERR_UNAVAILABLE : err;
        ASSERT(out[n].debit_id == account_id || out[n].credit_id == account_id);
        ASSERT(n == 0 || out[n].id < out[n - 1].id);
        next = out[n].debit_id == account_id ? out[n].prev_debit_id : out[n].prev_credit_id;
        n++;
    }
    *count = n;
    return HB_ERR_OK;
}

hb_err store_transfer_count(store *s, int64_t *out)
{
    return select_i64(s, STMT_TRANSFER_COUNT, out);
}

/* ---- red packets ------------------------------------------------------------------------ */

static void packet_assert_valid(const packet *p)
{
    ASSERT(p->id > 0 && p->sender_id > 0 && currency_valid(p->currency));
    ASSERT(p->count >= 1 && p->count <= LIMIT_PACKET_SHARES_MAX);
    ASSERT(p->total >= p->count && p->total <= LIMIT_AMOUNT_MAX_FEN);
    ASSERT(p->mode == 1 || p->mode == 2);
    ASSERT((unsigned)p->status < PACKET_STATUS_COUNT && p->status != PACKET_EXPIRED);
    ASSERT(p->claimed_count >= 0 && p->claimed_count <= p->count);
    ASSERT(p->claimed_amount >= 0 && p->refunded_amount >= 0 &&
           p->claimed_amount <= p->total - p->refunded_amount);
    ASSERT(p->best_seq >= 0 && p->best_seq < p->count);
}

hb_err store_packet_insert(store *s, const packet *p)
{
    packet_assert_valid(p);
    void *st = stmt(s, STMT_PACKET_INSERT);
    const driver_ops *d = s->driver;
    d->bind_i64(st, 1, p->id);
    d->bind_i64(st, 2, p->sender_id);
    bind_str(s, st, 3, currency_code(p->currency));
    d->bind_i64(st, 4, p->total);
    d->bind_i64(st, 5, p->count);
    d->bind_i64(st, 6, p->mode);
    d->bind_i64(st, 7, p->fission);
    d->bind_i64(st, 8, p->seed_id);
    d->bind_i64(st, 9, p->allow_sender);
    bind_str(s, st, 10, p->wishing);
    bind_str(s, st, 11, p->scene);
    d->bind_i64(st, 12, p->status);
    d->bind_i64(st, 13, p->claimed_count);
    d->bind_i64(st, 14, p->claimed_amount);
    d->bind_i64(st, 15, p->refunded_amount);
    d->bind_i64(st, 16, p->best_seq);
    d->bind_i64(st, 17, p->created_at_ms);
    d->bind_i64(st, 18, p->expires_at_ms);
    d->bind_i64(st, 19, p->finished_at_ms);
    d->bind_i64(st, 20, p->fund_transfer_id);
    d->bind_i64(st, 21, p->refund_transfer_id);
    bind_audit_tag(s, st, 22);
    return run_write(s, st, 1);
}

static void packet_row(store *s, void *st, void *item)
{
    packet *out = item;
    const driver_ops *d = s->driver;
    memset(out, 0, sizeof *out);
    out->id = d->column_i64(st, 0);
    out->sender_id = d->column_i64(st, 1);
    out->currency = column_currency(s, st, 2);
    out->total = d->column_i64(st, 3);
    out->count = d->column_i64(st, 4);
    out->mode = (int)d->column_i64(st, 5);
    out->fission = d->column_i64(st, 6) != 0;
    out->seed_id = d->column_i64(st, 7);
    out->allow_sender = d->column_i64(st, 8) != 0;
    column_copy(s, st, 9, out->wishing, sizeof out->wishing);
    column_copy(s, st, 10, out->scene, sizeof out->scene);
    out->status = (packet_status)d->column_i64(st, 11);
    out->claimed_count = d->column_i64(st, 12);
    out->claimed_amount = d->column_i64(st, 13);
    out->refunded_amount = d->column_i64(st, 14);
    out->best_seq = d->column_i64(st, 15);
    out->created_at_ms = d->column_i64(st, 16);
    out->expires_at_ms = d->column_i64(st, 17);
    out->finished_at_ms = d->column_i64(st, 18);
    out->fund_transfer_id = d->column_i64(st, 19);
    out->refund_transfer_id = d->column_i64(st, 20);
    packet_assert_valid(out);
}

hb_err store_packet_get(store *s, int64_t id, packet *out)
{
    void *st = stmt(s, STMT_PACKET_GET);
    s->driver->bind_i64(st, 1, id);
    hb_err err = select_one(s, st, out, packet_row);
    ASSERT(err != HB_ERR_OK || out->id == id);
    return err;
}

hb_err store_packet_list(store *s, int64_t sender_id, int64_t before_id, int limit, packet *out,
                         int *count)
{
    void *st = stmt(s, STMT_PACKET_LIST);
    s->driver->bind_i64(st, 1, sender_id);
    s->driver->bind_i64(st, 2, before_id);
    s->driver->bind_i64(st, 3, limit);
    return list_rows(s, st, limit, out, sizeof *out, packet_row, count);
}

hb_err store_packet_shares_put(store *s, int64_t packet_id, int64_t first, const int64_t *amounts,
                               int n)
{
    ASSERT(first % LIMIT_SHARE_CHUNK == 0 && n >= 1 && n <= LIMIT_SHARE_CHUNK);
    uint8_t blob[LIMIT_SHARE_CHUNK * 8];
    for (int i = 0; i < n; i++) {
        ASSERT(amounts[i] >= 1 && amounts[i] <= LIMIT_AMOUNT_MAX_FEN);
        for (int b = 0; b < 8; b++) blob[i * 8 + b] = (uint8_t)((uint64_t)amounts[i] >> (8 * b));
    }
    void *st = stmt(s, STMT_PACKET_SHARES_PUT);
    s->driver->bind_i64(st, 1, packet_id);
    s->driver->bind_i64(st, 2, first / LIMIT_SHARE_CHUNK);
    s->driver->bind_blob(st, 3, blob, (size_t)n * 8);
    return run_write(s, st, 1);
}

/* A chunk's share at seq (the chunk's blob as read), or 0 when the blob does not hold it. */
static int64_t share_from_blob(const uint8_t *blob, size_t len, int64_t seq)
{
    size_t at = (size_t)(seq % LIMIT_SHARE_CHUNK) * 8;
    if (blob == NULL || len % 8 != 0 || at + 8 > len) return 0;
    uint64_t v = 0;
    for (int b = 7; b >= 0; b--) v = (v << 8) | blob[at + (size_t)b];
    ASSERT((int64_t)v >= 1 && (int64_t)v <= LIMIT_AMOUNT_MAX_FEN);
    return (int64_t)v;
}

hb_err store_packet_claim_view(store *s, int64_t packet_id, int64_t claimer_id, packet *out,
                               int64_t *earlier_claim, int64_t *next_share)
{
    void *st = stmt(s, STMT_PACKET_CLAIM_VIEW);
    const driver_ops *d = s->driver;
    d->bind_i64(st, 1, packet_id);
    d->bind_i64(st, 2, claimer_id);
    bool row = false;
    hb_err err = d->step(st, &row);
    if (err == HB_ERR_OK && !row) err = HB_ERR_NOT_FOUND;
    if (err == HB_ERR_OK) {
        packet_row(s, st, out);
        ASSERT(out->id == packet_id);
        *earlier_claim = d->column_null(st, 21) ? 0 : d->column_i64(st, 21);
        size_t len = 0;
        const uint8_t *blob = d->column_null(st, 22) ? NULL : d->column_blob(st, 22, &len);
        *next_share = out->claimed_count < out->count
                          ? share_from_blob(blob, len, out->claimed_count)
                          : 0;
    }
    d->reset(st);
    return err;
}

hb_err store_packet_claimed(store *s, int64_t id, int64_t expect_count, int64_t amount, bool last,
                            int64_t now_ms)
{
    ASSERT(amount > 0 && expect_count >= 0);
    void *st = stmt(s, STMT_PACKET_CLAIMED);
    const driver_ops *d = s->driver;
    d->bind_i64(st, 1, id);
    d->bind_i64(st, 2, expect_count);
    d->bind_i64(st, 3, amount);
    d->bind_i64(st, 4, last ? PACKET_CLAIMED_OUT : PACKET_SENT);
    d->bind_i64(st, 5, last ? now_ms : 0);
    return run_write(s, st, 1);
}

hb_err store_packet_refunded(store *s, int64_t id, int64_t expect_count, int64_t amount,
                             int64_t transfer_id, int64_t now_ms)
{
    ASSERT(amount > 0 && transfer_id > 0);
    void *st = stmt(s, STMT_PACKET_REFUNDED);
    const driver_ops *d = s->driver;
    d->bind_i64(st, 1, id);
    d->bind_i64(st, 2, expect_count);
    d->bind_i64(st, 3, amount);
    d->bind_i64(st, 4, transfer_id);
    d->bind_i64(st, 5, now_ms);
    return run_write(s, st, 1);
}

static void due_row(store *s, void *st, void *item)
{
    packet_due *d = item;
    d->id = s->driver->column_i64(st, 0);
    d->expires_at_ms = s->driver->column_i64(st, 1);
}

hb_err store_packet_list_expired(store *s, int64_t now_ms, const packet_due *after, int limit,
                                 packet_due *out, int *count)
{
    void *st = stmt(s, STMT_PACKET_EXPIRED_LIST);
    s->driver->bind_i64(st, 1, now_ms);
    s->driver->bind_i64(st, 2, after != NULL ? after->expires_at_ms : INT64_MIN);
    s->driver->bind_i64(st, 3, after != NULL ? after->id : 0);
    s->driver->bind_i64(st, 4, limit);
    return list_rows(s, st, limit, out, sizeof *out, due_row, count);
}

hb_err store_packet_open_count(store *s, int64_t sender_id, int64_t *out)
{
    void *st = stmt(s, STMT_PACKET_OPEN_COUNT);
    s->driver->bind_i64(st, 1, sender_id);
    bool row = false;
    hb_err err = s->driver->step(st, &row);
    if (err == HB_ERR_OK && row) *out = s->driver->column_i64(st, 0);
    if (err == HB_ERR_OK && !row) err = HB_ERR_UNAVAILABLE;
    s->driver->reset(st);
    return err;
}

static void claim_row(store *s, void *st, void *item)
{
    claim *out = item;
    const driver_ops *d = s->driver;
    out->packet_id = d->column_i64(st, 0);
    out->seq = d->column_i64(st, 1);
    out->claimer_id = d->column_i64(st, 2);
    out->amount = d->column_i64(st, 3);
    out->transfer_id = d->column_i64(st, 4);
    out->claimed_at_ms = d->column_i64(st, 5);
    ASSERT(out->seq >= 0 && out->amount > 0 && out->transfer_id > 0);
}

hb_err store_claim_insert(store *s, const claim *c)
{
    ASSERT(c->packet_id > 0 && c->seq >= 0 && c->claimer_id > 0 && c->amount > 0);
    void *st = stmt(s, STMT_CLAIM_INSERT);
    const driver_ops *d = s->driver;
    d->bind_i64(st, 1, c->packet_id);
    d->bind_i64(st, 2, c->seq);
    d->bind_i64(st, 3, c->claimer_id);
    d->bind_i64(st, 4, c->amount);
    d->bind_i64(st, 5, c->transfer_id);
    d->bind_i64(st, 6, c->claimed_at_ms);
    bind_audit_tag(s, st, 7);
    return run_write(s, st, 1);
}

hb_err store_claim_find(store *s, int64_t packet_id, int64_t claimer_id, claim *out)
{
    void *st = stmt(s, STMT_CLAIM_FIND);
    s->driver->bind_i64(st, 1, packet_id);
    s->driver->bind_i64(st, 2, claimer_id);
    return select_one(s, st, out, claim_row);
}

hb_err store_claim_get(store *s, int64_t packet_id, int64_t seq, claim *out)
{
    void *st = stmt(s, STMT_CLAIM_GET);
    s->driver->bind_i64(st, 1, packet_id);
    s->driver->bind_i64(st, 2, seq);
    return select_one(s, st, out, claim_row);
}

hb_err store_claim_list(store *s, int64_t packet_id, int64_t after_seq, int limit, claim *out,
                        int *count)
{
    void *st = stmt(s, STMT_CLAIM_LIST);
    s->driver->bind_i64(st, 1, packet_id);
    s->driver->bind_i64(st, 2, after_seq);
    s->driver->bind_i64(st, 3, limit);
    return list_rows(s, st, limit, out, sizeof *out, claim_row, count);
}

static void bind_packet_filter(store *s, void *st, int64_t from_ms, int64_t to_ms,
                               int64_t sender_id, const char *scene)
{
    s->driver->bind_i64(st, 1, from_ms);
    s->driver->bind_i64(st, 2, to_ms);
    s->driver->bind_i64(st, 3, sender_id);
    bind_str(s, st, 4, scene);
}

static hb_err packet_stats_in_snapshot(store *s, int64_t from_ms, int64_t to_ms,
                                       int64_t sender_id, const char *scene, packet_stats *out)
{
    const driver_ops *d = s->driver;
    void *st = stmt(s, STMT_STATS_PACKETS);
    bind_packet_filter(s, st, from_ms, to_ms, sender_id, scene);
    bool row = false;
    hb_err err = d->step(st, &row);
    if (err == HB_ERR_OK && row) {
        out->sent_count = d->column_i64(st, 0);
        out->sent_amount = d->column_i64(st, 1);
        out->shares = d->column_i64(st, 2);
        out->claimed_count = d->column_i64(st, 3);
        out->claimed_amount = d->column_i64(st, 4);
        out->refunded_amount = d->column_i64(st, 5);
    }
    d->reset(st);
    if (err != HB_ERR_OK) return err;
    st = stmt(s, STMT_STATS_HISTOGRAM);
    bind_packet_filter(s, st, from_ms, to_ms, sender_id, scene);
    for (;;) {
        err = d->step(st, &row);
        if (err != HB_ERR_OK || !row) break;
        int64_t bucket = d->column_i64(st, 0);
        ASSERT(bucket >= 0 && bucket < PACKET_HISTOGRAM_BUCKETS);
        out->histogram[bucket] = d->column_i64(st, 1);
    }
    d->reset(st);
    if (err != HB_ERR_OK) return err;
    st = stmt(s, STMT_STATS_HOURS);
    bind_packet_filter(s, st, from_ms, to_ms, sender_id, scene);
    for (;;) {
        err = d->step(st, &row);
        if (err != HB_ERR_OK || !row) break;
        ASSERT(out->hour_count < PACKET_HOURS_MAX);
        out->hour_start_ms[out->hour_count] = d->column_i64(st, 0) * 3600000;
        out->hour_claims[out->hour_count] = d->column_i64(st, 1);
        out->hour_amount[out->hour_count] = d->column_i64(st, 2);
        out->hour_count++;
    }
    d->reset(st);
    return err;
}

hb_err store_packet_stats(store *s, int64_t from_ms, int64_t to_ms, int64_t sender_id,
                          const char *scene, packet_stats *out)
{
    ASSERT(!s->in_transaction);
    memset(out, 0, sizeof *out);
    /* one snapshot, so that the figures agree with each other */
    if (s->driver->exec(s->conn, s->driver->begin_read_sql) != HB_ERR_OK) {
        return HB_ERR_UNAVAILABLE;
    }
    s->in_transaction = true;
    hb_err err = packet_stats_in_snapshot(s, from_ms, to_ms, sender_id, scene, out);
    store_rollback(s);
    return err;
}

/* ---- payment codes ------------------------------------------------------------------------ */

static const char *const code_status_names[CODE_STATUS_COUNT] = {"active", "used", "cancelled",
                                                                 "expired"};

const char *code_status_name(code_status st)
{
    return (unsigned)st < CODE_STATUS_COUNT ? code_status_names[st] : "";
}

static void code_assert_valid(const paycode *c)
{
    ASSERT(c->id > 0 && c->owner_id > 0 && currency_valid(c->currency));
    ASSERT(c->kind == CODE_STATIC || c->kind == CODE_DYNAMIC);
    ASSERT(c->amount >= 0 && c->amount <= LIMIT_AMOUNT_MAX_FEN);
    ASSERT(c->suite == 1 || c->suite == 2);
    ASSERT(c->status == CODE_ACTIVE || c->status == CODE_USED || c->status == CODE_CANCELLED);
}

hb_err store_code_insert(store *s, const paycode *c)
{
    code_assert_valid(c);
    void *st = stmt(s, STMT_CODE_INSERT);
    const driver_ops *d = s->driver;
    d->bind_i64(st, 1, c->id);
    d->bind_i64(st, 2, c->owner_id);
    d->bind_i64(st, 3, c->kind);
    d->bind_i64(st, 4, c->amount);
    bind_str(s, st, 5, currency_code(c->currency));
    bind_str(s, st, 6, c->memo);
    bind_str(s, st, 7, c->order_no);
    bind_str(s, st, 8, c->merchant_name);
    bind_str(s, st, 9, c->city);
    bind_str(s, st, 10, c->mcc);
    d->bind_i64(st, 11, c->suite);
    bind_str(s, st, 12, c->token);
    d->bind_i64(st, 13, c->status);
    d->bind_i64(st, 14, c->created_at_ms);
    d->bind_i64(st, 15, c->expires_at_ms);
    d->bind_i64(st, 16, c->ended_at_ms);
    return run_write(s, st, 1);
}

static void code_row(store *s, void *st, void *item)
{
    paycode *out = item;
    const driver_ops *d = s->driver;
    memset(out, 0, sizeof *out);
    out->id = d->column_i64(st, 0);
    out->owner_id = d->column_i64(st, 1);
    out->kind = (code_kind)d->column_i64(st, 2);
    out->amount = d->column_i64(st, 3);
    out->currency = column_currency(s, st, 4);
    column_copy(s, st, 5, out->memo, sizeof out->memo);
    column_copy(s, st, 6, out->order_no, sizeof out->order_no);
    column_copy(s, st, 7, out->merchant_name, sizeof out->merchant_name);
    column_copy(s, st, 8, out->city, sizeof out->city);
    column_copy(s, st, 9, out->mcc, sizeof out->mcc);
    out->suite = (int)d->column_i64(st, 10);
    column_copy(s, st, 11, out->token, sizeof out->token);
    out->status = (code_status)d->column_i64(st, 12);
    out->created_at_ms = d->column_i64(st, 13);
    out->expires_at_ms = d->column_i64(st, 14);
    out->ended_at_ms = d->column_i64(st, 15);
    code_assert_valid(out);
}

hb_err store_code_get(store *s, int64_t id, paycode *out)
{
    void *st = stmt(s, STMT_CODE_GET);
    s->driver->bind_i64(st, 1, id);
    return select_one(s, st, out, code_row);
}

hb_err store_code_find_order(store *s, int64_t owner_id, const char *order_no, paycode *out)
{
    void *st = stmt(s, STMT_CODE_FIND_ORDER);
    s->driver->bind_i64(st, 1, owner_id);
    bind_str(s, st, 2, order_no);
    return select_one(s, st, out, code_row);
}

hb_err store_code_end(store *s, int64_t id, code_status status, int64_t now_ms)
{
    ASSERT(status == CODE_USED || status == CODE_CANCELLED);
    void *st = stmt(s, STMT_CODE_END);
    s->driver->bind_i64(st, 1, id);
    s->driver->bind_i64(st, 2, status);
    s->driver->bind_i64(st, 3, now_ms);
    return run_write(s, st, 1);
}

/* ---- idempotency ------------------------------------------------------------------------- */

hb_err store_idem_get(store *s, const char *scope, const char *key, idem_record *out)
{
    void *st = stmt(s, STMT_IDEM_GET);
    const driver_ops *d = s->driver;
    bind_str(s, st, 1, scope);
    bind_str(s, st, 2, key);
    bool row = false;
    hb_err err = d->step(st, &row);
    if (err == HB_ERR_OK && !row) err = HB_ERR_NOT_FOUND;
    if (err == HB_ERR_OK) {
        column_hash(s, st, 0, out->request_hash);
        column_copy(s, st, 1, out->result, sizeof out->result);
        out->result_len = strlen(out->result);
    }
    d->reset(st);
    return err;
}

hb_err store_idem_put(store *s, const char *scope, const char *key, const idem_record *r,
                      int64_t created_at_ms)
{
    ASSERT(key[0] != '\0' && strlen(key) <= LIMIT_IDEM_KEY_LEN);
    ASSERT(r->result_len <= LIMIT_RESULT_LEN);
    void *st = stmt(s, STMT_IDEM_PUT);
    const driver_ops *d = s->driver;
    bind_str(s, st, 1, scope);
    bind_str(s, st, 2, key);
    d->bind_blob(st, 3, r->request_hash, 32);
    d->bind_text(st, 4, r->result, r->result_len);
    d->bind_i64(st, 5, created_at_ms);
    return run_write(s, st, 1);
}

/* ---- audit ------------------------------------------------------------------------------- */

hb_err store_audit_append(store *s, const audit_record *r)
{
    ASSERT(r->seq > 0);
    void *st = stmt(s, STMT_AUDIT_APPEND);
    const driver_ops *d = s->driver;
    bind_str(s, st, 1, r->node);
    d->bind_i64(st, 2, r->seq);
    d->bind_i64(st, 3, r->time_ms);
    bind_str(s, st, 4, r->actor);
    bind_str(s, st, 5, r->action);
    bind_str(s, st, 6, r->object);
    d->bind_blob(st, 7, r->digest, 32);
    d->bind_blob(st, 8, r->prev_hash, 32);
    d->bind_blob(st, 9, r->hash, 32);
    d->bind_i64(st, 10, r->alg == AUDIT_ALG_SM3 ? AUDIT_ALG_SM3 : AUDIT_ALG_SHA256);
    if (r->has_rows) {
        d->bind_blob(st, 11, r->row_digest, 32);
    } else {
        d->bind_null(st, 11);
    }
    return run_write(s, st, 1);
}

static hb_err audit_select_one(store *s, void *st, audit_record *out)
{
    const driver_ops *d = s->driver;
    bool row = false;
    hb_err err = d->step(st, &row);
    if (err == HB_ERR_OK && !row) err = HB_ERR_NOT_FOUND;
    if (err == HB_ERR_OK) {
        memset(out, 0, sizeof *out);
        column_copy(s, st, 0, out->node, sizeof out->node);
        out->seq = d->column_i64(st, 1);
        out->time_ms = d->column_i64(st, 2);
        column_copy(s, st, 3, out->actor, sizeof out->actor);
        column_copy(s, st, 4, out->action, sizeof out->action);
        column_copy(s, st, 5, out->object, sizeof out->object);
        column_hash(s, st, 6, out->digest);
        column_hash(s, st, 7, out->prev_hash);
        column_hash(s, st, 8, out->hash);
        out->alg = (int)d->column_i64(st, 9);
        out->has_rows = !d->column_null(st, 10);
        if (out->has_rows) column_hash(s, st, 10, out->row_digest);
        ASSERT(out->seq > 0);
    }
    d->reset(st);
    return err;
}

hb_err store_audit_last(store *s, const char *node, audit_record *out)
{
    void *st = stmt(s, STMT_AUDIT_LAST);
    bind_str(s, st, 1, node);
    return audit_select_one(s, st, out);
}

hb_err store_audit_get(store *s, const char *node, int64_t seq, audit_record *out)
{
    void *st = stmt(s, STMT_AUDIT_GET);
    bind_str(s, st, 1, node);
    s->driver->bind_i64(st, 2, seq);
    return audit_select_one(s, st, out);
}

/* A blob column of exactly len bytes into dst; false (dst zeroed) for anything else. */
static bool column_fixed(store *s, void *st, int col, uint8_t *dst, size_t len)
{
    size_t got = 0;
    const void *data = s->driver->column_blob(st, col, &got);
    if (data == NULL || got != len) {
        memset(dst, 0, len);
        return false;
    }
    memcpy(dst, data, len);
    return true;
}

static void audit_row(store *s, void *st, void *item)
{
    audit_record *out = item;
    const driver_ops *d = s->driver;
    memset(out, 0, sizeof *out);
    bool ok = column_copy_checked(s, st, 0, out->node, sizeof out->node);
    out->seq = d->column_i64(st, 1);
    out->time_ms = d->column_i64(st, 2);
    ok = column_copy_checked(s, st, 3, out->actor, sizeof out->actor) && ok;
    ok = column_copy_checked(s, st, 4, out->action, sizeof out->action) && ok;
    ok = column_copy_checked(s, st, 5, out->object, sizeof out->object) && ok;
    ok = column_fixed(s, st, 6, out->digest, 32) && ok;
    ok = column_fixed(s, st, 7, out->prev_hash, 32) && ok;
    ok = column_fixed(s, st, 8, out->hash, 32) && ok;
    out->alg = (int)d->column_i64(st, 9);
    out->has_rows = !d->column_null(st, 10);
    if (out->has_rows) ok = column_fixed(s, st, 10, out->row_digest, 32) && ok;
    out->malformed = !ok;
}

void store_set_audit_tag(store *s, const char *node, int64_t seq)
{
    if (strcmp(s->audit_node, node) != 0) { /* once per connection: the node stays */
        size_t len = strlen(node);
        ASSERT(len < sizeof s->audit_node);
        memcpy(s->audit_node, node, len + 1);
    }
    s->audit_seq = seq;
}

const int rows_table_ints[ROWS_TABLES] = {8, 5, 11, 6, 14, 8, 10};
const int rows_table_texts[ROWS_TABLES] = {3, 3, 3, 0, 4, 0, 1};
const char *const rows_table_name[ROWS_TABLES] = {"transfer", "account", "packet", "claim",
                                                  "payment",  "refund",  "settlement"};
static const stmt_id rows_page_stmt[ROWS_TABLES] = {
    STMT_ROWS_TRANSFER_PAGE, STMT_ROWS_ACCOUNT_PAGE, STMT_ROWS_PACKET_PAGE,
    STMT_ROWS_CLAIM_PAGE,    STMT_ROWS_PAYMENT_PAGE, STMT_ROWS_REFUND_PAGE,
    STMT_ROWS_SETTLEMENT_PAGE};
static const stmt_id rows_count_stmt[ROWS_TABLES] = {
    STMT_ROWS_TRANSFER_COUNT, STMT_ROWS_ACCOUNT_COUNT, STMT_ROWS_PACKET_COUNT,
    STMT_ROWS_CLAIM_COUNT,    STMT_ROWS_PAYMENT_COUNT, STMT_ROWS_REFUND_COUNT,
    STMT_ROWS_SETTLEMENT_COUNT};

static _Thread_local rows_table rows_reading; /* the table rows_row reads (list_rows has no context) */

static void rows_row(store *s, void *st, void *item)
{
    rows_item *out = item;
    const driver_ops *d = s->driver;
    out->key = d->column_i64(st, 0);
    out->audit_seq = d->column_i64(st, 1);
    int ints = rows_table_ints[rows_reading];
    for (int i = 0; i < ints; i++) out->ints[i] = d->column_i64(st, 2 + i);
    bool ok = true;
    for (int i = 0; i < rows_table_texts[rows_reading]; i++) {
        ok = column_copy_checked(s, st, 2 + ints + i, out->texts[i], sizeof out->texts[i]) && ok;
    }
    out->malformed = !ok;
}

hb_err store_rows_page(store *s, rows_table table, const char *node, int64_t after, int limit,
                       rows_item *out, int *count)
{
    ASSERT(table < ROWS_TABLES);
    void *st = stmt(s, rows_page_stmt[table]);
    bind_str(s, st, 1, node);
    s->driver->bind_i64(st, 2, after);
    s->driver->bind_i64(st, 3, limit);
    rows_reading = table;
    return list_rows(s, st, limit, out, sizeof *out, rows_row, count);
}

hb_err store_rows_count(store *s, rows_table table, rows_counts *out)
{
    ASSERT(table < ROWS_TABLES);
    void *st = stmt(s, rows_count_stmt[table]);
    bool row = false;
    hb_err err = s->driver->step(st, &row);
    if (err == HB_ERR_OK && !row) err = HB_ERR_UNAVAILABLE;
    if (err == HB_ERR_OK) {
        out->untagged = s->driver->column_i64(st, 1);
        out->tagged = s->driver->column_i64(st, 0) - out->untagged;
        out->untagged_max_key = s->driver->column_i64(st, 2);
        out->tagged_min_key = s->driver->column_i64(st, 3);
    }
    s->driver->reset(st);
    return err;
}

static void node_row(store *s, void *st, void *item)
{
    (void)column_copy_checked(s, st, 0, item, LIMIT_NODE_LEN + 1);
}

hb_err store_audit_nodes(store *s, const char *after, int limit,
                         char (*out)[LIMIT_NODE_LEN + 1], int *count)
{
    void *st = stmt(s, STMT_AUDIT_NODES);
    bind_str(s, st, 1, after);
    s->driver->bind_i64(st, 2, limit);
    return list_rows(s, st, limit, out, sizeof *out, node_row, count);
}

hb_err store_audit_about(store *s, const char *object, int64_t since_ms, int limit,
                         audit_record *out, int *count)
{
    void *st = stmt(s, STMT_AUDIT_OBJECT);
    bind_str(s, st, 1, object);
    s->driver->bind_i64(st, 2, since_ms);
    s->driver->bind_i64(st, 3, limit);
    return list_rows(s, st, limit, out, sizeof *out, audit_row, count);
}

hb_err store_audit_before(store *s, const char *node, int64_t before_ms, audit_record *out)
{
    void *st = stmt(s, STMT_AUDIT_BEFORE);
    bind_str(s, st, 1, node);
    s->driver->bind_i64(st, 2, before_ms);
    return select_one(s, st, out, audit_row);
}

hb_err store_audit_delete_through(store *s, const char *node, int64_t seq, int64_t *deleted)
{
    void *st = stmt(s, STMT_AUDIT_DELETE_THROUGH);
    bind_str(s, st, 1, node);
    s->driver->bind_i64(st, 2, seq);
    hb_err err = run(s, st);
    *deleted = err == HB_ERR_OK ? s->driver->changes(s->conn) : 0;
    return err;
}

hb_err store_audit_page(store *s, const char *node, int64_t after_seq, int limit,
                        audit_record *out, int *count)
{
    void *st = stmt(s, STMT_AUDIT_PAGE);
    bind_str(s, st, 1, node);
    s->driver->bind_i64(st, 2, after_seq);
    s->driver->bind_i64(st, 3, limit);
    return list_rows(s, st, limit, out, sizeof *out, audit_row, count);
}

/* Checkpoints and archive cuts are the same signed row in two tables. */
static hb_err signed_insert(store *s, stmt_id id, const audit_checkpoint *c)
{
    void *st = stmt(s, id);
    const driver_ops *d = s->driver;
    bind_str(s, st, 1, c->node);
    d->bind_i64(st, 2, c->seq);
    d->bind_blob(st, 3, c->hash, 32);
    d->bind_i64(st, 4, c->time_ms);
    d->bind_blob(st, 5, c->signature, 64);
    return run_write(s, st, 1);
}

static void checkpoint_row(store *s, void *st, void *item)
{
    audit_checkpoint *out = item;
    memset(out, 0, sizeof *out);
    (void)column_copy_checked(s, st, 0, out->node, sizeof out->node);
    out->seq = s->driver->column_i64(st, 1);
    bool ok = column_fixed(s, st, 2, out->hash, 32);
    out->time_ms = s->driver->column_i64(st, 3);
    ok = column_fixed(s, st, 4, out->signature, 64) && ok;
    out->malformed = !ok;
}

hb_err store_checkpoint_insert(store *s, const audit_checkpoint *c)
{
    return signed_insert(s, STMT_CHECKPOINT_INSERT, c);
}

hb_err store_cut_insert(store *s, const audit_checkpoint *c)
{
    return signed_insert(s, STMT_CUT_INSERT, c);
}

static hb_err signed_page(store *s, stmt_id id, const char *node, int64_t after_seq, int limit,
                          audit_checkpoint *out, int *count)
{
    void *st = stmt(s, id);
    bind_str(s, st, 1, node);
    s->driver->bind_i64(st, 2, after_seq);
    s->driver->bind_i64(st, 3, limit);
    return list_rows(s, st, limit, out, sizeof *out, checkpoint_row, count);
}

hb_err store_cut_page(store *s, const char *node, int64_t after_seq, int limit,
                      audit_checkpoint *out, int *count)
{
    return signed_page(s, STMT_CUT_PAGE, node, after_seq, limit, out, count);
}

hb_err store_checkpoint_last(store *s, const char *node, audit_checkpoint *out)
{
    void *st = stmt(s, STMT_CHECKPOINT_LAST);
    bind_str(s, st, 1, node);
    return select_one(s, st, out, checkpoint_row);
}

hb_err store_checkpoint_page(store *s, const char *node, int64_t after_seq, int limit,
                             audit_checkpoint *out, int *count)
{
    return signed_page(s, STMT_CHECKPOINT_PAGE, node, after_seq, limit, out, count);
}

/* ---- customers ------------------------------------------------------------------------- */

static void column_box(store *s, void *st, int col, uint8_t *dst, size_t *dst_len)
{
    size_t len = 0;
    const void *data = s->driver->column_blob(st, col, &len);
    ASSERT(len <= LIMIT_BOX_LEN);
    if (len > 0) memcpy(dst, data, len);
    *dst_len = len;
}

hb_err store_customer_insert(store *s, const customer *c)
{
    ASSERT(c->id > 0 && c->tier >= TIER_PERSONAL && c->tier < TIER_COUNT);
    ASSERT(c->fee_rate_bp >= -1 && c->fee_rate_bp <= 10000);
    void *st = stmt(s, STMT_CUSTOMER_INSERT);
    const driver_ops *d = s->driver;
    d->bind_i64(st, 1, c->id);
    d->bind_i64(st, 2, c->tier);
    bind_str(s, st, 3, c->region);
    d->bind_blob(st, 4, c->name_box, c->name_box_len);
    d->bind_blob(st, 5, c->phone_box, c->phone_box_len);
    d->bind_blob(st, 6, c->phone_hash, 32);
    d->bind_blob(st, 7, c->id_number_box, c->id_number_box_len);
    d->bind_i64(st, 8, c->pending_id);
    d->bind_i64(st, 9, c->available_id);
    d->bind_i64(st, 10, c->created_at_ms);
    d->bind_i64(st, 11, c->fee_rate_bp);
    d->bind_i64(st, 12, c->agreement_single);
    d->bind_i64(st, 13, c->agreement_daily);
    d->bind_i64(st, 14, c->agreement_validity_s);
    d->bind_i64(st, 15, c->agreement_crypto);
    d->bind_i64(st, 16, c->agreement_max_shares);
    return run(s, st);
}

static void customer_from_row(store *s, void *st, customer *out)
{
    const driver_ops *d = s->driver;
    memset(out, 0, sizeof *out);
    out->id = d->column_i64(st, 0);
    out->tier = (tier)d->column_i64(st, 1);
    column_copy(s, st, 2, out->region, sizeof out->region);
    column_box(s, st, 3, out->name_box, &out->name_box_len);
    column_box(s, st, 4, out->phone_box, &out->phone_box_len);
    column_hash(s, st, 5, out->phone_hash);
    column_box(s, st, 6, out->id_number_box, &out->id_number_box_len);
    out->pending_id = d->column_i64(st, 7);
    out->available_id = d->column_i64(st, 8);
    out->created_at_ms = d->column_i64(st, 9);
    out->fee_rate_bp = d->column_i64(st, 10);
    out->agreement_single = d->column_i64(st, 11);
    out->agreement_daily = d->column_i64(st, 12);
    out->agreement_validity_s = d->column_i64(st, 13);
    out->agreement_crypto = (int)d->column_i64(st, 14);
    out->agreement_max_shares = d->column_i64(st, 15);
    ASSERT(out->fee_rate_bp >= -1 && out->fee_rate_bp <= 10000);
    ASSERT(out->id > 0 && out->tier >= TIER_PERSONAL && out->tier < TIER_COUNT);
}

hb_err store_customer_set_agreement(store *s, const customer *c)
{
    void *st = stmt(s, STMT_CUSTOMER_SET_AGREEMENT);
    const driver_ops *d = s->driver;
    d->bind_i64(st, 1, c->id);
    d->bind_i64(st, 2, c->fee_rate_bp);
    d->bind_i64(st, 3, c->agreement_single);
    d->bind_i64(st, 4, c->agreement_daily);
    d->bind_i64(st, 5, c->agreement_validity_s);
    d->bind_i64(st, 6, c->agreement_crypto);
    d->bind_i64(st, 7, c->agreement_max_shares);
    return run_write(s, st, 1);
}

static void customer_row(store *s, void *st, void *item)
{
    customer_from_row(s, st, item);
}

hb_err store_customer_get(store *s, int64_t id, customer *out)
{
    void *st = stmt(s, STMT_CUSTOMER_GET);
    s->driver->bind_i64(st, 1, id);
    return select_one(s, st, out, customer_row);
}

hb_err store_customer_list(store *s, int64_t after_id, int limit, const uint8_t *phone_hash,
                           customer *out, int *count)
{
    ASSERT(limit > 0 && limit <= LIMIT_PAGE_MAX);
    void *st = stmt(s, phone_hash ? STMT_CUSTOMER_BY_PHONE : STMT_CUSTOMER_LIST);
    s->driver->bind_i64(st, 1, after_id);
    s->driver->bind_i64(st, 2, limit);
    if (phone_hash != NULL) s->driver->bind_blob(st, 3, phone_hash, 32);
    return list_rows(s, st, limit, out, sizeof *out, customer_row, count);
}

/* ---- keys, sessions, nonces ------------------------------------------------------------ */

hb_err store_key_insert(store *s, const api_key *k)
{
    ASSERT(k->role > ROLE_NONE && k->role < ROLE_PERSON);
    void *st = stmt(s, STMT_KEY_INSERT);
    bind_str(s, st, 1, k->key_id);
    s->driver->bind_blob(st, 2, k->secret_box, k->secret_box_len);
    s->driver->bind_i64(st, 3, k->role);
    s->driver->bind_i64(st, 4, k->account_id);
    s->driver->bind_i64(st, 5, k->created_at_ms);
    s->driver->bind_i64(st, 6, k->revoked_at_ms);
    return run(s, st);
}

static void key_from_row(store *s, void *st, api_key *out)
{
    memset(out, 0, sizeof *out);
    column_copy(s, st, 0, out->key_id, sizeof out->key_id);
    column_box(s, st, 1, out->secret_box, &out->secret_box_len);
    out->role = (role)s->driver->column_i64(st, 2);
    out->account_id = s->driver->column_i64(st, 3);
    out->created_at_ms = s->driver->column_i64(st, 4);
    out->revoked_at_ms = s->driver->column_i64(st, 5);
    ASSERT(out->role > ROLE_NONE && out->role < ROLE_PERSON);
}

static void key_row(store *s, void *st, void *item)
{
    key_from_row(s, st, item);
}

hb_err store_key_get(store *s, const char *key_id, api_key *out)
{
    void *st = stmt(s, STMT_KEY_GET);
    bind_str(s, st, 1, key_id);
    bool row = false;
    hb_err err = s->driver->step(st, &row);
    if (err == HB_ERR_OK && !row) err = HB_ERR_NOT_FOUND;
    if (err == HB_ERR_OK) key_from_row(s, st, out);
    s->driver->reset(st);
    return err;
}

hb_err store_key_revoke(store *s, const char *key_id, int64_t at_ms)
{
    ASSERT(at_ms > 0);
    void *st = stmt(s, STMT_KEY_REVOKE);
    bind_str(s, st, 1, key_id);
    s->driver->bind_i64(st, 2, at_ms);
    hb_err err = run(s, st);
    if (err == HB_ERR_OK && s->driver->changes(s->conn) != 1) err = HB_ERR_NOT_FOUND;
    return err;
}

hb_err store_customer_set_boxes(store *s, const customer *c)
{
    void *st = stmt(s, STMT_CUSTOMER_SET_BOXES);
    const driver_ops *d = s->driver;
    d->bind_i64(st, 1, c->id);
    d->bind_blob(st, 2, c->name_box, c->name_box_len);
    d->bind_blob(st, 3, c->phone_box, c->phone_box_len);
    d->bind_blob(st, 4, c->id_number_box, c->id_number_box_len);
    return run_write(s, st, 1);
}

hb_err store_key_set_secret(store *s, const api_key *k)
{
    void *st = stmt(s, STMT_KEY_SET_SECRET);
    bind_str(s, st, 1, k->key_id);
    s->driver->bind_blob(st, 2, k->secret_box, k->secret_box_len);
    return run_write(s, st, 1);
}

hb_err store_key_list(store *s, const char *after, int limit, api_key *out, int *count)
{
    ASSERT(limit > 0 && limit <= LIMIT_PAGE_MAX);
    void *st = stmt(s, STMT_KEY_LIST);
    bind_str(s, st, 1, after);
    s->driver->bind_i64(st, 2, limit);
    return list_rows(s, st, limit, out, sizeof *out, key_row, count);
}

hb_err store_session_insert(store *s, const session *x)
{
    ASSERT(x->expires_at_ms > x->created_at_ms);
    ASSERT(x->role > ROLE_NONE && x->role < ROLE_COUNT);
    ASSERT(x->account_id > 0 || x->role == ROLE_ADMIN || x->role == ROLE_SUPPORT);
    void *st = stmt(s, STMT_SESSION_INSERT);
    s->driver->bind_blob(st, 1, x->token_hash, 32);
    s->driver->bind_i64(st, 2, x->account_id);
    s->driver->bind_i64(st, 3, x->expires_at_ms);
    s->driver->bind_i64(st, 4, x->revoked_at_ms);
    s->driver->bind_i64(st, 5, x->created_at_ms);
    s->driver->bind_i64(st, 6, x->role);
    return run(s, st);
}

hb_err store_session_get(store *s, const uint8_t token_hash[32], session *out)
{
    void *st = stmt(s, STMT_SESSION_GET);
    s->driver->bind_blob(st, 1, token_hash, 32);
    bool row = false;
    hb_err err = s->driver->step(st, &row);
    if (err == HB_ERR_OK && !row) err = HB_ERR_NOT_FOUND;
    if (err == HB_ERR_OK) {
        memset(out, 0, sizeof *out);
        column_hash(s, st, 0, out->token_hash);
        out->account_id = s->driver->column_i64(st, 1);
        out->expires_at_ms = s->driver->column_i64(st, 2);
        out->revoked_at_ms = s->driver->column_i64(st, 3);
        out->created_at_ms = s->driver->column_i64(st, 4);
        int64_t r = s->driver->column_i64(st, 5);
        out->role = r > ROLE_NONE && r < ROLE_COUNT ? (role)r : ROLE_NONE;
    }
    s->driver->reset(st);
    return err;
}

hb_err store_login_link_insert(store *s, const uint8_t token_hash[32], role r, int64_t account_id,
                               int64_t expires_at_ms, int64_t now_ms)
{
    void *st = stmt(s, STMT_LOGIN_LINK_INSERT);
    s->driver->bind_blob(st, 1, token_hash, 32);
    s->driver->bind_i64(st, 2, r);
    s->driver->bind_i64(st, 3, account_id);
    s->driver->bind_i64(st, 4, expires_at_ms);
    s->driver->bind_i64(st, 5, now_ms);
    return run(s, st);
}

hb_err store_login_link_usable(store *s, const uint8_t token_hash[32], int64_t now_ms)
{
    void *st = stmt(s, STMT_LOGIN_LINK_GET);
    s->driver->bind_blob(st, 1, token_hash, 32);
    bool row = false;
    hb_err err = s->driver->step(st, &row);
    if (err == HB_ERR_OK && !row) err = HB_ERR_NOT_FOUND;
    if (err == HB_ERR_OK &&
        (s->driver->column_i64(st, 3) != 0 || s->driver->column_i64(st, 2) <= now_ms)) {
        err = HB_ERR_NOT_FOUND;
    }
    s->driver->reset(st);
    return err;
}

hb_err store_login_link_use(store *s, const uint8_t token_hash[32], int64_t now_ms, role *r,
                            int64_t *account_id)
{
    void *st = stmt(s, STMT_LOGIN_LINK_USE);
    s->driver->bind_blob(st, 1, token_hash, 32);
    s->driver->bind_i64(st, 2, now_ms);
    hb_err err = run(s, st);
    if (err != HB_ERR_OK) return err;
    if (s->driver->changes(s->conn) != 1) return HB_ERR_NOT_FOUND;
    st = stmt(s, STMT_LOGIN_LINK_GET);
    s->driver->bind_blob(st, 1, token_hash, 32);
    bool row = false;
    err = s->driver->step(st, &row);
    if (err == HB_ERR_OK && !row) err = HB_ERR_NOT_FOUND;
    if (err == HB_ERR_OK) {
        int64_t value = s->driver->column_i64(st, 0);
        *r = value > ROLE_NONE && value < ROLE_PERSON ? (role)value : ROLE_NONE;
        *account_id = s->driver->column_i64(st, 1);
        if (*r == ROLE_NONE) err = HB_ERR_NOT_FOUND;
    }
    s->driver->reset(st);
    return err;
}

hb_err store_session_revoke(store *s, const uint8_t token_hash[32], int64_t at_ms)
{
    void *st = stmt(s, STMT_SESSION_REVOKE);
    s->driver->bind_blob(st, 1, token_hash, 32);
    s->driver->bind_i64(st, 2, at_ms);
    hb_err err = run(s, st);
    if (err == HB_ERR_OK && s->driver->changes(s->conn) != 1) err = HB_ERR_NOT_FOUND;
    return err;
}

hb_err store_nonce_insert(store *s, const char *key_id, const char *nonce, int64_t ts_ms)
{
    void *st = stmt(s, STMT_NONCE_INSERT);
    bind_str(s, st, 1, key_id);
    bind_str(s, st, 2, nonce);
    s->driver->bind_i64(st, 3, ts_ms);
    /* ON CONFLICT DO NOTHING rather than a unique violation: on PostgreSQL an error would
     * abort the whole batch's transaction, and the nonce runs outside any savepoint. */
    hb_err err = run(s, st);
    if (err == HB_ERR_OK && s->driver->changes(s->conn) != 1) err = HB_ERR_DUPLICATE;
    return err;
}

hb_err store_nonce_horizon(store *s, int64_t *out_ms)
{
    void *st = stmt(s, STMT_META_GET);
    bind_str(s, st, 1, "nonce_horizon_ms");
    bool row = false;
    hb_err err = s->driver->step(st, &row);
    *out_ms = 0;
    if (err == HB_ERR_OK && row) {
        size_t len = 0;
        const char *text = s->driver->column_text(st, 0, &len);
        char buf[24];
        ASSERT(len < sizeof buf);
        memcpy(buf, text, len);
        buf[len] = '\0';
        *out_ms = strtoll(buf, NULL, 10);
    }
    s->driver->reset(st);
    return err;
}

hb_err store_nonce_prune(store *s, int64_t before_ms)
{
    int64_t horizon = 0;
    hb_err err = store_nonce_horizon(s, &horizon);
    if (err == HB_ERR_OK && before_ms > horizon) {
        /* first the horizon, in the same transaction: no pruned nonce is ever replayable */
        void *st = stmt(s, STMT_META_PUT);
        char text[24];
        snprintf(text, sizeof text, "%lld", (long long)before_ms);
        bind_str(s, st, 1, "nonce_horizon_ms");
        bind_str(s, st, 2, text);
        err = run(s, st);
    }
    if (err != HB_ERR_OK) return err;
    void *st = stmt(s, STMT_NONCE_PRUNE);
    s->driver->bind_i64(st, 1, before_ms);
    return run(s, st);
}

static bool money_add_report(int64_t *total, int64_t value)
{
    return money_add(*total, value, total);
}

/* ---- the ledger check ---------------------------------------------------------------------- */

static hb_err check_by_kind(store *s, ledger_report *out)
{
    void *st = stmt(s, STMT_CHECK_BY_KIND);
    const driver_ops *d = s->driver;
    hb_err err;
    for (;;) {
        bool row = false;
        err = d->step(st, &row);
        if (err != HB_ERR_OK || !row) break;
        currency cur = column_currency(s, st, 0);
        account_kind kind = (account_kind)d->column_i64(st, 1);
        int64_t sum = d->column_i64(st, 2);
        int64_t count = d->column_i64(st, 3);
        ASSERT(currency_valid(cur));
        ledger_currency_report *r = &out->currencies[cur];
        r->currency = cur;
        r->accounts += count;
        bool ok = money_add_report(&r->sum_all, sum);
        if (kind <= ACCOUNT_KIND_NONE || kind >= ACCOUNT_KIND_COUNT) {
            out->unclassified_kinds += count;
            continue;
        }
        switch (account_kind_class(kind)) {
        case ACCOUNT_CLASS_CUSTODY:
            ok = ok && money_add_report(&r->custody, sum);
            break;
        case ACCOUNT_CLASS_PLATFORM:
            ok = ok && money_add_report(&r->platform_own, sum);
            break;
        case ACCOUNT_CLASS_CUSTOMER:
            ok = ok && money_add_report(&r->customer_owed, sum);
            break;
        }
        if (!ok) out->balanced = false;
    }
    d->reset(st);
    return err;
}

static hb_err ledger_check_in_snapshot(store *s, ledger_report *out);

hb_err store_snapshot_begin(store *s, bool *began)
{
    *began = false;
    if (s->in_transaction) return HB_ERR_OK;
    if (s->driver->exec(s->conn, s->driver->begin_read_sql) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    s->in_transaction = true;
    *began = true;
    return HB_ERR_OK;
}

void store_snapshot_end(store *s, bool began)
{
    if (began) store_rollback(s);
}

/* The first id a DERIVED_ statement finds (0: none). */
static hb_err derived_first(store *s, stmt_id id, int64_t *first)
{
    void *st = stmt(s, id);
    bool row = false;
    hb_err err = s->driver->step(st, &row);
    *first = err == HB_ERR_OK && row ? s->driver->column_i64(st, 0) : 0;
    s->driver->reset(st);
    return err;
}

hb_err store_derived_check(store *s, derived_report *out)
{
    ASSERT(s->in_transaction);
    memset(out, 0, sizeof *out);
    out->ok = true;
    hb_err err = HB_ERR_OK;
    static const stmt_id checks[] = {STMT_DERIVED_PACKET, STMT_DERIVED_PAYMENT,
                                     STMT_DERIVED_SETTLEMENT, STMT_DERIVED_UNSETTLED};
    for (size_t i = 0; i < sizeof checks / sizeof checks[0] && out->ok; i++) {
        int64_t first = 0;
        err = derived_first(s, checks[i], &first);
        if (err != HB_ERR_OK) return err;
        if (first == 0) continue;
        out->ok = false;
        long long id = (long long)first;
        char *why = out->reason;
        size_t size = sizeof out->reason;
        if (i == 0) {
            snprintf(why, size, "packet pkt_%lld's claimed or refunded totals differ from its "
                     "claims and refund (edited)", id);
        } else if (i == 1) {
            snprintf(why, size, "payment pay_%lld's refunded totals differ from its refunds "
                     "(edited)", id);
        } else if (i == 2) {
            snprintf(why, size, "settlement %lld's count differs from the payments it took "
                     "(edited)", id);
        } else {
            snprintf(why, size, "payment pay_%lld names a settlement of another merchant or none "
                     "(edited)", id);
        }
    }
    if (!out->ok) return HB_ERR_OK;
    ledger_report ledger;
    err = ledger_check_in_snapshot(s, &ledger);
    if (err != HB_ERR_OK) return err;
    if (!ledger.balanced) {
        out->ok = false;
        if (ledger.balance_mismatches > 0) {
            snprintf(out->reason, sizeof out->reason, "the ledger check fails: account acct_%lld's "
                     "balance differs from its transfers (edited)", (long long)ledger.first_mismatch_id);
        } else if (ledger.escrow_mismatches > 0 || ledger.pending_mismatches > 0) {
            snprintf(out->reason, sizeof out->reason, "the ledger check fails: an escrow or pending "
                     "balance differs from the packets or payments it holds (edited)");
        } else {
            snprintf(out->reason, sizeof out->reason, "the ledger check fails (hongbao ledger check "
                     "tells which part)");
        }
    }
    return HB_ERR_OK;
}

hb_err store_ledger_check(store *s, ledger_report *out)
{
    /* One snapshot for every query, so that a check running beside a live writer sees one
     * consistent ledger. */
    ASSERT(!s->in_transaction);
    if (s->driver->exec(s->conn, s->driver->begin_read_sql) != HB_ERR_OK) {
        return HB_ERR_UNAVAILABLE;
    }
    s->in_transaction = true;
    hb_err err = ledger_check_in_snapshot(s, out);
    store_rollback(s);
    return err;
}

static hb_err ledger_check_in_snapshot(store *s, ledger_report *out)
{
    memset(out, 0, sizeof *out);
    out->balanced = true;
    void *st = stmt(s, STMT_CHECK_COUNTS);
    const driver_ops *d = s->driver;
    bool row = false;
    hb_err err = d->step(st, &row);
    int64_t missing_balances = 0;
    if (err == HB_ERR_OK && row) {
        out->accounts = d->column_i64(st, 0);
        out->transfers = d->column_i64(st, 1);
        missing_balances = d->column_i64(st, 2);
    }
    d->reset(st);
    if (err != HB_ERR_OK) return err;

    err = check_by_kind(s, out);
    if (err != HB_ERR_OK) return err;

    st = stmt(s, STMT_CHECK_MISMATCH);
    err = d->step(st, &row);
    if (err == HB_ERR_OK && row) {
        out->balance_mismatches = d->column_i64(st, 0) + missing_balances;
        out->first_mismatch_id = d->column_i64(st, 1);
    }
    d->reset(st);
    if (err != HB_ERR_OK) return err;

    err = select_i64(s, STMT_CHECK_FLAGS, &out->flag_violations);
    if (err != HB_ERR_OK) return err;
    err = select_i64(s, STMT_CHECK_CURRENCY, &out->currency_mismatches);
    if (err != HB_ERR_OK) return err;
    err = select_i64(s, STMT_CHECK_ESCROW, &out->escrow_mismatches);
    if (err == HB_ERR_OK) err = select_i64(s, STMT_CHECK_PENDING, &out->pending_mismatches);
    if (err != HB_ERR_OK) return err;

    for (int c = 1; c < CURRENCY_COUNT; c++) {
        ledger_currency_report *r = &out->currencies[c];
        if (r->accounts == 0) continue;
        out->currencies[out->currency_count++] = *r;
    }
    for (int i = out->currency_count; i < CURRENCY_COUNT; i++) {
        memset(&out->currencies[i], 0, sizeof out->currencies[i]);
    }
    for (int i = 0; i < out->currency_count; i++) {
        const ledger_currency_report *r = &out->currencies[i];
        int64_t owed = 0;
        bool ok = money_add(r->customer_owed, r->platform_own, &owed);
        if (r->sum_all != 0 || !ok || r->custody != -owed || r->custody > 0) {
            out->balanced = false;
        }
    }
    if (out->balance_mismatches != 0 || out->flag_violations != 0 ||
        out->currency_mismatches != 0 || out->unclassified_kinds != 0 ||
        out->escrow_mismatches != 0 || out->pending_mismatches != 0) {
        out->balanced = false;
    }
    return HB_ERR_OK;
}
