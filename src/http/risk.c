/* Risk routes: cases to resolve and the lists (admins; support reads). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "http/http_internal.h"
#include "service/auditlog.h"
#include "service/reconcile.h"

static bool may_read(request *r)
{
    if (r->caller.role == ROLE_ADMIN || r->caller.role == ROLE_SUPPORT) return true;
    request_error(r, HB_ERR_FORBIDDEN, "risk cases and lists are for operators");
    return false;
}

static json_t *case_json(const risk_case *c)
{
    char id[IDS_TEXT_MAX], acct[IDS_TEXT_MAX];
    ids_format(ID_CASE, c->id, id, sizeof id);
    ids_format(ID_ACCOUNT, c->account_id, acct, sizeof acct);
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I}", "id", id, "account", acct,
                          "rule", c->rule, "decision", c->decision, "reason", c->reason,
                          "status", c->status == 0 ? "open" : "resolved", "events",
                          (json_int_t)c->events, "first_at", (json_int_t)c->first_at_ms,
                          "last_at", (json_int_t)c->last_at_ms);
    json_object_set_new(o, "object", c->object[0] ? json_string(c->object) : json_null());
    if (c->status != 0) {
        json_object_set_new(o, "resolution", json_string(c->resolution));
        json_object_set_new(o, "resolved_by", json_string(c->resolved_by));
        json_object_set_new(o, "resolved_at", json_integer(c->resolved_at_ms));
    }
    return o;
}

/* GET /v1/risk/cases?status=open|resolved&account=&rule=&limit=&cursor= */
void h_case_list(request *r)
{
    if (!may_read(r)) return;
    int64_t limit = 0, before = 0, account_id = 0;
    if (!handler_page_params(r, ID_CASE, &limit, &before)) return;
    const char *status = NULL, *account_text = NULL, *rule = NULL;
    if (!handler_query_value(r, "status", &status) || !handler_query_value(r, "account", &account_text) ||
        !handler_query_value(r, "rule", &rule)) {
        return;
    }
    int st = -1;
    if (status != NULL) {
        st = strcmp(status, "open") == 0 ? 0 : strcmp(status, "resolved") == 0 ? 1 : -2;
        if (st == -2) {
            request_error(r, HB_ERR_INVALID_ARGUMENT, "status must be open or resolved");
            return;
        }
    }
    if (account_text != NULL && !request_account_id(r, account_text, &account_id)) return;
    if (rule != NULL && strlen(rule) > 31) {
        request_error(r, HB_ERR_INVALID_ARGUMENT, "unknown rule");
        return;
    }
    store *s = request_reader(r);
    if (s == NULL) return;
    risk_case *page = calloc((size_t)limit + 1, sizeof *page);
    ASSERT(page != NULL);
    int count = 0;
    hb_err err = store_case_list(s, st, account_id, rule ? rule : "", before, (int)limit + 1, page,
                                 &count);
    request_reader_done(r, s);
    if (err != HB_ERR_OK) {
        free(page);
        request_error(r, HB_ERR_UNAVAILABLE, "the store failed while listing");
        return;
    }
    json_t *data = json_array();
    for (int i = 0; i < count && i < limit; i++) json_array_append_new(data, case_json(&page[i]));
    json_t *reply = json_pack("{s:o}", "data", data);
    if (count > limit) {
        char next[IDS_TEXT_MAX];
        ids_format(ID_CASE, page[limit - 1].id, next, sizeof next);
        json_object_set_new(reply, "next_cursor", json_string(next));
    } else {
        json_object_set_new(reply, "next_cursor", json_null());
    }
    free(page);
    request_json(r, 200, reply);
}

static bool case_path_id(request *r, int64_t *id)
{
    if (strncmp(r->segments[3], "case_", 5) != 0 || ids_parse(ID_CASE, r->segments[3], id) != HB_ERR_OK) {
        request_error(r, HB_ERR_NOT_FOUND, "no such case");
        return false;
    }
    return true;
}

void h_case_get(request *r)
{
    int64_t id = 0;
    if (!may_read(r) || !case_path_id(r, &id)) return;
    store *s = request_reader(r);
    if (s == NULL) return;
    risk_case c;
    hb_err err = store_case_get(s, id, &c);
    request_reader_done(r, s);
    if (err != HB_ERR_OK) {
        request_error(r, err, err == HB_ERR_NOT_FOUND ? "no such case" : "");
        return;
    }
    request_json(r, 200, case_json(&c));
}

/* POST /v1/risk/cases/{id}/resolve {action, note} (admin). */
void h_case_resolve(request *r)
{
    int64_t id = 0;
    if (!handler_require_admin(r) || !case_path_id(r, &id)) return;
    json_t *body = request_body_object(r);
    if (body == NULL) return;
    static const char *const fields[] = {"action", "note", NULL};
    risk_resolve_cmd *c = calloc(1, sizeof *c);
    ASSERT(c != NULL);
    bool ok = request_only_fields(r, body, fields) &&
              request_string(r, body, "action", true, sizeof c->action - 1, c->action,
                             sizeof c->action) &&
              request_string(r, body, "note", false, sizeof c->note - 1, c->note, sizeof c->note);
    json_decref(body);
    c->case_id = id;
    char why[LIMIT_ERR_DETAIL_LEN + 1] = "";
    if (ok && risk_resolve_prepare(c, r->caller.actor, why, sizeof why) != HB_ERR_OK) {
        request_error(r, HB_ERR_INVALID_ARGUMENT, why);
        ok = false;
    }
    if (ok && handler_submit_now(r, &c->base, false) == HB_ERR_OK) {
        request_json(r, 200, case_json(&c->result));
    }
    free(c);
}

static bool list_kind(request *r, risk_list_kind *out)
{
    *out = risk_list_kind_parse(r->segments[3]);
    if (*out == 0) {
        request_error(r, HB_ERR_NOT_FOUND, "the lists are accounts, devices and codes");
        return false;
    }
    return true;
}

static json_t *entry_json(const risk_list_entry *e)
{
    json_t *o = json_pack("{s:s,s:s,s:b,s:s,s:I,s:s}", "list", risk_list_kind_name(e->kind),
                          "value", e->value, "fused", e->fuse, "reason", e->reason,
                          "created_at", (json_int_t)e->created_at_ms, "created_by", e->created_by);
    json_object_set_new(o, "expires_at", e->expires_at_ms ? json_integer(e->expires_at_ms) : json_null());
    return o;
}

/* GET /v1/risk/lists/{accounts|devices|codes}?after=&limit=: live entries in value order. */
void h_list_get(request *r)
{
    risk_list_kind kind;
    if (!may_read(r) || !list_kind(r, &kind)) return;
    int64_t limit = 0;
    const char *after = NULL;
    if (!handler_query_integer(r, "limit", 1, 100, LIMIT_PAGE_DEFAULT, &limit) ||
        !handler_query_value(r, "after", &after)) {
        return;
    }
    if (after != NULL && strlen(after) > LIMIT_DEVICE_LEN) {
        request_error(r, HB_ERR_INVALID_ARGUMENT, "after is a value of the list");
        return;
    }
    store *s = request_reader(r);
    if (s == NULL) return;
    risk_list_entry *page = calloc((size_t)limit + 1, sizeof *page);
    ASSERT(page != NULL);
    int count = 0;
    hb_err err = store_list_page(s, kind, after ? after : "", clock_now_ms(r->server->clock),
                                 (int)limit + 1, page, &count);
    request_reader_done(r, s);
    if (err != HB_ERR_OK) {
        free(page);
        request_error(r, HB_ERR_UNAVAILABLE, "the store failed while listing");
        return;
    }
    json_t *data = json_array();
    for (int i = 0; i < count && i < limit; i++) json_array_append_new(data, entry_json(&page[i]));
    json_t *reply = json_pack("{s:o}", "data", data);
    json_object_set_new(reply, "next_after", count > limit ? json_string(page[limit - 1].value) : json_null());
    free(page);
    request_json(r, 200, reply);
}

static void change_list(request *r, bool remove)
{
    risk_list_kind kind;
    if (!handler_require_admin(r) || !list_kind(r, &kind)) return;
    json_t *body = request_body_object(r);
    if (body == NULL) return;
    static const char *const add_fields[] = {"value", "reason", "expires_in", NULL};
    static const char *const remove_fields[] = {"value", NULL};
    risk_list_cmd *c = calloc(1, sizeof *c);
    ASSERT(c != NULL);
    c->remove = remove;
    c->entry.kind = kind;
    int64_t expires_in = 0;
    bool ok = request_only_fields(r, body, remove ? remove_fields : add_fields) &&
              request_string(r, body, "value", true, LIMIT_DEVICE_LEN, c->entry.value,
                             sizeof c->entry.value) &&
              (remove || (request_string(r, body, "reason", false, LIMIT_ERR_DETAIL_LEN,
                                         c->entry.reason, sizeof c->entry.reason) &&
                          request_integer(r, body, "expires_in", false, 1, 10LL * 365 * 86400,
                                          &expires_in)));
    json_decref(body);
    c->entry.expires_at_ms = expires_in > 0 ? clock_now_ms(r->server->clock) + expires_in * 1000 : 0;
    char why[LIMIT_ERR_DETAIL_LEN + 1] = "";
    if (ok && risk_list_prepare(c, r->caller.actor, why, sizeof why) != HB_ERR_OK) {
        request_error(r, HB_ERR_INVALID_ARGUMENT, why);
        ok = false;
    }
    if (ok && handler_submit_now(r, &c->base, false) == HB_ERR_OK) {
        request_json(r, remove ? 200 : 201,
                     remove ? json_pack("{s:s,s:s,s:b}", "list", risk_list_kind_name(kind),
                                        "value", c->entry.value, "removed", 1)
                            : entry_json(&c->entry));
    }
    free(c);
}

/* POST /v1/risk/lists/{list} {value, reason, expires_in}: add or replace an entry. */
void h_list_add(request *r)
{
    change_list(r, false);
}

/* POST /v1/risk/lists/{list}/remove {value} */
void h_list_remove(request *r)
{
    change_list(r, true);
}

/* GET /v1/reports/large-transactions?from=YYYY-MM-DD&to=YYYY-MM-DD&after=&limit=: large
 * transactions of those business days, oldest first, personal data masked. */
void h_large_report(request *r)
{
    if (!may_read(r)) return;
    const char *from = NULL, *to = NULL;
    int64_t limit = 0, after = 0, from_day = 0, to_day = 0;
    if (!handler_query_value(r, "from", &from) || !handler_query_value(r, "to", &to) ||
        !handler_query_integer(r, "limit", 1, 1000, 100, &limit) ||
        !handler_query_integer(r, "after", 0, INT64_MAX / 2, 0, &after)) {
        return;
    }
    if (from == NULL || to == NULL || clock_day_parse(from, &from_day) != 0 ||
        clock_day_parse(to, &to_day) != 0 || to_day < from_day || to_day - from_day > 366) {
        request_error(r, HB_ERR_INVALID_ARGUMENT,
                      "from and to must be dates YYYY-MM-DD, from <= to, at most a year apart");
        return;
    }
    store *s = request_reader(r);
    if (s == NULL) return;
    large_report *page = calloc((size_t)limit + 1, sizeof *page);
    ASSERT(page != NULL);
    int count = 0;
    hb_err err = store_large_list(s, from_day, to_day, after, (int)limit + 1, page, &count);
    json_t *data = json_array();
    for (int i = 0; err == HB_ERR_OK && i < count && i < limit; i++) {
        json_array_append_new(data, risk_large_json(s, r->server->keys, &page[i]));
    }
    request_reader_done(r, s);
    if (err != HB_ERR_OK) {
        free(page);
        json_decref(data);
        request_error(r, HB_ERR_UNAVAILABLE, "the store failed while listing");
        return;
    }
    json_t *reply = json_pack("{s:o}", "data", data);
    json_object_set_new(reply, "next_after", count > limit ? json_integer(page[limit - 1].id) : json_null());
    free(page);
    request_json(r, 200, reply);
}

/* GET /v1/audit/verify?from=SEQ (admin): every audit chain and checkpoint recomputed. */
void h_audit_verify(request *r)
{
    if (!handler_require_admin(r)) return;
    int64_t from = 1;
    if (!handler_query_integer(r, "from", 1, INT64_MAX / 2, 1, &from)) return;
    store *s = request_reader(r);
    if (s == NULL) return;
    audit_report report;
    const http_server *srv = r->server;
    hb_err err = auditlog_verify(s, srv->has_audit_key ? srv->audit_public_key : NULL, from, NULL,
                                 NULL, &report);
    request_reader_done(r, s);
    if (err != HB_ERR_OK) {
        request_error(r, HB_ERR_UNAVAILABLE, "the store failed while verifying");
        return;
    }
    request_json(r, 200, auditlog_report_json(&report));
}

/* POST /v1/reports/reconcile?currency=&from=&to= (admin, text/csv): the custody bank's
 * statement matched with the ledger; 200 with ok false on any difference. */
void h_reconcile(request *r)
{
    if (!handler_require_admin(r)) return;
    const char *cur_text = NULL, *from = NULL, *to = NULL;
    if (!handler_query_value(r, "currency", &cur_text) || !handler_query_value(r, "from", &from) ||
        !handler_query_value(r, "to", &to)) {
        return;
    }
    currency cur = cur_text == NULL ? CURRENCY_CNY : currency_parse(cur_text, strlen(cur_text));
    int64_t from_day = 0, to_day = 0;
    if (cur == CURRENCY_NONE || (from == NULL) != (to == NULL) ||
        (from != NULL && (clock_day_parse(from, &from_day) != 0 ||
                          clock_day_parse(to, &to_day) != 0 || to_day < from_day))) {
        request_error(r, HB_ERR_INVALID_ARGUMENT,
                      "currency must be CNY or HKD; from and to dates YYYY-MM-DD, both or neither");
        return;
    }
    recon_line *lines = NULL;
    int count = 0;
    char why[LIMIT_ERR_DETAIL_LEN + 1] = "";
    hb_err err = reconcile_parse(r->body ? r->body : "", r->body_len, &lines, &count, why, sizeof why);
    if (err != HB_ERR_OK) {
        request_error(r, err, why);
        return;
    }
    store *s = request_reader(r);
    if (s == NULL) {
        free(lines);
        return;
    }
    recon_report report;
    err = reconcile_run(s, cur, lines, count, from_day, to_day, &report);
    request_reader_done(r, s);
    free(lines);
    if (err != HB_ERR_OK) {
        request_error(r, HB_ERR_UNAVAILABLE, "the store failed while reconciling");
        return;
    }
    request_json(r, 200, reconcile_json(&report));
    reconcile_free(&report);
}

/* GET /v1/reports/daily?date=YYYY-MM-DD (admin, support): a business day's flows. */
void h_daily_report(request *r)
{
    if (!may_read(r)) return;
    const char *date = NULL;
    int64_t day = 0;
    if (!handler_query_value(r, "date", &date)) return;
    if (date == NULL || clock_day_parse(date, &day) != 0) {
        request_error(r, HB_ERR_INVALID_ARGUMENT, "date must be YYYY-MM-DD");
        return;
    }
    store *s = request_reader(r);
    if (s == NULL) return;
    daily_report report;
    hb_err err = reconcile_daily(s, day, &report);
    request_reader_done(r, s);
    if (err != HB_ERR_OK) {
        request_error(r, HB_ERR_UNAVAILABLE, "the store failed while reading the day");
        return;
    }
    request_json(r, 200, reconcile_daily_json(&report));
}

/* POST /v1/risk/lists/{list}/import (text/csv): value,reason,expires_at lines; all or none. */
void h_list_import(request *r)
{
    risk_list_kind kind;
    if (!handler_require_admin(r) || !list_kind(r, &kind)) return;
    risk_import_cmd *c = calloc(1, sizeof *c);
    ASSERT(c != NULL);
    char why[LIMIT_ERR_DETAIL_LEN + 1] = "";
    hb_err err = risk_import_parse(c, kind, r->body ? r->body : "", r->body_len,
                                   clock_now_ms(r->server->clock), r->caller.actor, why, sizeof why);
    if (err != HB_ERR_OK) {
        request_error(r, err, why);
    } else if (handler_submit_now(r, &c->base, false) == HB_ERR_OK) {
        request_json(r, 200, json_pack("{s:s,s:i}", "list", risk_list_kind_name(kind), "imported",
                                       c->count));
    }
    free(c);
}

/* GET /v1/risk/lists/{list}/export: the live entries as CSV, for sharing with partners. */
void h_list_export(request *r)
{
    risk_list_kind kind;
    if (!may_read(r) || !list_kind(r, &kind)) return;
    store *s = request_reader(r);
    if (s == NULL) return;
    handler_buffer out = {0};
    hb_err err = risk_list_csv(s, kind, clock_now_ms(r->server->clock), handler_buffer_append, &out);
    request_reader_done(r, s);
    handler_respond_text(r, &out, err, "cannot write the list");
}
