/* The audit trail's proof over HTTP and the command line (issue 9), against the real server
 * and its PostgreSQL twin: serve signs a checkpoint of its chain by itself, GET
 * /v1/audit/verify and `hongbao audit verify` say OK, `hongbao audit checkpoint --export`
 * writes a checkpoint that verifies; then a record edited straight in the store is reported
 * at its seq by both (the CLI exiting 4), and only admins may ask. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verify_and_tamper),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
