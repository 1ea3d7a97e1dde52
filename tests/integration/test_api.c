/* The HTTP API end to end against the real server: authentication, roles and scopes,
 * personal data at rest and masked, idempotency, errors, restart. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "httptest.h"
#include "testutil.h"

static http_server_proc server;

typedef struct fixture {
    char person[32];
    char person2[32];
    char merchant[32];
    char token[128];
    char token2[128];
    char merchant_key[64], merchant_secret[96];
    char support_key[64], support_secret[96];
} fixture;

static fixture fx;

static void create_account(const char *body, char *id_out)
{
    http_reply r = httptest_admin(&server, "POST", "/v1/accounts", body, NULL);
    httptest_expect(&r, 201, NULL);
    snprintf(id_out, 32, "%s", httptest_str(&r, "id"));
    httptest_reply_free(&r);
}

static void create_key(const char *body, char *key, char *secret)
{
    http_reply r = httptest_admin(&server, "POST", "/v1/keys", body, NULL);
    httptest_expect(&r, 201, NULL);
    snprintf(key, 64, "%s", httptest_str(&r, "key_id"));
    snprintf(secret, 96, "%s", httptest_str(&r, "secret"));
    httptest_reply_free(&r);
}

static void create_session(const char *customer_id, char *token)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/accounts/%s/sessions", customer_id);
    http_reply r = httptest_admin(&server, "POST", path, NULL, NULL);
    httptest_expect(&r, 201, NULL);
    snprintf(token, 128, "%s", httptest_str(&r, "token"));
    assert_true(strncmp(token, "hbs_", 4) == 0);
    httptest_reply_free(&r);
}

static void topup(const char *customer_id, long long amount)
{
    char path[128], body[128];
    snprintf(path, sizeof path, "/v1/accounts/%s/topup", customer_id);
    snprintf(body, sizeof body, "{\"amount\":%lld,\"external_ref\":\"bank-%lld\"}", amount, amount);
    http_reply r = httptest_admin(&server, "POST", path, body, NULL);
    httptest_expect(&r, 201, NULL);
    httptest_reply_free(&r);
}

static int setup(void **state)
{
    (void)state;
    httptest_start(&server);
    create_account("{\"tier\":\"personal\",\"name\":\"张三\",\"phone\":\"13812345678\","
                   "\"id_number\":\"110101199003071234\"}",
                   fx.person);
    create_account("{\"tier\":\"personal\",\"name\":\"李四\",\"phone\":\"13987654321\",\"real_name_level\":3}",
                   fx.person2);
    create_account("{\"tier\":\"enterprise\",\"name\":\"王记小店\",\"phone\":\"13700001111\"}",
                   fx.merchant);
    char body[128];
    snprintf(body, sizeof body, "{\"role\":\"merchant\",\"account\":\"%s\"}", fx.merchant);
    create_key(body, fx.merchant_key, fx.merchant_secret);
    create_key("{\"role\":\"support\"}", fx.support_key, fx.support_secret);
    create_session(fx.person, fx.token);
    create_session(fx.person2, fx.token2);
    topup(fx.person, 100000);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    httptest_stop(&server);
    httptest_cleanup(&server);
    return 0;
}

static void test_public_routes(void **state)
{
    (void)state;
    http_reply r = httptest_raw(&server, "GET", "/healthz", NULL, 0, NULL);
    httptest_expect(&r, 200, NULL);
    assert_string_equal(httptest_str(&r, "status"), "ok");
    httptest_reply_free(&r);
    r = httptest_raw(&server, "GET", "/openapi.json", NULL, 0, NULL);
    httptest_expect(&r, 200, NULL);
    assert_true(strncmp(httptest_str(&r, "openapi"), "3.", 2) == 0);
    json_t *paths = json_object_get(r.json, "paths");
    static const char *const documented[] = {
        "/healthz", "/metrics", "/openapi.json", "/v1/accounts", "/v1/accounts/{id}",
        "/v1/accounts/{id}/topup", "/v1/accounts/{id}/withdraw", "/v1/accounts/{id}/sessions",
        "/v1/accounts/{id}/unmask", "/v1/transfers", "/v1/transfers/{id}", "/v1/keys",
        "/v1/keys/{id}/revoke", "/v1/sessions/revoke", "/v1/ledger/check",
        "/v1/accounts/{id}/transfers", "/v1/transfers/batch"};
    for (size_t i = 0; i < sizeof documented / sizeof documented[0]; i++) {
        assert_non_null(json_object_get(paths, documented[i]));
    }
    httptest_reply_free(&r);
    r = httptest_raw(&server, "GET", "/metrics", NULL, 0, NULL);
    httptest_expect(&r, 200, NULL);
    assert_non_null(strstr(r.body, "hongbao_http_requests_total{route=\"POST /v1/accounts\""));
    assert_non_null(strstr(r.body, "hongbao_engine_batch_size_bucket"));
    httptest_reply_free(&r);
}

static long long session_lookups(const char *source)
{
    http_reply r = httptest_raw(&server, "GET", "/metrics", NULL, 0, NULL);
    httptest_expect(&r, 200, NULL);
    char label[96];
    snprintf(label, sizeof label, "hongbao_session_lookups_total{source=\"%s\"} ", source);
    const char *at = strstr(r.body, label);
    assert_non_null(at);
    long long n = strtoll(at + strlen(label), NULL, 10);
    httptest_reply_free(&r);
    return n;
}

/* Sessions in use stay in the server's cache: 300 live tokens, each used twice in turn, read
 * the store once each. (With one cache slot per hash, tokens whose hashes met evicted each
 * other and were read again.) */
static void test_session_cache(void **state)
{
    (void)state;
    /* ten sessions each for thirty people: every person stays within its rate limit */
    enum { PEOPLE = 30, PER_PERSON = 10, TOKENS = PEOPLE * PER_PERSON };
    char (*ids)[32] = calloc(PEOPLE, 32), (*tokens)[128] = calloc(TOKENS, 128), path[96];
    assert_non_null(ids);
    assert_non_null(tokens);
    for (int p = 0; p < PEOPLE; p++) {
        char name[32];
        snprintf(name, sizeof name, "Cache %c%c", 'A' + p / 26, 'a' + p % 26);
        httptest_person(&server, name, 0, ids[p], tokens[p * PER_PERSON]);
        snprintf(path, sizeof path, "/v1/accounts/%s/sessions", ids[p]);
        for (int i = 1; i < PER_PERSON; i++) {
            http_reply r = httptest_admin(&server, "POST", path, NULL, NULL);
            httptest_expect(&r, 201, NULL);
            snprintf(tokens[p * PER_PERSON + i], 128, "%s", httptest_str(&r, "token"));
            httptest_reply_free(&r);
        }
    }
    long long reads_before = session_lookups("store"), hits_before = session_lookups("cache");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < TOKENS; i++) {
            snprintf(path, sizeof path, "/v1/accounts/%s", ids[i / PER_PERSON]);
            http_reply r = httptest_bearer(&server, tokens[i], "GET", path, NULL, NULL);
            httptest_expect(&r, 200, NULL);
            httptest_reply_free(&r);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long long took_ms = (t1.tv_sec - t0.tv_sec) * 1000LL + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    long long reads = session_lookups("store") - reads_before;
    long long hits = session_lookups("cache") - hits_before;
    assert_int_equal(reads + hits, 2 * TOKENS);
    /* a cached session is trusted for SESSION_CACHE_TTL_MS (2 s); only a run that took
     * longer may have read some again */
    if (took_ms < 1800) {
        assert_int_equal(reads, TOKENS);
    } else {
        fprintf(stderr, "test_session_cache: the rounds took %lld ms; not counting reads\n",
                took_ms);
    }
    free(ids);
    free(tokens);
}

static void test_authentication(void **state)
{
    (void)state;
    http_reply r = httptest_raw(&server, "GET", "/v1/accounts", NULL, 0, NULL);
    httptest_expect(&r, 401, "UNAUTHENTICATED");
    assert_non_null(strstr(r.body, "\"request_id\":\"req_"));
    httptest_reply_free(&r);
    /* a wrong secret */
    r = httptest_signed(&server, server.admin_key, "hbsec_wrong", "GET", "/v1/accounts", NULL, NULL);
    httptest_expect(&r, 401, "UNAUTHENTICATED");
    httptest_reply_free(&r);
    /* an unknown key */
    r = httptest_signed(&server, "hbk_0000000000000000", server.admin_secret, "GET", "/v1/accounts",
                        NULL, NULL);
    httptest_expect(&r, 401, "UNAUTHENTICATED");
    httptest_reply_free(&r);
    /* stale and future timestamps */
    long long now = (long long)time(NULL);
    r = httptest_signed_at(&server, server.admin_key, server.admin_secret, "GET", "/v1/accounts",
                           NULL, now - 301, "staleNonce0000000001", NULL);
    httptest_expect(&r, 401, "UNAUTHENTICATED");
    httptest_reply_free(&r);
    r = httptest_signed_at(&server, server.admin_key, server.admin_secret, "GET", "/v1/accounts",
                           NULL, now + 301, "staleNonce0000000002", NULL);
    httptest_expect(&r, 401, "UNAUTHENTICATED");
    httptest_reply_free(&r);
    /* a short nonce */
    r = httptest_signed_at(&server, server.admin_key, server.admin_secret, "GET", "/v1/accounts",
                           NULL, now, "short", NULL);
    httptest_expect(&r, 401, "UNAUTHENTICATED");
    httptest_reply_free(&r);
    /* a replayed nonce, on a read and on a money movement */
    r = httptest_signed_at(&server, server.admin_key, server.admin_secret, "GET", "/v1/accounts",
                           NULL, now, "replayNonce000000001", NULL);
    httptest_expect(&r, 200, NULL);
    httptest_reply_free(&r);
    r = httptest_signed_at(&server, server.admin_key, server.admin_secret, "GET", "/v1/accounts",
                           NULL, now, "replayNonce000000001", NULL);
    httptest_expect(&r, 401, "UNAUTHENTICATED");
    httptest_reply_free(&r);
    char path[128];
    snprintf(path, sizeof path, "/v1/accounts/%s/topup", fx.person2);
    const char *body = "{\"amount\":5,\"external_ref\":\"replay-test\"}";
    r = httptest_signed_at(&server, server.admin_key, server.admin_secret, "POST", path, body, now,
                           "replayNonce000000002", NULL);
    httptest_expect(&r, 201, NULL);
    httptest_reply_free(&r);
    r = httptest_signed_at(&server, server.admin_key, server.admin_secret, "POST", path, body, now,
                           "replayNonce000000002", NULL);
    httptest_expect(&r, 401, "UNAUTHENTICATED");
    httptest_reply_free(&r);
    /* the body is covered by the signature: same headers, other body */
    r = httptest_signed_at(&server, server.admin_key, server.admin_secret, "POST", path, body, now,
                           "replayNonce000000003", NULL);
    httptest_expect(&r, 201, NULL);
    httptest_reply_free(&r);
    /* after a restart the nonce is still remembered */
    httptest_stop(&server);
    httptest_restart(&server);
    r = httptest_signed_at(&server, server.admin_key, server.admin_secret, "POST", path, body, now,
                           "replayNonce000000002", NULL);
    httptest_expect(&r, 401, "UNAUTHENTICATED");
    httptest_reply_free(&r);
    /* a revoked key stops working at once; a revoked session too */
    char key[64], secret[96];
    create_key("{\"role\":\"support\"}", key, secret);
    r = httptest_signed(&server, key, secret, "GET", "/v1/accounts", NULL, NULL);
    httptest_expect(&r, 200, NULL);
    httptest_reply_free(&r);
    char revoke[128];
    snprintf(revoke, sizeof revoke, "/v1/keys/%s/revoke", key);
    r = httptest_admin(&server, "POST", revoke, NULL, "Idempotency-Key: revoke-1");
    httptest_expect(&r, 200, NULL);
    httptest_reply_free(&r);
    r = httptest_signed(&server, key, secret, "GET", "/v1/accounts", NULL, NULL);
    httptest_expect(&r, 401, "UNAUTHENTICATED");
    httptest_reply_free(&r);
    /* the same revocation with its key answers as before; without a key it finds nothing */
    r = httptest_admin(&server, "POST", revoke, NULL, "Idempotency-Key: revoke-1");
    httptest_expect(&r, 200, NULL);
    assert_non_null(strstr(r.headers, "Idempotent-Replayed: true"));
    httptest_reply_free(&r);
    r = httptest_admin(&server, "POST", revoke, NULL, NULL);
    httptest_expect(&r, 404, "NOT_FOUND");
    httptest_reply_free(&r);
    char token[128], revoke_body[256];
    create_session(fx.person2, token);
    r = httptest_bearer(&server, token, "GET", "/v1/accounts", NULL, NULL);
    httptest_expect(&r, 200, NULL);
    httptest_reply_free(&r);
    snprintf(revoke_body, sizeof revoke_body, "{\"token\":\"%s\"}", token);
    r = httptest_admin(&server, "POST", "/v1/sessions/revoke", revoke_body, NULL);
    httptest_expect(&r, 200, NULL);
    httptest_reply_free(&r);
    r = httptest_bearer(&server, token, "GET", "/v1/accounts", NULL, NULL);
    httptest_expect(&r, 401, "UNAUTHENTICATED");
    httptest_reply_free(&r);
    /* bad bearer tokens */
    r = httptest_bearer(&server, "hbs_nope", "GET", "/v1/accounts", NULL, NULL);
    httptest_expect(&r, 401, "UNAUTHENTICATED");
    httptest_reply_free(&r);
    const char *hdr[] = {"Authorization: Basic dXNlcjpwYXNz", NULL};
    r = httptest_raw(&server, "GET", "/v1/accounts", NULL, 0, hdr);
    httptest_expect(&r, 401, "UNAUTHENTICATED");
    httptest_reply_free(&r);
    /* failed authentications are limited per client address: a guesser is slowed down,
     * while valid credentials from the same address still work */
    {
        int limited = 0;
        for (int i = 0; i < 80 && limited == 0; i++) {
            http_reply g = httptest_bearer(&server, "hbs_guess", "GET", "/v1/accounts", NULL, NULL);
            if (g.status == 429) {
                limited = 1;
                assert_string_equal(httptest_error_code(&g), "RATE_LIMITED");
            } else {
                httptest_expect(&g, 401, "UNAUTHENTICATED");
            }
            httptest_reply_free(&g);
        }
        assert_int_equal(limited, 1);
        http_reply ok = httptest_bearer(&server, fx.token, "GET", "/v1/accounts", NULL, NULL);
        httptest_expect(&ok, 200, NULL);
        httptest_reply_free(&ok);
    }
    sleep(1); /* let the address's budget refill a little for the tests after */
}

static void test_personal_data(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "/v1/accounts/%s", fx.person);
    http_reply r = httptest_admin(&server, "GET", path, NULL, NULL);
    httptest_expect(&r, 200, NULL);
    assert_string_equal(httptest_str(&r, "name"), "张*");
    assert_string_equal(httptest_str(&r, "phone"), "138****5678");
    assert_string_equal(httptest_str(&r, "id_number"), "110101********1234");
    httptest_reply_free(&r);
    /* support sees masked data and may not unmask */
    r = httptest_signed(&server, fx.support_key, fx.support_secret, "GET", path, NULL, NULL);
    httptest_expect(&r, 200, NULL);
    assert_string_equal(httptest_str(&r, "phone"), "138****5678");
    httptest_reply_free(&r);
    snprintf(path, sizeof path, "/v1/accounts/%s/unmask", fx.person);
    r = httptest_signed(&server, fx.support_key, fx.support_secret, "POST", path, NULL, NULL);
    httptest_expect(&r, 403, "FORBIDDEN");
    httptest_reply_free(&r);
    r = httptest_bearer(&server, fx.token, "POST", path, NULL, NULL);
    httptest_expect(&r, 403, "FORBIDDEN");
    httptest_reply_free(&r);
    r = httptest_admin(&server, "POST", path, NULL, NULL);
    httptest_expect(&r, 200, NULL);
    assert_string_equal(httptest_str(&r, "name"), "张三");
    assert_string_equal(httptest_str(&r, "phone"), "13812345678");
    assert_string_equal(httptest_str(&r, "id_number"), "110101199003071234");
    httptest_reply_free(&r);
    /* the unmask call is in the audit trail */
    char sql[256], line[64];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM audit WHERE action = 'customer.unmask' "
             "AND object = '%s'", fx.person);
    httptest_sql(&server, sql, line, sizeof line);
    assert_int_equal(atoi(line), 1);
    /* the store never holds the clear values: not in the SQLite file or its WAL, not in a
     * dump of the PostgreSQL database (where bytea shows as hex, so look for that too) */
    static const char *const clear[] = {"13812345678", "110101199003071234", "张三", "王记小店"};
    size_t size = 0;
    char *data = httptest_store_bytes(&server, &size);
    assert_true(size > 0);
    for (size_t i = 0; i < sizeof clear / sizeof clear[0]; i++) {
        assert_null(memmem(data, size, clear[i], strlen(clear[i])));
        char hex[128];
        size_t n = strlen(clear[i]);
        for (size_t k = 0; k < n; k++) {
            snprintf(hex + 2 * k, 3, "%02x", (unsigned char)clear[i][k]);
        }
        assert_null(memmem(data, size, hex, 2 * n));
    }
    free(data);
}

static void test_roles_and_scopes(void **state)
{
    (void)state;
    char path[128], body[256];
    /* a merchant reads its own account, not another's (404, not 403) */
    snprintf(path, sizeof path, "/v1/accounts/%s", fx.merchant);
    http_reply r = httptest_signed(&server, fx.merchant_key, fx.merchant_secret, "GET", path, NULL, NULL);
    httptest_expect(&r, 200, NULL);
    assert_non_null(json_object_get(r.json, "merchant"));
    httptest_reply_free(&r);
    snprintf(path, sizeof path, "/v1/accounts/%s", fx.person);
    r = httptest_signed(&server, fx.merchant_key, fx.merchant_secret, "GET", path, NULL, NULL);
    httptest_expect(&r, 404, "NOT_FOUND");
    httptest_reply_free(&r);
    /* a person reads its own wallet only */
    r = httptest_bearer(&server, fx.token, "GET", path, NULL, NULL);
    httptest_expect(&r, 200, NULL);
    httptest_reply_free(&r);
    snprintf(path, sizeof path, "/v1/accounts/%s", fx.person2);
    r = httptest_bearer(&server, fx.token, "GET", path, NULL, NULL);
    httptest_expect(&r, 404, "NOT_FOUND");
    httptest_reply_free(&r);
    /* people and merchants cannot top up, even their own wallet */
    snprintf(path, sizeof path, "/v1/accounts/%s/topup", fx.person);
    r = httptest_bearer(&server, fx.token, "POST", path, "{\"amount\":1,\"external_ref\":\"x\"}", NULL);
    httptest_expect(&r, 403, "FORBIDDEN");
    httptest_reply_free(&r);
    snprintf(path, sizeof path, "/v1/accounts/%s/topup", fx.merchant);
    r = httptest_signed(&server, fx.merchant_key, fx.merchant_secret, "POST", path,
                        "{\"amount\":1,\"external_ref\":\"x\"}", NULL);
    httptest_expect(&r, 403, "FORBIDDEN");
    httptest_reply_free(&r);
    /* a person cannot move someone else's money */
    snprintf(body, sizeof body, "{\"from\":\"%s\",\"to\":\"%s\",\"amount\":100}", fx.person,
             fx.person2);
    r = httptest_bearer(&server, fx.token2, "POST", "/v1/transfers", body, NULL);
    httptest_expect(&r, 404, "NOT_FOUND");
    httptest_reply_free(&r);
    /* but moves its own */
    r = httptest_bearer(&server, fx.token, "POST", "/v1/transfers", body, NULL);
    httptest_expect(&r, 201, NULL);
    char transfer_path[128];
    snprintf(transfer_path, sizeof transfer_path, "/v1/transfers/%s", httptest_str(&r, "id"));
    assert_int_equal(httptest_int(&r, "amount"), 100);
    httptest_reply_free(&r);
    /* both parties see the transfer; the merchant does not */
    r = httptest_bearer(&server, fx.token2, "GET", transfer_path, NULL, NULL);
    httptest_expect(&r, 200, NULL);
    httptest_reply_free(&r);
    r = httptest_signed(&server, fx.merchant_key, fx.merchant_secret, "GET", transfer_path, NULL, NULL);
    httptest_expect(&r, 404, "NOT_FOUND");
    httptest_reply_free(&r);
    /* support reads but never writes */
    r = httptest_signed(&server, fx.support_key, fx.support_secret, "POST", "/v1/transfers", body, NULL);
    httptest_expect(&r, 403, "FORBIDDEN");
    httptest_reply_free(&r);
    /* only admins manage keys and see the ledger check */
    r = httptest_signed(&server, fx.merchant_key, fx.merchant_secret, "GET", "/v1/keys", NULL, NULL);
    httptest_expect(&r, 403, "FORBIDDEN");
    httptest_reply_free(&r);
    r = httptest_bearer(&server, fx.token, "GET", "/v1/ledger/check", NULL, NULL);
    httptest_expect(&r, 403, "FORBIDDEN");
    httptest_reply_free(&r);
    /* lookups by phone (keyed hash): admin only; support sees masked numbers and would
     * otherwise recover them by searching */
    r = httptest_signed(&server, fx.support_key, fx.support_secret, "GET",
                        "/v1/accounts?phone=13987654321", NULL, NULL);
    httptest_expect(&r, 403, "FORBIDDEN");
    httptest_reply_free(&r);
    r = httptest_admin(&server, "GET", "/v1/accounts?phone=13987654321", NULL, NULL);
    httptest_expect(&r, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "data")), 1);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(r.json, "data"), 0), "id")),
                        fx.person2);
    httptest_reply_free(&r);
    r = httptest_admin(&server, "GET", "/v1/accounts?phone=13000000000", NULL, NULL);
    httptest_expect(&r, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "data")), 0);
    httptest_reply_free(&r);
    r = httptest_admin(&server, "GET", "/v1/accounts?phone=12ab", NULL, NULL);
    httptest_expect(&r, 400, "INVALID_ARGUMENT");
    httptest_reply_free(&r);
    /* a person's list holds only itself */
    r = httptest_bearer(&server, fx.token, "GET", "/v1/accounts", NULL, NULL);
    httptest_expect(&r, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "data")), 1);
    httptest_reply_free(&r);
    /* bearer sessions are for people, not merchants */
    snprintf(body, sizeof body, "/v1/accounts/%s/sessions", fx.merchant);
    r = httptest_admin(&server, "POST", body, NULL, NULL);
    httptest_expect(&r, 403, "FORBIDDEN");
    httptest_reply_free(&r);
    /* personal accounts get no API key */
    snprintf(body, sizeof body, "{\"role\":\"merchant\",\"account\":\"%s\"}", fx.person);
    r = httptest_admin(&server, "POST", "/v1/keys", body, NULL);
    httptest_expect(&r, 403, "FORBIDDEN");
    httptest_reply_free(&r);
    assert_true(httptest_balanced(&server));
}

static void test_idempotency_and_errors(void **state)
{
    (void)state;
    char body[256];
    snprintf(body, sizeof body, "{\"from\":\"%s\",\"to\":\"%s\",\"amount\":250,\"memo\":\"lunch\"}",
             fx.person, fx.person2);
    http_reply a = httptest_bearer(&server, fx.token, "POST", "/v1/transfers", body,
                                   "Idempotency-Key: order-42");
    httptest_expect(&a, 201, NULL);
    http_reply b = httptest_bearer(&server, fx.token, "POST", "/v1/transfers", body,
                                   "Idempotency-Key: order-42");
    httptest_expect(&b, 201, NULL);
    assert_string_equal(a.body, b.body);
    assert_non_null(strstr(b.headers, "Idempotent-Replayed: true"));
    assert_null(strstr(a.headers, "Idempotent-Replayed"));
    httptest_reply_free(&a);
    httptest_reply_free(&b);
    snprintf(body, sizeof body, "{\"from\":\"%s\",\"to\":\"%s\",\"amount\":251,\"memo\":\"lunch\"}",
             fx.person, fx.person2);
    a = httptest_bearer(&server, fx.token, "POST", "/v1/transfers", body,
                        "Idempotency-Key: order-42");
    httptest_expect(&a, 409, "IDEMPOTENCY_CONFLICT");
    httptest_reply_free(&a);
    /* overdraft (person2 holds a few yuan), tier limits, unknown route, wrong method, type */
    snprintf(body, sizeof body, "{\"from\":\"%s\",\"to\":\"%s\",\"amount\":15000}", fx.person2,
             fx.person);
    a = httptest_bearer(&server, fx.token2, "POST", "/v1/transfers", body, NULL);
    httptest_expect(&a, 409, "INSUFFICIENT_FUNDS");
    httptest_reply_free(&a);
    snprintf(body, sizeof body, "{\"from\":\"%s\",\"to\":\"%s\",\"amount\":20001}", fx.person,
             fx.person2);
    a = httptest_bearer(&server, fx.token, "POST", "/v1/transfers", body, NULL);
    httptest_expect(&a, 403, "LIMIT_EXCEEDED");
    assert_non_null(strstr(a.body, "single-transaction limit of 200.00"));
    httptest_reply_free(&a);
    snprintf(body, sizeof body, "{\"from\":\"%s\",\"to\":\"%s\",\"amount\":20000}", fx.person,
             fx.person2);
    for (int i = 0; i < 4; i++) { /* 3.50 paid already: 4 x 200.00 fit, a fifth does not */
        a = httptest_bearer(&server, fx.token, "POST", "/v1/transfers", body, NULL);
        httptest_expect(&a, 201, NULL);
        httptest_reply_free(&a);
    }
    a = httptest_bearer(&server, fx.token, "POST", "/v1/transfers", body, NULL);
    httptest_expect(&a, 403, "LIMIT_EXCEEDED");
    assert_non_null(strstr(a.body, "daily limit of 1000.00"));
    httptest_reply_free(&a);
    a = httptest_bearer(&server, fx.token, "GET", "/v1/nothing", NULL, NULL);
    httptest_expect(&a, 404, "NOT_FOUND");
    httptest_reply_free(&a);
    a = httptest_bearer(&server, fx.token, "DELETE", "/v1/transfers", NULL, NULL);
    httptest_expect(&a, 405, "METHOD_NOT_ALLOWED");
    httptest_reply_free(&a);
    const char *hdr[] = {"Content-Type: text/plain", NULL};
    a = httptest_raw(&server, "POST", "/v1/transfers", "x", 1, hdr);
    httptest_expect(&a, 415, "UNSUPPORTED_MEDIA_TYPE");
    httptest_reply_free(&a);
    /* an unknown field whose name the error message would cut inside a character */
    char field[128];
    memset(field, 'a', 59);
    snprintf(field + 59, sizeof field - 59, "é");
    char odd[256];
    snprintf(odd, sizeof odd, "{\"%s\":1}", field);
    a = httptest_bearer(&server, fx.token, "POST", "/v1/transfers", odd, NULL);
    httptest_expect(&a, 400, "INVALID_ARGUMENT");
    httptest_reply_free(&a);
    a = httptest_raw(&server, "GET", "/healthz", NULL, 0, NULL);
    httptest_expect(&a, 200, NULL); /* still alive */
    httptest_reply_free(&a);
    /* an oversized body */
    size_t big = 300 * 1024;
    char *huge = malloc(big + 1);
    memset(huge, 'a', big);
    huge[big] = '\0';
    const char *json_hdr[] = {"Content-Type: application/json", NULL};
    a = httptest_raw(&server, "POST", "/v1/transfers", huge, big, json_hdr);
    httptest_expect(&a, 413, "PAYLOAD_TOO_LARGE");
    httptest_reply_free(&a);
    free(huge);
    assert_true(httptest_balanced(&server));
}

/* Send raw bytes and return the status line. */
static void raw_exchange(const char *request_text, char *status_line, size_t size)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)server.port)};
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    assert_int_equal(write(fd, request_text, strlen(request_text)), (ssize_t)strlen(request_text));
    char reply[4096];
    ssize_t n = 0, got;
    while ((got = read(fd, reply + n, sizeof reply - 1 - (size_t)n)) > 0) n += got;
    reply[n] = '\0';
    close(fd);
    char *eol = strstr(reply, "\r\n");
    size_t len = eol ? (size_t)(eol - reply) : strlen(reply);
    if (len >= size) len = size - 1;
    memcpy(status_line, reply, len);
    status_line[len] = '\0';
}

static void test_framing(void **state)
{
    (void)state;
    char status[256];
    raw_exchange("POST /v1/transfers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                 status, sizeof status);
    assert_true(strstr(status, " 400") != NULL);
    raw_exchange("POST /v1/transfers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 "Content-Length: 2\r\nContent-Length: 3\r\nConnection: close\r\n\r\n{}x",
                 status, sizeof status);
    assert_true(strstr(status, " 400") != NULL);
}

/* An account's statement, paginated newest first, visible to its owner only. */
static void test_account_transfers(void **state)
{
    (void)state;
    char path[160];
    snprintf(path, sizeof path, "/v1/accounts/%s/transfers?limit=2", fx.person2);
    http_reply r = httptest_bearer(&server, fx.token2, "GET", path, NULL, NULL);
    httptest_expect(&r, 200, NULL);
    json_t *data = json_object_get(r.json, "data");
    assert_int_equal(json_array_size(data), 2);
    const char *first = json_string_value(json_object_get(json_array_get(data, 0), "id"));
    const char *second = json_string_value(json_object_get(json_array_get(data, 1), "id"));
    assert_true(atoll(first + 3) > atoll(second + 3)); /* newest first */
    const char *cursor = json_string_value(json_object_get(r.json, "next_cursor"));
    assert_non_null(cursor);
    assert_string_equal(cursor, second);
    char next[200];
    snprintf(next, sizeof next, "/v1/accounts/%s/transfers?limit=100&cursor=%s", fx.person2, cursor);
    http_reply r2 = httptest_bearer(&server, fx.token2, "GET", next, NULL, NULL);
    httptest_expect(&r2, 200, NULL);
    json_t *rest = json_object_get(r2.json, "data");
    assert_true(json_array_size(rest) >= 1);
    for (size_t i = 0; i < json_array_size(rest); i++) {
        json_t *t = json_array_get(rest, i);
        const char *id = json_string_value(json_object_get(t, "id"));
        assert_true(atoll(id + 3) < atoll(second + 3));
        const char *from = json_string_value(json_object_get(t, "from"));
        const char *to = json_string_value(json_object_get(t, "to"));
        assert_true(strcmp(from, fx.person2) == 0 || strcmp(to, fx.person2) == 0);
    }
    assert_true(json_is_null(json_object_get(r2.json, "next_cursor")));
    httptest_reply_free(&r);
    httptest_reply_free(&r2);
    /* someone else's statement is not found */
    r = httptest_bearer(&server, fx.token, "GET", path, NULL, NULL);
    httptest_expect(&r, 404, "NOT_FOUND");
    httptest_reply_free(&r);
    r = httptest_signed(&server, fx.support_key, fx.support_secret, "GET", path, NULL, NULL);
    httptest_expect(&r, 200, NULL);
    httptest_reply_free(&r);
}

/* A batch: each transfer succeeds or fails alone; keys replay per item; a replayed signed
 * batch runs nothing. */
static void test_transfer_batch(void **state)
{
    (void)state;
    char body[1024];
    snprintf(body, sizeof body,
             "{\"transfers\":["
             "{\"from\":\"%s\",\"to\":\"%s\",\"amount\":11,\"idempotency_key\":\"b-1\"},"
             "{\"from\":\"%s\",\"to\":\"%s\",\"amount\":999999999},"
             "{\"from\":\"%s\",\"to\":\"acct_999999\",\"amount\":1},"
             "{\"from\":\"%s\",\"to\":\"%s\",\"amount\":\"12\"},"
             "{\"from\":\"%s\",\"to\":\"%s\",\"amount\":13,\"idempotency_key\":\"b-1\"},"
             "{\"from\":\"%s\",\"to\":\"%s\",\"amount\":11,\"idempotency_key\":\"b-1\"},"
             "7]}",
             fx.person, fx.person2, fx.person, fx.person2, fx.person, fx.person, fx.person2,
             fx.person, fx.person2, fx.person, fx.person2);
    long long before = 0;
    http_reply c = httptest_admin(&server, "GET", "/v1/ledger/check", NULL, NULL);
    before = httptest_int(&c, "transfers");
    httptest_reply_free(&c);
    long long now = (long long)time(NULL);
    http_reply r = httptest_signed_at(&server, server.admin_key, server.admin_secret, "POST",
                                      "/v1/transfers/batch", body, now, "batchNonce0000000001", NULL);
    httptest_expect(&r, 200, NULL);
    json_t *results = json_object_get(r.json, "results");
    assert_int_equal(json_array_size(results), 7);
    static const long want[] = {201, 403, 404, 400, 409, 201, 400};
    for (size_t i = 0; i < 7; i++) {
        json_t *item = json_array_get(results, i);
        long status = (long)json_integer_value(json_object_get(item, "status"));
        if (status != want[i]) fprintf(stderr, "item %zu: %s\n", i, r.body);
        assert_int_equal(status, want[i]);
    }
    /* the sixth repeats the first's key and body: the same transfer, replayed */
    json_t *t1 = json_object_get(json_array_get(results, 0), "transfer");
    json_t *t6 = json_object_get(json_array_get(results, 5), "transfer");
    assert_string_equal(json_string_value(json_object_get(t1, "id")),
                        json_string_value(json_object_get(t6, "id")));
    assert_true(json_is_true(json_object_get(json_array_get(results, 5), "replayed")));
    assert_int_equal(httptest_int(&r, "succeeded"), 2);
    httptest_reply_free(&r);
    c = httptest_admin(&server, "GET", "/v1/ledger/check", NULL, NULL);
    assert_int_equal(httptest_int(&c, "transfers"), before + 1);
    httptest_reply_free(&c);
    /* the same signed request again: refused whole */
    r = httptest_signed_at(&server, server.admin_key, server.admin_secret, "POST",
                           "/v1/transfers/batch", body, now, "batchNonce0000000001", NULL);
    httptest_expect(&r, 401, "UNAUTHENTICATED");
    httptest_reply_free(&r);
    /* a person's batch pays only from its own wallet */
    snprintf(body, sizeof body, "{\"transfers\":[{\"from\":\"%s\",\"to\":\"%s\",\"amount\":1},"
             "{\"from\":\"%s\",\"to\":\"%s\",\"amount\":1}]}", fx.person2, fx.person,
             fx.person, fx.person2);
    r = httptest_bearer(&server, fx.token2, "POST", "/v1/transfers/batch", body, NULL);
    httptest_expect(&r, 200, NULL);
    results = json_object_get(r.json, "results");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(results, 0), "status")), 201);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(results, 1), "status")), 404);
    httptest_reply_free(&r);
    r = httptest_bearer(&server, fx.token2, "POST", "/v1/transfers/batch", "{\"transfers\":[]}", NULL);
    httptest_expect(&r, 400, "INVALID_ARGUMENT");
    httptest_reply_free(&r);
    assert_true(httptest_balanced(&server));
}

/* How many reload outcomes (done or refused) the server has logged. */
static int reloads_logged(void)
{
    char log_path[700];
    snprintf(log_path, sizeof log_path, "%s/serve.log", server.dir);
    FILE *f = fopen(log_path, "r");
    int n = 0;
    char line[1024];
    while (f != NULL && fgets(line, sizeof line, f) != NULL) {
        if (strstr(line, "\"policy reload") != NULL) n++;
    }
    if (f != NULL) fclose(f);
    return n;
}

/* SIGHUP, and wait (up to 10 s) until the server has logged the outcome. */
static void reload_policy(void)
{
    int before = reloads_logged();
    assert_int_equal(kill(server.pid, SIGHUP), 0);
    for (int i = 0; i < 1000 && reloads_logged() == before; i++) usleep(10000);
    assert_true(reloads_logged() > before);
}

static void write_policy(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static long transfer_status(const char *token, const char *from, const char *to, long long amount)
{
    char body[256];
    snprintf(body, sizeof body, "{\"from\":\"%s\",\"to\":\"%s\",\"amount\":%lld}", from, to, amount);
    http_reply r = httptest_bearer(&server, token, "POST", "/v1/transfers", body, NULL);
    long status = r.status;
    httptest_reply_free(&r);
    return status;
}

/* The policy file: read at start, reloaded on SIGHUP, a bad file refused with the old policy
 * kept and the server still answering. */
static void test_config_reload(void **state)
{
    (void)state;
    topup(fx.person2, 100000);
    char path[700];
    snprintf(path, sizeof path, "%s/policy.ini", server.dir);
    write_policy(path, "[general]\nnational_crypto = true\n[tier.personal]\nsingle_limit = 300.00\n");
    httptest_stop(&server);
    setenv("HONGBAO_CONFIG", path, 1);
    httptest_restart(&server);
    assert_int_equal(transfer_status(fx.token2, fx.person2, fx.person, 25000), 201);
    /* national-crypto mode: new personal data sealed with SM4-CTR + HMAC-SM3, old and new
     * both readable */
    char sm4_person[32];
    create_account("{\"tier\":\"personal\",\"name\":\"赵六\",\"phone\":\"13600001111\","
                   "\"id_number\":\"11010119900307123X\"}", sm4_person);
    char unmask[128];
    snprintf(unmask, sizeof unmask, "/v1/accounts/%s/unmask", sm4_person);
    http_reply u = httptest_admin(&server, "POST", unmask, NULL, NULL);
    httptest_expect(&u, 200, NULL);
    assert_string_equal(httptest_str(&u, "name"), "赵六");
    assert_string_equal(httptest_str(&u, "id_number"), "11010119900307123X");
    httptest_reply_free(&u);
    snprintf(unmask, sizeof unmask, "/v1/accounts/%s/unmask", fx.person);
    u = httptest_admin(&server, "POST", unmask, NULL, NULL);
    httptest_expect(&u, 200, NULL);
    assert_string_equal(httptest_str(&u, "phone"), "13812345678");
    httptest_reply_free(&u);
    char sql[160], line[16];
    snprintf(sql, sizeof sql, testutil_pg() != NULL
                 ? "SELECT encode(substr(name_box, 1, 1), 'hex') FROM customers WHERE id = %s"
                 : "SELECT hex(substr(name_box, 1, 1)) FROM customers WHERE id = %s",
             sm4_person + 5);
    httptest_sql(&server, sql, line, sizeof line);
    assert_true(strncmp(line, "02", 2) == 0);
    write_policy(path, "[tier.personal]\nsingle_limit = 100.00\ndaily_limit = nonsense\n");
    reload_policy();
    /* refused: the 300.00 limit stays */
    assert_int_equal(transfer_status(fx.token2, fx.person2, fx.person, 25000), 201);
    write_policy(path, "[tier.personal]\nsingle_limit = 100.00\n");
    reload_policy();
    assert_int_equal(transfer_status(fx.token2, fx.person2, fx.person, 10001), 403);
    assert_int_equal(transfer_status(fx.token2, fx.person2, fx.person, 10000), 201);
    /* rate limits: a burst of 3 at 1 per second for people; the 4th at once is 429 */
    write_policy(path, "[rate_limit]\nsession_per_second = 1\nsession_burst = 3\n");
    reload_policy();
    char account_path[128];
    snprintf(account_path, sizeof account_path, "/v1/accounts/%s", fx.person2);
    int limited = 0;
    for (int i = 0; i < 5; i++) {
        http_reply r = httptest_bearer(&server, fx.token2, "GET", account_path, NULL, NULL);
        if (r.status == 429) {
            limited++;
            assert_string_equal(httptest_error_code(&r), "RATE_LIMITED");
            assert_non_null(strstr(r.headers, "Retry-After: 1"));
        } else {
            assert_int_equal(r.status, 200);
        }
        httptest_reply_free(&r);
    }
    assert_true(limited >= 1 && limited <= 2);
    /* a signed request refused with 429 cannot be replayed once tokens are back */
    write_policy(path, "[rate_limit]\nkey_per_second = 1\nkey_burst = 1\n"
                       "session_per_second = 1\nsession_burst = 3\n");
    reload_policy();
    char topup_path[128];
    snprintf(topup_path, sizeof topup_path, "/v1/accounts/%s/topup", fx.person2);
    const char *topup_body = "{\"amount\":7,\"external_ref\":\"rl-1\"}";
    long long ts = (long long)time(NULL);
    http_reply first = httptest_signed_at(&server, server.admin_key, server.admin_secret, "GET",
                                          "/v1/ledger/check", NULL, ts, "rateNonce00000000001", NULL);
    httptest_reply_free(&first);
    http_reply limited_post = httptest_signed_at(&server, server.admin_key, server.admin_secret,
                                                 "POST", topup_path, topup_body, ts,
                                                 "rateNonce00000000002", NULL);
    httptest_expect(&limited_post, 429, "RATE_LIMITED");
    httptest_reply_free(&limited_post);
    sleep(2);
    http_reply replayed = httptest_signed_at(&server, server.admin_key, server.admin_secret, "POST",
                                             topup_path, topup_body, ts, "rateNonce00000000002",
                                             NULL);
    httptest_expect(&replayed, 401, "UNAUTHENTICATED");
    httptest_reply_free(&replayed);
    /* another person has a bucket of its own */
    char own_path[128];
    snprintf(own_path, sizeof own_path, "/v1/accounts/%s", fx.person);
    http_reply other = httptest_bearer(&server, fx.token, "GET", own_path, NULL, NULL);
    httptest_expect(&other, 200, NULL);
    httptest_reply_free(&other);
    sleep(2); /* tokens refill */
    http_reply again = httptest_bearer(&server, fx.token2, "GET", account_path, NULL, NULL);
    httptest_expect(&again, 200, NULL);
    httptest_reply_free(&again);
    /* API access follows the tier's api level in the policy */
    write_policy(path, "[tier.enterprise]\napi = none\n");
    reload_policy();
    char key_body[128];
    snprintf(key_body, sizeof key_body, "{\"role\":\"merchant\",\"account\":\"%s\"}",
             fx.merchant);
    http_reply no_api = httptest_admin(&server, "POST", "/v1/keys", key_body, NULL);
    httptest_expect(&no_api, 403, "FORBIDDEN");
    httptest_reply_free(&no_api);
    write_policy(path, "[general]\ntimezone = Asia/Shanghai\n");
    reload_policy();
    http_reply api_back = httptest_admin(&server, "POST", "/v1/keys", key_body, NULL);
    httptest_expect(&api_back, 201, NULL);
    httptest_reply_free(&api_back);
    unsetenv("HONGBAO_CONFIG");
    assert_true(httptest_balanced(&server));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_public_routes),      cmocka_unit_test(test_authentication),
        cmocka_unit_test(test_personal_data),      cmocka_unit_test(test_roles_and_scopes),
        cmocka_unit_test(test_idempotency_and_errors), cmocka_unit_test(test_framing),
        cmocka_unit_test(test_account_transfers), cmocka_unit_test(test_transfer_batch),
        cmocka_unit_test(test_config_reload),     cmocka_unit_test(test_session_cache),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
