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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_name_levels),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
