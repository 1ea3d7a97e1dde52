#include "loadgen.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

#define FUNDING 10000000
#define OPS_MAX 6000
#define BATCH_MAX 4

typedef enum outcome { OUT_NONE, OUT_ACKED, OUT_REFUSED, OUT_UNKNOWN } outcome;

typedef struct op {
    char key[40];
    int from, to;
    int amount;
    bool batch; /* sent through /v1/transfers/batch (the key lives in that scope) */
    outcome result;
    long long id;
} op;

typedef struct loadgen_worker {
    loadgen *g;
    int index;
    double deadline;
    CURL *curl[LOADGEN_NODES_MAX];
    op *ops;
    int count;
    long unavailable; /* 503s, each checked for Retry-After */
    long transport;   /* no answer (a killed node) */
    long bad;         /* anything a client must never see */
    char first_bad[512];
} worker;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void note_bad(worker *w, const char *what, const char *body)
{
    w->bad++;
    if (w->first_bad[0] == '\0') {
        snprintf(w->first_bad, sizeof w->first_bad, "%s: %s", what, body ? body : "");
    }
}

static CURL *new_handle(void)
{
    CURL *curl = curl_easy_init();
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, httptest_collect_body);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, httptest_collect_headers);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    return curl;
}

static void item_json(const loadgen *g, const op *o, bool with_key, char *out, size_t size)
{
    snprintf(out, size, "{\"from\":\"%s\",\"to\":\"%s\",\"amount\":%d,\"memo\":\"%s\"%s%s%s}",
             g->wallets[o->from].id, g->wallets[o->to].id, o->amount, o->key,
             with_key ? ",\"idempotency_key\":\"" : "", with_key ? o->key : "",
             with_key ? "\"" : "");
}

/* Does a transfer object (a 201 body or a batch item's "transfer") match the op? */
static bool matches(const loadgen *g, const op *o, json_t *t, long long *id)
{
    const char *tid = json_string_value(json_object_get(t, "id"));
    const char *from = json_string_value(json_object_get(t, "from"));
    const char *to = json_string_value(json_object_get(t, "to"));
    if (tid == NULL || strncmp(tid, "tr_", 3) != 0 || from == NULL || to == NULL ||
        strcmp(from, g->wallets[o->from].id) != 0 || strcmp(to, g->wallets[o->to].id) != 0 ||
        json_integer_value(json_object_get(t, "amount")) != o->amount) {
        return false;
    }
    *id = strtoll(tid + 3, NULL, 10);
    return *id > 0;
}

/* Send ops[0..n) to a node (n > 1 only as a batch); classify each op. replay: the ops were
 * acknowledged before, and must come back as the same transfers, marked replayed. */
static void send_ops(worker *w, CURL *curl, int node, op *ops, int n, bool replay)
{
    loadgen *g = w->g;
    bool batch = ops[0].batch;
    char url[96], body[1400], auth[200], idem[80];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/transfers%s", atomic_load(&g->ports[node]),
             batch ? "/batch" : "");
    if (batch) {
        size_t len = (size_t)snprintf(body, sizeof body, "{\"transfers\":[");
        for (int i = 0; i < n; i++) {
            char item[300];
            item_json(g, &ops[i], true, item, sizeof item);
            len += (size_t)snprintf(body + len, sizeof body - len, "%s%s", i ? "," : "", item);
        }
        snprintf(body + len, sizeof body - len, "]}");
    } else {
        item_json(g, &ops[0], false, body, sizeof body);
    }
    /* a batch is paid from one wallet: all its items share ops[0].from */
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", g->wallets[ops[0].from].token);
    snprintf(idem, sizeof idem, "Idempotency-Key: %s", ops[0].key);
    struct curl_slist *list = NULL;
    list = curl_slist_append(list, auth);
    if (!batch) list = curl_slist_append(list, idem);
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
    const char *text = b.data ? b.data : "";
    json_error_t error;
    json_t *j = rc == CURLE_OK ? json_loads(text, 0, &error) : NULL;
    for (int i = 0; i < n; i++) ops[i].result = OUT_UNKNOWN;
    if (rc != CURLE_OK) {
        w->transport++;
    } else if (status == 503) {
        w->unavailable++;
        if (strstr(headers, "Retry-After:") == NULL) note_bad(w, "a 503 without Retry-After", text);
    } else if (status >= 500 || j == NULL) {
        note_bad(w, "a 5xx or a body that is not JSON", text);
    } else if (status >= 400) {
        for (int i = 0; i < n; i++) ops[i].result = OUT_REFUSED;
    } else if (!batch) {
        long long id = 0;
        if (status != 201 || !matches(g, &ops[0], j, &id)) {
            note_bad(w, "a 2xx that is not the transfer asked for", text);
        } else if (replay && (id != ops[0].id || strstr(headers, "Idempotent-Replayed: true") == NULL)) {
            note_bad(w, "a key sent again did not replay its transfer", text);
        } else {
            ops[0].id = id;
            ops[0].result = OUT_ACKED;
        }
    } else {
        json_t *results = json_object_get(j, "results");
        if (status != 200 || json_array_size(results) != (size_t)n) {
            note_bad(w, "a batch answer without one result per transfer", text);
        }
        for (int i = 0; i < n && i < (int)json_array_size(results); i++) {
            json_t *item = json_array_get(results, (size_t)i);
            json_int_t item_status = json_integer_value(json_object_get(item, "status"));
            long long id = 0;
            if (item_status == 201) {
                if (!matches(g, &ops[i], json_object_get(item, "transfer"), &id)) {
                    note_bad(w, "a batch item that is not the transfer asked for", text);
                } else if (replay && (id != ops[i].id ||
                                      !json_is_true(json_object_get(item, "replayed")))) {
                    note_bad(w, "a batch key sent again did not replay its transfer", text);
                } else {
                    ops[i].id = id;
                    ops[i].result = OUT_ACKED;
                }
            } else if (item_status == 503) {
                w->unavailable++;
            } else if (item_status >= 400 && item_status < 500) {
                ops[i].result = OUT_REFUSED;
            } else {
                note_bad(w, "a batch item with an unexpected status", text);
            }
        }
    }
    json_decref(j);
    free(b.data);
}

static void *run_worker(void *arg)
{
    worker *w = arg;
    loadgen *g = w->g;
    for (int n = 0; n < g->node_count; n++) w->curl[n] = new_handle();
    uint64_t rng = UINT64_C(0x9E3779B97F4A7C15) * (uint64_t)(unsigned)(w->index + 1) ^
                   (uint64_t)g->load_case;
    for (int k = 0; w->count < OPS_MAX - BATCH_MAX && now_s() < w->deadline; k++) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        int n = g->batches && (rng >> 40) % 4 == 0 ? 1 + (int)((rng >> 44) % BATCH_MAX) : 1;
        op *ops = &w->ops[w->count];
        int from = (int)(rng % LOADGEN_WALLETS);
        for (int i = 0; i < n; i++) {
            op *o = &ops[i];
            snprintf(o->key, sizeof o->key, "lg%d-%d-%d-%d", g->load_case, w->index, k, i);
            o->from = from;
            o->to = (from + 1 + (int)((rng >> (8 + i)) % (LOADGEN_WALLETS - 1))) % LOADGEN_WALLETS;
            o->amount = 1 + (int)((rng >> (16 + i)) % 50);
            o->batch = n > 1 || (g->batches && (rng >> 50) % 8 == 0);
        }
        w->count += n;
        int node = (w->index + k) % g->node_count;
        send_ops(w, w->curl[node], node, ops, n, false);
        if (ops[0].result == OUT_UNKNOWN) usleep(20000); /* a killed node or a restarting store */
    }
    for (int n = 0; n < g->node_count; n++) curl_easy_cleanup(w->curl[n]);
    return NULL;
}

void loadgen_init(loadgen *g, http_server_proc *nodes, int node_count, int threads, bool batches)
{
    memset(g, 0, sizeof *g);
    assert_true(node_count >= 1 && node_count <= LOADGEN_NODES_MAX);
    assert_true(threads >= 1 && threads <= LOADGEN_THREADS_MAX);
    g->nodes = nodes;
    g->node_count = node_count;
    g->threads = threads;
    g->batches = batches;
    g->workers = calloc(LOADGEN_THREADS_MAX, sizeof *g->workers);
    assert_non_null(g->workers);
    for (int i = 0; i < node_count; i++) loadgen_node_moved(g, i);
    for (int i = 0; i < LOADGEN_WALLETS; i++) {
        char name[32];
        snprintf(name, sizeof name, "Load wallet %d", i);
        httptest_person(&nodes[i % node_count], name, FUNDING, g->wallets[i].id,
                        g->wallets[i].token);
    }
}

void loadgen_node_moved(loadgen *g, int node)
{
    atomic_store(&g->ports[node], g->nodes[node].port);
}

void loadgen_run(loadgen *g, double seconds, void (*fault)(loadgen *g, double seconds, void *ctx),
                 void *ctx)
{
    pthread_t ids[LOADGEN_THREADS_MAX];
    g->load_case++;
    double start = now_s();
    for (int i = 0; i < g->threads; i++) {
        worker *w = &g->workers[i];
        free(w->ops);
        memset(w, 0, sizeof *w);
        w->g = g;
        w->index = i;
        w->deadline = start + seconds;
        w->ops = calloc(OPS_MAX, sizeof *w->ops);
        assert_non_null(w->ops);
        assert_int_equal(pthread_create(&ids[i], NULL, run_worker, w), 0);
    }
    fault(g, seconds, ctx);
    for (int i = 0; i < g->threads; i++) assert_int_equal(pthread_join(ids[i], NULL), 0);
}

/* Send a batch's or a transfer's ops again until each has an answer. */
static void settle(worker *w, CURL *curl, op *o)
{
    for (int attempt = 0; attempt < 300 && o->result == OUT_UNKNOWN; attempt++) {
        send_ops(w, curl, attempt % w->g->node_count, o, 1, false);
        if (o->result == OUT_UNKNOWN) usleep(50000);
    }
    assert_int_not_equal(o->result, OUT_UNKNOWN);
}

long loadgen_verify(loadgen *g, const char *what)
{
    long acked = 0, refused = 0, unknown = 0, unavailable = 0, transport = 0, replays = 0;
    CURL *curl = new_handle();
    for (int i = 0; i < g->threads; i++) {
        worker *w = &g->workers[i];
        if (w->bad > 0) fprintf(stderr, "%s: thread %d: %s\n", what, i, w->first_bad);
        assert_int_equal(w->bad, 0);
        unavailable += w->unavailable;
        transport += w->transport;
        for (int k = 0; k < w->count; k++) {
            op *o = &w->ops[k];
            if (o->result == OUT_UNKNOWN) {
                unknown++;
                settle(w, curl, o); /* one at a time: a batch item as a batch of one */
            }
            if (o->result == OUT_REFUSED) refused++;
            if (o->result != OUT_ACKED) continue;
            acked++;
            if (k % 23 == 0) {
                /* the key again: the same transfer, marked replayed */
                op again = *o;
                for (int attempt = 0; attempt < 100; attempt++) {
                    /* a 503 is allowed here too: a node's pooled read connection may have
                     * died with a restarted database, and is replaced after one failure */
                    send_ops(w, curl, (k + attempt) % g->node_count, &again, 1, true);
                    if (again.result != OUT_UNKNOWN) break;
                    usleep(50000);
                }
                assert_int_equal(again.result, OUT_ACKED);
                replays++;
            }
            assert_int_equal(w->bad, 0);
        }
        if (w->bad > 0) fprintf(stderr, "%s: settling: %s\n", what, w->first_bad);
        assert_int_equal(w->bad, 0);
    }
    curl_easy_cleanup(curl);
    g->last_unavailable = unavailable;
    g->last_unknown = unknown;
    fprintf(stderr, "loadgen (%s): %ld acknowledged, %ld refused, %ld unknown then settled "
                    "(%ld answered 503, %ld without an answer), %ld keys replayed\n",
            what, acked, refused, unknown, unavailable, transport, replays);
    assert_true(acked > 0);
    assert_int_equal(refused, 0); /* funded far beyond what the load moves */
    /* every acknowledged transfer exists with its fields, read through the nodes in turn */
    for (int i = 0; i < g->threads; i++) {
        worker *w = &g->workers[i];
        for (int k = 0; k < w->count; k += 11) {
            op *o = &w->ops[k];
            char path[64];
            snprintf(path, sizeof path, "/v1/transfers/tr_%lld", o->id);
            http_reply r = httptest_admin(&g->nodes[k % g->node_count], "GET", path, NULL, NULL);
            for (int attempt = 0; attempt < 100 && r.status == 503; attempt++) {
                httptest_reply_free(&r); /* as above: a pooled connection that died */
                usleep(50000);
                r = httptest_admin(&g->nodes[k % g->node_count], "GET", path, NULL, NULL);
            }
            assert_int_equal(r.status, 200);
            assert_int_equal(httptest_int(&r, "amount"), o->amount);
            assert_string_equal(httptest_str(&r, "from"), g->wallets[o->from].id);
            assert_string_equal(httptest_str(&r, "to"), g->wallets[o->to].id);
            httptest_reply_free(&r);
        }
    }
    /* exactly one transfer per acknowledged key, none twice */
    char line[64], sql[192];
    snprintf(sql, sizeof sql, "SELECT COUNT(*), COUNT(DISTINCT reference) FROM transfers "
             "WHERE reference LIKE 'lg%d-%%'", g->load_case);
    httptest_sql(&g->nodes[0], sql, line, sizeof line);
    long long stored = 0, distinct = 0;
    assert_int_equal(sscanf(line, "%lld%*[|]%lld", &stored, &distinct), 2);
    assert_int_equal(stored, distinct);
    assert_int_equal(stored, acked);
    assert_true(httptest_balanced(&g->nodes[g->node_count - 1]));
    return acked;
}

void loadgen_free(loadgen *g)
{
    for (int i = 0; i < LOADGEN_THREADS_MAX; i++) free(g->workers[i].ops);
    free(g->workers);
    g->workers = NULL;
}
