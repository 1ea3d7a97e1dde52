/* Payment-code routes: create, read (the current payload), cancel, QR image. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/qr.h"
#include "http/http_internal.h"

/* "code_N" in the path; false with 404 set otherwise. */
static bool code_path_id(request *r, int64_t *id)
{
    if (strncmp(r->segments[2], "code_", 5) != 0 ||
        ids_parse(ID_CODE, r->segments[2], id) != HB_ERR_OK) {
        request_error(r, HB_ERR_NOT_FOUND, "no such code");
        return false;
    }
    return true;
}

/* The code as its owner (or an admin or support) sees it, with what it shows now. */
static json_t *code_json(request *r, const paycode *c)
{
    char id[IDS_TEXT_MAX], owner[IDS_TEXT_MAX];
    ids_format(ID_CODE, c->id, id, sizeof id);
    ids_format(ID_ACCOUNT, c->owner_id, owner, sizeof owner);
    int64_t now = handler_now_ms(r);
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I}", "id", id, "owner", owner,
                          "kind", c->kind == CODE_DYNAMIC ? "dynamic" : "static", "status",
                          code_status_name(paycode_status_at(c, now)), "currency",
                          currency_code(c->currency), "memo", c->memo, "merchant_name",
                          c->merchant_name, "city", c->city, "mcc", c->mcc, "created_at",
                          (json_int_t)c->created_at_ms);
    json_object_set_new(o, "amount", c->kind == CODE_DYNAMIC ? json_integer(c->amount) : json_null());
    json_object_set_new(o, "order_no", c->order_no[0] ? json_string(c->order_no) : json_null());
    json_object_set_new(o, "expires_at", c->expires_at_ms ? json_integer(c->expires_at_ms) : json_null());
    json_object_set_new(o, "ended_at", c->ended_at_ms ? json_integer(c->ended_at_ms) : json_null());
    char payload[EMV_PAYLOAD_MAX], token[CODE_TOKEN_TEXT_MAX + 1];
    int64_t refresh = 0;
    if (paycode_payload(c, r->server->keys, now, payload, token, &refresh) == HB_ERR_OK) {
        char url[LIMIT_PUBLIC_URL_LEN + CODE_TOKEN_TEXT_MAX + 8];
        handler_public_link(r, 'p', token, url, sizeof url);
        json_object_set_new(o, "payload", json_string(payload));
        json_object_set_new(o, "url", json_string(url));
        json_object_set_new(o, "refresh_at", refresh ? json_integer(refresh) : json_null());
    } else {
        /* a code that takes no payment shows nothing to scan */
        json_object_set_new(o, "payload", json_null());
        json_object_set_new(o, "url", json_null());
        json_object_set_new(o, "refresh_at", json_null());
    }
    return o;
}

static void finish_code(request *r, int status, const paycode *c)
{
    command *cmd = &r->cmd->base;
    if (cmd->err != HB_ERR_OK) {
        request_error(r, cmd->err, cmd->err_detail);
        return;
    }
    r->replayed = cmd->replayed;
    request_json(r, status, code_json(r, c));
}

static void finish_code_create(request *r)
{
    finish_code(r, 201, &r->cmd->code_create.code);
}

static void finish_code_cancel(request *r)
{
    finish_code(r, 200, &r->cmd->code_cancel.code);
}

void h_code_create(request *r)
{
    if (r->caller.role == ROLE_SUPPORT) {
        request_error(r, HB_ERR_FORBIDDEN, "support keys are read-only");
        return;
    }
    json_t *body = request_body_object(r);
    if (body == NULL) return;
    static const char *const fields[] = {"owner", "kind", "amount", "currency", "memo",
                                         "order_no", "merchant_name", "city", "mcc", NULL};
    pending_command *pc = handler_new_command(r);
    paycode *c = &pc->code_create.code;
    char owner[32] = "", kind[16] = "", currency_text[8] = "";
    bool ok = request_only_fields(r, body, fields) &&
              request_string(r, body, "owner", false, 31, owner, sizeof owner) &&
              request_string(r, body, "kind", true, 15, kind, sizeof kind) &&
              (json_object_get(body, "amount") == NULL || json_is_null(json_object_get(body, "amount")) ||
               request_amount(r, body, "amount", &c->amount)) &&
              request_string(r, body, "currency", false, 7, currency_text, sizeof currency_text) &&
              request_string(r, body, "memo", false, LIMIT_MEMO_LEN, c->memo, sizeof c->memo) &&
              request_string(r, body, "order_no", false, LIMIT_ORDER_NO_LEN, c->order_no,
                             sizeof c->order_no) &&
              request_string(r, body, "merchant_name", false, 25, c->merchant_name,
                             sizeof c->merchant_name) &&
              request_string(r, body, "city", false, 15, c->city, sizeof c->city) &&
              request_string(r, body, "mcc", false, 4, c->mcc, sizeof c->mcc);
    json_decref(body);
    if (!ok) return;
    if (owner[0] == '\0' && handler_is_admin(r)) {
        request_error(r, HB_ERR_INVALID_ARGUMENT, "\"owner\" is required");
        return;
    }
    if (owner[0] != '\0' && !request_account_id(r, owner, &c->owner_id)) return;
    if (!handler_is_admin(r)) {
        if (owner[0] != '\0' && c->owner_id != r->caller.account_id) {
            request_error(r, HB_ERR_NOT_FOUND, "no such account");
            return;
        }
        c->owner_id = r->caller.account_id; /* one's own codes only */
    }
    c->kind = strcmp(kind, "static") == 0 ? CODE_STATIC : strcmp(kind, "dynamic") == 0 ? CODE_DYNAMIC : 0;
    if (currency_text[0] != '\0') {
        c->currency = currency_parse(currency_text, strlen(currency_text));
        if (c->currency == CURRENCY_NONE) {
            request_error(r, HB_ERR_INVALID_ARGUMENT, "currency must be CNY or HKD");
            return;
        }
    }
    char why[LIMIT_ERR_DETAIL_LEN + 1];
    hb_err err = paycode_create_prepare(&pc->code_create, r->server->keys, r->caller.actor, why,
                                        sizeof why);
    if (err != HB_ERR_OK) {
        request_error(r, err, why);
        return;
    }
    request_prepare_command(r, &pc->base, true);
    request_submit(r, finish_code_create);
}

/* The code if the caller may see it (owner, admin, support); false with the response set. */
static bool visible_code(request *r, int64_t id, paycode *out)
{
    store *s = request_reader(r);
    if (s == NULL) return false;
    hb_err err = store_code_get(s, id, out);
    request_reader_done(r, s);
    role who = r->caller.role;
    if (err == HB_ERR_OK && who != ROLE_ADMIN && who != ROLE_SUPPORT &&
        out->owner_id != r->caller.account_id) {
        err = HB_ERR_NOT_FOUND; /* another's code does not exist for this caller */
    }
    if (err != HB_ERR_OK) {
        request_error(r, err, err == HB_ERR_NOT_FOUND ? "no such code" : "");
        return false;
    }
    return true;
}

void h_code_get(request *r)
{
    int64_t id = 0;
    paycode c;
    if (!code_path_id(r, &id) || !visible_code(r, id, &c)) return;
    request_json(r, 200, code_json(r, &c));
}

void h_code_cancel(request *r)
{
    if (r->caller.role == ROLE_SUPPORT) {
        request_error(r, HB_ERR_FORBIDDEN, "support keys are read-only");
        return;
    }
    int64_t id = 0;
    paycode c;
    if (!code_path_id(r, &id) || !visible_code(r, id, &c)) return;
    pending_command *pc = handler_new_command(r);
    pc->code_cancel.code_id = id;
    if (paycode_cancel_prepare(&pc->code_cancel, r->caller.actor) != HB_ERR_OK) {
        request_error(r, HB_ERR_NOT_FOUND, "no such code");
        return;
    }
    request_prepare_command(r, &pc->base, true);
    request_submit(r, finish_code_cancel);
}

/* GET /v1/codes/{id}/qr.png[?format=svg][&scale=N]: the current payload as a QR image. */
void h_code_qr(request *r)
{
    int64_t id = 0;
    paycode c;
    if (!code_path_id(r, &id)) return;
    const char *format = NULL, *scale_text = NULL;
    if (!handler_query_value(r, "format", &format) || !handler_query_value(r, "scale", &scale_text)) {
        return;
    }
    bool svg = format != NULL && strcmp(format, "svg") == 0;
    if (format != NULL && !svg && strcmp(format, "png") != 0) {
        request_error(r, HB_ERR_INVALID_ARGUMENT, "format must be png or svg");
        return;
    }
    long scale = 8;
    if (scale_text != NULL) {
        char *end = NULL;
        scale = strtol(scale_text, &end, 10);
        if (end == scale_text || *end != '\0' || scale < 1 || scale > QR_SCALE_MAX) {
            request_error(r, HB_ERR_INVALID_ARGUMENT, "scale must be 1..32");
            return;
        }
    }
    if (!visible_code(r, id, &c)) return;
    char payload[EMV_PAYLOAD_MAX], token[CODE_TOKEN_TEXT_MAX + 1];
    int64_t refresh = 0;
    hb_err err = paycode_payload(&c, r->server->keys, handler_now_ms(r), payload, token, &refresh);
    if (err != HB_ERR_OK) {
        request_error(r, err, err == HB_ERR_CODE_USED ? "the code was paid already"
                                                      : "the code takes no more payments");
        return;
    }
    uint8_t *image = NULL;
    size_t len = 0;
    err = svg ? qr_svg(payload, (char **)&image, &len) : qr_png(payload, (int)scale, &image, &len);
    if (err != HB_ERR_OK) {
        request_error(r, HB_ERR_UNAVAILABLE, "cannot render the QR code");
        return;
    }
    free(r->response);
    r->response = (char *)image;
    r->response_len = len;
    r->content_type = svg ? "image/svg+xml" : "image/png";
    r->status = 200;
    r->phase = PHASE_RESPOND;
}
