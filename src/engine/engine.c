/* The engine's queue, writer thread and batches. See engine.h for the contract. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/digest.h"
#include "engine/audit.h"
#include "engine/engine_internal.h"

/* ---- state loaded from the store --------------------------------------------------------- */

/* Read id counters and the audit chain's tail; drop cached accounts. Called inside a write
 * transaction, so no other writer can move them underneath. */
static hb_err load_state(engine *e)
{
    int64_t max_account = 0;
    int64_t max_transfer = 0;
    hb_err err = store_max_id(e->store, STORE_SEQ_ACCOUNT, &max_account);
    if (err == HB_ERR_OK) err = store_max_id(e->store, STORE_SEQ_TRANSFER, &max_transfer);
    if (err != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    audit_record last;
    err = store_audit_last(e->store, e->node, &last);
    if (err == HB_ERR_OK) {
        e->audit_seq = last.seq;
        memcpy(e->audit_hash, last.hash, 32);
    } else if (err == HB_ERR_NOT_FOUND) {
        e->audit_seq = 0;
        memset(e->audit_hash, 0, 32);
    } else {
        return HB_ERR_UNAVAILABLE;
    }
    if (store_nonce_horizon(e->store, &e->nonce_horizon_ms) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    e->next_account_id = max_account + 1;
    e->next_transfer_id = max_transfer + 1;
    ledger__cache_clear(&e->cache);
    memset(e->system_ids, 0, sizeof e->system_ids);
    if (e->preload && !e->preloaded && store_exclusive_writer(e->store)) {
        /* The writer holds balances in memory: read them all once, in one pass, rather
         * than one lookup per first touch on the hot path. */
        if (ledger__cache_preload(e) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
        e->preloaded = true;
    }
    e->state_loaded = true;
    return HB_ERR_OK;
}

/* Begin the batch's transaction, reopening the store after a fault and reloading the
 * writer's state when another connection has committed since our last batch. */
static hb_err begin_batch(engine *e)
{
    if (e->store == NULL) {
        char err_text[256];
        hb_err err = store_open(e->url, &e->store_options, &e->store, err_text, sizeof err_text);
        if (err != HB_ERR_OK) {
            fprintf(stderr, "hongbao: engine: reopening the store failed: %s\n", err_text);
            e->store = NULL;
            return HB_ERR_UNAVAILABLE;
        }
        e->state_loaded = false;
    }
    if (store_begin(e->store) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    bool reload = !e->state_loaded || !store_exclusive_writer(e->store);
    if (store_exclusive_writer(e->store)) {
        int64_t version = 0;
        if (store_data_version(e->store, &version) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
        if (version != e->data_version) reload = true;
        e->data_version = version;
    }
    if (reload) return load_state(e);
    return HB_ERR_OK;
}

/* ---- one command --------------------------------------------------------------------------- */

/* Look up the command's idempotency key. *handled is set when the command must not run:
 * a replay (HB_ERR_OK, result rebuilt) or a conflict (IDEMPOTENCY_CONFLICT). */
/* The scope an idempotency key lives in: an explicit scope, or the actor. The prefixes keep
 * the two name spaces apart. */
static void idempotency_scope(const command *cmd, char *out, size_t size)
{
    if (cmd->idem_scope[0] != '\0') {
        snprintf(out, size, "scope:%s", cmd->idem_scope);
    } else {
        snprintf(out, size, "actor:%s", cmd->actor);
    }
}

static hb_err idempotency_check(engine *e, txn *t, command *cmd, bool *handled)
{
    char scope[LIMIT_IDEM_SCOPE_LEN + 8];
    idempotency_scope(cmd, scope, sizeof scope);
    idem_record record;
    hb_err err = store_idem_get(e->store, scope, cmd->idem_key, &record);
    if (err == HB_ERR_NOT_FOUND) return HB_ERR_OK;
    if (err != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    *handled = true;
    if (memcmp(record.request_hash, cmd->request_hash, 32) != 0) {
        txn_fail_detail(t, "idempotency key %s was used with other parameters", cmd->idem_key);
        return HB_ERR_IDEMPOTENCY_CONFLICT;
    }
    ASSERT(cmd->replay != NULL);
    cmd->replayed = true;
    return cmd->replay(t, cmd, record.result, record.result_len);
}

/* Record the idempotency key and the audit record of a command that succeeded. */
static hb_err finish_command(engine *e, txn *t, command *cmd)
{
    ASSERT(t->audited || cmd->bookkeeping); /* every state change is audited */
    if (cmd->idem_key[0] != '\0') {
        idem_record record;
        memcpy(record.request_hash, cmd->request_hash, 32);
        memcpy(record.result, t->result, t->result_len + 1);
        record.result_len = t->result_len;
        char scope[LIMIT_IDEM_SCOPE_LEN + 8];
        idempotency_scope(cmd, scope, sizeof scope);
        if (store_idem_put(e->store, scope, cmd->idem_key, &record, t->now_ms) != HB_ERR_OK) {
            return HB_ERR_UNAVAILABLE;
        }
        if (ledger__digest_update(t, "idem|", 5) != HB_ERR_OK ||
            ledger__digest_update(t, cmd->idem_key, strlen(cmd->idem_key)) != HB_ERR_OK) {
            return HB_ERR_UNAVAILABLE;
        }
    }
    if (!t->audited) return HB_ERR_OK;
    audit_record r;
    memset(&r, 0, sizeof r);
    snprintf(r.node, sizeof r.node, "%s", e->node);
    r.seq = e->audit_seq + 1;
    r.time_ms = t->now_ms;
    snprintf(r.actor, sizeof r.actor, "%s", cmd->actor);
    snprintf(r.action, sizeof r.action, "%s", t->action);
    snprintf(r.object, sizeof r.object, "%s", t->object);
    memcpy(r.prev_hash, e->audit_hash, 32);
    r.alg = e->policy.national_crypto ? AUDIT_ALG_SM3 : AUDIT_ALG_SHA256;
    if (ledger__command_digest(t, r.digest) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    r.has_rows = true;
    if (rows_digest_final(&t->rows, r.row_digest) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    if (audit_record_hash(&r, r.hash) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    if (store_audit_append(e->store, &r) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    e->audit_seq = r.seq;
    memcpy(e->audit_hash, r.hash, 32);
    return HB_ERR_OK;
}

/* Run one command in its savepoint. Returns HB_ERR_UNAVAILABLE only for a storage fault
 * (the batch fails); any other outcome is the command's own, in cmd->err. */
static hb_err run_command(engine *e, command *cmd, int64_t now_ms)
{
    txn *t = &e->txn;
    t->now_ms = now_ms;
    cmd->err_detail[0] = '\0';
    cmd->risk_decision[0] = '\0';
    cmd->risk_reason[0] = '\0';
    cmd->replayed = false;
    int64_t saved_seq = e->audit_seq;
    uint8_t saved_hash[32];
    memcpy(saved_hash, e->audit_hash, 32);
    int64_t saved_account_id = e->next_account_id;
    int64_t saved_transfer_id = e->next_transfer_id;

    if (cmd->nonce[0] != '\0' && cmd->nonce_ts_ms <= e->nonce_horizon_ms) {
        /* Its nonce may have been pruned already: whatever the clock says now (it may have
         * jumped back), such a request cannot be checked for replay, so it is refused. */
        cmd->err = HB_ERR_UNAUTHENTICATED;
        snprintf(cmd->err_detail, sizeof cmd->err_detail,
                 "the request is older than the replay window the server still remembers");
        return HB_ERR_OK;
    }
    if (cmd->nonce[0] != '\0') {
        /* Outside the command's savepoint: the nonce stays used whatever the outcome. */
        hb_err err = store_nonce_insert(e->store, cmd->nonce_key_id, cmd->nonce,
                                        cmd->nonce_ts_ms);
        if (err == HB_ERR_DUPLICATE) {
            cmd->err = HB_ERR_UNAUTHENTICATED;
            snprintf(cmd->err_detail, sizeof cmd->err_detail, "the nonce was used before");
            return HB_ERR_OK;
        }
        if (err != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    }
    if (store_savepoint(e->store) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    hb_err err = ledger__command_begin(t, cmd);
    bool handled = false;
    if (err == HB_ERR_OK && cmd->idem_key[0] != '\0') {
        err = idempotency_check(e, t, cmd, &handled);
    }
    if (err == HB_ERR_OK && !handled) err = cmd->exec(t, cmd);
    if (err == HB_ERR_OK && !handled) err = finish_command(e, t, cmd);
    if (err == HB_ERR_UNAVAILABLE) return HB_ERR_UNAVAILABLE;
    if (err == HB_ERR_OK) {
        cmd->err = HB_ERR_OK;
        return store_savepoint_release(e->store);
    }
    if (t->keep_refusal && !handled) {
        /* A refusal that keeps what it wrote (risk state), audited, never replayed. */
        ASSERT(t->audited);
        char key[LIMIT_IDEM_KEY_LEN + 1];
        memcpy(key, cmd->idem_key, sizeof key);
        cmd->idem_key[0] = '\0';
        hb_err kept = finish_command(e, t, cmd);
        memcpy(cmd->idem_key, key, sizeof key);
        if (kept != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
        cmd->err = err;
        cmd->replayed = false;
        return store_savepoint_release(e->store) == HB_ERR_OK ? HB_ERR_OK : HB_ERR_UNAVAILABLE;
    }
    /* The command failed on its own: undo it and leave no trace. */
    ledger__command_undo(t);
    e->audit_seq = saved_seq;
    memcpy(e->audit_hash, saved_hash, 32);
    e->next_account_id = saved_account_id;
    e->next_transfer_id = saved_transfer_id;
    cmd->err = err;
    cmd->replayed = false;
    if (store_savepoint_rollback(e->store) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    return HB_ERR_OK;
}

/* ---- batches ----------------------------------------------------------------------------- */

/* A batch failed on a storage fault: roll back, drop the connection and every cached row,
 * and answer each command UNAVAILABLE. A fault before COMMIT kept nothing. A fault during
 * COMMIT (a failed fsync) leaves the outcome unknown, as for any database: the data may or
 * may not have reached the disk, so the caller is told to retry with the same idempotency
 * key, which applies the command exactly once either way. */
static void fail_batch(engine *e, command *batch, bool at_commit)
{
    if (e->store != NULL) {
        fprintf(stderr, "hongbao: engine: batch failed, store reopens: %s\n",
                store_last_error(e->store));
        store_rollback(e->store);
        store_close(e->store);
        e->store = NULL;
    }
    ledger__discard_batch(e);
    e->state_loaded = false;
    for (command *cmd = batch; cmd != NULL; cmd = cmd->next) {
        cmd->err = HB_ERR_UNAVAILABLE;
        cmd->replayed = false;
        snprintf(cmd->err_detail, sizeof cmd->err_detail, "%s",
                 at_commit ? "storage fault while committing: the outcome is unknown; retry "
                             "with the same idempotency key"
                           : "storage fault: nothing of this request was kept; retry");
    }
}

static bool run_batch(engine *e, command *batch, int64_t phase_ns[3])
{
    e->batch_number++;
    pthread_mutex_lock(&e->lock);
    if (e->policy_changed) {
        e->policy = e->next_policy;
        e->policy_changed = false;
    }
    pthread_mutex_unlock(&e->lock);
    int64_t t0 = clock_monotonic_ns();
    if (begin_batch(e) != HB_ERR_OK) goto fail;
    int64_t now_ms = clock_now_ms(e->clock);
    e->txn.business_day = clock_business_day(now_ms, &e->txn.minute_of_day);
    e->txn.business_year = clock_day_year(e->txn.business_day);
    for (command *cmd = batch; cmd != NULL; cmd = cmd->next) {
        if (run_command(e, cmd, now_ms) != HB_ERR_OK) goto fail;
    }
    int64_t t1 = clock_monotonic_ns();
    if (ledger__apply_batch(e) != HB_ERR_OK) goto fail;
    int64_t t2 = clock_monotonic_ns();
    if (store_commit(e->store) != HB_ERR_OK) {
        fail_batch(e, batch, true);
        return false;
    }
    phase_ns[0] = t1 - t0;
    phase_ns[1] = t2 - t1;
    phase_ns[2] = clock_monotonic_ns() - t2;
    return true;
fail:
    fail_batch(e, batch, false);
    return false;
}

static void complete(command *batch)
{
    command *cmd = batch;
    while (cmd != NULL) {
        command *next = cmd->next; /* the callback may free cmd */
        cmd->next = NULL;
        if (cmd->done != NULL) {
            cmd->done(cmd, cmd->done_ctx);
        } else {
            completion *c = cmd->completion;
            ASSERT(c != NULL);
            pthread_mutex_lock(&c->lock);
            ASSERT(c->pending > 0);
            if (--c->pending == 0) pthread_cond_broadcast(&c->done);
            pthread_mutex_unlock(&c->lock);
        }
        cmd = next;
    }
}

static int batch_bucket(int64_t size)
{
    int k = 0;
    while (size > 1 && k < 15) {
        size >>= 1;
        k++;
    }
    return k;
}

static void *writer_main(void *arg)
{
    engine *e = arg;
    pthread_setname_np(pthread_self(), "hb-writer"); /* names the thread in ps, top and perf */
    for (;;) {
        pthread_mutex_lock(&e->lock);
        while (e->head == NULL && !e->stopping) pthread_cond_wait(&e->not_empty, &e->lock);
        if (e->head == NULL) {
            pthread_mutex_unlock(&e->lock);
            break;
        }
        command *batch = e->head;
        command *last = batch;
        int n = 1;
        while (n < e->batch_max && last->next != NULL) {
            last = last->next;
            n++;
        }
        e->head = last->next;
        if (e->head == NULL) e->tail = NULL;
        last->next = NULL;
        e->queued -= n;
        pthread_cond_broadcast(&e->not_full);
        pthread_mutex_unlock(&e->lock);

        int64_t phase_ns[3] = {0, 0, 0};
        bool ok = run_batch(e, batch, phase_ns);

        pthread_mutex_lock(&e->lock);
        e->stats.batches++;
        e->stats.commands += n;
        if (!ok) e->stats.failed_batches++;
        if (n > e->stats.max_batch) e->stats.max_batch = n;
        e->stats.batch_size_hist[batch_bucket(n)]++;
        e->stats.exec_ns += phase_ns[0];
        e->stats.apply_ns += phase_ns[1];
        e->stats.commit_ns += phase_ns[2];
        /* Hand the batch to the completer thread. */
        command *last_done = batch;
        while (last_done->next != NULL) last_done = last_done->next;
        if (e->completed_tail != NULL) {
            e->completed_tail->next = batch;
        } else {
            e->completed_head = batch;
        }
        e->completed_tail = last_done;
        pthread_cond_signal(&e->completions_ready);
        pthread_mutex_unlock(&e->lock);
    }
    pthread_mutex_lock(&e->lock);
    e->writer_done = true;
    pthread_cond_signal(&e->completions_ready);
    pthread_mutex_unlock(&e->lock);
    return NULL;
}

/* Answers the callers of durable batches, in order, off the writer's critical path. */
static void *completer_main(void *arg)
{
    engine *e = arg;
    pthread_setname_np(pthread_self(), "hb-completer");
    for (;;) {
        pthread_mutex_lock(&e->lock);
        while (e->completed_head == NULL && !e->writer_done) {
            pthread_cond_wait(&e->completions_ready, &e->lock);
        }
        command *list = e->completed_head;
        e->completed_head = NULL;
        e->completed_tail = NULL;
        bool finished = e->writer_done;
        pthread_mutex_unlock(&e->lock);
        complete(list);
        if (list == NULL && finished) break;
    }
    return NULL;
}

/* ---- open, close, submit -------------------------------------------------------------------- */

hb_err engine_open(const char *url, const engine_options *options, engine **out,
                   char *err_text, size_t err_text_size)
{
    engine_options defaults = {0};
    if (options == NULL) options = &defaults;
    if (err_text != NULL && err_text_size > 0) err_text[0] = '\0';
    if (url == NULL || strlen(url) > LIMIT_PATH_LEN) {
        if (err_text != NULL) snprintf(err_text, err_text_size, "the store path is too long");
        return HB_ERR_INVALID_ARGUMENT;
    }
    engine *e = calloc(1, sizeof *e);
    if (e == NULL) return HB_ERR_UNAVAILABLE;
    snprintf(e->url, sizeof e->url, "%s", url);
    snprintf(e->node, sizeof e->node, "%s", options->node ? options->node : "local");
    e->batch_max = options->batch_max > 0 ? options->batch_max : LIMIT_BATCH_DEFAULT;
    if (e->batch_max > LIMIT_BATCH_MAX) e->batch_max = LIMIT_BATCH_MAX;
    e->queue_max = options->queue_max > 0 ? options->queue_max : LIMIT_QUEUE_DEFAULT;
    if (e->queue_max > LIMIT_QUEUE_MAX) e->queue_max = LIMIT_QUEUE_MAX;
    e->clock = options->clock ? options->clock : clock_real();
    e->transfer_max_fen = options->transfer_max_fen > 0 ? options->transfer_max_fen : 0;
    if (e->transfer_max_fen > LIMIT_AMOUNT_MAX_FEN) e->transfer_max_fen = LIMIT_AMOUNT_MAX_FEN;
    if (options->policy != NULL) {
        e->policy = *options->policy;
    } else {
        policy_defaults(&e->policy);
    }
    e->store_options.create = options->create;
    e->preload = options->preload_accounts;
    e->store_options.cache_kib = options->cache_kib;
    e->store_options.background_checkpoint = true; /* a checkpoint never stalls the writer */
    e->store_options.checkpoint_frames = options->checkpoint_frames;
    e->touched_capacity = (size_t)e->batch_max * LIMIT_COMMAND_ACCOUNTS;
    e->touched = calloc(e->touched_capacity, sizeof *e->touched);
    e->sort_items = calloc(e->touched_capacity, sizeof *e->sort_items);
    e->sort_scratch = calloc(e->touched_capacity, sizeof *e->sort_scratch);
    e->sort_counts = calloc(65536, sizeof *e->sort_counts);
    e->txn.engine = e;
    e->txn.digest = EVP_MD_CTX_new();
    bool rows_ok = rows_digest_init(&e->txn.rows) == HB_ERR_OK;
    e->sha256 = digest_sha256_md();
    e->sm3 = EVP_MD_fetch(NULL, "SM3", NULL);
    hb_err err = HB_ERR_UNAVAILABLE;
    if (e->touched == NULL || e->sort_items == NULL || e->sort_scratch == NULL || e->sort_counts == NULL ||
        e->txn.digest == NULL || !rows_ok) {
        goto fail;
    }
    if (e->sm3 == NULL && e->policy.national_crypto) {
        if (err_text != NULL) snprintf(err_text, err_text_size, "national-crypto mode needs SM3, which this OpenSSL lacks");
        goto fail;
    }
    err = ledger__cache_init(&e->cache);
    if (err != HB_ERR_OK) goto fail;
    err = store_open(url, &e->store_options, &e->store, err_text, err_text_size);
    if (err != HB_ERR_OK) goto fail;
    pthread_mutex_init(&e->lock, NULL);
    pthread_cond_init(&e->not_empty, NULL);
    pthread_cond_init(&e->not_full, NULL);
    pthread_cond_init(&e->completions_ready, NULL);
    if (pthread_create(&e->writer, NULL, writer_main, e) != 0) {
        err = HB_ERR_UNAVAILABLE;
        store_close(e->store);
        goto fail;
    }
    if (pthread_create(&e->completer, NULL, completer_main, e) != 0) {
        /* stop the writer we just started; no command can have been queued yet */
        pthread_mutex_lock(&e->lock);
        e->stopping = true;
        pthread_cond_broadcast(&e->not_empty);
        pthread_mutex_unlock(&e->lock);
        pthread_join(e->writer, NULL);
        err = HB_ERR_UNAVAILABLE;
        store_close(e->store);
        goto fail;
    }
    *out = e;
    return HB_ERR_OK;
fail:
    ledger__cache_free(&e->cache);
    EVP_MD_CTX_free(e->txn.digest);
    rows_digest_free(&e->txn.rows);
    EVP_MD_free(e->sm3);
    free(e->touched);
    free(e->sort_items);
    free(e->sort_scratch);
    free(e->sort_counts);
    free(e);
    return err;
}

void engine_close(engine *e)
{
    if (e == NULL) return;
    pthread_mutex_lock(&e->lock);
    e->stopping = true;
    pthread_cond_broadcast(&e->not_empty);
    pthread_cond_broadcast(&e->not_full);
    pthread_mutex_unlock(&e->lock);
    pthread_join(e->writer, NULL);
    pthread_join(e->completer, NULL);
    ASSERT(e->head == NULL && e->queued == 0 && e->completed_head == NULL);
    store_close(e->store);
    ledger__cache_free(&e->cache);
    EVP_MD_CTX_free(e->txn.digest);
    rows_digest_free(&e->txn.rows);
    EVP_MD_free(e->sm3);
    free(e->touched);
    free(e->sort_items);
    free(e->sort_scratch);
    free(e->sort_counts);
    pthread_mutex_destroy(&e->lock);
    pthread_cond_destroy(&e->not_empty);
    pthread_cond_destroy(&e->not_full);
    pthread_cond_destroy(&e->completions_ready);
    free(e);
}

/* Append n linked commands (first..last) to the queue. */
static hb_err enqueue(engine *e, command *first, command *last, int n, bool wait_for_room)
{
    ASSERT(n > 0 && n <= e->queue_max);
    pthread_mutex_lock(&e->lock);
    while (!e->stopping && e->queued + n > e->queue_max) {
        if (!wait_for_room) {
            pthread_mutex_unlock(&e->lock);
            return HB_ERR_BUSY;
        }
        pthread_cond_wait(&e->not_full, &e->lock);
    }
    if (e->stopping) {
        pthread_mutex_unlock(&e->lock);
        return HB_ERR_BUSY;
    }
    last->next = NULL;
    if (e->tail != NULL) {
        e->tail->next = first;
    } else {
        e->head = first;
    }
    e->tail = last;
    e->queued += n;
    if (e->queued > e->stats.queue_depth) e->stats.queue_depth = e->queued;
    pthread_cond_signal(&e->not_empty);
    pthread_mutex_unlock(&e->lock);
    return HB_ERR_OK;
}

static void completion_wait(completion *c)
{
    pthread_mutex_lock(&c->lock);
    while (c->pending > 0) pthread_cond_wait(&c->done, &c->lock);
    pthread_mutex_unlock(&c->lock);
}

hb_err engine_submit_many(engine *e, command **cmds, size_t n)
{
    if (n == 0) return HB_ERR_OK;
    completion c = {.pending = 0};
    pthread_mutex_init(&c.lock, NULL);
    pthread_cond_init(&c.done, NULL);
    hb_err result = HB_ERR_OK;
    size_t i = 0;
    while (i < n) {
        size_t chunk = n - i;
        if (chunk > (size_t)e->queue_max) chunk = (size_t)e->queue_max;
        for (size_t k = 0; k < chunk; k++) {
            command *cmd = cmds[i + k];
            cmd->completion = &c;
            cmd->done = NULL;
            cmd->next = k + 1 < chunk ? cmds[i + k + 1] : NULL;
        }
        pthread_mutex_lock(&c.lock);
        c.pending += chunk;
        pthread_mutex_unlock(&c.lock);
        hb_err err = enqueue(e, cmds[i], cmds[i + chunk - 1], (int)chunk, true);
        if (err != HB_ERR_OK) {
            pthread_mutex_lock(&c.lock);
            c.pending -= chunk;
            pthread_mutex_unlock(&c.lock);
            for (size_t k = i; k < n; k++) cmds[k]->err = err;
            result = err;
            break;
        }
        i += chunk;
    }
    completion_wait(&c);
    pthread_mutex_destroy(&c.lock);
    pthread_cond_destroy(&c.done);
    return result;
}

hb_err engine_submit(engine *e, command *cmd)
{
    hb_err err = engine_submit_many(e, &cmd, 1);
    return err == HB_ERR_OK ? cmd->err : err;
}

hb_err engine_submit_async(engine *e, command *cmd, command_done_fn done, void *ctx)
{
    ASSERT(done != NULL);
    cmd->done = done;
    cmd->done_ctx = ctx;
    cmd->completion = NULL;
    return enqueue(e, cmd, cmd, 1, false);
}

void engine_set_policy(engine *e, const policy *p)
{
    pthread_mutex_lock(&e->lock);
    e->next_policy = *p;
    e->policy_changed = true;
    pthread_mutex_unlock(&e->lock);
}

hb_err engine_submit_async_wait(engine *e, command *cmd, command_done_fn done, void *ctx)
{
    ASSERT(done != NULL);
    cmd->done = done;
    cmd->done_ctx = ctx;
    cmd->completion = NULL;
    return enqueue(e, cmd, cmd, 1, true);
}

void engine_get_stats(engine *e, engine_stats *out)
{
    pthread_mutex_lock(&e->lock);
    *out = e->stats;
    pthread_mutex_unlock(&e->lock);
}

const char *engine_node(const engine *e)
{
    return e->node;
}
