/* The thin driver layer under store.c (internal to src/store).
 *
 * store.c holds every query, written once with $1-style parameters in the SQL subset that
 * SQLite and PostgreSQL share. A driver only prepares statements, binds parameters, steps
 * through rows and maps its errors to hb_err; schema migrations differ in column types, so
 * each driver owns its own. */
#ifndef HB_STORE_DRIVER_H
#define HB_STORE_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "store/store.h"

typedef struct driver_ops {
    const char *name;
    /* Open a connection; *conn owned by the driver until close. */
    hb_err (*open)(const char *url, const store_options *options, void **conn, char *err_text,
                   size_t err_text_size);
    void (*close)(void *conn);
    /* Run parameterless SQL (transaction control). */
    hb_err (*exec)(void *conn, const char *sql);
    hb_err (*prepare)(void *conn, const char *sql, void **stmt);
    void (*finalize)(void *stmt);
    /* Parameters are numbered from 1 as in the SQL text ($1, $2, ...). Bound values are
     * copied, so the caller's buffers may change after binding. */
    void (*bind_i64)(void *stmt, int param, int64_t value);
    void (*bind_text)(void *stmt, int param, const char *text, size_t len);
    void (*bind_blob)(void *stmt, int param, const void *data, size_t len);
    void (*bind_null)(void *stmt, int param);
    /* Advance: *row is true while a row is available. DUPLICATE for a unique violation,
     * UNAVAILABLE for storage faults. */
    hb_err (*step)(void *stmt, bool *row);
    /* Columns are numbered from 0. Pointers stay valid until the next step or reset. */
    int64_t (*column_i64)(void *stmt, int col);
    const char *(*column_text)(void *stmt, int col, size_t *len);
    const void *(*column_blob)(void *stmt, int col, size_t *len);
    bool (*column_null)(void *stmt, int col);
    /* Rows changed by the last INSERT, UPDATE or DELETE run on this connection. */
    int64_t (*changes)(void *conn);
    /* Make the statement ready for new parameters. */
    void (*reset)(void *stmt);
    const char *(*last_error)(void *conn);
    /* A number that changes whenever another connection commits to the database; drivers
     * without such a notion (exclusive_writer false) leave it NULL. */
    hb_err (*data_version)(void *conn, int64_t *out);
    /* SQL that starts a write transaction taking the write lock at once. */
    const char *begin_sql;
    /* SQL that starts a read-only transaction with one consistent snapshot. */
    const char *begin_read_sql;
    bool exclusive_writer;
    /* Run a statement whose rows are not read, inside a transaction. The driver may send it
     * and return before the server has answered (PostgreSQL pipelines them); a failure, or a
     * row count other than expect_changes (when >= 0), then surfaces as UNAVAILABLE from a
     * later step, exec or commit on the connection, and the transaction cannot commit.
     * NULL: store.c steps the statement and checks the count itself. */
    hb_err (*step_deferred)(void *stmt, int64_t expect_changes);
    /* False once the connection is lost for good (a restarted server): the owner closes it
     * and opens another. NULL: always usable. */
    bool (*alive)(void *conn);
    /* One round trip to the server: HB_ERR_OK while the connection works. NULL: nothing to
     * ask (an embedded store). */
    hb_err (*ping)(void *conn);
} driver_ops;

extern const driver_ops driver_sqlite;
extern const driver_ops driver_pg;

#endif
