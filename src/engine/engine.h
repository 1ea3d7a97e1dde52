/* The ledger engine: a batching writer with group commit (DESIGN.md section 4).
 *
 * Callers on any thread submit commands and wait (or get a callback). One writer thread
 * drains up to batch_max queued commands, runs each inside its own savepoint within one
 * store transaction, applies the batch's balance changes as one update per touched account
 * in account-id order, appends an audit record per command, commits once (one fsync for the
 * batch), and only then completes the callers. A failing command is rolled back to its
 * savepoint and fails alone; a storage fault fails the whole batch with HB_ERR_UNAVAILABLE,
 * acknowledges nothing of it and reopens the store.
 *
 * Commands run in the writer thread through the txn API below, which is where the ledger's
 * rules live (ledger.c): accounts exist, currencies match, flags hold, nothing overflows. */
#ifndef HB_ENGINE_ENGINE_H
#define HB_ENGINE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/invariant.h"
#include "core/limits.h"
#include "core/policy.h"
#include "store/store.h"

typedef struct engine engine;
typedef struct txn txn;
typedef struct command command;

/* Runs in the writer thread inside the command's savepoint. Returns HB_ERR_OK (the command's
 * writes and audit record stay), a domain error (everything the command did is undone), or
 * HB_ERR_UNAVAILABLE (a storage fault: the whole batch fails). */
typedef hb_err (*command_exec_fn)(txn *t, command *cmd);
/* Rebuilds a command's result from the result text stored with its idempotency key. */
typedef hb_err (*command_replay_fn)(txn *t, command *cmd, const char *result, size_t len);
/* Called in the engine's completer thread once the command's outcome is durable, in commit
 * order; must not block (it delays every later caller). */
typedef void (*command_done_fn)(command *cmd, void *ctx);

typedef struct completion completion;

/* A command. Services embed it as the first member of their own struct (the parameters and
 * the result) and cast in exec. The submitter owns the memory until completion. */
struct command {
    /* Set by the submitter. */
    command_exec_fn exec;
    command_replay_fn replay; /* required when idem_key is set */
    char actor[LIMIT_ACTOR_LEN + 1];
    char idem_scope[LIMIT_IDEM_SCOPE_LEN + 1]; /* "" means the actor alone */
    char idem_key[LIMIT_IDEM_KEY_LEN + 1];     /* "" means not idempotent */
    uint8_t request_hash[32];                  /* digest of the parameters */
    /* A signed request's nonce, recorded in the batch's transaction before the command runs
     * (and kept even when the command fails, so a refused request cannot be replayed later).
     * A nonce seen before fails the command with UNAUTHENTICATED. "" = none. */
    char nonce_key_id[LIMIT_KEY_ID_LEN + 1];
    char nonce[LIMIT_NONCE_MAX + 1];
    int64_t nonce_ts_ms;
    /* The command changes no business state (recording a nonce alone): no audit record. */
    bool bookkeeping;

    /* Set by the engine. */
    hb_err err;
    bool replayed; /* the result came from an earlier command with the same key */
    char err_detail[LIMIT_ERR_DETAIL_LEN + 1];
    /* A command allowed with a risk note: "review" (a case was opened for a person to look
     * at), "fuse" (accepted, and its code stops taking payments) or "report" (a
     * large-transaction report was filed), and why; "" = a plain allow. */
    char risk_decision[8];
    char risk_reason[LIMIT_ERR_DETAIL_LEN + 1];

    /* Engine-private. */
    command *next;
    completion *completion;
    command_done_fn done;
    void *done_ctx;
};

typedef struct engine_options {
    const char *node;         /* audit chain name; default "local" */
    int batch_max;            /* commands per batch; default LIMIT_BATCH_DEFAULT */
    int queue_max;            /* queued commands; default LIMIT_QUEUE_DEFAULT */
    const hb_clock *clock;    /* default clock_real() */
    int64_t cache_kib;        /* store page cache; 0 = store default */
    int64_t transfer_max_fen; /* cap of one transfer; 0 = the policy's transfer_max */
    const policy *policy;     /* copied; NULL = policy_defaults() */
    bool create;              /* create the store if missing */
    /* Read every account into the writer's memory at open (one sequential pass) instead of
     * on first touch: for long-running processes with many accounts (servers, benchmarks).
     * A one-shot CLI command leaves it off. */
    bool preload_accounts;
    /* SQLite: the WAL size in pages at which the background checkpointer copies it back
     * into the database; 0 = the store's default (32768) */
    int64_t checkpoint_frames;
} engine_options;

typedef struct engine_stats {
    int64_t batches;
    int64_t commands;
    int64_t failed_batches;
    int64_t max_batch;
    int64_t queue_depth;
    int64_t batch_size_hist[16]; /* [k] counts batches of size in [2^k, 2^(k+1)) */
    /* Writer time by phase, in nanoseconds: running commands, writing the batch's balance
     * updates, committing (the fsync). */
    int64_t exec_ns;
    int64_t apply_ns;
    int64_t commit_ns;
} engine_stats;

/* Open the store at url and start the writer. *out owned by the caller: engine_close().
 * Errors as store_open(); err_text receives a message. */
hb_err engine_open(const char *url, const engine_options *options, engine **out,
                   char *err_text, size_t err_text_size) WARN_UNUSED;
/* Run every command already queued, stop the writer, close the store, free. NULL ignored. */
void engine_close(engine *e);

/* Submit one command and wait until its outcome is durable. Returns cmd->err. Blocks while
 * the queue is full. HB_ERR_BUSY when the engine is stopping. Thread-safe. */
hb_err engine_submit(engine *e, command *cmd);
/* Submit n commands together and wait for all of them; returns HB_ERR_OK when each was
 * run (look at each cmd->err), or HB_ERR_BUSY when stopping (none was queued). */
hb_err engine_submit_many(engine *e, command **cmds, size_t n);
/* Queue a command and return at once; done(cmd, ctx) runs in the engine's completer thread
 * when its outcome is durable. HB_ERR_BUSY (done is not called) when the queue is full or stopping. */
hb_err engine_submit_async(engine *e, command *cmd, command_done_fn done, void *ctx) WARN_UNUSED;

/* As engine_submit_async, but waits while the queue is full (backpressure for callers that
 * must not drop a command); HB_ERR_BUSY only when the engine is stopping. */
hb_err engine_submit_async_wait(engine *e, command *cmd, command_done_fn done,
                                void *ctx) WARN_UNUSED;

void engine_get_stats(engine *e, engine_stats *out);
/* Replace the policy; batches starting after the call use it (atomic: a batch sees one). */
void engine_set_policy(engine *e, const policy *p);
const char *engine_node(const engine *e);

/* ---- used by commands, in the writer thread -------------------------------------------- */

int64_t txn_now_ms(const txn *t);
/* The policy in force for this batch. */
const policy *txn_policy(const txn *t);
/* The business day of the batch (days since 1970-01-01 in the process's time zone, which
 * `serve` sets from the policy). */
int64_t txn_business_day(const txn *t);
/* The name of the writer's audit chain (engine_options.node). */
const char *txn_node(const txn *t);
/* The minute of the business day (0..1439) at the batch's time, in the policy's zone. */
int64_t txn_minute_of_day(const txn *t);
/* Add amount to what the account has paid today (written with the batch), unless that would
 * pass daily_limit: then LIMIT_EXCEEDED and nothing changes. */
hb_err txn_charge_daily(txn *t, int64_t account_id, int64_t amount,
                        int64_t daily_limit) WARN_UNUSED;
/* As txn_charge_daily, and also charged to the account's business year, unless that would
 * pass yearly_limit (then LIMIT_EXCEEDED, *yearly_exceeded set when not NULL). */
hb_err txn_charge(txn *t, int64_t account_id, int64_t amount, int64_t daily_limit,
                  int64_t yearly_limit, bool *yearly_exceeded) WARN_UNUSED;
/* What the account has paid on the batch's business day so far (this command included). */
hb_err txn_day_debits(txn *t, int64_t account_id, int64_t *out) WARN_UNUSED;
/* Set a person's real-name level (0..3). */
hb_err txn_account_set_real_name(txn *t, int64_t id, int level) WARN_UNUSED;
/* The store, for rows a service keeps beyond the ledger's (read only through the txn for
 * accounts: the engine holds their current balances). */
store *txn_store(txn *t);
/* Nonces signed at or before ms were pruned (the store keeps the horizon too). */
void txn_raise_nonce_horizon(txn *t, int64_t ms);
/* The account as this command sees it (balance includes earlier commands of the batch).
 * The pointer is valid until the command returns. NOT_FOUND, UNAVAILABLE. */
hb_err txn_account(txn *t, int64_t id, const account **out) WARN_UNUSED;
/* The first system account (tier system) of a kind and currency. NOT_FOUND, UNAVAILABLE. */
hb_err txn_system_account(txn *t, account_kind kind, currency cur,
                          const account **out) WARN_UNUSED;
/* Create an account: assigns a->id and a->created_at_ms; balance must be 0. */
hb_err txn_account_create(txn *t, account *a) WARN_UNUSED;
/* Set an account's status (frozen, closed, active) and restriction. */
hb_err txn_account_set_status(txn *t, int64_t id, account_status status,
                              int64_t restricted_until_ms) WARN_UNUSED;
/* Move money: checks amount (1..max), distinct existing accounts, matching currency,
 * statuses (ACCOUNT_FROZEN, ACCOUNT_RESTRICTED), flags (INSUFFICIENT_FUNDS), bounds
 * (LIMIT_EXCEEDED); assigns tr->id and tr->created_at_ms and records the transfer. */
hb_err txn_transfer(txn *t, transfer *tr) WARN_UNUSED;
/* Add a row a service wrote (beyond the ledger's own accounts and transfers) to the
 * digest its audit record holds: the table's name, the integers, then the texts, in the
 * ledger's canonical encoding. At most 60 integers. UNAVAILABLE if the digest fails. */
/* A ledger row the command wrote (a packet, claim, payment, refund or settlement: the engine
 * records its own transfers and accounts), for the record's row digest (engine/rows.h). */
hb_err txn_row_written(txn *t, rows_table table, const void *row) WARN_UNUSED;
hb_err txn_digest_row(txn *t, const char *table, const int64_t *ints, size_t n_ints,
                      const char *const *texts, size_t n_texts) WARN_UNUSED;
/* The command is about to fail with a domain error, but what it wrote (a risk case, a
 * frozen account, a fused code: never money) must stay: the refusal is committed with its
 * audit record (txn_audit is required) and without an idempotency record, so that a retry is
 * decided again. The command must not have moved money or charged limits before it. */
void txn_keep_refusal(txn *t);
/* Note on an allowed command that the risk engine reviewed, fused or reported it (the
 * weightiest note wins: review, then fuse, then report). */
void txn_risk_note(txn *t, const char *decision, const char *reason);
/* Name the command's audit record (required for every successful command). */
void txn_audit(txn *t, const char *action, const char *object);
/* The text stored with the idempotency key, handed to replay() on a repeat. */
void txn_set_result(txn *t, const char *result, size_t len);
/* A human-readable detail for the command's error (printf-style). */
void txn_fail_detail(txn *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
