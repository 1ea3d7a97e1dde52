/* The H5 pages (issue 10): /c/{token} opens a red packet, /p/{token} pays a code, and their
 * files under /assets/. The pages are static files built into the binary; the server adds
 * only what the token opens to (a packet's id, a code's merchant, amount and state) as JSON
 * in the page, and every call the page makes goes through the API with the person's bearer
 * session, which the operator's app passes in the URL fragment (never sent to the server in
 * a URL). */
#include <stdlib.h>
#include <string.h>

#include "core/ids.h"
#include "core/packet_token.h"
#include "http/http_internal.h"
#include "http/web_assets.h"
#include "service/paycode.h"

const web_asset *web_asset_find(const char *name)
{
    for (int i = 0; i < web_asset_count; i++) {
        if (strcmp(web_assets[i].name, name) == 0) return &web_assets[i];
    }
    return NULL;
}

static void respond_bytes(request *r, const web_asset *a, char *bytes, size_t len)
{
    free(r->response);
    r->response = bytes;
    r->response_len = len;
    r->content_type = a->content_type;
    r->status = 200;
    r->phase = PHASE_RESPOND;
}

/* GET /assets/NAME and /assets/vendor/NAME */
void h_asset(request *r)
{
    char name[128];
    if (r->segment_count == 3) {
        snprintf(name, sizeof name, "vendor/%.100s", r->segments[2]);
    } else {
        snprintf(name, sizeof name, "%.100s", r->segments[1]);
    }
    const web_asset *a = web_asset_find(name);
    if (a == NULL || strstr(a->name, ".html") != NULL) {
        request_error(r, HB_ERR_NOT_FOUND, "no such file");
        return;
    }
    char *copy = malloc(a->size);
    ASSERT(copy != NULL);
    memcpy(copy, a->data, a->size);
    respond_bytes(r, a, copy, a->size);
    r->cache_control = "public, max-age=300";
}

/* The page with its data: JSON where the file says __HB_DATA__, with <, > and & escaped so
 * that no text in it can end the script element. The operator's login step goes with it. */
static void respond_page(request *r, const char *file, json_t *data)
{
    char login_url[LIMIT_PUBLIC_URL_LEN + 1];
    pthread_mutex_lock(&r->server->rate_lock);
    memcpy(login_url, r->server->web_login_url, sizeof login_url);
    pthread_mutex_unlock(&r->server->rate_lock);
    if (login_url[0] != '\0') json_object_set_new(data, "login_url", json_string(login_url));
    const web_asset *a = web_asset_find(file);
    ASSERT(a != NULL); /* built in */
    char *json = json_dumps(data, JSON_COMPACT);
    json_decref(data);
    ASSERT(json != NULL);
    size_t escaped = 0;
    for (const char *p = json; *p != '\0'; p++) escaped += strchr("<>&", *p) != NULL ? 6 : 1;
    static const char mark[] = "__HB_DATA__";
    const char *at = strstr((const char *)a->data, mark);
    ASSERT(at != NULL);
    size_t head = (size_t)(at - (const char *)a->data);
    size_t tail = a->size - head - (sizeof mark - 1);
    size_t len = head + escaped + tail;
    char *out = malloc(len + 1);
    ASSERT(out != NULL);
    memcpy(out, a->data, head);
    char *w = out + head;
    for (const char *p = json; *p != '\0'; p++) {
        if (strchr("<>&", *p) != NULL) {
            w += sprintf(w, "\\u%04x", (unsigned)(unsigned char)*p);
        } else {
            *w++ = *p;
        }
    }
    memcpy(w, at + sizeof mark - 1, tail);
    out[len] = '\0';
    free(json);
    respond_bytes(r, a, out, len);
    r->page = true;
}

/* GET /login, /dashboard, /admin: static pages; their scripts ask who is signed in. */
void h_page_login(request *r)
{
    respond_page(r, "login.html", json_object());
}

void h_page_dashboard(request *r)
{
    respond_page(r, "dashboard.html", json_object());
}

void h_page_admin(request *r)
{
    respond_page(r, "admin.html", json_object());
}

/* GET /c/{token}: the red packet's claim page. */
void h_page_claim(request *r)
{
    const char *token = r->segments[1];
    packet_token t;
    json_t *data = json_object();
    if (packet_token_open(&r->server->keys->packet_tokens, token, strlen(token), &t) == HB_ERR_OK) {
        char id[IDS_TEXT_MAX];
        ids_format(ID_PACKET, t.packet_id, id, sizeof id);
        json_object_set_new(data, "packet", json_string(id));
    } else {
        json_object_set_new(data, "packet", json_null());
    }
    respond_page(r, "claim.html", data);
}

/* GET /p/{token}: the payment code's pay page. */
void h_page_pay(request *r)
{
    const char *token = r->segments[1];
    int64_t now = handler_now_ms(r);
    code_token t;
    hb_err err = keyring_code_open(r->server->keys, token, strlen(token), now / 1000, &t);
    json_t *code = NULL;
    if (err == HB_ERR_OK || err == HB_ERR_CODE_EXPIRED) {
        store *s = request_reader(r);
        if (s == NULL) return;
        paycode c;
        hb_err gerr = err == HB_ERR_OK ? store_code_get(s, t.code_id, &c) : HB_ERR_NOT_FOUND;
        request_reader_done(r, s);
        if (gerr == HB_ERR_UNAVAILABLE) {
            request_error(r, HB_ERR_UNAVAILABLE, "the store cannot be read");
            return;
        }
        if (gerr == HB_ERR_OK) {
            code = json_pack("{s:s,s:s,s:s,s:I,s:s,s:s}", "kind",
                             c.kind == CODE_STATIC ? "static" : "dynamic", "merchant",
                             c.merchant_name, "memo", c.memo, "amount", (json_int_t)c.amount,
                             "currency", currency_code(c.currency), "status",
                             code_status_name(paycode_status_at(&c, now)));
        } else if (err == HB_ERR_CODE_EXPIRED) {
            code = json_pack("{s:s}", "status", "expired");
        }
    }
    respond_page(r, "pay.html", json_pack("{s:o?}", "code", code));
}
