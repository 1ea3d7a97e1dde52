/* The wall clock jumping backward and forward under the real server (an LD_PRELOAD shim
 * moves CLOCK_REALTIME, time and gettimeofday of `hongbao serve` only):
 *  - sessions: an expired session stays refused while the clock is ahead, and a revoked one
 *    stays refused when the clock goes back;
 *  - daily limits: a day's allowance is not granted again when the clock goes back to an
 *    earlier day (the counted day never moves back);
 *  - red packets: a packet is expired once the clock passes its expiry, the sweep refunds it
 *    once, and when the clock comes back it stays refunded: no claim, no second refund;
 *  - nonce windows: once the server has pruned the nonces of a time (the clock ran ahead),
 *    no request signed at or before it is accepted again, even after the clock and the
 *    server come back; fresh requests in that span are refused too (fail closed) while
 *    bearer sessions go on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "httptest.h"
#include "testutil.h"

static http_server_proc server;
static char offset_file[600];
static char alice[32], bob[32], alice_token[128];

static void set_offset(long long seconds)
{
    FILE *f = fopen(offset_file, "w");
    assert_non_null(f);
    fprintf(f, "%lld\n", seconds);
    fclose(f);
    usleep(2100000); /* past the server's 2 s session cache */
}

static void expect(http_reply *r, long status, const char *code)
{
    if (r->status != status) fprintf(stderr, "expected %ld, got %ld %s\n", status, r->status, r->body);
    assert_int_equal(r->status, status);
    if (code != NULL) assert_string_equal(httptest_error_code(r), code);
    httptest_reply_free(r);
}

static void create(const char *name, char *id, size_t size)
{
    char body[128];
    snprintf(body, sizeof body, "{\"tier\":\"personal\",\"name\":\"%s\",\"real_name_level\":3}", name);
    http_reply r = httptest_admin(&server, "POST", "/v1/accounts", body, NULL);
    assert_int_equal(r.status, 201);
    snprintf(id, size, "%s", httptest_str(&r, "id"));
    httptest_reply_free(&r);
    char path[128];
    snprintf(path, sizeof path, "/v1/accounts/%s/topup", id);
    r = httptest_admin(&server, "POST", path, "{\"amount\":100000,\"external_ref\":\"clock\"}", NULL);
    expect(&r, 201, NULL);
}

static char *session_for(const char *id, int ttl)
{
    static char token[128];
    char path[128], body[64];
    snprintf(path, sizeof path, "/v1/accounts/%s/sessions", id);
    snprintf(body, sizeof body, "{\"ttl_seconds\":%d}", ttl);
    http_reply r = httptest_admin(&server, "POST", path, body, NULL);
    assert_int_equal(r.status, 201);
    snprintf(token, sizeof token, "%s", httptest_str(&r, "token"));
    httptest_reply_free(&r);
    return token;
}

static long pay(const char *token, const char *from, const char *to, int fen)
{
    char body[160];
    snprintf(body, sizeof body, "{\"from\":\"%s\",\"to\":\"%s\",\"amount\":%d}", from, to, fen);
    http_reply r = httptest_bearer(&server, token, "POST", "/v1/transfers", body, NULL);
    long status = r.status;
    httptest_reply_free(&r);
    return status;
}

static int setup(void **state)
{
    (void)state;
    const char *dir = testutil_tempdir();
    snprintf(offset_file, sizeof offset_file, "%s-clock", dir);
    testutil_rmdir(dir);
    FILE *f = fopen(offset_file, "w");
    assert_non_null(f);
    fputs("0\n", f);
    fclose(f);
    setenv("HB_CLOCK_OFFSET", offset_file, 1);
    setenv("HONGBAO_TIER_PERSONAL_SINGLE_LIMIT", "100.00", 1);
    setenv("HONGBAO_TIER_PERSONAL_DAILY_LIMIT", "100.00", 1);
    setenv("LD_PRELOAD", HB_FAULT_SHIM, 1); /* for every server started from here */
    httptest_start(&server);
    create("Clock Alice", alice, sizeof alice);
    create("Clock Bob", bob, sizeof bob);
    snprintf(alice_token, sizeof alice_token, "%s", session_for(alice, 7 * 86400));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    httptest_stop(&server);
    httptest_cleanup(&server);
    unlink(offset_file);
    return 0;
}

static long long packet_int(const char *token, const char *path, const char *name, char *status,
                             size_t status_size)
{
    http_reply r = httptest_bearer(&server, token, "GET", path, NULL, NULL);
    assert_int_equal(r.status, 200);
    long long v = httptest_int(&r, name);
    if (status != NULL) snprintf(status, status_size, "%s", httptest_str(&r, "status"));
    httptest_reply_free(&r);
    return v;
}

static long grab(const char *token, const char *pkt, const char *claim_token)
{
    char path[96], body[128];
    snprintf(path, sizeof path, "/v1/packets/%s/claims", pkt);
    snprintf(body, sizeof body, "{\"token\":\"%s\"}", claim_token);
    http_reply r = httptest_bearer(&server, token, "POST", path, body, NULL);
    long status = r.status;
    if (status == 410) assert_string_equal(httptest_error_code(&r), "PACKET_EXPIRED");
    httptest_reply_free(&r);
    return status;
}

static void sweep_expect(const char *expected)
{
    /* the CLI runs under the same shifted clock (LD_PRELOAD and HB_CLOCK_OFFSET are set) */
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "%s sweep --db '%s' --json", getenv("HONGBAO_BIN"), server.db);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[128] = "";
    assert_non_null(fgets(line, sizeof line, p));
    assert_int_equal(pclose(p), 0);
    if (strstr(line, expected) == NULL) fprintf(stderr, "sweep said %s", line);
    assert_non_null(strstr(line, expected));
}

static void test_packet_expiry(void **state)
{
    (void)state;
    char carol[32], path[96], status[32];
    create("Clock Carol", carol, sizeof carol);
    char bob_token[128], carol_token[128];
    snprintf(bob_token, sizeof bob_token, "%s", session_for(bob, 7 * 86400));
    snprintf(carol_token, sizeof carol_token, "%s", session_for(carol, 7 * 86400));
    http_reply r = httptest_bearer(&server, bob_token, "POST", "/v1/packets",
                                   "{\"total\":1000,\"count\":3,\"expires_in\":3600}", NULL);
    assert_int_equal(r.status, 201);
    char pkt[32], token[64];
    snprintf(pkt, sizeof pkt, "%s", httptest_str(&r, "id"));
    snprintf(token, sizeof token, "%s", httptest_str(&r, "claim_token"));
    httptest_reply_free(&r);
    snprintf(path, sizeof path, "/v1/packets/%s", pkt);
    assert_int_equal(grab(alice_token, pkt, token), 201);
    long long claimed = packet_int(bob_token, path, "claimed_amount", NULL, 0);
    set_offset(7200); /* two hours ahead: past the expiry */
    assert_int_equal(grab(carol_token, pkt, token), 410);
    packet_int(bob_token, path, "claimed_amount", status, sizeof status);
    assert_string_equal(status, "expired");
    sweep_expect("\"refunded\":1,");
    set_offset(0); /* the clock comes back: the packet stays refunded */
    assert_int_equal(packet_int(bob_token, path, "refunded_amount", status, sizeof status),
                     1000 - claimed);
    assert_string_equal(status, "refunded");
    assert_int_equal(grab(carol_token, pkt, token), 410);
    sweep_expect("\"refunded\":0,");
    char sql[160], out[32];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM transfers WHERE kind = 6 AND reference = '%s'",
             pkt);
    httptest_sql(&server, sql, out, sizeof out);
    assert_int_equal(atoi(out), 1);
    assert_true(httptest_balanced(&server));
}

static void test_sessions(void **state)
{
    (void)state;
    char short_lived[128], revoked[128], path[128];
    snprintf(short_lived, sizeof short_lived, "%s", session_for(bob, 120));
    snprintf(revoked, sizeof revoked, "%s", session_for(bob, 3600));
    snprintf(path, sizeof path, "/v1/accounts/%s", bob);
    http_reply r = httptest_bearer(&server, short_lived, "GET", path, NULL, NULL);
    expect(&r, 200, NULL);
    set_offset(600); /* ten minutes ahead: the two-minute session has expired */
    r = httptest_bearer(&server, short_lived, "GET", path, NULL, NULL);
    expect(&r, 401, "UNAUTHENTICATED");
    r = httptest_bearer(&server, revoked, "GET", path, NULL, NULL);
    expect(&r, 200, NULL);
    set_offset(0);
    char body[200];
    snprintf(body, sizeof body, "{\"token\":\"%s\"}", revoked);
    r = httptest_admin(&server, "POST", "/v1/sessions/revoke", body, NULL);
    expect(&r, 200, NULL);
    set_offset(-3600); /* an hour back: revoked stays revoked */
    r = httptest_bearer(&server, revoked, "GET", path, NULL, NULL);
    expect(&r, 401, "UNAUTHENTICATED");
    set_offset(0);
}

static void test_daily_limit(void **state)
{
    (void)state;
    assert_int_equal(pay(alice_token, alice, bob, 10000), 201); /* today's 100.00 */
    assert_int_equal(pay(alice_token, alice, bob, 1), 403);
    set_offset(-86400); /* yesterday: no second allowance */
    assert_int_equal(pay(alice_token, alice, bob, 1), 403);
    set_offset(86400); /* tomorrow: a new day */
    assert_int_equal(pay(alice_token, alice, bob, 10000), 201);
    assert_int_equal(pay(alice_token, alice, bob, 1), 403);
    set_offset(0); /* back to today: tomorrow's count stands */
    assert_int_equal(pay(alice_token, alice, bob, 1), 403);
    assert_true(httptest_balanced(&server));
}

static void test_nonce_window(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "/v1/accounts/%s/topup", bob);
    const char *body = "{\"amount\":1,\"external_ref\":\"replay-me\"}";
    long long ts = (long long)time(NULL);
    http_reply r = httptest_signed_at(&server, server.admin_key, server.admin_secret, "POST", path,
                                      body, ts, "clockNonce0000000001", NULL);
    expect(&r, 201, NULL);
    /* an hour ahead, the server starts again and prunes what is older than its window */
    httptest_stop(&server);
    set_offset(3600);
    httptest_restart(&server);
    long long horizon = 0;
    for (int i = 0; i < 500 && horizon < (ts + 3000) * 1000; i++) { /* it prunes at start */
        char value[32] = "";
        httptest_sql(&server, "SELECT COALESCE(MAX(value), '0') FROM meta "
                              "WHERE key = 'nonce_horizon_ms'",
                     value, sizeof value);
        horizon = atoll(value);
        if (horizon < (ts + 3000) * 1000) usleep(10000);
    }
    assert_true(horizon >= (ts + 3000) * 1000);
    httptest_stop(&server);
    set_offset(0);
    httptest_restart(&server);
    /* the same request again: its nonce is gone, and still it must not pass */
    r = httptest_signed_at(&server, server.admin_key, server.admin_secret, "POST", path, body, ts,
                           "clockNonce0000000001", NULL);
    expect(&r, 401, "UNAUTHENTICATED");
    /* a fresh request of the pruned span is refused too (the server cannot tell) */
    r = httptest_signed_at(&server, server.admin_key, server.admin_secret, "POST", path,
                           "{\"amount\":1,\"external_ref\":\"fresh\"}", (long long)time(NULL),
                           "clockNonce0000000002", NULL);
    expect(&r, 401, "UNAUTHENTICATED");
    char line[32];
    httptest_sql(&server, "SELECT COUNT(*) FROM transfers WHERE reference = 'replay-me'", line,
                 sizeof line);
    assert_int_equal(atoi(line), 1);
    /* people with sessions are not affected */
    snprintf(path, sizeof path, "/v1/accounts/%s", alice);
    r = httptest_bearer(&server, alice_token, "GET", path, NULL, NULL);
    expect(&r, 200, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_packet_expiry),
        cmocka_unit_test(test_sessions),
        cmocka_unit_test(test_daily_limit),
        cmocka_unit_test(test_nonce_window), /* last: it closes the signed API for an hour */
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
