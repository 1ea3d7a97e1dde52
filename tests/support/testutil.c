#include "testutil.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "service/wallet.h"

void testutil_money_eq(int64_t actual, int64_t expected, const char *expr, const char *file,
                       int line)
{
    if (actual == expected) return;
    fprintf(stderr, "%s:%d: %s is %lld, expected %lld\n", file, line, expr, (long long)actual,
            (long long)expected);
    fail();
}

const char *testutil_tempdir(void)
{
    static char path[512];
    const char *base = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/hongbao-test-XXXXXX", base && base[0] ? base : "/tmp");
    assert_non_null(mkdtemp(path));
    return path;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void testutil_rmdir(const char *path)
{
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *testutil_path(const char *dir, const char *name)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

const char *testutil_pg(void)
{
    const char *base = getenv("HB_TEST_PG");
    return base != NULL && base[0] != '\0' ? base : NULL;
}

const char *testutil_store(const char *dir, const char *name)
{
    static char url[1024];
    static int counter;
    const char *base = testutil_pg();
    if (base == NULL) return testutil_path(dir, name);
    /* a fresh database per store: the engine creates it (engine_options.create) */
    char db[64];
    size_t n = 0;
    for (const char *p = name; *p && n < 20; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')) db[n++] = *p;
    }
    db[n] = '\0';
    snprintf(url, sizeof url, "%s/hbt_%ld_%d_%s", base, (long)getpid(), ++counter, db);
    return url;
}

engine *testutil_engine(const char *path, const engine_options *options)
{
    engine_options defaults = {0};
    engine_options o = options ? *options : defaults;
    o.create = true;
    engine *e = NULL;
    char err_text[256];
    hb_err err = engine_open(path, &o, &e, err_text, sizeof err_text);
    if (err != HB_ERR_OK) fprintf(stderr, "engine_open: %s\n", err_text);
    assert_int_equal(err, HB_ERR_OK);
    assert_int_equal(wallet_init_system(e, CURRENCY_CNY, err_text, sizeof err_text), HB_ERR_OK);
    assert_int_equal(wallet_init_system(e, CURRENCY_HKD, err_text, sizeof err_text), HB_ERR_OK);
    return e;
}

int64_t testutil_wallet(engine *e, const char *owner, currency cur)
{
    account_create_cmd c;
    memset(&c, 0, sizeof c);
    snprintf(c.account.owner, sizeof c.account.owner, "%s", owner);
    c.account.kind = ACCOUNT_WALLET;
    c.account.tier = TIER_PERSONAL;
    c.account.currency = cur == CURRENCY_NONE ? CURRENCY_CNY : cur;
    assert_int_equal(wallet_account_create_prepare(&c, "test", NULL), HB_ERR_OK);
    assert_int_equal(engine_submit(e, &c.base), HB_ERR_OK);
    assert_true(c.account.id > 0);
    return c.account.id;
}

hb_err testutil_topup(engine *e, int64_t wallet, int64_t amount_fen)
{
    transfer_cmd c;
    memset(&c, 0, sizeof c);
    c.transfer.kind = TRANSFER_TOPUP;
    c.transfer.credit_id = wallet;
    c.transfer.amount = amount_fen;
    snprintf(c.transfer.reference, sizeof c.transfer.reference, "test-bank-ref");
    hb_err err = wallet_transfer_prepare(&c, "test", NULL);
    if (err != HB_ERR_OK) return err;
    return engine_submit(e, &c.base);
}

hb_err testutil_transfer(engine *e, int64_t from, int64_t to, int64_t amount_fen,
                         const char *idem_key, int64_t *id_out)
{
    transfer_cmd c;
    memset(&c, 0, sizeof c);
    c.transfer.kind = TRANSFER_P2P;
    c.transfer.debit_id = from;
    c.transfer.credit_id = to;
    c.transfer.amount = amount_fen;
    hb_err err = wallet_transfer_prepare(&c, "test", idem_key);
    if (err != HB_ERR_OK) return err;
    err = engine_submit(e, &c.base);
    if (id_out != NULL) *id_out = err == HB_ERR_OK ? c.transfer.id : 0;
    return err;
}

ledger_report testutil_check(const char *path)
{
    store *s = NULL;
    store_options o = {0};
    assert_int_equal(store_open(path, &o, &s, NULL, 0), HB_ERR_OK);
    ledger_report r;
    assert_int_equal(store_ledger_check(s, &r), HB_ERR_OK);
    store_close(s);
    return r;
}

int64_t testutil_scaled(int64_t n)
{
    static const char *const knobs[] = {"HB_TEST_SCALE", "HB_TEST_PG_SCALE"};
    for (int i = 0; i < (testutil_pg() != NULL ? 2 : 1); i++) {
        const char *scale = getenv(knobs[i]);
        long percent = scale != NULL && scale[0] != '\0' ? strtol(scale, NULL, 10) : 100;
        if (percent > 0) n = n * percent / 100;
    }
    return n > 0 ? n : 1;
}

static bool is_pg(const char *path)
{
    return strncmp(path, "postgres://", 11) == 0 || strncmp(path, "postgresql://", 13) == 0;
}

void testutil_sql(const char *path, const char *sql)
{
    if (is_pg(path)) {
        PGconn *pg = PQconnectdb(path);
        assert_int_equal(PQstatus(pg), CONNECTION_OK);
        PGresult *res = PQexec(pg, sql);
        if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
            fprintf(stderr, "%s: %s", sql, PQresultErrorMessage(res));
            fail();
        }
        PQclear(res);
        PQfinish(pg);
        return;
    }
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", sql, msg ? msg : "?");
        sqlite3_free(msg);
        fail();
    }
    sqlite3_close(db);
}

const char *testutil_blob_sql(const char *path, const uint8_t *data, size_t len)
{
    static char out[1024];
    assert_true(2 * len + 16 < sizeof out);
    size_t n = (size_t)snprintf(out, sizeof out, "%s", is_pg(path) ? "'\\x" : "X'");
    for (size_t i = 0; i < len; i++) n += (size_t)snprintf(out + n, sizeof out - n, "%02x", data[i]);
    snprintf(out + n, sizeof out - n, "%s", is_pg(path) ? "'::bytea" : "'");
    return out;
}
