/* Payments over HTTP against the real server (and its PostgreSQL twin): a merchant's dynamic
 * order paid by a person's session, single use, who sees a payment, the list, refunds with
 * the fee pro rata, settlement through the API, and webhooks: delivery to a loopback receiver
 * that fails the first attempts, HB1 signatures checked independently, event ids for
 * de-duplication, redelivery, secret rotation, and deliveries that survive a restart. */
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "httptest.h"
#include "testutil.h"

static http_server_proc server;
static char payer[32], payer_tok[128], other[32], other_tok[128];
static char merchant[32], mkey[64], msecret[96];

/* ---- the receiver --------------------------------------------------------------------------- */

#define EVENTS_MAX 64
static struct {
    pthread_mutex_t lock;
    struct MHD_Daemon *daemon;
    int port;
    int fail_next;          /* answer 500 to this many more requests */
    bool down;              /* answer 503 to everything */
    int requests;
    int accepted;
    int bad_signatures;
    char secret[96];        /* the endpoint's current secret */
    char ids[EVENTS_MAX][32];
    char types[EVENTS_MAX][32];
} rx = {.lock = PTHREAD_MUTEX_INITIALIZER};

typedef struct body_buf {
    char data[8192];
    size_t len;
} body_buf;

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **con_cls)
{
    (void)cls, (void)version;
    body_buf *b = *con_cls;
    if (b == NULL) {
        *con_cls = calloc(1, sizeof *b);
        return MHD_YES;
    }
    if (*upload_size > 0) {
        size_t n = *upload_size < sizeof b->data - 1 - b->len ? *upload_size : sizeof b->data - 1 - b->len;
        memcpy(b->data + b->len, upload, n);
        b->len += n;
        *upload_size = 0;
        return MHD_YES;
    }
    unsigned status = 200;
    pthread_mutex_lock(&rx.lock);
    rx.requests++;
    /* check the signature as a merchant would: recompute it from the raw body */
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    const char *event = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Hongbao-Event-Id");
    char key[64] = "", ts[32] = "", nonce[80] = "";
    bool ok = auth != NULL && strcmp(method, "POST") == 0 &&
              sscanf(auth, "HB1-HMAC-SHA256 key=%63[^,],ts=%31[^,],nonce=%79[^,],", key, ts, nonce) == 3;
    if (ok) {
        char expect[512];
        httptest_auth_header(key, rx.secret, "POST", url, b->data, b->len, atoll(ts), nonce,
                             expect, sizeof expect);
        ok = strcmp(expect + strlen("Authorization: "), auth) == 0;
    }
    if (!ok) {
        rx.bad_signatures++;
        status = 401;
    } else if (rx.down) {
        status = 503;
    } else if (rx.fail_next > 0) {
        rx.fail_next--;
        status = 500;
    } else if (rx.accepted < EVENTS_MAX && event != NULL) {
        json_t *j = json_loadb(b->data, b->len, 0, NULL);
        snprintf(rx.ids[rx.accepted], 32, "%s", event);
        snprintf(rx.types[rx.accepted], 32, "%s", j ? json_string_value(json_object_get(j, "type")) : "");
        if (j == NULL || strcmp(json_string_value(json_object_get(j, "id")), event) != 0) {
            rx.bad_signatures++; /* the body's id must be the header's */
        }
        json_decref(j);
        rx.accepted++;
    }
    pthread_mutex_unlock(&rx.lock);
    struct MHD_Response *resp = MHD_create_response_from_buffer(2, (void *)"ok", MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
                    enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)c, (void)toe;
    free(*con_cls);
    *con_cls = NULL;
}

static void receiver_start(void)
{
    rx.daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL,
                                 NULL, on_request, NULL, MHD_OPTION_NOTIFY_COMPLETED, on_done,
                                 NULL, MHD_OPTION_END);
    assert_non_null(rx.daemon);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(rx.daemon, MHD_DAEMON_INFO_BIND_PORT);
    rx.port = info->port;
}

/* Wait (up to 60 s) until the receiver has accepted n events. */
static void await_accepted(int n)
{
    for (int i = 0; i < 600; i++) {
        pthread_mutex_lock(&rx.lock);
        int got = rx.accepted;
        pthread_mutex_unlock(&rx.lock);
        if (got >= n) return;
        usleep(100 * 1000);
    }
    fail_msg("the receiver got %d events, not %d", rx.accepted, n);
}

/* ---- fixture --------------------------------------------------------------------------------- */

/* A new enterprise merchant and a merchant key for it, made the current merchant. */
static void make_merchant(const char *name)
{
    char body[128];
    snprintf(body, sizeof body, "{\"tier\":\"enterprise\",\"name\":\"%s\",\"fee_rate_bp\":60}", name);
    http_reply r = httptest_admin(&server, "POST", "/v1/accounts", body, NULL);
    httptest_expect(&r, 201, NULL);
    snprintf(merchant, sizeof merchant, "%s", httptest_str(&r, "id"));
    httptest_reply_free(&r);
    snprintf(body, sizeof body, "{\"role\":\"merchant\",\"account\":\"%s\"}", merchant);
    r = httptest_admin(&server, "POST", "/v1/keys", body, NULL);
    httptest_expect(&r, 201, NULL);
    snprintf(mkey, sizeof mkey, "%s", httptest_str(&r, "key_id"));
    snprintf(msecret, sizeof msecret, "%s", httptest_str(&r, "secret"));
    httptest_reply_free(&r);
}

static int setup(void **state)
{
    (void)state;
    httptest_lift_rate_limits();
    /* the test's receiver is on loopback; retries a second apart */
    setenv("HONGBAO_WEBHOOKS_ALLOW_PRIVATE", "true", 1);
    setenv("HONGBAO_WEBHOOKS_RETRY_BASE_S", "1", 1);
    setenv("HONGBAO_WEBHOOKS_RETRY_MAX_S", "1", 1);
    receiver_start();
    httptest_start(&server);
    httptest_person(&server, "Payer", 100000, payer, payer_tok);
    httptest_person(&server, "Other", 100000, other, other_tok);
    make_merchant("Shop");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    assert_true(httptest_balanced(&server));
    httptest_stop(&server);
    httptest_cleanup(&server);
    MHD_stop_daemon(rx.daemon);
    return 0;
}

static http_reply as_merchant(const char *method, const char *target, const char *body)
{
    return httptest_signed(&server, mkey, msecret, method, target, body, NULL);
}

/* A dynamic order of the merchant; its payload into out. */
static void order(long long amount, const char *order_no, char *code_id, char *payload, size_t size)
{
    char body[160];
    snprintf(body, sizeof body, "{\"kind\":\"dynamic\",\"amount\":%lld,\"order_no\":\"%s\"}", amount,
             order_no);
    http_reply r = as_merchant("POST", "/v1/codes", body);
    httptest_expect(&r, 201, NULL);
    snprintf(code_id, 32, "%s", httptest_str(&r, "id"));
    snprintf(payload, size, "%s", httptest_str(&r, "payload"));
    httptest_reply_free(&r);
}

static http_reply pay(const char *token, const char *payload, const char *extra)
{
    char body[900];
    snprintf(body, sizeof body, "{\"payload\":\"%s\"%s}", payload, extra ? extra : "");
    return httptest_bearer(&server, token, "POST", "/v1/payments", body, NULL);
}

static void test_pay_refund_and_webhooks(void **state)
{
    (void)state;
    /* the merchant's endpoint, with a secret shown once */
    char body[300], path[160], hook[32];
    snprintf(body, sizeof body, "{\"url\":\"http://127.0.0.1:%d/hooks/hb\","
             "\"events\":[\"payment.succeeded\",\"payment.refunded\"]}", rx.port);
    http_reply r = as_merchant("POST", "/v1/webhooks", body);
    httptest_expect(&r, 201, NULL);
    snprintf(hook, sizeof hook, "%s", httptest_str(&r, "id"));
    pthread_mutex_lock(&rx.lock);
    snprintf(rx.secret, sizeof rx.secret, "%s", httptest_str(&r, "secret"));
    rx.fail_next = 2; /* the first two attempts fail */
    pthread_mutex_unlock(&rx.lock);
    assert_true(strncmp(rx.secret, "whsec_", 6) == 0);
    httptest_reply_free(&r);
    snprintf(path, sizeof path, "/v1/webhooks/%s", hook);
    r = as_merchant("GET", path, NULL);
    httptest_expect(&r, 200, NULL);
    assert_null(json_object_get(r.json, "secret")); /* never shown again */
    httptest_reply_free(&r);
    r = httptest_bearer(&server, other_tok, "GET", path, NULL, NULL);
    httptest_expect(&r, 404, "NOT_FOUND");
    httptest_reply_free(&r);

    /* a 100.00 order paid by the payer's session: 0.60 fee, 99.40 pending */
    char code[32], payload[600];
    order(10000, "ORD-1", code, payload, sizeof payload);
    r = pay(payer_tok, payload, ",\"device\":\"phone-1\"");
    httptest_expect(&r, 201, NULL);
    char pay_id[32];
    snprintf(pay_id, sizeof pay_id, "%s", httptest_str(&r, "id"));
    assert_int_equal(httptest_int(&r, "amount"), 10000);
    assert_int_equal(httptest_int(&r, "fee"), 60);
    assert_int_equal(httptest_int(&r, "net"), 9940);
    assert_string_equal(httptest_str(&r, "status"), "succeeded");
    assert_string_equal(httptest_str(&r, "order_no"), "ORD-1");
    httptest_reply_free(&r);
    r = pay(other_tok, payload, NULL);
    httptest_expect(&r, 409, "CODE_USED");
    httptest_reply_free(&r);
    snprintf(path, sizeof path, "/v1/accounts/%s", merchant);
    r = httptest_admin(&server, "GET", path, NULL, NULL);
    httptest_expect(&r, 200, NULL);
    json_t *m = json_object_get(r.json, "merchant");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(m, "pending"), "balance")), 9940);
    assert_int_equal(json_integer_value(json_object_get(m, "fee_rate_bp")), 60);
    httptest_reply_free(&r);

    /* who sees it: the payer and the payee; another person does not */
    snprintf(path, sizeof path, "/v1/payments/%s", pay_id);
    r = httptest_bearer(&server, payer_tok, "GET", path, NULL, NULL);
    httptest_expect(&r, 200, NULL);
    httptest_reply_free(&r);
    r = as_merchant("GET", path, NULL);
    httptest_expect(&r, 200, NULL);
    httptest_reply_free(&r);
    r = httptest_bearer(&server, other_tok, "GET", path, NULL, NULL);
    httptest_expect(&r, 404, "NOT_FOUND");
    httptest_reply_free(&r);
    snprintf(path, sizeof path, "/v1/payments?code=%s", code);
    r = as_merchant("GET", path, NULL);
    httptest_expect(&r, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "data")), 1);
    httptest_reply_free(&r);
    r = httptest_bearer(&server, other_tok, "GET", path, NULL, NULL);
    httptest_expect(&r, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "data")), 0);
    httptest_reply_free(&r);

    /* refunds: the payee only; never more than remains; the fee back pro rata */
    snprintf(path, sizeof path, "/v1/payments/%s/refunds", pay_id);
    r = httptest_bearer(&server, payer_tok, "POST", path, "{\"amount\":100}", NULL);
    httptest_expect(&r, 404, "NOT_FOUND");
    httptest_reply_free(&r);
    r = as_merchant("POST", path, "{\"amount\":10001}");
    httptest_expect(&r, 400, "INVALID_ARGUMENT");
    httptest_reply_free(&r);
    r = as_merchant("POST", path, "{\"amount\":5000}");
    httptest_expect(&r, 201, NULL);
    assert_int_equal(httptest_int(&r, "fee"), 30);
    assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "payment_after"),
                                                          "status")), "partially_refunded");
    httptest_reply_free(&r);

    /* both events arrive, the first after two failed attempts, signed and with their ids */
    await_accepted(2);
    pthread_mutex_lock(&rx.lock);
    assert_int_equal(rx.bad_signatures, 0);
    assert_string_equal(rx.types[0], "payment.succeeded");
    assert_string_equal(rx.types[1], "payment.refunded");
    char first_event[32];
    snprintf(first_event, sizeof first_event, "%s", rx.ids[0]);
    assert_string_not_equal(rx.ids[0], rx.ids[1]);
    pthread_mutex_unlock(&rx.lock);
    snprintf(path, sizeof path, "/v1/webhooks/%s/deliveries", hook);
    r = as_merchant("GET", path, NULL);
    httptest_expect(&r, 200, NULL);
    json_t *data = json_object_get(r.json, "data");
    assert_int_equal(json_array_size(data), 2);
    /* two failed attempts and two good ones between them */
    json_int_t attempts = 0;
    for (size_t i = 0; i < 2; i++) {
        json_t *d = json_array_get(data, i);
        assert_string_equal(json_string_value(json_object_get(d, "status")), "delivered");
        attempts += json_integer_value(json_object_get(d, "attempts"));
    }
    assert_int_equal(attempts, 4);
    httptest_reply_free(&r);

    /* redelivery sends the same event id again (receivers de-duplicate by it) */
    snprintf(path, sizeof path, "/v1/webhooks/%s/deliveries/%s/redeliver", hook, first_event);
    r = as_merchant("POST", path, NULL);
    httptest_expect(&r, 200, NULL);
    httptest_reply_free(&r);
    await_accepted(3);
    pthread_mutex_lock(&rx.lock);
    assert_string_equal(rx.ids[2], first_event);
    pthread_mutex_unlock(&rx.lock);

    /* a rotated secret signs what follows */
    snprintf(path, sizeof path, "/v1/webhooks/%s/rotate", hook);
    r = as_merchant("POST", path, NULL);
    httptest_expect(&r, 200, NULL);
    pthread_mutex_lock(&rx.lock);
    assert_string_not_equal(rx.secret, httptest_str(&r, "secret"));
    snprintf(rx.secret, sizeof rx.secret, "%s", httptest_str(&r, "secret"));
    pthread_mutex_unlock(&rx.lock);
    httptest_reply_free(&r);
    snprintf(path, sizeof path, "/v1/payments/%s/refunds", pay_id);
    r = as_merchant("POST", path, "{\"amount\":5000}");
    httptest_expect(&r, 201, NULL);
    assert_int_equal(httptest_int(&r, "fee"), 30);
    assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "payment_after"),
                                                          "status")), "refunded");
    httptest_reply_free(&r);
    await_accepted(4);

    /* queued events survive a restart: the receiver is down, the server stops and starts */
    pthread_mutex_lock(&rx.lock);
    rx.down = true;
    pthread_mutex_unlock(&rx.lock);
    order(2000, "ORD-2", code, payload, sizeof payload);
    r = pay(payer_tok, payload, NULL);
    httptest_expect(&r, 201, NULL);
    httptest_reply_free(&r);
    httptest_stop(&server);
    httptest_restart(&server);
    pthread_mutex_lock(&rx.lock);
    rx.down = false;
    pthread_mutex_unlock(&rx.lock);
    await_accepted(5);
    pthread_mutex_lock(&rx.lock);
    assert_int_equal(rx.bad_signatures, 0);
    assert_string_equal(rx.types[4], "payment.succeeded");
    pthread_mutex_unlock(&rx.lock);

    /* deleting the endpoint stops deliveries to it */
    snprintf(path, sizeof path, "/v1/webhooks/%s", hook);
    r = as_merchant("DELETE", path, NULL);
    httptest_expect(&r, 200, NULL);
    httptest_reply_free(&r);
    r = as_merchant("GET", path, NULL);
    httptest_expect(&r, 404, "NOT_FOUND");
    httptest_reply_free(&r);
}

static void test_payment_errors(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        long status;
        const char *code;
    } cases[] = {
        {"{}", 400, "INVALID_ARGUMENT"},
        {"{\"payload\":\"\"}", 400, "INVALID_ARGUMENT"},
        {"{\"payload\":\"hello\"}", 400, "INVALID_CODE"},
        {"{\"payload\":\"00020101021126\"}", 400, "INVALID_CODE"},
        {"{\"payload\":\"https://x.example/p/AAAA\"}", 400, "INVALID_CODE"},
        {"{\"payload\":7}", 400, "INVALID_ARGUMENT"},
        {"{\"payload\":\"x\",\"amount\":-1}", 400, "INVALID_ARGUMENT"},
        {"{\"payload\":\"x\",\"amount\":1.5}", 400, "INVALID_ARGUMENT"},
        {"{\"payload\":\"x\",\"tip\":1}", 400, "INVALID_ARGUMENT"},
        {"{\"payload\":\"x\",\"payer\":\"acct_1\"}", 404, "NOT_FOUND"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        http_reply r = httptest_bearer(&server, payer_tok, "POST", "/v1/payments", cases[i].body, NULL);
        httptest_expect(&r, cases[i].status, cases[i].code);
        httptest_reply_free(&r);
    }
    /* a static code: the payer enters the amount, and the static cap holds */
    http_reply r = as_merchant("POST", "/v1/codes", "{\"kind\":\"static\"}");
    httptest_expect(&r, 201, NULL);
    char payload[600];
    snprintf(payload, sizeof payload, "%s", httptest_str(&r, "payload"));
    httptest_reply_free(&r);
    r = pay(payer_tok, payload, NULL);
    httptest_expect(&r, 400, "INVALID_ARGUMENT");
    httptest_reply_free(&r);
    for (int i = 0; i < 2; i++) {
        r = pay(payer_tok, payload, ",\"amount\":20000");
        httptest_expect(&r, 201, NULL);
        httptest_reply_free(&r);
    }
    r = pay(payer_tok, payload, ",\"amount\":10001"); /* the static-code cap */
    httptest_expect(&r, 403, "RISK_BLOCKED");
    httptest_reply_free(&r);
    /* settlement: admins only; a day not ended is refused; a past day settles idempotently */
    r = as_merchant("POST", "/v1/settlements", "{\"date\":\"2026-01-01\"}");
    httptest_expect(&r, 403, "FORBIDDEN");
    httptest_reply_free(&r);
    r = httptest_admin(&server, "POST", "/v1/settlements", "{\"date\":\"2026-02-30\"}", NULL);
    httptest_expect(&r, 400, "INVALID_ARGUMENT");
    httptest_reply_free(&r);
    r = httptest_admin(&server, "POST", "/v1/settlements", "{\"date\":\"2099-01-01\"}", NULL);
    httptest_expect(&r, 400, "INVALID_ARGUMENT");
    httptest_reply_free(&r);
    r = httptest_admin(&server, "POST", "/v1/settlements", "{\"date\":\"2026-01-01\"}", NULL);
    httptest_expect(&r, 200, NULL);
    assert_int_equal(httptest_int(&r, "created"), 0);
    httptest_reply_free(&r);
    r = as_merchant("GET", "/v1/settlements", NULL);
    httptest_expect(&r, 200, NULL);
    httptest_reply_free(&r);
    r = as_merchant("GET", "/v1/settlements/stl_1", NULL);
    httptest_expect(&r, 404, "NOT_FOUND");
    httptest_reply_free(&r);
    /* webhook targets must be http(s) URLs; events must be known */
    r = as_merchant("POST", "/v1/webhooks", "{\"url\":\"ftp://example.com/x\",\"events\":[\"payment.succeeded\"]}");
    httptest_expect(&r, 400, "INVALID_ARGUMENT");
    httptest_reply_free(&r);
    r = as_merchant("POST", "/v1/webhooks", "{\"url\":\"http://127.0.0.1/x\",\"events\":[\"payment.lost\"]}");
    httptest_expect(&r, 400, "INVALID_ARGUMENT");
    httptest_reply_free(&r);
    r = as_merchant("POST", "/v1/webhooks", "{\"url\":\"http://127.0.0.1/x\",\"events\":[]}");
    httptest_expect(&r, 400, "INVALID_ARGUMENT");
    httptest_reply_free(&r);
    r = httptest_bearer(&server, other_tok, "POST", "/v1/webhooks",
                        "{\"url\":\"http://127.0.0.1/x\",\"events\":[\"payment.succeeded\"]}", NULL);
    httptest_expect(&r, 403, "FORBIDDEN"); /* webhooks are for merchants */
    httptest_reply_free(&r);
}

/* serve settles the day before by itself after [settlement] auto_after: a payment to a new
 * merchant made with the server counting days at UTC-12, then a restart counting at UTC+14
 * (26 hours ahead, so the payment's day is always over there) with auto_after 00:00. The
 * merchant is new so that its batch holds that payment alone whatever the hour: the earlier
 * tests' payments (days counted at UTC+8) are over at UTC+14 from 10:00 UTC on. */
static void test_serve_settles_by_itself(void **state)
{
    (void)state;
    httptest_stop(&server);
    setenv("HONGBAO_GENERAL_TIMEZONE", "Etc/GMT+12", 1);
    setenv("HONGBAO_SETTLEMENT_AUTO_AFTER", "off", 1);
    httptest_restart(&server);
    make_merchant("Shop Two");
    char code[32], payload[600];
    order(4321, "AUTO-1", code, payload, sizeof payload);
    http_reply r = pay(other_tok, payload, NULL);
    httptest_expect(&r, 201, NULL);
    char day[16];
    snprintf(day, sizeof day, "%s", httptest_str(&r, "business_day"));
    httptest_reply_free(&r);
    httptest_stop(&server);
    setenv("HONGBAO_GENERAL_TIMEZONE", "Pacific/Kiritimati", 1);
    setenv("HONGBAO_SETTLEMENT_AUTO_AFTER", "00:00", 1);
    httptest_restart(&server);
    unsetenv("HONGBAO_GENERAL_TIMEZONE");
    unsetenv("HONGBAO_SETTLEMENT_AUTO_AFTER");
    json_t *batch = NULL;
    for (int i = 0; i < 100 && batch == NULL; i++) {
        r = as_merchant("GET", "/v1/settlements", NULL);
        httptest_expect(&r, 200, NULL);
        json_t *data = json_object_get(r.json, "data");
        if (json_array_size(data) > 0) batch = json_incref(json_array_get(data, 0));
        httptest_reply_free(&r);
        if (batch == NULL) usleep(100 * 1000);
    }
    assert_non_null(batch);
    /* the UTC-12 day's payment is in it, in the batch of the day before at UTC+14: that day
     * or, from 10:00 to 12:00 UTC, the day after it (a batch takes a day's payments and any
     * earlier ones not settled yet); its net moved to available */
    assert_int_equal(json_integer_value(json_object_get(batch, "count")), 1);
    assert_int_equal(json_integer_value(json_object_get(batch, "gross")), 4321);
    const char *date = json_string_value(json_object_get(batch, "date"));
    assert_non_null(date);
    int64_t paid_day = 0, batch_day = 0;
    assert_int_equal(clock_day_parse(day, &paid_day), 0);
    assert_int_equal(clock_day_parse(date, &batch_day), 0);
    assert_true(batch_day == paid_day || batch_day == paid_day + 1);
    char path[96];
    snprintf(path, sizeof path, "/v1/accounts/%s", merchant);
    r = httptest_admin(&server, "GET", path, NULL, NULL);
    httptest_expect(&r, 200, NULL);
    json_t *m = json_object_get(r.json, "merchant");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(m, "available"), "balance")),
                     json_integer_value(json_object_get(batch, "net")));
    httptest_reply_free(&r);
    /* its file downloads as CSV */
    snprintf(path, sizeof path, "/v1/settlements/%s/file", json_string_value(json_object_get(batch, "id")));
    r = as_merchant("GET", path, NULL);
    httptest_expect(&r, 200, NULL);
    assert_non_null(strstr(r.headers, "text/csv"));
    assert_non_null(strstr(r.body, "AUTO-1"));
    assert_non_null(strstr(r.body, ",total,"));
    httptest_reply_free(&r);
    r = httptest_bearer(&server, other_tok, "GET", path, NULL, NULL);
    httptest_expect(&r, 404, "NOT_FOUND");
    httptest_reply_free(&r);
    json_decref(batch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pay_refund_and_webhooks),
        cmocka_unit_test(test_payment_errors),
        cmocka_unit_test(test_serve_settles_by_itself),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
