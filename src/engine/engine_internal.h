/* Engine-private structures shared by engine.c (queue, writer, batches) and ledger.c (the
 * account cache and the txn API). */
#ifndef HB_ENGINE_ENGINE_INTERNAL_H
#define HB_ENGINE_ENGINE_INTERNAL_H

#include <openssl/evp.h>
#include <pthread.h>

#include "engine/engine.h"
#include "engine/rows.h"

/* One account as the writer knows it. acct.balance is the current view: the stored balance
 * plus `pending`, the change of the open batch not yet written. */
typedef struct cache_entry {
    account acct;
    int64_t pending;
    uint64_t touched_batch; /* batch number that listed it in engine.touched; 0 = none */
    uint64_t undo_stamp;    /* number of the last command that saved it in its undo log */
    int64_t daily_day;      /* the business day daily_debits counts; -1 = not loaded */
    int64_t daily_debits;   /* paid on daily_day, including the open batch */
    int64_t daily_pending;  /* the open batch's part of it, not yet written */
    int64_t yearly_year;    /* the business year yearly_debits counts */
    int64_t yearly_debits;  /* paid in yearly_year, including the open batch */
    int64_t yearly_pending; /* the open batch's part of it */
    struct cache_entry *next;
} cache_entry;

typedef struct account_cache {
    cache_entry **buckets;
    size_t bucket_mask;
    size_t count;
    cache_entry *free_list;
    void **chunks;
    size_t chunk_count;
    size_t chunk_capacity;
} account_cache;

/* What a command changed in the cache, so that a failed command can be undone. */
typedef struct undo_entry {
    cache_entry *entry;
    int64_t balance;
    int64_t pending;
    uint64_t touched_batch;
    account_status status;
    int64_t restricted_until_ms;
    int64_t daily_day;
    int64_t daily_debits;
    int64_t daily_pending;
    int64_t yearly_year;
    int64_t yearly_debits;
    int64_t yearly_pending;
    int real_name_level;
    int64_t last_transfer_id;
    bool created;
} undo_entry;

/* One undo entry per distinct account a command touches. */
#define UNDO_MAX LIMIT_COMMAND_ACCOUNTS

struct txn {
    struct engine *engine;
    command *cmd;
    uint64_t command_number; /* increases with every command the writer runs */
    int64_t now_ms;
    int64_t business_day;
    int64_t minute_of_day; /* of now_ms in the business day's zone: 0..1439 */
    int64_t business_year;
    EVP_MD_CTX *digest;  /* running digest of the rows the command writes */
    const EVP_MD *digest_md;
    bool digest_started; /* begun at the first row: most commands write none */
    const EVP_MD *empty_md; /* empty_digest is H("") under it */
    uint8_t empty_digest[32];
    rows_digest rows;    /* the ledger rows it writes, as the verifier reads them back */
    bool audited;
    bool keep_refusal; /* txn_keep_refusal: a refusal keeps its writes */
    char action[LIMIT_ACTION_LEN + 1];
    char object[LIMIT_OBJECT_LEN + 1];
    char result[LIMIT_RESULT_LEN + 1];
    size_t result_len;
    undo_entry undo[UNDO_MAX];
    int undo_count;
    size_t touched_mark; /* engine.touched_count when the command started */
};

/* A touched account and its id, for the per-batch radix sort. */
typedef struct sort_item {
    uint64_t id;
    cache_entry *entry;
} sort_item;

struct completion {
    pthread_mutex_t lock;
    pthread_cond_t done;
    size_t pending;
};

struct engine {
    /* Fixed at open. */
    char url[LIMIT_PATH_LEN + 1];
    char node[LIMIT_NODE_LEN + 1];
    int batch_max;
    int queue_max;
    const hb_clock *clock;
    int64_t transfer_max_fen; /* from the options; 0 = the policy's */
    store_options store_options;
    policy next_policy;       /* under lock: set by engine_set_policy */
    bool policy_changed;      /* under lock */
    policy policy;            /* writer: the batch's copy */

    /* The queue, under lock. */
    pthread_mutex_t lock;
    pthread_cond_t not_empty;
    pthread_cond_t not_full;
    command *head;
    command *tail;
    int queued;
    bool stopping;
    engine_stats stats;
    pthread_t writer;

    /* Durable batches waiting for their callers to be answered, under lock. A completer
     * thread answers them so that the writer can start the next batch at once. */
    pthread_cond_t completions_ready;
    command *completed_head;
    command *completed_tail;
    bool writer_done;
    pthread_t completer;

    /* Writer-thread state. */
    store *store;
    account_cache cache;
    cache_entry **touched;
    size_t touched_count;
    size_t touched_capacity;
    struct sort_item *sort_items; /* scratch for sorting touched accounts by id */
    struct sort_item *sort_scratch;
    size_t *sort_counts; /* 65536 digit counters */
    uint64_t batch_number;
    bool state_loaded; /* ids, audit tail and data version read from the store */
    bool preload;      /* engine_options.preload_accounts */
    bool preloaded;    /* the cache was filled once after open */
    int64_t data_version;
    int64_t next_account_id;
    int64_t next_transfer_id;
    int64_t nonce_horizon_ms; /* requests signed at or before it are refused (store_nonce_prune) */
    int64_t audit_seq;
    uint8_t audit_hash[32];
    /* System accounts found so far (0 = not looked up), forgotten with the cache. */
    int64_t system_ids[ACCOUNT_KIND_COUNT][CURRENCY_COUNT];
    const EVP_MD *sha256;
    EVP_MD *sm3; /* the rows' digest in national-crypto mode (NULL: OpenSSL has none) */
    txn txn;
};

/* ledger.c */
hb_err ledger__cache_init(account_cache *cache) WARN_UNUSED;
void ledger__cache_clear(account_cache *cache);
void ledger__cache_free(account_cache *cache);
/* Load accounts into the cache in id order, up to LIMIT_ACCOUNT_CACHE_MAX (exclusive stores
 * only: the copies stay authoritative). */
hb_err ledger__cache_preload(struct engine *e) WARN_UNUSED;
/* Start a command: empty undo log, fresh digest. */
hb_err ledger__command_begin(txn *t, command *cmd) WARN_UNUSED;
/* Undo every cache change of the current command (after its savepoint was rolled back). */
void ledger__command_undo(txn *t);
/* Write the batch's balance changes, one update per touched account in id order. */
hb_err ledger__apply_batch(struct engine *e) WARN_UNUSED;
/* Forget the batch's pending changes after a failed transaction. */
void ledger__discard_batch(struct engine *e);
/* Add bytes to it. */
hb_err ledger__digest_update(txn *t, const void *data, size_t len) WARN_UNUSED;
/* The digest of the rows the command wrote. */
hb_err ledger__command_digest(txn *t, uint8_t out[32]) WARN_UNUSED;

#endif
