/* Request helpers: responses, JSON bodies, authentication, read connections, engine
 * submission. Every function here runs in a request thread except on_command_done. */
#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/digest.h"
#include "core/text.h"
#include "core/ids.h"
#include "http/http_internal.h"
#include "core/signature.h"

/* ---- responses ----------------------------------------------------------------------------- */

void request_json(request *r, int status, json_t *body)
{
    free(r->response);
    r->response = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (r->response == NULL) {
        /* A value that cannot be encoded (never expected: every string is checked as UTF-8
         * when it enters). Answer a fixed envelope rather than stopping the server. */
        static const char fallback[] =
            "{\"error\":{\"code\":\"UNAVAILABLE\",\"message\":\"the response could not be "
            "encoded\",\"request_id\":\"\"}}";
        r->response = strdup(fallback);
        ASSERT(r->response != NULL);
        status = 503;
        r->retry_after_s = 1;
    }
    r->response_len = strlen(r->response);
    r->status = status;
    r->phase = PHASE_RESPOND;
}

void request_error(request *r, hb_err err, const char *detail)
{
    const char *message = detail && detail[0] ? detail : hb_err_message(err);
    if (!text_valid(message, 1024, false)) message = hb_err_message(err);
    r->error = err;
    snprintf(r->error_detail, sizeof r->error_detail, "%.*s",
             (int)text_prefix(message, sizeof r->error_detail - 1), message);
    json_t *e = json_pack("{s:{s:s,s:s,s:s}}", "error", "code", hb_err_name(err), "message",
                          message, "request_id", r->request_id);
    if (err == HB_ERR_UNAVAILABLE || err == HB_ERR_BUSY) r->retry_after_s = 1;
    if (err == HB_ERR_RATE_LIMITED && r->retry_after_s < 1) r->retry_after_s = 1;
    request_json(r, hb_err_status(err), e);
}

/* ---- JSON bodies --------------------------------------------------------------------------- */

/* The nesting depth of a JSON text, counted outside strings; bounded before jansson parses
 * it (jansson itself allows 2048 levels). */
static bool depth_ok(const char *text, size_t len)
{
    int depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\') {
                i++;
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (++depth > LIMIT_JSON_DEPTH) return false;
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return true;
}

json_t *request_body_object(request *r)
{
    if (r->body_len == 0) {
        request_error(r, HB_ERR_INVALID_JSON, "the request needs a JSON object body");
        return NULL;
    }
    if (!depth_ok(r->body, r->body_len)) {
        request_error(r, HB_ERR_INVALID_JSON, "the JSON nests too deeply");
        return NULL;
    }
    json_error_t error;
    json_t *root = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &error);
    if (root == NULL) {
        char detail[200];
        snprintf(detail, sizeof detail, "invalid JSON at line %d column %d: %s", error.line,
                 error.column, error.text);
        request_error(r, HB_ERR_INVALID_JSON, detail);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        request_error(r, HB_ERR_INVALID_JSON, "the body must be a JSON object");
        return NULL;
    }
    return root;
}

bool request_only_fields(request *r, json_t *obj, const char *const *allowed)
{
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value) {
        (void)value;
        bool known = false;
        for (const char *const *a = allowed; *a != NULL; a++) {
            if (strcmp(key, *a) == 0) known = true;
        }
        if (!known) {
            char detail[120];
            /* echo at most 60 bytes of the name, cut on a character boundary */
            snprintf(detail, sizeof detail, "unknown field \"%.*s\"", (int)text_prefix(key, 60),
                     key);
            request_error(r, HB_ERR_INVALID_ARGUMENT, detail);
            return false;
        }
    }
    return true;
}

static bool field_error(request *r, const char *name, const char *what)
{
    char detail[160];
    snprintf(detail, sizeof detail, "\"%s\" %s", name, what);
    request_error(r, HB_ERR_INVALID_ARGUMENT, detail);
    return false;
}

bool request_string(request *r, json_t *obj, const char *name, bool required, size_t max_len,
                    char *out, size_t out_size)
{
    ASSERT(max_len < out_size);
    json_t *v = json_object_get(obj, name);
    out[0] = '\0';
    if (v == NULL || json_is_null(v)) {
        return required ? field_error(r, name, "is required") : true;
    }
    if (!json_is_string(v)) return field_error(r, name, "must be a string");
    size_t len = json_string_length(v);
    const char *text = json_string_value(v);
    if (len > max_len) return field_error(r, name, "is too long");
    if (strlen(text) != len) return field_error(r, name, "must not contain NUL");
    if (!text_valid(text, max_len, true)) {
        return field_error(r, name, "must be UTF-8 text without control characters");
    }
    if (required && len == 0) return field_error(r, name, "must not be empty");
    memcpy(out, text, len + 1);
    return true;
}

bool request_integer(request *r, json_t *obj, const char *name, bool required, int64_t min,
                     int64_t max, int64_t *out)
{
    json_t *v = json_object_get(obj, name);
    if (v == NULL || json_is_null(v)) {
        return required ? field_error(r, name, "is required") : true;
    }
    if (!json_is_integer(v)) return field_error(r, name, "must be an integer");
    json_int_t value = json_integer_value(v);
    if (value < min || value > max) return field_error(r, name, "is out of range");
    *out = (int64_t)value;
    return true;
}

bool request_amount(request *r, json_t *obj, const char *name, int64_t *out)
{
    json_t *v = json_object_get(obj, name);
    if (v == NULL) return field_error(r, name, "is required (integer fen)");
    if (!json_is_integer(v)) return field_error(r, name, "must be an integer number of fen");
    json_int_t value = json_integer_value(v);
    if (value <= 0) return field_error(r, name, "must be at least 1 fen");
    if (value > LIMIT_AMOUNT_MAX_FEN) {
        request_error(r, HB_ERR_LIMIT_EXCEEDED, "the amount is above the maximum");
        return false;
    }
    *out = (int64_t)value;
    return true;
}

bool request_account_id(request *r, const char *text, int64_t *out)
{
    /* Only the prefixed form over the API: "acct_N". */
    if (strncmp(text, "acct_", 5) != 0 || ids_parse(ID_ACCOUNT, text, out) != HB_ERR_OK) {
        request_error(r, HB_ERR_NOT_FOUND, "no such account");
        return false;
    }
    return true;
}

/* ---- read connections ---------------------------------------------------------------------- */

store *request_reader(request *r)
{
    http_server *srv = r->server;
    for (;;) {
        pthread_mutex_lock(&srv->readers_lock);
        store *s = NULL;
        int64_t idle_since = 0;
        if (srv->reader_count > 0) {
            srv->reader_count--;
            s = srv->readers[srv->reader_count];
            idle_since = srv->reader_idle_since_ms[srv->reader_count];
        }
        pthread_mutex_unlock(&srv->readers_lock);
        if (s == NULL) break;
        /* A connection idle for a second may have lost its server (a database restart or a
         * failover): ask before using it, and open another rather than fail the request. */
        if (clock_monotonic_ns() / 1000000 - idle_since < 1000 || store_ping(s) == HB_ERR_OK) {
            return s;
        }
        store_close(s);
    }
    store *s = NULL;
    store_options options = {.read_only = true, .cache_kib = 16384};
    char err_text[256];
    if (store_open(srv->db, &options, &s, err_text, sizeof err_text) != HB_ERR_OK) {
        fprintf(stderr, "hongbao: cannot open a read connection: %s\n", err_text);
        request_error(r, HB_ERR_UNAVAILABLE, "the store is unavailable");
        return NULL;
    }
    return s;
}

void request_reader_done(request *r, store *s)
{
    http_server *srv = r->server;
    pthread_mutex_lock(&srv->readers_lock);
    /* a connection lost with its server (PostgreSQL restarted) is not pooled again */
    bool kept = store_alive(s) &&
                (size_t)srv->reader_count < sizeof srv->readers / sizeof srv->readers[0];
    if (kept) {
        srv->reader_idle_since_ms[srv->reader_count] = clock_monotonic_ns() / 1000000;
        srv->readers[srv->reader_count++] = s;
    }
    pthread_mutex_unlock(&srv->readers_lock);
    if (!kept) store_close(s);
}

/* ---- authentication ------------------------------------------------------------------------ */

static bool unauthenticated(request *r, const char *why)
{
    request_error(r, HB_ERR_UNAUTHENTICATED, why);
    return false;
}

static bool authenticate_signed(request *r, const char *params)
{
    signature_header h;
    const char *why = "";
    if (signature_parse(params, &h, &why) != HB_ERR_OK) return unauthenticated(r, why);
    int64_t ts = h.ts;
    int64_t now_s = clock_now_ms(r->server->clock) / 1000;
    if (ts < now_s - LIMIT_SIGNATURE_SKEW_S || ts > now_s + LIMIT_SIGNATURE_SKEW_S) {
        return unauthenticated(r, "the timestamp is more than 300 s away from the server's clock");
    }
    store *s = request_reader(r);
    if (s == NULL) return false;
    api_key key;
    char secret[LIMIT_SECRET_LEN + 1];
    hb_err err = credentials_key_secret(s, r->server->keys, h.key_id, &key, secret, sizeof secret);
    request_reader_done(r, s);
    if (err == HB_ERR_UNAVAILABLE) {
        request_error(r, HB_ERR_UNAVAILABLE, "the store is unavailable");
        return false;
    }
    if (err != HB_ERR_OK || key.revoked_at_ms != 0) {
        OPENSSL_cleanse(secret, sizeof secret);
        return unauthenticated(r, "unknown or revoked key");
    }
    uint8_t expected[32];
    err = signature_compute(secret, r->method, r->target, h.ts_text, h.nonce, r->body,
                            r->body_len, expected);
    OPENSSL_cleanse(secret, sizeof secret);
    if (err != HB_ERR_OK || !crypto_equal(expected, h.sig, 32)) {
        return unauthenticated(r, "the signature does not match");
    }
    caller *c = &r->caller;
    c->role = key.role;
    c->account_id = key.account_id;
    c->signed_request = true;
    snprintf(c->key_id, sizeof c->key_id, "%s", key.key_id);
    memcpy(c->nonce, h.nonce, sizeof c->nonce);
    c->ts_ms = ts * 1000;
    snprintf(c->actor, sizeof c->actor, "key:%s", key.key_id);
    return true;
}

static session_cache_entry *session_bucket(http_server *srv, const uint8_t hash[32])
{
    size_t buckets = SESSION_CACHE_SLOTS / SESSION_CACHE_WAYS;
    size_t b = ((size_t)hash[0] | (size_t)hash[1] << 8 | (size_t)hash[2] << 16) % buckets;
    return &srv->sessions[b * SESSION_CACHE_WAYS];
}

/* Where a looked-up session goes in its bucket: its own slot, else an empty or stale one,
 * else the one that would go stale first. Under sessions_lock. */
static session_cache_entry *session_slot_for(session_cache_entry *bucket, const uint8_t hash[32],
                                             int64_t now_ms)
{
    session_cache_entry *best = &bucket[0];
    for (size_t i = 0; i < SESSION_CACHE_WAYS; i++) {
        session_cache_entry *slot = &bucket[i];
        if (crypto_equal(slot->token_hash, hash, 32)) return slot;
        bool stale = slot->valid_until_ms <= now_ms;
        bool sooner = best->valid_until_ms > now_ms && slot->valid_until_ms < best->valid_until_ms;
        if (stale || sooner) best = slot;
    }
    return best;
}

/* The live session of a token (bearer or cookie): false with 401 (or 503) set otherwise. */
static bool live_session(request *r, const char *token, session *x)
{
    size_t len = strlen(token);
    if (len == 0 || len > CREDENTIALS_TOKEN_LEN) return unauthenticated(r, "bad session token");
    uint8_t hash[32];
    if (credentials_token_hash(token, len, hash) != HB_ERR_OK) {
        request_error(r, HB_ERR_UNAVAILABLE, "");
        return false;
    }
    http_server *srv = r->server;
    int64_t now_ms = clock_now_ms(srv->clock);
    session_cache_entry *bucket = session_bucket(srv, hash);
    memset(x, 0, sizeof *x);
    bool cached = false;
    pthread_mutex_lock(&srv->sessions_lock);
    for (size_t i = 0; i < SESSION_CACHE_WAYS && !cached; i++) {
        const session_cache_entry *slot = &bucket[i];
        if (slot->valid_until_ms > now_ms && crypto_equal(slot->token_hash, hash, 32)) {
            x->role = slot->role;
            x->account_id = slot->account_id;
            x->expires_at_ms = slot->expires_at_ms;
            x->created_at_ms = slot->created_at_ms;
            memcpy(x->token_hash, hash, 32);
            cached = true;
        }
    }
    if (cached) {
        srv->session_cache_hits++;
    } else {
        srv->session_store_reads++;
    }
    pthread_mutex_unlock(&srv->sessions_lock);
    if (!cached) {
        store *s = request_reader(r);
        if (s == NULL) return false;
        hb_err err = store_session_get(s, hash, x);
        request_reader_done(r, s);
        if (err == HB_ERR_UNAVAILABLE) {
            request_error(r, HB_ERR_UNAVAILABLE, "the store is unavailable");
            return false;
        }
        if (err != HB_ERR_OK || x->revoked_at_ms != 0) return unauthenticated(r, "unknown session");
        pthread_mutex_lock(&srv->sessions_lock);
        session_cache_entry *slot = session_slot_for(bucket, hash, now_ms);
        memcpy(slot->token_hash, hash, 32);
        slot->role = x->role;
        slot->account_id = x->account_id;
        slot->expires_at_ms = x->expires_at_ms;
        slot->created_at_ms = x->created_at_ms;
        slot->valid_until_ms = now_ms + SESSION_CACHE_TTL_MS;
        pthread_mutex_unlock(&srv->sessions_lock);
    }
    if (x->expires_at_ms <= now_ms) return unauthenticated(r, "the session has expired");
    return true;
}

/* A browser's session cookie: an admin, support or merchant. A request that changes state
 * must carry the session's CSRF token in X-CSRF-Token. */
static bool authenticate_web(request *r, const char *token)
{
    session x;
    if (!live_session(r, token, &x)) return false;
    if (x.role == ROLE_PERSON || x.role == ROLE_NONE) return unauthenticated(r, "unknown session");
    if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
        const char *sent =
            MHD_lookup_connection_value(r->connection, MHD_HEADER_KIND, "X-CSRF-Token");
        char want[CREDENTIALS_CSRF_LEN + 1];
        credentials_csrf(token, want);
        if (sent == NULL || strlen(sent) != CREDENTIALS_CSRF_LEN ||
            !crypto_equal((const uint8_t *)sent, (const uint8_t *)want, CREDENTIALS_CSRF_LEN)) {
            request_error(r, HB_ERR_FORBIDDEN, "send the page's CSRF token in X-CSRF-Token");
            return false;
        }
    }
    caller *c = &r->caller;
    c->role = x.role;
    c->account_id = x.account_id;
    c->web = true;
    c->since_ms = x.created_at_ms;
    /* each session its own actor (a prefix of its token's hash): two admins' browsers are two
     * people in the trail and to the maker-checker rule */
    char who[17];
    crypto_hex(x.token_hash, 8, who);
    if (x.role == ROLE_MERCHANT) {
        snprintf(c->actor, sizeof c->actor, "web:acct_%lld:%s", (long long)x.account_id, who);
    } else {
        snprintf(c->actor, sizeof c->actor, "web:%s:%s", role_name(x.role), who);
    }
    snprintf(c->key_id, sizeof c->key_id, "w:%s", who); /* its own rate-limit bucket */
    return true;
}

static bool authenticate_bearer(request *r, const char *token)
{
    session x;
    if (!live_session(r, token, &x)) return false;
    /* a browser's session is a cookie's, never a bearer token */
    if (x.role != ROLE_PERSON) return unauthenticated(r, "unknown session");
    caller *c = &r->caller;
    c->role = ROLE_PERSON;
    c->account_id = x.account_id;
    snprintf(c->actor, sizeof c->actor, "session:acct_%lld", (long long)x.account_id);
    return true;
}

static uint64_t hash_text(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* Take cost tokens from the bucket named id, refilled at *rate per second up to *burst (the
 * server's current limits, read under the same lock). Returns the milliseconds until they
 * would be there: 0 when they were (and are now taken); -1 when cost exceeds the burst. */
static int64_t bucket_take(http_server *srv, const char *id, const int64_t *rate_limit,
                           const int64_t *burst_limit, int64_t cost)
{
    int64_t now_ms = clock_now_ms(srv->clock);
    pthread_mutex_lock(&srv->rate_lock);
    int64_t rate = *rate_limit;
    int64_t burst = *burst_limit * 1000;
    ASSERT(cost >= 1 && rate >= 1 && burst >= 1000);
    size_t home = (size_t)(hash_text(id) % RATE_SLOTS);
    rate_bucket *b = NULL, *stalest = NULL;
    for (size_t i = 0; i < RATE_PROBE; i++) {
        rate_bucket *slot = &srv->rates[(home + i) % RATE_SLOTS];
        if (strcmp(slot->id, id) == 0) {
            b = slot;
            break;
        }
        if (stalest == NULL || slot->updated_ms < stalest->updated_ms) stalest = slot;
    }
    if (b == NULL) { /* a new caller takes the stalest slot nearby, with a full bucket */
        b = stalest;
        snprintf(b->id, sizeof b->id, "%s", id);
        b->tokens_milli = burst;
        b->updated_ms = now_ms;
    }
    int64_t elapsed = now_ms > b->updated_ms ? now_ms - b->updated_ms : 0;
    if (elapsed > 0) {
        /* rate per second == rate milli-tokens per millisecond */
        int64_t refill = elapsed > burst / rate ? burst : elapsed * rate; /* no overflow */
        b->tokens_milli = b->tokens_milli + refill > burst ? burst : b->tokens_milli + refill;
        b->updated_ms = now_ms;
    }
    int64_t need = cost * 1000;
    int64_t wait_ms = 0;
    if (need > burst) {
        wait_ms = -1;
    } else if (b->tokens_milli >= need) {
        b->tokens_milli -= need;
    } else {
        wait_ms = (need - b->tokens_milli + rate - 1) / rate;
    }
    pthread_mutex_unlock(&srv->rate_lock);
    return wait_ms;
}

static bool too_many(request *r, int64_t wait_ms, const char *why)
{
    request_error(r, HB_ERR_RATE_LIMITED,
                  wait_ms < 0 ? "more items in one request than this caller's burst allows" : why);
    r->retry_after_s = wait_ms < 0 ? 1 : (int)((wait_ms + 999) / 1000);
    if (r->retry_after_s < 1) r->retry_after_s = 1;
    return false;
}

bool request_rate_limit(request *r, int64_t cost)
{
    http_server *srv = r->server;
    const caller *c = &r->caller;
    char id[48];
    bool person = c->role == ROLE_PERSON;
    if (person) {
        snprintf(id, sizeof id, "s:%lld", (long long)c->account_id);
    } else {
        snprintf(id, sizeof id, "k:%s", c->key_id);
    }
    int64_t wait_ms = bucket_take(srv, id, person ? &srv->session_per_second : &srv->key_per_second,
                                  person ? &srv->session_burst : &srv->key_burst, cost);
    return wait_ms == 0 || too_many(r, wait_ms, "too many requests; see Retry-After");
}

int64_t request_device_wait(request *r, const char *device)
{
    if (device == NULL || device[0] == '\0') return 0;
    http_server *srv = r->server;
    char id[48];
    snprintf(id, sizeof id, "d:%016llx", (unsigned long long)hash_text(device));
    int64_t wait_ms = bucket_take(srv, id, &srv->device_per_second, &srv->device_burst, 1);
    return wait_ms < 0 ? 1000 : wait_ms;
}

/* Failed authentications are counted per client address. */
static void client_id(request *r, char *id, size_t size)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(r->connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char addr[64] = "unknown";
    if (info != NULL && info->client_addr != NULL && info->client_addr->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)info->client_addr)->sin_addr, addr,
                  sizeof addr);
    } else if (info != NULL && info->client_addr != NULL &&
               info->client_addr->sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)info->client_addr)->sin6_addr, addr,
                  sizeof addr);
    }
    snprintf(id, size, "a:%s", addr);
}

void request_forget_session(http_server *srv, const uint8_t token_hash[32])
{
    session_cache_entry *bucket = session_bucket(srv, token_hash);
    pthread_mutex_lock(&srv->sessions_lock);
    for (size_t i = 0; i < SESSION_CACHE_WAYS; i++) {
        if (crypto_equal(bucket[i].token_hash, token_hash, 32)) bucket[i].valid_until_ms = 0;
    }
    pthread_mutex_unlock(&srv->sessions_lock);
}

static bool authenticate(request *r)
{
    const char *header =
        MHD_lookup_connection_value(r->connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (header == NULL) {
        const char *cookie = MHD_lookup_connection_value(r->connection, MHD_COOKIE_KIND, "hb_web");
        if (cookie != NULL) return authenticate_web(r, cookie);
        return unauthenticated(r, "missing Authorization header");
    }
    if (strncmp(header, "HB1-HMAC-SHA256 ", 16) == 0) return authenticate_signed(r, header + 16);
    if (strncmp(header, "Bearer ", 7) == 0) return authenticate_bearer(r, header + 7);
    return unauthenticated(r, "unsupported Authorization scheme");
}

bool request_authenticate(request *r)
{
    if (authenticate(r)) return true;
    if (r->status != 401) return false;
    request_auth_failed(r);
    return false;
}

void request_auth_failed(request *r)
{
    /* A valid credential always passes (many people share one address behind a carrier's
     * NAT); failures beyond the address's budget answer 429 instead of 401, so that guessing
     * slows down. */
    char id[80];
    client_id(r, id, sizeof id);
    http_server *srv = r->server;
    int64_t wait_ms = bucket_take(srv, id, &srv->auth_failures_per_second,
                                  &srv->auth_failures_burst, 1);
    if (wait_ms != 0) too_many(r, wait_ms, "too many failed authentications from this address");
}

/* ---- engine submission --------------------------------------------------------------------- */

void request_prepare_command(request *r, command *cmd, bool idempotent)
{
    const caller *c = &r->caller;
    snprintf(cmd->actor, sizeof cmd->actor, "%s", c->actor);
    if (c->signed_request) {
        snprintf(cmd->nonce_key_id, sizeof cmd->nonce_key_id, "%s", c->key_id);
        snprintf(cmd->nonce, sizeof cmd->nonce, "%s", c->nonce);
        cmd->nonce_ts_ms = c->ts_ms;
    }
    if (idempotent && r->idem_key[0] != '\0') {
        /* Scoped to (caller, method, path); same body -> same response. */
        snprintf(cmd->idem_key, sizeof cmd->idem_key, "%s", r->idem_key);
        /* Every routed path with a valid id is far shorter than 80 bytes. */
        ASSERT(strlen(r->path) <= 80);
        snprintf(cmd->idem_scope, sizeof cmd->idem_scope, "%.64s %.7s %.80s", c->actor,
                 r->method, r->path);
        ASSERT(digest_sha256(r->body ? r->body : "", r->body_len, cmd->request_hash) ==
               HB_ERR_OK);
    } else {
        cmd->idem_key[0] = '\0';
    }
}

static void on_command_done(command *cmd, void *ctx)
{
    (void)cmd;
    request *r = ctx;
    /* In the engine's completer thread: only wake the connection; the response is built in
     * the request thread. */
    MHD_resume_connection(r->connection);
}

static void finish_refusal(request *r)
{
    command *cmd = &r->cmd->base;
    if (cmd->err != HB_ERR_OK) {
        request_error(r, cmd->err, cmd->err_detail); /* the nonce was a replay after all */
        return;
    }
    r->phase = PHASE_RESPOND; /* the refusal prepared before stays */
}

void request_refuse_recording_nonce(request *r)
{
    ASSERT(r->phase == PHASE_RESPOND && r->response != NULL);
    if (!r->caller.signed_request) return;
    free(r->cmd);
    r->cmd = calloc(1, sizeof *r->cmd);
    ASSERT(r->cmd != NULL);
    credentials_nonce_prepare(&r->cmd->nonce, r->caller.actor, r->caller.key_id, r->caller.nonce,
                              r->caller.ts_ms);
    request_submit(r, finish_refusal);
}

static void on_batch_item_done(command *cmd, void *ctx)
{
    (void)cmd;
    request *r = ctx;
    if (atomic_fetch_sub(&r->batch_remaining, 1) == 1) MHD_resume_connection(r->connection);
}

void request_submit_batch(request *r, finish_fn finish)
{
    size_t submitting = 0;
    for (size_t i = 0; i < r->batch_count; i++) submitting += r->batch_errors[i] == HB_ERR_OK;
    r->finish = finish;
    if (submitting == 0) {
        finish(r);
        r->finish = NULL;
        return;
    }
    r->phase = PHASE_WAITING;
    atomic_store(&r->batch_remaining, submitting + 1); /* +1 held until all are queued */
    MHD_suspend_connection(r->connection);
    for (size_t i = 0; i < r->batch_count; i++) {
        if (r->batch_errors[i] != HB_ERR_OK) continue;
        if (engine_submit_async_wait(r->server->engine, &r->batch[i].base, on_batch_item_done,
                                     r) != HB_ERR_OK) {
            r->batch_errors[i] = HB_ERR_UNAVAILABLE;
            snprintf(r->batch_details[i], sizeof r->batch_details[i], "the server is busy; retry");
            atomic_fetch_sub(&r->batch_remaining, 1);
        }
    }
    if (atomic_fetch_sub(&r->batch_remaining, 1) == 1) MHD_resume_connection(r->connection);
}

void request_submit(request *r, finish_fn finish)
{
    ASSERT(r->cmd != NULL);
    r->finish = finish;
    r->phase = PHASE_WAITING;
    MHD_suspend_connection(r->connection);
    /* Wait for room rather than refuse: a refused signed request would leave its nonce
     * unrecorded, and so replayable. */
    hb_err err = engine_submit_async_wait(r->server->engine, &r->cmd->base, on_command_done, r);
    if (err != HB_ERR_OK) {
        r->finish = NULL;
        request_error(r, HB_ERR_UNAVAILABLE, "the server is busy; retry");
        MHD_resume_connection(r->connection);
    }
}
