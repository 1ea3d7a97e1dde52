/* Risk rules over HTTP (issue 8), against the real server and its PostgreSQL twin. So far:
 * real-name levels: the level an account starts at, an unverified person receiving but not
 * paying, PUT /v1/accounts/{id}/real-name (admins only, audited), the level in the view. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    assert_true(httptest_balanced(&server));
    httptest_stop(&server);
    httptest_cleanup(&server);
    return 0;
}

/* Create an account from body; its id into id; returns real_name_level (-1 when null). */
static int create(const char *body, char id[32])
{
    http_reply r = httptest_admin(&server, "POST", "/v1/accounts", body, NULL);
    httptest_expect(&r, 201, NULL);
    snprintf(id, 32, "%s", httptest_str(&r, "id"));
    json_t *level = json_object_get(r.json, "real_name_level");
    int out = json_is_integer(level) ? (int)json_integer_value(level) : -1;
    httptest_reply_free(&r);
    return out;
}

static void test_real_name_levels(void **state)
{
    (void)state;
    char unverified[32], verified[32], chosen[32], shop[32], body[200], path[96];
    assert_int_equal(create("{\"tier\":\"personal\",\"name\":\"无名\"}", unverified), 0);
    assert_int_equal(create("{\"tier\":\"personal\",\"name\":\"有证\",\"id_number\":\"110101199003071234\"}",
                            verified), 2);
    assert_int_equal(create("{\"tier\":\"personal\",\"name\":\"卡\",\"real_name_level\":3}", chosen), 3);
    assert_int_equal(create("{\"tier\":\"enterprise\",\"name\":\"Shop\"}", shop), -1);
    http_reply r = httptest_admin(&server, "POST", "/v1/accounts",
                                  "{\"tier\":\"personal\",\"name\":\"x\",\"real_name_level\":4}", NULL);
    httptest_expect(&r, 400, "INVALID_ARGUMENT");
    httptest_reply_free(&r);
    /* the unverified person receives a top-up and a transfer, and pays nothing */
    snprintf(path, sizeof path, "/v1/accounts/%s/topup", unverified);
    r = httptest_admin(&server, "POST", path, "{\"amount\":5000,\"external_ref\":\"RN-1\"}", NULL);
    httptest_expect(&r, 201, NULL);
    httptest_reply_free(&r);
    snprintf(path, sizeof path, "/v1/accounts/%s/topup", chosen);
    r = httptest_admin(&server, "POST", path, "{\"amount\":5000,\"external_ref\":\"RN-2\"}", NULL);
    httptest_expect(&r, 201, NULL);
    httptest_reply_free(&r);
    snprintf(body, sizeof body, "{\"from\":\"%s\",\"to\":\"%s\",\"amount\":100}", chosen, unverified);
    r = httptest_admin(&server, "POST", "/v1/transfers", body, NULL);
    httptest_expect(&r, 201, NULL);
    httptest_reply_free(&r);
    snprintf(body, sizeof body, "{\"from\":\"%s\",\"to\":\"%s\",\"amount\":1}", unverified, chosen);
    r = httptest_admin(&server, "POST", "/v1/transfers", body, NULL);
    httptest_expect(&r, 403, "LIMIT_EXCEEDED");
    assert_non_null(strstr(r.body, "can receive but not pay"));
    httptest_reply_free(&r);
    /* only an admin sets a level; levels are for people */
    snprintf(path, sizeof path, "/v1/accounts/%s/real-name", unverified);
    r = httptest_admin(&server, "PUT", path, "{\"level\":5}", NULL);
    httptest_expect(&r, 400, "INVALID_ARGUMENT");
    httptest_reply_free(&r);
    r = httptest_admin(&server, "PUT", path, "{}", NULL);
    httptest_expect(&r, 400, "INVALID_ARGUMENT");
    httptest_reply_free(&r);
    char token[128];
    snprintf(path, sizeof path, "/v1/accounts/%s/sessions", chosen);
    r = httptest_admin(&server, "POST", path, NULL, NULL);
    httptest_expect(&r, 201, NULL);
    snprintf(token, sizeof token, "%s", httptest_str(&r, "token"));
    httptest_reply_free(&r);
    snprintf(path, sizeof path, "/v1/accounts/%s/real-name", chosen);
    r = httptest_bearer(&server, token, "PUT", path, "{\"level\":3}", NULL);
    httptest_expect(&r, 403, "FORBIDDEN");
    httptest_reply_free(&r);
    snprintf(path, sizeof path, "/v1/accounts/%s/real-name", shop);
    r = httptest_admin(&server, "PUT", path, "{\"level\":1}", NULL);
    httptest_expect(&r, 400, "INVALID_ARGUMENT");
    httptest_reply_free(&r);
    r = httptest_admin(&server, "PUT", "/v1/accounts/acct_999999/real-name", "{\"level\":1}", NULL);
    httptest_expect(&r, 404, "NOT_FOUND");
    httptest_reply_free(&r);
    /* verified, it pays; the view shows the level */
    snprintf(path, sizeof path, "/v1/accounts/%s/real-name", unverified);
    r = httptest_admin(&server, "PUT", path, "{\"level\":1}", NULL);
    httptest_expect(&r, 200, NULL);
    assert_int_equal(httptest_int(&r, "real_name_level"), 1);
    httptest_reply_free(&r);
    snprintf(body, sizeof body, "{\"from\":\"%s\",\"to\":\"%s\",\"amount\":1}", unverified, chosen);
    r = httptest_admin(&server, "POST", "/v1/transfers", body, NULL);
    httptest_expect(&r, 201, NULL);
    httptest_reply_free(&r);
    snprintf(path, sizeof path, "/v1/accounts/%s", unverified);
    r = httptest_admin(&server, "GET", path, NULL, NULL);
    httptest_expect(&r, 200, NULL);
    assert_int_equal(httptest_int(&r, "real_name_level"), 1);
    httptest_reply_free(&r);
    /* the change is in the audit trail */
    char out[64];
    httptest_sql(&server, "SELECT COUNT(*) FROM audit WHERE action = 'customer.real_name'", out,
                 sizeof out);
    assert_int_equal(atoi(out), 1);
}

static void test_provider_agreement(void **state)
{
    (void)state;
    char provider[32], person[32], path[96], body[200];
    assert_int_equal(create("{\"tier\":\"provider\",\"name\":\"服务商\"}", provider), -1);
    assert_int_equal(create("{\"tier\":\"personal\",\"name\":\"P\",\"real_name_level\":2}", person), 2);
    snprintf(path, sizeof path, "/v1/accounts/%s/topup", provider);
    http_reply r = httptest_admin(&server, "POST", path, "{\"amount\":10000000,\"external_ref\":\"AG-1\"}", NULL);
    httptest_expect(&r, 201, NULL);
    httptest_reply_free(&r);
    static const struct {
        const char *body;
        long status;
    } bad[] = {
        {"{\"single_limit\":100000,\"daily_limit\":500000,\"fee_rate_bp\":50,\"code_validity_s\":60,"
         "\"crypto\":\"des\",\"max_shares\":10}", 400},
        {"{\"single_limit\":100000,\"daily_limit\":500000,\"fee_rate_bp\":10,\"code_validity_s\":60,"
         "\"crypto\":\"sm4\",\"max_shares\":10}", 400}, /* below the tier's fee range */
        {"{\"single_limit\":600000,\"daily_limit\":500000,\"fee_rate_bp\":50,\"code_validity_s\":60,"
         "\"crypto\":\"sm4\",\"max_shares\":10}", 400},
        {"{\"single_limit\":100000,\"daily_limit\":500000,\"fee_rate_bp\":50,\"code_validity_s\":5,"
         "\"crypto\":\"sm4\",\"max_shares\":10}", 400},
        {"{\"single_limit\":100000,\"daily_limit\":500000,\"fee_rate_bp\":50,\"code_validity_s\":60,"
         "\"crypto\":\"sm4\"}", 400},
    };
    snprintf(path, sizeof path, "/v1/accounts/%s/agreement", provider);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = httptest_admin(&server, "PUT", path, bad[i].body, NULL);
        httptest_expect(&r, bad[i].status, "INVALID_ARGUMENT");
        httptest_reply_free(&r);
    }
    static const char good[] = "{\"single_limit\":100000,\"daily_limit\":500000,\"fee_rate_bp\":50,"
                               "\"code_validity_s\":60,\"crypto\":\"sm4\",\"max_shares\":10}";
    char ppath[96];
    snprintf(ppath, sizeof ppath, "/v1/accounts/%s/agreement", person);
    r = httptest_admin(&server, "PUT", ppath, good, NULL);
    httptest_expect(&r, 400, "INVALID_ARGUMENT"); /* agreements are for providers */
    httptest_reply_free(&r);
    r = httptest_admin(&server, "PUT", path, good, NULL);
    httptest_expect(&r, 200, NULL);
    json_t *a = json_object_get(r.json, "agreement");
    assert_int_equal(json_integer_value(json_object_get(a, "single_limit")), 100000);
    assert_string_equal(json_string_value(json_object_get(a, "crypto")), "sm4");
    httptest_reply_free(&r);
    /* its limits bind its payments */
    snprintf(body, sizeof body, "{\"from\":\"%s\",\"to\":\"%s\",\"amount\":100001}", provider, person);
    r = httptest_admin(&server, "POST", "/v1/transfers", body, NULL);
    httptest_expect(&r, 403, "LIMIT_EXCEEDED");
    httptest_reply_free(&r);
    snprintf(body, sizeof body, "{\"from\":\"%s\",\"to\":\"%s\",\"amount\":100000}", provider, person);
    r = httptest_admin(&server, "POST", "/v1/transfers", body, NULL);
    httptest_expect(&r, 201, NULL);
    httptest_reply_free(&r);
    /* and a red packet of more shares than it allows is refused */
    snprintf(body, sizeof body, "{\"sender\":\"%s\",\"total\":1100,\"count\":11}", provider);
    r = httptest_admin(&server, "POST", "/v1/packets", body, NULL);
    httptest_expect(&r, 400, "INVALID_ARGUMENT");
    httptest_reply_free(&r);
    char out[64];
    httptest_sql(&server, "SELECT COUNT(*) FROM audit WHERE action = 'customer.agreement'", out,
                 sizeof out);
    assert_int_equal(atoi(out), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_name_levels),
        cmocka_unit_test(test_provider_agreement),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
