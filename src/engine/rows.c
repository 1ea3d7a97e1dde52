#include "engine/rows.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/currency.h"

static const char rows_tag[] = "hongbao-rows-v1";

hb_err rows_digest_init(rows_digest *r)
{
    memset(r, 0, sizeof *r);
    r->ctx = EVP_MD_CTX_new();
    return r->ctx != NULL ? HB_ERR_OK : HB_ERR_UNAVAILABLE;
}

void rows_digest_free(rows_digest *r)
{
    EVP_MD_CTX_free(r->ctx);
    r->ctx = NULL;
    for (int i = 0; i < ROWS_TABLES; i++) {
        free(r->table[i].data);
        memset(&r->table[i], 0, sizeof r->table[i]);
    }
}

void rows_digest_begin(rows_digest *r, const EVP_MD *md)
{
    r->md = md;
    for (int i = 0; i < ROWS_TABLES; i++) {
        r->count[i] = 0;
        r->table[i].len = 0;
    }
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

/* Room for n more bytes. */
static bool reserve(rows_buffer *b, size_t n)
{
    if (b->cap - b->len >= n) return true;
    size_t cap = b->cap > 0 ? b->cap : 1024;
    while (cap - b->len < n) {
        if (cap > SIZE_MAX / 2) return false;
        cap *= 2;
    }
    uint8_t *data = realloc(b->data, cap);
    if (data == NULL) return false;
    b->data = data;
    b->cap = cap;
    return true;
}

hb_err rows_digest_add(rows_digest *r, rows_table table, const int64_t *ints, int n_ints,
                       const char *const *texts, int n_texts)
{
    ASSERT(table < ROWS_TABLES && r->md != NULL);
    ASSERT(n_ints == rows_table_ints[table] && n_texts == rows_table_texts[table]);
    ASSERT(n_texts == 0 || texts != NULL);
    rows_buffer *b = &r->table[table];
    int n = n_ints;
    size_t need = (size_t)n * 8;
    for (int i = 0; i < n_texts; i++) need += 4 + strlen(texts[i]);
    if (!reserve(b, need)) return HB_ERR_UNAVAILABLE;
    for (int i = 0; i < n; i++) put_u64(b->data + b->len + 8 * (size_t)i, (uint64_t)ints[i]);
    b->len += (size_t)n * 8;
    for (int i = 0; i < n_texts; i++) {
        size_t len = strlen(texts[i]);
        uint8_t *p = b->data + b->len;
        p[0] = (uint8_t)(len >> 24);
        p[1] = (uint8_t)(len >> 16);
        p[2] = (uint8_t)(len >> 8);
        p[3] = (uint8_t)len;
        memcpy(p + 4, texts[i], len);
        b->len += 4 + len;
    }
    r->count[table]++;
    return HB_ERR_OK;
}

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Each table's projection: the columns of its ROWS_*_COLUMNS, in that order. */
hb_err rows_digest_add_row(rows_digest *r, rows_table table, const void *row)
{
    switch (table) {
    case ROWS_TRANSFER: {
        const transfer *t = row;
        const int64_t ints[] = {t->id,     t->debit_id,      t->credit_id,    t->amount,
                                t->kind,   t->created_at_ms, t->prev_debit_id, t->prev_credit_id};
        const char *const texts[] = {t->idem_key, currency_code(t->currency), t->reference};
        return rows_digest_add(r, table, ints, COUNT(ints), texts, COUNT(texts));
    }
    case ROWS_ACCOUNT: {
        const account *a = row;
        const int64_t ints[] = {a->id, a->kind, a->tier, a->flags, a->created_at_ms};
        const char *const texts[] = {a->owner, currency_code(a->currency), a->region};
        return rows_digest_add(r, table, ints, COUNT(ints), texts, COUNT(texts));
    }
    case ROWS_PACKET: {
        const packet *p = row;
        const int64_t ints[] = {p->id,           p->sender_id,     p->total,
                                p->count,        p->mode,          p->fission,
                                p->seed_id,      p->allow_sender,  p->created_at_ms,
                                p->expires_at_ms, p->fund_transfer_id};
        const char *const texts[] = {currency_code(p->currency), p->wishing, p->scene};
        return rows_digest_add(r, table, ints, COUNT(ints), texts, COUNT(texts));
    }
    case ROWS_CLAIM: {
        const claim *c = row;
        const int64_t ints[] = {c->transfer_id, c->packet_id, c->seq,
                                c->claimer_id,  c->amount,    c->claimed_at_ms};
        return rows_digest_add(r, table, ints, COUNT(ints), NULL, 0);
    }
    case ROWS_PAYMENT: {
        const payment *p = row;
        const int64_t ints[] = {p->id,          p->code_id,        p->code_kind,
                                p->payer_id,    p->owner_id,       p->credit_id,
                                p->amount,      p->fee,            p->fee_rate_bp,
                                p->settles,     p->business_day,   p->transfer_id,
                                p->fee_transfer_id, p->created_at_ms};
        const char *const texts[] = {currency_code(p->currency), p->device, p->region,
                                     p->order_no};
        return rows_digest_add(r, table, ints, COUNT(ints), texts, COUNT(texts));
    }
    case ROWS_REFUND: {
        const refund *f = row;
        const int64_t ints[] = {f->id,          f->payment_id,  f->amount,
                                f->fee,         f->source_id,   f->transfer_id,
                                f->fee_transfer_id, f->created_at_ms};
        return rows_digest_add(r, table, ints, COUNT(ints), NULL, 0);
    }
    case ROWS_SETTLEMENT: {
        const settlement *b = row;
        const int64_t ints[] = {b->id,   b->merchant_id, b->day,   b->gross,       b->fees,
                                b->refunds, b->net,      b->count, b->transfer_id, b->created_at_ms};
        const char *const texts[] = {currency_code(b->currency)};
        return rows_digest_add(r, table, ints, COUNT(ints), texts, COUNT(texts));
    }
    case ROWS_TABLES:
        break;
    }
    ASSERT(false);
    return HB_ERR_UNAVAILABLE;
}

hb_err rows_digest_final(rows_digest *r, uint8_t out[32])
{
    ASSERT(r->md != NULL);
    if (EVP_DigestInit_ex(r->ctx, r->md, NULL) != 1 ||
        EVP_DigestUpdate(r->ctx, rows_tag, sizeof rows_tag - 1) != 1) {
        return HB_ERR_UNAVAILABLE;
    }
    for (int i = 0; i < ROWS_TABLES; i++) {
        if (r->count[i] == 0) continue;
        uint8_t head[17];
        head[0] = (uint8_t)i;
        put_u64(head + 1, (uint64_t)r->count[i]);
        put_u64(head + 9, (uint64_t)r->table[i].len);
        if (EVP_DigestUpdate(r->ctx, head, sizeof head) != 1 ||
            EVP_DigestUpdate(r->ctx, r->table[i].data, r->table[i].len) != 1) {
            return HB_ERR_UNAVAILABLE;
        }
    }
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(r->ctx, out, &len) != 1 || len != 32) return HB_ERR_UNAVAILABLE;
    rows_digest_begin(r, r->md);
    return HB_ERR_OK;
}
