#include "httptest.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "testutil.h"

static void hex(const unsigned char *data, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[data[i] >> 4];
        out[2 * i + 1] = digits[data[i] & 15];
    }
    out[2 * len] = '\0';
}

static void run_init(http_server_proc *s)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' init --db '%s' --json", s->hongbao, s->db);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[512] = "";
    assert_non_null(fgets(line, sizeof line, p));
    assert_int_equal(pclose(p), 0);
    json_error_t error;
    json_t *j = json_loads(line, 0, &error);
    assert_non_null(j);
    snprintf(s->admin_key, sizeof s->admin_key, "%s", json_string_value(json_object_get(j, "key_id")));
    snprintf(s->admin_secret, sizeof s->admin_secret, "%s",
             json_string_value(json_object_get(j, "secret")));
    json_decref(j);
    assert_true(strncmp(s->admin_key, "hbk_", 4) == 0);
}

/* Start serve on port 0 with its log in the temp dir, and read the bound port from its
 * "listening" line. */
static void spawn(http_server_proc *s)
{
    char log_path[700];
    snprintf(log_path, sizeof log_path, "%s/serve%s%s.log", s->dir, s->node[0] ? "-" : "",
             s->node);
    /* a new log for a new server; a restart appends, so that a crash's report stays */
    FILE *truncate_log = fopen(log_path, s->pid == 0 ? "w" : "a");
    assert_non_null(truncate_log);
    long start = ftell(truncate_log);
    fclose(truncate_log);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(log_path, O_WRONLY | O_APPEND);
        if (fd < 0) _exit(126);
        /* stdout too: a server left behind by a crashed test must not hold ctest's pipe */
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
        if (s->node[0] != '\0') {
            execl(s->hongbao, s->hongbao, "serve", "--db", s->db, "--listen", "127.0.0.1:0",
                  "--node", s->node, (char *)NULL);
        } else {
            execl(s->hongbao, s->hongbao, "serve", "--db", s->db, "--listen", "127.0.0.1:0",
                  (char *)NULL);
        }
        _exit(127);
    }
    s->pid = pid;
    s->port = 0;
    for (int attempt = 0; attempt < 1000 && s->port == 0; attempt++) {
        FILE *log = fopen(log_path, "r");
        char line[1024];
        if (log != NULL) fseek(log, start, SEEK_SET); /* this start's lines only */
        while (log != NULL && fgets(line, sizeof line, log) != NULL) {
            const char *addr = strstr(line, "\"address\":\"127.0.0.1:");
            if (addr != NULL) s->port = atoi(addr + strlen("\"address\":\"127.0.0.1:"));
        }
        if (log != NULL) fclose(log);
        if (s->port == 0) usleep(10000);
    }
    if (s->port == 0) {
        char cmd[800];
        snprintf(cmd, sizeof cmd, "cat '%s' >&2", log_path);
        (void)system(cmd);
    }
    assert_true(s->port > 0);
}

void httptest_lift_rate_limits(void)
{
    static const char *const names[] = {
        "HONGBAO_RATE_LIMIT_SESSION_PER_SECOND", "HONGBAO_RATE_LIMIT_SESSION_BURST",
        "HONGBAO_RATE_LIMIT_KEY_PER_SECOND", "HONGBAO_RATE_LIMIT_KEY_BURST",
        "HONGBAO_RATE_LIMIT_AUTH_FAILURES_PER_SECOND", "HONGBAO_RATE_LIMIT_AUTH_FAILURES_BURST"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) setenv(names[i], "1000000", 1);
}

void httptest_start(http_server_proc *s)
{
    memset(s, 0, sizeof *s);
    const char *bin = getenv("HONGBAO_BIN");
    assert_non_null(bin);
    snprintf(s->hongbao, sizeof s->hongbao, "%s", bin);
    snprintf(s->dir, sizeof s->dir, "%s", testutil_tempdir());
    snprintf(s->db, sizeof s->db, "%s", testutil_store(s->dir, "api"));
    if (testutil_pg() != NULL) {
        /* the key file of a database url: one per test server, inherited by init and serve */
        char key_file[600];
        snprintf(key_file, sizeof key_file, "%s/api.key", s->dir);
        setenv("HONGBAO_KEY_FILE", key_file, 1);
        snprintf(key_file, sizeof key_file, "%s/api.audit-key", s->dir);
        setenv("HONGBAO_AUDIT_KEY_FILE", key_file, 1);
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    run_init(s);
    spawn(s);
}

void httptest_restart(http_server_proc *s)
{
    spawn(s);
}

void httptest_add_node(http_server_proc *s, const http_server_proc *first, const char *node)
{
    *s = *first;
    snprintf(s->node, sizeof s->node, "%s", node);
    spawn(s);
}

void httptest_kill(http_server_proc *s)
{
    assert_int_equal(kill(s->pid, SIGKILL), 0);
    int status = 0;
    assert_int_equal(waitpid(s->pid, &status, 0), s->pid);
}

void httptest_stop(http_server_proc *s)
{
    assert_int_equal(kill(s->pid, SIGTERM), 0);
    int status = 0;
    assert_int_equal(waitpid(s->pid, &status, 0), s->pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

void httptest_cleanup(http_server_proc *s)
{
    if (getenv("HB_TEST_KEEP") != NULL) { /* for a look at a failed run's store and logs */
        fprintf(stderr, "kept %s\n", s->dir);
        return;
    }
    testutil_rmdir(s->dir);
}

size_t httptest_collect_body(char *ptr, size_t size, size_t nmemb, void *ctx)
{
    httptest_buffer *b = ctx;
    size_t n = size * nmemb;
    char *grown = realloc(b->data, b->len + n + 1);
    assert_non_null(grown);
    b->data = grown;
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

size_t httptest_collect_headers(char *ptr, size_t size, size_t nmemb, void *ctx)
{
    char *headers = ctx;
    size_t n = size * nmemb;
    size_t have = strlen(headers);
    if (have + n < HTTPTEST_HEADERS_MAX) {
        memcpy(headers + have, ptr, n);
        headers[have + n] = '\0';
    }
    return n;
}

http_reply httptest_raw(const http_server_proc *s, const char *method, const char *target,
                        const char *body, size_t body_len, const char *const *headers)
{
    http_reply reply;
    memset(&reply, 0, sizeof reply);
    CURL *curl = curl_easy_init();
    assert_non_null(curl);
    char url[4096];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", s->port, target);
    httptest_buffer b = {NULL, 0};
    struct curl_slist *list = NULL;
    for (const char *const *h = headers; h && *h; h++) list = curl_slist_append(list, *h);
    list = curl_slist_append(list, "Expect:");
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, httptest_collect_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, httptest_collect_headers);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, reply.headers);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
    if (body != NULL) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    CURLcode rc = curl_easy_perform(curl);
    if (rc != CURLE_OK) fprintf(stderr, "curl: %s\n", curl_easy_strerror(rc));
    assert_int_equal(rc, CURLE_OK);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
    curl_slist_free_all(list);
    curl_easy_cleanup(curl);
    reply.body = b.data ? b.data : strdup("");
    reply.body_len = b.len;
    json_error_t error;
    reply.json = json_loads(reply.body, 0, &error);
    return reply;
}

void httptest_auth_header(const char *key, const char *secret, const char *method,
                          const char *target, const char *body, size_t body_len, long long ts,
                          const char *nonce, char *out, size_t size)
{
    unsigned char digest[32];
    unsigned int n = 0;
    EVP_Digest(body ? body : "", body ? body_len : 0, digest, &n, EVP_sha256(), NULL);
    char body_hex[65];
    hex(digest, 32, body_hex);
    char fresh[33];
    if (nonce == NULL) {
        unsigned char random[16];
        RAND_bytes(random, sizeof random);
        hex(random, sizeof random, fresh);
        nonce = fresh;
    }
    if (ts == 0) ts = (long long)time(NULL);
    size_t cap = strlen(method) + strlen(target) + strlen(nonce) + 128;
    char *to_sign = malloc(cap);
    assert_non_null(to_sign);
    int len = snprintf(to_sign, cap, "%s\n%s\n%lld\n%s\n%s\n", method, target, ts, nonce, body_hex);
    assert_true(len > 0 && (size_t)len < cap);
    unsigned char mac[32];
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (unsigned char *)to_sign, (size_t)len, mac, &n);
    free(to_sign);
    char sig[65];
    hex(mac, 32, sig);
    snprintf(out, size, "Authorization: HB1-HMAC-SHA256 key=%s,ts=%lld,nonce=%s,sig=%s", key, ts,
             nonce, sig);
}

http_reply httptest_signed_at(const http_server_proc *s, const char *key, const char *secret,
                              const char *method, const char *target, const char *body,
                              long long ts, const char *nonce, const char *extra_header)
{
    size_t body_len = body ? strlen(body) : 0;
    char auth[512];
    httptest_auth_header(key, secret, method, target, body, body_len, ts, nonce, auth, sizeof auth);
    const char *headers[4] = {auth, body ? "Content-Type: application/json" : NULL, NULL, NULL};
    if (extra_header != NULL) headers[body ? 2 : 1] = extra_header;
    return httptest_raw(s, method, target, body, body_len, headers);
}

http_reply httptest_signed(const http_server_proc *s, const char *key, const char *secret,
                           const char *method, const char *target, const char *body,
                           const char *extra_header)
{
    return httptest_signed_at(s, key, secret, method, target, body, 0, NULL, extra_header);
}

http_reply httptest_admin(const http_server_proc *s, const char *method, const char *target,
                          const char *body, const char *extra_header)
{
    return httptest_signed(s, s->admin_key, s->admin_secret, method, target, body, extra_header);
}

http_reply httptest_bearer(const http_server_proc *s, const char *token, const char *method,
                           const char *target, const char *body, const char *extra_header)
{
    char auth[256];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    const char *headers[4] = {auth, body ? "Content-Type: application/json" : NULL, NULL, NULL};
    if (extra_header != NULL) headers[body ? 2 : 1] = extra_header;
    return httptest_raw(s, method, target, body, body ? strlen(body) : 0, headers);
}

void httptest_reply_free(http_reply *r)
{
    free(r->body);
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

const char *httptest_error_code(const http_reply *r)
{
    json_t *e = r->json ? json_object_get(r->json, "error") : NULL;
    const char *code = e ? json_string_value(json_object_get(e, "code")) : NULL;
    return code ? code : "";
}

const char *httptest_str(const http_reply *r, const char *name)
{
    const char *v = r->json ? json_string_value(json_object_get(r->json, name)) : NULL;
    return v ? v : "";
}

long long httptest_int(const http_reply *r, const char *name)
{
    json_t *v = r->json ? json_object_get(r->json, name) : NULL;
    return v && json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

bool httptest_balanced(const http_server_proc *s)
{
    http_reply r = httptest_admin(s, "GET", "/v1/ledger/check", NULL, NULL);
    assert_int_equal(r.status, 200);
    bool balanced = json_is_true(json_object_get(r.json, "balanced"));
    httptest_reply_free(&r);
    return balanced;
}

void httptest_sql(const http_server_proc *s, const char *sql, char *out, size_t size)
{
    char cmd[2048];
    if (testutil_pg() != NULL) {
        snprintf(cmd, sizeof cmd, "psql -XAtq '%s' -c \"%s\"", s->db, sql);
    } else {
        snprintf(cmd, sizeof cmd, "sqlite3 '%s' \"%s\"", s->db, sql);
    }
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    out[0] = '\0';
    assert_non_null(fgets(out, (int)size, p));
    pclose(p);
    out[strcspn(out, "\n")] = '\0';
}

static void append_file(const char *path, char **data, size_t *len)
{
    FILE *in = fopen(path, "rb");
    if (in == NULL) return;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, in)) > 0) {
        *data = realloc(*data, *len + n + 1);
        assert_non_null(*data);
        memcpy(*data + *len, chunk, n);
        *len += n;
    }
    fclose(in);
}

char *httptest_store_bytes(const http_server_proc *s, size_t *len)
{
    char *data = malloc(1);
    assert_non_null(data);
    *len = 0;
    char path[1024];
    if (testutil_pg() != NULL) {
        snprintf(path, sizeof path, "%s/store.dump", s->dir);
        char cmd[2048];
        snprintf(cmd, sizeof cmd, "pg_dump --data-only '%s' > '%s'", s->db, path);
        assert_int_equal(system(cmd), 0);
        append_file(path, &data, len);
        assert_true(*len > 0);
    } else {
        append_file(s->db, &data, len);
        snprintf(path, sizeof path, "%s-wal", s->db);
        append_file(path, &data, len);
    }
    data[*len] = '\0';
    return data;
}

void httptest_person(const http_server_proc *via, const char *name, long long funding,
                     char id[32], char token[128])
{
    char body[192], path[128];
    snprintf(body, sizeof body, "{\"tier\":\"personal\",\"name\":\"%s\",\"real_name_level\":3}", name);
    http_reply r = httptest_admin(via, "POST", "/v1/accounts", body, NULL);
    if (r.status != 201) fprintf(stderr, "creating %s: %ld %s\n", name, r.status, r.body);
    assert_int_equal(r.status, 201);
    snprintf(id, 32, "%s", httptest_str(&r, "id"));
    httptest_reply_free(&r);
    if (funding > 0) {
        snprintf(path, sizeof path, "/v1/accounts/%s/topup", id);
        snprintf(body, sizeof body, "{\"amount\":%lld,\"external_ref\":\"fund-%s\"}", funding, id);
        r = httptest_admin(via, "POST", path, body, NULL);
        assert_int_equal(r.status, 201);
        httptest_reply_free(&r);
    }
    snprintf(path, sizeof path, "/v1/accounts/%s/sessions", id);
    r = httptest_admin(via, "POST", path, NULL, NULL);
    assert_int_equal(r.status, 201);
    snprintf(token, 128, "%s", httptest_str(&r, "token"));
    httptest_reply_free(&r);
    assert_true(strncmp(token, "hbs_", 4) == 0);
}

void httptest_expect(const http_reply *r, long status, const char *code)
{
    if (r->status != status || (code && strcmp(httptest_error_code(r), code) != 0)) {
        fprintf(stderr, "expected %ld %s, got %ld %s\n", status, code ? code : "", r->status,
                r->body);
    }
    assert_int_equal(r->status, status);
    if (code) assert_string_equal(httptest_error_code(r), code);
}
