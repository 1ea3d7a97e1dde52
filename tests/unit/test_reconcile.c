/* Reconciliation with the custody bank's statement and the daily flow report (issue 9), on
 * SQLite and (as pg/unit/test_reconcile) on PostgreSQL, with an injectable clock: a
 * statement that matches; each kind of difference (a line without a movement, a movement
 * without a line, another amount, the other direction, a date more than a day apart, a
 * reference twice); a bank booking a day late matching; the days of the statement bounding
 * what is missing from it; bad statements refused with their line; and a day's flows tying
 * out to the ledger. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "service/reconcile.h"
#include "service/wallet.h"
#include "testutil.h"

/* 2026-03-02 10:00:00 in Asia/Shanghai */
#define T0_MS 1772416800000LL
#define DAY_MS 86400000LL

static struct {
    char dir[512];
    char url[700];
    hb_clock clock;
    engine *e;
    int64_t wallet;
} fx;

static void bank(transfer_kind kind, int64_t amount, const char *reference)
{
    transfer_cmd c;
    memset(&c, 0, sizeof c);
    c.transfer.kind = kind;
    if (kind == TRANSFER_TOPUP) {
        c.transfer.credit_id = fx.wallet;
    } else {
        c.transfer.debit_id = fx.wallet;
    }
    c.transfer.amount = amount;
    snprintf(c.transfer.reference, sizeof c.transfer.reference, "%s", reference);
    assert_int_equal(wallet_transfer_prepare(&c, "test", NULL), HB_ERR_OK);
    assert_int_equal(engine_submit(fx.e, &c.base), HB_ERR_OK);
}

static int setup(void **state)
{
    (void)state;
    snprintf(fx.dir, sizeof fx.dir, "%s", testutil_tempdir());
    snprintf(fx.url, sizeof fx.url, "%s", testutil_store(fx.dir, "recon.db"));
    clock_fixed_init(&fx.clock, T0_MS);
    engine_options o = {.clock = &fx.clock};
    fx.e = testutil_engine(fx.url, &o);
    fx.wallet = testutil_wallet(fx.e, "Someone", CURRENCY_CNY);
    /* 2026-03-02: two top-ups and a withdrawal; 2026-03-03: one top-up */
    bank(TRANSFER_TOPUP, 10000, "B-1");
    bank(TRANSFER_TOPUP, 5000, "B-2");
    bank(TRANSFER_WITHDRAW, 2000, "B-3");
    fx.clock.fixed_ms = T0_MS + DAY_MS;
    bank(TRANSFER_TOPUP, 700, "B-4");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    engine_close(fx.e);
    testutil_rmdir(fx.dir);
    return 0;
}

/* Reconcile csv; the report (to be freed), asserting it ran. */
static recon_report run(const char *csv, int64_t from_day, int64_t to_day)
{
    recon_line *lines = NULL;
    int count = 0;
    char why[256];
    assert_int_equal(reconcile_parse(csv, strlen(csv), &lines, &count, why, sizeof why), HB_ERR_OK);
    store *s = NULL;
    store_options o = {.read_only = true};
    assert_int_equal(store_open(fx.url, &o, &s, why, sizeof why), HB_ERR_OK);
    recon_report r;
    assert_int_equal(reconcile_run(s, CURRENCY_CNY, lines, count, from_day, to_day, &r), HB_ERR_OK);
    store_close(s);
    free(lines);
    return r;
}

static bool has(const recon_report *r, recon_kind kind, const char *reference, int line)
{
    for (int i = 0; i < r->diff_count; i++) {
        if (r->diffs[i].kind == kind && strcmp(r->diffs[i].reference, reference) == 0 &&
            r->diffs[i].line == line) {
            return true;
        }
    }
    return false;
}

static void test_matching_statement(void **state)
{
    (void)state;
    recon_report r = run("date,amount,direction,reference\n"
                         "2026-03-02,100.00,credit,B-1\r\n"
                         "2026-03-03,50.00,credit,B-2\n" /* booked a day late: still a match */
                         "2026-03-02,20.00,debit,B-3\n"
                         "2026-03-03,7.00,CREDIT,B-4\n",
                         0, 0);
    assert_true(reconcile_ok(&r));
    assert_int_equal(r.matched, 4);
    assert_int_equal(r.statement_credits, 15700);
    assert_int_equal(r.statement_debits, 2000);
    assert_int_equal(r.ledger_topups, 15700);
    assert_int_equal(r.ledger_withdrawals, 2000);
    assert_true(r.ledger.balanced);
    json_t *o = reconcile_json(&r);
    assert_true(json_is_true(json_object_get(o, "ok")));
    json_decref(o);
    reconcile_free(&r);
}

static void test_each_difference(void **state)
{
    (void)state;
    fx.clock.fixed_ms = T0_MS;
    bank(TRANSFER_TOPUP, 300, "B-LATE"); /* 2026-03-02 */
    recon_report r = run("2026-03-02,100.01,credit,B-1\n"   /* amount */
                         "2026-03-02,50.00,debit,B-2\n"     /* direction */
                         "2026-03-05,3.00,credit,B-LATE\n"  /* three days apart */
                         "2026-03-02,9.99,credit,B-9\n"     /* no such movement */
                         "2026-03-03,7.00,credit,B-4\n"
                         "2026-03-03,7.00,credit,B-4\n",    /* twice */
                         0, 0);
    assert_false(reconcile_ok(&r));
    assert_true(has(&r, RECON_AMOUNT, "B-1", 1));
    assert_true(has(&r, RECON_DIRECTION, "B-2", 2));
    assert_true(has(&r, RECON_DATE, "B-LATE", 3));
    assert_true(has(&r, RECON_MISSING_IN_LEDGER, "B-9", 4));
    assert_true(has(&r, RECON_DUPLICATE, "B-4", 6));
    assert_true(has(&r, RECON_MISSING_IN_STATEMENT, "B-3", 0)); /* the withdrawal of 03-02 */
    assert_int_equal(r.diff_count, 6);
    assert_int_equal(r.matched, 1);
    reconcile_free(&r);
}

/* Movements outside the statement's days are not missing from it; named days widen it. */
static void test_days_bound_the_statement(void **state)
{
    (void)state;
    recon_report r = run("2026-03-03,7.00,credit,B-4\n", 0, 0);
    assert_true(reconcile_ok(&r)); /* 03-02's movements are outside the statement's day */
    reconcile_free(&r);
    int64_t from = 0, to = 0;
    assert_int_equal(clock_day_parse("2026-03-02", &from), 0);
    assert_int_equal(clock_day_parse("2026-03-03", &to), 0);
    r = run("2026-03-03,7.00,credit,B-4\n", from, to);
    assert_false(reconcile_ok(&r));
    assert_int_equal(r.diff_count, 3);
    assert_true(has(&r, RECON_MISSING_IN_STATEMENT, "B-1", 0));
    assert_true(has(&r, RECON_MISSING_IN_STATEMENT, "B-2", 0));
    assert_true(has(&r, RECON_MISSING_IN_STATEMENT, "B-3", 0));
    reconcile_free(&r);
    /* a statement longer than the named days: its other lines are left out, not missing */
    r = run("2026-03-02,100.00,credit,B-1\n2026-03-03,7.00,credit,B-4\n"
            "2026-03-09,1.00,credit,B-LATER\n", to, to);
    assert_int_equal(r.outside, 2);
    assert_int_equal(r.matched, 1);
    assert_false(has(&r, RECON_MISSING_IN_LEDGER, "B-LATER", 3));
    assert_false(has(&r, RECON_MISSING_IN_LEDGER, "B-1", 1));
    reconcile_free(&r);
}

static void test_bad_statements(void **state)
{
    (void)state;
    static const struct {
        const char *csv;
        const char *why;
    } cases[] = {
        {"", "no lines"},
        {"date,amount,direction,reference\n", "no lines"},
        {"2026-03-02,1.00,credit,B\n2026-02-30,1.00,credit,B\n", "line 2: the date"},
        {"2026-03-02,-1.00,credit,B\n", "line 1: the amount"},
        {"2026-03-02,1.001,credit,B\n", "line 1: the amount"},
        {"2026-03-02,1.00,sideways,B\n", "line 1: the direction"},
        {"2026-03-02,1.00,credit,\n", "line 1: the reference"},
        {"2026-03-02,1.00,credit\n", "line 1: expected"},
        {"2026-03-02,1.00,credit,\"B\n", "line 1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        recon_line *lines = NULL;
        int count = 0;
        char why[256] = "";
        assert_int_equal(reconcile_parse(cases[i].csv, strlen(cases[i].csv), &lines, &count, why,
                                         sizeof why),
                         HB_ERR_INVALID_ARGUMENT);
        if (strstr(why, cases[i].why) == NULL) fail_msg("case %zu: %s", i, why);
        assert_null(lines);
    }
}

/* A day's flows: counts and amounts by kind, and the system accounts' nets tied out. */
static void test_daily_report(void **state)
{
    (void)state;
    int64_t other = testutil_wallet(fx.e, "Other", CURRENCY_CNY);
    assert_int_equal(testutil_transfer(fx.e, fx.wallet, other, 123, NULL, NULL), HB_ERR_OK);
    store *s = NULL;
    store_options o = {.read_only = true};
    char why[256];
    assert_int_equal(store_open(fx.url, &o, &s, why, sizeof why), HB_ERR_OK);
    int64_t day = 0;
    assert_int_equal(clock_day_parse("2026-03-02", &day), 0);
    daily_report r;
    assert_int_equal(reconcile_daily(s, day, &r), HB_ERR_OK);
    assert_true(r.ties_out);
    assert_int_equal(r.transfers, 3);
    assert_int_equal(r.flow_count, 2);
    assert_int_equal(r.flows[0].kind, TRANSFER_TOPUP);
    assert_int_equal(r.flows[0].count, 2);
    assert_int_equal(r.flows[0].amount, 15000);
    assert_int_equal(r.flows[1].kind, TRANSFER_WITHDRAW);
    assert_int_equal(r.flows[1].amount, 2000);
    assert_int_equal(r.custody_net[CURRENCY_CNY], 2000 - 15000);
    /* the next day: a top-up and the transfer between wallets */
    assert_int_equal(reconcile_daily(s, day + 1, &r), HB_ERR_OK);
    assert_true(r.ties_out);
    assert_int_equal(r.transfers, 2);
    assert_int_equal(r.custody_net[CURRENCY_CNY], -700);
    json_t *j = reconcile_daily_json(&r);
    assert_true(json_is_true(json_object_get(j, "ties_out")));
    json_decref(j);
    /* a day with nothing */
    assert_int_equal(reconcile_daily(s, day + 10, &r), HB_ERR_OK);
    assert_int_equal(r.transfers, 0);
    assert_true(r.ties_out);
    store_close(s);
}

int main(void)
{
    setenv("TZ", "Asia/Shanghai", 1);
    tzset();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_matching_statement, setup, teardown),
        cmocka_unit_test_setup_teardown(test_each_difference, setup, teardown),
        cmocka_unit_test_setup_teardown(test_days_bound_the_statement, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_statements, setup, teardown),
        cmocka_unit_test_setup_teardown(test_daily_report, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
