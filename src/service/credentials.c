#include "service/credentials.h"

#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#include "core/digest.h"

static void init_command(command *cmd, const char *actor, command_exec_fn exec)
{
    memset(cmd, 0, sizeof *cmd);
    snprintf(cmd->actor, sizeof cmd->actor, "%s", actor);
    cmd->exec = exec;
}

static void secret_aad(const char *key_id, char *aad, size_t size)
{
    snprintf(aad, size, "api_keys.secret|%s", key_id);
}

/* ---- keys ----------------------------------------------------------------------------------- */

hb_err credentials_reseal(const keyring *keys, api_key *k, bool *changed)
{
    *changed = false;
    if (keyring_box_version(k->secret_box, k->secret_box_len) == keys->versions) return HB_ERR_OK;
    char aad[64];
    secret_aad(k->key_id, aad, sizeof aad);
    uint8_t secret[LIMIT_BOX_LEN];
    size_t len = 0;
    if (keyring_plain_len(k->secret_box, k->secret_box_len) > sizeof secret) return HB_ERR_UNAVAILABLE;
    hb_err err = keyring_open(keys, k->secret_box, k->secret_box_len, aad, strlen(aad), secret, &len);
    if (err == HB_ERR_OK) {
        err = keyring_seal(keys, secret, len, aad, strlen(aad), k->secret_box, &k->secret_box_len);
    }
    OPENSSL_cleanse(secret, sizeof secret);
    if (err != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    *changed = true;
    return HB_ERR_OK;
}

static hb_err exec_key_create(txn *t, command *cmd)
{
    key_create_cmd *c = (key_create_cmd *)cmd;
    if (c->role == ROLE_MERCHANT) {
        customer owner;
        hb_err err = store_customer_get(txn_store(t), c->account_id, &owner);
        if (err == HB_ERR_NOT_FOUND) txn_fail_detail(t, "no such customer");
        if (err != HB_ERR_OK) return err;
        /* The tier's API level (policy: personal none, enterprise basic, provider full). */
        if (txn_policy(t)->tiers[owner.tier].api == POLICY_API_NONE) {
            txn_fail_detail(t, "this account's tier has no API access (sessions only)");
            return HB_ERR_FORBIDDEN;
        }
    }
    uint8_t random[32];
    uint8_t id_bytes[8];
    if (RAND_bytes(random, sizeof random) != 1 || RAND_bytes(id_bytes, sizeof id_bytes) != 1) {
        return HB_ERR_UNAVAILABLE;
    }
    char hex[17];
    crypto_hex(id_bytes, sizeof id_bytes, hex);
    snprintf(c->key_id, sizeof c->key_id, "hbk_%s", hex);
    char b64[48];
    crypto_base64url(random, sizeof random, b64);
    snprintf(c->secret, sizeof c->secret, "hbsec_%s", b64);
    OPENSSL_cleanse(random, sizeof random);
    OPENSSL_cleanse(b64, sizeof b64);

    api_key k;
    memset(&k, 0, sizeof k);
    snprintf(k.key_id, sizeof k.key_id, "%s", c->key_id);
    k.role = c->role;
    k.account_id = c->role == ROLE_MERCHANT ? c->account_id : 0;
    k.created_at_ms = txn_now_ms(t);
    char aad[64];
    secret_aad(k.key_id, aad, sizeof aad);
    size_t len = strlen(c->secret);
    if (keyring_seal(c->keys, c->secret, len, aad, strlen(aad), k.secret_box,
                    &k.secret_box_len) != HB_ERR_OK) {
        return HB_ERR_UNAVAILABLE;
    }
    hb_err err = store_key_insert(txn_store(t), &k);
    if (err != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    txn_audit(t, "key.create", k.key_id);
    return HB_ERR_OK;
}

hb_err credentials_key_create_prepare(key_create_cmd *c, const keyring *keys, const char *actor)
{
    if (c->role != ROLE_ADMIN && c->role != ROLE_MERCHANT && c->role != ROLE_SUPPORT) {
        return HB_ERR_INVALID_ARGUMENT;
    }
    if (c->role == ROLE_MERCHANT && c->account_id <= 0) return HB_ERR_INVALID_ARGUMENT;
    init_command(&c->base, actor, exec_key_create);
    c->keys = keys;
    c->key_id[0] = '\0';
    c->secret[0] = '\0';
    return HB_ERR_OK;
}

static hb_err exec_key_revoke(txn *t, command *cmd)
{
    key_revoke_cmd *c = (key_revoke_cmd *)cmd;
    hb_err err = store_key_revoke(txn_store(t), c->key_id, txn_now_ms(t));
    if (err == HB_ERR_NOT_FOUND) txn_fail_detail(t, "no such live key");
    if (err != HB_ERR_OK) return err == HB_ERR_NOT_FOUND ? err : HB_ERR_UNAVAILABLE;
    txn_audit(t, "key.revoke", c->key_id);
    return HB_ERR_OK;
}

/* A repeated revocation with the same idempotency key answers as the first did. */
static hb_err replay_done(txn *t, command *cmd, const char *result, size_t len)
{
    (void)t;
    (void)cmd;
    (void)result;
    (void)len;
    return HB_ERR_OK;
}

hb_err credentials_key_revoke_prepare(key_revoke_cmd *c, const char *actor)
{
    if (c->key_id[0] == '\0') return HB_ERR_INVALID_ARGUMENT;
    init_command(&c->base, actor, exec_key_revoke);
    c->base.replay = replay_done;
    return HB_ERR_OK;
}

hb_err credentials_key_secret(store *s, const keyring *keys, const char *key_id, api_key *key,
                              char *secret, size_t secret_size)
{
    hb_err err = store_key_get(s, key_id, key);
    if (err != HB_ERR_OK) return err;
    if (keyring_plain_len(key->secret_box, key->secret_box_len) >= secret_size) {
        return HB_ERR_UNAVAILABLE;
    }
    char aad[64];
    secret_aad(key->key_id, aad, sizeof aad);
    size_t len = 0;
    err = keyring_open(keys, key->secret_box, key->secret_box_len, aad, strlen(aad),
                      (uint8_t *)secret, &len);
    if (err != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    ASSERT(len < secret_size);
    secret[len] = '\0';
    return HB_ERR_OK;
}

/* ---- sessions ----------------------------------------------------------------------------- */

hb_err credentials_token_hash(const char *token, size_t len, uint8_t out[32])
{
    return digest_sha256(token, len, out);
}

/* A fresh random token with its prefix, and its hash. */
static hb_err new_token(const char *prefix, char *token, size_t size, uint8_t hash[32])
{
    uint8_t random[32];
    if (RAND_bytes(random, sizeof random) != 1) return HB_ERR_UNAVAILABLE;
    char b64[48];
    crypto_base64url(random, sizeof random, b64);
    snprintf(token, size, "%s%s", prefix, b64);
    OPENSSL_cleanse(random, sizeof random);
    OPENSSL_cleanse(b64, sizeof b64);
    return credentials_token_hash(token, strlen(token), hash);
}

/* A new session of role for account_id, ttl_s long: its token (prefix + 43 characters) in
 * token, its end in *expires_at_ms. The person's bearer sessions and browsers' alike. */
static hb_err open_session(txn *t, const char *prefix, role who, int64_t account_id, int64_t ttl_s,
                           char *token, size_t size, int64_t *expires_at_ms)
{
    session x;
    memset(&x, 0, sizeof x);
    if (new_token(prefix, token, size, x.token_hash) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    x.role = who;
    x.account_id = account_id;
    x.created_at_ms = txn_now_ms(t);
    x.expires_at_ms = x.created_at_ms + ttl_s * 1000;
    if (store_session_insert(txn_store(t), &x) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    *expires_at_ms = x.expires_at_ms;
    return HB_ERR_OK;
}

static hb_err exec_session_create(txn *t, command *cmd)
{
    session_create_cmd *c = (session_create_cmd *)cmd;
    customer owner;
    hb_err err = store_customer_get(txn_store(t), c->account_id, &owner);
    if (err == HB_ERR_NOT_FOUND) txn_fail_detail(t, "no such customer");
    if (err != HB_ERR_OK) return err;
    if (owner.tier != TIER_PERSONAL) {
        txn_fail_detail(t, "bearer sessions are for people; merchants sign with API keys");
        return HB_ERR_FORBIDDEN;
    }
    if (open_session(t, "hbs_", ROLE_PERSON, c->account_id, c->ttl_s, c->token, sizeof c->token,
                     &c->expires_at_ms) != HB_ERR_OK) {
        return HB_ERR_UNAVAILABLE;
    }
    char object[32];
    snprintf(object, sizeof object, "acct_%lld", (long long)c->account_id);
    txn_audit(t, "session.create", object);
    return HB_ERR_OK;
}

hb_err credentials_session_create_prepare(session_create_cmd *c, const char *actor)
{
    if (c->account_id <= 0) return HB_ERR_INVALID_ARGUMENT;
    if (c->ttl_s == 0) c->ttl_s = LIMIT_SESSION_TTL_DEFAULT_S;
    if (c->ttl_s < 60 || c->ttl_s > LIMIT_SESSION_TTL_MAX_S) return HB_ERR_INVALID_ARGUMENT;
    init_command(&c->base, actor, exec_session_create);
    c->token[0] = '\0';
    return HB_ERR_OK;
}

static hb_err exec_login_link(txn *t, command *cmd)
{
    login_link_cmd *c = (login_link_cmd *)cmd;
    char object[32] = "admin";
    if (c->role == ROLE_MERCHANT) {
        customer owner;
        hb_err err = store_customer_get(txn_store(t), c->account_id, &owner);
        if (err == HB_ERR_NOT_FOUND) txn_fail_detail(t, "no such customer");
        if (err != HB_ERR_OK) return err;
        if (owner.tier == TIER_PERSONAL) {
            txn_fail_detail(t, "login links are for merchants; people use the app's session");
            return HB_ERR_FORBIDDEN;
        }
        snprintf(object, sizeof object, "acct_%lld", (long long)c->account_id);
    } else if (c->role == ROLE_SUPPORT) {
        snprintf(object, sizeof object, "support");
    }
    uint8_t hash[32];
    if (new_token("hbl_", c->token, sizeof c->token, hash) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    c->expires_at_ms = txn_now_ms(t) + c->ttl_s * 1000;
    if (store_login_link_insert(txn_store(t), hash, c->role, c->account_id, c->expires_at_ms,
                                txn_now_ms(t)) != HB_ERR_OK) {
        return HB_ERR_UNAVAILABLE;
    }
    const int64_t ints[] = {c->role, c->account_id, c->expires_at_ms};
    if (txn_digest_row(t, "login_link", ints, 3, NULL, 0) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    txn_audit(t, "web.login_link", object);
    return HB_ERR_OK;
}

hb_err credentials_login_link_prepare(login_link_cmd *c, const char *actor)
{
    if (c->role != ROLE_ADMIN && c->role != ROLE_SUPPORT && c->role != ROLE_MERCHANT) {
        return HB_ERR_INVALID_ARGUMENT;
    }
    if ((c->role == ROLE_MERCHANT) != (c->account_id > 0)) return HB_ERR_INVALID_ARGUMENT;
    if (c->ttl_s == 0) c->ttl_s = LOGIN_LINK_TTL_DEFAULT_S;
    if (c->ttl_s < 60 || c->ttl_s > 86400) return HB_ERR_INVALID_ARGUMENT;
    init_command(&c->base, actor, exec_login_link);
    c->token[0] = '\0';
    return HB_ERR_OK;
}

static hb_err exec_web_login(txn *t, command *cmd)
{
    web_login_cmd *c = (web_login_cmd *)cmd;
    store *s = txn_store(t);
    hb_err err = store_login_link_use(s, c->link_hash, txn_now_ms(t), &c->role, &c->account_id);
    if (err == HB_ERR_NOT_FOUND) {
        txn_fail_detail(t, "the login link is unknown, used already or expired: ask for a new one");
        return HB_ERR_UNAUTHENTICATED;
    }
    if (err != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    if (open_session(t, "hbw_", c->role, c->account_id, WEB_SESSION_TTL_S, c->token,
                     sizeof c->token, &c->expires_at_ms) != HB_ERR_OK) {
        return HB_ERR_UNAVAILABLE;
    }
    const int64_t ints[] = {c->role, c->account_id, c->expires_at_ms};
    if (txn_digest_row(t, "web_session", ints, 3, NULL, 0) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    char object[32];
    if (c->role == ROLE_MERCHANT) {
        snprintf(object, sizeof object, "acct_%lld", (long long)c->account_id);
    } else {
        snprintf(object, sizeof object, "%s", role_name(c->role));
    }
    txn_audit(t, "web.login", object);
    return HB_ERR_OK;
}

void credentials_web_login_prepare(web_login_cmd *c, const char *actor)
{
    init_command(&c->base, actor, exec_web_login);
    c->token[0] = '\0';
}

void credentials_csrf(const char *session_token, char out[CREDENTIALS_CSRF_LEN + 1])
{
    static const char label[] = "hongbao-csrf-v1";
    uint8_t mac[32];
    unsigned int len = 0;
    if (HMAC(EVP_sha256(), session_token, (int)strlen(session_token), (const uint8_t *)label,
             sizeof label - 1, mac, &len) == NULL) {
        memset(mac, 0, sizeof mac); /* no session token can match then */
    }
    crypto_base64url(mac, sizeof mac, out);
    out[CREDENTIALS_CSRF_LEN] = '\0';
    OPENSSL_cleanse(mac, sizeof mac);
}

static hb_err exec_session_revoke(txn *t, command *cmd)
{
    session_revoke_cmd *c = (session_revoke_cmd *)cmd;
    hb_err err = store_session_revoke(txn_store(t), c->token_hash, txn_now_ms(t));
    if (err == HB_ERR_NOT_FOUND) txn_fail_detail(t, "no such live session");
    if (err != HB_ERR_OK) return err == HB_ERR_NOT_FOUND ? err : HB_ERR_UNAVAILABLE;
    char object[17];
    crypto_hex(c->token_hash, 8, object); /* a prefix of the hash names it, never the token */
    txn_audit(t, "session.revoke", object);
    return HB_ERR_OK;
}

hb_err credentials_session_revoke_prepare(session_revoke_cmd *c, const char *actor)
{
    init_command(&c->base, actor, exec_session_revoke);
    c->base.replay = replay_done;
    return HB_ERR_OK;
}

/* ---- nonces ------------------------------------------------------------------------------- */

static hb_err exec_nonce(txn *t, command *cmd)
{
    (void)t;
    (void)cmd;
    return HB_ERR_OK; /* the engine recorded the nonce before running this */
}

static hb_err exec_nonce_prune(txn *t, command *cmd)
{
    (void)cmd;
    int64_t before_ms = txn_now_ms(t) - (int64_t)2 * LIMIT_SIGNATURE_SKEW_S * 1000;
    if (store_nonce_prune(txn_store(t), before_ms) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    txn_raise_nonce_horizon(t, before_ms);
    return HB_ERR_OK;
}

void credentials_nonce_prune_prepare(nonce_prune_cmd *c, const char *actor)
{
    init_command(&c->base, actor, exec_nonce_prune);
    c->base.bookkeeping = true;
}

void credentials_nonce_prepare(nonce_cmd *c, const char *actor, const char *key_id,
                               const char *nonce, int64_t ts_ms)
{
    init_command(&c->base, actor, exec_nonce);
    c->base.bookkeeping = true;
    snprintf(c->base.nonce_key_id, sizeof c->base.nonce_key_id, "%s", key_id);
    snprintf(c->base.nonce, sizeof c->base.nonce, "%s", nonce);
    c->base.nonce_ts_ms = ts_ms;
}
