/* The store's risk cases, lists and per-code runs (store.h). */
#include <stdio.h>
#include <stdlib.h>

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

/* ---- the writer's copy of the lists ------------------------------------------------------ */

typedef struct cached_entry {
    int64_t expires_at_ms;
    uint8_t kind;
    bool fuse;
    char value[LIMIT_DEVICE_LEN + 1];
} cached_entry;

struct list_cache {
    bool valid;
    int64_t version;
    cached_entry *entries;
    int count, capacity;
    int32_t *slots; /* open addressing: index + 1 into entries, 0 = empty */
    uint32_t mask;
};

void store_lists_invalidate(store *s)
{
    list_cache *c = s->lists;
    if (c == NULL) return;
    free(c->entries);
    free(c->slots);
    memset(c, 0, sizeof *c);
}

static uint32_t entry_hash(int kind, const char *value)
{
    uint32_t h = 2166136261u ^ (uint32_t)kind;
    for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++) {
        h = (h ^ *p) * 16777619u;
    }
    return h;
}

static const cached_entry *cache_find(const list_cache *c, int kind, const char *value)
{
    if (c->count == 0 || value[0] == '\0') return NULL;
    for (uint32_t i = entry_hash(kind, value) & c->mask;; i = (i + 1) & c->mask) {
        int32_t slot = c->slots[i];
        if (slot == 0) return NULL;
        const cached_entry *e = &c->entries[slot - 1];
        if (e->kind == kind && strcmp(e->value, value) == 0) return e;
    }
}

static hb_err cache_add(list_cache *c, const risk_list_entry *e)
{
    if (c->count == c->capacity) {
        int capacity = c->capacity == 0 ? 64 : c->capacity * 2;
        cached_entry *grown = realloc(c->entries, (size_t)capacity * sizeof *grown);
        if (grown == NULL) return HB_ERR_UNAVAILABLE;
        c->entries = grown;
        c->capacity = capacity;
    }
    cached_entry *ce = &c->entries[c->count++];
    ce->kind = (uint8_t)e->kind;
    ce->fuse = e->fuse;
    ce->expires_at_ms = e->expires_at_ms;
    snprintf(ce->value, sizeof ce->value, "%s", e->value);
    return HB_ERR_OK;
}

/* Load every live entry (as of now) and index them. */
static hb_err cache_load(store *s, list_cache *c, int64_t version, int64_t now_ms)
{
    enum { PAGE = 256 };
    risk_list_entry *page = malloc(PAGE * sizeof *page);
    if (page == NULL) return HB_ERR_UNAVAILABLE;
    hb_err err = HB_ERR_OK;
    for (int kind = RISK_LIST_ACCOUNT; kind <= RISK_LIST_CODE && err == HB_ERR_OK; kind++) {
        char after[LIMIT_DEVICE_LEN + 1] = "";
        int n = PAGE;
        while (err == HB_ERR_OK && n == PAGE) {
            err = store_list_page(s, (risk_list_kind)kind, after, now_ms, PAGE, page, &n);
            for (int i = 0; err == HB_ERR_OK && i < n; i++) err = cache_add(c, &page[i]);
            if (n > 0) snprintf(after, sizeof after, "%s", page[n - 1].value);
        }
    }
    free(page);
    uint32_t size = 16;
    while (err == HB_ERR_OK && size < (uint32_t)c->count * 2) size *= 2;
    if (err == HB_ERR_OK) c->slots = calloc(size, sizeof *c->slots);
    if (err != HB_ERR_OK || c->slots == NULL) {
        store_lists_invalidate(s);
        return HB_ERR_UNAVAILABLE;
    }
    c->mask = size - 1;
    for (int i = 0; i < c->count; i++) {
        uint32_t j = entry_hash(c->entries[i].kind, c->entries[i].value) & c->mask;
        while (c->slots[j] != 0) j = (j + 1) & c->mask;
        c->slots[j] = i + 1;
    }
    c->version = version;
    c->valid = true;
    return HB_ERR_OK;
}

hb_err store_list_screen(store *s, const char *account_id, const char *device, const char *code,
                         int64_t now_ms, risk_list_entry out[3], int *count)
{
    *count = 0;
    if (s->lists == NULL && (s->lists = calloc(1, sizeof *s->lists)) == NULL) {
        return HB_ERR_UNAVAILABLE;
    }
    list_cache *c = s->lists;
    if (!s->lists_checked || !c->valid) {
        /* once a transaction: has another writer (a node) changed the lists? */
        int64_t version = 0;
        int64_t *const cols[] = {&version};
        if (select_row_i64(s, stmt(s, STMT_LIST_VERSION), cols, 1) != HB_ERR_OK) {
            return HB_ERR_UNAVAILABLE;
        }
        s->lists_checked = true;
        if (c->valid && c->version != version) store_lists_invalidate(s);
        if (!c->valid && cache_load(s, c, version, now_ms) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    }
    const char *const values[] = {account_id, device, code};
    for (int kind = RISK_LIST_ACCOUNT; kind <= RISK_LIST_CODE; kind++) {
        const cached_entry *e = cache_find(c, kind, values[kind - 1]);
        if (e == NULL) continue;
        risk_list_entry *o = &out[(*count)++];
        memset(o, 0, sizeof *o);
        o->kind = (risk_list_kind)kind;
        o->fuse = e->fuse;
        o->expires_at_ms = e->expires_at_ms;
        snprintf(o->value, sizeof o->value, "%s", e->value);
    }
    return HB_ERR_OK;
}

/* A list changed in this transaction: other writers see the new version; this one reloads. */
static hb_err lists_changed(store *s)
{
    s->lists_written = true;
    store_lists_invalidate(s);
    return run_write(s, stmt(s, STMT_LIST_VERSION_BUMP), 1);
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
    hb_err err = run_write(s, st, 1);
    return err == HB_ERR_OK ? lists_changed(s) : err;
}

hb_err store_list_delete(store *s, risk_list_kind kind, const char *value)
{
    void *st = stmt(s, STMT_LIST_DELETE);
    s->driver->bind_i64(st, 1, kind);
    bind_str(s, st, 2, value);
    hb_err err = run(s, st);
    if (err == HB_ERR_OK && s->driver->changes(s->conn) != 1) err = HB_ERR_NOT_FOUND;
    return err == HB_ERR_OK ? lists_changed(s) : err;
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

static void binding_row(store *s, void *st, void *item)
{
    device_binding *out = item;
    out->account_id = s->driver->column_i64(st, 0);
    out->first_at_ms = s->driver->column_i64(st, 1);
    out->last_at_ms = s->driver->column_i64(st, 2);
}

hb_err store_binding_all(store *s, const char *device, bool latest_first, int limit,
                         device_binding *out, int *count)
{
    void *st = stmt(s, latest_first ? STMT_BINDING_LATEST : STMT_BINDING_ALL);
    bind_str(s, st, 1, device);
    s->driver->bind_i64(st, 2, limit);
    return list_rows(s, st, limit, out, sizeof *out, binding_row, count);
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
