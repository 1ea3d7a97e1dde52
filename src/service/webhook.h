/* Webhooks: a merchant's endpoints, the events queued for them, and their delivery.
 *
 * An event is queued as one delivery row per subscribed endpoint in the same transaction as
 * the payment or refund it reports, so a restart loses none. A deliverer (serve runs one)
 * POSTs due deliveries with libcurl, signed HB1-HMAC-SHA256 with the endpoint's own secret
 * (the request signature of DESIGN.md section 6, key = the endpoint id whk_N), and records
 * each attempt through the engine: a 2xx delivers it; anything else retries after
 * retry_base_s, doubling up to retry_max_s, until give_up_s after the first attempt, then the
 * delivery is failed (it can be redelivered). Delivery is at least once: the event id (evt_N,
 * in the body and the Hongbao-Event-Id header) lets receivers drop repeats.
 *
 * Targets: http and https only, no redirects; private, loopback, link-local, multicast and
 * unspecified addresses (IPv4 and IPv6) are refused at registration and again at connect time
 * (so a name that later resolves inward is still refused), unless the policy allows them. */
#ifndef HB_SERVICE_WEBHOOK_H
#define HB_SERVICE_WEBHOOK_H

#include <jansson.h>
#include <stdbool.h>

#include "engine/engine.h"
#include "service/keyring.h"

#define WEBHOOK_SECRET_LEN 64 /* "whsec_" + 43 base64url characters, with room */

typedef struct webhook_create_cmd {
    command base;
    const keyring *keys;
    webhook hook;                          /* in: owner_id, url, events; out: the row */
    char secret[WEBHOOK_SECRET_LEN + 1];   /* out: shown once */
} webhook_create_cmd;

/* Rotate the secret (rotate true) or delete the endpoint. */
typedef struct webhook_change_cmd {
    command base;
    const keyring *keys;
    int64_t id;
    bool rotate;
    webhook hook;                        /* out */
    char secret[WEBHOOK_SECRET_LEN + 1]; /* out: the new secret of a rotation */
} webhook_change_cmd;

/* Record an attempt's outcome, or (redeliver) queue a delivery again now. */
typedef struct delivery_cmd {
    command base;
    int64_t id;
    bool redeliver;
    bool delivered;                         /* the attempt got a 2xx */
    bool give_up;                           /* the endpoint is gone: fail it now */
    int64_t http_status;                    /* 0 = no answer */
    char error[LIMIT_ERR_DETAIL_LEN + 1];
    delivery out;
} delivery_cmd;

/* Event bits by name ("payment.succeeded", "payment.refunded"); 0 for unknown. */
uint32_t webhook_event_parse(const char *name);
const char *webhook_event_name(uint32_t bit);

/* Check a URL: http or https, a host, at most LIMIT_URL_LEN, no user or password; and
 * unless allow_private, every address its host resolves to is public. INVALID_ARGUMENT with
 * a reason in why. */
hb_err webhook_url_check(const char *url, bool allow_private, char *why,
                         size_t why_size) WARN_UNUSED;
/* True when the address (struct sockaddr_in or _in6) is one webhooks may not reach. */
bool webhook_address_private(const void *sockaddr, size_t len);

hb_err webhook_create_prepare(webhook_create_cmd *c, const keyring *keys, const char *actor,
                              const char *idem_key) WARN_UNUSED;
hb_err webhook_change_prepare(webhook_change_cmd *c, const keyring *keys,
                              const char *actor) WARN_UNUSED;
hb_err delivery_cmd_prepare(delivery_cmd *c, const char *actor) WARN_UNUSED;

/* In a command: queue the event (one bit) about object for every active endpoint of owner
 * subscribed to it; data (stolen) is the event's "data". UNAVAILABLE on a storage fault. */
hb_err webhook_emit(txn *t, int64_t owner_id, uint32_t event, const char *object,
                    json_t *data) WARN_UNUSED;

/* The endpoint's secret in clear (for signing). UNAVAILABLE when it cannot be opened. */
/* Seal an endpoint's secret again with the newest data key if it is older (*changed). */
hb_err webhook_reseal(const keyring *keys, webhook *w, bool *changed) WARN_UNUSED;
hb_err webhook_secret(const keyring *keys, const webhook *w, char *secret,
                      size_t size) WARN_UNUSED;

/* Deliver what is due at now through a read connection to url: POST each due delivery and
 * record the outcome through the engine. *attempted and *delivered count them. */
hb_err webhook_deliver_due(engine *e, store *reader, const keyring *keys, const policy *pol,
                           int64_t now_ms, int *attempted, int *delivered) WARN_UNUSED;

#endif
