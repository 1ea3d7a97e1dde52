/* Integration-test harness: runs the real `hongbao serve` on a free loopback port with a
 * temporary store, and sends signed, bearer or raw requests with libcurl. */
#ifndef HB_TESTS_HTTPTEST_H
#define HB_TESTS_HTTPTEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct http_server_proc {
    char dir[512];
    char db[600];
    char hongbao[512];
    pid_t pid;
    int port;
    char admin_key[64];
    char admin_secret[96];
    char node[32]; /* --node (audit chain), "" for the default */
} http_server_proc;

#define HTTPTEST_HEADERS_MAX 4096

typedef struct http_reply {
    long status;
    char *body;   /* NUL-terminated, malloc'd */
    size_t body_len;
    json_t *json; /* parsed body or NULL */
    char headers[HTTPTEST_HEADERS_MAX];
} http_reply;

/* libcurl write callbacks: the body into a growing buffer, the headers into a
 * char[HTTPTEST_HEADERS_MAX] (cut when longer). */
typedef struct httptest_buffer {
    char *data; /* NUL-terminated, malloc'd */
    size_t len;
} httptest_buffer;
size_t httptest_collect_body(char *ptr, size_t size, size_t nmemb, void *buffer);
size_t httptest_collect_headers(char *ptr, size_t size, size_t nmemb, void *headers);

/* An "Authorization: HB1-HMAC-SHA256 …" header line over the exact body bytes, computed
 * independently of the server's code. nonce NULL: a fresh random one; ts 0: now. */
void httptest_auth_header(const char *key, const char *secret, const char *method,
                          const char *target, const char *body, size_t body_len, long long ts,
                          const char *nonce, char *out, size_t size);

/* Create a store with `hongbao init --json` (capturing the admin key) and start serving it.
 * The binary comes from $HONGBAO_BIN. Asserts on failure. */
/* Lift the rate limits (per session, per key, failed authentications) for servers started
 * from now on, when they are not what a test measures. */
void httptest_lift_rate_limits(void);
void httptest_start(http_server_proc *s);
/* Start the server again on the same store (after httptest_stop). */
void httptest_restart(http_server_proc *s);
/* Another node on first's store (same key file and admin key), with its own audit chain. */
void httptest_add_node(http_server_proc *s, const http_server_proc *first, const char *node);
/* kill -9 the server and reap it. */
void httptest_kill(http_server_proc *s);
/* SIGTERM, wait, check it exited 0. */
void httptest_stop(http_server_proc *s);
/* Remove the temporary directory. */
void httptest_cleanup(http_server_proc *s);

/* A signed request with the given key. body may be NULL. extra_header may be NULL. */
http_reply httptest_signed(const http_server_proc *s, const char *key, const char *secret,
                           const char *method, const char *target, const char *body,
                           const char *extra_header);
/* A signed request with an explicit ts and nonce (for replay and skew tests). */
http_reply httptest_signed_at(const http_server_proc *s, const char *key, const char *secret,
                              const char *method, const char *target, const char *body,
                              long long ts, const char *nonce, const char *extra_header);
/* The admin key. */
http_reply httptest_admin(const http_server_proc *s, const char *method, const char *target,
                          const char *body, const char *extra_header);
/* A bearer-token request. */
http_reply httptest_bearer(const http_server_proc *s, const char *token, const char *method,
                           const char *target, const char *body, const char *extra_header);
/* Anything: headers is a NULL-terminated array of "Name: value" lines. */
http_reply httptest_raw(const http_server_proc *s, const char *method, const char *target,
                        const char *body, size_t body_len, const char *const *headers);
void httptest_reply_free(http_reply *r);

/* Assert the reply's status and, when code is not NULL, its error code (printing the reply
 * when they differ). */
void httptest_expect(const http_reply *r, long status, const char *code);
/* The error code of an error reply ("" when not an error envelope). */
const char *httptest_error_code(const http_reply *r);
/* A string member of the reply object ("" when missing). */
const char *httptest_str(const http_reply *r, const char *name);
long long httptest_int(const http_reply *r, const char *name);

/* The ledger check over the API (admin): asserts it answered, returns balanced. */
bool httptest_balanced(const http_server_proc *s);
/* A personal CNY wallet named name (real-name level 3: bank card verified), topped up with funding fen (none when 0), and a bearer
 * session for it (via, signed with the admin key): its id and token. Asserts success. */
void httptest_person(const http_server_proc *via, const char *name, long long funding,
                     char id[32], char token[128]);
/* Run one SQL query on the server's store with the store's own client (sqlite3 or psql) and
 * return the first line of its output (trailing newline removed) in out. */
void httptest_sql(const http_server_proc *s, const char *sql, char *out, size_t size);
/* Everything the store holds as bytes on disk or in a dump: the SQLite file and its WAL, or
 * a pg_dump of the PostgreSQL database. malloc'd, *len bytes. */
char *httptest_store_bytes(const http_server_proc *s, size_t *len);

#endif
