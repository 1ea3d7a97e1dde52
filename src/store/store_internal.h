/* What store.c and the files beside it share (internal to src/store): the statements, the
 * connection struct and the statement helpers. */
#ifndef HB_STORE_STORE_INTERNAL_H
#define HB_STORE_STORE_INTERNAL_H

#include <string.h>

#include "store/driver.h"
#include "store/statements.h"
#include "store/store.h"

typedef enum stmt_id {
#define STMT_ENUM(name, sql) STMT_##name,
    STATEMENTS(STMT_ENUM)
#undef STMT_ENUM
        STMT_COUNT
} stmt_id;

/* The writer's copy of the risk lists (store_risk.c), so that screening a movement reads no
 * table: loaded on first use, checked against risk_version once a transaction, dropped when
 * this connection writes a list (the next screen reloads what the transaction sees) and when
 * a transaction or savepoint that wrote one rolls back. */
typedef struct list_cache list_cache;

struct store {
    const driver_ops *driver;
    void *conn;
    void *stmts[STMT_COUNT];
    bool in_transaction;
    bool in_savepoint;
    list_cache *lists;
    bool lists_checked; /* the cache's version was compared in this transaction */
    bool lists_written; /* a list was written in this transaction */
    /* the audit record the command now running will append: every ledger row it writes
     * carries it (store_set_audit_tag) */
    char audit_node[LIMIT_NODE_LEN + 1];
    int64_t audit_seq;
};

void store_lists_invalidate(store *s);

/* ---- statement helpers ---------------------------------------------------------------- */

static inline void *stmt(store *s, stmt_id id)
{
    ASSERT(id < STMT_COUNT && s->stmts[id] != NULL);
    return s->stmts[id];
}

static inline void bind_str(store *s, void *st, int param, const char *text)
{
    s->driver->bind_text(st, param, text, strlen(text));
}

/* Bind the running command's audit record (node, seq) at params first and first + 1. */
static inline void bind_audit_tag(store *s, void *st, int first)
{
    bind_str(s, st, first, s->audit_node);
    s->driver->bind_i64(st, first + 1, s->audit_seq);
}

/* Run a statement that returns no rows; resets it. */
static inline hb_err run(store *s, void *st)
{
    bool row = false;
    hb_err err = s->driver->step(st, &row);
    s->driver->reset(st);
    return err;
}

/* Run a statement that returns no rows inside a transaction, where only a storage fault can
 * make it fail: the driver may pipeline it (step_deferred). expect_changes >= 0 is the row
 * count it must change; otherwise NOT_FOUND (or, pipelined, a later UNAVAILABLE). */
static inline hb_err run_write(store *s, void *st, int64_t expect_changes)
{
    ASSERT(s->in_transaction);
    if (s->driver->step_deferred != NULL) {
        hb_err err = s->driver->step_deferred(st, expect_changes);
        s->driver->reset(st);
        return err;
    }
    hb_err err = run(s, st);
    if (err == HB_ERR_OK && expect_changes >= 0 && s->driver->changes(s->conn) != expect_changes) {
        err = HB_ERR_NOT_FOUND;
    }
    return err;
}

/* Copy a text column into a fixed buffer; ASSERT it fits (the schema bounds it). */
static inline void column_copy(store *s, void *st, int col, char *dst, size_t dst_size)
{
    size_t len = 0;
    const char *text = s->driver->column_text(st, col, &len);
    ASSERT(len < dst_size);
    memcpy(dst, text, len);
    dst[len] = '\0';
}

/* The same for a reader that must survive a tampered store: false (dst truncated) when the
 * text does not fit. */
static inline bool column_copy_checked(store *s, void *st, int col, char *dst, size_t dst_size)
{
    size_t len = 0;
    const char *text = s->driver->column_text(st, col, &len);
    bool fits = len < dst_size;
    if (!fits) len = dst_size - 1;
    if (text != NULL) memcpy(dst, text, len);
    dst[text != NULL ? len : 0] = '\0';
    return fits;
}

static inline void column_hash(store *s, void *st, int col, uint8_t dst[32])
{
    size_t len = 0;
    const void *data = s->driver->column_blob(st, col, &len);
    ASSERT(len == 32 && data != NULL);
    memcpy(dst, data, 32);
}

static inline currency column_currency(store *s, void *st, int col)
{
    size_t len = 0;
    const char *text = s->driver->column_text(st, col, &len);
    return currency_parse(text, len);
}

/* Read up to limit rows of a bound statement into out (items of item_size bytes) with
 * from_row; resets the statement. *count is 0 on error. */
typedef void (*row_reader)(store *s, void *st, void *item);

static inline hb_err list_rows(store *s, void *st, int limit, void *out, size_t item_size,
                        row_reader from_row, int *count)
{
    ASSERT(limit > 0 && limit <= LIMIT_PAGE_MAX);
    int n = 0;
    hb_err err = HB_ERR_OK;
    for (;;) {
        bool row = false;
        err = s->driver->step(st, &row);
        if (err != HB_ERR_OK || !row) break;
        ASSERT(n < limit); /* the statement's LIMIT bounds it */
        from_row(s, st, (char *)out + (size_t)n * item_size);
        n++;
    }
    s->driver->reset(st);
    *count = err == HB_ERR_OK ? n : 0;
    return err;
}

/* Step a bound statement for at most one row, read it into out with from_row; resets the
 * statement. NOT_FOUND when there is none. */
static inline hb_err select_one(store *s, void *st, void *out, row_reader from_row)
{
    bool row = false;
    hb_err err = s->driver->step(st, &row);
    if (err == HB_ERR_OK && !row) err = HB_ERR_NOT_FOUND;
    if (err == HB_ERR_OK) from_row(s, st, out);
    s->driver->reset(st);
    return err;
}


/* Step a bound statement for one row of n integer columns into *out[0..n); resets it.
 * NOT_FOUND when there is no row. */
static inline hb_err select_row_i64(store *s, void *st, int64_t *const *out, int n)
{
    bool row = false;
    hb_err err = s->driver->step(st, &row);
    if (err == HB_ERR_OK && !row) err = HB_ERR_NOT_FOUND;
    for (int i = 0; err == HB_ERR_OK && i < n; i++) *out[i] = s->driver->column_i64(st, i);
    s->driver->reset(st);
    return err;
}

/* A statement that always returns one integer (COUNT, MAX); no row is a fault. */
static inline hb_err select_i64(store *s, stmt_id id, int64_t *out)
{
    int64_t *const cols[] = {out};
    hb_err err = select_row_i64(s, stmt(s, id), cols, 1);
    return err == HB_ERR_NOT_FOUND ? HB_ERR_UNAVAILABLE : err;
}

#endif
