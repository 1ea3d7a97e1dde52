/* The engine and the ledger's rules: transfers, rejections that leave no trace, idempotency,
 * batches where one command fails, audit chain, storage faults, restarts, a second writer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sqlite3.h>

#include "core/limits.h"
#include "engine/audit.h"
#include "faultvfs.h"
#include "service/credentials.h"
#include "service/wallet.h"
#include "testutil.h"

typedef struct fixture {
    char *dir;
    char path[1024];
    engine *engine;
    int64_t alice;
    int64_t bob;
    int64_t hk;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = strdup(testutil_tempdir());
    snprintf(f->path, sizeof f->path, "%s", testutil_store(f->dir, "ledger.db"));
    f->engine = testutil_engine(f->path, NULL);
    f->alice = testutil_wallet(f->engine, "alice", CURRENCY_CNY);
    f->bob = testutil_wallet(f->engine, "bob", CURRENCY_CNY);
    f->hk = testutil_wallet(f->engine, "hk", CURRENCY_HKD);
    assert_int_equal(testutil_topup(f->engine, f->alice, 10000), HB_ERR_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    engine_close(f->engine);
    testutil_rmdir(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static int64_t balance_of(fixture *f, int64_t id)
{
    store *s = NULL;
    store_options o = {0};
    assert_int_equal(store_open(f->path, &o, &s, NULL, 0), HB_ERR_OK);
    account a;
    assert_int_equal(store_account_get(s, id, &a), HB_ERR_OK);
    store_close(s);
    return a.balance;
}

typedef struct counts {
    int64_t transfers;
    int64_t audit_seq;
} counts;

static counts counts_of(fixture *f)
{
    store *s = NULL;
    store_options o = {0};
    assert_int_equal(store_open(f->path, &o, &s, NULL, 0), HB_ERR_OK);
    counts c = {0, 0};
    assert_int_equal(store_transfer_count(s, &c.transfers), HB_ERR_OK);
    audit_record r;
    if (store_audit_last(s, "local", &r) == HB_ERR_OK) c.audit_seq = r.seq;
    store_close(s);
    return c;
}

static void test_transfer_moves_money(void **state)
{
    fixture *f = *state;
    int64_t id = 0;
    assert_int_equal(testutil_transfer(f->engine, f->alice, f->bob, 2500, NULL, &id), HB_ERR_OK);
    assert_true(id > 0);
    assert_money_eq(balance_of(f, f->alice), 7500);
    assert_money_eq(balance_of(f, f->bob), 2500);
    ledger_report r = testutil_check(f->path);
    assert_true(r.balanced);
    assert_int_equal(r.currency_count, 2);
    assert_money_eq(r.currencies[0].custody, -10000);
    assert_money_eq(r.currencies[0].customer_owed, 10000);
}

/* Every kind of rejection answers its code and leaves no trace: no transfer row, no audit
 * record, balances as they were. */
static void test_rejections_leave_no_trace(void **state)
{
    fixture *f = *state;
    counts before = counts_of(f);
    struct {
        int64_t from, to, amount;
        hb_err expected;
    } cases[] = {
        {f->alice, f->bob, 10001, HB_ERR_INSUFFICIENT_FUNDS},
        {f->alice, f->bob, 0, HB_ERR_INVALID_ARGUMENT},
        {f->alice, f->bob, -5, HB_ERR_INVALID_ARGUMENT},
        {f->alice, f->bob, INT64_MAX, HB_ERR_LIMIT_EXCEEDED},
        {f->alice, f->bob, LIMIT_TRANSFER_DEFAULT_MAX_FEN + 1, HB_ERR_LIMIT_EXCEEDED},
        {f->alice, 999999, 1, HB_ERR_NOT_FOUND},
        {999999, f->bob, 1, HB_ERR_NOT_FOUND},
        {f->alice, f->alice, 1, HB_ERR_INVALID_ARGUMENT},
        {f->alice, f->hk, 1, HB_ERR_INVALID_ARGUMENT}, /* CNY -> HKD */
        {f->alice, 1, 1, HB_ERR_NOT_FOUND},            /* p2p into the custody reserve */
        {f->alice, -3, 1, HB_ERR_NOT_FOUND},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hb_err err = testutil_transfer(f->engine, cases[i].from, cases[i].to, cases[i].amount,
                                       NULL, NULL);
        if (err != cases[i].expected) {
            fprintf(stderr, "case %zu: got %s\n", i, hb_err_name(err));
        }
        assert_int_equal(err, cases[i].expected);
    }
    counts after = counts_of(f);
    assert_int_equal(after.transfers, before.transfers);
    assert_int_equal(after.audit_seq, before.audit_seq);
    assert_money_eq(balance_of(f, f->alice), 10000);
    assert_money_eq(balance_of(f, f->bob), 0);
    assert_true(testutil_check(f->path).balanced);
}

static void test_withdraw_and_custody(void **state)
{
    fixture *f = *state;
    transfer_cmd c;
    memset(&c, 0, sizeof c);
    c.transfer.kind = TRANSFER_WITHDRAW;
    c.transfer.debit_id = f->alice;
    c.transfer.amount = 4000;
    assert_int_equal(wallet_transfer_prepare(&c, "test", NULL), HB_ERR_INVALID_ARGUMENT);
    snprintf(c.transfer.reference, sizeof c.transfer.reference, "bank-out-1");
    assert_int_equal(wallet_transfer_prepare(&c, "test", NULL), HB_ERR_OK);
    assert_int_equal(engine_submit(f->engine, &c.base), HB_ERR_OK);
    assert_int_equal(c.transfer.credit_id, 1); /* the CNY custody reserve */
    assert_money_eq(balance_of(f, f->alice), 6000);
    assert_money_eq(balance_of(f, 1), -6000);
    /* Withdrawing more than the wallet holds is refused. */
    c.transfer.amount = 6001;
    assert_int_equal(wallet_transfer_prepare(&c, "test", NULL), HB_ERR_OK);
    assert_int_equal(engine_submit(f->engine, &c.base), HB_ERR_INSUFFICIENT_FUNDS);
    /* A top-up into an HKD wallet debits the HKD reserve, never the CNY one. */
    assert_int_equal(testutil_topup(f->engine, f->hk, 700), HB_ERR_OK);
    ledger_report r = testutil_check(f->path);
    assert_true(r.balanced);
    assert_money_eq(r.currencies[1].custody, -700);
    assert_money_eq(r.currencies[0].custody, -6000);
}

static void test_idempotency(void **state)
{
    fixture *f = *state;
    int64_t first = 0;
    int64_t again = 0;
    assert_int_equal(testutil_transfer(f->engine, f->alice, f->bob, 100, "key-1", &first),
                     HB_ERR_OK);
    counts mid = counts_of(f);
    assert_int_equal(testutil_transfer(f->engine, f->alice, f->bob, 100, "key-1", &again),
                     HB_ERR_OK);
    assert_int_equal(first, again);
    assert_int_equal(counts_of(f).transfers, mid.transfers);
    assert_int_equal(counts_of(f).audit_seq, mid.audit_seq);
    assert_money_eq(balance_of(f, f->bob), 100);
    /* Same key, other parameters. */
    assert_int_equal(testutil_transfer(f->engine, f->alice, f->bob, 101, "key-1", NULL),
                     HB_ERR_IDEMPOTENCY_CONFLICT);
    /* A rejected command records no key: after funding, the same key succeeds. */
    assert_int_equal(testutil_transfer(f->engine, f->bob, f->alice, 5000, "key-2", NULL),
                     HB_ERR_INSUFFICIENT_FUNDS);
    assert_int_equal(testutil_topup(f->engine, f->bob, 5000), HB_ERR_OK);
    assert_int_equal(testutil_transfer(f->engine, f->bob, f->alice, 5000, "key-2", NULL),
                     HB_ERR_OK);
    /* Keys are scoped to their caller: another actor may use key-1 for its own transfer. */
    transfer_cmd c;
    memset(&c, 0, sizeof c);
    c.transfer.kind = TRANSFER_P2P;
    c.transfer.debit_id = f->alice;
    c.transfer.credit_id = f->bob;
    c.transfer.amount = 7;
    assert_int_equal(wallet_transfer_prepare(&c, "someone-else", "key-1"), HB_ERR_OK);
    assert_int_equal(engine_submit(f->engine, &c.base), HB_ERR_OK);
    assert_false(c.base.replayed);
    assert_true(c.transfer.id != first);
    /* The key survives a restart. */
    engine_close(f->engine);
    f->engine = testutil_engine(f->path, NULL);
    assert_int_equal(testutil_transfer(f->engine, f->alice, f->bob, 100, "key-1", &again),
                     HB_ERR_OK);
    assert_int_equal(first, again);
    assert_true(testutil_check(f->path).balanced);
}

/* One batch mixing good and bad commands: each fails or succeeds on its own, and a command
 * that builds on an earlier one of the same batch sees its effect. */
static void test_batch_isolation(void **state)
{
    fixture *f = *state;
    enum { N = 64 };
    transfer_cmd cmds[N];
    command *ptrs[N];
    for (int i = 0; i < N; i++) {
        memset(&cmds[i], 0, sizeof cmds[i]);
        cmds[i].transfer.kind = TRANSFER_P2P;
        bool bad = i % 3 == 1;
        cmds[i].transfer.debit_id = i % 2 == 0 ? f->alice : f->bob;
        cmds[i].transfer.credit_id = i % 2 == 0 ? f->bob : f->alice;
        cmds[i].transfer.amount = bad ? 15000 : 100; /* bad: more than either holds */
        assert_int_equal(wallet_transfer_prepare(&cmds[i], "test", NULL), HB_ERR_OK);
        ptrs[i] = &cmds[i].base;
    }
    assert_int_equal(engine_submit_many(f->engine, ptrs, N), HB_ERR_OK);
    int ok = 0;
    for (int i = 0; i < N; i++) {
        if (i % 3 == 1) {
            assert_int_equal(cmds[i].base.err, HB_ERR_INSUFFICIENT_FUNDS);
        } else {
            /* bob's transfers spend what alice's earlier ones in the batch gave him */
            assert_int_equal(cmds[i].base.err, HB_ERR_OK);
            ok++;
        }
    }
    int64_t alice_net = 0;
    for (int i = 0; i < N; i++) {
        if (cmds[i].base.err != HB_ERR_OK) continue;
        alice_net += i % 2 == 0 ? -100 : 100;
    }
    assert_money_eq(balance_of(f, f->alice), 10000 + alice_net);
    assert_money_eq(balance_of(f, f->bob), -alice_net);
    ledger_report r = testutil_check(f->path);
    assert_true(r.balanced);
    assert_int_equal(r.transfers, 1 + ok);
}

/* The audit chain: one record per successful command, each linked to the one before. */
static void test_audit_chain(void **state)
{
    fixture *f = *state;
    assert_int_equal(testutil_transfer(f->engine, f->alice, f->bob, 1, NULL, NULL), HB_ERR_OK);
    engine_close(f->engine);
    f->engine = NULL;
    store *s = NULL;
    store_options o = {0};
    assert_int_equal(store_open(f->path, &o, &s, NULL, 0), HB_ERR_OK);
    uint8_t prev[32] = {0};
    int64_t seq = 1;
    audit_record r;
    for (; store_audit_get(s, "local", seq, &r) == HB_ERR_OK; seq++) {
        assert_memory_equal(r.prev_hash, prev, 32);
        uint8_t hash[32];
        assert_int_equal(audit_record_hash(&r, hash), HB_ERR_OK);
        assert_memory_equal(hash, r.hash, 32);
        memcpy(prev, r.hash, 32);
    }
    /* 6 system accounts + 3 wallets + top-up + transfer */
    assert_int_equal(seq - 1, 11);
    /* Tampering with a record breaks its hash. */
    assert_int_equal(store_audit_get(s, "local", 10, &r), HB_ERR_OK);
    r.time_ms++;
    uint8_t hash[32];
    assert_int_equal(audit_record_hash(&r, hash), HB_ERR_OK);
    assert_memory_not_equal(hash, r.hash, 32);
    store_close(s);
    f->engine = testutil_engine(f->path, NULL);
}

static void test_frozen_and_restricted(void **state)
{
    fixture *f = *state;
    status_cmd c;
    memset(&c, 0, sizeof c);
    c.account_id = f->bob;
    c.status = ACCOUNT_FROZEN;
    assert_int_equal(wallet_status_prepare(&c, "test", NULL), HB_ERR_OK);
    assert_int_equal(engine_submit(f->engine, &c.base), HB_ERR_OK);
    assert_int_equal(testutil_transfer(f->engine, f->alice, f->bob, 1, NULL, NULL),
                     HB_ERR_ACCOUNT_FROZEN);
    c.status = ACCOUNT_ACTIVE;
    c.restricted_until_ms = INT64_MAX / 2; /* far in the future */
    assert_int_equal(wallet_status_prepare(&c, "test", NULL), HB_ERR_OK);
    assert_int_equal(engine_submit(f->engine, &c.base), HB_ERR_OK);
    /* restricted: may receive, may not pay */
    assert_int_equal(testutil_transfer(f->engine, f->alice, f->bob, 10, NULL, NULL), HB_ERR_OK);
    assert_int_equal(testutil_transfer(f->engine, f->bob, f->alice, 1, NULL, NULL),
                     HB_ERR_ACCOUNT_RESTRICTED);
    /* Freezing keeps the restriction, restricting keeps the freeze: they are independent. */
    c.status = ACCOUNT_FROZEN;
    c.restricted_until_ms = WALLET_KEEP_RESTRICTION;
    assert_int_equal(wallet_status_prepare(&c, "test", NULL), HB_ERR_OK);
    assert_int_equal(engine_submit(f->engine, &c.base), HB_ERR_OK);
    assert_int_equal(c.account.status, ACCOUNT_FROZEN);
    assert_true(c.account.restricted_until_ms == INT64_MAX / 2);
    c.status = WALLET_KEEP_STATUS;
    c.restricted_until_ms = 5;
    assert_int_equal(wallet_status_prepare(&c, "test", NULL), HB_ERR_OK);
    assert_int_equal(engine_submit(f->engine, &c.base), HB_ERR_OK);
    assert_int_equal(c.account.status, ACCOUNT_FROZEN);
    assert_true(c.account.restricted_until_ms == 5);
    c.status = ACCOUNT_ACTIVE;
    c.restricted_until_ms = WALLET_KEEP_RESTRICTION;
    assert_int_equal(wallet_status_prepare(&c, "test", NULL), HB_ERR_OK);
    assert_int_equal(engine_submit(f->engine, &c.base), HB_ERR_OK);
    assert_true(c.account.restricted_until_ms == 5);
    /* a restriction in the past no longer stops payments */
    assert_int_equal(testutil_transfer(f->engine, f->bob, f->alice, 1, NULL, NULL), HB_ERR_OK);
    c.restricted_until_ms = INT64_MAX / 2;
    assert_int_equal(wallet_status_prepare(&c, "test", NULL), HB_ERR_OK);
    assert_int_equal(engine_submit(f->engine, &c.base), HB_ERR_OK);
    /* keeping both is not a change */
    c.status = WALLET_KEEP_STATUS;
    c.restricted_until_ms = WALLET_KEEP_RESTRICTION;
    assert_int_equal(wallet_status_prepare(&c, "test", NULL), HB_ERR_INVALID_ARGUMENT);
    /* closing needs an empty account; system accounts cannot be frozen */
    c.status = ACCOUNT_CLOSED;
    c.restricted_until_ms = 0;
    assert_int_equal(wallet_status_prepare(&c, "test", NULL), HB_ERR_OK);
    assert_int_equal(engine_submit(f->engine, &c.base), HB_ERR_FORBIDDEN);
    c.account_id = 1;
    c.status = ACCOUNT_FROZEN;
    assert_int_equal(wallet_status_prepare(&c, "test", NULL), HB_ERR_OK);
    assert_int_equal(engine_submit(f->engine, &c.base), HB_ERR_FORBIDDEN);
    assert_true(testutil_check(f->path).balanced);
}

/* n transfers of 10 fen from alice to bob with the keys "<prefix>-<i>". */
static void prepare_transfers(fixture *f, transfer_cmd *cmds, command **ptrs, int n,
                              const char *prefix)
{
    for (int i = 0; i < n; i++) {
        memset(&cmds[i], 0, sizeof cmds[i]);
        cmds[i].transfer.kind = TRANSFER_P2P;
        cmds[i].transfer.debit_id = f->alice;
        cmds[i].transfer.credit_id = f->bob;
        cmds[i].transfer.amount = 10;
        char key[48];
        snprintf(key, sizeof key, "%s-%d", prefix, i);
        assert_int_equal(wallet_transfer_prepare(&cmds[i], "test", key), HB_ERR_OK);
        ptrs[i] = &cmds[i].base;
    }
}

/* A storage fault fails the whole batch with UNAVAILABLE, keeps nothing of it, and the
 * engine recovers by itself once the fault is gone. */
static void run_fault(fixture *f, fault_mode mode)
{
    counts before = counts_of(f);
    int64_t alice = balance_of(f, f->alice);
    enum { N = 16 };
    transfer_cmd cmds[N];
    command *ptrs[N];
    char prefix[16];
    snprintf(prefix, sizeof prefix, "fault-%d", (int)mode);
    prepare_transfers(f, cmds, ptrs, N, prefix);
    long failures = faultvfs_failures();
    faultvfs_set(mode);
    assert_int_equal(engine_submit_many(f->engine, ptrs, N), HB_ERR_OK);
    faultvfs_set(FAULT_NONE);
    assert_true(faultvfs_failures() > failures);
    for (int i = 0; i < N; i++) assert_int_equal(cmds[i].base.err, HB_ERR_UNAVAILABLE);
    counts after = counts_of(f);
    if (mode != FAULT_SYNC) {
        /* The commit never reached the disk: nothing of the batch exists. */
        assert_int_equal(after.transfers, before.transfers);
        assert_int_equal(after.audit_seq, before.audit_seq);
        assert_money_eq(balance_of(f, f->alice), alice);
    }
    assert_true(testutil_check(f->path).balanced);
    /* Retrying with the same keys lands each transfer exactly once. */
    assert_int_equal(engine_submit_many(f->engine, ptrs, N), HB_ERR_OK);
    for (int i = 0; i < N; i++) assert_int_equal(cmds[i].base.err, HB_ERR_OK);
    assert_int_equal(counts_of(f).transfers, before.transfers + N);
    assert_money_eq(balance_of(f, f->alice), alice - 10 * N);
    assert_true(testutil_check(f->path).balanced);
}

/* Run SQL on the test's PostgreSQL server (maintenance database); asserts success. */
static void pg_admin(const char *sql)
{
    char url[1024];
    snprintf(url, sizeof url, "%s/postgres", testutil_pg());
    PGconn *pg = PQconnectdb(url);
    assert_int_equal(PQstatus(pg), CONNECTION_OK);
    PGresult *res = PQexec(pg, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
        fprintf(stderr, "%s: %s", sql, PQresultErrorMessage(res));
        fail();
    }
    PQclear(res);
    PQfinish(pg);
}

/* PostgreSQL: the engine's connection is killed under it (a server restart or a failover
 * looks the same to it): the batch fails UNAVAILABLE, the engine reconnects by itself, and
 * retries with the same keys land each transfer exactly once. */
static void run_pg_connection_loss(fixture *f)
{
    counts before = counts_of(f);
    int64_t alice = balance_of(f, f->alice);
    enum { N = 16 };
    transfer_cmd cmds[N];
    command *ptrs[N];
    prepare_transfers(f, cmds, ptrs, N, "loss");
    const char *db = strrchr(f->path, '/') + 1;
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s' "
             "AND pid <> pg_backend_pid()", db);
    pg_admin(sql);
    assert_int_equal(engine_submit_many(f->engine, ptrs, N), HB_ERR_OK);
    for (int i = 0; i < N; i++) assert_int_equal(cmds[i].base.err, HB_ERR_UNAVAILABLE);
    counts after = counts_of(f);
    assert_int_equal(after.transfers, before.transfers);
    assert_money_eq(balance_of(f, f->alice), alice);
    assert_int_equal(engine_submit_many(f->engine, ptrs, N), HB_ERR_OK);
    for (int i = 0; i < N; i++) assert_int_equal(cmds[i].base.err, HB_ERR_OK);
    assert_int_equal(engine_submit_many(f->engine, ptrs, N), HB_ERR_OK);
    for (int i = 0; i < N; i++) assert_true(cmds[i].base.replayed);
    assert_int_equal(counts_of(f).transfers, before.transfers + N);
    assert_money_eq(balance_of(f, f->alice), alice - 10 * N);
    assert_true(testutil_check(f->path).balanced);
}

static void test_storage_faults(void **state)
{
    fixture *f = *state;
    if (testutil_pg() != NULL) {
        /* SQLite's VFS injects disk faults below; PostgreSQL's own storage is the server's,
         * so what the engine can meet is a lost connection. */
        run_pg_connection_loss(f);
        return;
    }
    run_fault(f, FAULT_WRITE_IO);
    run_fault(f, FAULT_WRITE_FULL);
    run_fault(f, FAULT_SYNC);
}

/* The store itself refuses a balance update that breaks the account's flags, whatever the
 * writer believed (a stale cache on another node, a bug): the last line of defence of
 * "never below zero", on both stores. On PostgreSQL the update is pipelined, so the refusal
 * arrives at commit. */
static void test_store_refuses_flag_breaks(void **state)
{
    fixture *f = *state;
    int64_t alice = balance_of(f, f->alice);
    store *s = NULL;
    store_options o = {0};
    assert_int_equal(store_open(f->path, &o, &s, NULL, 0), HB_ERR_OK);
    int64_t stored = 0, last = 0;
    debit_totals totals;
    assert_int_equal(store_account_balance(s, f->alice, &stored, &totals, &last), HB_ERR_OK);
    assert_money_eq(stored, alice);
    int64_t bob = balance_of(f, f->bob);
    int64_t bob_last = 0;
    debit_totals bob_totals;
    assert_int_equal(store_account_balance(s, f->bob, &stored, &bob_totals, &bob_last), HB_ERR_OK);
    /* a good write first, in the same transaction: it must not survive the bad one */
    assert_int_equal(store_begin(s), HB_ERR_OK);
    debit_totals none = {.day = totals.day, .year = totals.year};
    debit_totals bob_none = {.day = bob_totals.day, .year = bob_totals.year};
    hb_err err = store_account_add_balance(s, f->bob, 7, &bob_none, bob_last,
                                           ACCOUNT_FLAG_NO_NEGATIVE);
    if (err == HB_ERR_OK) {
        err = store_account_add_balance(s, f->alice, -(alice + 1), &none, last,
                                        ACCOUNT_FLAG_NO_NEGATIVE);
    }
    if (err == HB_ERR_OK) err = store_commit(s);
    assert_int_not_equal(err, HB_ERR_OK);
    store_rollback(s);
    assert_money_eq(balance_of(f, f->bob), bob);
    /* the custody reserve (never positive) cannot go above zero either */
    account reserve;
    assert_int_equal(store_account_find_system(s, ACCOUNT_CUSTODY_RESERVE, CURRENCY_CNY, &reserve),
                     HB_ERR_OK);
    assert_int_equal(store_begin(s), HB_ERR_OK);
    err = store_account_add_balance(s, reserve.id, -reserve.balance + 1, &none,
                                    reserve.last_transfer_id, ACCOUNT_FLAG_NO_POSITIVE);
    if (err == HB_ERR_OK) err = store_commit(s);
    assert_int_not_equal(err, HB_ERR_OK);
    store_rollback(s);
    store_close(s);
    assert_money_eq(balance_of(f, f->alice), alice);
    assert_true(testutil_check(f->path).balanced);
    /* and the engine goes on as before */
    assert_int_equal(testutil_transfer(f->engine, f->alice, f->bob, 1, NULL, NULL), HB_ERR_OK);
}

/* Another connection writing the same store (a CLI beside a server): the engine notices and
 * reloads, so its cached balances never go stale. */
static void test_second_writer(void **state)
{
    fixture *f = *state;
    engine *other = testutil_engine(f->path, NULL);
    assert_int_equal(testutil_transfer(other, f->alice, f->bob, 9000, NULL, NULL), HB_ERR_OK);
    engine_close(other);
    /* The first engine must now see alice at 1000, not 10000. */
    assert_int_equal(testutil_transfer(f->engine, f->alice, f->bob, 1001, NULL, NULL),
                     HB_ERR_INSUFFICIENT_FUNDS);
    assert_int_equal(testutil_transfer(f->engine, f->alice, f->bob, 1000, NULL, NULL), HB_ERR_OK);
    ledger_report r = testutil_check(f->path);
    assert_true(r.balanced);
    assert_money_eq(balance_of(f, f->bob), 10000);
}

static void done_counter(command *cmd, void *ctx)
{
    (void)cmd;
    __atomic_fetch_add((int *)ctx, 1, __ATOMIC_SEQ_CST);
}

/* Async submission completes every command; close drains the queue. */
static void test_async_and_close(void **state)
{
    fixture *f = *state;
    enum { N = 500 };
    transfer_cmd *cmds = calloc(N, sizeof *cmds);
    int done = 0;
    for (int i = 0; i < N; i++) {
        cmds[i].transfer.kind = TRANSFER_P2P;
        cmds[i].transfer.debit_id = f->alice;
        cmds[i].transfer.credit_id = f->bob;
        cmds[i].transfer.amount = 1;
        assert_int_equal(wallet_transfer_prepare(&cmds[i], "test", NULL), HB_ERR_OK);
        assert_int_equal(engine_submit_async(f->engine, &cmds[i].base, done_counter, &done),
                         HB_ERR_OK);
    }
    engine_close(f->engine);
    assert_int_equal(__atomic_load_n(&done, __ATOMIC_SEQ_CST), N);
    for (int i = 0; i < N; i++) assert_int_equal(cmds[i].base.err, HB_ERR_OK);
    free(cmds);
    f->engine = testutil_engine(f->path, NULL);
    assert_money_eq(balance_of(f, f->bob), N);
    engine_stats st;
    engine_get_stats(f->engine, &st);
    assert_true(st.batches >= 1);
}

/* The background checkpointer keeps the WAL short under a writer that never stops: 30,000
 * transfers submitted as fast as the engine takes them (about 8 MiB of WAL in all), a run
 * asked for at 256 pages (1 MiB). After each run the writer copies the tail it committed
 * meanwhile, so the WAL restarts; the file, which never shrinks, stays near 1.2 MiB. Without
 * that tail the runs never catch up with the commits, and the WAL grows to the writer's own
 * checkpoint at 8 times 256 pages (8.5 MiB); SQLite's default (65,536 pages) would not have
 * checkpointed at all. Every transfer is there afterwards. */
static void test_background_checkpoint(void **state)
{
    fixture *f = *state;
    if (testutil_pg() != NULL) skip(); /* PostgreSQL checkpoints by itself */
    /* a store of its own (balance_of and counts_of read f->path) */
    snprintf(f->path, sizeof f->path, "%s", testutil_store(f->dir, "checkpointed.db"));
    engine_options o = {.checkpoint_frames = 256};
    engine *e = testutil_engine(f->path, &o);
    int64_t carol = testutil_wallet(e, "carol", CURRENCY_CNY);
    int64_t dave = testutil_wallet(e, "dave", CURRENCY_CNY);
    assert_int_equal(testutil_topup(e, carol, 1000), HB_ERR_OK);
    enum { N = 30000 };
    transfer_cmd *cmds = calloc(N, sizeof *cmds);
    assert_non_null(cmds);
    int done = 0;
    for (int i = 0; i < N; i++) {
        cmds[i].transfer.kind = TRANSFER_P2P;
        cmds[i].transfer.debit_id = i % 2 ? dave : carol;
        cmds[i].transfer.credit_id = i % 2 ? carol : dave;
        cmds[i].transfer.amount = 1;
        assert_int_equal(wallet_transfer_prepare(&cmds[i], "test", NULL), HB_ERR_OK);
        assert_int_equal(engine_submit_async(e, &cmds[i].base, done_counter, &done), HB_ERR_OK);
        if (i % 8 == 7) usleep(200); /* small batches, many commits */
    }
    while (__atomic_load_n(&done, __ATOMIC_SEQ_CST) < N) usleep(1000);
    for (int i = 0; i < N; i++) assert_int_equal(cmds[i].base.err, HB_ERR_OK);
    free(cmds);
    char wal[1100];
    snprintf(wal, sizeof wal, "%s-wal", f->path);
    struct stat st;
    assert_int_equal(stat(wal, &st), 0);
    if (st.st_size == 0 || st.st_size > 4 * 1024 * 1024) {
        fail_msg("the WAL grew to %lld bytes", (long long)st.st_size);
    }
    engine_close(e);
    ledger_report r = testutil_check(f->path);
    assert_true(r.balanced);
    assert_money_eq(balance_of(f, carol), 1000);
    assert_money_eq(balance_of(f, dave), 0);
    assert_int_equal(counts_of(f).transfers, 1 + N);
}

/* Tier limits: the single limit, the daily limit counted per business day in the store (so a
 * restart does not reset it), top-ups not counted, a refused payment not counted. */
static void test_tier_limits(void **state)
{
    fixture *f = *state;
    assert_int_equal(testutil_topup(f->engine, f->alice, 200000), HB_ERR_OK); /* 2,100.00 */
    assert_int_equal(testutil_transfer(f->engine, f->alice, f->bob, 20001, NULL, NULL),
                     HB_ERR_LIMIT_EXCEEDED);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(testutil_transfer(f->engine, f->alice, f->bob, 20000, NULL, NULL),
                         HB_ERR_OK);
    }
    /* 800.00 paid today; 200.01 more would pass 1,000.00 */
    assert_int_equal(testutil_transfer(f->engine, f->alice, f->bob, 20001, NULL, NULL),
                     HB_ERR_LIMIT_EXCEEDED);
    engine_close(f->engine);
    f->engine = testutil_engine(f->path, NULL);
    assert_int_equal(testutil_transfer(f->engine, f->alice, f->bob, 19999, NULL, NULL), HB_ERR_OK);
    assert_int_equal(testutil_transfer(f->engine, f->alice, f->bob, 2, NULL, NULL),
                     HB_ERR_LIMIT_EXCEEDED);
    assert_int_equal(testutil_transfer(f->engine, f->alice, f->bob, 1, NULL, NULL), HB_ERR_OK);
    /* bob receives without limit and pays his own */
    assert_int_equal(testutil_transfer(f->engine, f->bob, f->alice, 100, NULL, NULL), HB_ERR_OK);
    /* a raised limit applies from the next batch */
    policy p;
    policy_defaults(&p);
    p.tiers[TIER_PERSONAL].daily_limit = 200000;
    engine_set_policy(f->engine, &p);
    assert_int_equal(testutil_transfer(f->engine, f->alice, f->bob, 5000, NULL, NULL), HB_ERR_OK);
    assert_true(testutil_check(f->path).balanced);
}

/* Nonces: a used one is refused; pruning forgets only those too old to be accepted again. */
static void test_nonces(void **state)
{
    fixture *f = *state;
    engine_close(f->engine);
    hb_clock clock;
    clock_fixed_init(&clock, 1800000000000LL);
    engine_options o = {.clock = &clock};
    f->engine = testutil_engine(f->path, &o);
    nonce_cmd n;
    credentials_nonce_prepare(&n, "test", "hbk_1", "nonceA0000000000", clock.fixed_ms);
    assert_int_equal(engine_submit(f->engine, &n.base), HB_ERR_OK);
    credentials_nonce_prepare(&n, "test", "hbk_1", "nonceA0000000000", clock.fixed_ms);
    assert_int_equal(engine_submit(f->engine, &n.base), HB_ERR_UNAUTHENTICATED);
    credentials_nonce_prepare(&n, "test", "hbk_2", "nonceA0000000000", clock.fixed_ms);
    assert_int_equal(engine_submit(f->engine, &n.base), HB_ERR_OK); /* per key */
    nonce_prune_cmd prune;
    clock.fixed_ms += 599000; /* not yet old enough */
    credentials_nonce_prune_prepare(&prune, "test");
    assert_int_equal(engine_submit(f->engine, &prune.base), HB_ERR_OK);
    credentials_nonce_prepare(&n, "test", "hbk_1", "nonceA0000000000", clock.fixed_ms);
    assert_int_equal(engine_submit(f->engine, &n.base), HB_ERR_UNAUTHENTICATED);
    clock.fixed_ms += 2000; /* now 601 s after: gone */
    credentials_nonce_prune_prepare(&prune, "test");
    assert_int_equal(engine_submit(f->engine, &prune.base), HB_ERR_OK);
    credentials_nonce_prepare(&n, "test", "hbk_1", "nonceA0000000000", clock.fixed_ms);
    assert_int_equal(engine_submit(f->engine, &n.base), HB_ERR_OK);
}

static void test_open_errors(void **state)
{
    fixture *f = *state;
    engine *e = NULL;
    engine_options o = {0};
    char err_text[256];
    assert_int_equal(engine_open(testutil_path(f->dir, "missing.db"), &o, &e, err_text,
                                 sizeof err_text),
                     HB_ERR_NOT_FOUND);
    /* PostgreSQL: an unparsable url, and a server that does not answer */
    assert_int_equal(engine_open("postgresql://h/x?nosuchoption=1", &o, &e, err_text,
                                 sizeof err_text),
                     HB_ERR_INVALID_ARGUMENT);
    assert_int_equal(engine_open("postgresql://127.0.0.1:1/x?connect_timeout=2", &o, &e, err_text,
                                 sizeof err_text),
                     HB_ERR_UNAVAILABLE);
    assert_non_null(strstr(err_text, "cannot connect to PostgreSQL"));
    assert_int_equal(engine_open("", &o, &e, err_text, sizeof err_text), HB_ERR_INVALID_ARGUMENT);
    if (testutil_pg() != NULL) {
        /* A PostgreSQL database that is not a hongbao store is refused and left untouched;
         * one that does not exist is NOT_FOUND unless asked to create it. */
        char sql[256], url[1024];
        snprintf(sql, sizeof sql, "CREATE DATABASE hbt_foreign_%ld", (long)getpid());
        pg_admin(sql);
        snprintf(url, sizeof url, "%s/hbt_foreign_%ld", testutil_pg(), (long)getpid());
        PGconn *pg = PQconnectdb(url);
        assert_int_equal(PQstatus(pg), CONNECTION_OK);
        PQclear(PQexec(pg, "CREATE TABLE t (x int); INSERT INTO t VALUES (1)"));
        o.create = true;
        assert_int_equal(engine_open(url, &o, &e, err_text, sizeof err_text),
                         HB_ERR_INVALID_ARGUMENT);
        assert_non_null(strstr(err_text, "not a hongbao store"));
        PGresult *res = PQexec(pg, "SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'");
        assert_string_equal(PQgetvalue(res, 0, 0), "1");
        PQclear(res);
        PQfinish(pg);
        o.create = false;
        snprintf(url, sizeof url, "%s/hbt_missing_%ld", testutil_pg(), (long)getpid());
        assert_int_equal(engine_open(url, &o, &e, err_text, sizeof err_text), HB_ERR_NOT_FOUND);
        return;
    }
    /* A database that is not a hongbao store is refused and left untouched. */
    const char *foreign = testutil_path(f->dir, "foreign.db");
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(foreign, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE t (x); INSERT INTO t VALUES (1);", NULL, NULL,
                                  NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    o.create = true;
    assert_int_equal(engine_open(foreign, &o, &e, err_text, sizeof err_text),
                     HB_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(err_text, "not a hongbao store"));
    assert_int_equal(sqlite3_open(foreign, &db), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM sqlite_master", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

int main(void)
{
    faultvfs_install();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_transfer_moves_money, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rejections_leave_no_trace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_withdraw_and_custody, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idempotency, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_isolation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_frozen_and_restricted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_storage_faults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_refuses_flag_breaks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_async_and_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_background_checkpoint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tier_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nonces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
