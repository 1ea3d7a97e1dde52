/* Helpers shared by hongbao's C tests (cmocka). */
#ifndef HB_TESTS_TESTUTIL_H
#define HB_TESTS_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "engine/engine.h"

/* cmocka 1.1.5 prints negative integers as huge unsigned values: compare money with this. */
#define assert_money_eq(actual, expected) \
    testutil_money_eq((int64_t)(actual), (int64_t)(expected), #actual, __FILE__, __LINE__)
void testutil_money_eq(int64_t actual, int64_t expected, const char *expr, const char *file,
                       int line);

/* A fresh temporary directory (mkdtemp under $TMPDIR or /tmp); the path is static storage
 * valid until the next call. Removed with testutil_rmdir(). */
const char *testutil_tempdir(void);
void testutil_rmdir(const char *path);
/* "dir/name" in a static buffer. */
const char *testutil_path(const char *dir, const char *name);

/* The PostgreSQL server the tests run on ($HB_TEST_PG, a url without a database name), or
 * NULL for SQLite. */
const char *testutil_pg(void);
/* Where a new store lives: "dir/name" (SQLite), or the url of a fresh database on
 * $HB_TEST_PG. Static buffer, valid until the next call. */
const char *testutil_store(const char *dir, const char *name);

/* Open an engine on a new store at path with system accounts for CNY and HKD. */
engine *testutil_engine(const char *path, const engine_options *options);
/* Create a wallet (personal, CNY unless cur given) and return its id; asserts success. */
int64_t testutil_wallet(engine *e, const char *owner, currency cur);
/* Top up a wallet; returns the command's error. */
hb_err testutil_topup(engine *e, int64_t wallet, int64_t amount_fen);
/* A p2p transfer with an optional idempotency key; returns the error, *id_out the id. */
hb_err testutil_transfer(engine *e, int64_t from, int64_t to, int64_t amount_fen,
                         const char *idem_key, int64_t *id_out);
/* Run the ledger check on a separate read connection; asserts it could run. */
ledger_report testutil_check(const char *path);
/* Run SQL straight on a store (SQLite file or PostgreSQL url), as someone with the files or
 * the database would, around the application; asserts it ran. */
void testutil_sql(const char *path, const char *sql);
/* A blob as an SQL literal for that store: X'..' (SQLite) or '\x..'::bytea (PostgreSQL).
 * Static buffer, valid until the next call. */
const char *testutil_blob_sql(const char *path, const uint8_t *data, size_t len);

/* How many environment-scaled iterations: $HB_TEST_SCALE percent of n (default 100), and on
 * PostgreSQL $HB_TEST_PG_SCALE percent of that (the heavy suites set it: there every
 * one-command batch is a round trip and a commit of its own). */
int64_t testutil_scaled(int64_t n);

#endif
