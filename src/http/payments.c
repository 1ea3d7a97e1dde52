/* Payment routes: pay a code, read and list payments, refund; settlement batches and their
 * files; webhook endpoints and their deliveries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/clock.h"
#include "http/http_internal.h"
#include "service/voice.h"

/* The prefixed id in path segment `at`; false with 404 set otherwise. */
static bool path_id(request *r, int at, id_kind kind, const char *what, int64_t *id)
{
    const char *prefix = ids_prefix(kind);
    if (strncmp(r->segments[at], prefix, strlen(prefix)) != 0 ||
        ids_parse(kind, r->segments[at], id) != HB_ERR_OK) {
        char detail[64];
        snprintf(detail, sizeof detail, "no such %s", what);
        request_error(r, HB_ERR_NOT_FOUND, detail);
        return false;
    }
    return true;
}

static bool read_only_refused(request *r)
{
    if (r->caller.role != ROLE_SUPPORT) return false;
    request_error(r, HB_ERR_FORBIDDEN, "support keys are read-only");
    return true;
}

/* Admins and support see everything; others their own customer's objects. */
static bool sees_all(const request *r)
{
    return r->caller.role == ROLE_ADMIN || r->caller.role == ROLE_SUPPORT;
}

static void page_reply(request *r, json_t *data, bool more, id_kind kind, int64_t last_id)
{
    json_t *reply = json_pack("{s:o}", "data", data);
    if (more) {
        char next[IDS_TEXT_MAX];
        ids_format(kind, last_id, next, sizeof next);
        json_object_set_new(reply, "next_cursor", json_string(next));
    } else {
        json_object_set_new(reply, "next_cursor", json_null());
    }
    request_json(r, 200, reply);
}

/* ---- payments ----------------------------------------------------------------------------- */

static json_t *payment_with_refunds(const payment *p, const refund *refunds, int count)
{
    json_t *o = payment_json(p);
    json_t *list = json_array();
    for (int i = 0; i < count; i++) json_array_append_new(list, refund_json(&refunds[i]));
    json_object_set_new(o, "refunds", list);
    return o;
}

static void finish_payment(request *r)
{
    payment_cmd *c = &r->cmd->payment;
    if (c->base.err != HB_ERR_OK) {
        request_error(r, c->base.err, c->base.err_detail);
        return;
    }
    r->replayed = c->base.replayed;
    json_t *o = payment_json(&c->payment);
    char code[IDS_TEXT_MAX];
    ids_format(ID_CODE, c->code.id, code, sizeof code);
    json_object_set_new(o, "merchant_name", json_string(c->code.merchant_name));
    json_object_set_new(o, "memo", json_string(c->code.memo));
    request_json(r, 201, handler_risk_note(o, &c->base));
}

/* POST /v1/payments {payload, payer, amount, device, region}: a session or a merchant key
 * pays from its own wallet; an admin names the payer. */
void h_payment_create(request *r)
{
    if (read_only_refused(r)) return;
    json_t *body = request_body_object(r);
    if (body == NULL) return;
    static const char *const fields[] = {"payload", "payer", "amount", "device", "region", NULL};
    pending_command *pc = handler_new_command(r);
    payment_cmd *c = &pc->payment;
    char payload[LIMIT_PAYLOAD_LEN + 1] = "", payer[32] = "";
    bool ok = request_only_fields(r, body, fields) &&
              request_string(r, body, "payload", true, LIMIT_PAYLOAD_LEN, payload, sizeof payload) &&
              request_string(r, body, "payer", false, 31, payer, sizeof payer) &&
              (json_object_get(body, "amount") == NULL ||
               json_is_null(json_object_get(body, "amount")) ||
               request_amount(r, body, "amount", &c->amount)) &&
              request_string(r, body, "device", false, LIMIT_DEVICE_LEN, c->device,
                             sizeof c->device) &&
              request_string(r, body, "region", false, LIMIT_REGION_LEN, c->region,
                             sizeof c->region);
    json_decref(body);
    if (!ok) return;
    if (handler_is_admin(r)) {
        if (payer[0] == '\0') {
            request_error(r, HB_ERR_INVALID_ARGUMENT, "\"payer\" is required");
            return;
        }
        if (!request_account_id(r, payer, &c->payer_id)) return;
    } else {
        if (payer[0] != '\0' &&
            (!request_account_id(r, payer, &c->payer_id) || c->payer_id != r->caller.account_id)) {
            request_error(r, HB_ERR_NOT_FOUND, "no such account");
            return;
        }
        c->payer_id = r->caller.account_id;
    }
    int64_t device_wait = request_device_wait(r, c->device);
    if (device_wait != 0) {
        r->retry_after_s = (int)((device_wait + 999) / 1000);
        request_error(r, HB_ERR_RATE_LIMITED, "too many payments from this device; see Retry-After");
        request_refuse_recording_nonce(r);
        return;
    }
    char why[LIMIT_ERR_DETAIL_LEN + 1] = "";
    hb_err err = payment_open_payload(payload, r->server->keys, handler_now_ms(r), &c->token, why, sizeof why);
    if (err == HB_ERR_OK) {
        err = payment_prepare(c, r->caller.actor, NULL, why, sizeof why);
    }
    if (err != HB_ERR_OK) {
        request_error(r, err, why);
        request_refuse_recording_nonce(r);
        return;
    }
    request_prepare_command(r, &pc->base, true);
    request_submit(r, finish_payment);
}

/* The payment if the caller may see it (payer, payee, admin, support). */
static bool visible_payment(request *r, store *s, int64_t id, payment *out)
{
    hb_err err = store_payment_get(s, id, out);
    if (err == HB_ERR_OK && !sees_all(r) && out->payer_id != r->caller.account_id &&
        out->owner_id != r->caller.account_id) {
        err = HB_ERR_NOT_FOUND;
    }
    if (err != HB_ERR_OK) {
        request_error(r, err, err == HB_ERR_NOT_FOUND ? "no such payment" : "");
        return false;
    }
    return true;
}

void h_payment_get(request *r)
{
    int64_t id = 0;
    if (!path_id(r, 2, ID_PAYMENT, "payment", &id)) return;
    store *s = request_reader(r);
    if (s == NULL) return;
    payment p;
    /* its refunds, up to 1,000 (a payment refunded more often shows its first 1,000) */
    refund *refunds = calloc(LIMIT_PAGE_MAX, sizeof *refunds);
    ASSERT(refunds != NULL);
    int count = 0;
    bool ok = visible_payment(r, s, id, &p);
    hb_err err = ok ? store_refund_list(s, id, LIMIT_PAGE_MAX, refunds, &count) : HB_ERR_OK;
    request_reader_done(r, s);
    if (ok && err != HB_ERR_OK) request_error(r, HB_ERR_UNAVAILABLE, "the store failed while reading");
    if (ok && err == HB_ERR_OK) request_json(r, 200, payment_with_refunds(&p, refunds, count));
    free(refunds);
}

/* GET /v1/payments/{id}/voice.wav[?lang=en]: the receipt read aloud (espeak-ng), for the
 * merchant's speaker: the amount and the code's memo; seen by whoever may see the payment. */
void h_payment_voice(request *r)
{
    int64_t id = 0;
    if (!path_id(r, 2, ID_PAYMENT, "payment", &id)) return;
    const char *lang = NULL;
    if (!handler_query_value(r, "lang", &lang)) return;
    if (lang != NULL && strcmp(lang, "zh") != 0 && strcmp(lang, "en") != 0) {
        request_error(r, HB_ERR_INVALID_ARGUMENT, "lang must be zh or en");
        return;
    }
    bool english = lang != NULL && strcmp(lang, "en") == 0;
    store *s = request_reader(r);
    if (s == NULL) return;
    payment p;
    paycode code;
    bool ok = visible_payment(r, s, id, &p);
    hb_err err = ok ? store_code_get(s, p.code_id, &code) : HB_ERR_OK;
    request_reader_done(r, s);
    if (!ok) return;
    if (err != HB_ERR_OK) {
        request_error(r, HB_ERR_UNAVAILABLE, "the store failed while reading");
        return;
    }
    char text[512];
    voice_text(p.amount, code.memo, english, text, sizeof text);
    /* synthesis holds this worker thread: a few at a time, the rest are told to come back */
    enum { VOICES_MAX = 2 };
    if (atomic_fetch_add(&r->server->voices_running, 1) >= VOICES_MAX) {
        atomic_fetch_sub(&r->server->voices_running, 1);
        r->retry_after_s = 1;
        request_error(r, HB_ERR_UNAVAILABLE, "the speaker is busy: try again in a second");
        return;
    }
    uint8_t *wav = NULL;
    size_t len = 0;
    hb_err verr = voice_wav(text, english ? "en" : "cmn", &wav, &len);
    atomic_fetch_sub(&r->server->voices_running, 1);
    if (verr != HB_ERR_OK) {
        request_error(r, HB_ERR_UNAVAILABLE, "speech synthesis (espeak-ng) is not available");
        return;
    }
    free(r->response);
    r->response = (char *)wav;
    r->response_len = len;
    r->content_type = "audio/wav";
    r->status = 200;
    r->phase = PHASE_RESPOND;
}

/* GET /v1/payments?code=&from=&to=&limit=&cursor=: newest first; a customer sees what it paid
 * and received, admins and support everything. */
void h_payment_list(request *r)
{
    int64_t limit = 0, before = 0;
    if (!handler_page_params(r, ID_PAYMENT, &limit, &before)) return;
    payment_filter f = {0};
    const char *code = NULL;
    if (!handler_query_value(r, "code", &code) ||
        !handler_query_integer(r, "from", 0, INT64_MAX / 2, 0, &f.from_ms) ||
        !handler_query_integer(r, "to", 0, INT64_MAX / 2, 0, &f.to_ms)) {
        return;
    }
    if (code != NULL && (strncmp(code, "code_", 5) != 0 || ids_parse(ID_CODE, code, &f.code_id) != HB_ERR_OK)) {
        request_error(r, HB_ERR_INVALID_ARGUMENT, "code must be a code id (code_N)");
        return;
    }
    if (!sees_all(r)) f.party_id = r->caller.account_id;
    store *s = request_reader(r);
    if (s == NULL) return;
    payment *page = calloc((size_t)limit + 1, sizeof *page);
    ASSERT(page != NULL);
    int count = 0;
    hb_err err = store_payment_list(s, &f, before, (int)limit + 1, page, &count);
    request_reader_done(r, s);
    if (err != HB_ERR_OK) {
        free(page);
        request_error(r, HB_ERR_UNAVAILABLE, "the store failed while listing");
        return;
    }
    json_t *data = json_array();
    for (int i = 0; i < count && i < limit; i++) json_array_append_new(data, payment_json(&page[i]));
    int64_t last = count > limit ? page[limit - 1].id : 0;
    free(page);
    page_reply(r, data, count > limit, ID_PAYMENT, last);
}

static void finish_refund(request *r)
{
    refund_cmd *c = &r->cmd->refund;
    if (c->base.err != HB_ERR_OK) {
        request_error(r, c->base.err, c->base.err_detail);
        return;
    }
    r->replayed = c->base.replayed;
    json_t *o = refund_json(&c->refund);
    json_object_set_new(o, "payment_after", payment_json(&c->payment));
    request_json(r, 201, o);
}

/* POST /v1/payments/{id}/refunds {amount}: the payee (a merchant key, or a person for its
 * personal code) or an admin. */
void h_refund_create(request *r)
{
    if (read_only_refused(r)) return;
    int64_t id = 0;
    if (!path_id(r, 2, ID_PAYMENT, "payment", &id)) return;
    json_t *body = request_body_object(r);
    if (body == NULL) return;
    static const char *const fields[] = {"amount", NULL};
    pending_command *pc = handler_new_command(r);
    refund_cmd *c = &pc->refund;
    bool ok = request_only_fields(r, body, fields) && request_amount(r, body, "amount", &c->amount);
    json_decref(body);
    if (!ok) return;
    c->payment_id = id;
    c->owner_id = handler_is_admin(r) ? 0 : r->caller.account_id;
    char why[LIMIT_ERR_DETAIL_LEN + 1] = "";
    hb_err err = refund_prepare(c, r->caller.actor, NULL, why, sizeof why);
    if (err != HB_ERR_OK) {
        request_error(r, err, why);
        return;
    }
    request_prepare_command(r, &pc->base, true);
    request_submit(r, finish_refund);
}

/* ---- settlements ---------------------------------------------------------------------------- */

static json_t *settlements_of_day(request *r, store *s, int64_t merchant, int64_t day, hb_err *err)
{
    json_t *data = json_array();
    int64_t before = 0;
    settlement *page = calloc(LIMIT_PAGE_DEFAULT, sizeof *page);
    ASSERT(page != NULL);
    for (;;) {
        int count = 0;
        *err = store_settlement_list(s, merchant, day, before, LIMIT_PAGE_DEFAULT, page, &count);
        if (*err != HB_ERR_OK) break;
        for (int i = 0; i < count; i++) json_array_append_new(data, settlement_json(&page[i]));
        if (count < LIMIT_PAGE_DEFAULT) break;
        before = page[count - 1].id;
    }
    free(page);
    (void)r;
    return data;
}

/* POST /v1/settlements {date}: settle business day `date` (admin). Settling it again changes
 * nothing; the answer lists the day's batches either way. */
void h_settlement_create(request *r)
{
    if (!handler_require_admin(r)) return;
    json_t *body = request_body_object(r);
    if (body == NULL) return;
    static const char *const fields[] = {"date", NULL};
    char date[16] = "";
    bool ok = request_only_fields(r, body, fields) &&
              request_string(r, body, "date", true, 10, date, sizeof date);
    json_decref(body);
    if (!ok) return;
    int64_t day = 0;
    if (clock_day_parse(date, &day) != 0) {
        request_error(r, HB_ERR_INVALID_ARGUMENT, "date must be YYYY-MM-DD");
        return;
    }
    settle_cmd *c = malloc(sizeof *c);
    ASSERT(c != NULL);
    int created = 0, skipped = 0;
    char skip_detail[LIMIT_ERR_DETAIL_LEN + 1] = "";
    hb_err err = HB_ERR_OK;
    int64_t after = 0;
    for (;;) {
        err = settle_prepare(c, day, after, r->caller.actor);
        if (err == HB_ERR_OK) err = handler_submit_now(r, &c->base, false);
        if (err != HB_ERR_OK) break;
        created += c->created;
        if (c->skipped > 0 && skipped == 0) memcpy(skip_detail, c->skip_detail, sizeof skip_detail);
        skipped += c->skipped;
        if (c->considered < LIMIT_SETTLE_PAGE) break;
        after = c->last_merchant;
        /* a signed request's nonce is recorded once: the next pages go without it */
        r->caller.signed_request = false;
    }
    free(c);
    if (err != HB_ERR_OK) return;
    store *s = request_reader(r);
    if (s == NULL) return;
    json_t *data = settlements_of_day(r, s, 0, day, &err);
    request_reader_done(r, s);
    if (err != HB_ERR_OK) {
        json_decref(data);
        request_error(r, HB_ERR_UNAVAILABLE, "the store failed while listing");
        return;
    }
    json_t *reply = json_pack("{s:s,s:i,s:i,s:o}", "date", date, "created", created, "skipped",
                              skipped, "data", data);
    json_object_set_new(reply, "skipped_reason", skipped ? json_string(skip_detail) : json_null());
    request_json(r, 200, reply);
}

/* GET /v1/settlements?date=&limit=&cursor=: newest first; a merchant sees its own. */
void h_settlement_list(request *r)
{
    int64_t limit = 0, before = 0, day = -1;
    if (!handler_page_params(r, ID_SETTLEMENT, &limit, &before)) return;
    const char *date = NULL;
    if (!handler_query_value(r, "date", &date)) return;
    if (date != NULL && clock_day_parse(date, &day) != 0) {
        request_error(r, HB_ERR_INVALID_ARGUMENT, "date must be YYYY-MM-DD");
        return;
    }
    int64_t merchant = sees_all(r) ? 0 : r->caller.account_id;
    store *s = request_reader(r);
    if (s == NULL) return;
    settlement *page = calloc((size_t)limit + 1, sizeof *page);
    ASSERT(page != NULL);
    int count = 0;
    hb_err err = store_settlement_list(s, merchant, day, before, (int)limit + 1, page, &count);
    request_reader_done(r, s);
    if (err != HB_ERR_OK) {
        free(page);
        request_error(r, HB_ERR_UNAVAILABLE, "the store failed while listing");
        return;
    }
    json_t *data = json_array();
    for (int i = 0; i < count && i < limit; i++) json_array_append_new(data, settlement_json(&page[i]));
    int64_t last = count > limit ? page[limit - 1].id : 0;
    free(page);
    page_reply(r, data, count > limit, ID_SETTLEMENT, last);
}

static bool visible_settlement(request *r, store *s, settlement *out)
{
    int64_t id = 0;
    if (!path_id(r, 2, ID_SETTLEMENT, "settlement", &id)) return false;
    hb_err err = store_settlement_get(s, id, out);
    if (err == HB_ERR_OK && !sees_all(r) && out->merchant_id != r->caller.account_id) {
        err = HB_ERR_NOT_FOUND;
    }
    if (err != HB_ERR_OK) {
        request_error(r, err, err == HB_ERR_NOT_FOUND ? "no such settlement" : "");
        return false;
    }
    return true;
}

void h_settlement_get(request *r)
{
    store *s = request_reader(r);
    if (s == NULL) return;
    settlement b;
    bool ok = visible_settlement(r, s, &b);
    request_reader_done(r, s);
    if (ok) request_json(r, 200, settlement_json(&b));
}

/* GET /v1/settlements/{id}/file: the batch's CSV. */
void h_settlement_file(request *r)
{
    store *s = request_reader(r);
    if (s == NULL) return;
    settlement b;
    handler_buffer out = {0};
    bool ok = visible_settlement(r, s, &b);
    hb_err err = ok ? settlement_csv(s, &b, handler_buffer_append, &out) : HB_ERR_OK;
    request_reader_done(r, s);
    if (ok) handler_respond_text(r, &out, err, "cannot write the settlement file");
}

/* ---- webhooks ------------------------------------------------------------------------------- */

static json_t *webhook_json(const webhook *w)
{
    char id[IDS_TEXT_MAX], owner[IDS_TEXT_MAX];
    ids_format(ID_WEBHOOK, w->id, id, sizeof id);
    ids_format(ID_ACCOUNT, w->owner_id, owner, sizeof owner);
    json_t *events = json_array();
    for (uint32_t bit = 1; bit <= WEBHOOK_EVENTS_ALL; bit <<= 1) {
        if (w->events & bit) json_array_append_new(events, json_string(webhook_event_name(bit)));
    }
    return json_pack("{s:s,s:s,s:s,s:s,s:o,s:I,s:I}", "id", id, "object", "webhook", "owner",
                     owner, "url", w->url, "events", events, "created_at",
                     (json_int_t)w->created_at_ms, "secret_rotated_at",
                     (json_int_t)w->rotated_at_ms);
}

static json_t *delivery_json(const delivery *d)
{
    char id[IDS_TEXT_MAX], hook[IDS_TEXT_MAX];
    ids_format(ID_EVENT, d->id, id, sizeof id);
    ids_format(ID_WEBHOOK, d->webhook_id, hook, sizeof hook);
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:s,s:I}", "id", id, "webhook", hook,
                          "type", d->event_type, "object", d->object, "status",
                          delivery_status_name(d->status), "attempts", (json_int_t)d->attempts,
                          "last_status", (json_int_t)d->last_code, "last_error", d->last_error,
                          "created_at", (json_int_t)d->created_at_ms);
    json_object_set_new(o, "next_attempt_at",
                        d->status == DELIVERY_PENDING ? json_integer(d->next_at_ms) : json_null());
    json_object_set_new(o, "delivered_at",
                        d->delivered_at_ms ? json_integer(d->delivered_at_ms) : json_null());
    json_t *body = json_loads(d->body, 0, NULL);
    json_object_set_new(o, "body", body != NULL ? body : json_null());
    return o;
}

/* The endpoint in path segment 2 if the caller may see it. */
static bool visible_webhook(request *r, webhook *out)
{
    int64_t id = 0;
    if (!path_id(r, 2, ID_WEBHOOK, "webhook", &id)) return false;
    store *s = request_reader(r);
    if (s == NULL) return false;
    hb_err err = store_webhook_get(s, id, out);
    request_reader_done(r, s);
    if (err == HB_ERR_OK && (out->status != 0 || (!sees_all(r) && out->owner_id != r->caller.account_id))) {
        err = HB_ERR_NOT_FOUND;
    }
    if (err != HB_ERR_OK) {
        request_error(r, err, err == HB_ERR_NOT_FOUND ? "no such webhook" : "");
        return false;
    }
    return true;
}

/* POST /v1/webhooks {url, events, owner (admins)}: the answer carries the endpoint's secret,
 * once. */
void h_webhook_create(request *r)
{
    if (read_only_refused(r)) return;
    json_t *body = request_body_object(r);
    if (body == NULL) return;
    static const char *const fields[] = {"url", "events", "owner", NULL};
    webhook_create_cmd *c = calloc(1, sizeof *c);
    ASSERT(c != NULL);
    char owner[32] = "";
    bool ok = request_only_fields(r, body, fields) &&
              request_string(r, body, "url", true, LIMIT_URL_LEN, c->hook.url, sizeof c->hook.url) &&
              request_string(r, body, "owner", false, 31, owner, sizeof owner);
    json_t *events = json_object_get(body, "events");
    if (ok && (!json_is_array(events) || json_array_size(events) == 0 ||
               json_array_size(events) > 8)) {
        request_error(r, HB_ERR_INVALID_ARGUMENT,
                      "events must be a list of payment.succeeded, payment.refunded");
        ok = false;
    }
    for (size_t i = 0; ok && i < json_array_size(events); i++) {
        json_t *e = json_array_get(events, i);
        uint32_t bit = json_is_string(e) ? webhook_event_parse(json_string_value(e)) : 0;
        if (bit == 0) {
            request_error(r, HB_ERR_INVALID_ARGUMENT,
                          "unknown event (payment.succeeded, payment.refunded)");
            ok = false;
        }
        c->hook.events |= bit;
    }
    json_decref(body);
    if (ok && handler_is_admin(r)) {
        if (owner[0] == '\0') {
            request_error(r, HB_ERR_INVALID_ARGUMENT, "\"owner\" is required");
            ok = false;
        } else {
            ok = request_account_id(r, owner, &c->hook.owner_id);
        }
    } else if (ok) {
        if (owner[0] != '\0' && (!request_account_id(r, owner, &c->hook.owner_id) ||
                                 c->hook.owner_id != r->caller.account_id)) {
            request_error(r, HB_ERR_NOT_FOUND, "no such account");
            ok = false;
        }
        c->hook.owner_id = r->caller.account_id;
    }
    char why[LIMIT_ERR_DETAIL_LEN + 1] = "";
    if (ok) {
        pthread_mutex_lock(&r->server->rate_lock);
        bool allow_private = r->server->webhook_allow_private;
        pthread_mutex_unlock(&r->server->rate_lock);
        if (webhook_url_check(c->hook.url, allow_private, why, sizeof why) != HB_ERR_OK) {
            request_error(r, HB_ERR_INVALID_ARGUMENT, why);
            ok = false;
        }
    }
    if (ok && webhook_create_prepare(c, r->server->keys, r->caller.actor, NULL) != HB_ERR_OK) {
        request_error(r, HB_ERR_INVALID_ARGUMENT, "invalid webhook");
        ok = false;
    }
    if (ok && handler_submit_now(r, &c->base, false) == HB_ERR_OK) {
        json_t *o = webhook_json(&c->hook);
        json_object_set_new(o, "secret", json_string(c->secret));
        request_json(r, 201, o);
    }
    OPENSSL_cleanse(c->secret, sizeof c->secret);
    free(c);
}

/* GET /v1/webhooks[?owner=] : the caller's endpoints (admins and support name an owner). */
void h_webhook_list(request *r)
{
    const char *owner = NULL;
    if (!handler_query_value(r, "owner", &owner)) return;
    int64_t owner_id = r->caller.account_id;
    if (sees_all(r)) {
        if (owner == NULL) {
            request_error(r, HB_ERR_INVALID_ARGUMENT, "?owner= is required");
            return;
        }
        if (!request_account_id(r, owner, &owner_id)) return;
    }
    store *s = request_reader(r);
    if (s == NULL) return;
    webhook hooks[LIMIT_WEBHOOKS_PER_OWNER];
    int count = 0;
    hb_err err = store_webhook_list(s, owner_id, 0, LIMIT_WEBHOOKS_PER_OWNER, hooks, &count);
    request_reader_done(r, s);
    if (err != HB_ERR_OK) {
        request_error(r, HB_ERR_UNAVAILABLE, "the store failed while listing");
        return;
    }
    json_t *data = json_array();
    for (int i = 0; i < count; i++) json_array_append_new(data, webhook_json(&hooks[i]));
    page_reply(r, data, false, ID_WEBHOOK, 0);
}

void h_webhook_get(request *r)
{
    webhook w;
    if (visible_webhook(r, &w)) request_json(r, 200, webhook_json(&w));
}

static void change_webhook(request *r, bool rotate)
{
    if (read_only_refused(r)) return;
    webhook w;
    if (!visible_webhook(r, &w)) return;
    webhook_change_cmd *c = calloc(1, sizeof *c);
    ASSERT(c != NULL);
    c->id = w.id;
    c->rotate = rotate;
    if (webhook_change_prepare(c, r->server->keys, r->caller.actor) == HB_ERR_OK &&
        handler_submit_now(r, &c->base, false) == HB_ERR_OK) {
        json_t *o = webhook_json(&c->hook);
        if (rotate) json_object_set_new(o, "secret", json_string(c->secret));
        if (!rotate) json_object_set_new(o, "deleted", json_true());
        request_json(r, 200, o);
    }
    OPENSSL_cleanse(c->secret, sizeof c->secret);
    free(c);
}

void h_webhook_delete(request *r)
{
    change_webhook(r, false);
}

void h_webhook_rotate(request *r)
{
    change_webhook(r, true);
}

/* GET /v1/webhooks/{id}/deliveries?limit=&cursor=: newest first. */
void h_delivery_list(request *r)
{
    webhook w;
    int64_t limit = 0, before = 0;
    if (!visible_webhook(r, &w) || !handler_page_params(r, ID_EVENT, &limit, &before)) return;
    store *s = request_reader(r);
    if (s == NULL) return;
    delivery *page = calloc((size_t)limit + 1, sizeof *page);
    ASSERT(page != NULL);
    int count = 0;
    hb_err err = store_delivery_list(s, w.id, before, (int)limit + 1, page, &count);
    request_reader_done(r, s);
    if (err != HB_ERR_OK) {
        free(page);
        request_error(r, HB_ERR_UNAVAILABLE, "the store failed while listing");
        return;
    }
    json_t *data = json_array();
    for (int i = 0; i < count && i < limit; i++) json_array_append_new(data, delivery_json(&page[i]));
    int64_t last = count > limit ? page[limit - 1].id : 0;
    free(page);
    page_reply(r, data, count > limit, ID_EVENT, last);
}

/* POST /v1/webhooks/{id}/deliveries/{event}/redeliver: queue it again now, with a new 24 h
 * retry window. */
void h_delivery_redeliver(request *r)
{
    if (read_only_refused(r)) return;
    webhook w;
    int64_t id = 0;
    if (!visible_webhook(r, &w) || !path_id(r, 4, ID_EVENT, "event", &id)) return;
    store *s = request_reader(r);
    if (s == NULL) return;
    delivery_cmd *c = calloc(1, sizeof *c);
    ASSERT(c != NULL);
    hb_err err = store_delivery_get(s, id, &c->out);
    request_reader_done(r, s);
    if (err == HB_ERR_OK && c->out.webhook_id != w.id) err = HB_ERR_NOT_FOUND;
    if (err != HB_ERR_OK) {
        request_error(r, err, err == HB_ERR_NOT_FOUND ? "no such event" : "");
    } else {
        c->id = id;
        c->redeliver = true;
        if (delivery_cmd_prepare(c, r->caller.actor) == HB_ERR_OK &&
            handler_submit_now(r, &c->base, false) == HB_ERR_OK) {
            request_json(r, 200, delivery_json(&c->out));
        }
    }
    free(c);
}
