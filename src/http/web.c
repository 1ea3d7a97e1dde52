/* Browser sessions for admins, support and merchants (issue 10). An HMAC secret cannot live
 * in a web page, so an admin hands out a one-time login link (POST /v1/login-links, or
 * `hongbao login-link`): /login#t=hbl_... The page posts the token (a fragment never reaches
 * the server in a URL) to POST /v1/web/login, which uses the link up and answers with a
 * session cookie (HttpOnly, SameSite=Strict, Secure under TLS, for WEB_SESSION_TTL_S) and
 * the session's CSRF token, which every state-changing request of a page sends back in
 * X-CSRF-Token (request.c checks it). POST /v1/web/logout revokes the session. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/ids.h"
#include "http/http_internal.h"

/* The session cookie; Max-Age 0 clears it. */
static void set_cookie(request *r, const char *token, int64_t max_age_s)
{
    /* Secure under TLS, and behind a TLS proxy (an https public URL) */
    bool secure = r->server->tls || strncmp(r->server->public_url, "https://", 8) == 0;
    snprintf(r->set_cookie, sizeof r->set_cookie,
             "hb_web=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%lld%s", token,
             (long long)max_age_s, secure ? "; Secure" : "");
}

static json_t *session_json(role who, int64_t account_id, const char *token, int64_t expires_at_ms)
{
    json_t *o = json_pack("{s:s}", "role", role_name(who));
    char acct[IDS_TEXT_MAX] = "";
    if (account_id > 0) ids_format(ID_ACCOUNT, account_id, acct, sizeof acct);
    json_object_set_new(o, "account", account_id > 0 ? json_string(acct) : json_null());
    if (token != NULL) {
        char csrf[CREDENTIALS_CSRF_LEN + 1];
        credentials_csrf(token, csrf);
        json_object_set_new(o, "csrf", json_string(csrf));
    }
    if (expires_at_ms > 0) json_object_set_new(o, "expires_at", json_integer(expires_at_ms));
    return o;
}

static void finish_login_link(request *r)
{
    command *cmd = &r->cmd->base;
    if (cmd->err != HB_ERR_OK) {
        request_error(r, cmd->err, cmd->err_detail);
        return;
    }
    login_link_cmd *c = &r->cmd->login_link;
    char url[LIMIT_PUBLIC_URL_LEN + CREDENTIALS_TOKEN_LEN + 16];
    snprintf(url, sizeof url, "%s/login#t=%s", r->server->public_url, c->token);
    request_json(r, 201, json_pack("{s:s,s:s,s:I}", "url", url, "role", role_name(c->role),
                                   "expires_at", (json_int_t)c->expires_at_ms));
}

/* POST /v1/login-links {role: admin|support|merchant, account (merchant), ttl_seconds}:
 * admin only. */
void h_login_link_create(request *r)
{
    if (!handler_require_admin(r)) return;
    json_t *body = request_body_object(r);
    if (body == NULL) return;
    static const char *const fields[] = {"role", "account", "ttl_seconds", NULL};
    char role_text[16] = "", acct[32] = "";
    pending_command *pc = handler_new_command(r);
    login_link_cmd *c = &pc->login_link;
    bool ok = request_only_fields(r, body, fields) &&
              request_string(r, body, "role", true, 15, role_text, sizeof role_text) &&
              request_string(r, body, "account", false, 31, acct, sizeof acct) &&
              request_integer(r, body, "ttl_seconds", false, 60, 86400, &c->ttl_s);
    json_decref(body);
    if (!ok) return;
    c->role = role_parse(role_text);
    if (c->role != ROLE_ADMIN && c->role != ROLE_SUPPORT && c->role != ROLE_MERCHANT) {
        request_error(r, HB_ERR_INVALID_ARGUMENT, "role must be admin, support or merchant");
        return;
    }
    if (c->role == ROLE_MERCHANT) {
        if (acct[0] == '\0') {
            request_error(r, HB_ERR_INVALID_ARGUMENT, "a merchant's link names its account");
            return;
        }
        if (!request_account_id(r, acct, &c->account_id)) return;
    } else if (acct[0] != '\0') {
        request_error(r, HB_ERR_INVALID_ARGUMENT, "an admin's or support's link names no account");
        return;
    }
    if (credentials_login_link_prepare(c, r->caller.actor) != HB_ERR_OK) {
        request_error(r, HB_ERR_INVALID_ARGUMENT, "ttl_seconds must be 60..86400");
        return;
    }
    request_prepare_command(r, &pc->base, false); /* a token is never replayed */
    request_submit(r, finish_login_link);
}

static void finish_web_login(request *r)
{
    command *cmd = &r->cmd->base;
    if (cmd->err != HB_ERR_OK) {
        request_error(r, cmd->err, cmd->err_detail);
        return;
    }
    web_login_cmd *c = &r->cmd->web_login;
    set_cookie(r, c->token, WEB_SESSION_TTL_S);
    request_json(r, 200, session_json(c->role, c->account_id, c->token, c->expires_at_ms));
}

/* POST /v1/web/login {token}: public; the link's token opens a browser session. A token that
 * opens nothing is found on a read connection, costs the address one failed authentication
 * and writes nothing. */
void h_web_login(request *r)
{
    const char *type =
        MHD_lookup_connection_value(r->connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (type == NULL || strncasecmp(type, "application/json", 16) != 0 ||
        (type[16] != '\0' && type[16] != ';')) {
        request_error(r, HB_ERR_UNSUPPORTED_MEDIA_TYPE, "send Content-Type: application/json");
        return;
    }
    json_t *body = request_body_object(r);
    if (body == NULL) return;
    static const char *const fields[] = {"token", NULL};
    char token[CREDENTIALS_TOKEN_LEN + 1];
    bool ok = request_only_fields(r, body, fields) &&
              request_string(r, body, "token", true, CREDENTIALS_TOKEN_LEN, token, sizeof token);
    json_decref(body);
    if (!ok) return;
    pending_command *pc = handler_new_command(r);
    if (credentials_token_hash(token, strlen(token), pc->web_login.link_hash) != HB_ERR_OK) {
        request_error(r, HB_ERR_UNAVAILABLE, "");
        return;
    }
    store *s = request_reader(r);
    if (s == NULL) return;
    hb_err err = store_login_link_usable(s, pc->web_login.link_hash, handler_now_ms(r));
    request_reader_done(r, s);
    if (err == HB_ERR_NOT_FOUND) {
        request_error(r, HB_ERR_UNAUTHENTICATED,
                      "the login link is unknown, used already or expired: ask for a new one");
        request_auth_failed(r);
        return;
    }
    if (err != HB_ERR_OK) {
        request_error(r, HB_ERR_UNAVAILABLE, "the store is unavailable");
        return;
    }
    credentials_web_login_prepare(&pc->web_login, "web:login");
    request_prepare_command(r, &pc->base, false);
    request_submit(r, finish_web_login);
}

/* GET /v1/web/session: who the caller is, and for a browser session its CSRF token. */
void h_web_session(request *r)
{
    const char *cookie = r->caller.web ? MHD_lookup_connection_value(r->connection,
                                                                       MHD_COOKIE_KIND, "hb_web")
                                       : NULL;
    request_json(r, 200, session_json(r->caller.role, r->caller.account_id, cookie, 0));
}

static void finish_web_logout(request *r)
{
    command *cmd = &r->cmd->base;
    if (cmd->err == HB_ERR_OK) request_forget_session(r->server, r->cmd->session_revoke.token_hash);
    if (cmd->err != HB_ERR_OK && cmd->err != HB_ERR_NOT_FOUND) {
        request_error(r, cmd->err, cmd->err_detail);
        return;
    }
    set_cookie(r, "", 0);
    request_json(r, 200, json_pack("{s:b}", "signed_out", 1));
}

/* POST /v1/web/logout: a browser session ends (its CSRF token checked like any change). */
void h_web_logout(request *r)
{
    if (!r->caller.web) {
        request_error(r, HB_ERR_FORBIDDEN, "only a browser session signs out here");
        return;
    }
    const char *cookie = MHD_lookup_connection_value(r->connection, MHD_COOKIE_KIND, "hb_web");
    pending_command *pc = handler_new_command(r);
    if (cookie == NULL ||
        credentials_token_hash(cookie, strlen(cookie), pc->session_revoke.token_hash) != HB_ERR_OK ||
        credentials_session_revoke_prepare(&pc->session_revoke, r->caller.actor) != HB_ERR_OK) {
        request_error(r, HB_ERR_UNAVAILABLE, "");
        return;
    }
    request_prepare_command(r, &pc->base, false);
    request_submit(r, finish_web_logout);
}
