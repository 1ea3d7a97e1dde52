/* Red-packet routes: create, list, read, claim; scenes; statistics. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/scene.h"
#include "core/split.h"
#include "http/http_internal.h"

#define DAY_MS ((int64_t)86400000)
#define STATS_RANGE_MAX_MS (31 * DAY_MS)
#define CLAIMS_PAGE_DEFAULT 100

/* "pkt_N" in the path; false with 404 set otherwise. */
static bool packet_path_id(request *r, int64_t *id)
{
    if (strncmp(r->segments[2], "pkt_", 4) != 0 ||
        ids_parse(ID_PACKET, r->segments[2], id) != HB_ERR_OK) {
        request_error(r, HB_ERR_NOT_FOUND, "no such red packet");
        return false;
    }
    return true;
}

/* An optional boolean member; false with 400 set when present and not a boolean. */
static bool body_bool(request *r, json_t *obj, const char *name, bool *out)
{
    json_t *v = json_object_get(obj, name);
    if (v == NULL || json_is_null(v)) return true;
    if (!json_is_boolean(v)) {
        char detail[96];
        snprintf(detail, sizeof detail, "\"%s\" must be true or false", name);
        request_error(r, HB_ERR_INVALID_ARGUMENT, detail);
        return false;
    }
    *out = json_is_true(v);
    return true;
}

/* The packet as a caller sees it; owner (the sender or an admin) also gets its claim link. */
static json_t *packet_json(request *r, const packet *p, bool owner)
{
    char id[IDS_TEXT_MAX], sender[IDS_TEXT_MAX];
    ids_format(ID_PACKET, p->id, id, sizeof id);
    ids_format(ID_ACCOUNT, p->sender_id, sender, sizeof sender);
    json_t *o = json_pack(
        "{s:s,s:s,s:s,s:s,s:I,s:I,s:s,s:b,s:s,s:s,s:I,s:I,s:I,s:I,s:I}", "id", id, "status",
        packet_status_name(packet_status_at(p, handler_now_ms(r))), "sender", sender, "currency",
        currency_code(p->currency), "total", (json_int_t)p->total, "count", (json_int_t)p->count,
        "mode", p->mode == SPLIT_FIXED ? "fixed" : "random", "fission", p->fission, "wishing",
        p->wishing, "scene", p->scene, "claimed_count", (json_int_t)p->claimed_count,
        "claimed_amount", (json_int_t)p->claimed_amount, "refunded_amount",
        (json_int_t)p->refunded_amount, "created_at", (json_int_t)p->created_at_ms, "expires_at",
        (json_int_t)p->expires_at_ms);
    json_object_set_new(o, "finished_at",
                        p->finished_at_ms ? json_integer(p->finished_at_ms) : json_null());
    json_object_set_new(o, "allow_sender_claim", json_boolean(p->allow_sender));
    if (p->fission) {
        char seed[IDS_TEXT_MAX];
        ids_format(ID_ACCOUNT, p->seed_id, seed, sizeof seed);
        json_object_set_new(o, "seed", json_string(seed));
    }
    if (owner) {
        packet_token t = {.kind = PACKET_TOKEN_CLAIM, .packet_id = p->id,
                          .not_after_ms = p->expires_at_ms};
        char token[PACKET_TOKEN_TEXT_LEN + 1], url[LIMIT_PUBLIC_URL_LEN + 64];
        if (packet_token_seal(&r->server->keys->packet_tokens, &t, token) == HB_ERR_OK) {
            handler_public_link(r, 'c', token, url, sizeof url);
            json_object_set_new(o, "claim_token", json_string(token));
            json_object_set_new(o, "claim_url", json_string(url));
            json_object_set_new(o, "qr_text", json_string(url));
        }
    }
    return o;
}

/* A fission packet's share link, for its seed (once it has claimed) to forward. */
static bool add_share_link(request *r, json_t *o, const packet *p)
{
    packet_token t = {.kind = PACKET_TOKEN_SHARE, .packet_id = p->id,
                      .not_after_ms = p->expires_at_ms};
    char token[PACKET_TOKEN_TEXT_LEN + 1], url[LIMIT_PUBLIC_URL_LEN + 64];
    if (packet_token_seal(&r->server->keys->packet_tokens, &t, token) != HB_ERR_OK) return false;
    handler_public_link(r, 'c', token, url, sizeof url);
    json_object_set_new(o, "share_token", json_string(token));
    json_object_set_new(o, "share_url", json_string(url));
    json_object_set_new(o, "share_expires_at", json_integer(p->expires_at_ms));
    return true;
}

/* ---- create ----------------------------------------------------------------------------- */

static void finish_packet_create(request *r)
{
    command *cmd = &r->cmd->base;
    if (cmd->err != HB_ERR_OK) {
        request_error(r, cmd->err, cmd->err_detail);
        return;
    }
    r->replayed = cmd->replayed;
    request_json(r, 201, handler_risk_note(packet_json(r, &r->cmd->packet_create.packet, true), cmd));
}

void h_packet_create(request *r)
{
    if (r->caller.role == ROLE_SUPPORT) {
        request_error(r, HB_ERR_FORBIDDEN, "support keys are read-only");
        return;
    }
    json_t *body = request_body_object(r);
    if (body == NULL) return;
    static const char *const fields[] = {"sender", "total", "count", "mode", "wishing",
                                         "scene", "expires_in", "currency",
                                         "allow_sender_claim", "fission", "seed", "device",
                                         NULL};
    pending_command *pc = handler_new_command(r);
    packet_create_cmd *c = &pc->packet_create;
    packet *p = &c->packet;
    char sender[32] = "", mode[16] = "", currency_text[8] = "", seed[32] = "";
    bool ok = request_only_fields(r, body, fields) &&
              request_string(r, body, "sender", false, 31, sender, sizeof sender) &&
              request_amount(r, body, "total", &p->total) &&
              request_integer(r, body, "count", true, 1, LIMIT_PACKET_SHARES_MAX, &p->count) &&
              request_string(r, body, "mode", false, 15, mode, sizeof mode) &&
              request_string(r, body, "wishing", false, LIMIT_WISHING_LEN, p->wishing,
                             sizeof p->wishing) &&
              request_string(r, body, "scene", false, LIMIT_SCENE_LEN, p->scene, sizeof p->scene) &&
              request_integer(r, body, "expires_in", false, LIMIT_PACKET_EXPIRES_MIN_S,
                              LIMIT_PACKET_EXPIRES_MAX_S, &c->expires_in_s) &&
              request_string(r, body, "currency", false, 7, currency_text, sizeof currency_text) &&
              body_bool(r, body, "allow_sender_claim", &p->allow_sender) &&
              body_bool(r, body, "fission", &p->fission) &&
              request_string(r, body, "seed", false, 31, seed, sizeof seed) &&
              request_string(r, body, "device", false, LIMIT_DEVICE_LEN, c->device,
                             sizeof c->device);
    json_decref(body);
    if (!ok) return;
    /* an admin names the sender; anyone else sends from its own wallet */
    if (sender[0] == '\0' && handler_is_admin(r)) {
        request_error(r, HB_ERR_INVALID_ARGUMENT, "\"sender\" is required");
        return;
    }
    if (sender[0] != '\0' && !request_account_id(r, sender, &p->sender_id)) return;
    if (!handler_is_admin(r)) {
        if (sender[0] != '\0' && p->sender_id != r->caller.account_id) {
            request_error(r, HB_ERR_NOT_FOUND, "no such account");
            return;
        }
        p->sender_id = r->caller.account_id;
    }
    if (seed[0] != '\0' && !request_account_id(r, seed, &p->seed_id)) return;
    if (mode[0] == '\0' || strcmp(mode, "random") == 0) {
        p->mode = SPLIT_RANDOM;
    } else if (strcmp(mode, "fixed") == 0) {
        p->mode = SPLIT_FIXED;
    } else {
        request_error(r, HB_ERR_INVALID_ARGUMENT, "mode must be random or fixed");
        return;
    }
    if (currency_text[0] != '\0') {
        p->currency = currency_parse(currency_text, strlen(currency_text));
        if (p->currency == CURRENCY_NONE) {
            request_error(r, HB_ERR_INVALID_ARGUMENT, "currency must be CNY or HKD");
            return;
        }
    }
    /* The split costs CPU and memory in proportion to count: hold count to the sender's tier
     * before making it (the writer checks again under the policy of its batch). */
    store *s = request_reader(r);
    if (s == NULL) return;
    account sender_account;
    hb_err found = store_account_get(s, p->sender_id, &sender_account);
    request_reader_done(r, s);
    if (found != HB_ERR_OK) {
        request_error(r, found, found == HB_ERR_NOT_FOUND ? "no such account: sender" : "");
        return;
    }
    pthread_mutex_lock(&r->server->rate_lock);
    int64_t max_shares = r->server->max_shares[sender_account.tier];
    pthread_mutex_unlock(&r->server->rate_lock);
    if (sender_account.tier != TIER_SYSTEM && p->count > max_shares) {
        char detail[96];
        snprintf(detail, sizeof detail, "count above the %s tier's %lld shares",
                 tier_name(sender_account.tier), (long long)max_shares);
        request_error(r, HB_ERR_INVALID_ARGUMENT, detail);
        return;
    }
    free(r->shares);
    r->shares = malloc((size_t)p->count * sizeof *r->shares);
    ASSERT(r->shares != NULL);
    char why[LIMIT_ERR_DETAIL_LEN + 1];
    hb_err err = packet_create_prepare(c, r->shares, r->caller.actor, NULL, why, sizeof why);
    if (err != HB_ERR_OK) {
        request_error(r, err, why);
        return;
    }
    request_prepare_command(r, &pc->base, true);
    request_submit(r, finish_packet_create);
}

/* ---- claim --------------------------------------------------------------------------------- */

static void finish_packet_claim(request *r)
{
    command *cmd = &r->cmd->base;
    if (cmd->err != HB_ERR_OK) {
        request_error(r, cmd->err, cmd->err_detail);
        return;
    }
    r->replayed = cmd->replayed;
    const packet_claim_cmd *c = &r->cmd->packet_claim;
    const claim *cl = &c->claim;
    const packet *p = &c->packet;
    char id[IDS_TEXT_MAX], pkt[IDS_TEXT_MAX], claimer[IDS_TEXT_MAX];
    ids_format(ID_CLAIM, cl->transfer_id, id, sizeof id);
    ids_format(ID_PACKET, cl->packet_id, pkt, sizeof pkt);
    ids_format(ID_ACCOUNT, cl->claimer_id, claimer, sizeof claimer);
    json_t *o = json_pack("{s:s,s:s,s:s,s:I,s:s,s:I,s:I,s:s,s:I,s:I}", "id", id, "packet", pkt,
                          "claimer", claimer, "amount", (json_int_t)cl->amount, "currency",
                          currency_code(p->currency), "rank", (json_int_t)cl->seq + 1,
                          "claimed_at", (json_int_t)cl->claimed_at_ms, "packet_status",
                          packet_status_name(packet_status_at(p, handler_now_ms(r))), "claimed_count",
                          (json_int_t)p->claimed_count, "count", (json_int_t)p->count);
    handler_risk_note(o, cmd);
    json_object_set_new(o, "wishing", json_string(p->wishing));
    json_object_set_new(o, "best_luck", json_boolean(p->status == PACKET_CLAIMED_OUT &&
                                                     cl->seq == p->best_seq));
    if (p->fission && cl->claimer_id == p->seed_id && !add_share_link(r, o, p)) {
        json_decref(o);
        request_error(r, HB_ERR_UNAVAILABLE, "cannot seal the share link");
        return;
    }
    request_json(r, 201, o);
}

void h_packet_claim(request *r)
{
    if (r->caller.role == ROLE_SUPPORT) {
        request_error(r, HB_ERR_FORBIDDEN, "support keys are read-only");
        return;
    }
    int64_t packet_id = 0;
    if (!packet_path_id(r, &packet_id)) return;
    json_t *body = request_body_object(r);
    if (body == NULL) return;
    static const char *const fields[] = {"claimer", "token", "device", NULL};
    char claimer[32] = "", token[PACKET_TOKEN_TEXT_LEN + 2] = "", device[LIMIT_DEVICE_LEN + 1] = "";
    bool ok = request_only_fields(r, body, fields) &&
              request_string(r, body, "claimer", false, 31, claimer, sizeof claimer) &&
              request_string(r, body, "device", false, LIMIT_DEVICE_LEN, device, sizeof device);
    /* any token that is not one of ours reads as "no such packet", however malformed */
    json_t *token_value = json_object_get(body, "token");
    if (ok && json_is_string(token_value) &&
        json_string_length(token_value) <= PACKET_TOKEN_TEXT_LEN) {
        snprintf(token, sizeof token, "%s", json_string_value(token_value));
    }
    json_decref(body);
    if (!ok) return;
    pending_command *pc = handler_new_command(r);
    packet_claim_cmd *c = &pc->packet_claim;
    packet_token t;
    if (packet_token_open(&r->server->keys->packet_tokens, token, strlen(token), &t) != HB_ERR_OK ||
        t.packet_id != packet_id) {
        request_error(r, HB_ERR_NOT_FOUND, "no such red packet");
        return;
    }
    if (handler_is_admin(r)) {
        if (claimer[0] == '\0') {
            request_error(r, HB_ERR_INVALID_ARGUMENT, "\"claimer\" is required");
            return;
        }
        if (!request_account_id(r, claimer, &c->claimer_id)) return;
    } else {
        /* a session or a merchant key claims for its own wallet */
        if (claimer[0] != '\0' && (!request_account_id(r, claimer, &c->claimer_id) ||
                                   c->claimer_id != r->caller.account_id)) {
            request_error(r, HB_ERR_NOT_FOUND, "no such account");
            return;
        }
        c->claimer_id = r->caller.account_id;
    }
    int64_t device_wait = request_device_wait(r, device);
    if (device_wait != 0) {
        /* one phone grabbing for many accounts is a bot */
        r->retry_after_s = (int)((device_wait + 999) / 1000);
        request_error(r, HB_ERR_RATE_LIMITED, "too many claims from this device; see Retry-After");
        request_refuse_recording_nonce(r);
        return;
    }
    c->packet_id = packet_id;
    c->token_kind = t.kind;
    snprintf(c->device, sizeof c->device, "%s", device);
    if (packet_claim_prepare(c, r->caller.actor, NULL) != HB_ERR_OK) {
        request_error(r, HB_ERR_INVALID_ARGUMENT, "invalid claim");
        return;
    }
    request_prepare_command(r, &pc->base, true);
    request_submit(r, finish_packet_claim);
}

/* ---- read ---------------------------------------------------------------------------------- */

/* An integer query parameter in [min, max] (def when absent); false with 400 set. */
static json_t *claims_json(request *r, store *s, const packet *p, int64_t viewer,
                           bool sees_all, int64_t after_rank, int64_t limit, hb_err *err,
                           int64_t *next)
{
    claim *page = calloc((size_t)limit + 1, sizeof *page);
    ASSERT(page != NULL);
    int count = 0;
    *next = 0;
    *err = store_claim_list(s, p->id, after_rank - 1, (int)limit + 1, page, &count);
    json_t *list = json_array();
    for (int i = 0; *err == HB_ERR_OK && i < count && i < limit; i++) {
        const claim *cl = &page[i];
        customer_view v;
        hb_err verr = customer_view_get(s, r->server->keys, cl->claimer_id, false, &v);
        if (verr == HB_ERR_UNAVAILABLE) *err = verr;
        char id[IDS_TEXT_MAX], who[IDS_TEXT_MAX];
        ids_format(ID_CLAIM, cl->transfer_id, id, sizeof id);
        ids_format(ID_ACCOUNT, cl->claimer_id, who, sizeof who);
        bool shown = sees_all || cl->claimer_id == viewer;
        json_t *o = json_pack("{s:s,s:I,s:I,s:I,s:s,s:b}", "id", id, "rank",
                              (json_int_t)cl->seq + 1, "amount", (json_int_t)cl->amount,
                              "claimed_at", (json_int_t)cl->claimed_at_ms, "claimer_name",
                              verr == HB_ERR_OK ? v.name : "*", "best_luck",
                              p->status == PACKET_CLAIMED_OUT && cl->seq == p->best_seq);
        json_object_set_new(o, "claimer", shown ? json_string(who) : json_null());
        json_array_append_new(list, o);
    }
    if (count > limit) *next = page[limit - 1].seq + 1;
    free(page);
    return list;
}

void h_packet_get(request *r)
{
    int64_t id = 0;
    if (!packet_path_id(r, &id)) return;
    int64_t after = 0, limit = 0;
    if (!handler_query_integer(r, "claims_after", 0, LIMIT_PACKET_SHARES_MAX, 0, &after) ||
        !handler_query_integer(r, "claims_limit", 1, 100, CLAIMS_PAGE_DEFAULT, &limit)) {
        return;
    }
    const char *token = NULL;
    if (!handler_query_value(r, "token", &token)) return;
    store *s = request_reader(r);
    if (s == NULL) return;
    packet p;
    hb_err err = store_packet_get(s, id, &p);
    role who = r->caller.role;
    int64_t viewer = who == ROLE_ADMIN || who == ROLE_SUPPORT ? 0 : r->caller.account_id;
    bool owner = err == HB_ERR_OK && (who == ROLE_ADMIN || p.sender_id == viewer);
    bool visible = owner || (err == HB_ERR_OK && who == ROLE_SUPPORT);
    if (err == HB_ERR_OK && !visible && viewer != 0) {
        claim mine;
        hb_err cerr = store_claim_find(s, id, viewer, &mine);
        visible = cerr == HB_ERR_OK;
        if (cerr == HB_ERR_UNAVAILABLE) err = cerr;
    }
    if (err == HB_ERR_OK && !visible && token != NULL) {
        /* whoever holds the link may look before claiming */
        packet_token t;
        visible = packet_token_open(&r->server->keys->packet_tokens, token, strlen(token), &t) ==
                      HB_ERR_OK &&
                  t.packet_id == id;
    }
    if (err == HB_ERR_OK && !visible) err = HB_ERR_NOT_FOUND;
    if (err != HB_ERR_OK) {
        request_reader_done(r, s);
        request_error(r, err, err == HB_ERR_NOT_FOUND ? "no such red packet" : "");
        return;
    }
    json_t *o = packet_json(r, &p, owner);
    /* the seed (or an admin) can fetch the share link again once the seed has claimed */
    if (p.fission && p.claimed_count > 0 && (who == ROLE_ADMIN || (viewer != 0 && viewer == p.seed_id))) {
        (void)add_share_link(r, o, &p);
    }
    customer_view sv;
    if (customer_view_get(s, r->server->keys, p.sender_id, false, &sv) == HB_ERR_OK) {
        json_object_set_new(o, "sender_name", json_string(sv.name));
    }
    int64_t next = 0;
    json_t *claims = claims_json(r, s, &p, viewer, who == ROLE_ADMIN || who == ROLE_SUPPORT,
                                 after, limit, &err, &next);
    request_reader_done(r, s);
    if (err != HB_ERR_OK) {
        json_decref(o);
        json_decref(claims);
        request_error(r, HB_ERR_UNAVAILABLE, "the store failed while reading claims");
        return;
    }
    json_object_set_new(o, "claims", claims);
    json_object_set_new(o, "claims_next", next ? json_integer(next) : json_null());
    request_json(r, 200, o);
}

void h_packet_list(request *r)
{
    int64_t limit = 0, before = 0;
    if (!handler_page_params(r, ID_PACKET, &limit, &before)) return;
    int64_t sender = 0;
    if (r->caller.role != ROLE_ADMIN && r->caller.role != ROLE_SUPPORT) {
        sender = r->caller.account_id; /* one's own packets only */
    }
    store *s = request_reader(r);
    if (s == NULL) return;
    packet *page = calloc((size_t)limit + 1, sizeof *page);
    ASSERT(page != NULL);
    int count = 0;
    hb_err err = store_packet_list(s, sender, before, (int)limit + 1, page, &count);
    request_reader_done(r, s);
    if (err != HB_ERR_OK) {
        free(page);
        request_error(r, HB_ERR_UNAVAILABLE, "the store failed while listing");
        return;
    }
    json_t *data = json_array();
    for (int i = 0; i < count && i < limit; i++) {
        json_array_append_new(data, packet_json(r, &page[i], r->caller.role == ROLE_ADMIN ||
                                                                 page[i].sender_id == sender));
    }
    json_t *reply = json_pack("{s:o}", "data", data);
    if (count > limit) {
        char next[IDS_TEXT_MAX];
        ids_format(ID_PACKET, page[limit - 1].id, next, sizeof next);
        json_object_set_new(reply, "next_cursor", json_string(next));
    } else {
        json_object_set_new(reply, "next_cursor", json_null());
    }
    free(page);
    request_json(r, 200, reply);
}

void h_scenes(request *r)
{
    json_t *data = json_array();
    for (size_t i = 0; i < scene_count(); i++) {
        const scene *sc = scene_at(i);
        json_array_append_new(
            data, json_pack("{s:s,s:s,s:{s:I,s:I},s:I,s:s}", "scene", sc->name, "title",
                            sc->title, "suggested_total", "min", (json_int_t)sc->suggest_min,
                            "max", (json_int_t)sc->suggest_max, "suggested_count",
                            (json_int_t)sc->suggest_count, "wishing", sc->wishing));
    }
    request_json(r, 200, json_pack("{s:o}", "data", data));
}

/* ---- statistics -------------------------------------------------------------------------- */

void h_packet_stats(request *r)
{
    int64_t now = handler_now_ms(r), from = 0, to = 0;
    if (!handler_query_integer(r, "to", 1, INT64_MAX / 2, now + 1, &to) ||
        !handler_query_integer(r, "from", 0, INT64_MAX / 2, to - STATS_RANGE_MAX_MS, &from)) {
        return;
    }
    if (from < 0) from = 0;
    if (from >= to || to - from > STATS_RANGE_MAX_MS) {
        request_error(r, HB_ERR_INVALID_ARGUMENT, "from..to must be a range of at most 31 days");
        return;
    }
    const char *scene_name = NULL, *sender_text = NULL;
    if (!handler_query_value(r, "scene", &scene_name) ||
        !handler_query_value(r, "sender", &sender_text)) {
        return;
    }
    if (scene_name != NULL && scene_find(scene_name) == NULL) {
        request_error(r, HB_ERR_INVALID_ARGUMENT, "unknown scene");
        return;
    }
    int64_t sender = 0;
    if (sender_text != NULL && !request_account_id(r, sender_text, &sender)) return;
    if (r->caller.role != ROLE_ADMIN && r->caller.role != ROLE_SUPPORT) {
        if (sender_text != NULL && sender != r->caller.account_id) {
            request_error(r, HB_ERR_NOT_FOUND, "no such account");
            return;
        }
        sender = r->caller.account_id; /* a merchant sees its own packets only */
    }
    packet_stats *st = malloc(sizeof *st);
    ASSERT(st != NULL);
    store *s = request_reader(r);
    if (s == NULL) {
        free(st);
        return;
    }
    hb_err err = store_packet_stats(s, from, to, sender, scene_name ? scene_name : "", st);
    request_reader_done(r, s);
    if (err != HB_ERR_OK) {
        free(st);
        request_error(r, HB_ERR_UNAVAILABLE, "the store failed while counting");
        return;
    }
    static const int64_t edges[PACKET_HISTOGRAM_BUCKETS + 1] = {1,    100,   500,   1000,
                                                                5000, 10000, 20000, 0};
    json_t *hist = json_array();
    for (int i = 0; i < PACKET_HISTOGRAM_BUCKETS; i++) {
        json_t *b = json_pack("{s:I,s:I}", "min", (json_int_t)edges[i], "count",
                              (json_int_t)st->histogram[i]);
        json_object_set_new(b, "below", edges[i + 1] ? json_integer(edges[i + 1]) : json_null());
        json_array_append_new(hist, b);
    }
    json_t *hours = json_array();
    for (int i = 0; i < st->hour_count; i++) {
        json_array_append_new(hours, json_pack("{s:I,s:I,s:I}", "hour", (json_int_t)st->hour_start_ms[i],
                                               "claims", (json_int_t)st->hour_claims[i], "amount",
                                               (json_int_t)st->hour_amount[i]));
    }
    /* claimed shares of the shares sent, in basis points (integer) */
    int64_t rate_bp = st->shares > 0 ? st->claimed_count * 10000 / st->shares : 0;
    json_t *o = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:o}", "from",
                          (json_int_t)from, "to", (json_int_t)to, "sent_count",
                          (json_int_t)st->sent_count, "sent_amount", (json_int_t)st->sent_amount,
                          "shares", (json_int_t)st->shares, "claimed_count",
                          (json_int_t)st->claimed_count, "claimed_amount",
                          (json_int_t)st->claimed_amount, "claim_rate_bp", (json_int_t)rate_bp,
                          "refunded_amount", (json_int_t)st->refunded_amount, "histogram", hist,
                          "claims_per_hour", hours);
    json_object_set_new(o, "scene", scene_name ? json_string(scene_name) : json_null());
    free(st);
    request_json(r, 200, o);
}
