/* Crash campaign: the real server (`hongbao serve`) on its store under mixed load (transfers
 * and batches from 16 client threads, tests/support/loadgen.c) is killed with SIGKILL at a
 * random moment of every cycle and started again. After each cycle every unknown outcome is
 * settled by sending it again with its key, and: every acknowledged transfer is present
 * exactly once with its fields, keys sent again return the original transfer, the store holds
 * one transfer per acknowledged key and no other, and the ledger check passes.
 *
 * The hot-grab campaign kills the server the same way while 16 threads grab one red packet
 * for 400 claimers, each claim with its own Idempotency-Key and sent again after a transport
 * error or a 503 until it has a definite answer. After each cycle: exactly `count` claimers
 * won, each once, each winner's answer matches its stored claim and its wallet, no claimer
 * holds two shares, the packet's claimed amount is the sum of its claims, and the ledger
 * check (which includes the packet escrow) passes.
 *
 * The refund campaign expires 40 packets, then kills `hongbao sweep` processes and the
 * server (which sweeps too) at random moments while they refund; afterwards every packet is
 * refunded exactly once (one refund transfer each, its sender paid back once) and the ledger
 * check passes.
 *
 * The code campaign kills the server while 8 threads create dynamic payment codes, each with
 * its order number as its Idempotency-Key and sent again after an unknown outcome; afterwards
 * every order number has exactly one code, the one its answers named.
 *
 * The adjustment campaign kills the server while 4 threads propose corrections (each with
 * its Idempotency-Key) under one admin key and approve them under another, sending each
 * again after an unknown outcome (an approval that had landed answers ALREADY_DECIDED);
 * afterwards every proposal exists once, approved, with exactly one transfer, and the
 * account credited holds exactly their sum.
 *
 * The re-seal campaign rotates the key file (`hongbao keys rotate`) under 1000 customers, then
 * kills the server at random moments while it seals their personal data again with the new
 * key in the background; afterwards every customer's data opens with the new key file and
 * reads as it was written, a full pass finds nothing left to seal, and the audit trail and
 * the ledger verify.
 *
 * The login campaign kills the server while 4 threads make one-time login links (POST
 * /v1/login-links) and open them (POST /v1/web/login), each open sent again after an unknown
 * outcome; afterwards every used link opened exactly one browser session, and every session
 * a client was given still works after the restart.
 *
 * $HB_CAMPAIGN_CYCLES cycles (default 5; `make crash` runs 50 on each store). */
#include <signal.h>
#include <sys/wait.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "httptest.h"
#include "loadgen.h"
#include "testutil.h"

static http_server_proc server;
static loadgen load;
static unsigned rng_state;

static double uniform(void)
{
    return (double)rand_r(&rng_state) / (double)RAND_MAX;
}

/* SIGKILL somewhere in the load, then a restart while the clients keep going. */
static void kill_and_restart(loadgen *g, double seconds, void *ctx)
{
    (void)ctx;
    usleep((useconds_t)(seconds * uniform() * 0.8e6));
    httptest_kill(&server);
    httptest_restart(&server);
    loadgen_node_moved(g, 0);
}

static void test_campaign(void **state)
{
    (void)state;
    long cycles = 5;
    const char *env = getenv("HB_CAMPAIGN_CYCLES");
    if (env != NULL && atol(env) > 0) cycles = atol(env);
    rng_state = (unsigned)time(NULL);
    fprintf(stderr, "campaign: %ld cycles, seed %u, %s\n", cycles, rng_state,
            testutil_pg() ? "PostgreSQL" : "SQLite");
    long acked = 0;
    for (long c = 1; c <= cycles; c++) {
        loadgen_run(&load, 0.4 + 0.6 * uniform(), kill_and_restart, NULL);
        char what[64];
        snprintf(what, sizeof what, "cycle %ld of %ld", c, cycles);
        acked += loadgen_verify(&load, what);
    }
    fprintf(stderr, "campaign: %ld kill -9 cycles survived, %ld acknowledged transfers all "
                    "present once, ledger balanced after each\n",
            cycles, acked);
}

/* ---- hot grab ------------------------------------------------------------------------------- */

#define GRAB_CLAIMERS 400
#define GRAB_SHARES 300
#define GRAB_THREADS 16

static char grab_ids[GRAB_CLAIMERS][32];

typedef struct grab_worker {
    int first;
    const char *pkt;
    const char *token;
    long status[GRAB_CLAIMERS];
    long long amount[GRAB_CLAIMERS];
    char claim_id[GRAB_CLAIMERS][32];
    long retries;
} grab_worker;

static grab_worker grab_workers[GRAB_THREADS];

/* One POST with the admin key (a fresh nonce) and an Idempotency-Key, to the server's current
 * port (it changes when the server restarts); status 0 for a transport error. */
static long key_post(CURL *curl, const char *key_id, const char *secret, const char *path,
                     const char *body, const char *key, json_t **reply)
{
    char url[160], auth[400], idem[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", server.port, path);
    httptest_auth_header(key_id, secret, "POST", path, body, strlen(body), 0, NULL, auth,
                         sizeof auth);
    struct curl_slist *list = NULL;
    list = curl_slist_append(list, auth);
    if (key != NULL) {
        snprintf(idem, sizeof idem, "Idempotency-Key: %s", key);
        list = curl_slist_append(list, idem);
    }
    list = curl_slist_append(list, "Content-Type: application/json");
    list = curl_slist_append(list, "Expect:");
    httptest_buffer b = {NULL, 0};
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, httptest_collect_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
    CURLcode rc = curl_easy_perform(curl);
    curl_slist_free_all(list);
    long status = 0;
    if (rc == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    json_error_t error;
    *reply = rc == CURLE_OK && b.data ? json_loads(b.data, 0, &error) : NULL;
    free(b.data);
    return status;
}

static long admin_post(CURL *curl, const char *path, const char *body, const char *key,
                       json_t **reply)
{
    return key_post(curl, server.admin_key, server.admin_secret, path, body, key, reply);
}

/* One claim attempt for claimer i. */
static long grab_once(CURL *curl, const char *pkt, const char *token, int i, json_t **reply)
{
    char path[96], body[192], key[80];
    snprintf(path, sizeof path, "/v1/packets/%s/claims", pkt);
    snprintf(body, sizeof body, "{\"token\":\"%s\",\"claimer\":\"%s\"}", token, grab_ids[i]);
    snprintf(key, sizeof key, "grab-%s-%d", pkt, i);
    return admin_post(curl, path, body, key, reply);
}

static void *run_grab_worker(void *arg)
{
    grab_worker *w = arg;
    CURL *curl = curl_easy_init();
    assert_non_null(curl);
    for (int i = w->first; i < GRAB_CLAIMERS; i += GRAB_THREADS) {
        for (;;) {
            json_t *j = NULL;
            long status = grab_once(curl, w->pkt, w->token, i, &j);
            if (status == 0 || status == 503) { /* unknown outcome: same key again */
                json_decref(j);
                w->retries++;
                usleep(20000);
                continue;
            }
            w->status[i] = status;
            if (status == 201) {
                w->amount[i] = json_integer_value(json_object_get(j, "amount"));
                snprintf(w->claim_id[i], 32, "%s", json_string_value(json_object_get(j, "id")));
            } else if (status != 410) {
                fprintf(stderr, "grab %d: %ld %s\n", i, status, j ? "" : "(no JSON)");
            }
            json_decref(j);
            break;
        }
    }
    curl_easy_cleanup(curl);
    return NULL;
}

static long long admin_int(const char *path, const char *name)
{
    http_reply r = httptest_admin(&server, "GET", path, NULL, NULL);
    assert_int_equal(r.status, 200);
    long long v = httptest_int(&r, name);
    httptest_reply_free(&r);
    return v;
}

static void test_hot_grab_campaign(void **state)
{
    (void)state;
    long cycles = 5;
    const char *env = getenv("HB_CAMPAIGN_CYCLES");
    if (env != NULL && atol(env) > 0) cycles = atol(env);
    /* an enterprise sends it: 300 shares are above a person's 100 */
    http_reply made = httptest_admin(&server, "POST", "/v1/accounts",
                                     "{\"tier\":\"enterprise\",\"name\":\"GrabShop\"}", NULL);
    assert_int_equal(made.status, 201);
    char sender[32], fund_path[96], fund[96];
    snprintf(sender, sizeof sender, "%s", httptest_str(&made, "id"));
    httptest_reply_free(&made);
    snprintf(fund_path, sizeof fund_path, "/v1/accounts/%s/topup", sender);
    snprintf(fund, sizeof fund, "{\"amount\":%ld,\"external_ref\":\"grab-fund\"}", cycles * 20000);
    made = httptest_admin(&server, "POST", fund_path, fund, NULL);
    assert_int_equal(made.status, 201);
    httptest_reply_free(&made);
    for (int i = 0; i < GRAB_CLAIMERS; i++) {
        char body[96];
        snprintf(body, sizeof body, "{\"tier\":\"personal\",\"name\":\"Grab%d\"}", i);
        http_reply r = httptest_admin(&server, "POST", "/v1/accounts", body, NULL);
        assert_int_equal(r.status, 201);
        snprintf(grab_ids[i], 32, "%s", httptest_str(&r, "id"));
        httptest_reply_free(&r);
    }
    long long *held = calloc(GRAB_CLAIMERS, sizeof *held); /* what each claimer won so far */
    assert_non_null(held);
    long retries = 0;
    for (long c = 1; c <= cycles; c++) {
        char create[128];
        snprintf(create, sizeof create, "{\"sender\":\"%s\",\"total\":20000,\"count\":300}",
                 sender);
        http_reply r = httptest_admin(&server, "POST", "/v1/packets", create, NULL);
        if (r.status != 201) fprintf(stderr, "create: %ld %s\n", r.status, r.body);
        assert_int_equal(r.status, 201);
        char pkt[32], token[64];
        snprintf(pkt, sizeof pkt, "%s", httptest_str(&r, "id"));
        snprintf(token, sizeof token, "%s", httptest_str(&r, "claim_token"));
        httptest_reply_free(&r);
        pthread_t th[GRAB_THREADS];
        for (int t = 0; t < GRAB_THREADS; t++) {
            memset(&grab_workers[t], 0, sizeof grab_workers[t]);
            grab_workers[t].first = t;
            grab_workers[t].pkt = pkt;
            grab_workers[t].token = token;
            assert_int_equal(pthread_create(&th[t], NULL, run_grab_worker, &grab_workers[t]), 0);
        }
        usleep((useconds_t)(uniform() * 0.15e6)); /* somewhere in the grab */
        httptest_kill(&server);
        httptest_restart(&server);
        for (int t = 0; t < GRAB_THREADS; t++) pthread_join(th[t], NULL);
        int winners = 0;
        long long sum = 0;
        for (int i = 0; i < GRAB_CLAIMERS; i++) {
            const grab_worker *w = &grab_workers[i % GRAB_THREADS];
            if (w->status[i] == 201) {
                winners++;
                sum += w->amount[i];
                held[i] += w->amount[i];
            } else {
                assert_int_equal(w->status[i], 410);
            }
            char path[96];
            snprintf(path, sizeof path, "/v1/accounts/%s", grab_ids[i]);
            assert_int_equal(admin_int(path, "balance"), held[i]);
        }
        for (int t = 0; t < GRAB_THREADS; t++) retries += grab_workers[t].retries;
        assert_int_equal(winners, GRAB_SHARES);
        assert_int_equal(sum, 20000);
        char path[96], sql[160], out[64];
        snprintf(path, sizeof path, "/v1/packets/%s", pkt);
        assert_int_equal(admin_int(path, "claimed_count"), GRAB_SHARES);
        assert_int_equal(admin_int(path, "claimed_amount"), 20000);
        snprintf(sql, sizeof sql, "SELECT COUNT(DISTINCT claimer_id) FROM claims WHERE packet_id = %s",
                 pkt + 4);
        httptest_sql(&server, sql, out, sizeof out);
        assert_int_equal(atoll(out), GRAB_SHARES);
        assert_true(httptest_balanced(&server));
    }
    free(held);
    fprintf(stderr, "hot grab: %ld kill -9 cycles, %d shares each claimed exactly once, %ld "
                    "claims sent again after an unknown outcome\n",
            cycles, GRAB_SHARES, retries);
}

/* ---- refunds ----------------------------------------------------------------------------------- */

#define REFUND_PACKETS 40

static pid_t spawn_sweep(void)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) {
            dup2(devnull, 1);
            dup2(devnull, 2);
        }
        const char *bin = getenv("HONGBAO_BIN");
        execl(bin, bin, "sweep", "--db", server.db, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static void test_refund_campaign(void **state)
{
    (void)state;
    long cycles = 5;
    const char *env = getenv("HB_CAMPAIGN_CYCLES");
    if (env != NULL && atol(env) > 0) cycles = atol(env);
    char sender[32], sender_token[128], grabber[32], grabber_token[128];
    httptest_person(&server, "RefundSender", REFUND_PACKETS * 100, sender, sender_token);
    httptest_person(&server, "RefundGrabber", 0, grabber, grabber_token);
    char pkts[REFUND_PACKETS][32];
    long long claimed = 0;
    for (int i = 0; i < REFUND_PACKETS; i++) {
        http_reply r = httptest_bearer(&server, sender_token, "POST", "/v1/packets",
                                       "{\"total\":100,\"count\":3,\"expires_in\":10}", NULL);
        assert_int_equal(r.status, 201);
        snprintf(pkts[i], sizeof pkts[i], "%s", httptest_str(&r, "id"));
        char path[96], body[128];
        snprintf(path, sizeof path, "/v1/packets/%.31s/claims", pkts[i]);
        snprintf(body, sizeof body, "{\"token\":\"%s\"}", httptest_str(&r, "claim_token"));
        httptest_reply_free(&r);
        r = httptest_bearer(&server, grabber_token, "POST", path, body, NULL);
        assert_int_equal(r.status, 201);
        claimed += httptest_int(&r, "amount");
        httptest_reply_free(&r);
    }
    /* stopped while the packets expire, so that the refunds happen under the kills below */
    httptest_stop(&server);
    sleep(11);
    long killed = 0;
    for (long c = 0; c < cycles; c++) {
        pid_t sweeps[2] = {spawn_sweep(), spawn_sweep()};
        bool running = c == 0 || uniform() < 0.5;
        if (running) httptest_restart(&server); /* it sweeps at start */
        usleep((useconds_t)(uniform() * 0.02e6));
        for (int k = 0; k < 2; k++) {
            kill(sweeps[k], SIGKILL);
            int st = 0;
            waitpid(sweeps[k], &st, 0);
            if (WIFSIGNALED(st)) killed++; /* stopped before it finished */
        }
        if (running) httptest_kill(&server);
    }
    httptest_restart(&server);
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "%s sweep --db '%s' > /dev/null", getenv("HONGBAO_BIN"), server.db);
    assert_int_equal(system(cmd), 0);
    for (int i = 0; i < REFUND_PACKETS; i++) {
        char sql[160], out[32];
        snprintf(sql, sizeof sql,
                 "SELECT COUNT(*) FROM transfers WHERE kind = 6 AND reference = '%.31s'", pkts[i]);
        httptest_sql(&server, sql, out, sizeof out);
        assert_int_equal(atoi(out), 1);
        char path[96];
        snprintf(path, sizeof path, "/v1/packets/%.31s", pkts[i]);
        http_reply r = httptest_bearer(&server, sender_token, "GET", path, NULL, NULL);
        assert_int_equal(r.status, 200);
        assert_string_equal(httptest_str(&r, "status"), "refunded");
        httptest_reply_free(&r);
    }
    char path[96];
    snprintf(path, sizeof path, "/v1/accounts/%s", sender);
    assert_int_equal(admin_int(path, "balance"), REFUND_PACKETS * 100 - claimed);
    assert_true(httptest_balanced(&server));
    fprintf(stderr, "refunds: %d expired packets refunded exactly once through %ld cycles of "
                    "killed sweepers (%ld killed before finishing) and servers\n",
            REFUND_PACKETS, cycles, killed);
}

/* ---- payment codes ---------------------------------------------------------------------- */

#define CODE_THREADS 8
#define CODES_PER_THREAD 40

typedef struct code_worker {
    int index;
    long cycle;
    char owner[32];
    long long ids[CODES_PER_THREAD];
    long retries;
} code_worker;

static void *run_code_worker(void *arg)
{
    code_worker *w = arg;
    CURL *curl = curl_easy_init();
    assert_non_null(curl);
    for (int i = 0; i < CODES_PER_THREAD; i++) {
        char body[192], order[48];
        snprintf(order, sizeof order, "c%ld-t%d-%d", w->cycle, w->index, i);
        snprintf(body, sizeof body,
                 "{\"owner\":\"%s\",\"kind\":\"dynamic\",\"amount\":%d,\"order_no\":\"%s\"}",
                 w->owner, 100 + i, order);
        for (;;) {
            json_t *j = NULL;
            long status = admin_post(curl, "/v1/codes", body, order, &j);
            if (status == 0 || status == 503) { /* unknown outcome: the same key again */
                json_decref(j);
                w->retries++;
                usleep(20000);
                continue;
            }
            assert_int_equal(status, 201);
            const char *id = json_string_value(json_object_get(j, "id"));
            assert_non_null(id);
            w->ids[i] = atoll(id + 5);
            json_decref(j);
            break;
        }
    }
    curl_easy_cleanup(curl);
    return NULL;
}

static void test_code_campaign(void **state)
{
    (void)state;
    long cycles = 5;
    const char *env = getenv("HB_CAMPAIGN_CYCLES");
    if (env != NULL && atol(env) > 0) cycles = atol(env);
    http_reply made = httptest_admin(&server, "POST", "/v1/accounts",
                                     "{\"tier\":\"enterprise\",\"name\":\"CodeShop\"}", NULL);
    assert_int_equal(made.status, 201);
    char owner[32];
    snprintf(owner, sizeof owner, "%s", httptest_str(&made, "id"));
    httptest_reply_free(&made);
    static code_worker workers[CODE_THREADS];
    long retries = 0;
    for (long c = 1; c <= cycles; c++) {
        pthread_t th[CODE_THREADS];
        for (int t = 0; t < CODE_THREADS; t++) {
            memset(&workers[t], 0, sizeof workers[t]);
            workers[t].index = t;
            workers[t].cycle = c;
            snprintf(workers[t].owner, sizeof workers[t].owner, "%s", owner);
            assert_int_equal(pthread_create(&th[t], NULL, run_code_worker, &workers[t]), 0);
        }
        usleep((useconds_t)(uniform() * 0.05e6)); /* inside the creation */
        httptest_kill(&server);
        httptest_restart(&server);
        for (int t = 0; t < CODE_THREADS; t++) pthread_join(th[t], NULL);
        for (int t = 0; t < CODE_THREADS; t++) {
            retries += workers[t].retries;
            for (int i = 0; i < CODES_PER_THREAD; i++) {
                char sql[200], out[64];
                snprintf(sql, sizeof sql,
                         "SELECT COUNT(*), MIN(id) FROM codes WHERE order_no = 'c%ld-t%d-%d'", c,
                         t, i);
                httptest_sql(&server, sql, out, sizeof out);
                char expect[64];
                snprintf(expect, sizeof expect, "1|%lld", workers[t].ids[i]);
                if (strcmp(out, expect) != 0) fail_msg("order c%ld-t%d-%d: %s, want %s", c, t, i, out, expect);
            }
        }
    }
    fprintf(stderr, "codes: %ld kill -9 cycles, %d codes each created exactly once, %ld "
                    "requests sent again after an unknown outcome\n",
            cycles, CODE_THREADS * CODES_PER_THREAD, retries);
}

/* ---- maker-checker adjustments ------------------------------------------------------------ */

#define ADJ_THREADS 4
#define ADJ_PER_THREAD 20

typedef struct adj_worker {
    int index;
    long cycle;
    char from[32], to[32], checker[64], checker_secret[96];
    long long ids[ADJ_PER_THREAD];
    long retries;
    char failure[160];
} adj_worker;

static void *run_adj_worker(void *arg)
{
    adj_worker *w = arg;
    CURL *curl = curl_easy_init();
    for (int i = 0; curl != NULL && i < ADJ_PER_THREAD && w->failure[0] == '\0'; i++) {
        char body[256], key[48], path[96];
        snprintf(key, sizeof key, "adj-c%ld-t%d-%d", w->cycle, w->index, i);
        snprintf(body, sizeof body, "{\"from\":\"%s\",\"to\":\"%s\",\"amount\":100,"
                                    "\"reason\":\"%s\"}", w->from, w->to, key);
        for (;;) { /* propose until a definite answer, the same key each time */
            json_t *j = NULL;
            long status = admin_post(curl, "/v1/adjustments", body, key, &j);
            if (status == 0 || status == 503) {
                json_decref(j);
                w->retries++;
                usleep(20000);
                continue;
            }
            const char *id = json_string_value(json_object_get(j, "id"));
            if (status != 201 || id == NULL) {
                snprintf(w->failure, sizeof w->failure, "propose %s: %ld", key, status);
            } else {
                w->ids[i] = atoll(id + 4);
            }
            json_decref(j);
            break;
        }
        if (w->failure[0] != '\0') break;
        snprintf(path, sizeof path, "/v1/adjustments/adj_%lld/approve", w->ids[i]);
        for (;;) { /* approve by the other admin until it is known approved */
            json_t *j = NULL;
            long status = key_post(curl, w->checker, w->checker_secret, path, "{}", NULL, &j);
            json_decref(j);
            if (status == 0 || status == 503) {
                w->retries++;
                usleep(20000);
                continue;
            }
            if (status != 200 && status != 409) {
                snprintf(w->failure, sizeof w->failure, "approve %s: %ld", key, status);
            }
            break;
        }
    }
    if (curl == NULL) snprintf(w->failure, sizeof w->failure, "no curl");
    curl_easy_cleanup(curl);
    return NULL;
}

static void test_adjustment_campaign(void **state)
{
    (void)state;
    long cycles = 5;
    const char *env = getenv("HB_CAMPAIGN_CYCLES");
    if (env != NULL && atol(env) > 0) cycles = atol(env);
    char from[32], to[32], tok[128], checker[64], checker_secret[96];
    httptest_person(&server, "AdjFrom", cycles * ADJ_THREADS * ADJ_PER_THREAD * 100, from, tok);
    httptest_person(&server, "AdjTo", 0, to, tok);
    http_reply made = httptest_admin(&server, "POST", "/v1/keys", "{\"role\":\"admin\"}", NULL);
    assert_int_equal(made.status, 201);
    snprintf(checker, sizeof checker, "%s", httptest_str(&made, "key_id"));
    snprintf(checker_secret, sizeof checker_secret, "%s", httptest_str(&made, "secret"));
    httptest_reply_free(&made);
    static adj_worker workers[ADJ_THREADS];
    long retries = 0;
    for (long c = 1; c <= cycles; c++) {
        pthread_t th[ADJ_THREADS];
        for (int t = 0; t < ADJ_THREADS; t++) {
            memset(&workers[t], 0, sizeof workers[t]);
            workers[t].index = t;
            workers[t].cycle = c;
            snprintf(workers[t].from, sizeof workers[t].from, "%s", from);
            snprintf(workers[t].to, sizeof workers[t].to, "%s", to);
            snprintf(workers[t].checker, sizeof workers[t].checker, "%s", checker);
            snprintf(workers[t].checker_secret, sizeof workers[t].checker_secret, "%s", checker_secret);
            assert_int_equal(pthread_create(&th[t], NULL, run_adj_worker, &workers[t]), 0);
        }
        usleep((useconds_t)(uniform() * 0.15e6)); /* among the proposals and approvals */
        httptest_kill(&server);
        httptest_restart(&server);
        for (int t = 0; t < ADJ_THREADS; t++) pthread_join(th[t], NULL);
        for (int t = 0; t < ADJ_THREADS; t++) {
            if (workers[t].failure[0] != '\0') fail_msg("%s", workers[t].failure);
            retries += workers[t].retries;
            for (int i = 0; i < ADJ_PER_THREAD; i++) {
                char sql[300], out[96], expect[96];
                snprintf(sql, sizeof sql,
                         "SELECT COUNT(*), MIN(id), MIN(status), "
                         "(SELECT COUNT(*) FROM transfers WHERE reference = 'adj_%lld' AND kind = 12) "
                         "FROM adjustments WHERE reason = 'adj-c%ld-t%d-%d'",
                         workers[t].ids[i], c, t, i);
                httptest_sql(&server, sql, out, sizeof out);
                snprintf(expect, sizeof expect, "1|%lld|2|1", workers[t].ids[i]);
                if (strcmp(out, expect) != 0) fail_msg("adj-c%ld-t%d-%d: %s, want %s", c, t, i, out, expect);
            }
        }
    }
    char path[96];
    snprintf(path, sizeof path, "/v1/accounts/%s", to);
    assert_int_equal(admin_int(path, "balance"), cycles * ADJ_THREADS * ADJ_PER_THREAD * 100);
    assert_true(httptest_balanced(&server));
    fprintf(stderr, "adjustments: %ld kill -9 cycles, %d corrections each proposed once and "
                    "approved once (one transfer each), %ld requests sent again after an unknown "
                    "outcome\n",
            cycles, ADJ_THREADS * ADJ_PER_THREAD, retries);
}

/* ---- payments, refunds, settlement ------------------------------------------------------- */

#define PAY_THREADS 8
#define PAYS_PER_THREAD 60

typedef struct pay_worker {
    int index;
    long cycle;
    char payer[32];
    const char *payload;
    long retries;
    bool failed;
} pay_worker;

/* POST with the admin key and key `key` until the outcome is known; returns the reply, or
 * NULL (said on stderr) for another status than expect: worker threads must not fail the
 * test themselves (cmocka's failures belong to the main thread). */
static json_t *post_until_known(CURL *curl, const char *path, const char *body, const char *key,
                                long expect, long *retries)
{
    for (;;) {
        json_t *j = NULL;
        long status = admin_post(curl, path, body, key, &j);
        if (status == 0 || status == 503) { /* unknown outcome: the same key again */
            json_decref(j);
            (*retries)++;
            usleep(20000);
            continue;
        }
        if (status != expect) {
            char *text = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
            fprintf(stderr, "%s %s: %ld %s\n", path, key, status, text ? text : "");
            free(text);
            json_decref(j);
            return NULL;
        }
        return j;
    }
}

static void *run_pay_worker(void *arg)
{
    pay_worker *w = arg;
    CURL *curl = curl_easy_init();
    assert_non_null(curl);
    for (int i = 0; i < PAYS_PER_THREAD; i++) {
        char body[900], key[48];
        snprintf(key, sizeof key, "p%ld-%d-%d", w->cycle, w->index, i);
        /* every amount its own, so that the same-amount rule never fuses the code */
        snprintf(body, sizeof body, "{\"payload\":\"%s\",\"payer\":\"%s\",\"amount\":%d}", w->payload,
                 w->payer, 1000 + w->index * PAYS_PER_THREAD + i);
        json_t *j = post_until_known(curl, "/v1/payments", body, key, 201, &w->retries);
        if (j == NULL) {
            w->failed = true;
            break;
        }
        char path[96];
        snprintf(path, sizeof path, "/v1/payments/%s/refunds",
                 json_string_value(json_object_get(j, "id")));
        json_decref(j);
        snprintf(key, sizeof key, "r%ld-%d-%d", w->cycle, w->index, i);
        j = post_until_known(curl, path, "{\"amount\":300}", key, 201, &w->retries);
        if (j == NULL) {
            w->failed = true;
            break;
        }
        json_decref(j);
    }
    curl_easy_cleanup(curl);
    return NULL;
}

static long long sql_count(const char *sql)
{
    char out[64];
    httptest_sql(&server, sql, out, sizeof out);
    return atoll(out);
}

static void test_payment_campaign(void **state)
{
    (void)state;
    long cycles = 5;
    const char *env = getenv("HB_CAMPAIGN_CYCLES");
    if (env != NULL && atol(env) > 0) cycles = atol(env);
    http_reply r = httptest_admin(&server, "POST", "/v1/accounts",
                                  "{\"tier\":\"enterprise\",\"name\":\"PayShop\",\"fee_rate_bp\":80}", NULL);
    assert_int_equal(r.status, 201);
    char merchant[32], body[256];
    snprintf(merchant, sizeof merchant, "%s", httptest_str(&r, "id"));
    httptest_reply_free(&r);
    snprintf(body, sizeof body, "{\"owner\":\"%s\",\"kind\":\"static\"}", merchant);
    r = httptest_admin(&server, "POST", "/v1/codes", body, NULL);
    assert_int_equal(r.status, 201);
    static char payload[600];
    snprintf(payload, sizeof payload, "%s", httptest_str(&r, "payload"));
    httptest_reply_free(&r);
    static pay_worker workers[PAY_THREADS];
    char payers[PAY_THREADS][32];
    for (int t = 0; t < PAY_THREADS; t++) {
        char token[128], name[32];
        snprintf(name, sizeof name, "Payer%d", t);
        httptest_person(&server, name, 100000000, payers[t], token);
    }
    long retries = 0;
    for (long c = 1; c <= cycles; c++) {
        pthread_t th[PAY_THREADS];
        for (int t = 0; t < PAY_THREADS; t++) {
            memset(&workers[t], 0, sizeof workers[t]);
            workers[t].index = t;
            workers[t].cycle = c;
            workers[t].payload = payload;
            memcpy(workers[t].payer, payers[t], sizeof workers[t].payer);
            assert_int_equal(pthread_create(&th[t], NULL, run_pay_worker, &workers[t]), 0);
        }
        usleep((useconds_t)(uniform() * 0.12e6)); /* among the payments and refunds */
        httptest_kill(&server);
        httptest_restart(&server);
        for (int t = 0; t < PAY_THREADS; t++) pthread_join(th[t], NULL);
        for (int t = 0; t < PAY_THREADS; t++) assert_false(workers[t].failed);
        /* every key made exactly once: as many rows as keys, each key once */
        for (int t = 0; t < PAY_THREADS; t++) retries += workers[t].retries;
        static const struct {
            int kind;
            char prefix;
        } made[] = {{7, 'p'}, {9, 'r'}};
        for (size_t m = 0; m < 2; m++) {
            char sql[240], out[64], expect[64];
            snprintf(sql, sizeof sql, "SELECT COUNT(*), COUNT(DISTINCT idem_key) FROM transfers "
                                      "WHERE kind = %d AND idem_key LIKE '%c%ld-%%'",
                     made[m].kind, made[m].prefix, c);
            httptest_sql(&server, sql, out, sizeof out);
            snprintf(expect, sizeof expect, "%d|%d", PAY_THREADS * PAYS_PER_THREAD,
                     PAY_THREADS * PAYS_PER_THREAD);
            if (strcmp(out, expect) != 0) fail_msg("cycle %ld %c keys: %s, want %s", c, made[m].prefix, out, expect);
        }
        assert_true(httptest_balanced(&server));
    }
    /* settle the payments' business day, killing the settling process and the server in
     * between: the server counts days at UTC-12, the settler at UTC+14, so the payments'
     * day has always ended for the settler */
    r = httptest_admin(&server, "GET", "/v1/payments?limit=1", NULL, NULL);
    assert_int_equal(r.status, 200);
    char date[16];
    snprintf(date, sizeof date, "%s",
             json_string_value(json_object_get(json_array_get(json_object_get(r.json, "data"), 0),
                                               "business_day")));
    httptest_reply_free(&r);
    long killed = 0;
    char cmd[1600];
    for (long c = 0; c < cycles; c++) {
        snprintf(cmd, sizeof cmd,
                 "HONGBAO_GENERAL_TIMEZONE=Pacific/Kiritimati timeout -s KILL %.3f %s settle "
                 "--db '%s' --date %s > /dev/null 2>&1", 0.001 + uniform() * 0.03,
                 getenv("HONGBAO_BIN"), server.db, date);
        int rc = system(cmd);
        if (WIFEXITED(rc) && WEXITSTATUS(rc) == 137) killed++;
        if (c % 2 == 1) {
            httptest_kill(&server);
            httptest_restart(&server);
        }
    }
    snprintf(cmd, sizeof cmd,
             "HONGBAO_GENERAL_TIMEZONE=Pacific/Kiritimati %s settle --db '%s' --date %s > /dev/null",
             getenv("HONGBAO_BIN"), server.db, date);
    assert_int_equal(system(cmd), 0);
    char sql[300];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM payments WHERE owner_id = %s AND settlement_id = 0",
             merchant + 5);
    assert_int_equal(sql_count(sql), 0);
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM settlements WHERE merchant_id = %s", merchant + 5);
    assert_int_equal(sql_count(sql), 1);
    snprintf(sql, sizeof sql,
             "SELECT (SELECT SUM(net) FROM settlements WHERE merchant_id = %s) - "
             "(SELECT SUM(amount - fee - refunded + refunded_fee) FROM payments WHERE owner_id = %s)",
             merchant + 5, merchant + 5);
    assert_int_equal(sql_count(sql), 0);
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM payments WHERE owner_id = %s", merchant + 5);
    long long paid = sql_count(sql);
    assert_int_equal(paid, cycles * PAY_THREADS * PAYS_PER_THREAD);
    assert_true(httptest_balanced(&server));
    fprintf(stderr, "payments: %ld kill -9 cycles, %lld payments and as many refunds each made "
                    "exactly once (%ld requests sent again), settled once through %ld killed "
                    "settlers\n", cycles, paid, retries, killed);
}

static int setup(void **state)
{
    (void)state;
    httptest_lift_rate_limits();
    setenv("HONGBAO_TIER_PERSONAL_DAILY_LIMIT", "100000000.00", 1);
    setenv("HONGBAO_PAYMENTS_STATIC_DAILY_CAP", "100000000.00", 1);
    setenv("HONGBAO_SETTLEMENT_AUTO_AFTER", "off", 1);
    setenv("HONGBAO_GENERAL_TIMEZONE", "Etc/GMT+12", 1); /* see test_payment_campaign */
    httptest_start(&server);
    loadgen_init(&load, &server, 1, 16, true);
    return 0;
}

/* ---- browser logins ---------------------------------------------------------------------- */

#define LOGIN_THREADS 4
#define LOGINS_PER_THREAD 25

typedef struct login_worker {
    char cookies[LOGINS_PER_THREAD][128];
    int sessions;
    long lost;    /* opened, but the answer (and its cookie) lost: the link is used up */
    long retries;
    char failure[200];
} login_worker;

/* POST /v1/web/login: the status (0 when the answer was lost) and the session cookie. */
static long web_login(CURL *curl, const char *token, char *cookie, size_t size)
{
    char url[160], body[160];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/web/login", server.port);
    snprintf(body, sizeof body, "{\"token\":\"%s\"}", token);
    struct curl_slist *list = curl_slist_append(NULL, "Content-Type: application/json");
    list = curl_slist_append(list, "Expect:");
    httptest_buffer b = {NULL, 0};
    static _Thread_local char headers[HTTPTEST_HEADERS_MAX];
    headers[0] = '\0';
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, httptest_collect_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, httptest_collect_headers);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, (void *)headers);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
    CURLcode rc = curl_easy_perform(curl);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, (curl_write_callback)NULL);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, (void *)NULL);
    curl_slist_free_all(list);
    free(b.data);
    long status = 0;
    if (rc == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    cookie[0] = '\0';
    const char *c = strstr(headers, "hb_web=");
    if (status == 200 && c != NULL) snprintf(cookie, size, "%.*s", (int)strcspn(c, ";\r\n"), c);
    return status;
}

static void *run_login_worker(void *arg)
{
    login_worker *w = arg;
    CURL *curl = curl_easy_init();
    for (int i = 0; curl != NULL && i < LOGINS_PER_THREAD && w->failure[0] == '\0'; i++) {
        char token[96] = "";
        for (;;) { /* a link whose answer was lost is lost (never replayed): ask for another */
            json_t *j = NULL;
            long status = admin_post(curl, "/v1/login-links", "{\"role\":\"support\"}", NULL, &j);
            if (status == 0 || status == 503) {
                json_decref(j);
                w->retries++;
                usleep(20000);
                continue;
            }
            const char *url = json_string_value(json_object_get(j, "url"));
            const char *t = url != NULL ? strstr(url, "#t=") : NULL;
            if (status != 201 || t == NULL) {
                snprintf(w->failure, sizeof w->failure, "login link: %ld", status);
            } else {
                snprintf(token, sizeof token, "%s", t + 3);
            }
            json_decref(j);
            break;
        }
        bool sent_before = false;
        while (token[0] != '\0') {
            char cookie[128];
            long status = web_login(curl, token, cookie, sizeof cookie);
            if (status == 0 || status == 503) { /* unknown: the same token again */
                sent_before = true;
                w->retries++;
                usleep(20000);
                continue;
            }
            if (status == 200 && cookie[0] != '\0') {
                snprintf(w->cookies[w->sessions++], sizeof w->cookies[0], "%s", cookie);
            } else if (status == 401 && sent_before) {
                w->lost++; /* the lost attempt had opened it */
            } else {
                snprintf(w->failure, sizeof w->failure, "web login: %ld", status);
            }
            break;
        }
    }
    curl_easy_cleanup(curl);
    return NULL;
}

static void test_login_campaign(void **state)
{
    (void)state;
    long cycles = 5;
    const char *env = getenv("HB_CAMPAIGN_CYCLES");
    if (env != NULL && atol(env) > 0) cycles = atol(env);
    static login_worker workers[LOGIN_THREADS];
    long sessions = 0, lost = 0, retries = 0;
    for (long c = 0; c < cycles; c++) {
        pthread_t th[LOGIN_THREADS];
        for (int t = 0; t < LOGIN_THREADS; t++) {
            memset(&workers[t], 0, sizeof workers[t]);
            assert_int_equal(pthread_create(&th[t], NULL, run_login_worker, &workers[t]), 0);
        }
        usleep((useconds_t)(uniform() * 0.03e6)); /* among the links and logins */
        httptest_kill(&server);
        httptest_restart(&server);
        for (int t = 0; t < LOGIN_THREADS; t++) pthread_join(th[t], NULL);
        for (int t = 0; t < LOGIN_THREADS; t++) {
            if (workers[t].failure[0] != '\0') fail_msg("%s", workers[t].failure);
            lost += workers[t].lost;
            retries += workers[t].retries;
            for (int i = 0; i < workers[t].sessions; i++) { /* every session given still works */
                char cookie[160];
                snprintf(cookie, sizeof cookie, "Cookie: %.127s", workers[t].cookies[i]);
                const char *headers[] = {cookie, NULL};
                http_reply r = httptest_raw(&server, "GET", "/v1/web/session", NULL, 0, headers);
                if (r.status != 200) fail_msg("a session given before the kill: %ld %s", r.status, r.body);
                httptest_reply_free(&r);
                sessions++;
            }
        }
        /* each used link opened exactly one session (support sessions come only from here) */
        char out[64];
        httptest_sql(&server, "SELECT (SELECT COUNT(*) FROM login_links WHERE used_at <> 0) || '|' || "
                              "(SELECT COUNT(*) FROM sessions WHERE role = 3)", out, sizeof out);
        char *bar = strchr(out, '|');
        assert_non_null(bar);
        if (atol(out) != atol(bar + 1) || atol(out) != sessions + lost) {
            fail_msg("used links|sessions = %s, want %ld of each", out, sessions + lost);
        }
    }
    fprintf(stderr, "logins: %ld kill -9 cycles, %ld browser sessions opened once each from "
                    "their links (%ld more whose answer was lost), %ld requests sent again\n",
            cycles, sessions, lost, retries);
}

/* ---- key rotation ---------------------------------------------------------------------- */

#define RESEAL_PEOPLE 1000

/* Run `hongbao keys reseal` on the server's store; its output into out. */
static int run_reseal(char *out, size_t size)
{
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "%s keys reseal --db '%s' 2>&1", getenv("HONGBAO_BIN"), server.db);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_reseal_campaign(void **state)
{
    (void)state;
    long cycles = 5;
    const char *env = getenv("HB_CAMPAIGN_CYCLES");
    if (env != NULL && atol(env) > 0) cycles = atol(env);
    static char ids[RESEAL_PEOPLE][32];
    for (int i = 0; i < RESEAL_PEOPLE; i++) {
        char body[160];
        snprintf(body, sizeof body, "{\"tier\":\"personal\",\"name\":\"Reseal %d\","
                                    "\"real_name_level\":3}", i);
        http_reply r = httptest_admin(&server, "POST", "/v1/accounts", body, NULL);
        assert_int_equal(r.status, 201);
        snprintf(ids[i], sizeof ids[i], "%s", httptest_str(&r, "id"));
        httptest_reply_free(&r);
    }
    httptest_stop(&server);
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "%s keys rotate --db '%s' > /dev/null", getenv("HONGBAO_BIN"),
             server.db);
    assert_int_equal(system(cmd), 0);
    /* serve re-seals at start: killed at random moments of it */
    for (long c = 0; c < cycles; c++) {
        httptest_restart(&server);
        usleep((useconds_t)(uniform() * 0.1e6));
        httptest_kill(&server);
    }
    char out[512];
    assert_int_equal(run_reseal(out, sizeof out), 0); /* whatever was left; nothing unopened */
    assert_non_null(strstr(out, " 0 left"));
    long long left = atoll(out); /* what the killed servers had not sealed yet */
    assert_int_equal(run_reseal(out, sizeof out), 0);
    if (strstr(out, "0 rows sealed again") != out) fail_msg("a second pass still sealed: %s", out);
    httptest_restart(&server);
    for (int i = 0; i < RESEAL_PEOPLE; i += 7) {
        char path[96], name[32];
        snprintf(path, sizeof path, "/v1/accounts/%.31s/unmask", ids[i]);
        http_reply r = httptest_admin(&server, "POST", path, NULL, NULL);
        assert_int_equal(r.status, 200);
        snprintf(name, sizeof name, "Reseal %d", i);
        assert_string_equal(httptest_str(&r, "name"), name);
        httptest_reply_free(&r);
    }
    http_reply r = httptest_admin(&server, "GET", "/v1/audit/verify", NULL, NULL);
    if (r.status != 200 || strstr(r.body, "\"ok\":true") == NULL) fail_msg("audit: %s", r.body);
    httptest_reply_free(&r);
    assert_true(httptest_balanced(&server));
    fprintf(stderr, "re-seal: %d customers' data sealed again with a rotated key through %ld "
                    "killed servers (%lld rows left to the final pass), all of it opening as "
                    "written\n", RESEAL_PEOPLE, cycles, left);
}

static int teardown(void **state)
{
    (void)state;
    httptest_stop(&server);
    httptest_cleanup(&server);
    loadgen_free(&load);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_campaign),
                                       cmocka_unit_test(test_hot_grab_campaign),
                                       cmocka_unit_test(test_refund_campaign),
                                       cmocka_unit_test(test_code_campaign),
                                       cmocka_unit_test(test_adjustment_campaign),
                                       cmocka_unit_test(test_payment_campaign),
                                       cmocka_unit_test(test_login_campaign),
                                       cmocka_unit_test(test_reseal_campaign)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
