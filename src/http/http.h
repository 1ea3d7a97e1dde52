/* The HTTP API server (libmicrohttpd, epoll, a thread pool): JSON under /v1, signed API keys
 * and bearer sessions, idempotency keys, the error envelope of DESIGN.md section 6.
 *
 * Request threads parse, authenticate and validate; anything that changes state becomes an
 * engine command submitted asynchronously while the connection is suspended, and the
 * response is sent once the command's batch is durable. */
#ifndef HB_HTTP_HTTP_H
#define HB_HTTP_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "core/policy.h"
#include "engine/engine.h"
#include "service/keyring.h"

typedef struct http_server http_server;

typedef struct http_options {
    const char *db;        /* store url, for the server's read connections */
    const char *host;      /* listen address, default 127.0.0.1 */
    uint16_t port;         /* 0 = any free port (see http_server_port) */
    unsigned threads;      /* request threads; 0 = one per core */
    unsigned connections;  /* connection limit; 0 = LIMIT_HTTP_CONNECTIONS */
    const keyring *keys;   /* not owned; must outlive the server */
    const hb_clock *clock; /* default clock_real() */
    const policy *policy;  /* rate limits; NULL = policy_defaults() */
    const char *tls_cert_pem; /* with tls_key_pem: serve HTTPS (TLS 1.3 preferred, 1.2 allowed) */
    const char *tls_key_pem;
    /* The base of links the server hands out (a red packet's claim_url and QR text), e.g.
     * https://pay.example.com; NULL = http(s)://host:port as bound. */
    const char *public_url;
    /* The audit key's public half, for GET /v1/audit/verify to check checkpoints' signatures;
     * NULL = not checked. */
    const uint8_t *audit_public_key;
} http_options;

/* Start serving. err_text receives the reason on failure. */
hb_err http_server_start(engine *e, const http_options *options, http_server **out,
                         char *err_text, size_t size) WARN_UNUSED;
/* The port actually bound. */
uint16_t http_server_port(const http_server *s);
/* Apply a reloaded policy's rate limits. Thread-safe. */
void http_server_set_policy(http_server *s, const policy *p);
/* Stop accepting, let in-flight requests finish, free. NULL ignored. */
void http_server_stop(http_server *s);

#endif
