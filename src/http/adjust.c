/* Manual corrections under maker-checker: /v1/adjustments (admin keys only). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ids.h"
#include "http/http_internal.h"
#include "service/adjust.h"

/* POST /v1/adjustments {from, to, amount, currency, reason}: a proposal. */
void h_adjustment_propose(request *r)
{
    if (!handler_require_admin(r)) return;
    json_t *body = request_body_object(r);
    if (body == NULL) return;
    static const char *const fields[] = {"from", "to", "amount", "currency", "reason", NULL};
    adjust_propose_cmd *c = calloc(1, sizeof *c);
    ASSERT(c != NULL);
    adjustment *a = &c->adj;
    char from[32] = "", to[32] = "", cur[8] = "";
    bool ok = request_only_fields(r, body, fields) &&
              request_string(r, body, "from", true, 31, from, sizeof from) &&
              request_string(r, body, "to", true, 31, to, sizeof to) &&
              request_amount(r, body, "amount", &a->amount) &&
              request_string(r, body, "currency", false, 7, cur, sizeof cur) &&
              request_string(r, body, "reason", true, LIMIT_ERR_DETAIL_LEN, a->reason,
                             sizeof a->reason);
    json_decref(body);
    ok = ok && request_account_id(r, from, &a->debit_id) && request_account_id(r, to, &a->credit_id);
    if (ok && cur[0] != '\0' && (a->currency = currency_parse(cur, strlen(cur))) == CURRENCY_NONE) {
        request_error(r, HB_ERR_INVALID_ARGUMENT, "currency must be CNY or HKD");
        ok = false;
    }
    char why[LIMIT_ERR_DETAIL_LEN + 1] = "";
    if (ok && adjust_propose_prepare(c, r->caller.actor, NULL, why, sizeof why) != HB_ERR_OK) {
        request_error(r, HB_ERR_INVALID_ARGUMENT, why);
        ok = false;
    }
    if (ok && handler_submit_now(r, &c->base, true) == HB_ERR_OK) {
        r->replayed = c->base.replayed;
        request_json(r, 201, adjust_json(a));
    }
    free(c);
}

static bool adjustment_path_id(request *r, int64_t *id)
{
    if (strncmp(r->segments[2], "adj_", 4) != 0 ||
        ids_parse(ID_ADJUSTMENT, r->segments[2], id) != HB_ERR_OK) {
        request_error(r, HB_ERR_NOT_FOUND, "no such adjustment");
        return false;
    }
    return true;
}

/* POST /v1/adjustments/{id}/approve | reject {note}: decided by another admin (a proposer
 * may reject, that is withdraw, its own). */
static void decide(request *r, bool approve)
{
    int64_t id = 0;
    if (!handler_require_admin(r) || !adjustment_path_id(r, &id)) return;
    json_t *body = request_body_object(r);
    if (body == NULL) return;
    static const char *const fields[] = {"note", NULL};
    adjust_decide_cmd *c = calloc(1, sizeof *c);
    ASSERT(c != NULL);
    bool ok = request_only_fields(r, body, fields) &&
              request_string(r, body, "note", false, sizeof c->note - 1, c->note, sizeof c->note);
    json_decref(body);
    c->id = id;
    c->approve = approve;
    c->approver_since_ms = r->caller.web ? r->caller.since_ms : 0;
    char why[LIMIT_ERR_DETAIL_LEN + 1] = "";
    hb_err err = ok ? adjust_decide_prepare(c, r->caller.actor, why, sizeof why) : HB_ERR_OK;
    if (ok && err != HB_ERR_OK) {
        request_error(r, err, why);
        ok = false;
    }
    if (ok && handler_submit_now(r, &c->base, false) == HB_ERR_OK) {
        request_json(r, 200, adjust_json(&c->adj));
    }
    free(c);
}

void h_adjustment_approve(request *r)
{
    decide(r, true);
}

void h_adjustment_reject(request *r)
{
    decide(r, false);
}

/* GET /v1/adjustments/{id} */
void h_adjustment_get(request *r)
{
    int64_t id = 0;
    if (!handler_require_admin(r) || !adjustment_path_id(r, &id)) return;
    store *s = request_reader(r);
    if (s == NULL) return;
    adjustment a;
    hb_err err = store_adjustment_get(s, id, &a);
    request_reader_done(r, s);
    if (err != HB_ERR_OK) {
        request_error(r, err, err == HB_ERR_NOT_FOUND ? "no such adjustment" : "the store failed");
        return;
    }
    request_json(r, 200, adjust_json(&a));
}

/* GET /v1/adjustments?status=proposed|approved|rejected&limit=&cursor= (newest first) */
void h_adjustment_list(request *r)
{
    if (!handler_require_admin(r)) return;
    int64_t limit = 0, before = 0;
    if (!handler_page_params(r, ID_ADJUSTMENT, &limit, &before)) return;
    const char *status = NULL;
    if (!handler_query_value(r, "status", &status)) return;
    adjustment_status st = (adjustment_status)0;
    if (status != NULL && (st = adjust_status_parse(status)) == 0) {
        request_error(r, HB_ERR_INVALID_ARGUMENT, "status must be proposed, approved or rejected");
        return;
    }
    store *s = request_reader(r);
    if (s == NULL) return;
    adjustment *page = calloc((size_t)limit + 1, sizeof *page);
    ASSERT(page != NULL);
    int count = 0;
    hb_err err = store_adjustment_list(s, (int)st, before, (int)limit + 1, page, &count);
    request_reader_done(r, s);
    if (err != HB_ERR_OK) {
        free(page);
        request_error(r, HB_ERR_UNAVAILABLE, "the store failed while listing");
        return;
    }
    json_t *data = json_array();
    for (int i = 0; i < count && i < limit; i++) json_array_append_new(data, adjust_json(&page[i]));
    json_t *reply = json_pack("{s:o}", "data", data);
    if (count > limit) {
        char next[IDS_TEXT_MAX];
        ids_format(ID_ADJUSTMENT, page[limit - 1].id, next, sizeof next);
        json_object_set_new(reply, "next_cursor", json_string(next));
    } else {
        json_object_set_new(reply, "next_cursor", json_null());
    }
    free(page);
    request_json(r, 200, reply);
}
