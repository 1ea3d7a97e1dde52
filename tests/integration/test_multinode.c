/* Several `hongbao serve` nodes on one store under load, with faults.
 *
 * Three nodes share one database (on PostgreSQL the deployment that scales out; on SQLite
 * three processes on one file, which must be just as correct). Client threads
 * (tests/support/loadgen.c) spread transfers and batches over all three, each with its own
 * Idempotency-Key and the key as memo, and record every answer.
 *
 *  - kill -9 one node mid-load and start it again;
 *  - on PostgreSQL, restart the database server mid-load: the nodes answer 503 with
 *    Retry-After meanwhile (never a 500, never a wrong answer) and reconnect by themselves;
 *  - on PostgreSQL, kill the primary mid-load (it has a synchronous standby), promote the
 *    standby and point the nodes at it.
 *
 * On PostgreSQL the test runs on its own primary and synchronous standby
 * (scripts/pg-throwaway.sh start-pair), not on the shared test server.
 *
 * Afterwards (loadgen_verify) every unknown request is sent again with its key until it has
 * an answer, and: every acknowledged transfer exists once with its fields, keys sent again
 * replay, the store holds exactly one transfer per acknowledged key and none for the others,
 * the ledger is balanced, and each node wrote its own audit chain, which verifies with every
 * ledger row against the record of the node that wrote it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "httptest.h"
#include "loadgen.h"
#include "testutil.h"

#define NODES 3
#define THREADS 24

static http_server_proc nodes[NODES];
static const char *const node_names[NODES] = {"", "n2", "n3"};
static loadgen load;
static char pair_dir[512];
static char standby_url[256];

static int setup(void **state)
{
    (void)state;
    httptest_lift_rate_limits();
    setenv("HONGBAO_TIER_PERSONAL_DAILY_LIMIT", "100000000.00", 1);
    httptest_start(&nodes[0]);
    for (int i = 1; i < NODES; i++) httptest_add_node(&nodes[i], &nodes[0], node_names[i]);
    loadgen_init(&load, nodes, NODES, THREADS, true);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = NODES - 1; i >= 0; i--) httptest_stop(&nodes[i]);
    httptest_cleanup(&nodes[0]);
    loadgen_free(&load);
    return 0;
}

static void expect_status(http_reply *r, long status)
{
    if (r->status != status) fprintf(stderr, "expected %ld, got %ld %s\n", status, r->status, r->body);
    assert_int_equal(r->status, status);
}

static void verify(const char *what)
{
    loadgen_verify(&load, what);
    char line[64];
    httptest_sql(&nodes[0], "SELECT COUNT(DISTINCT node) FROM audit", line, sizeof line);
    assert_true(atoi(line) >= NODES); /* each node kept its own audit chain */
    /* every chain, and every ledger row against the record of the node that wrote it */
    http_reply r = httptest_admin(&nodes[0], "GET", "/v1/audit/verify", NULL, NULL);
    if (r.status != 200 || strstr(r.body, "\"ok\":true") == NULL) {
        fail_msg("audit verify after %s: %ld %s", what, r.status, r.body);
    }
    assert_true(httptest_int(&r, "rows") > 0);
    httptest_reply_free(&r);
}

static double load_seconds(double base, double extra)
{
    return base * (double)testutil_scaled(100) / 100.0 + extra;
}

static void kill_one_node(loadgen *g, double duration, void *ctx)
{
    (void)ctx;
    usleep((useconds_t)(duration * 1e6 / 3));
    httptest_kill(&nodes[1]);
    usleep(300000);
    httptest_restart(&nodes[1]);
    loadgen_node_moved(g, 1);
}

/* kill -9 one node mid-load and start it again: nothing acknowledged is lost or doubled. */
static void test_kill_one_node(void **state)
{
    (void)state;
    loadgen_run(&load, load_seconds(3.0, 1.0), kill_one_node, NULL);
    verify("kill -9 one node");
}

static void throwaway(const char *verb, const char *dir)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s/scripts/pg-throwaway.sh' %s '%s'", HB_SOURCE_DIR, verb, dir);
    assert_int_equal(system(cmd), 0);
}

static void restart_database(loadgen *g, double duration, void *ctx)
{
    (void)g;
    (void)ctx;
    usleep((useconds_t)(duration * 1e6 / 3));
    throwaway("restart", getenv("HB_TEST_PG_DIR"));
}

/* On PostgreSQL: restart the database server mid-load. */
static void test_database_restart(void **state)
{
    (void)state;
    if (testutil_pg() == NULL || getenv("HB_TEST_PG_DIR") == NULL) {
        skip(); /* the SQLite store has no server to restart; its faults are test_engine's */
    }
    loadgen_run(&load, load_seconds(4.0, 2.0), restart_database, NULL);
    verify("PostgreSQL restarted");
}

/* The primary dies; the standby is promoted; every node is restarted on the standby's url
 * (the database name stays). */
static void fail_over(loadgen *g, double duration, void *ctx)
{
    (void)ctx;
    usleep((useconds_t)(duration * 1e6 / 3));
    char dir[600];
    snprintf(dir, sizeof dir, "%s/primary", pair_dir);
    throwaway("kill", dir);
    usleep(200000);
    snprintf(dir, sizeof dir, "%s/standby", pair_dir);
    throwaway("promote", dir);
    const char *db = strrchr(nodes[0].db, '/');
    assert_non_null(db);
    char url[600];
    snprintf(url, sizeof url, "%s%s", standby_url, db);
    for (int i = 0; i < NODES; i++) {
        httptest_kill(&nodes[i]);
        snprintf(nodes[i].db, sizeof nodes[i].db, "%s", url);
        httptest_restart(&nodes[i]);
        loadgen_node_moved(g, i);
    }
}

/* A signed request replayed to another node is refused: the nonce is in the store, written
 * in the same transaction as the top-up it carried. */
static void test_replay_to_another_node(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "/v1/accounts/%s/topup", load.wallets[0].id);
    const char *body = "{\"amount\":5,\"external_ref\":\"replay-1\"}";
    long long ts = (long long)time(NULL);
    const char *nonce = "crossNodeNonce000001";
    http_reply first = httptest_signed_at(&nodes[0], nodes[0].admin_key, nodes[0].admin_secret,
                                          "POST", path, body, ts, nonce, NULL);
    expect_status(&first, 201);
    httptest_reply_free(&first);
    for (int i = 1; i < NODES; i++) {
        http_reply again = httptest_signed_at(&nodes[i], nodes[0].admin_key,
                                              nodes[0].admin_secret, "POST", path, body, ts,
                                              nonce, NULL);
        expect_status(&again, 401);
        assert_string_equal(httptest_error_code(&again), "UNAUTHENTICATED");
        httptest_reply_free(&again);
    }
    char line[64];
    httptest_sql(&nodes[0], "SELECT COUNT(*) FROM transfers WHERE reference = 'replay-1'", line,
                 sizeof line);
    assert_int_equal(atoi(line), 1);
}

/* On PostgreSQL: the primary is lost with a synchronous standby in place. */
static void test_failover(void **state)
{
    (void)state;
    if (pair_dir[0] == '\0') {
        skip(); /* SQLite has no standby; PostgreSQL's streaming replication is the way */
    }
    loadgen_run(&load, load_seconds(4.0, 2.0), fail_over, NULL);
    verify("primary lost, standby promoted");
}

/* PostgreSQL: a primary with a synchronous standby of our own for this binary. */
static void start_pair(void)
{
    snprintf(pair_dir, sizeof pair_dir, "%s", testutil_tempdir());
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s/scripts/pg-throwaway.sh' start-pair '%s'", HB_SOURCE_DIR,
             pair_dir);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char primary[256] = "";
    assert_non_null(fgets(primary, sizeof primary, p));
    assert_non_null(fgets(standby_url, sizeof standby_url, p));
    assert_int_equal(pclose(p), 0);
    primary[strcspn(primary, "\n")] = '\0';
    standby_url[strcspn(standby_url, "\n")] = '\0';
    char dir[600];
    snprintf(dir, sizeof dir, "%s/primary", pair_dir);
    setenv("HB_TEST_PG", primary, 1);
    setenv("HB_TEST_PG_DIR", dir, 1);
}

int main(void)
{
    if (testutil_pg() != NULL) start_pair();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay_to_another_node),
        cmocka_unit_test(test_kill_one_node),
        cmocka_unit_test(test_database_restart),
        cmocka_unit_test(test_failover),
    };
    int failed = cmocka_run_group_tests(tests, setup, teardown);
    if (pair_dir[0] != '\0') throwaway("stop", pair_dir);
    return failed;
}
