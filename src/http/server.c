/* The libmicrohttpd glue: daemon options, the request lifecycle, framing checks, metrics. */
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <strings.h>
#include <unistd.h>

#include "core/clock.h"
#include "http/http_internal.h"

static _Atomic uint64_t request_counter;
static uint32_t request_prefix;

/* The URI log callback runs before anything else with the raw request target, which is what
 * signatures cover (the access handler only sees the decoded path). */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *connection)
{
    http_server *srv = cls;
    request *r = calloc(1, sizeof *r);
    if (r == NULL) return NULL;
    r->server = srv;
    r->connection = connection;
    r->start_ns = clock_monotonic_ns();
    r->route = -1;
    size_t len = strlen(uri);
    if (len > LIMIT_PATH_LEN) {
        r->target_too_long = true;
    } else {
        memcpy(r->target, uri, len + 1);
        size_t path_len = strcspn(r->target, "?");
        memcpy(r->path, r->target, path_len);
        r->path[path_len] = '\0';
    }
    uint64_t n = atomic_fetch_add(&request_counter, 1);
    snprintf(r->request_id, sizeof r->request_id, "req_%08x%010llx", request_prefix,
             (unsigned long long)n);
    pthread_mutex_lock(&srv->metrics_lock);
    srv->in_flight++;
    pthread_mutex_unlock(&srv->metrics_lock);
    return r;
}

static void record_metrics(http_server *srv, request *r)
{
    int64_t us = (clock_monotonic_ns() - r->start_ns) / 1000;
    int bucket = 0;
    while (bucket < 15 && us > (int64_t)1000 << bucket) bucket++;
    int route = r->route >= 0 && r->route < LIMIT_METRIC_ROUTES ? r->route : LIMIT_METRIC_ROUTES;
    int cls = r->status >= 100 && r->status < 600 ? r->status / 100 : 5;
    pthread_mutex_lock(&srv->metrics_lock);
    srv->requests_by_route_status[route][cls]++;
    srv->latency_buckets[bucket]++;
    srv->latency_count++;
    srv->latency_sum_us += us;
    srv->in_flight--;
    pthread_mutex_unlock(&srv->metrics_lock);
}

static void on_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                         enum MHD_RequestTerminationCode code)
{
    (void)connection;
    (void)code;
    http_server *srv = cls;
    request *r = *con_cls;
    if (r == NULL) return;
    /* A suspended request is never completed here while its command is queued: MHD does not
     * poll suspended connections, and http_server_stop waits for every request in flight
     * before stopping MHD. Bodies and commands may hold personal data or fresh secrets. */
    record_metrics(srv, r);
    if (r->body != NULL) OPENSSL_cleanse(r->body, r->body_cap);
    free(r->body);
    free(r->response);
    if (r->cmd != NULL) OPENSSL_cleanse(r->cmd, sizeof *r->cmd);
    free(r->cmd);
    free(r->batch);
    free(r->batch_errors);
    free(r->batch_details);
    free(r->shares);
    free(r);
    *con_cls = NULL;
}

static enum MHD_Result queue(request *r)
{
    ASSERT(r->phase == PHASE_RESPOND && r->response != NULL);
    struct MHD_Response *resp = MHD_create_response_from_buffer(r->response_len, r->response,
                                                                MHD_RESPMEM_MUST_FREE);
    r->response = NULL; /* owned by the response now */
    if (resp == NULL) return MHD_NO;
    const char *type = r->content_type != NULL ? r->content_type : "application/json";
    if (r->status == 200 && r->route >= 0 &&
        strcmp(handlers_route_name(r->route), "GET /metrics") == 0) {
        type = "text/plain; version=0.0.4";
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(resp, "X-Request-Id", r->request_id);
    MHD_add_response_header(resp, "Cache-Control",
                            r->cache_control != NULL ? r->cache_control : "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (r->set_cookie[0] != '\0') MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, r->set_cookie);
    if (r->page) {
        /* the pages run only their own files, send no referrer (a claim link is a secret)
         * and are never framed */
        MHD_add_response_header(resp, "Content-Security-Policy",
                                "default-src 'self'; script-src 'self'; style-src 'self'; "
                                "img-src 'self' data:; connect-src 'self'; media-src 'self'; "
                                "base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
        MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
        MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    }
    if (r->replayed) MHD_add_response_header(resp, "Idempotent-Replayed", "true");
    if (r->retry_after_s > 0) {
        char value[16];
        snprintf(value, sizeof value, "%d", r->retry_after_s);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, value);
    }
    if (r->close_connection) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = MHD_queue_response(r->connection, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

typedef struct framing {
    int content_length_count;
    char first_length[32];
    bool lengths_differ;
    bool transfer_encoding;
} framing;

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    (void)kind;
    framing *f = cls;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
        if (f->content_length_count++ == 0) {
            snprintf(f->first_length, sizeof f->first_length, "%s", value ? value : "");
        } else if (value == NULL || strcmp(value, f->first_length) != 0) {
            f->lengths_differ = true;
        }
    } else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        f->transfer_encoding = true;
    }
    return MHD_YES;
}

/* The first call: headers only. Refuse ambiguous framing (RFC 9112 sections 6.1 and 6.3) and
 * oversized or mistyped bodies at once; everything else waits for the body. */
static void check_headers(request *r)
{
    framing f = {0};
    MHD_get_connection_values(r->connection, MHD_HEADER_KIND, count_framing, &f);
    if ((f.content_length_count > 0 && f.transfer_encoding) || f.lengths_differ) {
        r->close_connection = true;
        request_error(r, HB_ERR_INVALID_ARGUMENT,
                      "ambiguous message framing (Content-Length with Transfer-Encoding, or "
                      "conflicting Content-Length)");
        return;
    }
    if (f.content_length_count > 0) {
        char *end = NULL;
        unsigned long long length = strtoull(f.first_length, &end, 10);
        if (end == f.first_length || *end != '\0' || length > LIMIT_HTTP_BODY_MAX) {
            r->close_connection = true;
            request_error(r, HB_ERR_PAYLOAD_TOO_LARGE, "the body is larger than 262144 bytes");
            return;
        }
    }
    if (r->target_too_long) {
        r->close_connection = true;
        request_error(r, HB_ERR_NOT_FOUND, "the request target is too long");
        return;
    }
    const char *idem = MHD_lookup_connection_value(r->connection, MHD_HEADER_KIND, "Idempotency-Key");
    if (idem != NULL) {
        size_t len = strlen(idem);
        bool ok = len > 0 && len <= LIMIT_IDEM_KEY_LEN;
        for (size_t i = 0; ok && i < len; i++) ok = idem[i] > 0x20 && idem[i] < 0x7f;
        if (!ok) {
            request_error(r, HB_ERR_INVALID_ARGUMENT,
                          "Idempotency-Key must be 1-64 printable ASCII characters");
            r->phase = PHASE_BODY; /* answer after the body, keeping the connection */
            r->deferred = true;
            return;
        }
        memcpy(r->idem_key, idem, len + 1);
    }
    r->phase = PHASE_BODY;
}

static void append_body(request *r, const char *data, size_t size)
{
    if (r->body_too_large) return;
    if (r->body_len + size > LIMIT_HTTP_BODY_MAX) {
        r->body_too_large = true;
        free(r->body);
        r->body = NULL;
        r->body_len = 0;
        return;
    }
    if (r->body_len + size + 1 > r->body_cap) {
        size_t cap = r->body_cap ? r->body_cap : 1024;
        while (cap < r->body_len + size + 1) cap *= 2;
        char *body = realloc(r->body, cap);
        ASSERT(body != NULL);
        r->body = body;
        r->body_cap = cap;
    }
    memcpy(r->body + r->body_len, data, size);
    r->body_len += size;
    r->body[r->body_len] = '\0';
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *connection, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)cls;
    (void)url;
    (void)version;
    (void)connection;
    request *r = *con_cls;
    if (r == NULL) return MHD_NO;
    if (r->phase == PHASE_HEADERS) {
        snprintf(r->method, sizeof r->method, "%s", method);
        check_headers(r);
        /* Framing and size errors answer now and close; the rest after the body. */
        if (r->phase == PHASE_RESPOND) return queue(r);
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        append_body(r, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (r->phase == PHASE_WAITING) {
        /* Resumed: the command is durable. */
        finish_fn finish = r->finish;
        r->finish = NULL;
        if (finish != NULL) finish(r);
        if (r->phase == PHASE_WAITING) return MHD_YES; /* a next step was submitted */
        return queue(r);
    }
    if (r->phase == PHASE_RESPOND) return queue(r);
    if (r->deferred) {
        r->phase = PHASE_RESPOND;
        return queue(r);
    }
    if (r->body_too_large) {
        r->close_connection = true;
        request_error(r, HB_ERR_PAYLOAD_TOO_LARGE, "the body is larger than 262144 bytes");
        return queue(r);
    }
    if (atomic_load(&r->server->stopping)) {
        /* nothing of it was read or run: the client may send it again elsewhere */
        r->close_connection = true;
        request_error(r, HB_ERR_UNAVAILABLE, "the server is stopping; retry");
        return queue(r);
    }
    handlers_dispatch(r);
    if (r->phase == PHASE_WAITING) return MHD_YES;
    return queue(r);
}

hb_err http_server_start(engine *e, const http_options *options, http_server **out,
                         char *err_text, size_t size)
{
    http_server *srv = calloc(1, sizeof *srv);
    if (srv == NULL) return HB_ERR_UNAVAILABLE;
    if (RAND_bytes((unsigned char *)&request_prefix, sizeof request_prefix) != 1) {
        request_prefix = (uint32_t)getpid();
    }
    srv->engine = e;
    srv->keys = options->keys;
    if (options->audit_public_key != NULL) {
        srv->has_audit_key = true;
        memcpy(srv->audit_public_key, options->audit_public_key, 32);
    }
    srv->clock = options->clock ? options->clock : clock_real();
    snprintf(srv->db, sizeof srv->db, "%s", options->db);
    pthread_mutex_init(&srv->readers_lock, NULL);
    pthread_mutex_init(&srv->metrics_lock, NULL);
    pthread_mutex_init(&srv->sessions_lock, NULL);
    pthread_mutex_init(&srv->rate_lock, NULL);
    srv->rates = calloc(RATE_SLOTS, sizeof *srv->rates);
    if (srv->rates == NULL) {
        free(srv);
        return HB_ERR_UNAVAILABLE;
    }
    policy defaults;
    policy_defaults(&defaults);
    http_server_set_policy(srv, options->policy ? options->policy : &defaults);
    unsigned threads = options->threads;
    if (threads == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cores > 0 ? (unsigned)cores : 2;
    }
    if (threads > LIMIT_HTTP_THREADS) threads = LIMIT_HTTP_THREADS;
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons(options->port);
    const char *host = options->host && options->host[0] ? options->host : "127.0.0.1";
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        snprintf(err_text, size, "cannot listen on %s: an IPv4 address is expected", host);
        free(srv->rates);
        free(srv);
        return HB_ERR_INVALID_ARGUMENT;
    }
    unsigned connections = options->connections ? options->connections : LIMIT_HTTP_CONNECTIONS;
    bool tls = options->tls_cert_pem != NULL && options->tls_key_pem != NULL;
    srv->tls = tls;
    if (tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
        snprintf(err_text, size, "this libmicrohttpd has no TLS support");
        free(srv->rates);
        free(srv);
        return HB_ERR_INVALID_ARGUMENT;
    }
    /* GnuTLS priorities: TLS 1.3 first, 1.2 for older clients, nothing older. */
    static const char tls_priorities[] = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2";
    struct MHD_OptionItem tls_options[] = {
        {MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)(uintptr_t)options->tls_cert_pem},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)(uintptr_t)options->tls_key_pem},
        {MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)(uintptr_t)tls_priorities},
        {MHD_OPTION_END, 0, NULL}};
    struct MHD_OptionItem no_options[] = {{MHD_OPTION_END, 0, NULL}};
    srv->daemon = MHD_start_daemon(
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC |
            MHD_USE_ERROR_LOG | (tls ? MHD_USE_TLS : 0),
        options->port, NULL, NULL, on_request, srv, MHD_OPTION_SOCK_ADDR, &addr,
        MHD_OPTION_ARRAY, tls ? tls_options : no_options,
        MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_LIMIT, connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)LIMIT_HTTP_PER_IP_CONNECTIONS,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)LIMIT_HTTP_TIMEOUT_S,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)LIMIT_HTTP_CONNECTION_MEMORY,
        MHD_OPTION_STRICT_FOR_CLIENT, (int)1, MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_END);
    if (srv->daemon == NULL) {
        snprintf(err_text, size, "cannot listen on %s:%u (in use, or not allowed)", host,
                 options->port);
        free(srv->rates);
        free(srv);
        return HB_ERR_UNAVAILABLE;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = info ? info->port : options->port;
    if (options->public_url != NULL && options->public_url[0] != '\0') {
        size_t n = strlen(options->public_url);
        while (n > 0 && options->public_url[n - 1] == '/') n--; /* links add their own */
        snprintf(srv->public_url, sizeof srv->public_url, "%.*s", (int)n, options->public_url);
    } else {
        snprintf(srv->public_url, sizeof srv->public_url, "%s://%s:%u",
                 options->tls_cert_pem ? "https" : "http",
                 strcmp(host, "0.0.0.0") == 0 ? "127.0.0.1" : host, (unsigned)srv->port);
    }
    *out = srv;
    return HB_ERR_OK;
}

uint16_t http_server_port(const http_server *s)
{
    return s->port;
}

void http_server_stop(http_server *srv)
{
    if (srv == NULL) return;
    /* Stop accepting connections, refuse new requests on open ones (503, Connection: close),
     * and wait until every request in flight has been answered: a suspended request waits for
     * its engine command, which the engine (closed only after this) always completes. Only
     * then may libmicrohttpd free the connections. */
    atomic_store(&srv->stopping, true);
    /* the listen socket is ours now; closed only after the daemon stopped, so that its number
     * cannot be reused (by a store connection, say) while libmicrohttpd still knows it */
    MHD_socket fd = MHD_quiesce_daemon(srv->daemon);
    for (;;) {
        pthread_mutex_lock(&srv->metrics_lock);
        int64_t in_flight = srv->in_flight;
        pthread_mutex_unlock(&srv->metrics_lock);
        if (in_flight == 0) break;
        usleep(10000);
    }
    MHD_stop_daemon(srv->daemon);
    if (fd != MHD_INVALID_SOCKET) close(fd);
    for (int i = 0; i < srv->reader_count; i++) store_close(srv->readers[i]);
    pthread_mutex_destroy(&srv->readers_lock);
    pthread_mutex_destroy(&srv->metrics_lock);
    pthread_mutex_destroy(&srv->sessions_lock);
    pthread_mutex_destroy(&srv->rate_lock);
    free(srv->rates);
    free(srv);
}

void http_server_set_policy(http_server *srv, const policy *p)
{
    pthread_mutex_lock(&srv->rate_lock);
    srv->key_per_second = p->key_per_second;
    srv->key_burst = p->key_burst;
    srv->session_per_second = p->session_per_second;
    srv->session_burst = p->session_burst;
    srv->auth_failures_per_second = p->auth_failures_per_second;
    srv->device_per_second = p->device_per_second;
    srv->device_burst = p->device_burst;
    srv->auth_failures_burst = p->auth_failures_burst;
    for (int t = 0; t < TIER_COUNT; t++) srv->max_shares[t] = p->tiers[t].max_shares;
    srv->webhook_allow_private = p->webhook_allow_private;
    memcpy(srv->web_login_url, p->web_login_url, sizeof srv->web_login_url);
    pthread_mutex_unlock(&srv->rate_lock);
}
