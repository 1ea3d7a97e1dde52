/* Several `hongbao serve` nodes on one store under load, with faults.
 *
 * Three nodes share one database (on PostgreSQL the deployment that scales out; on SQLite
 * three processes on one file, which must be just as correct). Client threads spread
 * transfers over all three, each with its own Idempotency-Key and the key as memo, and
 * record every answer: acknowledged (201), refused (4xx), or unknown (no answer, 503).
 *
 *  - kill -9 one node mid-load and start it again;
 *  - on PostgreSQL, restart the database server mid-load: the nodes answer 503 with
 *    Retry-After meanwhile (never a 500, never a wrong answer) and reconnect by themselves;
 *  - on PostgreSQL, kill the primary mid-load (it has a synchronous standby), promote the
 *    standby and point the nodes at it.
 *
 * On PostgreSQL the test runs on its own primary and synchronous standby
 * (scripts/pg-throwaway.sh start-pair), not on the shared test server.
 *
 * Afterwards every unknown request is sent again with its key until it has an answer, and:
 * every acknowledged transfer exists once with its fields, the store holds exactly one
 * transfer per acknowledged key and none for the others, the ledger is balanced, and each
 * node wrote its own audit chain. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "httptest.h"
#include "testutil.h"

#define NODES 3
#define WALLETS 12
#define THREADS 24
#define FUNDING 10000000
#define PER_THREAD_MAX 4000

static http_server_proc nodes[NODES];
static _Atomic int ports[NODES];
static const char *const node_names[NODES] = {"", "n2", "n3"};

typedef struct wallet {
    char id[32];
    char token[128];
} wallet;

static wallet wallets[WALLETS];

typedef enum outcome { OUT_NONE, OUT_ACKED, OUT_REFUSED, OUT_UNKNOWN } outcome;

typedef struct request_rec {
    char key[32];
    int from, to;
    int amount;
    outcome result;
    int64_t id;
} request_rec;

typedef struct worker {
    int index;
    double deadline;
    CURL *curl[NODES];
    request_rec *recs;
    int count;
    long unavailable;   /* 503s, each checked for Retry-After */
    long transport;     /* no answer (a killed node) */
    long bad;           /* anything a client must never see */
    char first_bad[512];
} worker;

static worker workers[THREADS];
static int load_case; /* numbers the keys of each load: "mn<case>-..." */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void expect_status(http_reply *r, long status)
{
    if (r->status != status) fprintf(stderr, "expected %ld, got %ld %s\n", status, r->status, r->body);
    assert_int_equal(r->status, status);
}

static void set_port_env(void)
{
    for (int i = 0; i < NODES; i++) atomic_store(&ports[i], nodes[i].port);
}

/* POST the request's transfer to a node; classify the answer. */
static outcome send_transfer(worker *w, CURL *curl, int node, request_rec *rec)
{
    char url[96], body[256], auth[200], idem[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/transfers", atomic_load(&ports[node]));
    snprintf(body, sizeof body, "{\"from\":\"%s\",\"to\":\"%s\",\"amount\":%d,\"memo\":\"%s\"}",
             wallets[rec->from].id, wallets[rec->to].id, rec->amount, rec->key);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", wallets[rec->from].token);
    snprintf(idem, sizeof idem, "Idempotency-Key: %s", rec->key);
    struct curl_slist *list = NULL;
    list = curl_slist_append(list, auth);
    list = curl_slist_append(list, idem);
    list = curl_slist_append(list, "Content-Type: application/json");
    list = curl_slist_append(list, "Expect:");
    httptest_buffer b = {NULL, 0};
    char headers[HTTPTEST_HEADERS_MAX] = "";
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, (void *)headers);
    CURLcode rc = curl_easy_perform(curl);
    curl_slist_free_all(list);
    long status = 0;
    if (rc == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    outcome out = OUT_UNKNOWN;
    if (rc != CURLE_OK) {
        w->transport++;
    } else if (status == 201) {
        json_error_t error;
        json_t *j = json_loads(b.data ? b.data : "", 0, &error);
        const char *id = j ? json_string_value(json_object_get(j, "id")) : NULL;
        json_t *amount = j ? json_object_get(j, "amount") : NULL;
        if (id != NULL && strncmp(id, "tr_", 3) == 0 && json_integer_value(amount) == rec->amount) {
            rec->id = strtoll(id + 3, NULL, 10);
            out = OUT_ACKED;
        } else {
            w->bad++;
            snprintf(w->first_bad, sizeof w->first_bad, "a 201 with wrong fields: %s", b.data);
        }
        json_decref(j);
    } else if (status == 503) {
        w->unavailable++;
        if (strstr(headers, "Retry-After:") == NULL) {
            w->bad++;
            snprintf(w->first_bad, sizeof w->first_bad, "a 503 without Retry-After: %s", b.data);
        }
    } else if (status >= 400 && status < 500) {
        out = OUT_REFUSED;
    } else {
        w->bad++;
        snprintf(w->first_bad, sizeof w->first_bad, "status %ld: %s", status, b.data);
    }
    free(b.data);
    return out;
}

static void *run_worker(void *arg)
{
    worker *w = arg;
    for (int n = 0; n < NODES; n++) {
        w->curl[n] = curl_easy_init();
        curl_easy_setopt(w->curl[n], CURLOPT_POST, 1L);
        curl_easy_setopt(w->curl[n], CURLOPT_WRITEFUNCTION, httptest_collect_body);
        curl_easy_setopt(w->curl[n], CURLOPT_HEADERFUNCTION, httptest_collect_headers);
        curl_easy_setopt(w->curl[n], CURLOPT_TIMEOUT, 30L);
        curl_easy_setopt(w->curl[n], CURLOPT_NOSIGNAL, 1L);
    }
    uint64_t rng = UINT64_C(0x9E3779B97F4A7C15) * (uint64_t)(unsigned)(w->index + 1);
    for (int k = 0; k < PER_THREAD_MAX && now_s() < w->deadline; k++) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        request_rec *rec = &w->recs[w->count++];
        snprintf(rec->key, sizeof rec->key, "mn%d-%d-%d-%d", load_case, w->index, k,
                 (int)(rng % 100000));
        rec->from = (int)(rng % WALLETS);
        rec->to = (rec->from + 1 + (int)((rng >> 8) % (WALLETS - 1))) % WALLETS;
        rec->amount = 1 + (int)((rng >> 16) % 50);
        int node = (w->index + k) % NODES;
        rec->result = send_transfer(w, w->curl[node], node, rec);
        if (rec->result == OUT_UNKNOWN) usleep(20000); /* a killed node or a restarting store */
    }
    for (int n = 0; n < NODES; n++) curl_easy_cleanup(w->curl[n]);
    return NULL;
}

static int setup(void **state)
{
    (void)state;
    httptest_lift_rate_limits();
    setenv("HONGBAO_TIER_PERSONAL_DAILY_LIMIT", "100000000.00", 1);
    httptest_start(&nodes[0]);
    for (int i = 1; i < NODES; i++) httptest_add_node(&nodes[i], &nodes[0], node_names[i]);
    set_port_env();
    for (int i = 0; i < WALLETS; i++) {
        /* set up through different nodes: each sees the others' accounts at once */
        http_server_proc *via = &nodes[i % NODES];
        char body[160], path[128];
        snprintf(body, sizeof body, "{\"tier\":\"personal\",\"name\":\"Node wallet %d\"}", i);
        http_reply r = httptest_admin(via, "POST", "/v1/accounts", body, NULL);
        expect_status(&r, 201);
        snprintf(wallets[i].id, sizeof wallets[i].id, "%s", httptest_str(&r, "id"));
        httptest_reply_free(&r);
        snprintf(path, sizeof path, "/v1/accounts/%s/topup", wallets[i].id);
        snprintf(body, sizeof body, "{\"amount\":%d,\"external_ref\":\"fund-%d\"}", FUNDING, i);
        r = httptest_admin(&nodes[(i + 1) % NODES], "POST", path, body, NULL);
        expect_status(&r, 201);
        httptest_reply_free(&r);
        snprintf(path, sizeof path, "/v1/accounts/%s/sessions", wallets[i].id);
        r = httptest_admin(&nodes[(i + 2) % NODES], "POST", path, NULL, NULL);
        expect_status(&r, 201);
        snprintf(wallets[i].token, sizeof wallets[i].token, "%s", httptest_str(&r, "token"));
        httptest_reply_free(&r);
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = NODES - 1; i >= 0; i--) httptest_stop(&nodes[i]);
    httptest_cleanup(&nodes[0]);
    return 0;
}

typedef void (*fault_fn)(double duration);

/* Run the load for duration seconds with the fault in the main thread meanwhile. */
static void run_load(double duration, fault_fn fault)
{
    pthread_t ids[THREADS];
    load_case++;
    double start = now_s();
    for (int i = 0; i < THREADS; i++) {
        worker *w = &workers[i];
        memset(w, 0, sizeof *w);
        w->index = i;
        w->deadline = start + duration;
        w->recs = calloc(PER_THREAD_MAX, sizeof *w->recs);
        assert_non_null(w->recs);
        assert_int_equal(pthread_create(&ids[i], NULL, run_worker, w), 0);
    }
    fault(duration);
    for (int i = 0; i < THREADS; i++) assert_int_equal(pthread_join(ids[i], NULL), 0);
}

/* Settle the unknowns, then check everything; frees the records. */
static void verify(const char *what)
{
    long acked = 0, refused = 0, unknown = 0, unavailable = 0, transport = 0;
    CURL *curl = curl_easy_init();
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, httptest_collect_body);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, httptest_collect_headers);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
    for (int i = 0; i < THREADS; i++) {
        worker *w = &workers[i];
        if (w->bad > 0) fprintf(stderr, "%s: thread %d: %s\n", what, i, w->first_bad);
        assert_int_equal(w->bad, 0);
        unavailable += w->unavailable;
        transport += w->transport;
        for (int k = 0; k < w->count; k++) {
            request_rec *rec = &w->recs[k];
            if (rec->result == OUT_UNKNOWN) {
                unknown++;
                /* the same key again, on any node, until it has an answer */
                for (int attempt = 0; attempt < 300 && rec->result == OUT_UNKNOWN; attempt++) {
                    rec->result = send_transfer(w, curl, attempt % NODES, rec);
                    if (rec->result == OUT_UNKNOWN) usleep(50000);
                }
                assert_int_not_equal(rec->result, OUT_UNKNOWN);
                assert_int_equal(w->bad, 0);
            }
            if (rec->result == OUT_ACKED) acked++;
            if (rec->result == OUT_REFUSED) refused++;
        }
    }
    curl_easy_cleanup(curl);
    fprintf(stderr, "multinode (%s): %ld acknowledged, %ld refused, %ld unknown then settled "
                    "(%ld answered 503, %ld without an answer)\n",
            what, acked, refused, unknown, unavailable, transport);
    assert_true(acked > 0);
    assert_int_equal(refused, 0); /* funded far beyond what the load moves */
    /* every acknowledged transfer exists with its fields, read through each node in turn */
    long checked = 0;
    for (int i = 0; i < THREADS; i++) {
        worker *w = &workers[i];
        for (int k = 0; k < w->count; k += 7) {
            request_rec *rec = &w->recs[k];
            if (rec->result != OUT_ACKED) continue;
            char path[64];
            snprintf(path, sizeof path, "/v1/transfers/tr_%lld", (long long)rec->id);
            http_reply r = httptest_admin(&nodes[k % NODES], "GET", path, NULL, NULL);
            expect_status(&r, 200);
            assert_int_equal(httptest_int(&r, "amount"), rec->amount);
            assert_string_equal(httptest_str(&r, "from"), wallets[rec->from].id);
            assert_string_equal(httptest_str(&r, "to"), wallets[rec->to].id);
            httptest_reply_free(&r);
            checked++;
        }
    }
    /* exactly one transfer per acknowledged key, none twice */
    char line[64], sql[160];
    snprintf(sql, sizeof sql, "SELECT COUNT(*), COUNT(DISTINCT reference) FROM transfers "
             "WHERE reference LIKE 'mn%d-%%'", load_case);
    httptest_sql(&nodes[0], sql, line, sizeof line);
    long long stored = 0, distinct = 0;
    assert_int_equal(sscanf(line, "%lld%*[|]%lld", &stored, &distinct), 2);
    assert_int_equal(stored, distinct);
    assert_int_equal(stored, acked);
    assert_true(httptest_balanced(&nodes[1]));
    /* each node kept its own audit chain */
    httptest_sql(&nodes[0], "SELECT COUNT(DISTINCT node) FROM audit", line, sizeof line);
    assert_true(atoi(line) >= NODES);
    fprintf(stderr, "multinode (%s): %ld transfers read back through the nodes\n", what, checked);
    for (int i = 0; i < THREADS; i++) free(workers[i].recs);
}

static void kill_one_node(double duration)
{
    usleep((useconds_t)(duration * 1e6 / 3));
    httptest_kill(&nodes[1]);
    usleep(300000);
    httptest_restart(&nodes[1]);
    atomic_store(&ports[1], nodes[1].port);
}

/* kill -9 one node mid-load and start it again: nothing acknowledged is lost or doubled. */
static void test_kill_one_node(void **state)
{
    (void)state;
    run_load(3.0 * (double)testutil_scaled(100) / 100.0 + 1.0, kill_one_node);
    verify("kill -9 one node");
}

static char pair_dir[512];
static char standby_url[256];

static void throwaway(const char *verb, const char *dir)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s/scripts/pg-throwaway.sh' %s '%s'", HB_SOURCE_DIR, verb, dir);
    assert_int_equal(system(cmd), 0);
}

static void restart_database(double duration)
{
    usleep((useconds_t)(duration * 1e6 / 3));
    throwaway("restart", getenv("HB_TEST_PG_DIR"));
}

/* The primary dies; the standby is promoted; every node is restarted on the standby's url
 * (the database name stays). */
static void fail_over(double duration)
{
    usleep((useconds_t)(duration * 1e6 / 3));
    char dir[600];
    snprintf(dir, sizeof dir, "%s/primary", pair_dir);
    throwaway("kill", dir);
    usleep(200000);
    snprintf(dir, sizeof dir, "%s/standby", pair_dir);
    throwaway("promote", dir);
    const char *db = strrchr(nodes[0].db, '/');
    assert_non_null(db);
    char url[600];
    snprintf(url, sizeof url, "%s%s", standby_url, db);
    for (int i = 0; i < NODES; i++) {
        httptest_kill(&nodes[i]);
        snprintf(nodes[i].db, sizeof nodes[i].db, "%s", url);
        httptest_restart(&nodes[i]);
        atomic_store(&ports[i], nodes[i].port);
    }
}

/* On PostgreSQL: restart the database server mid-load. */
static void test_database_restart(void **state)
{
    (void)state;
    if (testutil_pg() == NULL || getenv("HB_TEST_PG_DIR") == NULL) {
        skip(); /* the SQLite store has no server to restart; its faults are test_engine's */
    }
    run_load(4.0 * (double)testutil_scaled(100) / 100.0 + 2.0, restart_database);
    verify("PostgreSQL restarted");
}

/* A signed request replayed to another node is refused: the nonce is in the store, written
 * in the same transaction as the top-up it carried. */
static void test_replay_to_another_node(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "/v1/accounts/%s/topup", wallets[0].id);
    const char *body = "{\"amount\":5,\"external_ref\":\"replay-1\"}";
    long long ts = (long long)time(NULL);
    const char *nonce = "crossNodeNonce000001";
    http_reply first = httptest_signed_at(&nodes[0], nodes[0].admin_key, nodes[0].admin_secret,
                                          "POST", path, body, ts, nonce, NULL);
    expect_status(&first, 201);
    httptest_reply_free(&first);
    for (int i = 1; i < NODES; i++) {
        http_reply again = httptest_signed_at(&nodes[i], nodes[0].admin_key,
                                              nodes[0].admin_secret, "POST", path, body, ts,
                                              nonce, NULL);
        expect_status(&again, 401);
        assert_string_equal(httptest_error_code(&again), "UNAUTHENTICATED");
        httptest_reply_free(&again);
    }
    char line[64];
    httptest_sql(&nodes[0], "SELECT COUNT(*) FROM transfers WHERE reference = 'replay-1'", line,
                 sizeof line);
    assert_int_equal(atoi(line), 1);
}

/* On PostgreSQL: the primary is lost with a synchronous standby in place. */
static void test_failover(void **state)
{
    (void)state;
    if (pair_dir[0] == '\0') {
        skip(); /* SQLite has no standby; PostgreSQL's streaming replication is the way */
    }
    run_load(4.0 * (double)testutil_scaled(100) / 100.0 + 2.0, fail_over);
    verify("primary lost, standby promoted");
}

/* PostgreSQL: a primary with a synchronous standby of our own for this binary. */
static void start_pair(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(pair_dir, sizeof pair_dir, "%s/hongbao-pair-XXXXXX", base && base[0] ? base : "/tmp");
    assert_non_null(mkdtemp(pair_dir));
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s/scripts/pg-throwaway.sh' start-pair '%s'", HB_SOURCE_DIR,
             pair_dir);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char primary[256] = "";
    assert_non_null(fgets(primary, sizeof primary, p));
    assert_non_null(fgets(standby_url, sizeof standby_url, p));
    assert_int_equal(pclose(p), 0);
    primary[strcspn(primary, "\n")] = '\0';
    standby_url[strcspn(standby_url, "\n")] = '\0';
    char dir[600];
    snprintf(dir, sizeof dir, "%s/primary", pair_dir);
    setenv("HB_TEST_PG", primary, 1);
    setenv("HB_TEST_PG_DIR", dir, 1);
}

int main(void)
{
    if (testutil_pg() != NULL) start_pair();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay_to_another_node),
        cmocka_unit_test(test_kill_one_node),
        cmocka_unit_test(test_database_restart),
        cmocka_unit_test(test_failover),
    };
    int failed = cmocka_run_group_tests(tests, setup, teardown);
    if (pair_dir[0] != '\0') throwaway("stop", pair_dir);
    return failed;
}
