/* The ledger's rules and the writer's account cache.
 *
 * The writer keeps each account it has touched in memory. With an exclusive store (SQLite)
 * those copies stay authoritative between batches; the writer drops them whenever another
 * connection has committed (data_version) or a batch failed, and reloads from the store. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/money.h"
#include "engine/engine_internal.h"

#define CACHE_CHUNK_ENTRIES 4096
#define CACHE_INITIAL_BUCKETS 65536

/* ---- the cache -------------------------------------------------------------------------- */

static size_t bucket_of(const account_cache *cache, int64_t id)
{
    uint64_t h = (uint64_t)id * 0x9E3779B97F4A7C15ULL;
    return (size_t)(h >> 20) & cache->bucket_mask;
}

hb_err ledger__cache_init(account_cache *cache)
{
    memset(cache, 0, sizeof *cache);
    cache->buckets = calloc(CACHE_INITIAL_BUCKETS, sizeof *cache->buckets);
    if (cache->buckets == NULL) return HB_ERR_UNAVAILABLE;
    cache->bucket_mask = CACHE_INITIAL_BUCKETS - 1;
    return HB_ERR_OK;
}

void ledger__cache_clear(account_cache *cache)
{
    for (size_t b = 0; b <= cache->bucket_mask; b++) {
        cache_entry *e = cache->buckets[b];
        while (e != NULL) {
            cache_entry *next = e->next;
            e->next = cache->free_list;
            cache->free_list = e;
            e = next;
        }
        cache->buckets[b] = NULL;
    }
    cache->count = 0;
}

void ledger__cache_free(account_cache *cache)
{
    for (size_t i = 0; i < cache->chunk_count; i++) free(cache->chunks[i]);
    free(cache->chunks);
    free(cache->buckets);
    memset(cache, 0, sizeof *cache);
}

static cache_entry *cache_find(const account_cache *cache, int64_t id)
{
    for (cache_entry *e = cache->buckets[bucket_of(cache, id)]; e != NULL; e = e->next) {
        if (e->acct.id == id) return e;
    }
    return NULL;
}

static void cache_grow(account_cache *cache)
{
    size_t new_count = (cache->bucket_mask + 1) * 2;
    cache_entry **buckets = calloc(new_count, sizeof *buckets);
    if (buckets == NULL) return; /* keep the old table: longer chains, still correct */
    size_t old_count = cache->bucket_mask + 1;
    cache_entry **old = cache->buckets;
    cache->buckets = buckets;
    cache->bucket_mask = new_count - 1;
    for (size_t b = 0; b < old_count; b++) {
        cache_entry *e = old[b];
        while (e != NULL) {
            cache_entry *next = e->next;
            size_t nb = bucket_of(cache, e->acct.id);
            e->next = buckets[nb];
            buckets[nb] = e;
            e = next;
        }
    }
    free(old);
}

static cache_entry *cache_insert(account_cache *cache, const account *a)
{
    ASSERT(cache_find(cache, a->id) == NULL);
    if (cache->free_list == NULL) {
        if (cache->chunk_count == cache->chunk_capacity) {
            size_t cap = cache->chunk_capacity ? cache->chunk_capacity * 2 : 64;
            void **chunks = realloc(cache->chunks, cap * sizeof *chunks);
            if (chunks == NULL) return NULL;
            cache->chunks = chunks;
            cache->chunk_capacity = cap;
        }
        cache_entry *chunk = calloc(CACHE_CHUNK_ENTRIES, sizeof *chunk);
        if (chunk == NULL) return NULL;
        cache->chunks[cache->chunk_count++] = chunk;
        for (size_t i = 0; i < CACHE_CHUNK_ENTRIES; i++) {
            chunk[i].next = cache->free_list;
            cache->free_list = &chunk[i];
        }
    }
    if (cache->count > (cache->bucket_mask + 1)) cache_grow(cache);
    cache_entry *e = cache->free_list;
    cache->free_list = e->next;
    memset(e, 0, sizeof *e);
    e->acct = *a;
    e->daily_day = a->debit_day;
    e->daily_debits = a->day_debits;
    e->yearly_year = a->debit_year;
    e->yearly_debits = a->year_debits;
    size_t b = bucket_of(cache, a->id);
    e->next = cache->buckets[b];
    cache->buckets[b] = e;
    cache->count++;
    return e;
}

static void cache_remove(account_cache *cache, cache_entry *entry)
{
    cache_entry **link = &cache->buckets[bucket_of(cache, entry->acct.id)];
    while (*link != entry) {
        ASSERT(*link != NULL);
        link = &(*link)->next;
    }
    *link = entry->next;
    entry->next = cache->free_list;
    cache->free_list = entry;
    cache->count--;
}

hb_err ledger__cache_preload(engine *e)
{
    account *page = malloc(LIMIT_PAGE_MAX * sizeof *page);
    if (page == NULL) return HB_ERR_UNAVAILABLE;
    int64_t after = 0;
    hb_err err = HB_ERR_OK;
    while (e->cache.count + LIMIT_PAGE_MAX <= LIMIT_ACCOUNT_CACHE_MAX) {
        int count = 0;
        err = store_account_list(e->store, after, LIMIT_PAGE_MAX, page, &count);
        if (err != HB_ERR_OK) break;
        for (int i = 0; i < count; i++) {
            if (cache_find(&e->cache, page[i].id) != NULL) continue;
            if (cache_insert(&e->cache, &page[i]) == NULL) {
                err = HB_ERR_UNAVAILABLE;
                break;
            }
        }
        if (err != HB_ERR_OK || count < LIMIT_PAGE_MAX) break;
        after = page[count - 1].id;
    }
    free(page);
    return err;
}

/* ---- commands ---------------------------------------------------------------------------- */

hb_err ledger__command_begin(txn *t, command *cmd)
{
    t->cmd = cmd;
    t->command_number++;
    t->audited = false;
    t->keep_refusal = false;
    t->action[0] = '\0';
    t->object[0] = '\0';
    t->result_len = 0;
    t->result[0] = '\0';
    t->undo_count = 0;
    t->touched_mark = t->engine->touched_count;
    const EVP_MD *md = t->engine->policy.national_crypto && t->engine->sm3 != NULL
                           ? t->engine->sm3
                           : t->engine->sha256;
    t->digest_md = md;
    t->digest_started = false;
    rows_digest_begin(&t->rows, md);
    /* the ledger rows it writes name the record it will append */
    store_set_audit_tag(t->engine->store, t->engine->node, t->engine->audit_seq + 1);
    return HB_ERR_OK;
}

hb_err txn_row_written(txn *t, rows_table table, const void *row)
{
    return rows_digest_add_row(&t->rows, table, row);
}

hb_err ledger__digest_update(txn *t, const void *data, size_t len)
{
    if (!t->digest_started) {
        if (EVP_DigestInit_ex(t->digest, t->digest_md, NULL) != 1) return HB_ERR_UNAVAILABLE;
        t->digest_started = true;
    }
    return EVP_DigestUpdate(t->digest, data, len) == 1 ? HB_ERR_OK : HB_ERR_UNAVAILABLE;
}

hb_err ledger__command_digest(txn *t, uint8_t out[32])
{
    unsigned int len = 0;
    if (!t->digest_started) { /* H(""), computed once per hash */
        if (t->empty_md != t->digest_md) {
            if (EVP_Digest("", 0, t->empty_digest, &len, t->digest_md, NULL) != 1 || len != 32) {
                return HB_ERR_UNAVAILABLE;
            }
            t->empty_md = t->digest_md;
        }
        memcpy(out, t->empty_digest, 32);
        return HB_ERR_OK;
    }
    t->digest_started = false;
    if (EVP_DigestFinal_ex(t->digest, out, &len) != 1 || len != 32) return HB_ERR_UNAVAILABLE;
    return HB_ERR_OK;
}

/* A canonical, unambiguous encoding of one written row for the command's digest: a tag,
 * integers as 8 big-endian bytes, strings as a 2-byte length and their bytes. */
typedef struct row_buf {
    uint8_t data[512];
    size_t len;
} row_buf;

static void row_i64(row_buf *r, int64_t value)
{
    ASSERT(r->len + 8 <= sizeof r->data);
    uint64_t v = (uint64_t)value;
    for (int i = 7; i >= 0; i--) {
        r->data[r->len + (size_t)i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
    r->len += 8;
}

static void row_str(row_buf *r, const char *text)
{
    size_t n = strlen(text);
    ASSERT(n <= 0xffff && r->len + 2 + n <= sizeof r->data);
    r->data[r->len++] = (uint8_t)(n >> 8);
    r->data[r->len++] = (uint8_t)(n & 0xff);
    memcpy(r->data + r->len, text, n);
    r->len += n;
}

static hb_err row_digest(txn *t, const row_buf *r)
{
    return ledger__digest_update(t, r->data, r->len);
}

hb_err txn_digest_row(txn *t, const char *table, const int64_t *ints, size_t n_ints,
                      const char *const *texts, size_t n_texts)
{
    row_buf r = {.len = 0};
    row_str(&r, table);
    for (size_t i = 0; i < n_ints; i++) row_i64(&r, ints[i]);
    hb_err err = row_digest(t, &r);
    for (size_t i = 0; err == HB_ERR_OK && i < n_texts; i++) {
        size_t n = strlen(texts[i]);
        ASSERT(n <= 0xffff);
        uint8_t len_be[2] = {(uint8_t)(n >> 8), (uint8_t)(n & 0xff)};
        err = ledger__digest_update(t, len_be, 2);
        if (err == HB_ERR_OK) err = ledger__digest_update(t, texts[i], n);
    }
    return err;
}

/* Save an account's state before the command first changes it (once per command). */
static hb_err undo_push(txn *t, cache_entry *e, bool created)
{
    if (e->undo_stamp == t->command_number) return HB_ERR_OK; /* saved already */
    if (t->undo_count >= UNDO_MAX) {
        txn_fail_detail(t, "a command may touch at most %d accounts", LIMIT_COMMAND_ACCOUNTS);
        return HB_ERR_INVALID_ARGUMENT;
    }
    undo_entry *u = &t->undo[t->undo_count++];
    u->entry = e;
    u->balance = e->acct.balance;
    u->pending = e->pending;
    u->touched_batch = e->touched_batch;
    u->status = e->acct.status;
    u->restricted_until_ms = e->acct.restricted_until_ms;
    u->daily_day = e->daily_day;
    u->daily_debits = e->daily_debits;
    u->daily_pending = e->daily_pending;
    u->yearly_year = e->yearly_year;
    u->yearly_debits = e->yearly_debits;
    u->yearly_pending = e->yearly_pending;
    u->real_name_level = e->acct.real_name_level;
    u->last_transfer_id = e->acct.last_transfer_id;
    u->created = created;
    e->undo_stamp = t->command_number;
    return HB_ERR_OK;
}

void ledger__command_undo(txn *t)
{
    engine *e = t->engine;
    for (int i = t->undo_count - 1; i >= 0; i--) {
        undo_entry *u = &t->undo[i];
        if (u->created) {
            cache_remove(&e->cache, u->entry);
            continue;
        }
        u->entry->acct.balance = u->balance;
        u->entry->pending = u->pending;
        u->entry->touched_batch = u->touched_batch;
        u->entry->acct.status = u->status;
        u->entry->acct.restricted_until_ms = u->restricted_until_ms;
        u->entry->daily_day = u->daily_day;
        u->entry->daily_debits = u->daily_debits;
        u->entry->daily_pending = u->daily_pending;
        u->entry->yearly_year = u->yearly_year;
        u->entry->yearly_debits = u->yearly_debits;
        u->entry->yearly_pending = u->yearly_pending;
        u->entry->acct.real_name_level = u->real_name_level;
        u->entry->acct.last_transfer_id = u->last_transfer_id;
    }
    t->undo_count = 0;
    /* Entries this command added to the touched list are no longer touched (their
     * touched_batch was restored above); drop them from the list. */
    ASSERT(e->touched_count >= t->touched_mark);
    e->touched_count = t->touched_mark;
}

static void touch(engine *e, cache_entry *entry)
{
    if (entry->touched_batch == e->batch_number) return;
    ASSERT(e->touched_count < e->touched_capacity);
    entry->touched_batch = e->batch_number;
    e->touched[e->touched_count++] = entry;
}

static int compare_entry_id(const void *a, const void *b)
{
    int64_t x = (*(cache_entry *const *)a)->acct.id;
    int64_t y = (*(cache_entry *const *)b)->acct.id;
    return (x > y) - (x < y);
}

/* Sort the touched accounts by id. Small batches (a busy HTTP server's) use qsort; large ones
 * an LSD radix sort over 16-bit digits, only as many passes as the largest id needs, whose
 * 65,536 counters cost too much to clear for a few dozen accounts. */
static void sort_touched(engine *e)
{
    size_t n = e->touched_count;
    if (n < 4096) {
        qsort(e->touched, n, sizeof *e->touched, compare_entry_id);
        return;
    }
    sort_item *a = e->sort_items;
    sort_item *b = e->sort_scratch;
    uint64_t max_id = 0;
    for (size_t i = 0; i < n; i++) {
        a[i].id = (uint64_t)e->touched[i]->acct.id;
        a[i].entry = e->touched[i];
        if (a[i].id > max_id) max_id = a[i].id;
    }
    size_t *counts = e->sort_counts;
    for (int shift = 0; shift < 64 && (max_id >> shift) != 0; shift += 16) {
        memset(counts, 0, 65536 * sizeof *counts);
        for (size_t i = 0; i < n; i++) counts[(a[i].id >> shift) & 0xffff]++;
        size_t sum = 0;
        for (size_t d = 0; d < 65536; d++) {
            size_t c = counts[d];
            counts[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) b[counts[(a[i].id >> shift) & 0xffff]++] = a[i];
        sort_item *t = a;
        a = b;
        b = t;
    }
    for (size_t i = 0; i < n; i++) e->touched[i] = a[i].entry;
}

hb_err ledger__apply_batch(engine *e)
{
    sort_touched(e);
    for (size_t i = 0; i < e->touched_count; i++) {
        cache_entry *entry = e->touched[i];
        ASSERT(i == 0 || e->touched[i - 1]->acct.id < entry->acct.id);
        ASSERT(entry->touched_batch == e->batch_number);
        /* Touched means changed (balance, daily total or newest transfer): always written,
         * even when a batch's movements cancel out. */
        ASSERT(entry->daily_day >= 0 && entry->yearly_year >= 0);
        debit_totals add = {.day = entry->daily_day, .day_debits = entry->daily_pending,
                            .year = entry->yearly_year, .year_debits = entry->yearly_pending};
        hb_err err = store_account_add_balance(e->store, entry->acct.id, entry->pending, &add,
                                               entry->acct.last_transfer_id, entry->acct.flags);
        if (err != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
#ifndef NDEBUG
        /* Debug builds read every write back: the store and the writer's copy agree. The read
         * itself may meet a storage fault (a lost database connection): that fails the batch
         * like any other. */
        int64_t stored = 0, last = 0;
        debit_totals got;
        err = store_account_balance(e->store, entry->acct.id, &stored, &got, &last);
        if (err != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
        ASSERT(!store_exclusive_writer(e->store) ||
               (stored == entry->acct.balance && got.day == entry->daily_day &&
                got.day_debits == entry->daily_debits && got.year == entry->yearly_year &&
                got.year_debits == entry->yearly_debits &&
                last == entry->acct.last_transfer_id));
#endif
    }
    for (size_t i = 0; i < e->touched_count; i++) {
        e->touched[i]->pending = 0;
        e->touched[i]->daily_pending = 0;
        e->touched[i]->yearly_pending = 0;
    }
    e->touched_count = 0;
    return HB_ERR_OK;
}

void ledger__discard_batch(engine *e)
{
    /* The transaction rolled back: the cached balances are wrong now. Drop everything and
     * reload lazily from the store. */
    e->touched_count = 0;
    ledger__cache_clear(&e->cache);
}

/* ---- the txn API --------------------------------------------------------------------------- */

static hb_err load_entry(txn *t, int64_t id, cache_entry **out);

int64_t txn_now_ms(const txn *t)
{
    return t->now_ms;
}

const policy *txn_policy(const txn *t)
{
    return &t->engine->policy;
}

int64_t txn_business_day(const txn *t)
{
    return t->business_day;
}

const char *txn_node(const txn *t)
{
    return t->engine->node;
}

int64_t txn_minute_of_day(const txn *t)
{
    return t->minute_of_day;
}

hb_err txn_charge_daily(txn *t, int64_t account_id, int64_t amount, int64_t daily_limit)
{
    return txn_charge(t, account_id, amount, daily_limit, LIMIT_BALANCE_MAX_FEN, NULL);
}

hb_err txn_charge(txn *t, int64_t account_id, int64_t amount, int64_t daily_limit,
                  int64_t yearly_limit, bool *yearly_exceeded)
{
    ASSERT(amount > 0 && daily_limit >= 0 && yearly_limit >= 0);
    if (yearly_exceeded != NULL) *yearly_exceeded = false;
    cache_entry *entry = NULL;
    hb_err err = load_entry(t, account_id, &entry);
    if (err != HB_ERR_OK) return err;
    /* On a new business day (year) nothing is paid yet (the row's count restarts when
     * written). The counted day never goes back: if the clock jumps back to an earlier day,
     * payments keep counting into the later one instead of starting a fresh allowance. */
    int64_t day = t->business_day > entry->daily_day ? t->business_day : entry->daily_day;
    int64_t paid = entry->daily_day == day ? entry->daily_debits : 0;
    if (amount > daily_limit - paid) return HB_ERR_LIMIT_EXCEEDED;
    int64_t year = t->business_year > entry->yearly_year ? t->business_year : entry->yearly_year;
    int64_t paid_year = entry->yearly_year == year ? entry->yearly_debits : 0;
    if (amount > yearly_limit - paid_year) {
        if (yearly_exceeded != NULL) *yearly_exceeded = true;
        return HB_ERR_LIMIT_EXCEEDED;
    }
    err = undo_push(t, entry, false);
    if (err != HB_ERR_OK) return err;
    ASSERT(entry->daily_day == day || entry->daily_pending == 0);
    ASSERT(entry->yearly_year == year || entry->yearly_pending == 0);
    entry->daily_day = day;
    entry->daily_debits = paid + amount; /* <= daily_limit: no overflow */
    entry->daily_pending += amount;
    entry->yearly_year = year;
    entry->yearly_debits = paid_year + amount; /* <= yearly_limit */
    entry->yearly_pending += amount;
    touch(t->engine, entry);
    return HB_ERR_OK;
}

hb_err txn_day_debits(txn *t, int64_t account_id, int64_t *out)
{
    cache_entry *entry = NULL;
    hb_err err = load_entry(t, account_id, &entry);
    if (err != HB_ERR_OK) return err;
    *out = entry->daily_day == t->business_day ? entry->daily_debits : 0;
    return HB_ERR_OK;
}

hb_err txn_account_set_real_name(txn *t, int64_t id, int level)
{
    ASSERT(level >= 0 && level <= 3);
    cache_entry *entry = NULL;
    hb_err err = load_entry(t, id, &entry);
    if (err != HB_ERR_OK) return err;
    err = undo_push(t, entry, false);
    if (err != HB_ERR_OK) return err;
    if (store_account_set_real_name(t->engine->store, id, level) != HB_ERR_OK) {
        return HB_ERR_UNAVAILABLE;
    }
    entry->acct.real_name_level = level;
    row_buf r = {.len = 0};
    row_str(&r, "account_real_name");
    row_i64(&r, id);
    row_i64(&r, level);
    return row_digest(t, &r);
}

void txn_raise_nonce_horizon(txn *t, int64_t ms)
{
    if (ms > t->engine->nonce_horizon_ms) t->engine->nonce_horizon_ms = ms;
}

store *txn_store(txn *t)
{
    return t->engine->store;
}

void txn_fail_detail(txn *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): va_start is right above */
    vsnprintf(t->cmd->err_detail, sizeof t->cmd->err_detail, fmt, ap);
    va_end(ap);
}

void txn_keep_refusal(txn *t)
{
    t->keep_refusal = true;
}

static int risk_rank(const char *decision)
{
    static const char *const order[] = {"", "report", "fuse", "review"};
    for (int i = 3; i > 0; i--) {
        if (strcmp(decision, order[i]) == 0) return i;
    }
    return 0;
}

void txn_risk_note(txn *t, const char *decision, const char *reason)
{
    command *cmd = t->cmd;
    if (risk_rank(decision) < risk_rank(cmd->risk_decision)) return;
    snprintf(cmd->risk_decision, sizeof cmd->risk_decision, "%s", decision);
    snprintf(cmd->risk_reason, sizeof cmd->risk_reason, "%s", reason);
}

void txn_audit(txn *t, const char *action, const char *object)
{
    ASSERT(strlen(action) <= LIMIT_ACTION_LEN && strlen(object) <= LIMIT_OBJECT_LEN);
    snprintf(t->action, sizeof t->action, "%s", action);
    snprintf(t->object, sizeof t->object, "%s", object);
    t->audited = true;
}

void txn_set_result(txn *t, const char *result, size_t len)
{
    ASSERT(len <= LIMIT_RESULT_LEN);
    memcpy(t->result, result, len);
    t->result[len] = '\0';
    t->result_len = len;
}

static hb_err load_entry(txn *t, int64_t id, cache_entry **out)
{
    engine *e = t->engine;
    if (id <= 0) return HB_ERR_NOT_FOUND;
    cache_entry *entry = cache_find(&e->cache, id);
    if (entry == NULL) {
        account a;
        hb_err err = store_account_get(e->store, id, &a);
        if (err != HB_ERR_OK) return err;
        entry = cache_insert(&e->cache, &a);
        if (entry == NULL) return HB_ERR_UNAVAILABLE;
    }
    ASSERT(entry->acct.id == id);
    *out = entry;
    return HB_ERR_OK;
}

hb_err txn_account(txn *t, int64_t id, const account **out)
{
    cache_entry *entry = NULL;
    hb_err err = load_entry(t, id, &entry);
    if (err == HB_ERR_OK) *out = &entry->acct;
    return err;
}

hb_err txn_system_account(txn *t, account_kind kind, currency cur, const account **out)
{
    ASSERT(kind > ACCOUNT_KIND_NONE && kind < ACCOUNT_KIND_COUNT && currency_valid(cur));
    int64_t *known = &t->engine->system_ids[kind][cur];
    if (*known == 0) {
        /* once per store state: a hot escrow or reserve is not looked up per command */
        account a;
        hb_err err = store_account_find_system(t->engine->store, kind, cur, &a);
        if (err != HB_ERR_OK) return err;
        *known = a.id;
    }
    return txn_account(t, *known, out);
}

hb_err txn_account_create(txn *t, account *a)
{
    engine *e = t->engine;
    ASSERT(a->balance == 0);
    ASSERT(a->kind > ACCOUNT_KIND_NONE && a->kind < ACCOUNT_KIND_COUNT);
    ASSERT(currency_valid(a->currency));
    a->id = e->next_account_id;
    a->created_at_ms = t->now_ms;
    hb_err err = store_account_insert(e->store, a);
    if (err != HB_ERR_OK) return HB_ERR_UNAVAILABLE; /* ids are ours: a clash is a fault */
    e->next_account_id++;
    cache_entry *entry = cache_insert(&e->cache, a);
    if (entry == NULL) return HB_ERR_UNAVAILABLE;
    err = undo_push(t, entry, true);
    if (err != HB_ERR_OK) {
        cache_remove(&e->cache, entry);
        return err;
    }
    row_buf r = {.len = 0};
    row_str(&r, "account");
    row_i64(&r, a->id);
    row_str(&r, a->owner);
    row_i64(&r, a->kind);
    row_i64(&r, a->tier);
    row_str(&r, currency_code(a->currency));
    row_i64(&r, a->flags);
    row_i64(&r, a->status);
    row_i64(&r, a->restricted_until_ms);
    row_i64(&r, a->created_at_ms);
    row_i64(&r, a->real_name_level);
    row_str(&r, a->region);
    err = row_digest(t, &r);
    if (err == HB_ERR_OK) err = txn_row_written(t, ROWS_ACCOUNT, a);
    return err;
}

hb_err txn_account_set_status(txn *t, int64_t id, account_status status,
                              int64_t restricted_until_ms)
{
    if ((unsigned)status >= ACCOUNT_STATUS_COUNT || restricted_until_ms < 0) {
        txn_fail_detail(t, "unknown status or negative restriction time");
        return HB_ERR_INVALID_ARGUMENT;
    }
    cache_entry *entry = NULL;
    hb_err err = load_entry(t, id, &entry);
    if (err != HB_ERR_OK) return err;
    if (entry->acct.status == ACCOUNT_CLOSED && status != ACCOUNT_CLOSED) {
        txn_fail_detail(t, "a closed account stays closed");
        return HB_ERR_FORBIDDEN;
    }
    err = store_account_set_status(t->engine->store, id, status, restricted_until_ms);
    if (err != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    err = undo_push(t, entry, false);
    if (err != HB_ERR_OK) return err;
    entry->acct.status = status;
    entry->acct.restricted_until_ms = restricted_until_ms;
    row_buf r = {.len = 0};
    row_str(&r, "account_status");
    row_i64(&r, id);
    row_i64(&r, status);
    row_i64(&r, restricted_until_ms);
    return row_digest(t, &r);
}

/* Why an account may not take part in a movement, or HB_ERR_OK. */
static hb_err check_status(txn *t, const account *a, bool debit)
{
    if (a->status == ACCOUNT_FROZEN || a->status == ACCOUNT_CLOSED) {
        txn_fail_detail(t, "account acct_%lld is %s", (long long)a->id,
                        account_status_name(a->status));
        return HB_ERR_ACCOUNT_FROZEN;
    }
    if (debit && a->restricted_until_ms > t->now_ms) {
        txn_fail_detail(t, "account acct_%lld may not pay until %lld", (long long)a->id,
                        (long long)a->restricted_until_ms);
        return HB_ERR_ACCOUNT_RESTRICTED;
    }
    return HB_ERR_OK;
}

/* Validate a transfer against both accounts; on success the new balances are returned. */
static hb_err check_transfer(txn *t, const transfer *tr, const account *debit,
                             const account *credit, int64_t *debit_after, int64_t *credit_after)
{
    if (debit->currency != tr->currency || credit->currency != tr->currency) {
        txn_fail_detail(t, "currency mismatch: the transfer and both accounts must be in %s",
                        currency_code(tr->currency));
        return HB_ERR_INVALID_ARGUMENT;
    }
    hb_err err = check_status(t, debit, true);
    if (err == HB_ERR_OK) err = check_status(t, credit, false);
    if (err != HB_ERR_OK) return err;
    if (!money_sub(debit->balance, tr->amount, debit_after) ||
        !money_add(credit->balance, tr->amount, credit_after) ||
        *debit_after < -LIMIT_BALANCE_MAX_FEN || *credit_after > LIMIT_BALANCE_MAX_FEN) {
        txn_fail_detail(t, "the balance would leave its bounds");
        return HB_ERR_LIMIT_EXCEEDED;
    }
    if ((debit->flags & ACCOUNT_FLAG_NO_NEGATIVE) && *debit_after < 0) {
        txn_fail_detail(t, "account acct_%lld holds less than the amount", (long long)debit->id);
        return HB_ERR_INSUFFICIENT_FUNDS;
    }
    if ((credit->flags & ACCOUNT_FLAG_NO_POSITIVE) && *credit_after > 0) {
        txn_fail_detail(t, "account acct_%lld cannot receive more than it owes",
                        (long long)credit->id);
        return HB_ERR_INSUFFICIENT_FUNDS;
    }
    return HB_ERR_OK;
}

hb_err txn_transfer(txn *t, transfer *tr)
{
    engine *e = t->engine;
    if (tr->kind <= TRANSFER_KIND_NONE || tr->kind >= TRANSFER_KIND_COUNT ||
        !currency_valid(tr->currency)) {
        txn_fail_detail(t, "unknown transfer kind or currency");
        return HB_ERR_INVALID_ARGUMENT;
    }
    int64_t max_fen = e->transfer_max_fen > 0 ? e->transfer_max_fen : e->policy.transfer_max;
    if (max_fen > LIMIT_AMOUNT_MAX_FEN) max_fen = LIMIT_AMOUNT_MAX_FEN;
    hb_err err = money_check_amount(tr->amount, max_fen);
    if (err != HB_ERR_OK) {
        txn_fail_detail(t, tr->amount <= 0 ? "the amount must be at least 1 fen"
                                           : "the amount is above the maximum of one transfer");
        return err;
    }
    if (tr->debit_id == tr->credit_id) {
        txn_fail_detail(t, "cannot transfer from an account to itself");
        return HB_ERR_INVALID_ARGUMENT;
    }
    cache_entry *debit = NULL;
    cache_entry *credit = NULL;
    err = load_entry(t, tr->debit_id, &debit);
    if (err == HB_ERR_OK) err = load_entry(t, tr->credit_id, &credit);
    if (err == HB_ERR_NOT_FOUND) txn_fail_detail(t, "no such account");
    if (err != HB_ERR_OK) return err;
    int64_t debit_after = 0;
    int64_t credit_after = 0;
    err = check_transfer(t, tr, &debit->acct, &credit->acct, &debit_after, &credit_after);
    if (err != HB_ERR_OK) return err;

    tr->id = e->next_transfer_id;
    tr->created_at_ms = t->now_ms;
    tr->prev_debit_id = debit->acct.last_transfer_id;
    tr->prev_credit_id = credit->acct.last_transfer_id;
    err = store_transfer_insert(e->store, tr);
    if (err != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    e->next_transfer_id++;
    err = undo_push(t, debit, false);
    if (err == HB_ERR_OK) err = undo_push(t, credit, false);
    if (err != HB_ERR_OK) return err;
    debit->acct.balance = debit_after;
    debit->pending -= tr->amount;
    debit->acct.last_transfer_id = tr->id;
    credit->acct.balance = credit_after;
    credit->pending += tr->amount;
    credit->acct.last_transfer_id = tr->id;
    touch(e, debit);
    touch(e, credit);
    /* a transfer never changes: the record's row digest covers all of it */
    return txn_row_written(t, ROWS_TRANSFER, tr);
}
