#include "service/webhook.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/crypto.h"
#include "core/ids.h"
#include "core/signature.h"
#include "service/wallet.h"

/* ---- events ------------------------------------------------------------------------------- */

static const struct {
    uint32_t bit;
    const char *name;
} event_names[] = {{WEBHOOK_PAYMENT_SUCCEEDED, "payment.succeeded"},
                   {WEBHOOK_PAYMENT_REFUNDED, "payment.refunded"}};

uint32_t webhook_event_parse(const char *name)
{
    for (size_t i = 0; i < sizeof event_names / sizeof event_names[0]; i++) {
        if (strcmp(event_names[i].name, name) == 0) return event_names[i].bit;
    }
    return 0;
}

const char *webhook_event_name(uint32_t bit)
{
    for (size_t i = 0; i < sizeof event_names / sizeof event_names[0]; i++) {
        if (event_names[i].bit == bit) return event_names[i].name;
    }
    return "";
}

/* ---- targets ------------------------------------------------------------------------------ */

static bool v4_private(const uint8_t a[4])
{
    return a[0] == 0 || a[0] == 10 || a[0] == 127 || a[0] >= 224 ||       /* this, private,
                                                                            * loopback, multicast,
                                                                            * reserved */
           (a[0] == 100 && (a[1] & 0xC0) == 64) ||                         /* shared 100.64/10 */
           (a[0] == 169 && a[1] == 254) ||                                 /* link-local */
           (a[0] == 172 && (a[1] & 0xF0) == 16) ||                         /* 172.16/12 */
           (a[0] == 192 && a[1] == 168) ||                                 /* 192.168/16 */
           (a[0] == 192 && a[1] == 0 && a[2] == 0) ||                      /* 192.0.0/24 */
           (a[0] == 198 && (a[1] & 0xFE) == 18);                           /* 198.18/15 */
}

bool webhook_address_private(const void *sockaddr, size_t len)
{
    const struct sockaddr *sa = sockaddr;
    if (len >= sizeof(struct sockaddr_in) && sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = sockaddr;
        return v4_private((const uint8_t *)&in->sin_addr.s_addr);
    }
    if (len >= sizeof(struct sockaddr_in6) && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = sockaddr;
        const uint8_t *a = in6->sin6_addr.s6_addr;
        static const uint8_t zero[16];
        if (memcmp(a, zero, 15) == 0 && (a[15] == 0 || a[15] == 1)) return true; /* :: and ::1 */
        if (a[0] == 0xFF) return true;                                           /* multicast */
        if (a[0] == 0xFE && (a[1] & 0xC0) == 0x80) return true;                  /* fe80::/10 */
        if ((a[0] & 0xFE) == 0xFC) return true;                                  /* fc00::/7 */
        if (a[0] == 0xFE && (a[1] & 0xC0) == 0xC0) return true;                  /* fec0::/10 */
        if (a[0] == 0x20 && a[1] == 0x02) return true;         /* 6to4 2002::/16: tunnels */
        if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0 && a[3] == 0) return true; /* Teredo */
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
        static const uint8_t nat64[12] = {0, 0x64, 0xFF, 0x9B};
        if (memcmp(a, mapped, 12) == 0 || memcmp(a, nat64, 12) == 0) return v4_private(a + 12);
        return false;
    }
    return true; /* anything else is not an Internet address */
}

hb_err webhook_url_check(const char *url, bool allow_private, char *why, size_t why_size)
{
    if (strlen(url) > LIMIT_URL_LEN) {
        snprintf(why, why_size, "url longer than %d characters", LIMIT_URL_LEN);
        return HB_ERR_INVALID_ARGUMENT;
    }
    CURLU *u = curl_url();
    if (u == NULL) return HB_ERR_UNAVAILABLE;
    char *scheme = NULL, *host = NULL, *user = NULL, *password = NULL;
    hb_err err = HB_ERR_INVALID_ARGUMENT;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        snprintf(why, why_size, "url must be an absolute http or https URL");
    } else if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
        snprintf(why, why_size, "url must use http or https");
    } else if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
               curl_url_get(u, CURLUPART_PASSWORD, &password, 0) == CURLUE_OK) {
        snprintf(why, why_size, "url must not carry a user or password");
    } else if (allow_private) {
        err = HB_ERR_OK;
    } else {
        /* [v6] literal hosts come back bracketed */
        char name[256];
        size_t n = strlen(host);
        if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
            snprintf(name, sizeof name, "%.*s", (int)(n - 2), host + 1);
        } else {
            snprintf(name, sizeof name, "%s", host);
        }
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
        int rc = getaddrinfo(name, NULL, &hints, &res);
        if (rc != 0) {
            snprintf(why, why_size, "url's host does not resolve");
        } else {
            err = HB_ERR_OK;
            for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
                if (webhook_address_private(ai->ai_addr, ai->ai_addrlen)) {
                    snprintf(why, why_size,
                             "url's host is a private, loopback or link-local address");
                    err = HB_ERR_INVALID_ARGUMENT;
                    break;
                }
            }
            freeaddrinfo(res);
        }
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(user);
    curl_free(password);
    curl_url_cleanup(u);
    return err;
}

/* ---- secrets ------------------------------------------------------------------------------- */

static void secret_aad(int64_t id, char *out, size_t size)
{
    snprintf(out, size, "webhook_secret:%lld", (long long)id);
}

static hb_err new_secret(const keyring *keys, webhook *w, char secret[WEBHOOK_SECRET_LEN + 1])
{
    uint8_t random[32];
    if (RAND_bytes(random, sizeof random) != 1) return HB_ERR_UNAVAILABLE;
    char b64[48];
    crypto_base64url(random, sizeof random, b64);
    snprintf(secret, WEBHOOK_SECRET_LEN + 1, "whsec_%s", b64);
    OPENSSL_cleanse(random, sizeof random);
    OPENSSL_cleanse(b64, sizeof b64);
    char aad[48];
    secret_aad(w->id, aad, sizeof aad);
    return keyring_seal(keys, secret, strlen(secret), aad, strlen(aad), w->secret_box,
                       &w->secret_box_len) == HB_ERR_OK
               ? HB_ERR_OK
               : HB_ERR_UNAVAILABLE;
}

hb_err webhook_reseal(const keyring *keys, webhook *w, bool *changed)
{
    *changed = false;
    if (keyring_box_version(w->secret_box, w->secret_box_len) == keys->versions) return HB_ERR_OK;
    char secret[LIMIT_BOX_LEN];
    hb_err err = webhook_secret(keys, w, secret, sizeof secret);
    if (err == HB_ERR_OK) {
        char aad[48];
        secret_aad(w->id, aad, sizeof aad);
        err = keyring_seal(keys, secret, strlen(secret), aad, strlen(aad), w->secret_box,
                           &w->secret_box_len);
    }
    OPENSSL_cleanse(secret, sizeof secret);
    if (err != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    *changed = true;
    return HB_ERR_OK;
}

hb_err webhook_secret(const keyring *keys, const webhook *w, char *secret, size_t size)
{
    if (keyring_plain_len(w->secret_box, w->secret_box_len) >= size) return HB_ERR_UNAVAILABLE;
    char aad[48];
    secret_aad(w->id, aad, sizeof aad);
    size_t len = 0;
    if (keyring_open(keys, w->secret_box, w->secret_box_len, aad, strlen(aad),
                    (uint8_t *)secret, &len) != HB_ERR_OK) {
        return HB_ERR_UNAVAILABLE;
    }
    secret[len] = '\0';
    return HB_ERR_OK;
}

static hb_err digest_webhook(txn *t, const webhook *w)
{
    const int64_t ints[] = {w->id, w->owner_id, w->events, w->status, w->created_at_ms,
                            w->rotated_at_ms};
    const char *const texts[] = {w->url};
    return txn_digest_row(t, "webhook", ints, 6, texts, 1);
}

/* ---- commands ------------------------------------------------------------------------------ */

static hb_err replay_never(txn *t, command *cmd, const char *result, size_t len)
{
    (void)cmd, (void)result, (void)len;
    /* a response carrying a secret is never replayed */
    txn_fail_detail(t, "this request carried a secret once; its idempotency key cannot "
                       "return it again");
    return HB_ERR_IDEMPOTENCY_CONFLICT;
}

static hb_err exec_create(txn *t, command *cmd)
{
    webhook_create_cmd *c = (webhook_create_cmd *)cmd;
    webhook *w = &c->hook;
    store *s = txn_store(t);
    customer owner;
    hb_err err = store_customer_get(s, w->owner_id, &owner);
    if (err == HB_ERR_NOT_FOUND) txn_fail_detail(t, "no such account: owner");
    if (err != HB_ERR_OK) return err;
    if (owner.tier == TIER_PERSONAL) {
        txn_fail_detail(t, "webhooks are for merchant accounts (enterprise, provider)");
        return HB_ERR_FORBIDDEN;
    }
    webhook existing[LIMIT_WEBHOOKS_PER_OWNER];
    int count = 0;
    if (store_webhook_list(s, w->owner_id, 0, LIMIT_WEBHOOKS_PER_OWNER, existing, &count) !=
        HB_ERR_OK) {
        return HB_ERR_UNAVAILABLE;
    }
    if (count >= LIMIT_WEBHOOKS_PER_OWNER) {
        txn_fail_detail(t, "at most %d webhook endpoints per merchant", LIMIT_WEBHOOKS_PER_OWNER);
        return HB_ERR_INVALID_ARGUMENT;
    }
    int64_t last = 0;
    if (store_max_id(s, STORE_SEQ_WEBHOOK, &last) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    w->id = last + 1;
    w->status = 0;
    w->created_at_ms = txn_now_ms(t);
    w->rotated_at_ms = w->created_at_ms;
    if (new_secret(c->keys, w, c->secret) != HB_ERR_OK || store_webhook_insert(s, w) != HB_ERR_OK ||
        digest_webhook(t, w) != HB_ERR_OK) {
        return HB_ERR_UNAVAILABLE;
    }
    char object[IDS_TEXT_MAX];
    ids_format(ID_WEBHOOK, w->id, object, sizeof object);
    txn_audit(t, "webhook.create", object);
    return HB_ERR_OK;
}

hb_err webhook_create_prepare(webhook_create_cmd *c, const keyring *keys, const char *actor,
                              const char *idem_key)
{
    c->keys = keys;
    if (c->hook.owner_id <= 0 || c->hook.events == 0 ||
        (c->hook.events & ~(uint32_t)WEBHOOK_EVENTS_ALL) != 0) {
        return HB_ERR_INVALID_ARGUMENT;
    }
    char canonical[LIMIT_URL_LEN + 64];
    int n = snprintf(canonical, sizeof canonical, "webhook.create|%lld|%u|%s",
                     (long long)c->hook.owner_id, c->hook.events, c->hook.url);
    ASSERT(n > 0 && (size_t)n < sizeof canonical);
    hb_err err = wallet_command_init(&c->base, actor, idem_key, canonical, (size_t)n);
    c->base.exec = exec_create;
    c->base.replay = replay_never;
    return err;
}

static hb_err exec_change(txn *t, command *cmd)
{
    webhook_change_cmd *c = (webhook_change_cmd *)cmd;
    webhook *w = &c->hook;
    store *s = txn_store(t);
    hb_err err = store_webhook_get(s, c->id, w);
    if (err == HB_ERR_OK && w->status != 0) err = HB_ERR_NOT_FOUND;
    if (err == HB_ERR_NOT_FOUND) txn_fail_detail(t, "no such webhook");
    if (err != HB_ERR_OK) return err;
    w->rotated_at_ms = txn_now_ms(t);
    if (c->rotate) {
        if (new_secret(c->keys, w, c->secret) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    } else {
        w->status = 1;
    }
    if (store_webhook_update(s, w) != HB_ERR_OK || digest_webhook(t, w) != HB_ERR_OK) {
        return HB_ERR_UNAVAILABLE;
    }
    char object[IDS_TEXT_MAX];
    ids_format(ID_WEBHOOK, w->id, object, sizeof object);
    txn_audit(t, c->rotate ? "webhook.rotate" : "webhook.delete", object);
    return HB_ERR_OK;
}

hb_err webhook_change_prepare(webhook_change_cmd *c, const keyring *keys, const char *actor)
{
    c->keys = keys;
    if (c->id <= 0) return HB_ERR_INVALID_ARGUMENT;
    char canonical[64];
    int n = snprintf(canonical, sizeof canonical, "webhook.%s|%lld", c->rotate ? "rotate" : "delete",
                     (long long)c->id);
    hb_err err = wallet_command_init(&c->base, actor, NULL, canonical, (size_t)n);
    c->base.exec = exec_change;
    c->base.replay = replay_never;
    return err;
}

/* The delay before the next attempt after `attempts` failed ones. */
static int64_t retry_delay_s(const policy *p, int64_t attempts)
{
    int64_t delay = p->webhook_retry_base_s;
    for (int64_t i = 1; i < attempts && delay < p->webhook_retry_max_s; i++) delay *= 2;
    return delay < p->webhook_retry_max_s ? delay : p->webhook_retry_max_s;
}

static hb_err exec_delivery(txn *t, command *cmd)
{
    delivery_cmd *c = (delivery_cmd *)cmd;
    delivery *d = &c->out;
    hb_err err = store_delivery_get(txn_store(t), c->id, d);
    if (err == HB_ERR_NOT_FOUND) txn_fail_detail(t, "no such event");
    if (err != HB_ERR_OK) return err;
    int64_t now = txn_now_ms(t);
    char object[IDS_TEXT_MAX];
    ids_format(ID_EVENT, d->id, object, sizeof object);
    if (c->redeliver) {
        d->status = DELIVERY_PENDING;
        d->next_at_ms = now;
        d->window_start_ms = now;
        txn_audit(t, "webhook.redeliver", object);
    } else {
        cmd->bookkeeping = true; /* an attempt's outcome changes no money or business state */
        if (d->status != DELIVERY_PENDING) return HB_ERR_OK; /* another deliverer got there */
        d->attempts++;
        d->last_code = c->http_status;
        snprintf(d->last_error, sizeof d->last_error, "%s", c->error);
        if (c->delivered) {
            d->status = DELIVERY_DELIVERED;
            d->delivered_at_ms = now;
        } else if (c->give_up) {
            d->status = DELIVERY_FAILED;
        } else {
            const policy *p = txn_policy(t);
            int64_t next = now + retry_delay_s(p, d->attempts) * 1000;
            if (next > d->window_start_ms + p->webhook_give_up_s * 1000) {
                d->status = DELIVERY_FAILED;
            } else {
                d->next_at_ms = next;
            }
        }
    }
    return store_delivery_update(txn_store(t), d) == HB_ERR_OK ? HB_ERR_OK : HB_ERR_UNAVAILABLE;
}

static hb_err replay_delivery(txn *t, command *cmd, const char *result, size_t len)
{
    (void)result, (void)len;
    delivery_cmd *c = (delivery_cmd *)cmd;
    return store_delivery_get(txn_store(t), c->id, &c->out);
}

hb_err delivery_cmd_prepare(delivery_cmd *c, const char *actor)
{
    if (c->id <= 0) return HB_ERR_INVALID_ARGUMENT;
    char canonical[96];
    int n = snprintf(canonical, sizeof canonical, "delivery|%lld|%d|%d|%lld", (long long)c->id,
                     c->redeliver, c->delivered, (long long)c->http_status);
    hb_err err = wallet_command_init(&c->base, actor, NULL, canonical, (size_t)n);
    c->base.exec = exec_delivery;
    c->base.replay = replay_delivery;
    return err;
}

hb_err webhook_emit(txn *t, int64_t owner_id, uint32_t event, const char *object, json_t *data)
{
    store *s = txn_store(t);
    webhook hooks[LIMIT_WEBHOOKS_PER_OWNER];
    int count = 0;
    hb_err err = data != NULL ? store_webhook_list(s, owner_id, 0, LIMIT_WEBHOOKS_PER_OWNER, hooks,
                                                   &count)
                              : HB_ERR_UNAVAILABLE;
    int64_t last = 0;
    bool have_last = false;
    for (int i = 0; err == HB_ERR_OK && i < count; i++) {
        if ((hooks[i].events & event) == 0) continue;
        if (!have_last) {
            err = store_max_id(s, STORE_SEQ_DELIVERY, &last);
            have_last = true;
            if (err != HB_ERR_OK) break;
        }
        delivery d;
        memset(&d, 0, sizeof d);
        d.id = ++last;
        d.webhook_id = hooks[i].id;
        snprintf(d.event_type, sizeof d.event_type, "%s", webhook_event_name(event));
        snprintf(d.object, sizeof d.object, "%s", object);
        d.status = DELIVERY_PENDING;
        d.created_at_ms = txn_now_ms(t);
        d.next_at_ms = d.created_at_ms;
        d.window_start_ms = d.created_at_ms;
        char id[IDS_TEXT_MAX];
        ids_format(ID_EVENT, d.id, id, sizeof id);
        json_t *body = json_pack("{s:s,s:s,s:s,s:I,s:O}", "id", id, "object", "event", "type",
                                 d.event_type, "created", (json_int_t)d.created_at_ms, "data", data);
        char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
        json_decref(body);
        if (text == NULL || strlen(text) > LIMIT_EVENT_BODY_LEN) {
            free(text);
            err = HB_ERR_UNAVAILABLE;
            break;
        }
        snprintf(d.body, sizeof d.body, "%s", text);
        free(text);
        err = store_delivery_insert(s, &d);
        if (err == HB_ERR_OK) {
            const int64_t ints[] = {d.id, d.webhook_id, d.created_at_ms};
            const char *const texts[] = {d.event_type, d.object, d.body};
            err = txn_digest_row(t, "delivery", ints, 3, texts, 3);
        }
    }
    json_decref(data);
    return err == HB_ERR_OK ? HB_ERR_OK : HB_ERR_UNAVAILABLE;
}

/* ---- delivery -------------------------------------------------------------------------------- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Refuse, at connect time, an address the policy does not allow (a name may resolve
 * differently than it did at registration). */
static curl_socket_t open_socket(void *ctx, curlsocktype purpose, struct curl_sockaddr *addr)
{
    const bool *allow_private = ctx;
    (void)purpose;
    if (!*allow_private && webhook_address_private(&addr->addr, addr->addrlen)) {
        return CURL_SOCKET_BAD;
    }
    return socket(addr->family, addr->socktype, addr->protocol);
}

static size_t discard(char *data, size_t size, size_t n, void *ctx)
{
    (void)data, (void)ctx;
    return size * n;
}

/* POST one delivery; *status the HTTP status (0 = none), error set on failure. */
static bool post_delivery(const webhook *w, const delivery *d, const char *secret,
                          const policy *pol, int64_t now_ms, int64_t *status, char *error,
                          size_t error_size)
{
    *status = 0;
    CURLU *u = curl_url();
    char *path = NULL, *query = NULL;
    char target[LIMIT_URL_LEN + 1] = "/";
    if (u != NULL && curl_url_set(u, CURLUPART_URL, w->url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK) {
        bool has_query = curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK;
        snprintf(target, sizeof target, "%s%s%s", path, has_query ? "?" : "",
                 has_query ? query : "");
    }
    curl_free(path);
    curl_free(query);
    curl_url_cleanup(u);
    uint8_t nonce_bytes[16];
    char nonce[33], ts[24], sig_hex[65], webhook_id[IDS_TEXT_MAX], event_id[IDS_TEXT_MAX];
    uint8_t sig[32];
    if (RAND_bytes(nonce_bytes, sizeof nonce_bytes) != 1) {
        snprintf(error, error_size, "no randomness for the nonce");
        return false;
    }
    crypto_hex(nonce_bytes, sizeof nonce_bytes, nonce);
    snprintf(ts, sizeof ts, "%lld", (long long)(now_ms / 1000));
    size_t body_len = strlen(d->body);
    if (signature_compute(secret, "POST", target, ts, nonce, d->body, body_len, sig) != HB_ERR_OK) {
        snprintf(error, error_size, "cannot sign");
        return false;
    }
    crypto_hex(sig, sizeof sig, sig_hex);
    ids_format(ID_WEBHOOK, w->id, webhook_id, sizeof webhook_id);
    ids_format(ID_EVENT, d->id, event_id, sizeof event_id);
    char auth[256], event_header[64], type_header[64];
    snprintf(auth, sizeof auth, "Authorization: HB1-HMAC-SHA256 key=%s,ts=%s,nonce=%s,sig=%s",
             webhook_id, ts, nonce, sig_hex);
    snprintf(event_header, sizeof event_header, "Hongbao-Event-Id: %s", event_id);
    snprintf(type_header, sizeof type_header, "Hongbao-Event-Type: %s", d->event_type);
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    headers = curl_slist_append(headers, auth);
    headers = curl_slist_append(headers, event_header);
    headers = curl_slist_append(headers, type_header);
    headers = curl_slist_append(headers, "Expect:");
    CURL *curl = curl_easy_init();
    bool ok = false;
    if (curl != NULL && headers != NULL) {
        bool allow_private = pol->webhook_allow_private;
        curl_easy_setopt(curl, CURLOPT_URL, w->url);
        curl_easy_setopt(curl, CURLOPT_PROXY, ""); /* no proxy from the environment: the
                                                    * address check must see the target */
        curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)pol->webhook_timeout_s);
        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, (long)pol->webhook_timeout_s);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, d->body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)body_len);
        curl_easy_setopt(curl, CURLOPT_USERAGENT, "hongbao-webhooks/1");
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, open_socket);
        curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, &allow_private);
        CURLcode rc = curl_easy_perform(curl);
        long code = 0;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
        *status = code;
        if (rc != CURLE_OK) {
            snprintf(error, error_size, "%s", curl_easy_strerror(rc));
        } else if (code < 200 || code > 299) {
            snprintf(error, error_size, "the endpoint answered %ld", code);
        } else {
            ok = true;
        }
    } else {
        snprintf(error, error_size, "cannot start the HTTP client");
    }
    curl_easy_cleanup(curl);
    curl_slist_free_all(headers);
    return ok;
}

hb_err webhook_deliver_due(engine *e, store *reader, const keyring *keys, const policy *pol,
                           int64_t now_ms, int *attempted, int *delivered)
{
    pthread_once(&curl_once, curl_init_once);
    *attempted = 0;
    *delivered = 0;
    enum { PAGE = 16 };
    delivery *due = malloc(sizeof *due * PAGE);
    delivery_cmd *cmd = malloc(sizeof *cmd);
    if (due == NULL || cmd == NULL) {
        free(due);
        free(cmd);
        return HB_ERR_UNAVAILABLE;
    }
    int count = 0;
    hb_err err = store_delivery_due(reader, now_ms, PAGE, due, &count);
    for (int i = 0; err == HB_ERR_OK && i < count; i++) {
        webhook w;
        char secret[WEBHOOK_SECRET_LEN + 1] = "";
        memset(cmd, 0, sizeof *cmd);
        cmd->id = due[i].id;
        hb_err got = store_webhook_get(reader, due[i].webhook_id, &w);
        if (got == HB_ERR_OK && w.status != 0) {
            snprintf(cmd->error, sizeof cmd->error, "the endpoint was deleted");
            cmd->give_up = true;
        } else if (got != HB_ERR_OK || webhook_secret(keys, &w, secret, sizeof secret) != HB_ERR_OK) {
            snprintf(cmd->error, sizeof cmd->error, "cannot read the endpoint");
        } else {
            cmd->delivered = post_delivery(&w, &due[i], secret, pol, now_ms, &cmd->http_status,
                                           cmd->error, sizeof cmd->error);
        }
        OPENSSL_cleanse(secret, sizeof secret);
        (*attempted)++;
        if (delivery_cmd_prepare(cmd, "system:webhooks") == HB_ERR_OK &&
            engine_submit(e, &cmd->base) == HB_ERR_OK && cmd->delivered) {
            (*delivered)++;
        }
    }
    free(due);
    free(cmd);
    return err;
}
