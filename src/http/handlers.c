/* Routes and their handlers. Each handler validates, authorises, then either answers from a
 * read connection or submits one engine command and answers when it is durable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/digest.h"
#include "core/ids.h"
#include "http/http_internal.h"

typedef void (*handler_fn)(request *r);

/* docs/openapi.json, embedded at build time (cmake/embed.cmake). */
extern const unsigned char openapi_json[];

typedef struct route {
    const char *method;
    const char *pattern; /* segments; "*" matches one id */
    handler_fn handler;
    bool public_route;   /* no authentication */
    const char *name;
} route;

static void h_healthz(request *r);
static void h_metrics(request *r);
static void h_openapi(request *r);
static void h_account_create(request *r);
static void h_account_list(request *r);
static void h_account_get(request *r);
static void h_topup(request *r);
static void h_withdraw(request *r);
static void h_session_create(request *r);
static void h_unmask(request *r);
static void h_real_name(request *r);
static void h_agreement(request *r);
static void h_transfer_create(request *r);
static void h_transfer_get(request *r);
static void h_transfer_batch(request *r);
static void h_account_transfers(request *r);
static void h_account_trail(request *r);
static void h_key_create(request *r);
static void h_key_list(request *r);
static void h_key_revoke(request *r);
static void h_session_revoke(request *r);
static void h_ledger_check(request *r);

static const route routes[] = {
    {"GET", "/healthz", h_healthz, true, "GET /healthz"},
    {"GET", "/metrics", h_metrics, true, "GET /metrics"},
    {"GET", "/openapi.json", h_openapi, true, "GET /openapi.json"},
    {"GET", "/c/*", h_page_claim, true, "GET /c/{token}"},
    {"GET", "/p/*", h_page_pay, true, "GET /p/{token}"},
    {"GET", "/assets/*", h_asset, true, "GET /assets/{file}"},
    {"GET", "/assets/vendor/*", h_asset, true, "GET /assets/vendor/{file}"},
    {"GET", "/login", h_page_login, true, "GET /login"},
    {"GET", "/dashboard", h_page_dashboard, true, "GET /dashboard"},
    {"GET", "/admin", h_page_admin, true, "GET /admin"},
    {"POST", "/v1/login-links", h_login_link_create, false, "POST /v1/login-links"},
    {"POST", "/v1/web/login", h_web_login, true, "POST /v1/web/login"},
    {"GET", "/v1/web/session", h_web_session, false, "GET /v1/web/session"},
    {"POST", "/v1/web/logout", h_web_logout, false, "POST /v1/web/logout"},
    {"POST", "/v1/accounts", h_account_create, false, "POST /v1/accounts"},
    {"GET", "/v1/accounts", h_account_list, false, "GET /v1/accounts"},
    {"GET", "/v1/accounts/*", h_account_get, false, "GET /v1/accounts/{id}"},
    {"POST", "/v1/accounts/*/topup", h_topup, false, "POST /v1/accounts/{id}/topup"},
    {"POST", "/v1/accounts/*/withdraw", h_withdraw, false, "POST /v1/accounts/{id}/withdraw"},
    {"POST", "/v1/accounts/*/sessions", h_session_create, false, "POST /v1/accounts/{id}/sessions"},
    {"POST", "/v1/accounts/*/unmask", h_unmask, false, "POST /v1/accounts/{id}/unmask"},
    {"PUT", "/v1/accounts/*/real-name", h_real_name, false, "PUT /v1/accounts/{id}/real-name"},
    {"PUT", "/v1/accounts/*/agreement", h_agreement, false, "PUT /v1/accounts/{id}/agreement"},
    {"GET", "/v1/accounts/*/transfers", h_account_transfers, false,
     "GET /v1/accounts/{id}/transfers"},
    {"GET", "/v1/accounts/*/trail", h_account_trail, false, "GET /v1/accounts/{id}/trail"},
    {"POST", "/v1/transfers", h_transfer_create, false, "POST /v1/transfers"},
    {"POST", "/v1/transfers/batch", h_transfer_batch, false, "POST /v1/transfers/batch"},
    {"GET", "/v1/transfers/*", h_transfer_get, false, "GET /v1/transfers/{id}"},
    {"POST", "/v1/keys", h_key_create, false, "POST /v1/keys"},
    {"GET", "/v1/keys", h_key_list, false, "GET /v1/keys"},
    {"POST", "/v1/keys/*/revoke", h_key_revoke, false, "POST /v1/keys/{id}/revoke"},
    {"POST", "/v1/sessions/revoke", h_session_revoke, false, "POST /v1/sessions/revoke"},
    {"GET", "/v1/ledger/check", h_ledger_check, false, "GET /v1/ledger/check"},
    {"POST", "/v1/packets", h_packet_create, false, "POST /v1/packets"},
    {"GET", "/v1/packets", h_packet_list, false, "GET /v1/packets"},
    {"GET", "/v1/packets/*", h_packet_get, false, "GET /v1/packets/{id}"},
    {"POST", "/v1/packets/*/claims", h_packet_claim, false, "POST /v1/packets/{id}/claims"},
    {"GET", "/v1/scenes", h_scenes, false, "GET /v1/scenes"},
    {"GET", "/v1/stats/packets", h_packet_stats, false, "GET /v1/stats/packets"},
    {"POST", "/v1/codes", h_code_create, false, "POST /v1/codes"},
    {"GET", "/v1/codes/*", h_code_get, false, "GET /v1/codes/{id}"},
    {"POST", "/v1/codes/*/cancel", h_code_cancel, false, "POST /v1/codes/{id}/cancel"},
    {"GET", "/v1/codes/*/qr.png", h_code_qr, false, "GET /v1/codes/{id}/qr.png"},
    {"POST", "/v1/payments", h_payment_create, false, "POST /v1/payments"},
    {"GET", "/v1/payments", h_payment_list, false, "GET /v1/payments"},
    {"GET", "/v1/payments/*", h_payment_get, false, "GET /v1/payments/{id}"},
    {"GET", "/v1/payments/*/voice.wav", h_payment_voice, false, "GET /v1/payments/{id}/voice.wav"},
    {"POST", "/v1/payments/*/refunds", h_refund_create, false, "POST /v1/payments/{id}/refunds"},
    {"POST", "/v1/settlements", h_settlement_create, false, "POST /v1/settlements"},
    {"GET", "/v1/settlements", h_settlement_list, false, "GET /v1/settlements"},
    {"GET", "/v1/settlements/*", h_settlement_get, false, "GET /v1/settlements/{id}"},
    {"GET", "/v1/settlements/*/file", h_settlement_file, false, "GET /v1/settlements/{id}/file"},
    {"POST", "/v1/webhooks", h_webhook_create, false, "POST /v1/webhooks"},
    {"GET", "/v1/webhooks", h_webhook_list, false, "GET /v1/webhooks"},
    {"GET", "/v1/webhooks/*", h_webhook_get, false, "GET /v1/webhooks/{id}"},
    {"DELETE", "/v1/webhooks/*", h_webhook_delete, false, "DELETE /v1/webhooks/{id}"},
    {"POST", "/v1/webhooks/*/rotate", h_webhook_rotate, false, "POST /v1/webhooks/{id}/rotate"},
    {"GET", "/v1/webhooks/*/deliveries", h_delivery_list, false,
     "GET /v1/webhooks/{id}/deliveries"},
    {"POST", "/v1/webhooks/*/deliveries/*/redeliver", h_delivery_redeliver, false,
     "POST /v1/webhooks/{id}/deliveries/{event}/redeliver"},
    {"GET", "/v1/risk/cases", h_case_list, false, "GET /v1/risk/cases"},
    {"GET", "/v1/risk/cases/*", h_case_get, false, "GET /v1/risk/cases/{id}"},
    {"POST", "/v1/risk/cases/*/resolve", h_case_resolve, false, "POST /v1/risk/cases/{id}/resolve"},
    {"GET", "/v1/risk/lists/*", h_list_get, false, "GET /v1/risk/lists/{list}"},
    {"POST", "/v1/risk/lists/*", h_list_add, false, "POST /v1/risk/lists/{list}"},
    {"POST", "/v1/risk/lists/*/remove", h_list_remove, false, "POST /v1/risk/lists/{list}/remove"},
    {"GET", "/v1/reports/large-transactions", h_large_report, false,
     "GET /v1/reports/large-transactions"},
    {"POST", "/v1/risk/lists/*/import", h_list_import, false, "POST /v1/risk/lists/{list}/import"},
    {"GET", "/v1/risk/lists/*/export", h_list_export, false, "GET /v1/risk/lists/{list}/export"},
    {"GET", "/v1/audit/verify", h_audit_verify, false, "GET /v1/audit/verify"},
    {"POST", "/v1/reports/reconcile", h_reconcile, false, "POST /v1/reports/reconcile"},
    {"GET", "/v1/reports/daily", h_daily_report, false, "GET /v1/reports/daily"},
    {"POST", "/v1/adjustments", h_adjustment_propose, false, "POST /v1/adjustments"},
    {"GET", "/v1/adjustments", h_adjustment_list, false, "GET /v1/adjustments"},
    {"GET", "/v1/adjustments/*", h_adjustment_get, false, "GET /v1/adjustments/{id}"},
    {"POST", "/v1/adjustments/*/approve", h_adjustment_approve, false,
     "POST /v1/adjustments/{id}/approve"},
    {"POST", "/v1/adjustments/*/reject", h_adjustment_reject, false,
     "POST /v1/adjustments/{id}/reject"},
};

#define ROUTE_COUNT ((int)(sizeof routes / sizeof routes[0]))
_Static_assert(sizeof routes / sizeof routes[0] <= LIMIT_METRIC_ROUTES, "metrics keep the routes");

int handlers_route_count(void)
{
    return ROUTE_COUNT;
}

const char *handlers_route_name(int route_index)
{
    return route_index >= 0 && route_index < ROUTE_COUNT ? routes[route_index].name : "other";
}

/* ---- routing ------------------------------------------------------------------------------ */

/* Split r->path into segments; false for empty segments (//, trailing /). */
static bool split_path(request *r)
{
    snprintf(r->segment_buf, sizeof r->segment_buf, "%s", r->path);
    r->segment_count = 0;
    char *p = r->segment_buf;
    if (*p != '/') return false;
    while (*p == '/') {
        *p++ = '\0';
        if (*p == '\0' || *p == '/' || r->segment_count == ROUTE_SEGMENTS_MAX) return false;
        r->segments[r->segment_count++] = p;
        while (*p != '\0' && *p != '/') p++;
    }
    return true;
}

static bool pattern_matches(const request *r, const char *pattern)
{
    int i = 0;
    const char *p = pattern;
    while (*p == '/') {
        p++;
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (i >= r->segment_count) return false;
        if (!(len == 1 && *p == '*') &&
            (strlen(r->segments[i]) != len || strncmp(r->segments[i], p, len) != 0)) {
            return false;
        }
        i++;
        p += len;
    }
    return i == r->segment_count;
}

static void run_after_nonce(request *r)
{
    command *cmd = &r->cmd->base;
    if (cmd->err != HB_ERR_OK) {
        request_error(r, cmd->err, cmd->err_detail);
        return;
    }
    finish_fn next = r->after_nonce;
    r->after_nonce = NULL;
    next(r);
}

void handlers_dispatch(request *r)
{
    bool path_ok = split_path(r);
    bool path_known = false;
    int found = -1;
    for (int i = 0; path_ok && i < ROUTE_COUNT; i++) {
        if (!pattern_matches(r, routes[i].pattern)) continue;
        path_known = true;
        if (strcmp(routes[i].method, r->method) == 0) {
            found = i;
            break;
        }
    }
    if (found < 0) {
        request_error(r, path_known ? HB_ERR_METHOD_NOT_ALLOWED : HB_ERR_NOT_FOUND,
                      path_known ? "method not allowed on this route" : "no such route");
        return;
    }
    r->route = found;
    const route *rt = &routes[found];
    if (rt->public_route) {
        rt->handler(r);
        return;
    }
    if ((strcmp(r->method, "POST") == 0 || strcmp(r->method, "PUT") == 0) && r->body_len > 0) {
        const char *type =
            MHD_lookup_connection_value(r->connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        bool csv_body = rt->handler == h_list_import || rt->handler == h_reconcile; /* CSV */
        const char *want = csv_body ? "text/csv" : "application/json";
        size_t n = strlen(want);
        if (type == NULL || strncasecmp(type, want, n) != 0 || (type[n] != '\0' && type[n] != ';')) {
            request_error(r, HB_ERR_UNSUPPORTED_MEDIA_TYPE,
                          csv_body ? "send Content-Type: text/csv"
                                       : "send Content-Type: application/json");
            return;
        }
    }
    if (!request_authenticate(r)) return;
    if (!request_rate_limit(r, 1)) {
        request_refuse_recording_nonce(r);
        return;
    }
    if (r->caller.signed_request && strcmp(r->method, "GET") == 0) {
        /* A signed read records its nonce first, so that it cannot be replayed either. */
        r->cmd = calloc(1, sizeof *r->cmd);
        ASSERT(r->cmd != NULL);
        credentials_nonce_prepare(&r->cmd->nonce, r->caller.actor, r->caller.key_id,
                                  r->caller.nonce, r->caller.ts_ms);
        r->after_nonce = rt->handler;
        request_submit(r, run_after_nonce);
        return;
    }
    rt->handler(r);
}

/* ---- shared pieces ----------------------------------------------------------------------- */

int64_t handler_now_ms(const request *r)
{
    return clock_now_ms(r->server->clock);
}

bool handler_is_admin(const request *r)
{
    return r->caller.role == ROLE_ADMIN;
}

json_t *handler_risk_note(json_t *o, const command *cmd)
{
    if (o != NULL && cmd->risk_decision[0] != '\0') {
        json_object_set_new(o, "risk", json_pack("{s:s,s:s}", "decision", cmd->risk_decision,
                                                 "reason", cmd->risk_reason));
    }
    return o;
}

bool handler_require_admin(request *r)
{
    if (handler_is_admin(r)) return true;
    request_error(r, HB_ERR_FORBIDDEN, "this needs an admin key");
    return false;
}

/* May the caller see this customer? Admins and support see all; a merchant its customer; a
 * person its own wallet. Others get NOT_FOUND so that ids cannot be probed. */
static bool may_see_customer(const request *r, int64_t id)
{
    switch (r->caller.role) {
    case ROLE_ADMIN:
    case ROLE_SUPPORT:
        return true;
    case ROLE_MERCHANT:
    case ROLE_PERSON:
        return r->caller.account_id == id;
    default:
        return false;
    }
}

void handler_public_link(const request *r, char kind, const char *token, char *out, size_t size)
{
    snprintf(out, size, "%s/%c/%s", r->server->public_url, kind, token);
}

/* Run a command now, in this request's thread (rare operations whose commands are too big
 * to keep in every request): the caller's nonce and, when idempotent, its key go with it. */
hb_err handler_submit_now(request *r, command *cmd, bool idempotent)
{
    request_prepare_command(r, cmd, idempotent);
    hb_err err = engine_submit(r->server->engine, cmd);
    if (err != HB_ERR_OK) request_error(r, err, cmd->err_detail);
    return err;
}

bool handler_buffer_append(void *ctx, const char *text, size_t len)
{
    handler_buffer *b = ctx;
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->len + len + 1) cap *= 2;
        if (cap > (size_t)64 << 20) return false; /* a response beyond 64 MiB: refuse */
        char *grown = realloc(b->data, cap);
        if (grown == NULL) return false;
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, text, len);
    b->len += len;
    b->data[b->len] = '\0';
    return true;
}

void handler_respond_text(request *r, handler_buffer *out, hb_err err, const char *what)
{
    if (err != HB_ERR_OK) {
        free(out->data);
        out->data = NULL;
        request_error(r, HB_ERR_UNAVAILABLE, what);
        return;
    }
    free(r->response);
    r->response = out->data;
    r->response_len = out->len;
    out->data = NULL;
    r->content_type = "text/csv; charset=utf-8";
    r->status = 200;
    r->phase = PHASE_RESPOND;
}

pending_command *handler_new_command(request *r)
{
    free(r->cmd);
    r->cmd = calloc(1, sizeof *r->cmd);
    ASSERT(r->cmd != NULL);
    return r->cmd;
}

static json_t *customer_json(const customer_view *v)
{
    char id[IDS_TEXT_MAX];
    ids_format(ID_ACCOUNT, v->id, id, sizeof id);
    json_t *o = json_pack("{s:s,s:s,s:s,s:I,s:s,s:s,s:s,s:s,s:s,s:I,s:I}", "id", id, "tier",
                          tier_name(v->tier), "currency", currency_code(v->currency), "balance",
                          (json_int_t)v->balance, "status", account_status_name(v->status),
                          "region", v->region, "name", v->name, "phone", v->phone, "id_number",
                          v->id_number, "restricted_until", (json_int_t)v->restricted_until_ms,
                          "created_at", (json_int_t)v->created_at_ms);
    if (v->tier == TIER_PROVIDER) {
        const customer *a = &v->agreement;
        json_object_set_new(
            o, "agreement",
            a->agreement_single <= 0
                ? json_null()
                : json_pack("{s:I,s:I,s:I,s:I,s:s,s:I}", "single_limit",
                            (json_int_t)a->agreement_single, "daily_limit",
                            (json_int_t)a->agreement_daily, "fee_rate_bp",
                            (json_int_t)a->fee_rate_bp, "code_validity_s",
                            (json_int_t)a->agreement_validity_s, "crypto",
                            a->agreement_crypto == POLICY_SM4 ? "sm4" : "aes-256-gcm",
                            "max_shares", (json_int_t)a->agreement_max_shares));
    }
    json_object_set_new(o, "real_name_level", v->tier == TIER_PERSONAL
                                                  ? json_integer(v->real_name_level)
                                                  : json_null());
    if (v->pending_id != 0) {
        char pending[IDS_TEXT_MAX], available[IDS_TEXT_MAX];
        ids_format(ID_ACCOUNT, v->pending_id, pending, sizeof pending);
        ids_format(ID_ACCOUNT, v->available_id, available, sizeof available);
        json_object_set_new(o, "merchant",
                            json_pack("{s:{s:s,s:I},s:{s:s,s:I}}", "pending", "id", pending,
                                      "balance", (json_int_t)v->pending_balance, "available",
                                      "id", available, "balance",
                                      (json_int_t)v->available_balance));
        json_t *m = json_object_get(o, "merchant");
        json_object_set_new(m, "fee_rate_bp",
                            v->fee_rate_bp >= 0 ? json_integer(v->fee_rate_bp) : json_null());
    }
    return o;
}

static json_t *transfer_json(const transfer *t)
{
    char id[IDS_TEXT_MAX], from[IDS_TEXT_MAX], to[IDS_TEXT_MAX];
    ids_format(ID_TRANSFER, t->id, id, sizeof id);
    ids_format(ID_ACCOUNT, t->debit_id, from, sizeof from);
    ids_format(ID_ACCOUNT, t->credit_id, to, sizeof to);
    bool bank = t->kind == TRANSFER_TOPUP || t->kind == TRANSFER_WITHDRAW;
    return json_pack("{s:s,s:s,s:s,s:s,s:I,s:s,s:s,s:I}", "id", id, "kind",
                     transfer_kind_name(t->kind), "from", from, "to", to, "amount",
                     (json_int_t)t->amount, "currency", currency_code(t->currency),
                     bank ? "external_ref" : "memo", t->reference, "created_at",
                     (json_int_t)t->created_at_ms);
}

/* Answer with the customer as it is now (after a command or for a read). */
static void respond_customer(request *r, int status, int64_t id, bool unmask)
{
    store *s = request_reader(r);
    if (s == NULL) return;
    customer_view v;
    hb_err err = customer_view_get(s, r->server->keys, id, unmask, &v);
    request_reader_done(r, s);
    if (err != HB_ERR_OK) {
        request_error(r, err, err == HB_ERR_NOT_FOUND ? "no such account" : "");
        return;
    }
    request_json(r, status, customer_json(&v));
}

/* ---- public -------------------------------------------------------------------------------- */

static void h_healthz(request *r)
{
    engine_stats st;
    engine_get_stats(r->server->engine, &st);
    request_json(r, 200, json_pack("{s:s,s:I}", "status", "ok", "failed_batches",
                                   (json_int_t)st.failed_batches));
}

static void h_openapi(request *r)
{
    json_error_t error;
    json_t *doc = json_loads((const char *)openapi_json, 0, &error);
    ASSERT(doc != NULL); /* checked at build and by the tests */
    request_json(r, 200, doc);
}

static void h_metrics(request *r)
{
    http_server *srv = r->server;
    size_t cap = 65536;
    char *out = malloc(cap);
    ASSERT(out != NULL);
    size_t n = 0;
#define EMIT(...)                                                                              \
    do {                                                                                       \
        int w = snprintf(out + n, cap - n, __VA_ARGS__);                                       \
        if (w > 0 && (size_t)w < cap - n) n += (size_t)w;                                      \
    } while (0)
    EMIT("# HELP hongbao_http_requests_total HTTP requests by route and status class.\n");
    EMIT("# TYPE hongbao_http_requests_total counter\n");
    pthread_mutex_lock(&srv->metrics_lock);
    for (int i = 0; i <= LIMIT_METRIC_ROUTES; i++) {
        for (int c = 1; c < 6; c++) {
            int64_t v = srv->requests_by_route_status[i][c];
            if (v == 0) continue;
            EMIT("hongbao_http_requests_total{route=\"%s\",code=\"%dxx\"} %lld\n",
                 handlers_route_name(i < ROUTE_COUNT ? i : -1), c, (long long)v);
        }
    }
    EMIT("# HELP hongbao_http_request_duration_seconds Request latency.\n");
    EMIT("# TYPE hongbao_http_request_duration_seconds histogram\n");
    int64_t cumulative = 0;
    for (int b = 0; b < 16; b++) {
        cumulative += srv->latency_buckets[b];
        EMIT("hongbao_http_request_duration_seconds_bucket{le=\"%.3f\"} %lld\n",
             (double)((int64_t)1 << b) / 1000.0, (long long)cumulative);
    }
    EMIT("hongbao_http_request_duration_seconds_bucket{le=\"+Inf\"} %lld\n",
         (long long)srv->latency_count);
    EMIT("hongbao_http_request_duration_seconds_sum %.6f\n", (double)srv->latency_sum_us / 1e6);
    EMIT("hongbao_http_request_duration_seconds_count %lld\n", (long long)srv->latency_count);
    EMIT("# TYPE hongbao_http_in_flight gauge\nhongbao_http_in_flight %lld\n",
         (long long)srv->in_flight);
    pthread_mutex_unlock(&srv->metrics_lock);
    pthread_mutex_lock(&srv->sessions_lock);
    int64_t session_hits = srv->session_cache_hits, session_reads = srv->session_store_reads;
    pthread_mutex_unlock(&srv->sessions_lock);
    EMIT("# HELP hongbao_session_lookups_total Session tokens checked, by where the session was "
         "found: the server's cache or the store.\n");
    EMIT("# TYPE hongbao_session_lookups_total counter\n");
    EMIT("hongbao_session_lookups_total{source=\"cache\"} %lld\n", (long long)session_hits);
    EMIT("hongbao_session_lookups_total{source=\"store\"} %lld\n", (long long)session_reads);
    engine_stats st;
    engine_get_stats(srv->engine, &st);
    EMIT("# TYPE hongbao_engine_batches_total counter\nhongbao_engine_batches_total %lld\n",
         (long long)st.batches);
    EMIT("# TYPE hongbao_engine_commands_total counter\nhongbao_engine_commands_total %lld\n",
         (long long)st.commands);
    EMIT("# TYPE hongbao_engine_failed_batches_total counter\n"
         "hongbao_engine_failed_batches_total %lld\n",
         (long long)st.failed_batches);
    EMIT("# TYPE hongbao_engine_queue_depth_max gauge\nhongbao_engine_queue_depth_max %lld\n",
         (long long)st.queue_depth);
    EMIT("# HELP hongbao_engine_writer_seconds_total Writer time by phase.\n");
    EMIT("# TYPE hongbao_engine_writer_seconds_total counter\n");
    EMIT("hongbao_engine_writer_seconds_total{phase=\"commands\"} %.6f\n", (double)st.exec_ns / 1e9);
    EMIT("hongbao_engine_writer_seconds_total{phase=\"balance_updates\"} %.6f\n",
         (double)st.apply_ns / 1e9);
    EMIT("hongbao_engine_writer_seconds_total{phase=\"commit\"} %.6f\n", (double)st.commit_ns / 1e9);
    EMIT("# HELP hongbao_engine_batch_size Commands per batch.\n");
    EMIT("# TYPE hongbao_engine_batch_size histogram\n");
    cumulative = 0;
    for (int k = 0; k < 16; k++) {
        cumulative += st.batch_size_hist[k];
        EMIT("hongbao_engine_batch_size_bucket{le=\"%lld\"} %lld\n",
             (long long)(((int64_t)2 << k) - 1), (long long)cumulative);
    }
    EMIT("hongbao_engine_batch_size_bucket{le=\"+Inf\"} %lld\n", (long long)st.batches);
    EMIT("hongbao_engine_batch_size_sum %lld\nhongbao_engine_batch_size_count %lld\n",
         (long long)st.commands, (long long)st.batches);
#undef EMIT
    free(r->response);
    r->response = out;
    r->response_len = n;
    r->status = 200;
    r->phase = PHASE_RESPOND;
}

/* ---- accounts ------------------------------------------------------------------------------ */

static void finish_account_create(request *r)
{
    command *cmd = &r->cmd->base;
    if (cmd->err != HB_ERR_OK) {
        request_error(r, cmd->err, cmd->err_detail);
        return;
    }
    r->replayed = cmd->replayed;
    respond_customer(r, 201, r->cmd->customer.id, false);
}

static void h_account_create(request *r)
{
    if (!handler_require_admin(r)) return;
    json_t *body = request_body_object(r);
    if (body == NULL) return;
    static const char *const fields[] = {"tier",   "name",        "phone",           "id_number",
                                         "currency", "region",    "fee_rate_bp",
                                         "real_name_level", NULL};
    pending_command *pc = handler_new_command(r);
    customer_input *in = &pc->customer.input;
    json_t *rate = json_object_get(body, "fee_rate_bp");
    in->has_fee_rate = rate != NULL && !json_is_null(rate); /* null: the tier's lowest */
    int64_t level = 0;
    char tier_text[16] = "", currency_text[8] = ""; /* read below even when ok is false */
    bool ok = request_only_fields(r, body, fields) &&
              request_string(r, body, "tier", true, 15, tier_text, sizeof tier_text) &&
              request_string(r, body, "name", true, LIMIT_NAME_LEN, in->name, sizeof in->name) &&
              request_string(r, body, "phone", false, LIMIT_PHONE_LEN, in->phone,
                             sizeof in->phone) &&
              request_string(r, body, "id_number", false, LIMIT_ID_NUMBER_LEN, in->id_number,
                             sizeof in->id_number) &&
              request_string(r, body, "currency", false, 7, currency_text,
                             sizeof currency_text) &&
              request_string(r, body, "region", false, LIMIT_REGION_LEN, in->region,
                             sizeof in->region) &&
              request_integer(r, body, "fee_rate_bp", false, 0, 10000, &in->fee_rate_bp) &&
              request_integer(r, body, "real_name_level", false, 0, 3, &level);
    json_t *level_value = json_object_get(body, "real_name_level");
    in->has_real_name_level = level_value != NULL && !json_is_null(level_value);
    in->real_name_level = (int)level;
    /* present but empty is not "absent": there is no default for an empty value */
    bool empty_enum = (json_object_get(body, "currency") != NULL && currency_text[0] == '\0') ||
                      (json_object_get(body, "region") != NULL && in->region[0] == '\0');
    json_decref(body);
    if (!ok) return;
    if (empty_enum) {
        request_error(r, HB_ERR_INVALID_ARGUMENT, "currency and region must not be empty");
        return;
    }
    in->tier = tier_parse(tier_text);
    if (in->tier == TIER_SYSTEM) in->tier = TIER_COUNT;
    in->currency = currency_text[0] ? currency_parse(currency_text, strlen(currency_text))
                                    : CURRENCY_CNY;
    if (in->region[0] == '\0') snprintf(in->region, sizeof in->region, "CN");
    char why[160];
    hb_err err = customer_create_prepare(&pc->customer, r->server->keys, r->caller.actor, NULL,
                                         why, sizeof why);
    if (err != HB_ERR_OK) {
        request_error(r, err, why);
        return;
    }
    request_prepare_command(r, &pc->base, true);
    request_submit(r, finish_account_create);
}

static void h_account_get(request *r)
{
    int64_t id = 0;
    if (!request_account_id(r, r->segments[2], &id)) return;
    if (!may_see_customer(r, id)) {
        request_error(r, HB_ERR_NOT_FOUND, "no such account");
        return;
    }
    respond_customer(r, 200, id, false);
}

/* A query parameter's decoded value; false (response set) when it holds a NUL byte. */
bool handler_query_value(request *r, const char *name, const char **out)
{
    size_t len = 0;
    *out = NULL;
    if (MHD_lookup_connection_value_n(r->connection, MHD_GET_ARGUMENT_KIND, name, strlen(name),
                                      out, &len) != MHD_YES) {
        *out = NULL;
        return true;
    }
    if (*out != NULL && strlen(*out) != len) {
        request_error(r, HB_ERR_INVALID_ARGUMENT, "query values must not contain NUL");
        return false;
    }
    return true;
}

/* ?limit=1..100 (default 50) and ?cursor=<prefixed id of the last item seen>; false with the
 * response set when either is malformed. */
bool handler_query_integer(request *r, const char *name, int64_t min, int64_t max, int64_t def,
                           int64_t *out)
{
    const char *text = NULL;
    if (!handler_query_value(r, name, &text)) return false;
    *out = def;
    if (text == NULL) return true;
    char *end = NULL;
    long long v = strtoll(text, &end, 10);
    if (end == text || *end != '\0' || v < min || v > max) {
        char detail[128];
        snprintf(detail, sizeof detail, "%s must be an integer in %lld..%lld", name,
                 (long long)min, (long long)max);
        request_error(r, HB_ERR_INVALID_ARGUMENT, detail);
        return false;
    }
    *out = v;
    return true;
}

bool handler_page_params(request *r, id_kind kind, int64_t *limit, int64_t *cursor_id)
{
    const char *limit_text = NULL, *cursor = NULL;
    if (!handler_query_value(r, "limit", &limit_text) || !handler_query_value(r, "cursor", &cursor)) return false;
    *limit = LIMIT_PAGE_DEFAULT;
    *cursor_id = 0;
    if (limit_text != NULL) {
        char *end = NULL;
        long long v = strtoll(limit_text, &end, 10);
        if (end == limit_text || *end != '\0' || v < 1 || v > 100) {
            request_error(r, HB_ERR_INVALID_ARGUMENT, "limit must be 1..100");
            return false;
        }
        *limit = v;
    }
    const char *prefix = ids_prefix(kind);
    if (cursor != NULL && (strncmp(cursor, prefix, strlen(prefix)) != 0 ||
                           ids_parse(kind, cursor, cursor_id) != HB_ERR_OK)) {
        request_error(r, HB_ERR_INVALID_ARGUMENT, "bad cursor");
        return false;
    }
    return true;
}

static void h_account_list(request *r)
{
    int64_t limit = 0, after = 0;
    if (!handler_page_params(r, ID_ACCOUNT, &limit, &after)) return;
    /* ?phone= finds customers by the keyed hash of their number; the number is never stored
     * or compared in clear */
    const char *phone = NULL;
    if (!handler_query_value(r, "phone", &phone)) return;
    uint8_t phone_hash[32];
    if (phone != NULL && !handler_is_admin(r)) {
        /* support sees masked numbers: searching would let it recover them one guess at a time */
        request_error(r, HB_ERR_FORBIDDEN, "searching by phone needs an admin key");
        return;
    }
    if (phone != NULL) {
        size_t len = strlen(phone);
        bool ok = len >= 5 && len <= LIMIT_PHONE_LEN;
        for (size_t i = phone[0] == '+' ? 1 : 0; ok && i < len; i++) ok = phone[i] >= '0' && phone[i] <= '9';
        if (!ok) {
            request_error(r, HB_ERR_INVALID_ARGUMENT, "phone must be 5-19 digits");
            return;
        }
        if (crypto_hmac_sha256(r->server->keys->lookup_key, CRYPTO_KEY_LEN, phone, len,
                               phone_hash) != HB_ERR_OK) {
            request_error(r, HB_ERR_UNAVAILABLE, "");
            return;
        }
    }
    store *s = request_reader(r);
    if (s == NULL) return;
    json_t *data = json_array();
    int64_t last = 0;
    bool more = false;
    hb_err err = HB_ERR_OK;
    if (r->caller.role == ROLE_ADMIN || r->caller.role == ROLE_SUPPORT) {
        customer page[101];
        int count = 0;
        err = store_customer_list(s, after, (int)limit + 1, phone ? phone_hash : NULL, page,
                                  &count);
        more = count > limit;
        for (int i = 0; err == HB_ERR_OK && i < count && i < limit; i++) {
            customer_view v;
            err = customer_view_get(s, r->server->keys, page[i].id, false, &v);
            if (err == HB_ERR_OK) json_array_append_new(data, customer_json(&v));
            last = page[i].id;
        }
    } else if (r->caller.account_id > after) {
        /* merchants and people see their own account only */
        customer_view v;
        err = customer_view_get(s, r->server->keys, r->caller.account_id, false, &v);
        if (err == HB_ERR_OK) json_array_append_new(data, customer_json(&v));
    }
    request_reader_done(r, s);
    if (err != HB_ERR_OK) {
        json_decref(data);
        request_error(r, HB_ERR_UNAVAILABLE, "the store failed while listing");
        return;
    }
    json_t *page = json_pack("{s:o}", "data", data);
    if (more) {
        char next[IDS_TEXT_MAX];
        ids_format(ID_ACCOUNT, last, next, sizeof next);
        json_object_set_new(page, "next_cursor", json_string(next));
    } else {
        json_object_set_new(page, "next_cursor", json_null());
    }
    request_json(r, 200, page);
}

static void finish_unmask(request *r)
{
    command *cmd = &r->cmd->base;
    if (cmd->err != HB_ERR_OK) {
        request_error(r, cmd->err, cmd->err_detail);
        return;
    }
    r->replayed = cmd->replayed;
    respond_customer(r, 200, r->cmd->unmask.id, true);
}

static void finish_real_name(request *r)
{
    command *cmd = &r->cmd->base;
    if (cmd->err != HB_ERR_OK) {
        request_error(r, cmd->err, cmd->err_detail);
        return;
    }
    r->replayed = cmd->replayed;
    respond_customer(r, 200, r->cmd->real_name.id, false);
}

/* PUT /v1/accounts/{id}/real-name {level}: an admin sets a person's real-name level. */
static void h_real_name(request *r)
{
    if (!handler_require_admin(r)) return;
    int64_t id = 0;
    if (!request_account_id(r, r->segments[2], &id)) return;
    json_t *body = request_body_object(r);
    if (body == NULL) return;
    static const char *const fields[] = {"level", NULL};
    int64_t level = 0;
    bool ok = request_only_fields(r, body, fields) &&
              request_integer(r, body, "level", true, 0, 3, &level);
    json_decref(body);
    if (!ok) return;
    pending_command *pc = handler_new_command(r);
    pc->real_name.id = id;
    pc->real_name.level = (int)level;
    if (customer_real_name_prepare(&pc->real_name, r->caller.actor, NULL) != HB_ERR_OK) {
        request_error(r, HB_ERR_INVALID_ARGUMENT, "level must be 0..3");
        return;
    }
    request_prepare_command(r, &pc->base, true);
    request_submit(r, finish_real_name);
}

static void finish_agreement(request *r)
{
    command *cmd = &r->cmd->base;
    if (cmd->err != HB_ERR_OK) {
        request_error(r, cmd->err, cmd->err_detail);
        return;
    }
    r->replayed = cmd->replayed;
    respond_customer(r, 200, r->cmd->agreement.id, false);
}

/* PUT /v1/accounts/{id}/agreement {single_limit, daily_limit, fee_rate_bp, code_validity_s,
 * crypto, max_shares}: an admin sets a provider's agreement. */
static void h_agreement(request *r)
{
    if (!handler_require_admin(r)) return;
    int64_t id = 0;
    if (!request_account_id(r, r->segments[2], &id)) return;
    json_t *body = request_body_object(r);
    if (body == NULL) return;
    static const char *const fields[] = {"single_limit",    "daily_limit", "fee_rate_bp",
                                         "code_validity_s", "crypto",      "max_shares",
                                         NULL};
    pending_command *pc = handler_new_command(r);
    agreement_cmd *c = &pc->agreement;
    char crypto[16] = "";
    bool ok = request_only_fields(r, body, fields) &&
              request_amount(r, body, "single_limit", &c->single_limit) &&
              request_amount(r, body, "daily_limit", &c->daily_limit) &&
              request_integer(r, body, "fee_rate_bp", true, 0, 10000, &c->fee_rate_bp) &&
              request_integer(r, body, "code_validity_s", true, 30, 3600, &c->code_validity_s) &&
              request_string(r, body, "crypto", true, 15, crypto, sizeof crypto) &&
              request_integer(r, body, "max_shares", true, 1, LIMIT_PACKET_SHARES_MAX,
                              &c->max_shares);
    json_decref(body);
    if (!ok) return;
    c->id = id;
    c->crypto = strcmp(crypto, "sm4") == 0 ? POLICY_SM4 : strcmp(crypto, "aes-256-gcm") == 0 ? POLICY_AES_GCM : POLICY_EITHER;
    char why[LIMIT_ERR_DETAIL_LEN + 1] = "";
    hb_err err = customer_agreement_prepare(c, r->caller.actor, NULL, why, sizeof why);
    if (err != HB_ERR_OK) {
        request_error(r, err, why);
        return;
    }
    request_prepare_command(r, &pc->base, true);
    request_submit(r, finish_agreement);
}

static void h_unmask(request *r)
{
    if (!handler_require_admin(r)) return;
    pending_command *pc = handler_new_command(r);
    if (!request_account_id(r, r->segments[2], &pc->unmask.id)) return;
    hb_err err = customer_unmask_prepare(&pc->unmask, r->caller.actor);
    if (err != HB_ERR_OK) {
        request_error(r, err, "");
        return;
    }
    request_prepare_command(r, &pc->base, true);
    request_submit(r, finish_unmask);
}

/* ---- money ----------------------------------------------------------------------------------- */

static void finish_transfer(request *r)
{
    command *cmd = &r->cmd->base;
    if (cmd->err != HB_ERR_OK) {
        request_error(r, cmd->err, cmd->err_detail);
        return;
    }
    r->replayed = cmd->replayed;
    request_json(r, 201, handler_risk_note(transfer_json(&r->cmd->transfer.transfer), cmd));
}

static void bank_movement(request *r, transfer_kind kind)
{
    if (!handler_require_admin(r)) return;
    int64_t id = 0;
    if (!request_account_id(r, r->segments[2], &id)) return;
    json_t *body = request_body_object(r);
    if (body == NULL) return;
    static const char *const fields[] = {"amount", "external_ref", "device", "region", NULL};
    pending_command *pc = handler_new_command(r);
    transfer *tr = &pc->transfer.transfer;
    char device[LIMIT_DEVICE_LEN + 1], region[LIMIT_REGION_LEN + 1];
    bool ok = request_only_fields(r, body, fields) && request_amount(r, body, "amount", &tr->amount) &&
              request_string(r, body, "external_ref", true, LIMIT_REFERENCE_LEN, tr->reference,
                             sizeof tr->reference) &&
              request_string(r, body, "device", false, LIMIT_DEVICE_LEN, device, sizeof device) &&
              request_string(r, body, "region", false, LIMIT_REGION_LEN, region, sizeof region);
    json_decref(body);
    if (!ok) return;
    tr->kind = kind;
    if (kind == TRANSFER_TOPUP) {
        tr->credit_id = id;
    } else {
        tr->debit_id = id;
    }
    snprintf(pc->transfer.device, sizeof pc->transfer.device, "%s", device);
    hb_err err = wallet_transfer_prepare(&pc->transfer, r->caller.actor, NULL);
    if (err != HB_ERR_OK) {
        request_error(r, err, "invalid transfer");
        return;
    }
    request_prepare_command(r, &pc->base, true);
    request_submit(r, finish_transfer);
}

static void h_topup(request *r)
{
    bank_movement(r, TRANSFER_TOPUP);
}

static void h_withdraw(request *r)
{
    bank_movement(r, TRANSFER_WITHDRAW);
}

/* Parse one transfer object into c (prepared, not submitted). On failure returns the error
 * and a detail, without touching the response (the batch answers per item). */
static hb_err parse_transfer(request *r, json_t *obj, bool batch_item, transfer_cmd *c,
                             char *idem_key, char *detail, size_t size)
{
    static const char *const fields[] = {"from", "to", "amount", "currency", "memo", "device",
                                         "region", NULL};
    static const char *const batch_fields[] = {"from", "to", "amount", "currency", "memo",
                                               "device", "region", "idempotency_key", NULL};
    /* Reuse the single-request validators: they write an error response, which a batch item
     * turns into its own result. */
    transfer *tr = &c->transfer;
    char from[32], to[32], currency_text[8], device[LIMIT_DEVICE_LEN + 1],
        region[LIMIT_REGION_LEN + 1];
    idem_key[0] = '\0';
    bool ok = json_is_object(obj) &&
              request_only_fields(r, obj, batch_item ? batch_fields : fields) &&
              request_string(r, obj, "from", true, 31, from, sizeof from) &&
              request_string(r, obj, "to", true, 31, to, sizeof to) &&
              request_amount(r, obj, "amount", &tr->amount) &&
              request_string(r, obj, "currency", false, 7, currency_text, sizeof currency_text) &&
              request_string(r, obj, "memo", false, LIMIT_MEMO_LEN, tr->reference,
                             sizeof tr->reference) &&
              request_string(r, obj, "device", false, LIMIT_DEVICE_LEN, device, sizeof device) &&
              request_string(r, obj, "region", false, LIMIT_REGION_LEN, region, sizeof region) &&
              (!batch_item || request_string(r, obj, "idempotency_key", false, LIMIT_IDEM_KEY_LEN,
                                             idem_key, LIMIT_IDEM_KEY_LEN + 1));
    if (!ok && !json_is_object(obj)) {
        snprintf(detail, size, "each transfer must be a JSON object");
        return HB_ERR_INVALID_ARGUMENT;
    }
    if (ok) ok = request_account_id(r, from, &tr->debit_id) && request_account_id(r, to, &tr->credit_id);
    if (!ok) {
        /* the validator's refusal becomes this transfer's result, not the response */
        snprintf(detail, size, "%s", r->error_detail);
        free(r->response);
        r->response = NULL;
        r->phase = PHASE_BODY;
        return r->error;
    }
    if (currency_text[0] != '\0') {
        tr->currency = currency_parse(currency_text, strlen(currency_text));
        if (tr->currency == CURRENCY_NONE) {
            snprintf(detail, size, "currency must be CNY or HKD");
            return HB_ERR_INVALID_ARGUMENT;
        }
    }
    /* Only an admin moves other people's money; everyone else pays from their own wallet. */
    if (!handler_is_admin(r) && tr->debit_id != r->caller.account_id) {
        snprintf(detail, size, "no such account");
        return HB_ERR_NOT_FOUND;
    }
    int64_t device_wait = request_device_wait(r, device);
    if (device_wait != 0) {
        r->retry_after_s = (int)((device_wait + 999) / 1000);
        snprintf(detail, size, "too many payments from this device; see Retry-After");
        return HB_ERR_RATE_LIMITED;
    }
    tr->kind = TRANSFER_P2P;
    snprintf(c->device, sizeof c->device, "%s", device);
    hb_err err = wallet_transfer_prepare(c, r->caller.actor, NULL);
    if (err != HB_ERR_OK) snprintf(detail, size, "invalid transfer");
    return err;
}

static void h_transfer_create(request *r)
{
    if (r->caller.role == ROLE_SUPPORT) {
        request_error(r, HB_ERR_FORBIDDEN, "support keys are read-only");
        return;
    }
    json_t *body = request_body_object(r);
    if (body == NULL) return;
    pending_command *pc = handler_new_command(r);
    char idem[LIMIT_IDEM_KEY_LEN + 1], detail[LIMIT_ERR_DETAIL_LEN + 1];
    hb_err err = parse_transfer(r, body, false, &pc->transfer, idem, detail, sizeof detail);
    json_decref(body);
    if (err != HB_ERR_OK) {
        request_error(r, err, detail);
        /* refused for its rate, a signed request must not be replayable once tokens are back */
        if (err == HB_ERR_RATE_LIMITED) request_refuse_recording_nonce(r);
        return;
    }
    request_prepare_command(r, &pc->base, true);
    request_submit(r, finish_transfer);
}

static void finish_transfer_batch(request *r)
{
    json_t *results = json_array();
    size_t ok = 0;
    for (size_t i = 0; i < r->batch_count; i++) {
        command *cmd = &r->batch[i].base;
        hb_err err = r->batch_errors[i] != HB_ERR_OK ? r->batch_errors[i] : cmd->err;
        const char *detail = r->batch_errors[i] != HB_ERR_OK ? r->batch_details[i] : cmd->err_detail;
        if (err == HB_ERR_OK) {
            ok++;
            json_t *item = json_pack("{s:i,s:o}", "status", 201, "transfer",
                                     transfer_json(&r->batch[i].transfer));
            if (cmd->replayed) json_object_set_new(item, "replayed", json_true());
            json_array_append_new(results, item);
        } else {
            json_array_append_new(
                results, json_pack("{s:i,s:{s:s,s:s}}", "status", hb_err_status(err), "error",
                                   "code", hb_err_name(err), "message",
                                   detail && detail[0] ? detail : hb_err_message(err)));
        }
    }
    request_json(r, 200, json_pack("{s:I,s:I,s:o}", "succeeded", (json_int_t)ok, "failed",
                                   (json_int_t)(r->batch_count - ok), "results", results));
}

static void submit_transfer_batch(request *r)
{
    if (r->cmd != NULL && r->cmd->base.err != HB_ERR_OK) { /* the nonce was refused */
        request_error(r, r->cmd->base.err, r->cmd->base.err_detail);
        return;
    }
    request_submit_batch(r, finish_transfer_batch);
}

/* Up to 1,000 transfers, each with its own idempotency key, each succeeding or failing on
 * its own; the answer lists a result per transfer in order. */
static void h_transfer_batch(request *r)
{
    if (r->caller.role == ROLE_SUPPORT) {
        request_error(r, HB_ERR_FORBIDDEN, "support keys are read-only");
        return;
    }
    json_t *body = request_body_object(r);
    if (body == NULL) return;
    static const char *const fields[] = {"transfers", NULL};
    if (!request_only_fields(r, body, fields)) {
        json_decref(body);
        return;
    }
    json_t *items = json_object_get(body, "transfers");
    if (!json_is_array(items) || json_array_size(items) == 0 || json_array_size(items) > 1000) {
        json_decref(body);
        request_error(r, HB_ERR_INVALID_ARGUMENT, "\"transfers\" must be an array of 1-1000");
        return;
    }
    size_t n = json_array_size(items);
    /* a batch costs a token per transfer (the request took one already) */
    if (n > 1 && !request_rate_limit(r, (int64_t)n - 1)) {
        json_decref(body);
        request_refuse_recording_nonce(r);
        return;
    }
    r->batch = calloc(n, sizeof *r->batch);
    r->batch_errors = calloc(n, sizeof *r->batch_errors);
    r->batch_details = calloc(n, sizeof *r->batch_details);
    ASSERT(r->batch != NULL && r->batch_errors != NULL && r->batch_details != NULL);
    r->batch_count = n;
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_array_get(items, i);
        char idem[LIMIT_IDEM_KEY_LEN + 1];
        hb_err err = parse_transfer(r, item, true, &r->batch[i], idem, r->batch_details[i],
                                    sizeof r->batch_details[i]);
        r->batch_errors[i] = err;
        if (err != HB_ERR_OK) continue;
        command *cmd = &r->batch[i].base;
        snprintf(cmd->actor, sizeof cmd->actor, "%s", r->caller.actor);
        if (idem[0] != '\0') {
            /* each item's key, scoped like a single transfer's, hashed over the item */
            snprintf(cmd->idem_key, sizeof cmd->idem_key, "%s", idem);
            snprintf(cmd->idem_scope, sizeof cmd->idem_scope, "%.64s POST /v1/transfers/batch",
                     r->caller.actor);
            char *canonical = json_dumps(item, JSON_COMPACT | JSON_SORT_KEYS);
            ASSERT(canonical != NULL);
            ASSERT(digest_sha256(canonical, strlen(canonical), cmd->request_hash) == HB_ERR_OK);
            free(canonical);
        }
    }
    json_decref(body);
    if (r->caller.signed_request) {
        /* the batch's nonce first: a replayed batch must not run any of its transfers */
        pending_command *pc = handler_new_command(r);
        credentials_nonce_prepare(&pc->nonce, r->caller.actor, r->caller.key_id, r->caller.nonce,
                                  r->caller.ts_ms);
        request_submit(r, submit_transfer_batch);
        return;
    }
    submit_transfer_batch(r);
}

/* Whether the caller may see account id (admins and support any; a merchant its customer's
 * accounts, a session its wallet); when not, or when there is no such account, the reader
 * is given back and 404 set. *err receives a storage fault for the caller to report. */
static bool account_visible(request *r, store *s, int64_t id, hb_err *err)
{
    bool visible = r->caller.role == ROLE_ADMIN || r->caller.role == ROLE_SUPPORT;
    *err = HB_ERR_OK;
    if (!visible) {
        customer_view v;
        *err = customer_view_get(s, r->server->keys, r->caller.account_id, false, &v);
        visible = *err == HB_ERR_OK && customer_owns(&v, id);
    }
    account a;
    if (visible) *err = store_account_get(s, id, &a);
    if (*err != HB_ERR_OK && *err != HB_ERR_NOT_FOUND) {
        request_reader_done(r, s);
        request_error(r, HB_ERR_UNAVAILABLE, "the store failed");
        return false;
    }
    if (!visible || *err == HB_ERR_NOT_FOUND) {
        request_reader_done(r, s);
        request_error(r, HB_ERR_NOT_FOUND, "no such account");
        return false;
    }
    return true;
}

static void h_account_transfers(request *r)
{
    int64_t id = 0;
    if (!request_account_id(r, r->segments[2], &id)) return;
    int64_t limit = 0, before = 0;
    if (!handler_page_params(r, ID_TRANSFER, &limit, &before)) return;
    store *s = request_reader(r);
    if (s == NULL) return;
    hb_err err = HB_ERR_OK;
    if (!account_visible(r, s, id, &err)) return;
    transfer page[101];
    int count = 0;
    if (err == HB_ERR_OK) err = store_transfer_list(s, id, before, (int)limit + 1, page, &count);
    request_reader_done(r, s);
    if (err == HB_ERR_NOT_FOUND) {
        request_error(r, HB_ERR_INVALID_ARGUMENT, "the cursor is not one of this account's transfers");
        return;
    }
    if (err != HB_ERR_OK) {
        request_error(r, HB_ERR_UNAVAILABLE, "the store failed while listing");
        return;
    }
    json_t *data = json_array();
    for (int i = 0; i < count && i < limit; i++) json_array_append_new(data, transfer_json(&page[i]));
    json_t *reply = json_pack("{s:o}", "data", data);
    if (count > limit) {
        char next[IDS_TEXT_MAX];
        ids_format(ID_TRANSFER, page[limit - 1].id, next, sizeof next);
        json_object_set_new(reply, "next_cursor", json_string(next));
    } else {
        json_object_set_new(reply, "next_cursor", json_null());
    }
    request_json(r, 200, reply);
}

/* GET /v1/accounts/{id}/trail?days=30: what happened to and by an account, newest first:
 * its transfers and the audit records about it (status, real-name level, agreement, unmask,
 * sessions, risk decisions), at most 500 of each. */
static void h_account_trail(request *r)
{
    int64_t id = 0, days = 30;
    if (!request_account_id(r, r->segments[2], &id)) return;
    if (!handler_query_integer(r, "days", 1, 1100, 30, &days)) return;
    store *s = request_reader(r);
    if (s == NULL) return;
    bool operator_view = r->caller.role == ROLE_ADMIN || r->caller.role == ROLE_SUPPORT;
    hb_err err = HB_ERR_OK;
    if (!account_visible(r, s, id, &err)) return;
    enum { MAX = 500 };
    int64_t since = handler_now_ms(r) - days * 86400000;
    transfer *transfers = calloc(MAX, sizeof *transfers);
    audit_record *records = calloc(MAX, sizeof *records);
    ASSERT(transfers != NULL && records != NULL);
    int n_transfers = 0, n_records = 0;
    bool truncated = false;
    for (int64_t before = 0; err == HB_ERR_OK && n_transfers < MAX;) {
        transfer page[100];
        int count = 0;
        err = store_transfer_list(s, id, before, 100, page, &count);
        bool done = count < 100;
        for (int i = 0; err == HB_ERR_OK && i < count; i++) {
            if (page[i].created_at_ms < since) {
                done = true;
                break;
            }
            if (n_transfers == MAX) {
                truncated = true;
                break;
            }
            transfers[n_transfers++] = page[i];
            before = page[i].id;
        }
        if (done) break;
    }
    char object[IDS_TEXT_MAX];
    ids_format(ID_ACCOUNT, id, object, sizeof object);
    if (err == HB_ERR_OK) err = store_audit_about(s, object, since, MAX, records, &n_records);
    request_reader_done(r, s);
    if (err != HB_ERR_OK) {
        free(transfers);
        free(records);
        request_error(r, HB_ERR_UNAVAILABLE, "the store failed while reading the trail");
        return;
    }
    truncated |= n_transfers == MAX || n_records == MAX;
    json_t *events = json_array();
    for (int i = 0, j = 0; i < n_transfers || j < n_records;) {
        bool take_transfer = j == n_records ||
                             (i < n_transfers && transfers[i].created_at_ms >= records[j].time_ms);
        if (take_transfer) {
            json_array_append_new(events, json_pack("{s:I,s:s,s:o}", "time",
                                                    (json_int_t)transfers[i].created_at_ms, "kind",
                                                    "transfer", "transfer",
                                                    transfer_json(&transfers[i])));
            i++;
            continue;
        }
        const audit_record *rec = &records[j++];
        /* people and merchants see who acted only when it was themselves */
        /* a person's session ("session:acct_N") or a merchant's browser ("web:acct_N:...") */
        size_t n = strlen(object);
        bool own = (strncmp(rec->actor, "session:", 8) == 0 && strcmp(rec->actor + 8, object) == 0) ||
                   (strncmp(rec->actor, "web:", 4) == 0 && strncmp(rec->actor + 4, object, n) == 0 &&
                    rec->actor[4 + n] == ':');
        json_array_append_new(events, json_pack("{s:I,s:s,s:s,s:s,s:s,s:I}", "time",
                                                (json_int_t)rec->time_ms, "kind", "audit",
                                                "action", rec->action, "actor",
                                                operator_view || own ? rec->actor : "operator",
                                                "node", rec->node, "seq", (json_int_t)rec->seq));
    }
    free(transfers);
    free(records);
    request_json(r, 200, json_pack("{s:s,s:I,s:I,s:o,s:b}", "account", object, "days",
                                   (json_int_t)days, "since", (json_int_t)since, "events", events,
                                   "truncated", truncated));
}

static void h_transfer_get(request *r)
{
    int64_t id = 0;
    if (strncmp(r->segments[2], "tr_", 3) != 0 ||
        ids_parse(ID_TRANSFER, r->segments[2], &id) != HB_ERR_OK) {
        request_error(r, HB_ERR_NOT_FOUND, "no such transfer");
        return;
    }
    store *s = request_reader(r);
    if (s == NULL) return;
    transfer t;
    hb_err err = store_transfer_get(s, id, &t);
    bool visible = err == HB_ERR_OK;
    if (visible && r->caller.role != ROLE_ADMIN && r->caller.role != ROLE_SUPPORT) {
        /* a merchant or person sees transfers that touch its customer's accounts */
        customer_view v;
        visible = customer_view_get(s, r->server->keys, r->caller.account_id, false, &v) ==
                      HB_ERR_OK &&
                  (customer_owns(&v, t.debit_id) || customer_owns(&v, t.credit_id));
    }
    request_reader_done(r, s);
    if (err == HB_ERR_UNAVAILABLE) {
        request_error(r, err, "");
        return;
    }
    if (!visible) {
        request_error(r, HB_ERR_NOT_FOUND, "no such transfer");
        return;
    }
    request_json(r, 200, transfer_json(&t));
}

/* ---- credentials ----------------------------------------------------------------------------- */

static void finish_session_create(request *r)
{
    command *cmd = &r->cmd->base;
    if (cmd->err != HB_ERR_OK) {
        request_error(r, cmd->err, cmd->err_detail);
        return;
    }
    session_create_cmd *c = &r->cmd->session_create;
    request_json(r, 201, json_pack("{s:s,s:I}", "token", c->token, "expires_at",
                                   (json_int_t)c->expires_at_ms));
}

static void h_session_create(request *r)
{
    if (!handler_require_admin(r)) return;
    pending_command *pc = handler_new_command(r);
    session_create_cmd *c = &pc->session_create;
    if (!request_account_id(r, r->segments[2], &c->account_id)) return;
    if (r->body_len > 0) {
        json_t *body = request_body_object(r);
        if (body == NULL) return;
        static const char *const fields[] = {"ttl_seconds", NULL};
        bool ok = request_only_fields(r, body, fields) &&
                  request_integer(r, body, "ttl_seconds", false, 60, LIMIT_SESSION_TTL_MAX_S,
                                  &c->ttl_s);
        json_decref(body);
        if (!ok) return;
    }
    hb_err err = credentials_session_create_prepare(c, r->caller.actor);
    if (err != HB_ERR_OK) {
        request_error(r, err, "");
        return;
    }
    request_prepare_command(r, &pc->base, false); /* a token is never replayed */
    request_submit(r, finish_session_create);
}

static void finish_plain(request *r)
{
    command *cmd = &r->cmd->base;
    if (cmd->err != HB_ERR_OK) {
        request_error(r, cmd->err, cmd->err_detail);
        return;
    }
    r->replayed = cmd->replayed;
    request_json(r, 200, json_pack("{s:b}", "revoked", 1));
}

static void finish_session_revoke(request *r)
{
    if (r->cmd->base.err == HB_ERR_OK) {
        request_forget_session(r->server, r->cmd->session_revoke.token_hash);
    }
    finish_plain(r);
}

static void h_session_revoke(request *r)
{
    if (!handler_require_admin(r)) return;
    json_t *body = request_body_object(r);
    if (body == NULL) return;
    static const char *const fields[] = {"token", NULL};
    char token[CREDENTIALS_TOKEN_LEN + 1];
    bool ok = request_only_fields(r, body, fields) &&
              request_string(r, body, "token", true, CREDENTIALS_TOKEN_LEN, token, sizeof token);
    json_decref(body);
    if (!ok) return;
    pending_command *pc = handler_new_command(r);
    if (credentials_token_hash(token, strlen(token), pc->session_revoke.token_hash) != HB_ERR_OK ||
        credentials_session_revoke_prepare(&pc->session_revoke, r->caller.actor) != HB_ERR_OK) {
        request_error(r, HB_ERR_UNAVAILABLE, "");
        return;
    }
    request_prepare_command(r, &pc->base, true);
    request_submit(r, finish_session_revoke);
}

static void finish_key_create(request *r)
{
    command *cmd = &r->cmd->base;
    if (cmd->err != HB_ERR_OK) {
        request_error(r, cmd->err, cmd->err_detail);
        return;
    }
    key_create_cmd *c = &r->cmd->key_create;
    request_json(r, 201, json_pack("{s:s,s:s,s:s}", "key_id", c->key_id, "secret", c->secret,
                                   "role", role_name(c->role)));
}

static void h_key_create(request *r)
{
    if (!handler_require_admin(r)) return;
    json_t *body = request_body_object(r);
    if (body == NULL) return;
    static const char *const fields[] = {"role", "account", NULL};
    char role_text[16], account_text[32];
    bool ok = request_only_fields(r, body, fields) &&
              request_string(r, body, "role", true, 15, role_text, sizeof role_text) &&
              request_string(r, body, "account", false, 31, account_text, sizeof account_text);
    json_decref(body);
    if (!ok) return;
    pending_command *pc = handler_new_command(r);
    key_create_cmd *c = &pc->key_create;
    c->role = role_parse(role_text);
    if (c->role == ROLE_PERSON || c->role == ROLE_NONE) {
        request_error(r, HB_ERR_INVALID_ARGUMENT, "role must be admin, merchant or support");
        return;
    }
    if (c->role == ROLE_MERCHANT) {
        if (account_text[0] == '\0') {
            request_error(r, HB_ERR_INVALID_ARGUMENT, "a merchant key needs \"account\"");
            return;
        }
        if (!request_account_id(r, account_text, &c->account_id)) return;
    }
    hb_err err = credentials_key_create_prepare(c, r->server->keys, r->caller.actor);
    if (err != HB_ERR_OK) {
        request_error(r, err, "");
        return;
    }
    request_prepare_command(r, &pc->base, false); /* a secret is never replayed */
    request_submit(r, finish_key_create);
}

static void h_key_list(request *r)
{
    if (!handler_require_admin(r)) return;
    store *s = request_reader(r);
    if (s == NULL) return;
    api_key *page = calloc(LIMIT_PAGE_MAX, sizeof *page);
    ASSERT(page != NULL);
    int count = 0;
    hb_err err = store_key_list(s, "", LIMIT_PAGE_MAX, page, &count);
    request_reader_done(r, s);
    if (err != HB_ERR_OK) {
        free(page);
        request_error(r, err, "");
        return;
    }
    json_t *data = json_array();
    for (int i = 0; i < count; i++) {
        json_t *k = json_pack("{s:s,s:s,s:I,s:b}", "key_id", page[i].key_id, "role",
                              role_name(page[i].role), "created_at",
                              (json_int_t)page[i].created_at_ms, "revoked",
                              page[i].revoked_at_ms != 0);
        if (page[i].account_id != 0) {
            char id[IDS_TEXT_MAX];
            ids_format(ID_ACCOUNT, page[i].account_id, id, sizeof id);
            json_object_set_new(k, "account", json_string(id));
        }
        json_array_append_new(data, k);
    }
    free(page);
    request_json(r, 200, json_pack("{s:o}", "data", data));
}

static void h_key_revoke(request *r)
{
    if (!handler_require_admin(r)) return;
    pending_command *pc = handler_new_command(r);
    if (strlen(r->segments[2]) > LIMIT_KEY_ID_LEN) {
        request_error(r, HB_ERR_NOT_FOUND, "no such key");
        return;
    }
    snprintf(pc->key_revoke.key_id, sizeof pc->key_revoke.key_id, "%s", r->segments[2]);
    if (credentials_key_revoke_prepare(&pc->key_revoke, r->caller.actor) != HB_ERR_OK) {
        request_error(r, HB_ERR_NOT_FOUND, "no such key");
        return;
    }
    request_prepare_command(r, &pc->base, true);
    request_submit(r, finish_plain);
}

/* ---- ledger ----------------------------------------------------------------------------------- */

static void h_ledger_check(request *r)
{
    if (!handler_require_admin(r)) return;
    store *s = request_reader(r);
    if (s == NULL) return;
    ledger_report rep;
    hb_err err = store_ledger_check(s, &rep);
    request_reader_done(r, s);
    if (err != HB_ERR_OK) {
        request_error(r, err, "the store failed while checking");
        return;
    }
    json_t *currencies = json_array();
    for (int i = 0; i < rep.currency_count; i++) {
        const ledger_currency_report *c = &rep.currencies[i];
        json_array_append_new(
            currencies,
            json_pack("{s:s,s:I,s:I,s:I,s:I}", "currency", currency_code(c->currency), "sum",
                      (json_int_t)c->sum_all, "custody_reserve", (json_int_t)c->custody,
                      "owed_to_customers", (json_int_t)c->customer_owed, "platform_revenue",
                      (json_int_t)c->platform_own));
    }
    request_json(r, 200,
                 json_pack("{s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o}", "balanced", rep.balanced,
                           "accounts", (json_int_t)rep.accounts, "transfers",
                           (json_int_t)rep.transfers, "balance_mismatches",
                           (json_int_t)rep.balance_mismatches, "flag_violations",
                           (json_int_t)rep.flag_violations, "currency_mismatches",
                           (json_int_t)rep.currency_mismatches, "escrow_mismatches",
                           (json_int_t)rep.escrow_mismatches, "pending_mismatches",
                           (json_int_t)rep.pending_mismatches, "currencies", currencies));
}
