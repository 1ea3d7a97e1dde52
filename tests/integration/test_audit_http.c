/* The audit trail's proof over HTTP and the command line (issue 9), against the real server
 * and its PostgreSQL twin: serve signs a checkpoint of its chain by itself, GET
 * /v1/audit/verify and `hongbao audit verify` say OK, `hongbao audit checkpoint --export`
 * writes a checkpoint that verifies; then a record edited straight in the store is reported
 * at its seq by both (the CLI exiting 4), and only admins may ask. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "httptest.h"
#include "testutil.h"

static http_server_proc server;

static int setup(void **state)
{
    (void)state;
    httptest_lift_rate_limits();
    httptest_start(&server);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    httptest_stop(&server);
    httptest_cleanup(&server);
    return 0;
}

/* Run the CLI; its exit status, its output in out. */
static int cli(const char *args, char *out, size_t size)
{
    char cmd[2000];
    snprintf(cmd, sizeof cmd, "%s %s --db '%s' 2>&1", getenv("HONGBAO_BIN"), args, server.db);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_verify_and_tamper(void **state)
{
    (void)state;
    char who[32], tok[128], other[32], other_tok[128], out[4096];
    httptest_person(&server, "Ann", 100000, who, tok);
    httptest_person(&server, "Ben", 0, other, other_tok);
    for (int i = 0; i < 5; i++) {
        char body[160];
        snprintf(body, sizeof body, "{\"from\":\"%s\",\"to\":\"%s\",\"amount\":%d}", who, other,
                 100 + i);
        http_reply r = httptest_bearer(&server, tok, "POST", "/v1/transfers", body, NULL);
        httptest_expect(&r, 201, NULL);
        httptest_reply_free(&r);
    }
    /* serve signed its first checkpoint when it started (records came from init) */
    http_reply r = httptest_admin(&server, "GET", "/v1/audit/verify", NULL, NULL);
    httptest_expect(&r, 200, NULL);
    assert_true(json_is_true(json_object_get(r.json, "ok")));
    assert_true(httptest_int(&r, "records") >= 10);
    assert_true(httptest_int(&r, "checkpoints") >= 1);
    assert_true(json_is_true(json_object_get(r.json, "checkpoint_signatures_checked")));
    httptest_reply_free(&r);
    /* a person may not ask */
    r = httptest_bearer(&server, tok, "GET", "/v1/audit/verify", NULL, NULL);
    httptest_expect(&r, 403, "FORBIDDEN");
    httptest_reply_free(&r);
    /* the command line: a checkpoint exported, then verified against */
    char cp[700], args[900];
    snprintf(cp, sizeof cp, "%s/cp.json", server.dir);
    snprintf(args, sizeof args, "audit checkpoint --export '%s'", cp);
    assert_int_equal(cli(args, out, sizeof out), 0);
    snprintf(args, sizeof args, "audit verify --checkpoint '%s'", cp);
    assert_int_equal(cli(args, out, sizeof out), 0);
    assert_non_null(strstr(out, "OK:"));
    assert_non_null(strstr(out, "the exported checkpoint matches"));
    /* a record edited in the store, around the server */
    testutil_sql(server.db, "UPDATE audit SET object = 'nothing to see' WHERE seq = 4");
    r = httptest_admin(&server, "GET", "/v1/audit/verify", NULL, NULL);
    httptest_expect(&r, 200, NULL);
    assert_true(json_is_false(json_object_get(r.json, "ok")));
    json_t *broken = json_object_get(r.json, "broken");
    assert_int_equal(json_integer_value(json_object_get(broken, "seq")), 4);
    assert_non_null(strstr(json_string_value(json_object_get(broken, "reason")), "edited"));
    httptest_reply_free(&r);
    snprintf(args, sizeof args, "audit verify --checkpoint '%s'", cp);
    assert_int_equal(cli(args, out, sizeof out), 4);
    assert_non_null(strstr(out, "BROKEN: chain"));
    assert_non_null(strstr(out, "seq 4"));
    assert_int_equal(cli("audit verify --json", out, sizeof out), 4);
    assert_non_null(strstr(out, "\"ok\":false"));
    /* bad arguments */
    assert_int_equal(cli("audit verify --from 0", out, sizeof out), 2);
    snprintf(args, sizeof args, "audit verify --checkpoint '%s/none.json'", server.dir);
    assert_int_equal(cli(args, out, sizeof out), 2);
    r = httptest_admin(&server, "GET", "/v1/audit/verify?from=0", NULL, NULL);
    httptest_expect(&r, 400, "INVALID_ARGUMENT");
    httptest_reply_free(&r);
}

static http_reply post_csv(const char *path, const char *csv)
{
    char auth[512];
    httptest_auth_header(server.admin_key, server.admin_secret, "POST", path, csv, strlen(csv), 0,
                         NULL, auth, sizeof auth);
    const char *headers[] = {auth, "Content-Type: text/csv", NULL};
    return httptest_raw(&server, "POST", path, csv, strlen(csv), headers);
}

/* The custody bank's statement over HTTP, and the day's flows. */
static void test_reconcile_and_daily(void **state)
{
    (void)state;
    char who[32], tok[128], path[160], body[200], csv[600];
    httptest_person(&server, "Cat", 0, who, tok);
    static const long long amounts[] = {12345, 678};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "/v1/accounts/%s/topup", who);
        snprintf(body, sizeof body, "{\"amount\":%lld,\"external_ref\":\"STMT-%d\"}", amounts[i], i);
        http_reply r = httptest_admin(&server, "POST", path, body, NULL);
        httptest_expect(&r, 201, NULL);
        httptest_reply_free(&r);
    }
    /* the statement of today, in the server's zone: the ledger's business day */
    http_reply r = httptest_admin(&server, "GET", "/v1/reports/daily?date=2026-01-01", NULL, NULL);
    httptest_expect(&r, 200, NULL);
    assert_true(json_is_true(json_object_get(r.json, "ties_out")));
    assert_int_equal(httptest_int(&r, "transfers"), 0);
    httptest_reply_free(&r);
    char out[4096];
    assert_int_equal(cli("report reconcile --help", out, sizeof out), 0);
    time_t now = time(NULL);
    struct tm local;
    setenv("TZ", "Asia/Shanghai", 1);
    tzset();
    localtime_r(&now, &local);
    char today[16];
    strftime(today, sizeof today, "%Y-%m-%d", &local);
    /* the custody account's movements of the day are the two top-ups (this test runs first) */
    snprintf(csv, sizeof csv, "date,amount,direction,reference\n%s,123.45,credit,STMT-0\n"
                              "%s,6.78,credit,STMT-1\n", today, today);
    r = post_csv("/v1/reports/reconcile?currency=CNY", csv);
    httptest_expect(&r, 200, NULL);
    assert_true(json_is_true(json_object_get(r.json, "ok")));
    assert_int_equal(httptest_int(&r, "matched"), 2);
    httptest_reply_free(&r);
    snprintf(csv, sizeof csv, "%s,123.45,credit,STMT-0\n%s,6.79,credit,STMT-1\n", today, today);
    r = post_csv("/v1/reports/reconcile?currency=CNY", csv);
    httptest_expect(&r, 200, NULL);
    assert_true(json_is_false(json_object_get(r.json, "ok")));
    json_t *diffs = json_object_get(r.json, "differences");
    assert_int_equal(json_array_size(diffs), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(diffs, 0), "kind")),
                        "amount_differs");
    httptest_reply_free(&r);
    r = post_csv("/v1/reports/reconcile", "2026-13-01,1.00,credit,X\n");
    httptest_expect(&r, 400, "INVALID_ARGUMENT");
    assert_non_null(strstr(r.body, "line 1"));
    httptest_reply_free(&r);
    /* the day's flows tie out, the two top-ups among them */
    snprintf(path, sizeof path, "/v1/reports/daily?date=%s", today);
    r = httptest_admin(&server, "GET", path, NULL, NULL);
    httptest_expect(&r, 200, NULL);
    assert_true(json_is_true(json_object_get(r.json, "ties_out")));
    assert_true(httptest_int(&r, "transfers") >= 2);
    httptest_reply_free(&r);
    r = httptest_bearer(&server, tok, "GET", path, NULL, NULL);
    httptest_expect(&r, 403, "FORBIDDEN");
    httptest_reply_free(&r);
}

static long long balance_of(const char *id)
{
    char path[96];
    snprintf(path, sizeof path, "/v1/accounts/%s", id);
    http_reply r = httptest_admin(&server, "GET", path, NULL, NULL);
    httptest_expect(&r, 200, NULL);
    long long b = httptest_int(&r, "balance");
    httptest_reply_free(&r);
    return b;
}

/* Maker-checker: a correction proposed by one admin is made only when another approves it. */
static void test_adjustments(void **state)
{
    (void)state;
    char a[32], a_tok[128], b[32], b_tok[128], key[64], secret[96], id[32], path[128];
    httptest_person(&server, "Dee", 10000, a, a_tok);
    httptest_person(&server, "Eve", 0, b, b_tok);
    http_reply r = httptest_admin(&server, "POST", "/v1/keys", "{\"role\":\"admin\"}", NULL);
    httptest_expect(&r, 201, NULL);
    snprintf(key, sizeof key, "%s", httptest_str(&r, "key_id"));
    snprintf(secret, sizeof secret, "%s", httptest_str(&r, "secret"));
    httptest_reply_free(&r);
    char body[300];
    snprintf(body, sizeof body, "{\"from\":\"%s\",\"to\":\"%s\",\"amount\":2500,"
                                "\"reason\":\"a duplicated top-up, ticket 42\"}", a, b);
    r = httptest_admin(&server, "POST", "/v1/adjustments", body, NULL);
    httptest_expect(&r, 201, NULL);
    snprintf(id, sizeof id, "%s", httptest_str(&r, "id"));
    assert_string_equal(httptest_str(&r, "status"), "proposed");
    assert_true(json_is_null(json_object_get(r.json, "transfer")));
    httptest_reply_free(&r);
    assert_int_equal(balance_of(a), 10000); /* a proposal moves nothing */
    /* the proposer may not approve it */
    snprintf(path, sizeof path, "/v1/adjustments/%s/approve", id);
    r = httptest_admin(&server, "POST", path, "{\"note\":\"mine\"}", NULL);
    httptest_expect(&r, 403, "FORBIDDEN");
    httptest_reply_free(&r);
    assert_int_equal(balance_of(a), 10000);
    /* nor a person */
    r = httptest_bearer(&server, a_tok, "POST", path, "{}", NULL);
    httptest_expect(&r, 403, "FORBIDDEN");
    httptest_reply_free(&r);
    /* nor a key made after the proposal (the proposer could make one for itself) */
    usleep(2000);
    r = httptest_admin(&server, "POST", "/v1/keys", "{\"role\":\"admin\"}", NULL);
    httptest_expect(&r, 201, NULL);
    char late_key[64], late_secret[96];
    snprintf(late_key, sizeof late_key, "%s", httptest_str(&r, "key_id"));
    snprintf(late_secret, sizeof late_secret, "%s", httptest_str(&r, "secret"));
    httptest_reply_free(&r);
    r = httptest_signed(&server, late_key, late_secret, "POST", path, "{}", NULL);
    httptest_expect(&r, 403, "FORBIDDEN");
    assert_non_null(strstr(r.body, "after the proposal"));
    httptest_reply_free(&r);
    /* another admin, with a key it had before, approves: the transfer is made */
    r = httptest_signed(&server, key, secret, "POST", path, "{\"note\":\"checked the bank\"}", NULL);
    httptest_expect(&r, 200, NULL);
    assert_string_equal(httptest_str(&r, "status"), "approved");
    assert_non_null(strstr(httptest_str(&r, "transfer"), "tr_"));
    httptest_reply_free(&r);
    assert_int_equal(balance_of(a), 7500);
    assert_int_equal(balance_of(b), 2500);
    r = httptest_signed(&server, key, secret, "POST", path, "{}", NULL);
    httptest_expect(&r, 409, "ALREADY_DECIDED");
    httptest_reply_free(&r);
    /* more than the account holds: refused, the proposal stays proposed */
    snprintf(body, sizeof body, "{\"from\":\"%s\",\"to\":\"%s\",\"amount\":99999,"
                                "\"reason\":\"too much\"}", b, a);
    r = httptest_admin(&server, "POST", "/v1/adjustments", body, NULL);
    httptest_expect(&r, 201, NULL);
    char id2[32];
    snprintf(id2, sizeof id2, "%s", httptest_str(&r, "id"));
    httptest_reply_free(&r);
    snprintf(path, sizeof path, "/v1/adjustments/%s/approve", id2);
    r = httptest_signed(&server, key, secret, "POST", path, "{}", NULL);
    httptest_expect(&r, 409, "INSUFFICIENT_FUNDS");
    httptest_reply_free(&r);
    /* the proposer withdraws it */
    snprintf(path, sizeof path, "/v1/adjustments/%s/reject", id2);
    r = httptest_admin(&server, "POST", path, "{\"note\":\"withdrawn\"}", NULL);
    httptest_expect(&r, 200, NULL);
    assert_string_equal(httptest_str(&r, "status"), "rejected");
    httptest_reply_free(&r);
    assert_int_equal(balance_of(b), 2500);
    /* accounts tied to other records cannot be corrected by hand; bad input */
    char bodies[4][300];
    snprintf(bodies[0], sizeof bodies[0], "{\"from\":\"acct_1\",\"to\":\"%s\",\"amount\":1,"
                                          "\"reason\":\"escrow or reserve\"}", a);
    snprintf(bodies[1], sizeof bodies[1], "{\"from\":\"%s\",\"to\":\"acct_99999\",\"amount\":1,"
                                          "\"reason\":\"x\"}", b);
    snprintf(bodies[2], sizeof bodies[2], "{\"from\":\"%s\",\"to\":\"%s\",\"amount\":0,"
                                          "\"reason\":\"x\"}", b, a);
    snprintf(bodies[3], sizeof bodies[3], "{\"from\":\"%s\",\"to\":\"%s\",\"amount\":1}", b, a);
    static const int bad_status[] = {400, 404, 400, 400};
    for (int i = 0; i < 4; i++) {
        r = httptest_admin(&server, "POST", "/v1/adjustments", bodies[i], NULL);
        if (r.status != bad_status[i]) fail_msg("case %d: %d %s", i, r.status, r.body);
        httptest_reply_free(&r);
    }
    /* listed, newest first; and the audit trail holds both steps of each */
    r = httptest_admin(&server, "GET", "/v1/adjustments?status=approved", NULL, NULL);
    httptest_expect(&r, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "data")), 1);
    httptest_reply_free(&r);
    store *s = NULL;
    store_options o = {.read_only = true};
    char why[256];
    assert_int_equal(store_open(server.db, &o, &s, why, sizeof why), HB_ERR_OK);
    int proposed = 0, approved = 0, rejected = 0;
    audit_record page[256];
    int n = 256;
    for (int64_t after = 0; n == 256;) {
        assert_int_equal(store_audit_page(s, "local", after, 256, page, &n), HB_ERR_OK);
        for (int i = 0; i < n; i++) {
            after = page[i].seq;
            proposed += strcmp(page[i].action, "adjustment.propose") == 0;
            approved += strcmp(page[i].action, "adjustment.approve") == 0;
            rejected += strcmp(page[i].action, "adjustment.reject") == 0;
        }
    }
    store_close(s);
    assert_int_equal(proposed, 2);
    assert_int_equal(approved, 1);
    assert_int_equal(rejected, 1);
    assert_true(httptest_balanced(&server));
}

/* An account's trail: its transfers and the audit records about it, newest first. */
static void test_trail(void **state)
{
    (void)state;
    char p[32], p_tok[128], q[32], q_tok[128], path[128], body[200];
    httptest_person(&server, "Fay", 5000, p, p_tok);
    httptest_person(&server, "Gus", 0, q, q_tok);
    snprintf(body, sizeof body, "{\"from\":\"%s\",\"to\":\"%s\",\"amount\":321}", p, q);
    http_reply r = httptest_bearer(&server, p_tok, "POST", "/v1/transfers", body, NULL);
    httptest_expect(&r, 201, NULL);
    httptest_reply_free(&r);
    snprintf(path, sizeof path, "/v1/accounts/%s/real-name", p);
    r = httptest_admin(&server, "PUT", path, "{\"level\":3}", NULL);
    httptest_expect(&r, 200, NULL);
    httptest_reply_free(&r);
    snprintf(path, sizeof path, "/v1/accounts/%s/trail?days=1", p);
    r = httptest_admin(&server, "GET", path, NULL, NULL);
    httptest_expect(&r, 200, NULL);
    json_t *events = json_object_get(r.json, "events");
    int transfers = 0, real_name = 0, created = 0;
    long long last = INT64_MAX;
    for (size_t i = 0; i < json_array_size(events); i++) {
        json_t *e = json_array_get(events, i);
        long long t = json_integer_value(json_object_get(e, "time"));
        assert_true(t <= last); /* newest first */
        last = t;
        const char *kind = json_string_value(json_object_get(e, "kind"));
        if (strcmp(kind, "transfer") == 0) {
            transfers++;
        } else {
            const char *action = json_string_value(json_object_get(e, "action"));
            real_name += strcmp(action, "customer.real_name") == 0;
            created += strcmp(action, "customer.create") == 0;
            assert_non_null(strstr(json_string_value(json_object_get(e, "actor")), "key:"));
        }
    }
    assert_int_equal(transfers, 2); /* the funding top-up and the payment to Gus */
    assert_int_equal(real_name, 1);
    assert_int_equal(created, 1);
    assert_true(json_is_false(json_object_get(r.json, "truncated")));
    httptest_reply_free(&r);
    /* the person sees its own, the operator unnamed; another person sees nothing */
    r = httptest_bearer(&server, p_tok, "GET", path, NULL, NULL);
    httptest_expect(&r, 200, NULL);
    assert_null(strstr(r.body, "key:"));
    assert_non_null(strstr(r.body, "\"operator\""));
    httptest_reply_free(&r);
    r = httptest_bearer(&server, q_tok, "GET", path, NULL, NULL);
    httptest_expect(&r, 404, "NOT_FOUND");
    httptest_reply_free(&r);
    snprintf(path, sizeof path, "/v1/accounts/%s/trail?days=0", p);
    r = httptest_admin(&server, "GET", path, NULL, NULL);
    httptest_expect(&r, 400, "INVALID_ARGUMENT");
    httptest_reply_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reconcile_and_daily), /* first: the day's only custody movements */
        cmocka_unit_test(test_trail),
        cmocka_unit_test(test_adjustments),
        cmocka_unit_test(test_verify_and_tamper),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
