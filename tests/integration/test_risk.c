/* Risk rules over HTTP (issue 8), against the real server and its PostgreSQL twin: real-name
 * levels (the level an account starts at, an unverified person receiving but not paying,
 * PUT /v1/accounts/{id}/real-name), provider agreements, blacklists of accounts, devices and
 * codes with expiry (refused, money unmoved, the case opened and updated, resolved), and the
 * same-amount rule fusing a code (the fifth payment accepted, later ones refused, the fuse
 * lifted by resolving the case). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
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

static long long balance(const char *id)
{
    char path[96];
    snprintf(path, sizeof path, "/v1/accounts/%s", id);
    http_reply r = httptest_admin(&server, "GET", path, NULL, NULL);
    httptest_expect(&r, 200, NULL);
    long long b = httptest_int(&r, "balance");
    httptest_reply_free(&r);
    return b;
}

static http_reply send_money(const char *from, const char *to, long long amount, const char *device)
{
    char body[256];
    snprintf(body, sizeof body, "{\"from\":\"%s\",\"to\":\"%s\",\"amount\":%lld%s%s%s}", from,
             to, amount, device ? ",\"device\":\"" : "", device ? device : "", device ? "\"" : "");
    return httptest_admin(&server, "POST", "/v1/transfers", body, NULL);
}

/* The cases of an account and rule: how many, and the first's id and events. */
static int cases_of(const char *who, const char *rule, char id[32], long long *events)
{
    char path[160];
    snprintf(path, sizeof path, "/v1/risk/cases?account=%s&rule=%s&status=open", who, rule);
    http_reply r = httptest_admin(&server, "GET", path, NULL, NULL);
    httptest_expect(&r, 200, NULL);
    json_t *data = json_object_get(r.json, "data");
    int n = (int)json_array_size(data);
    if (n > 0) {
        json_t *c = json_array_get(data, 0);
        snprintf(id, 32, "%s", json_string_value(json_object_get(c, "id")));
        *events = json_integer_value(json_object_get(c, "events"));
    }
    httptest_reply_free(&r);
    return n;
}

static void test_lists_and_cases(void **state)
{
    (void)state;
    char alice[32], alice_tok[128], bob[32], bob_tok[128], body[256], id[32];
    httptest_person(&server, "Alice", 100000, alice, alice_tok);
    httptest_person(&server, "Bob", 100000, bob, bob_tok);
    /* a blacklisted account is refused, moves nothing, and has a case */
    snprintf(body, sizeof body, "{\"value\":\"%s\",\"reason\":\"fraud report 7\"}", alice);
    http_reply r = httptest_admin(&server, "POST", "/v1/risk/lists/accounts", body, NULL);
    httptest_expect(&r, 201, NULL);
    httptest_reply_free(&r);
    for (int i = 0; i < 2; i++) {
        r = send_money(alice, bob, 100, NULL);
        httptest_expect(&r, 403, "RISK_BLOCKED");
        assert_null(strstr(r.body, "blacklist")); /* the reason, not the rule's internals */
        httptest_reply_free(&r);
    }
    assert_int_equal(balance(alice), 100000);
    long long events = 0;
    assert_int_equal(cases_of(alice, "blacklist.account", id, &events), 1);
    assert_int_equal(events, 2);
    /* off the list it pays again; the case is resolved */
    snprintf(body, sizeof body, "{\"value\":\"%s\"}", alice);
    r = httptest_admin(&server, "POST", "/v1/risk/lists/accounts/remove", body, NULL);
    httptest_expect(&r, 200, NULL);
    httptest_reply_free(&r);
    r = httptest_admin(&server, "POST", "/v1/risk/lists/accounts/remove", body, NULL);
    httptest_expect(&r, 404, "NOT_FOUND");
    httptest_reply_free(&r);
    r = send_money(alice, bob, 100, NULL);
    httptest_expect(&r, 201, NULL);
    httptest_reply_free(&r);
    char path[128];
    snprintf(path, sizeof path, "/v1/risk/cases/%s/resolve", id);
    r = httptest_admin(&server, "POST", path, "{\"action\":\"explode\"}", NULL);
    httptest_expect(&r, 400, "INVALID_ARGUMENT");
    httptest_reply_free(&r);
    r = httptest_admin(&server, "POST", path, "{\"action\":\"dismiss\",\"note\":\"report withdrawn\"}", NULL);
    httptest_expect(&r, 200, NULL);
    assert_string_equal(httptest_str(&r, "status"), "resolved");
    httptest_reply_free(&r);
    r = httptest_admin(&server, "POST", path, "{\"action\":\"dismiss\"}", NULL);
    httptest_expect(&r, 400, "INVALID_ARGUMENT");
    httptest_reply_free(&r);
    /* a device listed for two seconds */
    r = httptest_admin(&server, "POST", "/v1/risk/lists/devices",
                       "{\"value\":\"farm-phone-9\",\"reason\":\"device farm\",\"expires_in\":2}", NULL);
    httptest_expect(&r, 201, NULL);
    httptest_reply_free(&r);
    r = send_money(bob, alice, 100, "farm-phone-9");
    httptest_expect(&r, 403, "RISK_BLOCKED");
    httptest_reply_free(&r);
    r = send_money(bob, alice, 100, "another-phone");
    httptest_expect(&r, 201, NULL);
    httptest_reply_free(&r);
    usleep(2500 * 1000);
    r = send_money(bob, alice, 100, "farm-phone-9");
    httptest_expect(&r, 201, NULL);
    httptest_reply_free(&r);
    /* who may look and act: operators; support reads only; people not at all */
    r = httptest_bearer(&server, alice_tok, "GET", "/v1/risk/cases", NULL, NULL);
    httptest_expect(&r, 403, "FORBIDDEN");
    httptest_reply_free(&r);
    r = httptest_admin(&server, "POST", "/v1/risk/lists/planets", "{\"value\":\"x\"}", NULL);
    httptest_expect(&r, 404, "NOT_FOUND");
    httptest_reply_free(&r);
    r = httptest_admin(&server, "POST", "/v1/risk/lists/accounts", "{\"value\":\"bob\"}", NULL);
    httptest_expect(&r, 400, "INVALID_ARGUMENT");
    httptest_reply_free(&r);
    r = httptest_admin(&server, "GET", "/v1/risk/lists/devices", NULL, NULL);
    httptest_expect(&r, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "data")), 0); /* expired */
    httptest_reply_free(&r);
}

static void test_same_amount_fuse(void **state)
{
    (void)state;
    char shop[32], key[64], secret[96], body[700], payer[32], payer_tok[128];
    assert_int_equal(create("{\"tier\":\"enterprise\",\"name\":\"Tea\"}", shop), -1);
    snprintf(body, sizeof body, "{\"role\":\"merchant\",\"account\":\"%s\"}", shop);
    http_reply r = httptest_admin(&server, "POST", "/v1/keys", body, NULL);
    httptest_expect(&r, 201, NULL);
    snprintf(key, sizeof key, "%s", httptest_str(&r, "key_id"));
    snprintf(secret, sizeof secret, "%s", httptest_str(&r, "secret"));
    httptest_reply_free(&r);
    r = httptest_signed(&server, key, secret, "POST", "/v1/codes", "{\"kind\":\"static\"}", NULL);
    httptest_expect(&r, 201, NULL);
    char code[32], payload[600];
    snprintf(code, sizeof code, "%s", httptest_str(&r, "id"));
    snprintf(payload, sizeof payload, "%s", httptest_str(&r, "payload"));
    httptest_reply_free(&r);
    httptest_person(&server, "Payer", 100000, payer, payer_tok);
    snprintf(body, sizeof body, "{\"payload\":\"%s\",\"amount\":888}", payload);
    /* a different amount first: the run starts with the next one */
    char other[700];
    snprintf(other, sizeof other, "{\"payload\":\"%s\",\"amount\":500}", payload);
    r = httptest_bearer(&server, payer_tok, "POST", "/v1/payments", other, NULL);
    httptest_expect(&r, 201, NULL);
    httptest_reply_free(&r);
    for (int i = 0; i < 5; i++) { /* the fifth of one amount is still accepted */
        r = httptest_bearer(&server, payer_tok, "POST", "/v1/payments", body, NULL);
        httptest_expect(&r, 201, NULL);
        /* and its reply says the code was fused; the others carry no risk note */
        json_t *risk = json_object_get(r.json, "risk");
        if (i < 4) {
            assert_null(risk);
        } else {
            assert_string_equal(json_string_value(json_object_get(risk, "decision")), "fuse");
        }
        httptest_reply_free(&r);
    }
    long long before = balance(payer);
    r = httptest_bearer(&server, payer_tok, "POST", "/v1/payments", other, NULL);
    httptest_expect(&r, 403, "CODE_FUSED");
    httptest_reply_free(&r);
    assert_int_equal(balance(payer), before);
    char id[32];
    long long events = 0;
    assert_int_equal(cases_of(shop, "same_amount", id, &events), 1);
    /* the operator lifts the fuse; the code takes payments again */
    char path[128];
    snprintf(path, sizeof path, "/v1/risk/cases/%s/resolve", id);
    r = httptest_admin(&server, "POST", path, "{\"action\":\"lift_fuse\",\"note\":\"a tea shop\"}", NULL);
    httptest_expect(&r, 200, NULL);
    httptest_reply_free(&r);
    r = httptest_bearer(&server, payer_tok, "POST", "/v1/payments", body, NULL);
    httptest_expect(&r, 201, NULL);
    httptest_reply_free(&r);
}

static void test_large_transaction_report(void **state)
{
    (void)state;
    char provider[32], person[32], path[160], body[200];
    assert_int_equal(create("{\"tier\":\"provider\",\"name\":\"李大户\",\"id_number\":\"110101199003071234\"}",
                            provider), -1);
    assert_int_equal(create("{\"tier\":\"personal\",\"name\":\"Q\",\"real_name_level\":2}", person), 2);
    snprintf(path, sizeof path, "/v1/accounts/%s/topup", provider);
    http_reply r = httptest_admin(&server, "POST", path, "{\"amount\":20000000,\"external_ref\":\"LG-1\"}", NULL);
    httptest_expect(&r, 201, NULL);
    httptest_reply_free(&r);
    snprintf(body, sizeof body, "{\"from\":\"%s\",\"to\":\"%s\",\"amount\":5000000}", provider, person);
    r = httptest_admin(&server, "POST", "/v1/transfers", body, NULL);
    httptest_expect(&r, 201, NULL);
    char tr[32];
    snprintf(tr, sizeof tr, "%s", httptest_str(&r, "id"));
    /* allowed, and the reply says it was reported */
    json_t *risk = json_object_get(r.json, "risk");
    assert_string_equal(json_string_value(json_object_get(risk, "decision")), "report");
    httptest_reply_free(&r);
    /* the server's business day is the UTC day or the next (Asia/Shanghai) */
    char from[16], to[16];
    int64_t today = clock_business_day(clock_now_ms(clock_real()), NULL);
    clock_day_format(today - 1, from, sizeof from);
    clock_day_format(today + 1, to, sizeof to);
    snprintf(path, sizeof path, "/v1/reports/large-transactions?from=%s&to=%s", from, to);
    r = httptest_admin(&server, "GET", path, NULL, NULL);
    httptest_expect(&r, 200, NULL);
    json_t *data = json_object_get(r.json, "data");
    json_t *found = NULL;
    for (size_t i = 0; i < json_array_size(data); i++) {
        json_t *e = json_array_get(data, i);
        if (strcmp(json_string_value(json_object_get(e, "reference")), tr) == 0) found = e;
    }
    assert_non_null(found);
    assert_string_equal(json_string_value(json_object_get(found, "kind")), "single");
    assert_int_equal(json_integer_value(json_object_get(found, "amount")), 5000000);
    assert_string_equal(json_string_value(json_object_get(found, "name")), "李**"); /* masked */
    assert_null(strstr(r.body, "110101199003071234"));
    httptest_reply_free(&r);
    r = httptest_admin(&server, "GET", "/v1/reports/large-transactions?from=2026-05-01", NULL, NULL);
    httptest_expect(&r, 400, "INVALID_ARGUMENT");
    httptest_reply_free(&r);
    /* the command line gives the same, as CSV */
    char cmd[1400], out[4096] = "";
    snprintf(cmd, sizeof cmd, "%s report large-tx --db '%s' --from %s --to %s", getenv("HONGBAO_BIN"),
             server.db, from, to);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    assert_int_equal(pclose(p), 0);
    assert_non_null(strstr(out, tr));
    assert_non_null(strstr(out, ",single,"));
    assert_null(strstr(out, "110101199003071234"));
}

static void test_multi_account_device(void **state)
{
    (void)state;
    char p[3][32], tok[128], id[32], path[128];
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "Farm%d", i);
        httptest_person(&server, name, 10000, p[i], tok);
    }
    for (int i = 0; i < 2; i++) {
        http_reply r = send_money(p[i], p[(i + 1) % 3], 100, "farm-x");
        httptest_expect(&r, 201, NULL);
        httptest_reply_free(&r);
    }
    http_reply r = send_money(p[2], p[0], 100, "farm-x");
    httptest_expect(&r, 403, "ACCOUNT_RESTRICTED");
    httptest_reply_free(&r);
    long long events = 0;
    for (int i = 0; i < 3; i++) assert_int_equal(cases_of(p[i], "multi_account", id, &events), 1);
    r = send_money(p[1], p[0], 100, "another-phone");
    httptest_expect(&r, 403, "ACCOUNT_RESTRICTED");
    httptest_reply_free(&r);
    /* the operator lifts one restriction after a look */
    assert_int_equal(cases_of(p[1], "multi_account", id, &events), 1);
    snprintf(path, sizeof path, "/v1/risk/cases/%s/resolve", id);
    r = httptest_admin(&server, "POST", path, "{\"action\":\"lift_restriction\",\"note\":\"family\"}", NULL);
    httptest_expect(&r, 200, NULL);
    httptest_reply_free(&r);
    r = send_money(p[1], p[0], 100, "another-phone");
    httptest_expect(&r, 201, NULL);
    httptest_reply_free(&r);
}

static void resolve(const char *case_id, const char *action)
{
    char path[128], body[128];
    snprintf(path, sizeof path, "/v1/risk/cases/%s/resolve", case_id);
    snprintf(body, sizeof body, "{\"action\":\"%s\",\"note\":\"looked at it\"}", action);
    http_reply r = httptest_admin(&server, "POST", path, body, NULL);
    httptest_expect(&r, 200, NULL);
    assert_string_equal(httptest_str(&r, "status"), "resolved");
    httptest_reply_free(&r);
}

static http_reply grab(const char *token, const char *packet_id, const char *claim_token,
                       const char *device)
{
    char path[96], body[300];
    snprintf(path, sizeof path, "/v1/packets/%s/claims", packet_id);
    snprintf(body, sizeof body, "{\"token\":\"%s\",\"device\":\"%s\"}", claim_token, device);
    return httptest_bearer(&server, token, "POST", path, body, NULL);
}

/* Device rules on red-packet claims: three people grabbing from one phone are restricted
 * (the multi-account rule), a fourth is refused (device binding; money unmoved, a case), and
 * grabs from its own phone once the case is looked at. */
static void test_device_binding_claims(void **state)
{
    (void)state;
    char sender[32], sender_tok[128], who[4][32], tok[4][128], id[32];
    httptest_person(&server, "Sender", 100000, sender, sender_tok);
    http_reply r = httptest_bearer(&server, sender_tok, "POST", "/v1/packets",
                                   "{\"total\":800,\"count\":8,\"mode\":\"fixed\",\"device\":\"s-phone\"}",
                                   NULL);
    httptest_expect(&r, 201, NULL);
    char pkt[32], claim_token[64];
    snprintf(pkt, sizeof pkt, "%s", httptest_str(&r, "id"));
    snprintf(claim_token, sizeof claim_token, "%s", httptest_str(&r, "claim_token"));
    httptest_reply_free(&r);
    for (int i = 0; i < 4; i++) {
        char name[16];
        snprintf(name, sizeof name, "Grab%d", i);
        httptest_person(&server, name, 0, who[i], tok[i]);
    }
    for (int i = 0; i < 2; i++) {
        r = grab(tok[i], pkt, claim_token, "shared-phone");
        httptest_expect(&r, 201, NULL);
        httptest_reply_free(&r);
    }
    /* the third account on the phone within 10 minutes: the multi-account rule restricts
     * all three; the phone is bound to the third even so (a risk refusal keeps its state) */
    r = grab(tok[2], pkt, claim_token, "shared-phone");
    httptest_expect(&r, 403, "ACCOUNT_RESTRICTED");
    httptest_reply_free(&r);
    assert_int_equal(balance(who[2]), 0);
    /* a fourth account: the phone is bound to three already */
    r = grab(tok[3], pkt, claim_token, "shared-phone");
    httptest_expect(&r, 403, "RISK_BLOCKED");
    assert_null(strstr(r.body, "device.binding")); /* the reason, not the rule's internals */
    httptest_reply_free(&r);
    assert_int_equal(balance(who[3]), 0);
    long long events = 0;
    assert_int_equal(cases_of(who[3], "device.binding", id, &events), 1);
    resolve(id, "dismiss");
    assert_int_equal(cases_of(who[3], "device.binding", id, &events), 0);
    r = grab(tok[3], pkt, claim_token, "own-phone");
    httptest_expect(&r, 201, NULL);
    httptest_reply_free(&r);
    assert_int_equal(balance(who[3]), 100);
}

/* Amount dispersion: a person's red packets of a day spreading wider than 45.00 go through,
 * the reply says they are under review, and the case is listed and resolved. */
static void test_dispersion_review(void **state)
{
    (void)state;
    char who[32], tok[128], id[32];
    httptest_person(&server, "Spread", 100000, who, tok);
    http_reply r = httptest_bearer(&server, tok, "POST", "/v1/packets", "{\"total\":100,\"count\":1}", NULL);
    httptest_expect(&r, 201, NULL);
    assert_null(json_object_get(r.json, "risk"));
    httptest_reply_free(&r);
    /* 1.00 and 91.00: the standard deviation is exactly 45.00, not above; 200.00 passes it */
    r = httptest_bearer(&server, tok, "POST", "/v1/packets", "{\"total\":9100,\"count\":1}", NULL);
    httptest_expect(&r, 201, NULL);
    assert_null(json_object_get(r.json, "risk"));
    httptest_reply_free(&r);
    long long before = balance(who);
    r = httptest_bearer(&server, tok, "POST", "/v1/packets", "{\"total\":20000,\"count\":1}", NULL);
    httptest_expect(&r, 201, NULL);
    json_t *risk = json_object_get(r.json, "risk");
    assert_string_equal(json_string_value(json_object_get(risk, "decision")), "review");
    assert_non_null(strstr(json_string_value(json_object_get(risk, "reason")), "spread wide"));
    httptest_reply_free(&r);
    assert_int_equal(balance(who), before - 20000); /* allowed: the money moved */
    long long events = 0;
    assert_int_equal(cases_of(who, "amount_dispersion", id, &events), 1);
    resolve(id, "dismiss");
    assert_int_equal(cases_of(who, "amount_dispersion", id, &events), 0);
}

/* The static-code cap: past 500.00 a day through static codes the payer is blocked, the
 * money unmoved, a case opened; dynamic codes still take its payments. */
static void test_static_cap_block(void **state)
{
    (void)state;
    char shop[32], key[64], secret[96], body[700], payer[32], payer_tok[128], id[32];
    assert_int_equal(create("{\"tier\":\"enterprise\",\"name\":\"Noodles\"}", shop), -1);
    snprintf(body, sizeof body, "{\"role\":\"merchant\",\"account\":\"%s\"}", shop);
    http_reply r = httptest_admin(&server, "POST", "/v1/keys", body, NULL);
    httptest_expect(&r, 201, NULL);
    snprintf(key, sizeof key, "%s", httptest_str(&r, "key_id"));
    snprintf(secret, sizeof secret, "%s", httptest_str(&r, "secret"));
    httptest_reply_free(&r);
    r = httptest_signed(&server, key, secret, "POST", "/v1/codes", "{\"kind\":\"static\"}", NULL);
    httptest_expect(&r, 201, NULL);
    char payload[600];
    snprintf(payload, sizeof payload, "%s", httptest_str(&r, "payload"));
    httptest_reply_free(&r);
    httptest_person(&server, "Diner", 100000, payer, payer_tok);
    snprintf(body, sizeof body, "{\"payload\":\"%s\",\"amount\":12500}", payload);
    for (int i = 0; i < 4; i++) { /* 4 x 125.00: exactly 500.00, at the cap */
        r = httptest_bearer(&server, payer_tok, "POST", "/v1/payments", body, NULL);
        httptest_expect(&r, 201, NULL);
        httptest_reply_free(&r);
    }
    long long before = balance(payer);
    snprintf(body, sizeof body, "{\"payload\":\"%s\",\"amount\":1}", payload);
    r = httptest_bearer(&server, payer_tok, "POST", "/v1/payments", body, NULL);
    httptest_expect(&r, 403, "RISK_BLOCKED");
    httptest_reply_free(&r);
    assert_int_equal(balance(payer), before);
    long long events = 0;
    assert_int_equal(cases_of(payer, "static_cap", id, &events), 1);
    resolve(id, "confirm");
    /* a dynamic order is not capped by it */
    r = httptest_signed(&server, key, secret, "POST", "/v1/codes",
                        "{\"kind\":\"dynamic\",\"amount\":700,\"order_no\":\"N-1\"}", NULL);
    httptest_expect(&r, 201, NULL);
    snprintf(body, sizeof body, "{\"payload\":\"%s\"}", httptest_str(&r, "payload"));
    httptest_reply_free(&r);
    r = httptest_bearer(&server, payer_tok, "POST", "/v1/payments", body, NULL);
    httptest_expect(&r, 201, NULL);
    httptest_reply_free(&r);
}

/* The night pattern, with the server counting time in a zone where it is now about 03:00:
 * the third small transfer within 30 minutes freezes the account (refused, a case and a
 * report); the operator unfreezes it and it pays again. */
static void test_night_pattern(void **state)
{
    (void)state;
    time_t now = time(NULL);
    struct tm utc;
    gmtime_r(&now, &utc);
    int offset = (3 - utc.tm_hour + 24) % 24; /* hours east of UTC where it is 03:xx */
    if (offset > 14) offset -= 24;
    char zone[32];
    if (offset == 0) {
        snprintf(zone, sizeof zone, "Etc/GMT");
    } else {
        snprintf(zone, sizeof zone, "Etc/GMT%+d", -offset); /* POSIX signs are reversed */
    }
    httptest_stop(&server);
    setenv("HONGBAO_GENERAL_TIMEZONE", zone, 1);
    setenv("HONGBAO_RISK_NIGHT_COUNT", "3", 1);
    httptest_restart(&server);
    unsetenv("HONGBAO_GENERAL_TIMEZONE");
    unsetenv("HONGBAO_RISK_NIGHT_COUNT");
    char owl[32], tok[128], other[32], other_tok[128], id[32];
    httptest_person(&server, "Owl", 100000, owl, tok);
    httptest_person(&server, "Lark", 0, other, other_tok);
    http_reply r = send_money(owl, other, 1000, NULL); /* 10.00 is not small */
    httptest_expect(&r, 201, NULL);
    httptest_reply_free(&r);
    for (int i = 0; i < 2; i++) {
        r = send_money(owl, other, 999, NULL);
        httptest_expect(&r, 201, NULL);
        httptest_reply_free(&r);
    }
    long long before = balance(owl);
    r = send_money(owl, other, 999, NULL);
    httptest_expect(&r, 403, "ACCOUNT_FROZEN");
    httptest_reply_free(&r);
    assert_int_equal(balance(owl), before);
    long long events = 0;
    assert_int_equal(cases_of(owl, "night_pattern", id, &events), 1);
    char from[16], to[16], path[160];
    int64_t today = clock_business_day(clock_now_ms(clock_real()), NULL);
    clock_day_format(today - 2, from, sizeof from);
    clock_day_format(today + 2, to, sizeof to);
    snprintf(path, sizeof path, "/v1/reports/large-transactions?from=%s&to=%s", from, to);
    r = httptest_admin(&server, "GET", path, NULL, NULL);
    httptest_expect(&r, 200, NULL);
    json_t *data = json_object_get(r.json, "data");
    int night = 0;
    for (size_t i = 0; i < json_array_size(data); i++) {
        json_t *e = json_array_get(data, i);
        night += strcmp(json_string_value(json_object_get(e, "account")), owl) == 0 &&
                 strcmp(json_string_value(json_object_get(e, "kind")), "night_pattern") == 0;
    }
    assert_int_equal(night, 1);
    httptest_reply_free(&r);
    resolve(id, "unfreeze");
    r = send_money(owl, other, 1000, NULL);
    httptest_expect(&r, 201, NULL);
    httptest_reply_free(&r);
    httptest_stop(&server);
    httptest_restart(&server);
}

static http_reply import_csv(const char *list, const char *csv, const char *type)
{
    char path[96], auth[512], content[64];
    snprintf(path, sizeof path, "/v1/risk/lists/%s/import", list);
    httptest_auth_header(server.admin_key, server.admin_secret, "POST", path, csv, strlen(csv), 0,
                         NULL, auth, sizeof auth);
    snprintf(content, sizeof content, "Content-Type: %s", type);
    const char *headers[] = {auth, content, NULL};
    return httptest_raw(&server, "POST", path, csv, strlen(csv), headers);
}

static void test_list_import_export(void **state)
{
    (void)state;
    /* one bad line refuses the whole file, naming the line */
    http_reply r = import_csv("devices", "value,reason,expires_at\r\nphone-1,ok,\r\n\"phone-2,broken\r\n",
                              "text/csv");
    httptest_expect(&r, 400, "INVALID_ARGUMENT");
    assert_non_null(strstr(r.body, "line 3"));
    httptest_reply_free(&r);
    r = import_csv("devices", "phone-1,ok,\r\n", "application/json");
    httptest_expect(&r, 415, "UNSUPPORTED_MEDIA_TYPE");
    httptest_reply_free(&r);
    r = import_csv("accounts", "bob,not an id,\r\n", "text/csv");
    httptest_expect(&r, 400, "INVALID_ARGUMENT");
    httptest_reply_free(&r);
    r = httptest_admin(&server, "GET", "/v1/risk/lists/devices", NULL, NULL);
    httptest_expect(&r, 200, NULL);
    size_t before = json_array_size(json_object_get(r.json, "data"));
    httptest_reply_free(&r);
    /* a partner's file: a quoted reason with a comma and quotes, a future expiry, one expired */
    r = import_csv("devices",
                   "value,reason,expires_at\r\n"
                   "shared-farm-1,\"farm, seen by \"\"partner\"\"\",\r\n"
                   "shared-farm-2,temporary,4102444800\r\n"
                   "shared-farm-3,long gone,1000000000\r\n",
                   "text/csv");
    httptest_expect(&r, 200, NULL);
    assert_int_equal(httptest_int(&r, "imported"), 2);
    httptest_reply_free(&r);
    r = httptest_admin(&server, "GET", "/v1/risk/lists/devices", NULL, NULL);
    httptest_expect(&r, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "data")), before + 2);
    httptest_reply_free(&r);
    r = httptest_admin(&server, "GET", "/v1/risk/lists/devices/export", NULL, NULL);
    httptest_expect(&r, 200, NULL);
    assert_non_null(strstr(r.headers, "text/csv"));
    assert_non_null(strstr(r.body, "\"shared-farm-1\",\"farm, seen by \"\"partner\"\"\",0,"));
    assert_non_null(strstr(r.body, "\"shared-farm-2\",\"temporary\",4102444800,"));
    assert_null(strstr(r.body, "shared-farm-3"));
    /* an export imports as it is (its created_at and created_by are ignored) */
    char *exported = strdup(r.body);
    httptest_reply_free(&r);
    r = import_csv("devices", exported, "text/csv");
    httptest_expect(&r, 200, NULL);
    assert_int_equal(httptest_int(&r, "imported"), (long long)before + 2);
    httptest_reply_free(&r);
    free(exported);
    /* a field too long is refused, not cut */
    char longer[400];
    memset(longer, 'x', 200);
    snprintf(longer + 200, sizeof longer - 200, ",reason,\r\n");
    r = import_csv("devices", longer, "text/csv");
    httptest_expect(&r, 400, "INVALID_ARGUMENT");
    httptest_reply_free(&r);
    /* and what was imported is enforced */
    char p1[32], t1[128], p2[32], t2[128];
    httptest_person(&server, "Imp1", 10000, p1, t1);
    httptest_person(&server, "Imp2", 10000, p2, t2);
    r = send_money(p1, p2, 100, "shared-farm-1");
    httptest_expect(&r, 403, "RISK_BLOCKED");
    httptest_reply_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_name_levels),
        cmocka_unit_test(test_provider_agreement),
        cmocka_unit_test(test_lists_and_cases),
        cmocka_unit_test(test_same_amount_fuse),
        cmocka_unit_test(test_large_transaction_report),
        cmocka_unit_test(test_list_import_export),
        cmocka_unit_test(test_multi_account_device),
        cmocka_unit_test(test_device_binding_claims),
        cmocka_unit_test(test_dispersion_review),
        cmocka_unit_test(test_static_cap_block),
        cmocka_unit_test(test_night_pattern),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
