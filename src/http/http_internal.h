/* Internal to src/http: the request context shared by the server (server.c), the JSON and
 * authentication helpers (request.c) and the handlers (handlers.c). */
#ifndef HB_HTTP_HTTP_INTERNAL_H
#define HB_HTTP_HTTP_INTERNAL_H

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "core/ids.h"
#include "http/http.h"
#include "service/credentials.h"
#include "service/customer.h"
#include "service/packet.h"
#include "service/paycode.h"
#include "service/payment.h"
#include "service/risk.h"
#include "service/webhook.h"
#include "service/wallet.h"

#define ROUTE_SEGMENTS_MAX 6

typedef struct request request;
typedef void (*finish_fn)(request *r);

/* The engine command a request is waiting for, with room for any kind. */
typedef union pending_command {
    command base;
    transfer_cmd transfer;
    customer_cmd customer;
    key_create_cmd key_create;
    key_revoke_cmd key_revoke;
    session_create_cmd session_create;
    session_revoke_cmd session_revoke;
    login_link_cmd login_link;
    web_login_cmd web_login;
    nonce_cmd nonce;
    status_cmd status;
    unmask_cmd unmask;
    real_name_cmd real_name;
    agreement_cmd agreement;
    packet_create_cmd packet_create;
    packet_claim_cmd packet_claim;
    code_create_cmd code_create;
    code_cancel_cmd code_cancel;
    payment_cmd payment;
    refund_cmd refund;
} pending_command;

typedef enum request_phase {
    PHASE_HEADERS,  /* the first call: headers only */
    PHASE_BODY,     /* receiving the body */
    PHASE_WAITING,  /* suspended until an engine command is durable */
    PHASE_RESPOND   /* a response is ready to queue */
} request_phase;

/* Who is calling, once authenticated. */
typedef struct caller {
    role role;
    int64_t account_id;                /* merchant: its customer; person: its wallet */
    char key_id[LIMIT_KEY_ID_LEN + 1]; /* signed requests */
    char actor[LIMIT_ACTOR_LEN + 1];   /* "key:hbk_…", "session:acct_…" */
    bool signed_request;
    bool web; /* a browser session (cookie hb_web) */
    int64_t since_ms; /* a browser session: when it began */
    char nonce[LIMIT_NONCE_MAX + 1];
    int64_t ts_ms;
} caller;

struct request {
    http_server *server;
    struct MHD_Connection *connection;
    request_phase phase;
    char method[8];
    char target[LIMIT_PATH_LEN + 1]; /* raw request target: path and query as sent */
    bool target_too_long;
    char path[LIMIT_PATH_LEN + 1];   /* the path part of target */
    char request_id[32];
    int64_t start_ns;
    int route;

    char *body;
    size_t body_len;
    size_t body_cap;
    bool body_too_large;

    caller caller;
    char idem_key[LIMIT_IDEM_KEY_LEN + 1];
    char *segments[ROUTE_SEGMENTS_MAX];
    int segment_count;
    char segment_buf[LIMIT_PATH_LEN + 1];

    pending_command *cmd;
    finish_fn finish;   /* builds the response once cmd is durable */
    /* POST /v1/transfers/batch: many commands, answered when the last is durable */
    transfer_cmd *batch;
    size_t batch_count;
    _Atomic size_t batch_remaining;
    hb_err *batch_errors; /* validation errors found before submitting; OK = submitted */
    char (*batch_details)[LIMIT_ERR_DETAIL_LEN + 1];
    finish_fn after_nonce; /* a signed read: runs once its nonce is recorded */
    int64_t *shares;       /* POST /v1/packets: the split the command stores */

    int status;
    hb_err error;                                 /* the last request_error() */
    char error_detail[LIMIT_ERR_DETAIL_LEN + 1]; /* its message */
    bool deferred;      /* an error found in the headers, answered once the body is read */
    char *response;     /* JSON text (or content_type's bytes), malloc'd */
    const char *content_type; /* NULL = application/json */
    const char *cache_control; /* NULL = no-store */
    char set_cookie[160];      /* a Set-Cookie header to send ("" = none) */
    bool page;                 /* an HTML page: its security headers */
    size_t response_len;
    bool replayed;
    bool close_connection;
    int retry_after_s;
};

/* A session looked up recently. A revocation made through this server drops it at once; one
 * made elsewhere (another node, the CLI) takes effect within SESSION_CACHE_TTL_MS. A token's
 * hash picks a bucket of SESSION_CACHE_WAYS slots, so that two live tokens whose hashes meet
 * do not keep evicting each other (with one slot each, about a fifth of 1,000 sessions in
 * 4,096 slots shared theirs, and were read from the store again and again). */
#define SESSION_CACHE_SLOTS 16384
#define SESSION_CACHE_WAYS 4
#define SESSION_CACHE_TTL_MS 2000
typedef struct session_cache_entry {
    uint8_t token_hash[32];
    role role;
    int64_t account_id;
    int64_t expires_at_ms;
    int64_t created_at_ms;
    int64_t valid_until_ms; /* 0 = empty */
} session_cache_entry;

/* Token buckets for rate limits, per API key and per session, in milli-tokens (integers). */
#define RATE_SLOTS 16384
#define RATE_PROBE 8
typedef struct rate_bucket {
    char id[48]; /* "k:hbk_…" or "s:acct_…"; "" = empty */
    int64_t tokens_milli;
    int64_t updated_ms;
} rate_bucket;

struct http_server {
    struct MHD_Daemon *daemon;
    char public_url[LIMIT_PUBLIC_URL_LEN + 1]; /* base of claim links */
    bool tls; /* cookies are Secure */
    char web_login_url[LIMIT_PUBLIC_URL_LEN + 1]; /* [web] login_url, under rate_lock */
    engine *engine;
    const keyring *keys;
    bool has_audit_key;
    uint8_t audit_public_key[32];
    const hb_clock *clock;
    char db[LIMIT_PATH_LEN + 1];
    uint16_t port;
    /* read connections, one per request thread, checked out while a handler reads */
    pthread_mutex_t readers_lock;
    store *readers[LIMIT_HTTP_THREADS + 4];
    int64_t reader_idle_since_ms[LIMIT_HTTP_THREADS + 4];
    int reader_count;
    _Atomic bool stopping;         /* new requests are refused while the server stops */
    _Atomic int voices_running;    /* espeak-ng processes now (voice.wav), at most VOICES_MAX */
    pthread_mutex_t rate_lock;
    rate_bucket *rates;            /* RATE_SLOTS */
    int64_t key_per_second, key_burst, session_per_second, session_burst;
    int64_t auth_failures_per_second, auth_failures_burst;
    int64_t device_per_second, device_burst;
    int64_t max_shares[TIER_COUNT];  /* under rate_lock: the tiers' shares per red packet */
    bool webhook_allow_private;      /* under rate_lock: webhooks may target private hosts */
    pthread_mutex_t sessions_lock;
    session_cache_entry sessions[SESSION_CACHE_SLOTS];
    int64_t session_cache_hits, session_store_reads; /* under sessions_lock */
    /* metrics */
    pthread_mutex_t metrics_lock;
    /* route index (the last: no route) x status class 1xx..5xx */
    int64_t requests_by_route_status[LIMIT_METRIC_ROUTES + 1][6];
    int64_t latency_buckets[16];             /* <= 2^k ms */
    int64_t latency_count;
    int64_t latency_sum_us;
    int64_t in_flight;
};

/* request.c */
void request_error(request *r, hb_err err, const char *detail);
void request_json(request *r, int status, json_t *body); /* steals body */

/* The H5 pages and their files (pages.c). */
void h_asset(request *r);
void h_page_login(request *r);
void h_page_dashboard(request *r);
void h_page_admin(request *r);
/* Browser sessions (web.c). */
void h_login_link_create(request *r);
void h_web_login(request *r);
/* A failed authentication (401 set) charged to the caller's address: 429 past its budget. */
void request_auth_failed(request *r);
void h_web_session(request *r);
void h_web_logout(request *r);
void h_page_claim(request *r);
void h_page_pay(request *r);
/* Parse the body as one JSON object (depth and duplicate keys checked). On failure the
 * error response is set and NULL returned. */
json_t *request_body_object(request *r);
/* Reject members not in the NULL-terminated list; false (response set) when one is found. */
bool request_only_fields(request *r, json_t *obj, const char *const *allowed);
/* Typed members. Each returns false with the response set when the member is present but
 * invalid, or missing while required. */
bool request_string(request *r, json_t *obj, const char *name, bool required, size_t max_len,
                    char *out, size_t out_size);
bool request_amount(request *r, json_t *obj, const char *name, int64_t *out);
bool request_integer(request *r, json_t *obj, const char *name, bool required, int64_t min,
                     int64_t max, int64_t *out);
bool request_account_id(request *r, const char *text, int64_t *out);
/* Authenticate from the Authorization header; false with a 401 response set. */
bool request_authenticate(request *r);
/* Check out / return a read connection; NULL (response set to 503) if none can be opened. */
store *request_reader(request *r);
void request_reader_done(request *r, store *s);
/* Take cost tokens from the caller's bucket; false (429 set, with Retry-After) when short. */
bool request_rate_limit(request *r, int64_t cost);
/* The device fingerprint's own budget for money movements (whoever sends them): 0 when the
 * movement may go (or no device was given), else the milliseconds until it may. */
int64_t request_device_wait(request *r, const char *device);
/* Keep the refusal already set, after recording a signed request's nonce (so that a refused
 * request cannot be replayed later). */
void request_refuse_recording_nonce(request *r);
/* Forget a cached session (after revoking it). */
void request_forget_session(http_server *srv, const uint8_t token_hash[32]);
/* Submit r->cmd to the engine and suspend until it is durable; finish runs then. */
void request_submit(request *r, finish_fn finish);
/* Submit r->batch[i] for every i whose batch_errors[i] is OK, and suspend until all are
 * durable; finish runs then. */
void request_submit_batch(request *r, finish_fn finish);
/* Copy the caller's nonce and the Idempotency-Key into the command before submitting. */
void request_prepare_command(request *r, command *cmd, bool idempotent);

/* handlers.c */
void handlers_dispatch(request *r);
bool handler_is_admin(const request *r);
/* The server's clock now. */
int64_t handler_now_ms(const request *r);
/* Add the risk note of an allowed command ({"risk": {"decision", "reason"}}) to its reply,
 * when the risk engine reviewed, fused or reported it; returns o. */
json_t *handler_risk_note(json_t *o, const command *cmd);
/* false with 403 set unless the caller is an admin */
bool handler_require_admin(request *r);
/* A link the server hands out: PUBLIC_URL/KIND/TOKEN ('c' claim pages, 'p' pay pages). */
void handler_public_link(const request *r, char kind, const char *token, char *out, size_t size);
/* Run a command now, in this request's thread (rare operations whose commands are too big
 * to keep in every request): the caller's nonce and, when idempotent, its key go with it.
 * On failure the error response is set. */
hb_err handler_submit_now(request *r, command *cmd, bool idempotent);
/* A growing text response (CSV files): append returns false past 64 MiB or out of memory. */
typedef struct handler_buffer {
    char *data;
    size_t len, cap;
} handler_buffer;
bool handler_buffer_append(void *ctx, const char *text, size_t len);
/* Answer 200 with out's CSV (taking it), or, when err is not OK, 503 saying what failed. */
void handler_respond_text(request *r, handler_buffer *out, hb_err err, const char *what);
/* A fresh zeroed command for the request (replacing any earlier one). */
pending_command *handler_new_command(request *r);
/* A query parameter's decoded value (NULL when absent); false with 400 set for a NUL byte. */
bool handler_query_value(request *r, const char *name, const char **out);
/* ?name=N within min..max (def when absent); false with 400 set otherwise. */
bool handler_query_integer(request *r, const char *name, int64_t min, int64_t max, int64_t def,
                           int64_t *out);
/* ?limit=1..100 and ?cursor=<prefixed id>; false with the response set when malformed. */
bool handler_page_params(request *r, id_kind kind, int64_t *limit, int64_t *cursor_id);

/* packets.c: red packets, scenes, statistics */
void h_packet_create(request *r);
void h_packet_list(request *r);
void h_packet_get(request *r);
void h_packet_claim(request *r);
void h_scenes(request *r);
void h_packet_stats(request *r);

/* codes.c: payment codes */
void h_code_create(request *r);
void h_code_get(request *r);
void h_code_cancel(request *r);
void h_code_qr(request *r);

/* payments.c: payments, refunds, settlements, webhooks */
void h_payment_create(request *r);
void h_payment_list(request *r);
void h_payment_get(request *r);
void h_payment_voice(request *r);
void h_refund_create(request *r);
void h_settlement_create(request *r);
void h_settlement_list(request *r);
void h_settlement_get(request *r);
void h_settlement_file(request *r);
void h_webhook_create(request *r);
void h_webhook_list(request *r);
void h_webhook_get(request *r);
void h_webhook_delete(request *r);
void h_webhook_rotate(request *r);
void h_delivery_list(request *r);
void h_delivery_redeliver(request *r);

/* risk.c: risk cases and lists */
void h_case_list(request *r);
void h_case_get(request *r);
void h_case_resolve(request *r);
void h_list_get(request *r);
void h_list_add(request *r);
void h_list_remove(request *r);
void h_large_report(request *r);
void h_audit_verify(request *r);
void h_reconcile(request *r);
void h_daily_report(request *r);
/* adjust.c */
void h_adjustment_propose(request *r);
void h_adjustment_list(request *r);
void h_adjustment_get(request *r);
void h_adjustment_approve(request *r);
void h_adjustment_reject(request *r);
void h_list_import(request *r);
void h_list_export(request *r);
int handlers_route_count(void);
const char *handlers_route_name(int route);

#endif
