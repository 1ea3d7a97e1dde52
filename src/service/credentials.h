/* Credentials: API keys (HMAC-signed requests) and person sessions (bearer tokens).
 *
 * A key's secret is generated here, sealed with the data key for the store, and shown to the
 * caller once; a session's token is shown once and only its SHA-256 is stored. Neither
 * command takes an idempotency key: responses that carry secrets are never replayed. */
#ifndef HB_SERVICE_CREDENTIALS_H
#define HB_SERVICE_CREDENTIALS_H

#include "engine/engine.h"
#include "service/keyring.h"

#define CREDENTIALS_TOKEN_LEN 64

typedef struct key_create_cmd {
    command base;
    const keyring *keys; /* not owned */
    role role;           /* admin, merchant or support */
    int64_t account_id;  /* merchant: the enterprise or provider customer it acts for */
    char key_id[LIMIT_KEY_ID_LEN + 1];  /* out */
    char secret[LIMIT_SECRET_LEN + 1];  /* out, shown once */
} key_create_cmd;

typedef struct key_revoke_cmd {
    command base;
    char key_id[LIMIT_KEY_ID_LEN + 1];
} key_revoke_cmd;

typedef struct session_create_cmd {
    command base;
    int64_t account_id;
    int64_t ttl_s;
    char token[CREDENTIALS_TOKEN_LEN + 1]; /* out, shown once */
    int64_t expires_at_ms;                 /* out */
} session_create_cmd;

typedef struct session_revoke_cmd {
    command base;
    uint8_t token_hash[32];
} session_revoke_cmd;

/* A one-time login link for a browser (issue 10): an admin, support, or a merchant (an
 * enterprise or provider customer) opens it once, within ttl_s, for a browser session. */
#define LOGIN_LINK_TTL_DEFAULT_S 900
#define WEB_SESSION_TTL_S 28800 /* a browser session lasts a working day */
typedef struct login_link_cmd {
    command base;
    role role;
    int64_t account_id; /* merchant: its customer; 0 for admin and support */
    int64_t ttl_s;
    char token[CREDENTIALS_TOKEN_LEN + 1]; /* out, shown once: "hbl_..." */
    int64_t expires_at_ms;                 /* out */
} login_link_cmd;

/* Open a login link: it is used up, and a browser session of its role begins. */
typedef struct web_login_cmd {
    command base;
    uint8_t link_hash[32];
    char token[CREDENTIALS_TOKEN_LEN + 1]; /* out: the session's, for the cookie ("hbw_...") */
    role role;                             /* out */
    int64_t account_id;                    /* out */
    int64_t expires_at_ms;                 /* out */
} web_login_cmd;

/* Records a signed read's nonce: changes nothing else. */
typedef struct nonce_cmd {
    command base;
} nonce_cmd;

/* Deletes nonces too old to be accepted again (a request's ts must be within 300 s of now, so
 * a nonce older than twice that can never be replayed). Bookkeeping: no audit record. */
typedef struct nonce_prune_cmd {
    command base;
} nonce_prune_cmd;

void credentials_nonce_prune_prepare(nonce_prune_cmd *c, const char *actor);
hb_err credentials_login_link_prepare(login_link_cmd *c, const char *actor) WARN_UNUSED;
void credentials_web_login_prepare(web_login_cmd *c, const char *actor);
/* The CSRF token of a browser session: base64url of HMAC-SHA256(session token,
 * "hongbao-csrf-v1"), 43 characters. Every state-changing request of a page carries it. */
#define CREDENTIALS_CSRF_LEN 43
void credentials_csrf(const char *session_token, char out[CREDENTIALS_CSRF_LEN + 1]);

hb_err credentials_key_create_prepare(key_create_cmd *c, const keyring *keys,
                                      const char *actor) WARN_UNUSED;
hb_err credentials_key_revoke_prepare(key_revoke_cmd *c, const char *actor) WARN_UNUSED;
hb_err credentials_session_create_prepare(session_create_cmd *c, const char *actor) WARN_UNUSED;
hb_err credentials_session_revoke_prepare(session_revoke_cmd *c, const char *actor) WARN_UNUSED;
void credentials_nonce_prepare(nonce_cmd *c, const char *actor, const char *key_id,
                               const char *nonce, int64_t ts_ms);

/* Read a key and open its secret (secret_size >= LIMIT_SECRET_LEN + 1). NOT_FOUND,
 * UNAVAILABLE (the key file does not open it). */
hb_err credentials_key_secret(store *s, const keyring *keys, const char *key_id, api_key *key,
                              char *secret, size_t secret_size) WARN_UNUSED;
/* The SHA-256 a session token is stored under. */
/* Seal a key's secret again with the newest data key if it is older (*changed). */
hb_err credentials_reseal(const keyring *keys, api_key *k, bool *changed) WARN_UNUSED;
hb_err credentials_token_hash(const char *token, size_t len, uint8_t out[32]) WARN_UNUSED;

#endif
