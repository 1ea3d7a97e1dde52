/* The store's risk cases, lists and per-code runs (store.h). */
#include <stdio.h>

#include "store/store_internal.h"

static void case_row(store *s, void *st, void *item)
{
    risk_case *out = item;
    const driver_ops *d = s->driver;
    memset(out, 0, sizeof *out);
    out->id = d->column_i64(st, 0);
    out->account_id = d->column_i64(st, 1);
    column_copy(s, st, 2, out->rule, sizeof out->rule);
    column_copy(s, st, 3, out->object, sizeof out->object);
    column_copy(s, st, 4, out->decision, sizeof out->decision);
    column_copy(s, st, 5, out->reason, sizeof out->reason);
    out->status = (int)d->column_i64(st, 6);
    out->events = d->column_i64(st, 7);
    out->first_at_ms = d->column_i64(st, 8);
    out->last_at_ms = d->column_i64(st, 9);
    column_copy(s, st, 10, out->resolution, sizeof out->resolution);
    column_copy(s, st, 11, out->resolved_by, sizeof out->resolved_by);
    out->resolved_at_ms = d->column_i64(st, 12);
    ASSERT(out->id > 0 && (out->status == 0 || out->status == 1) && out->events > 0);
}

hb_err store_case_insert(store *s, const risk_case *c)
{
    ASSERT(c->id > 0 && c->events > 0);
    void *st = stmt(s, STMT_CASE_INSERT);
    const driver_ops *d = s->driver;
    d->bind_i64(st, 1, c->id);
    d->bind_i64(st, 2, c->account_id);
    bind_str(s, st, 3, c->rule);
    bind_str(s, st, 4, c->object);
    bind_str(s, st, 5, c->decision);
    bind_str(s, st, 6, c->reason);
    d->bind_i64(st, 7, c->status);
    d->bind_i64(st, 8, c->events);
    d->bind_i64(st, 9, c->first_at_ms);
    d->bind_i64(st, 10, c->last_at_ms);
    bind_str(s, st, 11, c->resolution);
    bind_str(s, st, 12, c->resolved_by);
    d->bind_i64(st, 13, c->resolved_at_ms);
    return run_write(s, st, 1);
}

hb_err store_case_find_open(store *s, int64_t account_id, const char *rule, const char *object,
                            risk_case *out)
{
    void *st = stmt(s, STMT_CASE_FIND_OPEN);
    s->driver->bind_i64(st, 1, account_id);
    bind_str(s, st, 2, rule);
    bind_str(s, st, 3, object);
    return select_one(s, st, out, case_row);
}

hb_err store_case_touch(store *s, int64_t id, int64_t now_ms, const char *decision,
                        const char *reason)
{
    void *st = stmt(s, STMT_CASE_TOUCH);
    s->driver->bind_i64(st, 1, id);
    s->driver->bind_i64(st, 2, now_ms);
    bind_str(s, st, 3, decision);
    bind_str(s, st, 4, reason);
    return run_write(s, st, 1);
}

hb_err store_case_get(store *s, int64_t id, risk_case *out)
{
    void *st = stmt(s, STMT_CASE_GET);
    s->driver->bind_i64(st, 1, id);
    return select_one(s, st, out, case_row);
}

hb_err store_case_list(store *s, int status, int64_t account_id, const char *rule,
                       int64_t before_id, int limit, risk_case *out, int *count)
{
    void *st = stmt(s, STMT_CASE_LIST);
    s->driver->bind_i64(st, 1, status);
    s->driver->bind_i64(st, 2, account_id);
    bind_str(s, st, 3, rule);
    s->driver->bind_i64(st, 4, before_id);
    s->driver->bind_i64(st, 5, limit);
    return list_rows(s, st, limit, out, sizeof *out, case_row, count);
}

hb_err store_case_resolve(store *s, int64_t id, const char *resolution, const char *by,
                          int64_t now_ms)
{
    void *st = stmt(s, STMT_CASE_RESOLVE);
    s->driver->bind_i64(st, 1, id);
    bind_str(s, st, 2, resolution);
    bind_str(s, st, 3, by);
    s->driver->bind_i64(st, 4, now_ms);
    return run_write(s, st, 1);
}

static void list_row(store *s, void *st, void *item)
{
    risk_list_entry *out = item;
    const driver_ops *d = s->driver;
    memset(out, 0, sizeof *out);
    out->kind = (risk_list_kind)d->column_i64(st, 0);
    column_copy(s, st, 1, out->value, sizeof out->value);
    out->fuse = d->column_i64(st, 2) != 0;
    column_copy(s, st, 3, out->reason, sizeof out->reason);
    out->expires_at_ms = d->column_i64(st, 4);
    out->created_at_ms = d->column_i64(st, 5);
    column_copy(s, st, 6, out->created_by, sizeof out->created_by);
    ASSERT(out->kind >= RISK_LIST_ACCOUNT && out->kind <= RISK_LIST_CODE);
}

hb_err store_list_get(store *s, risk_list_kind kind, const char *value, risk_list_entry *out)
{
    void *st = stmt(s, STMT_LIST_GET);
    s->driver->bind_i64(st, 1, kind);
    bind_str(s, st, 2, value);
    return select_one(s, st, out, list_row);
}

hb_err store_list_put(store *s, const risk_list_entry *e)
{
    ASSERT(e->kind >= RISK_LIST_ACCOUNT && e->kind <= RISK_LIST_CODE && e->value[0] != '\0');
    void *st = stmt(s, STMT_LIST_PUT);
    const driver_ops *d = s->driver;
    d->bind_i64(st, 1, e->kind);
    bind_str(s, st, 2, e->value);
    d->bind_i64(st, 3, e->fuse);
    bind_str(s, st, 4, e->reason);
    d->bind_i64(st, 5, e->expires_at_ms);
    d->bind_i64(st, 6, e->created_at_ms);
    bind_str(s, st, 7, e->created_by);
    return run_write(s, st, 1);
}

hb_err store_list_delete(store *s, risk_list_kind kind, const char *value)
{
    void *st = stmt(s, STMT_LIST_DELETE);
    s->driver->bind_i64(st, 1, kind);
    bind_str(s, st, 2, value);
    hb_err err = run(s, st);
    if (err == HB_ERR_OK && s->driver->changes(s->conn) != 1) err = HB_ERR_NOT_FOUND;
    return err;
}

hb_err store_list_page(store *s, risk_list_kind kind, const char *after, int64_t now_ms,
                       int limit, risk_list_entry *out, int *count)
{
    void *st = stmt(s, STMT_LIST_PAGE);
    s->driver->bind_i64(st, 1, kind);
    bind_str(s, st, 2, after);
    s->driver->bind_i64(st, 3, now_ms);
    s->driver->bind_i64(st, 4, limit);
    return list_rows(s, st, limit, out, sizeof *out, list_row, count);
}

hb_err store_night_get(store *s, int64_t account_id, int64_t *window_start, int64_t *count)
{
    void *st = stmt(s, STMT_NIGHT_GET);
    s->driver->bind_i64(st, 1, account_id);
    int64_t *const out[] = {window_start, count};
    return select_row_i64(s, st, out, 2);
}

hb_err store_night_put(store *s, int64_t account_id, int64_t window_start, int64_t count)
{
    void *st = stmt(s, STMT_NIGHT_PUT);
    s->driver->bind_i64(st, 1, account_id);
    s->driver->bind_i64(st, 2, window_start);
    s->driver->bind_i64(st, 3, count);
    return run_write(s, st, 1);
}

hb_err store_packet_day_get(store *s, int64_t account_id, int64_t day, int64_t *n,
                            int64_t *total, int64_t *squares)
{
    void *st = stmt(s, STMT_PACKET_DAY_GET);
    s->driver->bind_i64(st, 1, account_id);
    s->driver->bind_i64(st, 2, day);
    int64_t *const out[] = {n, total, squares};
    return select_row_i64(s, st, out, 3);
}

hb_err store_packet_day_put(store *s, int64_t account_id, int64_t day, int64_t n, int64_t total,
                            int64_t squares)
{
    void *st = stmt(s, STMT_PACKET_DAY_PUT);
    const int64_t v[] = {account_id, day, n, total, squares};
    for (int i = 0; i < 5; i++) s->driver->bind_i64(st, i + 1, v[i]);
    return run_write(s, st, 1);
}

hb_err store_code_run_get(store *s, int64_t code_id, int64_t *amount, int64_t *run_length)
{
    void *st = stmt(s, STMT_CODE_RUN_GET);
    s->driver->bind_i64(st, 1, code_id);
    int64_t *const out[] = {amount, run_length};
    return select_row_i64(s, st, out, 2);
}

hb_err store_code_run_put(store *s, int64_t code_id, int64_t amount, int64_t run_length)
{
    void *st = stmt(s, STMT_CODE_RUN_PUT);
    s->driver->bind_i64(st, 1, code_id);
    s->driver->bind_i64(st, 2, amount);
    s->driver->bind_i64(st, 3, run_length);
    return run_write(s, st, 1);
}

/* ---- device bindings and large-transaction reports -------------------------------------- */

/* A bound statement's single integer (a COUNT, so always a row). */
static hb_err one_i64(store *s, void *st, int64_t *out)
{
    int64_t *const cols[] = {out};
    hb_err err = select_row_i64(s, st, cols, 1);
    return err == HB_ERR_NOT_FOUND ? HB_ERR_UNAVAILABLE : err;
}

hb_err store_binding_exists(store *s, const char *device, int64_t account_id, bool *out)
{
    void *st = stmt(s, STMT_BINDING_EXISTS);
    bind_str(s, st, 1, device);
    s->driver->bind_i64(st, 2, account_id);
    int64_t n = 0;
    hb_err err = one_i64(s, st, &n);
    *out = n > 0;
    return err;
}

hb_err store_binding_count(store *s, const char *device, int64_t since_ms, int64_t *out)
{
    void *st = stmt(s, STMT_BINDING_COUNT);
    bind_str(s, st, 1, device);
    s->driver->bind_i64(st, 2, since_ms);
    return one_i64(s, st, out);
}

hb_err store_binding_insert(store *s, const char *device, int64_t account_id, int64_t now_ms)
{
    void *st = stmt(s, STMT_BINDING_INSERT);
    bind_str(s, st, 1, device);
    s->driver->bind_i64(st, 2, account_id);
    s->driver->bind_i64(st, 3, now_ms);
    return run_write(s, st, 1);
}

hb_err store_binding_used(store *s, const char *device, int64_t account_id, int64_t now_ms)
{
    void *st = stmt(s, STMT_BINDING_USED);
    bind_str(s, st, 1, device);
    s->driver->bind_i64(st, 2, account_id);
    s->driver->bind_i64(st, 3, now_ms);
    return run_write(s, st, 1);
}

static void id_row(store *s, void *st, void *item)
{
    *(int64_t *)item = s->driver->column_i64(st, 0);
}

hb_err store_binding_recent(store *s, const char *device, int64_t since_ms, int limit,
                            int64_t *out, int *count)
{
    void *st = stmt(s, STMT_BINDING_RECENT);
    bind_str(s, st, 1, device);
    s->driver->bind_i64(st, 2, since_ms);
    s->driver->bind_i64(st, 3, limit);
    return list_rows(s, st, limit, out, sizeof *out, id_row, count);
}

hb_err store_large_insert(store *s, const large_report *r)
{
    ASSERT(r->id > 0 && r->kind >= 1 && r->kind <= 3 && r->amount > 0);
    void *st = stmt(s, STMT_LARGE_INSERT);
    const driver_ops *d = s->driver;
    d->bind_i64(st, 1, r->id);
    d->bind_i64(st, 2, r->account_id);
    d->bind_i64(st, 3, r->day);
    d->bind_i64(st, 4, r->kind);
    d->bind_i64(st, 5, r->amount);
    bind_str(s, st, 6, r->reference);
    d->bind_i64(st, 7, r->created_at_ms);
    return run_write(s, st, 1);
}

hb_err store_large_daily_exists(store *s, int64_t account_id, int64_t day, bool *out)
{
    void *st = stmt(s, STMT_LARGE_DAILY_EXISTS);
    s->driver->bind_i64(st, 1, account_id);
    s->driver->bind_i64(st, 2, day);
    int64_t n = 0;
    hb_err err = one_i64(s, st, &n);
    *out = n > 0;
    return err;
}

static void large_row(store *s, void *st, void *item)
{
    large_report *out = item;
    const driver_ops *d = s->driver;
    memset(out, 0, sizeof *out);
    out->id = d->column_i64(st, 0);
    out->account_id = d->column_i64(st, 1);
    out->day = d->column_i64(st, 2);
    out->kind = (int)d->column_i64(st, 3);
    out->amount = d->column_i64(st, 4);
    column_copy(s, st, 5, out->reference, sizeof out->reference);
    out->created_at_ms = d->column_i64(st, 6);
    ASSERT(out->id > 0 && out->kind >= 1 && out->kind <= 3);
}

hb_err store_large_list(store *s, int64_t from_day, int64_t to_day, int64_t after_id, int limit,
                        large_report *out, int *count)
{
    void *st = stmt(s, STMT_LARGE_LIST);
    s->driver->bind_i64(st, 1, from_day);
    s->driver->bind_i64(st, 2, to_day);
    s->driver->bind_i64(st, 3, after_id);
    s->driver->bind_i64(st, 4, limit);
    return list_rows(s, st, limit, out, sizeof *out, large_row, count);
}
