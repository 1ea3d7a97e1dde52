/* Red packets end to end against the real server (and its PostgreSQL twin): creation and its
 * validation, claims and their rules, a hot packet grabbed by 1,000 concurrent claimers,
 * expiry racing claims and sweepers, fission packets, visibility, statistics. Every test
 * ends with the ledger check, which also proves that the packet escrow holds exactly the
 * open packets' remainders. */
#include <curl/curl.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "httptest.h"
#include "testutil.h"

static http_server_proc server;

static http_reply bearer(const char *token, const char *method, const char *path, const char *body)
{
    return httptest_bearer(&server, token, method, path, body, NULL);
}

static http_reply admin(const char *method, const char *path, const char *body)
{
    return httptest_admin(&server, method, path, body, NULL);
}

static long long balance_of(const char *id)
{
    char path[96];
    snprintf(path, sizeof path, "/v1/accounts/%s", id);
    http_reply r = admin("GET", path, NULL);
    httptest_expect(&r, 200, NULL);
    long long b = httptest_int(&r, "balance");
    httptest_reply_free(&r);
    return b;
}

static long long transfer_count(void)
{
    http_reply r = admin("GET", "/v1/ledger/check", NULL);
    httptest_expect(&r, 200, NULL);
    long long n = httptest_int(&r, "transfers");
    assert_int_equal(httptest_int(&r, "escrow_mismatches"), 0);
    httptest_reply_free(&r);
    return n;
}

/* Create a packet as `token` (a session) or, when token is NULL, with the admin key. */
static http_reply create_packet(const char *token, const char *body)
{
    return token ? bearer(token, "POST", "/v1/packets", body) : admin("POST", "/v1/packets", body);
}

static void packet_ok(const char *token, const char *body, char id[32], char claim_token[64])
{
    http_reply r = create_packet(token, body);
    httptest_expect(&r, 201, NULL);
    snprintf(id, 32, "%s", httptest_str(&r, "id"));
    snprintf(claim_token, 64, "%s", httptest_str(&r, "claim_token"));
    assert_int_equal(strlen(claim_token), 46);
    assert_string_equal(httptest_str(&r, "status"), "sent");
    httptest_reply_free(&r);
}

static http_reply claim_as(const char *who, const char *pkt_id, const char *token,
                           const char *extra_header)
{
    char path[96], body[160];
    snprintf(path, sizeof path, "/v1/packets/%s/claims", pkt_id);
    if (token) {
        snprintf(body, sizeof body, "{\"token\":\"%s\"}", token);
    } else {
        snprintf(body, sizeof body, "{}");
    }
    return httptest_bearer(&server, who, "POST", path, body, extra_header);
}

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

/* ---- creation ---------------------------------------------------------------------------- */

static void test_create_validation(void **state)
{
    (void)state;
    char alice[32], alice_token[128], bob[32], bob_token[128];
    httptest_person(&server, "Alice", 50000, alice, alice_token);
    httptest_person(&server, "Bob", 0, bob, bob_token);
    long long before = transfer_count();
    static const struct {
        const char *body;
        long status;
        const char *code;
    } refusals[] = {
        {"{\"total\":100,\"count\":0}", 400, "INVALID_ARGUMENT"},
        {"{\"total\":100,\"count\":100001}", 400, "INVALID_ARGUMENT"},
        {"{\"total\":20000,\"count\":101}", 400, "INVALID_ARGUMENT"}, /* personal: 100 shares */
        {"{\"total\":5,\"count\":6}", 400, "INVALID_ARGUMENT"},       /* below 1 fen a share */
        {"{\"total\":100,\"count\":3,\"mode\":\"fixed\"}", 400, "INVALID_ARGUMENT"},
        {"{\"total\":100,\"count\":3,\"mode\":\"lucky\"}", 400, "INVALID_ARGUMENT"},
        {"{\"total\":100,\"count\":3,\"expires_in\":5}", 400, "INVALID_ARGUMENT"},
        {"{\"total\":100,\"count\":3,\"expires_in\":604801}", 400, "INVALID_ARGUMENT"},
        {"{\"total\":100,\"count\":3,\"scene\":\"funeral\"}", 400, "INVALID_ARGUMENT"},
        {"{\"total\":100,\"count\":3,\"wishing\":\"今天免单啦\"}", 400, "INVALID_MESSAGE"},
        {"{\"total\":100,\"count\":3,\"wishing\":\"全额返现\"}", 400, "INVALID_MESSAGE"},
        /* a zero-width space hiding a banned phrase */
        {"{\"total\":100,\"count\":3,\"wishing\":\"免\\u200b单\"}", 400, "INVALID_MESSAGE"},
        {"{\"total\":100,\"count\":3,\"wishing\":\"hi\\ufeff\"}", 400, "INVALID_MESSAGE"},
        {"{\"total\":100,\"count\":3,\"colour\":\"red\"}", 400, "INVALID_ARGUMENT"},
        {"{\"total\":-1,\"count\":3}", 400, "INVALID_ARGUMENT"},
        {"{\"total\":20001,\"count\":3}", 403, "LIMIT_EXCEEDED"}, /* personal single 200.00 */
        /* a personal sender may not send fission packets at all */
        {"{\"total\":100,\"count\":3,\"fission\":true,\"seed\":\"acct_1\"}", 403, "FORBIDDEN"},
        {"{\"total\":100,\"count\":3,\"sender\":\"acct_999\"}", 404, "NOT_FOUND"},
    };
    for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++) {
        http_reply r = create_packet(alice_token, refusals[i].body);
        httptest_expect(&r, refusals[i].status, refusals[i].code);
        httptest_reply_free(&r);
    }
    /* 128 characters are fine, 129 are not (counted as characters, not bytes) */
    char wishing[1024] = "";
    for (int i = 0; i < 128; i++) strcat(wishing, "福");
    char body[1200];
    snprintf(body, sizeof body, "{\"total\":100,\"count\":2,\"wishing\":\"%s\"}", wishing);
    char id[32], tok[64];
    packet_ok(alice_token, body, id, tok);
    strcat(wishing, "福");
    snprintf(body, sizeof body, "{\"total\":100,\"count\":2,\"wishing\":\"%s\"}", wishing);
    http_reply r = create_packet(alice_token, body);
    httptest_expect(&r, 400, "INVALID_ARGUMENT");
    httptest_reply_free(&r);
    /* no money: 409 and no packet, no transfer */
    r = create_packet(bob_token, "{\"total\":100,\"count\":2}");
    httptest_expect(&r, 409, "INSUFFICIENT_FUNDS");
    httptest_reply_free(&r);
    r = bearer(bob_token, "GET", "/v1/packets", NULL);
    httptest_expect(&r, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "data")), 0);
    httptest_reply_free(&r);
    /* only the one valid packet moved money */
    assert_int_equal(transfer_count(), before + 1);
    assert_int_equal(balance_of(alice), 50000 - 100);
    /* support keys are read-only */
    char key[64] = "", secret[96] = "";
    r = admin("POST", "/v1/keys", "{\"role\":\"support\"}");
    httptest_expect(&r, 201, NULL);
    snprintf(key, sizeof key, "%s", httptest_str(&r, "key_id"));
    snprintf(secret, sizeof secret, "%s", httptest_str(&r, "secret"));
    httptest_reply_free(&r);
    char sbody[128];
    snprintf(sbody, sizeof sbody, "{\"sender\":\"%s\",\"total\":100,\"count\":2}", alice);
    r = httptest_signed(&server, key, secret, "POST", "/v1/packets", sbody, NULL);
    httptest_expect(&r, 403, "FORBIDDEN");
    httptest_reply_free(&r);
    /* a person cannot send from someone else's wallet */
    snprintf(sbody, sizeof sbody, "{\"sender\":\"%s\",\"total\":100,\"count\":2}", alice);
    r = create_packet(bob_token, sbody);
    httptest_expect(&r, 404, "NOT_FOUND");
    httptest_reply_free(&r);
}

static void test_scenes_and_defaults(void **state)
{
    (void)state;
    char carol[32], carol_token[128];
    httptest_person(&server, "Carol", 100000, carol, carol_token);
    http_reply r = bearer(carol_token, "GET", "/v1/scenes", NULL);
    httptest_expect(&r, 200, NULL);
    json_t *data = json_object_get(r.json, "data");
    bool wedding = false;
    for (size_t i = 0; i < json_array_size(data); i++) {
        json_t *s = json_array_get(data, i);
        if (strcmp(json_string_value(json_object_get(s, "scene")), "wedding") != 0) continue;
        json_t *range = json_object_get(s, "suggested_total");
        assert_int_equal(json_integer_value(json_object_get(range, "min")), 20000);
        assert_int_equal(json_integer_value(json_object_get(range, "max")), 50000);
        wedding = true;
    }
    assert_true(wedding);
    httptest_reply_free(&r);
    r = create_packet(carol_token, "{\"total\":10000,\"count\":4,\"scene\":\"wedding\"}");
    httptest_expect(&r, 201, NULL);
    assert_string_equal(httptest_str(&r, "wishing"), "百年好合，永结同心");
    assert_string_equal(httptest_str(&r, "scene"), "wedding");
    /* the claim link is the public url with the token, and the QR carries it */
    char url[256];
    snprintf(url, sizeof url, "/c/%s", httptest_str(&r, "claim_token"));
    assert_non_null(strstr(httptest_str(&r, "claim_url"), url));
    assert_string_equal(httptest_str(&r, "qr_text"), httptest_str(&r, "claim_url"));
    httptest_reply_free(&r);
    r = create_packet(carol_token, "{\"total\":100,\"count\":4,\"wishing\":\"\"}");
    httptest_expect(&r, 201, NULL);
    assert_string_equal(httptest_str(&r, "wishing"), "恭喜发财，大吉大利");
    httptest_reply_free(&r);
    /* fixed mode: equal shares */
    char id[32], tok[64];
    packet_ok(carol_token, "{\"total\":300,\"count\":3,\"mode\":\"fixed\"}", id, tok);
    for (int i = 0; i < 3; i++) {
        char name[16], pid[32], ptoken[128];
        snprintf(name, sizeof name, "Fixed%d", i);
        httptest_person(&server, name, 0, pid, ptoken);
        r = claim_as(ptoken, id, tok, NULL);
        httptest_expect(&r, 201, NULL);
        assert_int_equal(httptest_int(&r, "amount"), 100);
        httptest_reply_free(&r);
        assert_int_equal(balance_of(pid), 100);
    }
}

/* ---- claims -------------------------------------------------------------------------------- */

static void test_claim_rules(void **state)
{
    (void)state;
    char s_id[32], s_tok[128];
    httptest_person(&server, "Sender", 100000, s_id, s_tok);
    char ids[5][32], toks[5][128];
    for (int i = 0; i < 5; i++) {
        char name[16];
        snprintf(name, sizeof name, "Grabber%d", i);
        httptest_person(&server, name, 0, ids[i], toks[i]);
    }
    char pkt[32], token[64];
    packet_ok(s_tok, "{\"total\":1000,\"count\":3}", pkt, token);
    assert_int_equal(balance_of(s_id), 100000 - 1000);
    /* a missing, malformed, altered or other packet's token reads as no such packet */
    http_reply r = claim_as(toks[0], pkt, NULL, NULL);
    httptest_expect(&r, 404, "NOT_FOUND");
    httptest_reply_free(&r);
    r = claim_as(toks[0], pkt, "nonsense", NULL);
    httptest_expect(&r, 404, "NOT_FOUND");
    httptest_reply_free(&r);
    char altered[64];
    snprintf(altered, sizeof altered, "%s", token);
    altered[20] = altered[20] == 'A' ? 'B' : 'A';
    r = claim_as(toks[0], pkt, altered, NULL);
    httptest_expect(&r, 404, "NOT_FOUND");
    httptest_reply_free(&r);
    char other[32], other_token[64];
    packet_ok(s_tok, "{\"total\":10,\"count\":1}", other, other_token);
    r = claim_as(toks[0], pkt, other_token, NULL);
    httptest_expect(&r, 404, "NOT_FOUND");
    httptest_reply_free(&r);
    r = claim_as(toks[0], "pkt_999999", token, NULL);
    httptest_expect(&r, 404, "NOT_FOUND");
    httptest_reply_free(&r);
    /* the sender may not claim its own packet */
    r = claim_as(s_tok, pkt, token, NULL);
    httptest_expect(&r, 403, "FORBIDDEN");
    httptest_reply_free(&r);
    /* first claim, then the same key replays it and a second claim is refused */
    long long amounts[3] = {0};
    r = claim_as(toks[0], pkt, token, "Idempotency-Key: grab-0");
    httptest_expect(&r, 201, NULL);
    amounts[0] = httptest_int(&r, "amount");
    char first_id[32];
    snprintf(first_id, sizeof first_id, "%s", httptest_str(&r, "id"));
    assert_int_equal(httptest_int(&r, "rank"), 1);
    httptest_reply_free(&r);
    r = claim_as(toks[0], pkt, token, "Idempotency-Key: grab-0");
    httptest_expect(&r, 201, NULL);
    assert_string_equal(httptest_str(&r, "id"), first_id);
    assert_int_equal(httptest_int(&r, "amount"), amounts[0]);
    httptest_reply_free(&r);
    r = claim_as(toks[0], pkt, token, NULL);
    httptest_expect(&r, 409, "ALREADY_CLAIMED");
    httptest_reply_free(&r);
    for (int i = 1; i < 3; i++) {
        r = claim_as(toks[i], pkt, token, NULL);
        httptest_expect(&r, 201, NULL);
        amounts[i] = httptest_int(&r, "amount");
        assert_int_equal(httptest_int(&r, "rank"), i + 1);
        assert_true(amounts[i] >= 1);
        assert_int_equal(balance_of(ids[i]), amounts[i]);
        if (i == 2) assert_string_equal(httptest_str(&r, "packet_status"), "claimed_out");
        httptest_reply_free(&r);
    }
    assert_int_equal(amounts[0] + amounts[1] + amounts[2], 1000);
    r = claim_as(toks[3], pkt, token, NULL);
    httptest_expect(&r, 410, "PACKET_EMPTY");
    httptest_reply_free(&r);
    /* a claimer who already claimed still hears ALREADY_CLAIMED, not EMPTY */
    r = claim_as(toks[1], pkt, token, NULL);
    httptest_expect(&r, 409, "ALREADY_CLAIMED");
    httptest_reply_free(&r);
    /* the sender sees every claim, one best luck, the claimers' ids hidden from it */
    char path[96];
    snprintf(path, sizeof path, "/v1/packets/%s", pkt);
    r = bearer(s_tok, "GET", path, NULL);
    httptest_expect(&r, 200, NULL);
    assert_string_equal(httptest_str(&r, "status"), "claimed_out");
    assert_int_equal(httptest_int(&r, "claimed_amount"), 1000);
    json_t *claims = json_object_get(r.json, "claims");
    assert_int_equal(json_array_size(claims), 3);
    int best = 0;
    long long max = 0;
    for (size_t i = 0; i < 3; i++) {
        json_t *c = json_array_get(claims, i);
        if (json_integer_value(json_object_get(c, "amount")) > max) {
            max = json_integer_value(json_object_get(c, "amount"));
        }
        if (json_is_true(json_object_get(c, "best_luck"))) {
            best++;
            assert_int_equal(json_integer_value(json_object_get(c, "amount")),
                             amounts[0] > amounts[1] ? (amounts[0] > amounts[2] ? amounts[0] : amounts[2])
                                                     : (amounts[1] > amounts[2] ? amounts[1] : amounts[2]));
        }
        assert_true(json_is_null(json_object_get(c, "claimer")));
        assert_non_null(strchr(json_string_value(json_object_get(c, "claimer_name")), '*'));
    }
    assert_int_equal(best, 1);
    assert_string_equal(httptest_str(&r, "claim_token"), token);
    httptest_reply_free(&r);
    /* a claimer sees its own id only; an outsider sees nothing without the link */
    r = bearer(toks[1], "GET", path, NULL);
    httptest_expect(&r, 200, NULL);
    claims = json_object_get(r.json, "claims");
    assert_true(json_is_null(json_object_get(json_array_get(claims, 0), "claimer")));
    assert_string_equal(json_string_value(json_object_get(json_array_get(claims, 1), "claimer")),
                        ids[1]);
    assert_null(json_object_get(r.json, "claim_token"));
    httptest_reply_free(&r);
    r = bearer(toks[4], "GET", path, NULL);
    httptest_expect(&r, 404, "NOT_FOUND");
    httptest_reply_free(&r);
    char with_token[256];
    snprintf(with_token, sizeof with_token, "%s?token=%s", path, token);
    r = bearer(toks[4], "GET", with_token, NULL);
    httptest_expect(&r, 200, NULL);
    assert_null(json_object_get(r.json, "claim_token"));
    httptest_reply_free(&r);
    /* a packet that allows it may be claimed by its sender */
    char own[32], own_token[64];
    packet_ok(s_tok, "{\"total\":50,\"count\":2,\"allow_sender_claim\":true}", own, own_token);
    r = claim_as(s_tok, own, own_token, NULL);
    httptest_expect(&r, 201, NULL);
    httptest_reply_free(&r);
    /* a merchant key claims only for its own wallet; support claims nothing */
    r = admin("POST", "/v1/accounts", "{\"tier\":\"enterprise\",\"name\":\"Shop\"}");
    httptest_expect(&r, 201, NULL);
    char shop[32];
    snprintf(shop, sizeof shop, "%s", httptest_str(&r, "id"));
    httptest_reply_free(&r);
    char mbody[96], key[64], secret[96];
    snprintf(mbody, sizeof mbody, "{\"role\":\"merchant\",\"account\":\"%s\"}", shop);
    r = admin("POST", "/v1/keys", mbody);
    httptest_expect(&r, 201, NULL);
    snprintf(key, sizeof key, "%s", httptest_str(&r, "key_id"));
    snprintf(secret, sizeof secret, "%s", httptest_str(&r, "secret"));
    httptest_reply_free(&r);
    char cbody[160], cpath[96];
    snprintf(cpath, sizeof cpath, "/v1/packets/%s/claims", own);
    snprintf(cbody, sizeof cbody, "{\"token\":\"%s\",\"claimer\":\"%s\"}", own_token, ids[4]);
    r = httptest_signed(&server, key, secret, "POST", cpath, cbody, NULL);
    httptest_expect(&r, 404, "NOT_FOUND");
    httptest_reply_free(&r);
    snprintf(cbody, sizeof cbody, "{\"token\":\"%s\"}", own_token);
    r = httptest_signed(&server, key, secret, "POST", cpath, cbody, NULL);
    httptest_expect(&r, 201, NULL);
    assert_string_equal(httptest_str(&r, "claimer"), shop);
    httptest_reply_free(&r);
}

/* ---- a hot packet --------------------------------------------------------------------------- */

#define HOT_CLAIMERS 1000
#define HOT_SHARES 100
#define HOT_THREADS 100

typedef struct grabber {
    int first, step;
    const char *packet;
    const char *token;
    char (*ids)[32];
    long *status;
    long long *amount;
    pthread_barrier_t *go;
} grabber;

static void *run_grabber(void *arg)
{
    grabber *g = arg;
    pthread_barrier_wait(g->go);
    char path[96], body[192];
    snprintf(path, sizeof path, "/v1/packets/%s/claims", g->packet);
    for (int i = g->first; i < HOT_CLAIMERS; i += g->step) {
        snprintf(body, sizeof body, "{\"token\":\"%s\",\"claimer\":\"%s\"}", g->token, g->ids[i]);
        http_reply r = admin("POST", path, body);
        g->status[i] = r.status;
        if (r.status == 201) {
            g->amount[i] = httptest_int(&r, "amount");
        } else if (r.status != 410 || strcmp(httptest_error_code(&r), "PACKET_EMPTY") != 0) {
            fprintf(stderr, "claim %d: %ld %s\n", i, r.status, r.body);
        }
        httptest_reply_free(&r);
    }
    return NULL;
}

typedef struct creator {
    int first, step, n;
    char (*ids)[32];
} creator;

static void *run_creator(void *arg)
{
    creator *c = arg;
    for (int i = c->first; i < c->n; i += c->step) {
        char body[96];
        snprintf(body, sizeof body, "{\"tier\":\"personal\",\"name\":\"抢%d\"}", i);
        http_reply r = admin("POST", "/v1/accounts", body);
        assert_int_equal(r.status, 201);
        snprintf(c->ids[i], 32, "%s", httptest_str(&r, "id"));
        httptest_reply_free(&r);
    }
    return NULL;
}

static void create_people(char (*ids)[32], int n)
{
    creator cs[16];
    pthread_t th[16];
    for (int i = 0; i < 16; i++) {
        cs[i] = (creator){.first = i, .step = 16, .n = n, .ids = ids};
        assert_int_equal(pthread_create(&th[i], NULL, run_creator, &cs[i]), 0);
    }
    for (int i = 0; i < 16; i++) pthread_join(th[i], NULL);
}

static void test_hot_packet(void **state)
{
    (void)state;
    char (*ids)[32] = calloc(HOT_CLAIMERS, 32);
    long *status = calloc(HOT_CLAIMERS, sizeof *status);
    long long *amount = calloc(HOT_CLAIMERS, sizeof *amount);
    assert_non_null(ids);
    create_people(ids, HOT_CLAIMERS);
    char sender[32], sender_token[128];
    httptest_person(&server, "Hot", 20000, sender, sender_token);
    char pkt[32], token[64];
    packet_ok(sender_token, "{\"total\":20000,\"count\":100}", pkt, token);
    long long transfers_before = transfer_count();
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, HOT_THREADS);
    grabber gs[HOT_THREADS];
    pthread_t th[HOT_THREADS];
    for (int i = 0; i < HOT_THREADS; i++) {
        gs[i] = (grabber){.first = i, .step = HOT_THREADS, .packet = pkt, .token = token,
                          .ids = ids, .status = status, .amount = amount, .go = &go};
        assert_int_equal(pthread_create(&th[i], NULL, run_grabber, &gs[i]), 0);
    }
    for (int i = 0; i < HOT_THREADS; i++) pthread_join(th[i], NULL);
    pthread_barrier_destroy(&go);
    int winners = 0, empty = 0;
    long long sum = 0;
    for (int i = 0; i < HOT_CLAIMERS; i++) {
        if (status[i] == 201) {
            winners++;
            sum += amount[i];
            assert_true(amount[i] >= 1);
            assert_int_equal(balance_of(ids[i]), amount[i]);
        } else {
            assert_int_equal(status[i], 410);
            empty++;
        }
    }
    assert_int_equal(winners, HOT_SHARES);
    assert_int_equal(empty, HOT_CLAIMERS - HOT_SHARES);
    assert_int_equal(sum, 20000);
    /* exactly one transfer per winner, and the packet's own account of it agrees */
    assert_int_equal(transfer_count(), transfers_before + HOT_SHARES);
    char path[128];
    snprintf(path, sizeof path, "/v1/packets/%s?claims_limit=100", pkt);
    http_reply r = bearer(sender_token, "GET", path, NULL);
    httptest_expect(&r, 200, NULL);
    assert_string_equal(httptest_str(&r, "status"), "claimed_out");
    assert_int_equal(httptest_int(&r, "claimed_count"), HOT_SHARES);
    assert_int_equal(httptest_int(&r, "claimed_amount"), 20000);
    json_t *claims = json_object_get(r.json, "claims");
    assert_int_equal(json_array_size(claims), HOT_SHARES);
    for (size_t i = 0; i < HOT_SHARES; i++) {
        assert_int_equal(json_integer_value(json_object_get(json_array_get(claims, i), "rank")),
                         (long long)i + 1);
    }
    httptest_reply_free(&r);
    char sql[128], out[64];
    snprintf(sql, sizeof sql, "SELECT COUNT(DISTINCT claimer_id) FROM claims WHERE packet_id = %s",
             pkt + 4);
    httptest_sql(&server, sql, out, sizeof out);
    assert_int_equal(atoll(out), HOT_SHARES);
    assert_true(httptest_balanced(&server));
    free(ids);
    free(status);
    free(amount);
}

/* ---- expiry ------------------------------------------------------------------------------ */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct racer {
    const char *packet;
    const char *token;
    char (*ids)[32];
    int first, step, n;
    double start;
    long *status;
    long long *amount;
} racer;

static void *run_racer(void *arg)
{
    racer *g = arg;
    char path[96], body[192];
    snprintf(path, sizeof path, "/v1/packets/%s/claims", g->packet);
    for (int i = g->first; i < g->n; i += g->step) {
        /* spread the claims over the two seconds around the expiry */
        double at = g->start + 2.0 * i / g->n;
        while (now_s() < at) usleep(2000);
        snprintf(body, sizeof body, "{\"token\":\"%s\",\"claimer\":\"%s\"}", g->token, g->ids[i]);
        http_reply r = admin("POST", path, body);
        g->status[i] = r.status;
        if (r.status == 201) g->amount[i] = httptest_int(&r, "amount");
        if (r.status != 201 && (r.status != 410 || strcmp(httptest_error_code(&r), "PACKET_EXPIRED") != 0)) {
            fprintf(stderr, "racing claim %d: %ld %s\n", i, r.status, r.body);
        }
        httptest_reply_free(&r);
    }
    return NULL;
}

/* `hongbao sweep` run by another process, again and again until the deadline. */
static pid_t start_sweeper(double until)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char bin[600];
        snprintf(bin, sizeof bin, "%s", getenv("HONGBAO_BIN"));
        while (now_s() < until) {
            pid_t child = fork();
            if (child == 0) {
                int devnull = open("/dev/null", 1);
                if (devnull >= 0) dup2(devnull, 1);
                execl(bin, bin, "sweep", "--db", server.db, (char *)NULL);
                _exit(127);
            }
            int st = 0;
            waitpid(child, &st, 0);
            /* 0: all refunded (or nothing due) */
            if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) _exit(1);
            usleep(50000);
        }
        _exit(0);
    }
    return pid;
}

static void test_expiry_races_claims(void **state)
{
    (void)state;
    enum { RACERS = 60, THREADS = 12 };
    char (*ids)[32] = calloc(RACERS, 32);
    long status[RACERS] = {0};
    long long amount[RACERS] = {0};
    create_people(ids, RACERS);
    char sender[32], sender_token[128];
    httptest_person(&server, "Expiring", 10000, sender, sender_token);
    char pkt[32], token[64];
    double created = now_s();
    packet_ok(sender_token, "{\"total\":10000,\"count\":100,\"expires_in\":10}", pkt, token);
    /* claims and two sweepers run across the expiry */
    double start = created + 9.0;
    pid_t sweepers[2] = {start_sweeper(created + 12.0), start_sweeper(created + 12.0)};
    racer rs[THREADS];
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) {
        rs[i] = (racer){.packet = pkt, .token = token, .ids = ids, .first = i, .step = THREADS,
                        .n = RACERS, .start = start, .status = status, .amount = amount};
        assert_int_equal(pthread_create(&th[i], NULL, run_racer, &rs[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < 2; i++) {
        int st = 0;
        assert_int_equal(waitpid(sweepers[i], &st, 0), sweepers[i]);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    /* a last sweep, in case both finished just before the server's own */
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "%s sweep --db '%s' > /dev/null", getenv("HONGBAO_BIN"), server.db);
    assert_int_equal(system(cmd), 0);
    long long claimed = 0;
    int winners = 0, expired = 0;
    for (int i = 0; i < RACERS; i++) {
        if (status[i] == 201) {
            winners++;
            claimed += amount[i];
        } else {
            assert_int_equal(status[i], 410);
            expired++;
        }
    }
    char path[96];
    snprintf(path, sizeof path, "/v1/packets/%s", pkt);
    http_reply r = bearer(sender_token, "GET", path, NULL);
    httptest_expect(&r, 200, NULL);
    assert_string_equal(httptest_str(&r, "status"), "refunded");
    assert_int_equal(httptest_int(&r, "claimed_count"), winners);
    assert_int_equal(httptest_int(&r, "claimed_amount"), claimed);
    assert_int_equal(httptest_int(&r, "refunded_amount"), 10000 - claimed);
    httptest_reply_free(&r);
    /* the sender got the remainder back exactly once */
    assert_int_equal(balance_of(sender), 10000 - claimed);
    char sql[160], out[64];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM transfers WHERE kind = 6 AND reference = '%s'",
             pkt);
    httptest_sql(&server, sql, out, sizeof out);
    assert_int_equal(atoll(out), 1);
    fprintf(stderr, "expiry race: %d claimed, %d expired\n", winners, expired);
    assert_true(winners > 0 && expired > 0); /* the race really straddled the expiry */
    /* a claim after the refund is expired too */
    char late[32], late_tok[128];
    httptest_person(&server, "Late", 0, late, late_tok);
    r = claim_as(late_tok, pkt, token, NULL);
    httptest_expect(&r, 410, "PACKET_EXPIRED");
    httptest_reply_free(&r);
    free(ids);
}

/* Refunds the sweeper cannot make (a frozen sender) never hold up the others, however many;
 * they are made once the sender is unfrozen; an account with open packets cannot close. */
static int cli(const char *args)
{
    char cmd[1600];
    snprintf(cmd, sizeof cmd, "%s %s --db '%s' > /dev/null 2>&1", getenv("HONGBAO_BIN"), args,
             server.db);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_refunds_not_held_up(void **state)
{
    (void)state;
    enum { STUCK = 520 }; /* more than a sweep's page of 500 */
    char frozen[32], frozen_tok[128], other[32], other_tok[128];
    httptest_person(&server, "Frozen", STUCK, frozen, frozen_tok);
    httptest_person(&server, "NotFrozen", 500, other, other_tok);
    for (int i = 0; i < STUCK; i++) {
        http_reply r = create_packet(frozen_tok, "{\"total\":1,\"count\":1,\"expires_in\":10}");
        httptest_expect(&r, 201, NULL);
        httptest_reply_free(&r);
    }
    char pkt[32], token[64];
    packet_ok(other_tok, "{\"total\":500,\"count\":5,\"expires_in\":10}", pkt, token);
    char args[96];
    snprintf(args, sizeof args, "account close %s", other);
    assert_int_equal(cli(args), 1); /* an open packet: refused */
    snprintf(args, sizeof args, "account freeze %s", frozen);
    assert_int_equal(cli(args), 0);
    sleep(11);
    /* the server's own sweeper may have run; either way the other sender is paid back */
    assert_int_equal(cli("sweep"), 1); /* exit 1: some refunds were refused */
    char path[96];
    snprintf(path, sizeof path, "/v1/packets/%s", pkt);
    http_reply r = bearer(other_tok, "GET", path, NULL);
    httptest_expect(&r, 200, NULL);
    assert_string_equal(httptest_str(&r, "status"), "refunded");
    httptest_reply_free(&r);
    assert_int_equal(balance_of(other), 500);
    snprintf(args, sizeof args, "account unfreeze %s", frozen);
    assert_int_equal(cli(args), 0);
    assert_int_equal(cli("sweep"), 0);
    assert_int_equal(balance_of(frozen), STUCK);
    char sql[160], out[32];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM packets WHERE sender_id = %s AND status = 3",
             frozen + 5);
    httptest_sql(&server, sql, out, sizeof out);
    assert_int_equal(atoi(out), STUCK);
    assert_true(httptest_balanced(&server));
}

/* ---- fission ------------------------------------------------------------------------------ */

static void test_fission(void **state)
{
    (void)state;
    http_reply r = admin("POST", "/v1/accounts", "{\"tier\":\"enterprise\",\"name\":\"Brand\"}");
    httptest_expect(&r, 201, NULL);
    char brand[32];
    snprintf(brand, sizeof brand, "%s", httptest_str(&r, "id"));
    httptest_reply_free(&r);
    char path[96], body[256];
    snprintf(path, sizeof path, "/v1/accounts/%s/topup", brand);
    r = admin("POST", path, "{\"amount\":100000,\"external_ref\":\"brand-fund\"}");
    httptest_expect(&r, 201, NULL);
    httptest_reply_free(&r);
    char seed[32], seed_tok[128], friends[4][32], friend_tok[4][128];
    httptest_person(&server, "Seed", 0, seed, seed_tok);
    for (int i = 0; i < 4; i++) {
        char name[16];
        snprintf(name, sizeof name, "Friend%d", i);
        httptest_person(&server, name, 0, friends[i], friend_tok[i]);
    }
    /* 3..20 shares, a seed other than the sender */
    snprintf(body, sizeof body, "{\"sender\":\"%s\",\"total\":1000,\"count\":21,\"fission\":true,\"seed\":\"%s\"}",
             brand, seed);
    r = admin("POST", "/v1/packets", body);
    httptest_expect(&r, 400, "INVALID_ARGUMENT");
    httptest_reply_free(&r);
    snprintf(body, sizeof body, "{\"sender\":\"%s\",\"total\":1000,\"count\":5,\"fission\":true}", brand);
    r = admin("POST", "/v1/packets", body);
    httptest_expect(&r, 400, "INVALID_ARGUMENT");
    httptest_reply_free(&r);
    snprintf(body, sizeof body, "{\"sender\":\"%s\",\"total\":1000,\"count\":4,\"fission\":true,\"seed\":\"%s\"}",
             brand, seed);
    char pkt[32], token[64];
    packet_ok(NULL, body, pkt, token);
    /* only the seed opens it first; to anyone else its claim link is a wrong token */
    r = claim_as(friend_tok[0], pkt, token, NULL);
    httptest_expect(&r, 404, "NOT_FOUND");
    httptest_reply_free(&r);
    r = claim_as(seed_tok, pkt, token, NULL);
    httptest_expect(&r, 201, NULL);
    char share[64];
    snprintf(share, sizeof share, "%s", httptest_str(&r, "share_token"));
    assert_int_equal(strlen(share), 46);
    assert_string_not_equal(share, token);
    assert_non_null(strstr(httptest_str(&r, "share_url"), share));
    httptest_reply_free(&r);
    r = claim_as(seed_tok, pkt, token, NULL);
    httptest_expect(&r, 409, "ALREADY_CLAIMED");
    httptest_reply_free(&r);
    /* the claim link still admits no one else; the share link does */
    r = claim_as(friend_tok[0], pkt, token, NULL);
    httptest_expect(&r, 404, "NOT_FOUND");
    httptest_reply_free(&r);
    /* a seed that lost the share link gets it again from the packet */
    char seed_path[96];
    snprintf(seed_path, sizeof seed_path, "/v1/packets/%s", pkt);
    r = bearer(seed_tok, "GET", seed_path, NULL);
    httptest_expect(&r, 200, NULL);
    assert_string_equal(httptest_str(&r, "share_token"), share);
    httptest_reply_free(&r);
    r = bearer(friend_tok[0], "GET", seed_path, NULL);
    httptest_expect(&r, 404, "NOT_FOUND");
    httptest_reply_free(&r);
    char altered[64];
    snprintf(altered, sizeof altered, "%s", share);
    altered[30] = altered[30] == 'x' ? 'y' : 'x';
    r = claim_as(friend_tok[0], pkt, altered, NULL);
    httptest_expect(&r, 404, "NOT_FOUND");
    httptest_reply_free(&r);
    long long sum = 0;
    for (int i = 0; i < 3; i++) {
        r = claim_as(friend_tok[i], pkt, share, NULL);
        httptest_expect(&r, 201, NULL);
        sum += httptest_int(&r, "amount");
        assert_null(json_object_get(r.json, "share_token"));
        httptest_reply_free(&r);
    }
    r = claim_as(friend_tok[3], pkt, share, NULL);
    httptest_expect(&r, 410, "PACKET_EMPTY");
    httptest_reply_free(&r);
    snprintf(path, sizeof path, "/v1/packets/%s", pkt);
    r = admin("GET", path, NULL);
    httptest_expect(&r, 200, NULL);
    assert_string_equal(httptest_str(&r, "status"), "claimed_out");
    assert_int_equal(httptest_int(&r, "claimed_amount"), 1000);
    assert_string_equal(httptest_str(&r, "seed"), seed);
    httptest_reply_free(&r);
    assert_true(sum < 1000);
}

/* ---- statistics and listing ------------------------------------------------------------------ */

static void merchant(const char *name, long long funding, char id[32], char key[64],
                     char secret[96])
{
    char body[128];
    snprintf(body, sizeof body, "{\"tier\":\"enterprise\",\"name\":\"%s\"}", name);
    http_reply r = admin("POST", "/v1/accounts", body);
    httptest_expect(&r, 201, NULL);
    snprintf(id, 32, "%s", httptest_str(&r, "id"));
    httptest_reply_free(&r);
    char path[96];
    snprintf(path, sizeof path, "/v1/accounts/%s/topup", id);
    snprintf(body, sizeof body, "{\"amount\":%lld,\"external_ref\":\"fund-%s\"}", funding, id);
    r = admin("POST", path, body);
    httptest_expect(&r, 201, NULL);
    httptest_reply_free(&r);
    snprintf(body, sizeof body, "{\"role\":\"merchant\",\"account\":\"%s\"}", id);
    r = admin("POST", "/v1/keys", body);
    httptest_expect(&r, 201, NULL);
    snprintf(key, 64, "%s", httptest_str(&r, "key_id"));
    snprintf(secret, 96, "%s", httptest_str(&r, "secret"));
    httptest_reply_free(&r);
}

static void test_stats_and_scope(void **state)
{
    (void)state;
    char m1[32], k1[64], s1[96], m2[32], k2[64], s2[96];
    merchant("StatsShop", 1000000, m1, k1, s1);
    merchant("OtherShop", 1000000, m2, k2, s2);
    char pkts[3][32], toks[3][64];
    static const char *const bodies[3] = {
        "{\"total\":1000,\"count\":4,\"scene\":\"marketing\"}",
        "{\"total\":600,\"count\":3,\"mode\":\"fixed\",\"scene\":\"thanks\"}",
        "{\"total\":50000,\"count\":2,\"scene\":\"marketing\"}"};
    for (int i = 0; i < 3; i++) {
        http_reply r = httptest_signed(&server, k1, s1, "POST", "/v1/packets", bodies[i], NULL);
        httptest_expect(&r, 201, NULL);
        snprintf(pkts[i], 32, "%s", httptest_str(&r, "id"));
        snprintf(toks[i], 64, "%s", httptest_str(&r, "claim_token"));
        httptest_reply_free(&r);
    }
    http_reply r = httptest_signed(&server, k2, s2, "POST", "/v1/packets",
                                   "{\"total\":999,\"count\":3,\"scene\":\"marketing\"}", NULL);
    httptest_expect(&r, 201, NULL);
    httptest_reply_free(&r);
    /* two claims of the first packet (1000/4), all three of the second (200 each) */
    long long claimed = 0;
    for (int i = 0; i < 5; i++) {
        char name[16], pid[32], ptok[128];
        snprintf(name, sizeof name, "Fan%d", i);
        httptest_person(&server, name, 0, pid, ptok);
        int which = i < 2 ? 0 : 1;
        r = claim_as(ptok, pkts[which], toks[which], NULL);
        httptest_expect(&r, 201, NULL);
        claimed += httptest_int(&r, "amount");
        httptest_reply_free(&r);
    }
    r = httptest_signed(&server, k1, s1, "GET", "/v1/stats/packets", NULL, NULL);
    httptest_expect(&r, 200, NULL);
    assert_int_equal(httptest_int(&r, "sent_count"), 3);
    assert_int_equal(httptest_int(&r, "sent_amount"), 51600);
    assert_int_equal(httptest_int(&r, "shares"), 9);
    assert_int_equal(httptest_int(&r, "claimed_count"), 5);
    assert_int_equal(httptest_int(&r, "claimed_amount"), claimed);
    assert_int_equal(httptest_int(&r, "claim_rate_bp"), 5 * 10000 / 9);
    long long in_histogram = 0, hist_200 = 0;
    json_t *hist = json_object_get(r.json, "histogram");
    for (size_t i = 0; i < json_array_size(hist); i++) {
        json_t *b = json_array_get(hist, i);
        in_histogram += json_integer_value(json_object_get(b, "count"));
        if (json_integer_value(json_object_get(b, "min")) == 100) {
            hist_200 = json_integer_value(json_object_get(b, "count"));
        }
    }
    assert_int_equal(in_histogram, 5);
    assert_true(hist_200 >= 3); /* the three fixed shares of 200 */
    json_t *hours = json_object_get(r.json, "claims_per_hour");
    long long per_hour = 0;
    for (size_t i = 0; i < json_array_size(hours); i++) {
        per_hour += json_integer_value(json_object_get(json_array_get(hours, i), "claims"));
    }
    assert_int_equal(per_hour, 5);
    httptest_reply_free(&r);
    r = httptest_signed(&server, k1, s1, "GET", "/v1/stats/packets?scene=thanks", NULL, NULL);
    httptest_expect(&r, 200, NULL);
    assert_int_equal(httptest_int(&r, "sent_count"), 1);
    assert_int_equal(httptest_int(&r, "claimed_amount"), 600);
    httptest_reply_free(&r);
    /* a merchant never sees another's packets or figures */
    char target[128];
    snprintf(target, sizeof target, "/v1/stats/packets?sender=%s", m1);
    r = httptest_signed(&server, k2, s2, "GET", target, NULL, NULL);
    httptest_expect(&r, 404, "NOT_FOUND");
    httptest_reply_free(&r);
    r = httptest_signed(&server, k2, s2, "GET", "/v1/stats/packets", NULL, NULL);
    httptest_expect(&r, 200, NULL);
    assert_int_equal(httptest_int(&r, "sent_count"), 1);
    assert_int_equal(httptest_int(&r, "sent_amount"), 999);
    httptest_reply_free(&r);
    snprintf(target, sizeof target, "/v1/packets/%s", pkts[0]);
    r = httptest_signed(&server, k2, s2, "GET", target, NULL, NULL);
    httptest_expect(&r, 404, "NOT_FOUND");
    httptest_reply_free(&r);
    r = httptest_signed(&server, k2, s2, "GET", "/v1/packets", NULL, NULL);
    httptest_expect(&r, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "data")), 1);
    httptest_reply_free(&r);
    r = httptest_signed(&server, k1, s1, "GET", "/v1/packets?limit=2", NULL, NULL);
    httptest_expect(&r, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "data")), 2);
    assert_true(json_is_string(json_object_get(r.json, "next_cursor")));
    httptest_reply_free(&r);
    /* bad ranges and scenes are refused */
    static const char *const bad[] = {"/v1/stats/packets?from=10&to=5",
                                      "/v1/stats/packets?from=0&to=9999999999999",
                                      "/v1/stats/packets?scene=funeral",
                                      "/v1/stats/packets?from=abc"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = httptest_signed(&server, k1, s1, "GET", bad[i], NULL, NULL);
        httptest_expect(&r, 400, "INVALID_ARGUMENT");
        httptest_reply_free(&r);
    }
}

/* A restart keeps every packet, share and claim; claims go on where they stopped. */
static void test_restart(void **state)
{
    (void)state;
    char s_id[32], s_tok[128], a[32], a_tok[128], b[32], b_tok[128];
    httptest_person(&server, "Durable", 1000, s_id, s_tok);
    httptest_person(&server, "DurableA", 0, a, a_tok);
    char pkt[32], token[64];
    packet_ok(s_tok, "{\"total\":1000,\"count\":2}", pkt, token);
    http_reply r = claim_as(a_tok, pkt, token, NULL);
    httptest_expect(&r, 201, NULL);
    long long first = httptest_int(&r, "amount");
    httptest_reply_free(&r);
    httptest_stop(&server);
    httptest_restart(&server);
    httptest_person(&server, "DurableB", 0, b, b_tok);
    r = claim_as(b_tok, pkt, token, NULL);
    httptest_expect(&r, 201, NULL);
    assert_int_equal(httptest_int(&r, "amount"), 1000 - first);
    assert_int_equal(httptest_int(&r, "rank"), 2);
    httptest_reply_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_validation), cmocka_unit_test(test_scenes_and_defaults),
        cmocka_unit_test(test_claim_rules),       cmocka_unit_test(test_hot_packet),
        cmocka_unit_test(test_expiry_races_claims), cmocka_unit_test(test_refunds_not_held_up),
        cmocka_unit_test(test_fission),
        cmocka_unit_test(test_stats_and_scope),   cmocka_unit_test(test_restart),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
