/* Concurrent transfers over HTTP against the real server: 64 client threads (at least 8 when
 * HB_TEST_SCALE is below 100), each with its own keep-alive libcurl handle and one of 16
 * person wallets' bearer sessions, move small amounts from their wallet to random others for
 * a bounded time. Some transfers carry an Idempotency-Key; some keys are sent again (at once
 * or later) and must replay the same transfer; some are reused with another body and must
 * conflict. Afterwards the ledger is balanced, every recorded transfer exists once with the
 * same fields, the transfer count grew by exactly the number of distinct 201s, and each
 * wallet holds its top-up plus what it received minus what it sent. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "httptest.h"
#include "testutil.h"

#define WALLETS 16
#define THREADS_MAX 64
#define THREADS_MIN 8
#define FUNDING 1000000 /* fen per wallet */
#define AMOUNT_MAX 20   /* fen per transfer: a wallet sends far less than a daily limit */
#define PER_THREAD_MAX 1000
#define DURATION_S 5.0
#define SAMPLE_MAX 500
#define KEYS_KEPT 64

static http_server_proc server;

typedef struct wallet {
    char id[32];
    char token[128];
    long long funded;
} wallet;

static wallet wallets[WALLETS];

typedef struct record {
    int64_t id;
    int from;
    int to;
    int64_t amount;
} record;

typedef struct keyed {
    char key[48];
    int to;
    int64_t amount;
    int64_t id;
    char *reply; /* the first reply's body, to compare replays with */
} keyed;

typedef struct worker {
    int index;
    int wallet;
    int max_requests;
    double deadline;
    uint64_t rng;
    CURL *curl;
    char url[128];
    /* results */
    record *records;
    size_t count, cap;
    keyed keys[KEYS_KEPT];
    int key_count;
    long requests;
    long replays;
    long conflicts;
    long connects;
    long errors;
    char first_error[1024];
} worker;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t next_random(worker *w)
{
    /* xorshift64* */
    uint64_t x = w->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    w->rng = x;
    return x * UINT64_C(0x2545F4914F6CDD1D);
}

static int random_below(worker *w, int n)
{
    return (int)(next_random(w) % (uint64_t)n);
}

/* ---- one keep-alive client per thread ------------------------------------------------------ */

typedef struct answer {
    long status;
    char *body;
    char headers[HTTPTEST_HEADERS_MAX];
    char transport_error[128];
} answer;

/* POST /v1/transfers on the thread's own handle (the connection is kept alive between
 * calls). */
static answer post_transfer(worker *w, const char *body, const char *idem_key)
{
    answer a;
    memset(&a, 0, sizeof a);
    char auth[200], idem[96];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", wallets[w->wallet].token);
    struct curl_slist *list = NULL;
    list = curl_slist_append(list, auth);
    list = curl_slist_append(list, "Content-Type: application/json");
    list = curl_slist_append(list, "Expect:");
    if (idem_key != NULL) {
        snprintf(idem, sizeof idem, "Idempotency-Key: %s", idem_key);
        list = curl_slist_append(list, idem);
    }
    httptest_buffer b = {NULL, 0};
    curl_easy_setopt(w->curl, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(w->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(w->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    curl_easy_setopt(w->curl, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(w->curl, CURLOPT_HEADERDATA, (void *)a.headers);
    CURLcode rc = curl_easy_perform(w->curl);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, &a.status);
        long connects = 0;
        curl_easy_getinfo(w->curl, CURLINFO_NUM_CONNECTS, &connects);
        w->connects += connects;
    } else {
        snprintf(a.transport_error, sizeof a.transport_error, "%s", curl_easy_strerror(rc));
    }
    curl_slist_free_all(list);
    a.body = b.data ? b.data : strdup("");
    w->requests++;
    return a;
}

static void note_failure(worker *w, const char *what, const char *body, const answer *a)
{
    w->errors++;
    if (w->first_error[0] != '\0') return;
    snprintf(w->first_error, sizeof w->first_error,
             "thread %d (%s): %s\n  request: %s\n  answer: %ld %s%s", w->index,
             wallets[w->wallet].id, what, body, a->status, a->transport_error,
             a->body ? a->body : "");
}

/* A 201 transfer reply: check its fields against the request, return its id (0 if wrong). */
static int64_t check_created(worker *w, const char *body, const answer *a, int to, int64_t amount)
{
    json_error_t error;
    json_t *j = json_loads(a->body, 0, &error);
    const char *id = j ? json_string_value(json_object_get(j, "id")) : NULL;
    const char *kind = j ? json_string_value(json_object_get(j, "kind")) : NULL;
    const char *from = j ? json_string_value(json_object_get(j, "from")) : NULL;
    const char *dest = j ? json_string_value(json_object_get(j, "to")) : NULL;
    json_t *amt = j ? json_object_get(j, "amount") : NULL;
    int64_t value = 0;
    bool ok = id != NULL && strncmp(id, "tr_", 3) == 0 && kind != NULL &&
              strcmp(kind, "p2p") == 0 && from != NULL &&
              strcmp(from, wallets[w->wallet].id) == 0 && dest != NULL &&
              strcmp(dest, wallets[to].id) == 0 && json_is_integer(amt) &&
              json_integer_value(amt) == amount;
    if (ok) {
        char *end = NULL;
        value = strtoll(id + 3, &end, 10);
        ok = end != NULL && *end == '\0' && value > 0;
    }
    json_decref(j);
    if (!ok) {
        note_failure(w, "a 201 whose fields do not match the request", body, a);
        return 0;
    }
    return value;
}

static void remember(worker *w, int64_t id, int to, int64_t amount)
{
    if (w->count == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 256;
        record *grown = realloc(w->records, w->cap * sizeof *grown);
        if (grown == NULL) abort();
        w->records = grown;
    }
    w->records[w->count++] = (record){id, w->wallet, to, amount};
}

static void transfer_body(const worker *w, int to, int64_t amount, const char *memo, char *out,
                          size_t size)
{
    snprintf(out, size, "{\"from\":\"%s\",\"to\":\"%s\",\"amount\":%lld%s%s%s}",
             wallets[w->wallet].id, wallets[to].id, (long long)amount, memo ? ",\"memo\":\"" : "",
             memo ? memo : "", memo ? "\"" : "");
}

/* Send a kept key again with its body: the same transfer, marked replayed, byte-equal. */
static void replay(worker *w, const keyed *k)
{
    char body[256];
    transfer_body(w, k->to, k->amount, k->key, body, sizeof body);
    answer a = post_transfer(w, body, k->key);
    if (a.status != 201) {
        note_failure(w, "a replay did not answer 201", body, &a);
    } else if (strstr(a.headers, "Idempotent-Replayed: true") == NULL) {
        note_failure(w, "a replay lacks Idempotent-Replayed: true", body, &a);
    } else if (strcmp(a.body, k->reply) != 0) {
        note_failure(w, "a replay's body differs from the first reply", body, &a);
    } else if (check_created(w, body, &a, k->to, k->amount) != k->id) {
        note_failure(w, "a replay names another transfer", body, &a);
    } else {
        w->replays++;
    }
    free(a.body);
}

static void *run_worker(void *arg)
{
    worker *w = arg;
    w->curl = curl_easy_init();
    if (w->curl == NULL) {
        snprintf(w->first_error, sizeof w->first_error, "curl_easy_init failed");
        w->errors++;
        return NULL;
    }
    snprintf(w->url, sizeof w->url, "http://127.0.0.1:%d/v1/transfers", server.port);
    curl_easy_setopt(w->curl, CURLOPT_URL, w->url);
    curl_easy_setopt(w->curl, CURLOPT_POST, 1L);
    curl_easy_setopt(w->curl, CURLOPT_WRITEFUNCTION, httptest_collect_body);
    curl_easy_setopt(w->curl, CURLOPT_HEADERFUNCTION, httptest_collect_headers);
    curl_easy_setopt(w->curl, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(w->curl, CURLOPT_NOSIGNAL, 1L);
    int seq = 0;
    while (w->requests < w->max_requests && now_s() < w->deadline) {
        int roll = random_below(w, 100);
        if (roll < 5 && w->key_count > 0) {
            /* a later replay of a kept key */
            replay(w, &w->keys[random_below(w, w->key_count)]);
            continue;
        }
        if (roll < 7 && w->key_count > 0) {
            /* a kept key with another amount: a conflict, no transfer */
            const keyed *k = &w->keys[random_below(w, w->key_count)];
            char body[256];
            transfer_body(w, k->to, k->amount + 1, k->key, body, sizeof body);
            answer a = post_transfer(w, body, k->key);
            json_error_t error;
            json_t *j = json_loads(a.body, 0, &error);
            const char *code =
                j ? json_string_value(json_object_get(json_object_get(j, "error"), "code")) : NULL;
            if (a.status == 409 && code != NULL && strcmp(code, "IDEMPOTENCY_CONFLICT") == 0) {
                w->conflicts++;
            } else {
                note_failure(w, "a reused key with another body did not conflict", body, &a);
            }
            json_decref(j);
            free(a.body);
            continue;
        }
        int to = random_below(w, WALLETS - 1);
        if (to >= w->wallet) to++;
        int64_t amount = 1 + random_below(w, AMOUNT_MAX);
        bool with_key = roll >= 7 && roll < 32;
        char key[48], body[256];
        snprintf(key, sizeof key, "c%d-%d-%d", w->index, seq++, random_below(w, 1000000));
        transfer_body(w, to, amount, with_key ? key : NULL, body, sizeof body);
        answer a = post_transfer(w, body, with_key ? key : NULL);
        if (a.status != 201) {
            note_failure(w, "a transfer did not answer 201", body, &a);
            free(a.body);
            continue;
        }
        if (strstr(a.headers, "Idempotent-Replayed") != NULL) {
            note_failure(w, "a first request was marked replayed", body, &a);
        }
        int64_t id = check_created(w, body, &a, to, amount);
        if (id == 0) {
            free(a.body);
            continue;
        }
        remember(w, id, to, amount);
        if (!with_key) {
            free(a.body);
            continue;
        }
        keyed *k = NULL;
        if (w->key_count < KEYS_KEPT) {
            k = &w->keys[w->key_count++];
        } else {
            k = &w->keys[random_below(w, KEYS_KEPT)];
            free(k->reply);
        }
        snprintf(k->key, sizeof k->key, "%s", key);
        k->to = to;
        k->amount = amount;
        k->id = id;
        k->reply = a.body;
        if (random_below(w, 2) == 0) replay(w, k); /* the same key again at once */
    }
    curl_easy_cleanup(w->curl);
    w->curl = NULL;
    return NULL;
}

/* ---- setup --------------------------------------------------------------------------------- */

static void expect_status(http_reply *r, long status)
{
    if (r->status != status)
        fprintf(stderr, "expected %ld, got %ld %s\n", status, r->status, r->body);
    assert_int_equal(r->status, status);
}

static int setup(void **state)
{
    (void)state;
    /* The policy's rate limits and daily caps (if the server applies them) are not what this
     * test measures: lift them for this server. */
    httptest_lift_rate_limits();
    setenv("HONGBAO_TIER_PERSONAL_DAILY_LIMIT", "100000000.00", 1);
    httptest_start(&server);
    for (int i = 0; i < WALLETS; i++) {
        char body[160], path[128];
        snprintf(body, sizeof body, "{\"tier\":\"personal\",\"name\":\"Wallet %d\",\"real_name_level\":3}", i);
        http_reply r = httptest_admin(&server, "POST", "/v1/accounts", body, NULL);
        expect_status(&r, 201);
        snprintf(wallets[i].id, sizeof wallets[i].id, "%s", httptest_str(&r, "id"));
        httptest_reply_free(&r);

        snprintf(path, sizeof path, "/v1/accounts/%s/topup", wallets[i].id);
        snprintf(body, sizeof body, "{\"amount\":%d,\"external_ref\":\"fund-%d\"}", FUNDING, i);
        r = httptest_admin(&server, "POST", path, body, NULL);
        expect_status(&r, 201);
        httptest_reply_free(&r);
        wallets[i].funded = FUNDING;

        snprintf(path, sizeof path, "/v1/accounts/%s/sessions", wallets[i].id);
        r = httptest_admin(&server, "POST", path, NULL, NULL);
        expect_status(&r, 201);
        snprintf(wallets[i].token, sizeof wallets[i].token, "%s", httptest_str(&r, "token"));
        httptest_reply_free(&r);
        assert_true(strncmp(wallets[i].token, "hbs_", 4) == 0);
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    httptest_stop(&server);
    httptest_cleanup(&server);
    return 0;
}

/* ---- the test ------------------------------------------------------------------------------ */

static json_t *ledger_check(void)
{
    http_reply r = httptest_admin(&server, "GET", "/v1/ledger/check", NULL, NULL);
    expect_status(&r, 200);
    json_t *j = json_incref(r.json);
    httptest_reply_free(&r);
    assert_non_null(j);
    return j;
}

static int compare_records(const void *a, const void *b)
{
    const record *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

static void test_concurrent_transfers(void **state)
{
    (void)state;
    int64_t threads = testutil_scaled(THREADS_MAX);
    if (threads < THREADS_MIN) threads = THREADS_MIN;
    if (threads > THREADS_MAX) threads = THREADS_MAX;
    int64_t per_thread = testutil_scaled(PER_THREAD_MAX);
    if (per_thread < 20) per_thread = 20;
    double duration = DURATION_S * (double)testutil_scaled(100) / 100.0;
    if (duration < 1.0) duration = 1.0;
    if (duration > DURATION_S) duration = DURATION_S;

    json_t *before = ledger_check();
    assert_true(json_is_true(json_object_get(before, "balanced")));
    json_int_t transfers_before = json_integer_value(json_object_get(before, "transfers"));
    json_decref(before);

    static worker workers[THREADS_MAX];
    pthread_t ids[THREADS_MAX];
    memset(workers, 0, sizeof workers);
    double start = now_s();
    for (int i = 0; i < (int)threads; i++) {
        worker *w = &workers[i];
        w->index = i;
        w->wallet = i % WALLETS;
        w->max_requests = (int)per_thread;
        w->deadline = start + duration;
        w->rng =
            (UINT64_C(0x9E3779B97F4A7C15) * (uint64_t)(unsigned)(i + 1)) ^ (uint64_t)time(NULL);
        if (w->rng == 0) w->rng = 1;
        assert_int_equal(pthread_create(&ids[i], NULL, run_worker, w), 0);
    }
    for (int i = 0; i < (int)threads; i++)
        assert_int_equal(pthread_join(ids[i], NULL), 0);
    double elapsed = now_s() - start;

    /* What the threads saw. */
    long errors = 0, requests = 0, replays = 0, conflicts = 0, connects = 0;
    size_t total = 0;
    for (int i = 0; i < (int)threads; i++) {
        worker *w = &workers[i];
        if (w->first_error[0] != '\0') fprintf(stderr, "%s\n", w->first_error);
        errors += w->errors;
        requests += w->requests;
        replays += w->replays;
        conflicts += w->conflicts;
        connects += w->connects;
        total += w->count;
    }
    fprintf(stderr,
            "concurrency: %d threads, %.2f s: %zu transfers (%.0f transfers/s), %ld requests "
            "(%.0f/s), %ld replays, %ld conflicts, %ld connections opened, %ld errors\n",
            (int)threads, elapsed, total, (double)total / elapsed, requests,
            (double)requests / elapsed, replays, conflicts, connects, errors);
    assert_int_equal(errors, 0);
    assert_true(total > 0);
    assert_true(replays > 0 || total < 200);

    /* Every 201 names a distinct transfer. */
    record *all = malloc((total ? total : 1) * sizeof *all);
    assert_non_null(all);
    size_t n = 0;
    for (int i = 0; i < (int)threads; i++) {
        memcpy(all + n, workers[i].records, workers[i].count * sizeof *all);
        n += workers[i].count;
    }
    qsort(all, n, sizeof *all, compare_records);
    for (size_t i = 1; i < n; i++) {
        if (all[i].id == all[i - 1].id) {
            fprintf(stderr, "tr_%lld was answered as new twice\n", (long long)all[i].id);
        }
        assert_true(all[i].id != all[i - 1].id);
    }

    /* The ledger grew by exactly those transfers and is balanced. */
    json_t *after = ledger_check();
    assert_true(json_is_true(json_object_get(after, "balanced")));
    json_int_t transfers_after = json_integer_value(json_object_get(after, "transfers"));
    json_decref(after);
    assert_int_equal(transfers_after - transfers_before, (json_int_t)n);

    /* Each (sampled) transfer exists once with the recorded fields. */
    size_t step = n > SAMPLE_MAX ? n / SAMPLE_MAX : 1;
    size_t sampled = 0;
    for (size_t i = 0; i < n && sampled < SAMPLE_MAX; i += step, sampled++) {
        char path[64];
        snprintf(path, sizeof path, "/v1/transfers/tr_%lld", (long long)all[i].id);
        http_reply r = httptest_admin(&server, "GET", path, NULL, NULL);
        expect_status(&r, 200);
        assert_string_equal(httptest_str(&r, "id"), path + strlen("/v1/transfers/"));
        assert_string_equal(httptest_str(&r, "kind"), "p2p");
        assert_string_equal(httptest_str(&r, "from"), wallets[all[i].from].id);
        assert_string_equal(httptest_str(&r, "to"), wallets[all[i].to].id);
        assert_int_equal(httptest_int(&r, "amount"), all[i].amount);
        assert_string_equal(httptest_str(&r, "currency"), "CNY");
        httptest_reply_free(&r);
    }

    /* Each wallet: its top-up, plus what it received, minus what it sent. */
    long long expected[WALLETS];
    for (int i = 0; i < WALLETS; i++)
        expected[i] = wallets[i].funded;
    for (size_t i = 0; i < n; i++) {
        expected[all[i].from] -= all[i].amount;
        expected[all[i].to] += all[i].amount;
    }
    long long sum = 0;
    for (int i = 0; i < WALLETS; i++) {
        char path[128];
        snprintf(path, sizeof path, "/v1/accounts/%.31s", wallets[i].id);
        http_reply r = httptest_admin(&server, "GET", path, NULL, NULL);
        expect_status(&r, 200);
        long long balance = httptest_int(&r, "balance");
        if (balance != expected[i]) {
            fprintf(stderr, "%s: balance %lld, expected %lld\n", wallets[i].id, balance,
                    expected[i]);
        }
        assert_money_eq(balance, expected[i]);
        sum += balance;
        httptest_reply_free(&r);
    }
    assert_money_eq(sum, (long long)WALLETS * FUNDING);
    fprintf(stderr, "concurrency: checked %zu of %zu transfers one by one; %.0f transfers/s\n",
            sampled, n, (double)n / elapsed);

    for (int i = 0; i < (int)threads; i++) {
        free(workers[i].records);
        for (int k = 0; k < workers[i].key_count; k++)
            free(workers[i].keys[k].reply);
    }
    free(all);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_transfers),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
