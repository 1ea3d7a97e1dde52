/* Crash campaign: the real server (`hongbao serve`) on its store under mixed load (transfers
 * and batches from 16 client threads, tests/support/loadgen.c) is killed with SIGKILL at a
 * random moment of every cycle and started again. After each cycle every unknown outcome is
 * settled by sending it again with its key, and: every acknowledged transfer is present
 * exactly once with its fields, keys sent again return the original transfer, the store holds
 * one transfer per acknowledged key and no other, and the ledger check passes.
 *
 * $HB_CAMPAIGN_CYCLES cycles (default 5; `make crash` runs 50 on each store). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "httptest.h"
#include "loadgen.h"
#include "testutil.h"

static http_server_proc server;
static loadgen load;
static unsigned rng_state;

static double uniform(void)
{
    return (double)rand_r(&rng_state) / (double)RAND_MAX;
}

/* SIGKILL somewhere in the load, then a restart while the clients keep going. */
static void kill_and_restart(loadgen *g, double seconds, void *ctx)
{
    (void)ctx;
    usleep((useconds_t)(seconds * uniform() * 0.8e6));
    httptest_kill(&server);
    httptest_restart(&server);
    loadgen_node_moved(g, 0);
}

static void test_campaign(void **state)
{
    (void)state;
    long cycles = 5;
    const char *env = getenv("HB_CAMPAIGN_CYCLES");
    if (env != NULL && atol(env) > 0) cycles = atol(env);
    rng_state = (unsigned)time(NULL);
    fprintf(stderr, "campaign: %ld cycles, seed %u, %s\n", cycles, rng_state,
            testutil_pg() ? "PostgreSQL" : "SQLite");
    long acked = 0;
    for (long c = 1; c <= cycles; c++) {
        loadgen_run(&load, 0.4 + 0.6 * uniform(), kill_and_restart, NULL);
        char what[64];
        snprintf(what, sizeof what, "cycle %ld of %ld", c, cycles);
        acked += loadgen_verify(&load, what);
    }
    fprintf(stderr, "campaign: %ld kill -9 cycles survived, %ld acknowledged transfers all "
                    "present once, ledger balanced after each\n",
            cycles, acked);
}

static int setup(void **state)
{
    (void)state;
    httptest_lift_rate_limits();
    setenv("HONGBAO_TIER_PERSONAL_DAILY_LIMIT", "100000000.00", 1);
    httptest_start(&server);
    loadgen_init(&load, &server, 1, 16, true);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    httptest_stop(&server);
    httptest_cleanup(&server);
    loadgen_free(&load);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_campaign)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
