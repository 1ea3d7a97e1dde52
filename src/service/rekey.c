#include "service/rekey.h"

#include <stdio.h>
#include <string.h>

#include "service/credentials.h"
#include "service/customer.h"
#include "service/webhook.h"

enum { REKEY_PAGE = 64, REKEY_DONE = 3 };

typedef struct rotated_cmd {
    command base;
    int version;
} rotated_cmd;

static hb_err exec_rotated(txn *t, command *cmd)
{
    rotated_cmd *c = (rotated_cmd *)cmd;
    char object[24];
    snprintf(object, sizeof object, "key:v%d", c->version);
    const int64_t ints[] = {c->version};
    if (txn_digest_row(t, "key_rotation", ints, 1, NULL, 0) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    txn_audit(t, "keys.rotate", object);
    return HB_ERR_OK;
}

hb_err rekey_record_rotation(engine *e, int version, const char *actor)
{
    rotated_cmd c;
    memset(&c, 0, sizeof c);
    snprintf(c.base.actor, sizeof c.base.actor, "%s", actor);
    c.base.exec = exec_rotated;
    c.version = version;
    return engine_submit(e, &c.base);
}

typedef struct reseal_cmd {
    command base;
    const keyring *keys;
    rekey_cursor start; /* in: where the page starts (a command may run again after a fault) */
    rekey_cursor cur;   /* out: where the next starts */
} reseal_cmd;

/* One reseal: the row's table and key for the digest of the rows the command wrote. */
static hb_err digest_reseal(txn *t, rekey_cursor *cur, int64_t id, const char *key)
{
    const int64_t ints[] = {cur->table, id};
    const char *const texts[] = {key};
    cur->resealed++;
    return txn_digest_row(t, "reseal", ints, 2, texts, 1);
}

static hb_err reseal_customers(txn *t, const keyring *keys, rekey_cursor *cur, int *changed_rows,
                               bool *last)
{
    static _Thread_local customer page[REKEY_PAGE];
    int n = 0;
    store *s = txn_store(t);
    if (store_customer_list(s, cur->after_id, REKEY_PAGE, NULL, page, &n) != HB_ERR_OK) {
        return HB_ERR_UNAVAILABLE;
    }
    *last = n < REKEY_PAGE;
    for (int i = 0; i < n; i++) {
        customer *c = &page[i];
        cur->after_id = c->id;
        bool changed = false;
        if (customer_reseal(keys, c, &changed) != HB_ERR_OK) {
            cur->unopened++;
            continue;
        }
        if (!changed) continue;
        if (store_customer_set_boxes(s, c) != HB_ERR_OK || digest_reseal(t, cur, c->id, "") != HB_ERR_OK) {
            return HB_ERR_UNAVAILABLE;
        }
        (*changed_rows)++;
    }
    return HB_ERR_OK;
}

static hb_err reseal_keys(txn *t, const keyring *keys, rekey_cursor *cur, int *changed_rows,
                          bool *last)
{
    static _Thread_local api_key page[REKEY_PAGE];
    int n = 0;
    store *s = txn_store(t);
    if (store_key_list(s, cur->after_key, REKEY_PAGE, page, &n) != HB_ERR_OK) {
        return HB_ERR_UNAVAILABLE;
    }
    *last = n < REKEY_PAGE;
    for (int i = 0; i < n; i++) {
        api_key *k = &page[i];
        size_t len = strnlen(k->key_id, sizeof cur->after_key - 1);
        memcpy(cur->after_key, k->key_id, len);
        cur->after_key[len] = '\0';
        bool changed = false;
        if (credentials_reseal(keys, k, &changed) != HB_ERR_OK) {
            cur->unopened++;
            continue;
        }
        if (!changed) continue;
        if (store_key_set_secret(s, k) != HB_ERR_OK || digest_reseal(t, cur, 0, k->key_id) != HB_ERR_OK) {
            return HB_ERR_UNAVAILABLE;
        }
        (*changed_rows)++;
    }
    return HB_ERR_OK;
}

static hb_err reseal_webhooks(txn *t, const keyring *keys, rekey_cursor *cur, int *changed_rows,
                              bool *last)
{
    static _Thread_local webhook page[REKEY_PAGE];
    int n = 0;
    store *s = txn_store(t);
    if (store_webhook_page(s, cur->after_id, REKEY_PAGE, page, &n) != HB_ERR_OK) {
        return HB_ERR_UNAVAILABLE;
    }
    *last = n < REKEY_PAGE;
    for (int i = 0; i < n; i++) {
        webhook *w = &page[i];
        cur->after_id = w->id;
        bool changed = false;
        if (webhook_reseal(keys, w, &changed) != HB_ERR_OK) {
            cur->unopened++;
            continue;
        }
        if (!changed) continue;
        if (store_webhook_set_secret(s, w) != HB_ERR_OK || digest_reseal(t, cur, w->id, "") != HB_ERR_OK) {
            return HB_ERR_UNAVAILABLE;
        }
        (*changed_rows)++;
    }
    return HB_ERR_OK;
}

static hb_err exec_reseal(txn *t, command *cmd)
{
    reseal_cmd *c = (reseal_cmd *)cmd;
    c->cur = c->start;
    rekey_cursor *cur = &c->cur;
    int changed = 0;
    bool last = true;
    hb_err err = HB_ERR_OK;
    if (cur->table == 0) err = reseal_customers(t, c->keys, cur, &changed, &last);
    if (cur->table == 1) err = reseal_keys(t, c->keys, cur, &changed, &last);
    if (cur->table == 2) err = reseal_webhooks(t, c->keys, cur, &changed, &last);
    if (err != HB_ERR_OK) return err;
    if (last && cur->table < REKEY_DONE) {
        cur->table++;
        cur->after_id = 0;
        cur->after_key[0] = '\0';
    }
    cmd->bookkeeping = changed == 0; /* nothing sealed again: no audit record */
    if (changed > 0) {
        char object[24];
        snprintf(object, sizeof object, "key:v%d", c->keys->versions);
        txn_audit(t, "keys.reseal", object);
    }
    return HB_ERR_OK;
}

hb_err rekey_step(engine *e, const keyring *keys, const char *actor, int pages,
                  rekey_cursor *cursor)
{
    for (int i = 0; i < pages && cursor->table < REKEY_DONE; i++) {
        reseal_cmd c;
        memset(&c, 0, sizeof c);
        snprintf(c.base.actor, sizeof c.base.actor, "%s", actor);
        c.base.exec = exec_reseal;
        c.keys = keys;
        c.start = *cursor;
        hb_err err = engine_submit(e, &c.base);
        if (err != HB_ERR_OK) return HB_ERR_UNAVAILABLE; /* the cursor stays: try again later */
        *cursor = c.cur;
    }
    return HB_ERR_OK;
}
