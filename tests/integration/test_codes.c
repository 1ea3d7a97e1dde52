/* Payment codes end to end against the real server (and its PostgreSQL twin): static and
 * dynamic codes, their EMVCo payloads (parsed here with the same parser a payer's app would
 * use), the suite by tier, the order number's uniqueness, cancelling, scope, QR images decoded
 * by zbarimg back to the exact payload, and bad input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/crypto.h"
#include "core/emv.h"
#include "httptest.h"
#include "testutil.h"

static http_server_proc server;
static char alice[32], alice_tok[128], bob[32], bob_tok[128];

static int setup(void **state)
{
    (void)state;
    httptest_lift_rate_limits();
    httptest_start(&server);
    httptest_person(&server, "Alice", 0, alice, alice_tok);
    httptest_person(&server, "Bob", 0, bob, bob_tok);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    assert_true(httptest_balanced(&server));
    httptest_stop(&server);
    httptest_cleanup(&server);
    return 0;
}

static http_reply create(const char *token, const char *body)
{
    return httptest_bearer(&server, token, "POST", "/v1/codes", body, NULL);
}

/* The payload parses as ours; returns the token's suite byte (1 AES-GCM, 2 SM4). */
static int check_payload(const char *payload, bool dynamic, long long amount, emv_payload *out)
{
    char why[160];
    hb_err err = emv_parse(payload, strlen(payload), "cn.hongbao", out, why, sizeof why);
    if (err != HB_ERR_OK) fail_msg("payload %s: %s", payload, why);
    assert_int_equal(out->dynamic, dynamic);
    assert_int_equal(out->has_amount, dynamic);
    if (dynamic) assert_int_equal(out->amount_fen, amount);
    assert_true(strlen(out->token) <= 81);
    uint8_t raw[64];
    size_t n = 0;
    assert_true(crypto_unbase64url(out->token, strlen(out->token), raw, sizeof raw, &n));
    assert_int_equal(raw[0], 1); /* version */
    assert_int_equal(raw[1], 1); /* key id */
    return raw[2];
}

static void test_static_code(void **state)
{
    (void)state;
    http_reply r = create(alice_tok, "{\"kind\":\"static\",\"memo\":\"咖啡\",\"merchant_name\":\"Alice Cafe\"}");
    httptest_expect(&r, 201, NULL);
    char id[32], payload[600], url[300];
    snprintf(id, sizeof id, "%s", httptest_str(&r, "id"));
    snprintf(payload, sizeof payload, "%s", httptest_str(&r, "payload"));
    snprintf(url, sizeof url, "%s", httptest_str(&r, "url"));
    assert_string_equal(httptest_str(&r, "status"), "active");
    assert_true(json_is_null(json_object_get(r.json, "expires_at")));
    assert_true(json_is_null(json_object_get(r.json, "amount")));
    httptest_reply_free(&r);
    emv_payload p;
    assert_int_equal(check_payload(payload, false, 0, &p), 1); /* personal: AES-256-GCM */
    assert_string_equal(p.merchant_name, "Alice Cafe");
    assert_non_null(strstr(url, "/p/"));
    assert_string_equal(strstr(url, "/p/") + 3, p.token);
    /* a sticker: the same payload every time */
    char path[96];
    snprintf(path, sizeof path, "/v1/codes/%s", id);
    r = httptest_bearer(&server, alice_tok, "GET", path, NULL, NULL);
    httptest_expect(&r, 200, NULL);
    assert_string_equal(httptest_str(&r, "payload"), payload);
    httptest_reply_free(&r);
    /* its QR image decodes to exactly that payload */
    const char *dir = testutil_tempdir();
    char png[600], cmd[1400], got[700] = "";
    snprintf(png, sizeof png, "%s/code.png", dir);
    snprintf(path, sizeof path, "/v1/codes/%s/qr.png", id);
    r = httptest_bearer(&server, alice_tok, "GET", path, NULL, NULL);
    httptest_expect(&r, 200, NULL);
    assert_non_null(strstr(r.headers, "image/png"));
    FILE *f = fopen(png, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(r.body, 1, r.body_len, f), r.body_len);
    fclose(f);
    httptest_reply_free(&r);
    snprintf(cmd, sizeof cmd, "zbarimg --raw -q '%s' 2>/dev/null", png);
    FILE *z = popen(cmd, "r");
    assert_non_null(z);
    size_t n = fread(got, 1, sizeof got - 1, z);
    got[n] = '\0';
    assert_int_equal(pclose(z), 0);
    if (n > 0 && got[n - 1] == '\n') got[n - 1] = '\0';
    assert_string_equal(got, payload);
    testutil_rmdir(dir);
    snprintf(path, sizeof path, "/v1/codes/%s/qr.png?format=svg", id);
    r = httptest_bearer(&server, alice_tok, "GET", path, NULL, NULL);
    httptest_expect(&r, 200, NULL);
    assert_non_null(strstr(r.headers, "image/svg+xml"));
    assert_non_null(strstr(r.body, "<svg"));
    httptest_reply_free(&r);
    snprintf(path, sizeof path, "/v1/codes/%s/qr.png?format=gif", id);
    r = httptest_bearer(&server, alice_tok, "GET", path, NULL, NULL);
    httptest_expect(&r, 400, "INVALID_ARGUMENT");
    httptest_reply_free(&r);
    /* another person never sees it; revoking ends it, and it shows nothing to scan */
    snprintf(path, sizeof path, "/v1/codes/%s", id);
    r = httptest_bearer(&server, bob_tok, "GET", path, NULL, NULL);
    httptest_expect(&r, 404, "NOT_FOUND");
    httptest_reply_free(&r);
    snprintf(path, sizeof path, "/v1/codes/%s/cancel", id);
    r = httptest_bearer(&server, bob_tok, "POST", path, NULL, NULL);
    httptest_expect(&r, 404, "NOT_FOUND");
    httptest_reply_free(&r);
    r = httptest_bearer(&server, alice_tok, "POST", path, NULL, NULL);
    httptest_expect(&r, 200, NULL);
    assert_string_equal(httptest_str(&r, "status"), "cancelled");
    assert_true(json_is_null(json_object_get(r.json, "payload")));
    httptest_reply_free(&r);
    r = httptest_bearer(&server, alice_tok, "POST", path, NULL, NULL);
    httptest_expect(&r, 410, "CODE_EXPIRED");
    httptest_reply_free(&r);
    snprintf(path, sizeof path, "/v1/codes/%s/qr.png", id);
    r = httptest_bearer(&server, alice_tok, "GET", path, NULL, NULL);
    httptest_expect(&r, 410, "CODE_EXPIRED");
    httptest_reply_free(&r);
}

static void test_dynamic_code(void **state)
{
    (void)state;
    http_reply r = create(alice_tok, "{\"kind\":\"dynamic\",\"amount\":1888,\"order_no\":\"ORD-1\"}");
    httptest_expect(&r, 201, NULL);
    char payload[600];
    snprintf(payload, sizeof payload, "%s", httptest_str(&r, "payload"));
    long long created = httptest_int(&r, "created_at");
    long long expires = httptest_int(&r, "expires_at");
    long long refresh = httptest_int(&r, "refresh_at");
    assert_int_equal(expires - created, 120 * 1000); /* personal: 120 s */
    assert_true(refresh > created && refresh <= created + 60 * 1000 && refresh <= expires);
    assert_int_equal(refresh % 1000, 0);
    httptest_reply_free(&r);
    emv_payload p;
    check_payload(payload, true, 1888, &p);
    assert_string_equal(p.reference, "ORD-1");
    /* one code per order number; the same Idempotency-Key replays it instead */
    r = create(alice_tok, "{\"kind\":\"dynamic\",\"amount\":500,\"order_no\":\"ORD-1\"}");
    httptest_expect(&r, 400, "INVALID_ARGUMENT");
    httptest_reply_free(&r);
    r = httptest_bearer(&server, alice_tok, "POST", "/v1/codes",
                        "{\"kind\":\"dynamic\",\"amount\":500,\"order_no\":\"ORD-2\"}",
                        "Idempotency-Key: code-ord-2");
    httptest_expect(&r, 201, NULL);
    char id[32];
    snprintf(id, sizeof id, "%s", httptest_str(&r, "id"));
    httptest_reply_free(&r);
    r = httptest_bearer(&server, alice_tok, "POST", "/v1/codes",
                        "{\"kind\":\"dynamic\",\"amount\":500,\"order_no\":\"ORD-2\"}",
                        "Idempotency-Key: code-ord-2");
    httptest_expect(&r, 201, NULL);
    assert_string_equal(httptest_str(&r, "id"), id);
    assert_non_null(strstr(r.headers, "Idempotent-Replayed: true"));
    httptest_reply_free(&r);
    /* another person may use the same order number: it is unique per owner */
    r = create(bob_tok, "{\"kind\":\"dynamic\",\"amount\":500,\"order_no\":\"ORD-1\"}");
    httptest_expect(&r, 201, NULL);
    httptest_reply_free(&r);
    /* an enterprise's tokens are SM4, valid for 180 s */
    r = httptest_admin(&server, "POST", "/v1/accounts", "{\"tier\":\"enterprise\",\"name\":\"Shop\"}", NULL);
    httptest_expect(&r, 201, NULL);
    char shop[32], body[256];
    snprintf(shop, sizeof shop, "%s", httptest_str(&r, "id"));
    httptest_reply_free(&r);
    snprintf(body, sizeof body, "{\"owner\":\"%s\",\"kind\":\"dynamic\",\"amount\":9900,\"order_no\":\"E-1\",\"currency\":\"CNY\"}", shop);
    r = httptest_admin(&server, "POST", "/v1/codes", body, NULL);
    httptest_expect(&r, 201, NULL);
    assert_int_equal(httptest_int(&r, "expires_at") - httptest_int(&r, "created_at"), 180 * 1000);
    assert_int_equal(check_payload(httptest_str(&r, "payload"), true, 9900, &p), 2);
    httptest_reply_free(&r);
}

static void test_bad_input(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        long status;
        const char *code;
    } cases[] = {
        {"{\"kind\":\"sticker\"}", 400, "INVALID_ARGUMENT"},
        {"{}", 400, "INVALID_ARGUMENT"},
        {"{\"kind\":\"static\",\"amount\":100}", 400, "INVALID_ARGUMENT"},
        {"{\"kind\":\"dynamic\",\"order_no\":\"X\"}", 400, "INVALID_ARGUMENT"},
        {"{\"kind\":\"dynamic\",\"amount\":100}", 400, "INVALID_ARGUMENT"},
        {"{\"kind\":\"dynamic\",\"amount\":0,\"order_no\":\"X\"}", 400, "INVALID_ARGUMENT"},
        {"{\"kind\":\"static\",\"merchant_name\":\"咖啡店\"}", 400, "INVALID_ARGUMENT"},
        {"{\"kind\":\"static\",\"mcc\":\"59a9\"}", 400, "INVALID_ARGUMENT"},
        {"{\"kind\":\"static\",\"currency\":\"USD\"}", 400, "INVALID_ARGUMENT"},
        {"{\"kind\":\"static\",\"currency\":\"HKD\"}", 400, "INVALID_ARGUMENT"}, /* a CNY wallet */
        {"{\"kind\":\"static\",\"memo\":\"全额返现\"}", 400, "INVALID_MESSAGE"},
        {"{\"kind\":\"static\",\"memo\":\"a\\u200bb\"}", 400, "INVALID_MESSAGE"},
        {"{\"kind\":\"static\",\"owner\":\"acct_1\"}", 404, "NOT_FOUND"},
        {"{\"kind\":\"static\",\"colour\":\"red\"}", 400, "INVALID_ARGUMENT"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        http_reply r = create(alice_tok, cases[i].body);
        httptest_expect(&r, cases[i].status, cases[i].code);
        httptest_reply_free(&r);
    }
    static const char *const paths[] = {"/v1/codes/code_999999", "/v1/codes/acct_1",
                                        "/v1/codes/code_0", "/v1/codes/code_1/qr.png?scale=99"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        http_reply r = httptest_bearer(&server, alice_tok, "GET", paths[i], NULL, NULL);
        assert_true(r.status == 404 || r.status == 400);
        httptest_reply_free(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_static_code),
        cmocka_unit_test(test_dynamic_code),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
