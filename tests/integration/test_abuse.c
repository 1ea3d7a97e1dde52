/* Abusive clients against the real server, while honest ones must still get through:
 *  - a few sessions sending as fast as they can are rate limited (429 with Retry-After),
 *    while other people's sessions at a normal pace never see a 429; so is a key, and so is
 *    one device behind several people's sessions, while people on their own devices pay on;
 *  - a bot grabbing a red packet with 30 accounts from one device wins no more than the
 *    device's budget, each refused claim a 429 with Retry-After, while people grabbing from
 *    their own phones all get their share;
 *  - slow clients (slowloris: 1,100 connections from 127.0.0.2 each holding half a request
 *    header), a flood of connections opened and dropped (127.0.0.3), and a request with a
 *    200 KB header: the server stays responsive on 127.0.0.1 within its bounds (per-address
 *    and total connection limits, header memory), answering promptly. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "httptest.h"
#include "testutil.h"

#define PEOPLE 8
#define ABUSERS 3

static http_server_proc server;
static char ids[PEOPLE][32], tokens[PEOPLE][128];

static char merchant[32], merchant_key[64], merchant_secret[96];

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int setup(void **state)
{
    (void)state;
    setenv("HONGBAO_RATE_LIMIT_SESSION_PER_SECOND", "20", 1);
    setenv("HONGBAO_RATE_LIMIT_SESSION_BURST", "20", 1);
    setenv("HONGBAO_RATE_LIMIT_KEY_PER_SECOND", "50", 1);
    setenv("HONGBAO_RATE_LIMIT_KEY_BURST", "60", 1);
    setenv("HONGBAO_RATE_LIMIT_DEVICE_PER_SECOND", "5", 1);
    /* the rate limits are what this measures: the multi-account rule would restrict the farm
     * (integration/test_risk and unit/test_real_name show that) */
    setenv("HONGBAO_RISK_MULTI_ACCOUNTS", "0", 1);
    setenv("HONGBAO_RATE_LIMIT_DEVICE_BURST", "10", 1);
    httptest_start(&server);
    for (int i = 0; i < PEOPLE; i++) {
        char name[32];
        snprintf(name, sizeof name, "Abuse %d", i);
        httptest_person(&server, name, 1000000, ids[i], tokens[i]);
    }
    http_reply r = httptest_admin(&server, "POST", "/v1/accounts",
                                  "{\"tier\":\"enterprise\",\"name\":\"Abuse Shop\"}", NULL);
    assert_int_equal(r.status, 201);
    snprintf(merchant, sizeof merchant, "%s", httptest_str(&r, "id"));
    httptest_reply_free(&r);
    char body[128];
    snprintf(body, sizeof body, "{\"role\":\"merchant\",\"account\":\"%s\"}", merchant);
    r = httptest_admin(&server, "POST", "/v1/keys", body, NULL);
    assert_int_equal(r.status, 201);
    snprintf(merchant_key, sizeof merchant_key, "%s", httptest_str(&r, "key_id"));
    snprintf(merchant_secret, sizeof merchant_secret, "%s", httptest_str(&r, "secret"));
    httptest_reply_free(&r);
    sleep(2); /* the admin key's bucket refills after the setup */
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    httptest_stop(&server);
    httptest_cleanup(&server);
    return 0;
}

typedef struct client {
    int person;
    double until;
    double pause_s;
    long ok, limited, other;
    bool retry_after_missing;
} client;

/* Count an answer: the expected success, a 429 (which must say when to come back), or
 * anything else. */
static void tally(client *c, http_reply *r, long success)
{
    if (r->status == success) {
        c->ok++;
    } else if (r->status == 429) {
        c->limited++;
        if (strstr(r->headers, "Retry-After:") == NULL) c->retry_after_missing = true;
    } else {
        c->other++;
    }
    httptest_reply_free(r);
}

static void *run_client(void *arg)
{
    client *c = arg;
    char path[96];
    snprintf(path, sizeof path, "/v1/accounts/%s", ids[c->person]);
    while (now_s() < c->until) {
        http_reply r = httptest_bearer(&server, tokens[c->person], "GET", path, NULL, NULL);
        tally(c, &r, 200);
        if (c->pause_s > 0) usleep((useconds_t)(c->pause_s * 1e6));
    }
    return NULL;
}

/* A merchant key sending as fast as it can. */
static void *run_key_abuser(void *arg)
{
    client *c = arg;
    char path[96];
    snprintf(path, sizeof path, "/v1/accounts/%s", merchant);
    while (now_s() < c->until) {
        http_reply r = httptest_signed(&server, merchant_key, merchant_secret, "GET", path, NULL,
                                       NULL);
        tally(c, &r, 200);
    }
    return NULL;
}

/* Payments of 1 fen from the client's person, from a given device, at its pace. */
typedef struct payer {
    client c;
    const char *device;
} payer;

static void *run_payer(void *arg)
{
    payer *p = arg;
    client *c = &p->c;
    char body[256];
    snprintf(body, sizeof body, "{\"from\":\"%s\",\"to\":\"%s\",\"amount\":1,\"device\":\"%s\"}",
             ids[c->person], ids[(c->person + 1) % PEOPLE], p->device);
    while (now_s() < c->until) {
        http_reply r = httptest_bearer(&server, tokens[c->person], "POST", "/v1/transfers", body,
                                       NULL);
        tally(c, &r, 201);
        usleep((useconds_t)(c->pause_s * 1e6));
    }
    return NULL;
}

/* One device behind several people's sessions (a phone farm) is held to the device's budget,
 * each session staying within its own; people on their own devices pay on. A key sending as
 * fast as it can is held to the key's budget. */
static void test_keys_and_devices(void **state)
{
    (void)state;
    enum { FARM = 3 };
    payer payers[PEOPLE];
    client key_abuser = {.until = now_s() + 3.0};
    pthread_t threads[PEOPLE], key_thread;
    double until = now_s() + 3.0;
    for (int i = 0; i < FARM + 2; i++) {
        static char own[8][32];
        snprintf(own[i], sizeof own[i], "own-phone-%d", i);
        payers[i] = (payer){.c = {.person = i, .until = until, .pause_s = 0.125},
                            .device = i < FARM ? "farm-phone-1" : own[i]};
        assert_int_equal(pthread_create(&threads[i], NULL, run_payer, &payers[i]), 0);
    }
    assert_int_equal(pthread_create(&key_thread, NULL, run_key_abuser, &key_abuser), 0);
    for (int i = 0; i < FARM + 2; i++) assert_int_equal(pthread_join(threads[i], NULL), 0);
    assert_int_equal(pthread_join(key_thread, NULL), 0);
    long farm_ok = 0, farm_limited = 0, own_ok = 0;
    for (int i = 0; i < FARM + 2; i++) {
        assert_int_equal(payers[i].c.other, 0);
        assert_false(payers[i].c.retry_after_missing);
        if (i < FARM) {
            farm_ok += payers[i].c.ok;
            farm_limited += payers[i].c.limited;
        } else {
            assert_int_equal(payers[i].c.limited, 0); /* 8 a second from their own phones */
            own_ok += payers[i].c.ok;
        }
    }
    /* the farm's device: a burst of 10 and 5 a second, about 25 in 3 s */
    assert_true(farm_ok <= 30);
    assert_true(farm_limited > farm_ok);
    assert_int_equal(key_abuser.other, 0);
    assert_false(key_abuser.retry_after_missing);
    assert_true(key_abuser.ok <= 60 + 50 * 3 + 10);
    assert_true(key_abuser.limited > 0);
    fprintf(stderr, "abuse: one device behind %d sessions: %ld paid, %ld refused with 429; %ld "
                    "payments from people's own devices, none refused; a key hammering: %ld "
                    "answered, %ld refused with 429\n",
            FARM, farm_ok, farm_limited, own_ok, key_abuser.ok, key_abuser.limited);
    assert_true(httptest_balanced(&server));
}

/* One claim of a packet by a session from a device. */
typedef struct grabber {
    const char *token;
    const char *packet;
    const char *claim_token;
    const char *device;
    long status;
    bool retry_after;
} grabber;

static void *run_grabber(void *arg)
{
    grabber *g = arg;
    char path[96], body[256];
    snprintf(path, sizeof path, "/v1/packets/%s/claims", g->packet);
    snprintf(body, sizeof body, "{\"token\":\"%s\",\"device\":\"%s\"}", g->claim_token,
             g->device);
    http_reply r = httptest_bearer(&server, g->token, "POST", path, body, NULL);
    g->status = r.status;
    g->retry_after = strstr(r.headers, "Retry-After:") != NULL;
    httptest_reply_free(&r);
    return NULL;
}

static void test_bot_grabbing(void **state)
{
    (void)state;
    enum { BOTS = 30, HONEST = 4 };
    static char bot_ids[BOTS][32], bot_tokens[BOTS][128];
    for (int i = 0; i < BOTS; i++) {
        char name[32];
        snprintf(name, sizeof name, "Bot %d", i);
        httptest_person(&server, name, 0, bot_ids[i], bot_tokens[i]);
        usleep(60000); /* within the admin key's own budget */
    }
    http_reply r = httptest_bearer(&server, tokens[PEOPLE - 1], "POST", "/v1/packets",
                                   "{\"total\":10000,\"count\":100}", NULL);
    assert_int_equal(r.status, 201);
    char pkt[32], claim_token[64];
    snprintf(pkt, sizeof pkt, "%s", httptest_str(&r, "id"));
    snprintf(claim_token, sizeof claim_token, "%s", httptest_str(&r, "claim_token"));
    httptest_reply_free(&r);
    sleep(1);
    grabber gs[BOTS + HONEST];
    pthread_t th[BOTS + HONEST];
    static char phones[HONEST][32];
    for (int i = 0; i < BOTS + HONEST; i++) {
        bool bot = i < BOTS;
        if (!bot) snprintf(phones[i - BOTS], sizeof phones[0], "own-grab-phone-%d", i);
        gs[i] = (grabber){.token = bot ? bot_tokens[i] : tokens[i - BOTS], .packet = pkt,
                          .claim_token = claim_token, .device = bot ? "bot-phone" : phones[i - BOTS]};
        assert_int_equal(pthread_create(&th[i], NULL, run_grabber, &gs[i]), 0);
    }
    for (int i = 0; i < BOTS + HONEST; i++) assert_int_equal(pthread_join(th[i], NULL), 0);
    long bot_won = 0, bot_limited = 0, bot_blocked = 0;
    for (int i = 0; i < BOTS; i++) {
        if (gs[i].status == 201) {
            bot_won++;
        } else if (gs[i].status == 403) {
            bot_blocked++; /* the risk engine's device binding */
        } else {
            assert_int_equal(gs[i].status, 429);
            assert_true(gs[i].retry_after);
            bot_limited++;
        }
    }
    for (int i = BOTS; i < BOTS + HONEST; i++) assert_int_equal(gs[i].status, 201);
    /* the device's burst of 10 and 5 a second holds most bots off at the door (the grab
     * takes well under two seconds); of those let in, the device binds to 3 accounts at
     * most ([risk] device_accounts) and the rest are refused */
    assert_true(bot_won <= 3);
    assert_true(bot_limited >= BOTS - 20);
    assert_int_equal(bot_won + bot_blocked + bot_limited, BOTS);
    char path[96];
    snprintf(path, sizeof path, "/v1/packets/%s", pkt);
    r = httptest_bearer(&server, tokens[PEOPLE - 1], "GET", path, NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(httptest_int(&r, "claimed_count"), bot_won + HONEST);
    httptest_reply_free(&r);
    fprintf(stderr, "abuse: a bot with %d accounts on one phone won %ld shares, %ld claims "
                    "refused with 429 and %ld with 403; %d people on their own phones all won "
                    "theirs\n",
            BOTS, bot_won, bot_limited, bot_blocked, HONEST);
    assert_true(httptest_balanced(&server));
}

static void test_rate_limits(void **state)
{
    (void)state;
    client clients[PEOPLE];
    pthread_t threads[PEOPLE];
    double until = now_s() + 3.0;
    for (int i = 0; i < PEOPLE; i++) {
        /* the first ABUSERS people hammer; the others ask 4 times a second */
        clients[i] = (client){.person = i, .until = until, .pause_s = i < ABUSERS ? 0 : 0.25};
        assert_int_equal(pthread_create(&threads[i], NULL, run_client, &clients[i]), 0);
    }
    for (int i = 0; i < PEOPLE; i++) assert_int_equal(pthread_join(threads[i], NULL), 0);
    long abusive = 0, limited = 0, honest = 0;
    for (int i = 0; i < PEOPLE; i++) {
        assert_int_equal(clients[i].other, 0);
        assert_false(clients[i].retry_after_missing);
        if (i < ABUSERS) {
            abusive += clients[i].ok + clients[i].limited;
            limited += clients[i].limited;
            /* 20 per second and a burst of 20: at most about 80 in 3 s got through */
            assert_true(clients[i].ok <= 90);
        } else {
            assert_int_equal(clients[i].limited, 0);
            assert_true(clients[i].ok >= 8);
            honest += clients[i].ok;
        }
    }
    fprintf(stderr, "abuse: %ld requests from %d hammering sessions, %ld refused with 429; %ld "
                    "honest requests from %d others, none refused\n",
            abusive, ABUSERS, limited, honest, PEOPLE - ABUSERS);
    assert_true(limited > abusive / 2);
}

/* A TCP connection to the server from a given loopback source address, or -1. */
static int connect_from(const char *source)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in src = {.sin_family = AF_INET};
    inet_pton(AF_INET, source, &src.sin_addr);
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)server.port)};
    inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
    if (bind(fd, (struct sockaddr *)&src, sizeof src) != 0 ||
        connect(fd, (struct sockaddr *)&dst, sizeof dst) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* An honest request must be answered within a second. */
static void honest_request(const char *when)
{
    double start = now_s();
    http_reply r = httptest_raw(&server, "GET", "/healthz", NULL, 0, NULL);
    double took = now_s() - start;
    if (r.status != 200 || took > 1.0) {
        fprintf(stderr, "%s: GET /healthz answered %ld in %.3f s\n", when, r.status, took);
    }
    assert_int_equal(r.status, 200);
    assert_true(took <= 1.0);
    httptest_reply_free(&r);
}

static void test_slow_clients_floods_and_huge_headers(void **state)
{
    (void)state;
    struct rlimit fds = {4096, 4096};
    if (getrlimit(RLIMIT_NOFILE, &fds) == 0 && fds.rlim_cur < 4096 && fds.rlim_max >= 4096) {
        fds.rlim_cur = 4096;
        setrlimit(RLIMIT_NOFILE, &fds);
    }
    /* slowloris: 1,100 half-sent requests from one address */
    enum { SLOW = 1100 };
    static int slow[SLOW];
    int opened = 0;
    for (int i = 0; i < SLOW; i++) {
        slow[i] = connect_from("127.0.0.2");
        if (slow[i] < 0) continue;
        opened++;
        const char *part = "GET /healthz HTTP/1.1\r\nHost: slow\r\nX-Slow: ";
        (void)send(slow[i], part, strlen(part), MSG_NOSIGNAL);
    }
    assert_true(opened > 0);
    honest_request("with 1,100 slow clients");
    for (int i = 0; i < SLOW; i += 50) {
        if (slow[i] >= 0) (void)send(slow[i], "a", 1, MSG_NOSIGNAL); /* still trickling */
    }
    honest_request("with slow clients trickling");
    /* a flood: 3,000 connections opened and dropped at once */
    for (int i = 0; i < 3000; i++) {
        int fd = connect_from("127.0.0.3");
        if (fd >= 0) close(fd);
    }
    honest_request("after a flood of connections");
    /* a 200 KB header: refused, and nothing else suffers */
    size_t big = 200 * 1024;
    char *header = malloc(big + 16);
    assert_non_null(header);
    memcpy(header, "X-Big: ", 7);
    memset(header + 7, 'a', big);
    header[7 + big] = '\0';
    const char *headers[] = {header, NULL};
    http_reply r = httptest_raw(&server, "GET", "/healthz", NULL, 0, headers);
    assert_true(r.status == 0 || (r.status >= 400 && r.status < 500)); /* 0: closed at once */
    httptest_reply_free(&r);
    free(header);
    honest_request("after a huge header");
    for (int i = 0; i < SLOW; i++) {
        if (slow[i] >= 0) close(slow[i]);
    }
    honest_request("after the slow clients left");
    fprintf(stderr, "abuse: %d slow connections held, 3000 flooded, a 200 KB header refused; "
                    "honest requests answered within 1 s throughout\n",
            opened);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rate_limits),
        cmocka_unit_test(test_keys_and_devices),
        cmocka_unit_test(test_bot_grabbing),
        cmocka_unit_test(test_slow_clients_floods_and_huge_headers),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
