/* The store's payments, refunds, settlement batches and webhooks (store.h). */
#include <stdio.h>

#include "core/money.h"
#include "store/store_internal.h"

/* ---- payments --------------------------------------------------------------------------- */

static void payment_assert_valid(const payment *p)
{
    ASSERT(p->id > 0 && p->code_id > 0 && p->payer_id > 0 && p->owner_id > 0);
    ASSERT(p->code_kind == CODE_STATIC || p->code_kind == CODE_DYNAMIC);
    ASSERT(currency_valid(p->currency));
    ASSERT(p->amount > 0 && p->amount <= LIMIT_AMOUNT_MAX_FEN);
    ASSERT(p->fee >= 0 && p->fee <= p->amount);
    ASSERT(p->refunded >= 0 && p->refunded <= p->amount);
    ASSERT(p->refunded_fee >= 0 && p->refunded_fee <= p->fee);
}

hb_err store_payment_insert(store *s, const payment *p)
{
    payment_assert_valid(p);
    void *st = stmt(s, STMT_PAYMENT_INSERT);
    const driver_ops *d = s->driver;
    const int64_t ints[] = {p->id,       p->code_id,  p->code_kind, p->payer_id,
                            p->owner_id, p->credit_id};
    for (int i = 0; i < 6; i++) d->bind_i64(st, i + 1, ints[i]);
    bind_str(s, st, 7, currency_code(p->currency));
    const int64_t more[] = {p->amount,       p->fee,           p->fee_rate_bp,   p->refunded,
                            p->refunded_fee, p->settles,       p->business_day,  p->settlement_id,
                            p->transfer_id,  p->fee_transfer_id};
    for (int i = 0; i < 10; i++) d->bind_i64(st, i + 8, more[i]);
    bind_str(s, st, 18, p->device);
    bind_str(s, st, 19, p->region);
    bind_str(s, st, 20, p->order_no);
    d->bind_i64(st, 21, p->created_at_ms);
    d->bind_i64(st, 22, p->refunded_at_ms);
    d->bind_i64(st, 23, p->settled_refunded);
    d->bind_i64(st, 24, p->settled_refunded_fee);
    bind_audit_tag(s, st, 25);
    return run_write(s, st, 1);
}

static void payment_row(store *s, void *st, void *item)
{
    payment *out = item;
    const driver_ops *d = s->driver;
    memset(out, 0, sizeof *out);
    out->id = d->column_i64(st, 0);
    out->code_id = d->column_i64(st, 1);
    out->code_kind = (code_kind)d->column_i64(st, 2);
    out->payer_id = d->column_i64(st, 3);
    out->owner_id = d->column_i64(st, 4);
    out->credit_id = d->column_i64(st, 5);
    out->currency = column_currency(s, st, 6);
    out->amount = d->column_i64(st, 7);
    out->fee = d->column_i64(st, 8);
    out->fee_rate_bp = d->column_i64(st, 9);
    out->refunded = d->column_i64(st, 10);
    out->refunded_fee = d->column_i64(st, 11);
    out->settles = d->column_i64(st, 12) != 0;
    out->business_day = d->column_i64(st, 13);
    out->settlement_id = d->column_i64(st, 14);
    out->transfer_id = d->column_i64(st, 15);
    out->fee_transfer_id = d->column_i64(st, 16);
    column_copy(s, st, 17, out->device, sizeof out->device);
    column_copy(s, st, 18, out->region, sizeof out->region);
    column_copy(s, st, 19, out->order_no, sizeof out->order_no);
    out->created_at_ms = d->column_i64(st, 20);
    out->refunded_at_ms = d->column_i64(st, 21);
    out->settled_refunded = d->column_i64(st, 22);
    out->settled_refunded_fee = d->column_i64(st, 23);
    payment_assert_valid(out);
}

hb_err store_payment_get(store *s, int64_t id, payment *out)
{
    void *st = stmt(s, STMT_PAYMENT_GET);
    s->driver->bind_i64(st, 1, id);
    return select_one(s, st, out, payment_row);
}

hb_err store_payment_refunded(store *s, int64_t id, int64_t expect_refunded, int64_t amount,
                              int64_t fee, int64_t now_ms)
{
    ASSERT(amount > 0 && fee >= 0 && fee <= amount);
    void *st = stmt(s, STMT_PAYMENT_REFUNDED);
    const driver_ops *d = s->driver;
    d->bind_i64(st, 1, id);
    d->bind_i64(st, 2, expect_refunded);
    d->bind_i64(st, 3, amount);
    d->bind_i64(st, 4, fee);
    d->bind_i64(st, 5, now_ms);
    return run_write(s, st, 1);
}

hb_err store_static_day_get(store *s, int64_t payer_id, int64_t day, int64_t *out)
{
    void *st = stmt(s, STMT_STATIC_DAY_GET);
    s->driver->bind_i64(st, 1, payer_id);
    s->driver->bind_i64(st, 2, day);
    int64_t *const cols[] = {out};
    hb_err err = select_row_i64(s, st, cols, 1);
    if (err == HB_ERR_NOT_FOUND) *out = 0;
    return err == HB_ERR_NOT_FOUND ? HB_ERR_OK : err;
}

hb_err store_static_day_add(store *s, int64_t payer_id, int64_t day, int64_t amount)
{
    void *st = stmt(s, STMT_STATIC_DAY_ADD);
    s->driver->bind_i64(st, 1, payer_id);
    s->driver->bind_i64(st, 2, day);
    s->driver->bind_i64(st, 3, amount);
    return run_write(s, st, 1);
}

hb_err store_payment_list(store *s, const payment_filter *f, int64_t before_id, int limit,
                          payment *out, int *count)
{
    const driver_ops *d = s->driver;
    void *st = NULL;
    if (f->settlement_id != 0) {
        st = stmt(s, STMT_PAYMENT_LIST_SETTLEMENT);
        d->bind_i64(st, 1, f->settlement_id);
        d->bind_i64(st, 2, before_id);
        d->bind_i64(st, 3, limit);
    } else {
        st = stmt(s, STMT_PAYMENT_LIST);
        d->bind_i64(st, 1, f->party_id);
        d->bind_i64(st, 2, f->code_id);
        d->bind_i64(st, 3, f->from_ms);
        d->bind_i64(st, 4, f->to_ms);
        d->bind_i64(st, 5, before_id);
        d->bind_i64(st, 6, limit);
    }
    return list_rows(s, st, limit, out, sizeof *out, payment_row, count);
}

hb_err store_refund_insert(store *s, const refund *r)
{
    ASSERT(r->id > 0 && r->payment_id > 0 && r->amount > 0 && r->fee >= 0 && r->fee <= r->amount);
    void *st = stmt(s, STMT_REFUND_INSERT);
    const int64_t ints[] = {r->id,          r->payment_id,      r->amount,       r->fee,
                            r->source_id,   r->transfer_id,     r->fee_transfer_id,
                            r->created_at_ms};
    for (int i = 0; i < 8; i++) s->driver->bind_i64(st, i + 1, ints[i]);
    bind_audit_tag(s, st, 9);
    return run_write(s, st, 1);
}

static void refund_row(store *s, void *st, void *item)
{
    refund *out = item;
    const driver_ops *d = s->driver;
    memset(out, 0, sizeof *out);
    out->id = d->column_i64(st, 0);
    out->payment_id = d->column_i64(st, 1);
    out->amount = d->column_i64(st, 2);
    out->fee = d->column_i64(st, 3);
    out->source_id = d->column_i64(st, 4);
    out->transfer_id = d->column_i64(st, 5);
    out->fee_transfer_id = d->column_i64(st, 6);
    out->created_at_ms = d->column_i64(st, 7);
    ASSERT(out->id > 0 && out->amount > 0 && out->fee >= 0 && out->fee <= out->amount);
}

hb_err store_refund_get(store *s, int64_t id, refund *out)
{
    void *st = stmt(s, STMT_REFUND_GET);
    s->driver->bind_i64(st, 1, id);
    return select_one(s, st, out, refund_row);
}

hb_err store_refund_list(store *s, int64_t payment_id, int limit, refund *out, int *count)
{
    void *st = stmt(s, STMT_REFUND_LIST);
    s->driver->bind_i64(st, 1, payment_id);
    s->driver->bind_i64(st, 2, limit);
    return list_rows(s, st, limit, out, sizeof *out, refund_row, count);
}

/* ---- settlement ------------------------------------------------------------------------- */

static void due_row(store *s, void *st, void *item)
{
    settlement *out = item;
    const driver_ops *d = s->driver;
    memset(out, 0, sizeof *out);
    out->merchant_id = d->column_i64(st, 0);
    out->currency = column_currency(s, st, 1);
    out->gross = d->column_i64(st, 2);
    out->fees = d->column_i64(st, 3);
    out->refunds = d->column_i64(st, 4);
    out->net = d->column_i64(st, 5);
    out->count = d->column_i64(st, 6);
    out->pending_id = d->column_i64(st, 7);
    ASSERT(out->merchant_id > 0 && out->count > 0 && out->net >= 0);
}

hb_err store_settle_due(store *s, int64_t day, int64_t after_merchant, int limit,
                        settlement *out, int *count)
{
    void *st = stmt(s, STMT_SETTLE_DUE);
    s->driver->bind_i64(st, 1, day);
    s->driver->bind_i64(st, 2, after_merchant);
    s->driver->bind_i64(st, 3, limit);
    hb_err err = list_rows(s, st, limit, out, sizeof *out, due_row, count);
    for (int i = 0; err == HB_ERR_OK && i < *count; i++) out[i].day = day;
    return err;
}

hb_err store_settlement_insert(store *s, const settlement *b)
{
    ASSERT(b->id > 0 && b->merchant_id > 0 && b->pending_id > 0 && b->count > 0 && b->net >= 0);
    void *st = stmt(s, STMT_SETTLEMENT_INSERT);
    const driver_ops *d = s->driver;
    d->bind_i64(st, 1, b->id);
    d->bind_i64(st, 2, b->merchant_id);
    d->bind_i64(st, 3, b->day);
    bind_str(s, st, 4, currency_code(b->currency));
    const int64_t ints[] = {b->gross, b->fees, b->refunds, b->net, b->count, b->transfer_id,
                            b->created_at_ms};
    for (int i = 0; i < 7; i++) d->bind_i64(st, i + 5, ints[i]);
    bind_audit_tag(s, st, 12);
    hb_err err = run_write(s, st, 1);
    if (err != HB_ERR_OK) return err;
    st = stmt(s, STMT_SETTLEMENT_STAMP);
    d->bind_i64(st, 1, b->pending_id);
    d->bind_i64(st, 2, b->day);
    d->bind_i64(st, 3, b->id);
    return run_write(s, st, b->count);
}

static void settlement_row(store *s, void *st, void *item)
{
    settlement *out = item;
    const driver_ops *d = s->driver;
    memset(out, 0, sizeof *out);
    out->id = d->column_i64(st, 0);
    out->merchant_id = d->column_i64(st, 1);
    out->day = d->column_i64(st, 2);
    out->currency = column_currency(s, st, 3);
    out->gross = d->column_i64(st, 4);
    out->fees = d->column_i64(st, 5);
    out->refunds = d->column_i64(st, 6);
    out->net = d->column_i64(st, 7);
    out->count = d->column_i64(st, 8);
    out->transfer_id = d->column_i64(st, 9);
    out->created_at_ms = d->column_i64(st, 10);
    ASSERT(out->id > 0 && out->count > 0 && out->net >= 0);
}

hb_err store_settlement_get(store *s, int64_t id, settlement *out)
{
    void *st = stmt(s, STMT_SETTLEMENT_GET);
    s->driver->bind_i64(st, 1, id);
    return select_one(s, st, out, settlement_row);
}

hb_err store_settlement_list(store *s, int64_t merchant_id, int64_t day, int64_t before_id,
                             int limit, settlement *out, int *count)
{
    void *st = stmt(s, STMT_SETTLEMENT_LIST);
    s->driver->bind_i64(st, 1, merchant_id);
    s->driver->bind_i64(st, 2, day);
    s->driver->bind_i64(st, 3, before_id);
    s->driver->bind_i64(st, 4, limit);
    return list_rows(s, st, limit, out, sizeof *out, settlement_row, count);
}

/* ---- webhooks ----------------------------------------------------------------------------- */

hb_err store_webhook_insert(store *s, const webhook *w)
{
    ASSERT(w->id > 0 && w->owner_id > 0 && w->secret_box_len <= LIMIT_BOX_LEN);
    void *st = stmt(s, STMT_WEBHOOK_INSERT);
    const driver_ops *d = s->driver;
    d->bind_i64(st, 1, w->id);
    d->bind_i64(st, 2, w->owner_id);
    bind_str(s, st, 3, w->url);
    d->bind_i64(st, 4, w->events);
    d->bind_blob(st, 5, w->secret_box, w->secret_box_len);
    d->bind_i64(st, 6, w->status);
    d->bind_i64(st, 7, w->created_at_ms);
    d->bind_i64(st, 8, w->rotated_at_ms);
    return run_write(s, st, 1);
}

static void webhook_row(store *s, void *st, void *item)
{
    webhook *out = item;
    const driver_ops *d = s->driver;
    memset(out, 0, sizeof *out);
    out->id = d->column_i64(st, 0);
    out->owner_id = d->column_i64(st, 1);
    column_copy(s, st, 2, out->url, sizeof out->url);
    out->events = (uint32_t)d->column_i64(st, 3);
    size_t len = 0;
    const void *box = d->column_blob(st, 4, &len);
    ASSERT(len <= LIMIT_BOX_LEN);
    if (len > 0) memcpy(out->secret_box, box, len);
    out->secret_box_len = len;
    out->status = (int)d->column_i64(st, 5);
    out->created_at_ms = d->column_i64(st, 6);
    out->rotated_at_ms = d->column_i64(st, 7);
    ASSERT(out->id > 0 && (out->events & ~(uint32_t)WEBHOOK_EVENTS_ALL) == 0);
}

hb_err store_webhook_get(store *s, int64_t id, webhook *out)
{
    void *st = stmt(s, STMT_WEBHOOK_GET);
    s->driver->bind_i64(st, 1, id);
    return select_one(s, st, out, webhook_row);
}

hb_err store_webhook_update(store *s, const webhook *w)
{
    void *st = stmt(s, STMT_WEBHOOK_UPDATE);
    const driver_ops *d = s->driver;
    d->bind_i64(st, 1, w->id);
    d->bind_blob(st, 2, w->secret_box, w->secret_box_len);
    d->bind_i64(st, 3, w->status);
    d->bind_i64(st, 4, w->rotated_at_ms);
    return run_write(s, st, 1);
}

hb_err store_webhook_set_secret(store *s, const webhook *w)
{
    void *st = stmt(s, STMT_WEBHOOK_SET_SECRET);
    s->driver->bind_i64(st, 1, w->id);
    s->driver->bind_blob(st, 2, w->secret_box, w->secret_box_len);
    return run_write(s, st, 1);
}

hb_err store_webhook_page(store *s, int64_t after_id, int limit, webhook *out, int *count)
{
    ASSERT(limit > 0 && limit <= LIMIT_PAGE_MAX);
    void *st = stmt(s, STMT_WEBHOOK_PAGE);
    s->driver->bind_i64(st, 1, after_id);
    s->driver->bind_i64(st, 2, limit);
    return list_rows(s, st, limit, out, sizeof *out, webhook_row, count);
}

hb_err store_webhook_list(store *s, int64_t owner_id, int64_t after_id, int limit, webhook *out,
                          int *count)
{
    void *st = stmt(s, STMT_WEBHOOK_LIST);
    s->driver->bind_i64(st, 1, owner_id);
    s->driver->bind_i64(st, 2, after_id);
    s->driver->bind_i64(st, 3, limit);
    return list_rows(s, st, limit, out, sizeof *out, webhook_row, count);
}

static const char *const delivery_status_names[DELIVERY_STATUS_COUNT] = {"pending", "delivered",
                                                                         "failed"};

const char *delivery_status_name(delivery_status st)
{
    return (unsigned)st < DELIVERY_STATUS_COUNT ? delivery_status_names[st] : "";
}

hb_err store_delivery_insert(store *s, const delivery *x)
{
    ASSERT(x->id > 0 && x->webhook_id > 0 && (unsigned)x->status < DELIVERY_STATUS_COUNT);
    void *st = stmt(s, STMT_DELIVERY_INSERT);
    const driver_ops *d = s->driver;
    d->bind_i64(st, 1, x->id);
    d->bind_i64(st, 2, x->webhook_id);
    bind_str(s, st, 3, x->event_type);
    bind_str(s, st, 4, x->object);
    bind_str(s, st, 5, x->body);
    d->bind_i64(st, 6, x->status);
    d->bind_i64(st, 7, x->attempts);
    d->bind_i64(st, 8, x->next_at_ms);
    d->bind_i64(st, 9, x->window_start_ms);
    d->bind_i64(st, 10, x->last_code);
    bind_str(s, st, 11, x->last_error);
    d->bind_i64(st, 12, x->created_at_ms);
    d->bind_i64(st, 13, x->delivered_at_ms);
    return run_write(s, st, 1);
}

static void delivery_row(store *s, void *st, void *item)
{
    delivery *out = item;
    const driver_ops *d = s->driver;
    memset(out, 0, sizeof *out);
    out->id = d->column_i64(st, 0);
    out->webhook_id = d->column_i64(st, 1);
    column_copy(s, st, 2, out->event_type, sizeof out->event_type);
    column_copy(s, st, 3, out->object, sizeof out->object);
    column_copy(s, st, 4, out->body, sizeof out->body);
    out->status = (delivery_status)d->column_i64(st, 5);
    out->attempts = d->column_i64(st, 6);
    out->next_at_ms = d->column_i64(st, 7);
    out->window_start_ms = d->column_i64(st, 8);
    out->last_code = d->column_i64(st, 9);
    column_copy(s, st, 10, out->last_error, sizeof out->last_error);
    out->created_at_ms = d->column_i64(st, 11);
    out->delivered_at_ms = d->column_i64(st, 12);
    ASSERT(out->id > 0 && (unsigned)out->status < DELIVERY_STATUS_COUNT);
}

hb_err store_delivery_get(store *s, int64_t id, delivery *out)
{
    void *st = stmt(s, STMT_DELIVERY_GET);
    s->driver->bind_i64(st, 1, id);
    return select_one(s, st, out, delivery_row);
}

hb_err store_delivery_update(store *s, const delivery *x)
{
    void *st = stmt(s, STMT_DELIVERY_UPDATE);
    const driver_ops *d = s->driver;
    d->bind_i64(st, 1, x->id);
    d->bind_i64(st, 2, x->status);
    d->bind_i64(st, 3, x->attempts);
    d->bind_i64(st, 4, x->next_at_ms);
    d->bind_i64(st, 5, x->window_start_ms);
    d->bind_i64(st, 6, x->last_code);
    bind_str(s, st, 7, x->last_error);
    d->bind_i64(st, 8, x->delivered_at_ms);
    return run_write(s, st, 1);
}

hb_err store_delivery_due(store *s, int64_t now_ms, int limit, delivery *out, int *count)
{
    void *st = stmt(s, STMT_DELIVERY_DUE);
    s->driver->bind_i64(st, 1, now_ms);
    s->driver->bind_i64(st, 2, limit);
    return list_rows(s, st, limit, out, sizeof *out, delivery_row, count);
}

hb_err store_delivery_list(store *s, int64_t webhook_id, int64_t before_id, int limit,
                           delivery *out, int *count)
{
    void *st = stmt(s, STMT_DELIVERY_LIST);
    s->driver->bind_i64(st, 1, webhook_id);
    s->driver->bind_i64(st, 2, before_id);
    s->driver->bind_i64(st, 3, limit);
    return list_rows(s, st, limit, out, sizeof *out, delivery_row, count);
}

/* ---- adjustments ---------------------------------------------------------------------------- */

hb_err store_adjustment_insert(store *s, const adjustment *a)
{
    void *st = stmt(s, STMT_ADJUSTMENT_INSERT);
    const driver_ops *d = s->driver;
    d->bind_i64(st, 1, a->id);
    d->bind_i64(st, 2, a->debit_id);
    d->bind_i64(st, 3, a->credit_id);
    d->bind_i64(st, 4, a->amount);
    bind_str(s, st, 5, currency_code(a->currency));
    bind_str(s, st, 6, a->reason);
    d->bind_i64(st, 7, a->status);
    bind_str(s, st, 8, a->proposed_by);
    d->bind_i64(st, 9, a->proposed_at_ms);
    bind_str(s, st, 10, a->decided_by);
    d->bind_i64(st, 11, a->decided_at_ms);
    bind_str(s, st, 12, a->note);
    d->bind_i64(st, 13, a->transfer_id);
    return run_write(s, st, 1);
}

static void adjustment_row(store *s, void *st, void *item)
{
    adjustment *out = item;
    const driver_ops *d = s->driver;
    memset(out, 0, sizeof *out);
    out->id = d->column_i64(st, 0);
    out->debit_id = d->column_i64(st, 1);
    out->credit_id = d->column_i64(st, 2);
    out->amount = d->column_i64(st, 3);
    out->currency = column_currency(s, st, 4);
    column_copy(s, st, 5, out->reason, sizeof out->reason);
    out->status = (adjustment_status)d->column_i64(st, 6);
    column_copy(s, st, 7, out->proposed_by, sizeof out->proposed_by);
    out->proposed_at_ms = d->column_i64(st, 8);
    column_copy(s, st, 9, out->decided_by, sizeof out->decided_by);
    out->decided_at_ms = d->column_i64(st, 10);
    column_copy(s, st, 11, out->note, sizeof out->note);
    out->transfer_id = d->column_i64(st, 12);
}

hb_err store_adjustment_get(store *s, int64_t id, adjustment *out)
{
    void *st = stmt(s, STMT_ADJUSTMENT_GET);
    s->driver->bind_i64(st, 1, id);
    return select_one(s, st, out, adjustment_row);
}

hb_err store_adjustment_decide(store *s, const adjustment *a)
{
    void *st = stmt(s, STMT_ADJUSTMENT_DECIDE);
    const driver_ops *d = s->driver;
    d->bind_i64(st, 1, a->id);
    d->bind_i64(st, 2, a->status);
    bind_str(s, st, 3, a->decided_by);
    d->bind_i64(st, 4, a->decided_at_ms);
    bind_str(s, st, 5, a->note);
    d->bind_i64(st, 6, a->transfer_id);
    hb_err err = run(s, st);
    if (err == HB_ERR_OK && d->changes(s->conn) != 1) err = HB_ERR_NOT_FOUND;
    return err;
}

hb_err store_adjustment_list(store *s, int status, int64_t before_id, int limit, adjustment *out,
                             int *count)
{
    void *st = stmt(s, STMT_ADJUSTMENT_LIST);
    s->driver->bind_i64(st, 1, status);
    s->driver->bind_i64(st, 2, before_id);
    s->driver->bind_i64(st, 3, limit);
    return list_rows(s, st, limit, out, sizeof *out, adjustment_row, count);
}
