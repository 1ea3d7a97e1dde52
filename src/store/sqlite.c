/* The embedded store's driver: SQLite in WAL mode with synchronous=FULL, one file.
 *
 * Parameters are written $1, $2, ... in store.c; SQLite reads "$1" as a named parameter, so
 * prepare() maps each number to SQLite's own index once. */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/invariant.h"
#include "store/driver.h"

#define SQLITE_PARAMS_MAX 32

typedef struct sqlite_stmt {
    sqlite3_stmt *stmt;
    int index_of[SQLITE_PARAMS_MAX + 1]; /* $n -> SQLite's parameter index */
    bool stepped_done;
} sqlite_stmt;

static hb_err map_error(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
        return HB_ERR_OK;
    case SQLITE_CONSTRAINT:
        /* Only a unique key is a domain outcome (an idempotency key or an id taken); a CHECK
         * or NOT NULL failure means a row the engine should never have built. */
        if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
            return HB_ERR_DUPLICATE;
        }
        return HB_ERR_UNAVAILABLE;
    default:
        /* I/O errors, disk full, corruption, busy, out of memory: the store is unusable
         * for this transaction; the caller rolls back and reopens. */
        return HB_ERR_UNAVAILABLE;
    }
}

static const char *const migrations[] = {
    /* 1: the ledger core. */
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE accounts ("
    "  id INTEGER PRIMARY KEY,"
    "  owner TEXT NOT NULL,"
    "  kind INTEGER NOT NULL CHECK (kind BETWEEN 1 AND 6),"
    "  tier INTEGER NOT NULL CHECK (tier BETWEEN 0 AND 3),"
    "  currency TEXT NOT NULL CHECK (length(currency) = 3),"
    "  flags INTEGER NOT NULL CHECK (flags BETWEEN 0 AND 3),"
    "  status INTEGER NOT NULL CHECK (status BETWEEN 0 AND 2),"
    "  restricted_until INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL);"
    /* Balances live apart from the rest of the account: a batch rewrites only these small
     * rows, so a random spread of transfers dirties as few pages as possible. */
    "CREATE TABLE balances ("
    "  account_id INTEGER PRIMARY KEY REFERENCES accounts(id),"
    "  balance INTEGER NOT NULL);"
    /* One custody reserve, fee revenue and escrow account per currency. */
    "CREATE UNIQUE INDEX accounts_system ON accounts(kind, currency) WHERE tier = 0;"
    "CREATE TABLE transfers ("
    "  id INTEGER PRIMARY KEY,"
    "  idem_key TEXT NOT NULL,"
    "  debit_id INTEGER NOT NULL,"
    "  credit_id INTEGER NOT NULL,"
    "  amount INTEGER NOT NULL CHECK (amount > 0),"
    "  currency TEXT NOT NULL,"
    "  kind INTEGER NOT NULL,"
    "  reference TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  CHECK (debit_id <> credit_id));"
    "CREATE TABLE idempotency ("
    "  scope TEXT NOT NULL,"
    "  key TEXT NOT NULL,"
    "  request_hash BLOB NOT NULL,"
    "  result TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  PRIMARY KEY (scope, key)) WITHOUT ROWID;"
    "CREATE TABLE audit ("
    "  node TEXT NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  time INTEGER NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  object TEXT NOT NULL,"
    "  digest BLOB NOT NULL,"
    "  prev_hash BLOB NOT NULL,"
    "  hash BLOB NOT NULL,"
    "  PRIMARY KEY (node, seq)) WITHOUT ROWID;",
    /* 2: customers with encrypted personal data, API keys, sessions, request nonces. */
    "CREATE TABLE customers ("
    "  id INTEGER PRIMARY KEY,"
    "  tier INTEGER NOT NULL CHECK (tier BETWEEN 1 AND 3),"
    "  region TEXT NOT NULL,"
    "  name_box BLOB NOT NULL,"
    "  phone_box BLOB NOT NULL,"
    "  phone_hash BLOB NOT NULL,"
    "  id_number_box BLOB NOT NULL,"
    "  pending_id INTEGER NOT NULL,"
    "  available_id INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL);"
    "CREATE INDEX customers_phone ON customers(phone_hash);"
    "CREATE TABLE api_keys ("
    "  key_id TEXT PRIMARY KEY,"
    "  secret_box BLOB NOT NULL,"
    "  role INTEGER NOT NULL CHECK (role BETWEEN 1 AND 3),"
    "  account_id INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  revoked_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE sessions ("
    "  token_hash BLOB PRIMARY KEY,"
    "  account_id INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL,"
    "  revoked_at INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE nonces ("
    "  key_id TEXT NOT NULL,"
    "  nonce TEXT NOT NULL,"
    "  ts INTEGER NOT NULL,"
    "  PRIMARY KEY (key_id, nonce)) WITHOUT ROWID;"
    "CREATE INDEX nonces_ts ON nonces(ts);",
    /* 3: what each account paid on its last business day, kept in the balance row so that
     * the batch's one update per account maintains it (the tier's daily limit). */
    "ALTER TABLE balances ADD COLUMN debit_day INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE balances ADD COLUMN day_debits INTEGER NOT NULL DEFAULT 0;",
    /* 4: an account's statement without a per-account index (whose random inserts halved
     * the writer's throughput): each transfer points to the previous transfer of its debit
     * and of its credit account, and the balance row to the account's newest transfer. */
    "ALTER TABLE transfers ADD COLUMN prev_debit INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE transfers ADD COLUMN prev_credit INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE balances ADD COLUMN last_transfer INTEGER NOT NULL DEFAULT 0;",
    /* 5: red packets, their shares and claims. */
    "CREATE TABLE packets ("
    "  id INTEGER PRIMARY KEY,"
    "  sender_id INTEGER NOT NULL,"
    "  currency TEXT NOT NULL,"
    "  total INTEGER NOT NULL CHECK (total > 0),"
    "  count INTEGER NOT NULL CHECK (count > 0 AND count <= total),"
    "  mode INTEGER NOT NULL CHECK (mode BETWEEN 1 AND 2),"
    "  fission INTEGER NOT NULL CHECK (fission BETWEEN 0 AND 1),"
    "  seed_id INTEGER NOT NULL,"
    "  allow_sender INTEGER NOT NULL CHECK (allow_sender BETWEEN 0 AND 1),"
    "  wishing TEXT NOT NULL,"
    "  scene TEXT NOT NULL,"
    "  status INTEGER NOT NULL CHECK (status IN (0, 1, 3)),"
    "  claimed_count INTEGER NOT NULL CHECK (claimed_count BETWEEN 0 AND count),"
    "  claimed_amount INTEGER NOT NULL CHECK (claimed_amount >= 0),"
    "  refunded_amount INTEGER NOT NULL CHECK (refunded_amount >= 0),"
    "  best_seq INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL,"
    "  finished_at INTEGER NOT NULL,"
    "  fund_transfer INTEGER NOT NULL,"
    "  refund_transfer INTEGER NOT NULL,"
    "  CHECK (claimed_amount + refunded_amount <= total));"
    /* the sweeper finds sent packets by expiry; a sender lists its own */
    "CREATE INDEX packets_open ON packets(expires_at) WHERE status = 0;"
    "CREATE INDEX packets_sender ON packets(sender_id, id);"
    "CREATE INDEX packets_created ON packets(created_at);"
    /* the split, computed at creation, LIMIT_SHARE_CHUNK little-endian int64s a row */
    "CREATE TABLE packet_shares ("
    "  packet_id INTEGER NOT NULL,"
    "  chunk INTEGER NOT NULL,"
    "  amounts BLOB NOT NULL,"
    "  PRIMARY KEY (packet_id, chunk)) WITHOUT ROWID;"
    "CREATE TABLE claims ("
    "  packet_id INTEGER NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  claimer_id INTEGER NOT NULL,"
    "  amount INTEGER NOT NULL CHECK (amount > 0),"
    "  transfer_id INTEGER NOT NULL,"
    "  claimed_at INTEGER NOT NULL,"
    "  PRIMARY KEY (packet_id, seq)) WITHOUT ROWID;"
    /* one share per account per packet, whatever any node believed */
    "CREATE UNIQUE INDEX claims_claimer ON claims(packet_id, claimer_id);",
    /* 6: payment codes. */
    "CREATE TABLE codes ("
    "  id INTEGER PRIMARY KEY,"
    "  owner_id INTEGER NOT NULL,"
    "  kind INTEGER NOT NULL CHECK (kind BETWEEN 1 AND 2),"
    "  amount INTEGER NOT NULL CHECK (amount >= 0),"
    "  currency TEXT NOT NULL,"
    "  memo TEXT NOT NULL,"
    "  order_no TEXT NOT NULL,"
    "  merchant_name TEXT NOT NULL,"
    "  city TEXT NOT NULL,"
    "  mcc TEXT NOT NULL,"
    "  suite INTEGER NOT NULL CHECK (suite BETWEEN 1 AND 2),"
    "  token TEXT NOT NULL,"
    "  status INTEGER NOT NULL CHECK (status BETWEEN 0 AND 2),"
    "  created_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL,"
    "  ended_at INTEGER NOT NULL);"
    /* a merchant's order number names one dynamic code */
    "CREATE UNIQUE INDEX codes_order ON codes(owner_id, order_no) WHERE order_no <> '';"
    "CREATE INDEX codes_owner ON codes(owner_id, id);",
    /* 7: payments through codes, their refunds, D+1 settlement batches, webhook endpoints
     * and their deliveries; a merchant's own fee rate (-1 = its tier's lowest). */
    "ALTER TABLE customers ADD COLUMN fee_rate_bp INTEGER NOT NULL DEFAULT -1;"
    "CREATE TABLE payments ("
    "  id INTEGER PRIMARY KEY,"
    "  code_id INTEGER NOT NULL,"
    "  code_kind INTEGER NOT NULL CHECK (code_kind BETWEEN 1 AND 2),"
    "  payer_id INTEGER NOT NULL,"
    "  owner_id INTEGER NOT NULL,"
    "  credit_id INTEGER NOT NULL,"
    "  currency TEXT NOT NULL,"
    "  amount INTEGER NOT NULL CHECK (amount > 0),"
    "  fee INTEGER NOT NULL CHECK (fee >= 0 AND fee <= amount),"
    "  fee_rate_bp INTEGER NOT NULL,"
    "  refunded INTEGER NOT NULL CHECK (refunded >= 0 AND refunded <= amount),"
    "  refunded_fee INTEGER NOT NULL CHECK (refunded_fee >= 0 AND refunded_fee <= fee),"
    /* what had been refunded when a settlement batch took the payment (its file's lines) */
    "  settled_refunded INTEGER NOT NULL,"
    "  settled_refunded_fee INTEGER NOT NULL,"
    "  settles INTEGER NOT NULL CHECK (settles BETWEEN 0 AND 1),"
    "  business_day INTEGER NOT NULL,"
    "  settlement_id INTEGER NOT NULL,"
    "  transfer_id INTEGER NOT NULL,"
    "  fee_transfer_id INTEGER NOT NULL,"
    "  device TEXT NOT NULL,"
    "  region TEXT NOT NULL,"
    "  order_no TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  refunded_at INTEGER NOT NULL);"
    "CREATE INDEX payments_code ON payments(code_id, id);"
    "CREATE INDEX payments_owner ON payments(owner_id, id);"
    "CREATE INDEX payments_payer ON payments(payer_id, business_day);"
    "CREATE INDEX payments_unsettled ON payments(credit_id, business_day) "
    "  WHERE settles = 1 AND settlement_id = 0;"
    "CREATE INDEX payments_settlement ON payments(settlement_id, id) WHERE settlement_id <> 0;"
    "CREATE TABLE refunds ("
    "  id INTEGER PRIMARY KEY,"
    "  payment_id INTEGER NOT NULL,"
    "  amount INTEGER NOT NULL CHECK (amount > 0),"
    "  fee INTEGER NOT NULL CHECK (fee >= 0),"
    "  source_id INTEGER NOT NULL,"
    "  transfer_id INTEGER NOT NULL,"
    "  fee_transfer_id INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL);"
    "CREATE INDEX refunds_payment ON refunds(payment_id, id);"
    "CREATE TABLE settlements ("
    "  id INTEGER PRIMARY KEY,"
    "  merchant_id INTEGER NOT NULL,"
    "  day INTEGER NOT NULL,"
    "  currency TEXT NOT NULL,"
    "  gross INTEGER NOT NULL,"
    "  fees INTEGER NOT NULL,"
    "  refunds INTEGER NOT NULL,"
    "  net INTEGER NOT NULL CHECK (net >= 0),"
    "  count INTEGER NOT NULL CHECK (count > 0),"
    "  transfer_id INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL);"
    /* one batch per merchant and day, whatever any node believed */
    "CREATE UNIQUE INDEX settlements_day ON settlements(merchant_id, day);"
    "CREATE INDEX settlements_by_day ON settlements(day, id);"
    "CREATE TABLE webhooks ("
    "  id INTEGER PRIMARY KEY,"
    "  owner_id INTEGER NOT NULL,"
    "  url TEXT NOT NULL,"
    "  events INTEGER NOT NULL,"
    "  secret_box BLOB NOT NULL,"
    "  status INTEGER NOT NULL CHECK (status BETWEEN 0 AND 1),"
    "  created_at INTEGER NOT NULL,"
    "  rotated_at INTEGER NOT NULL);"
    "CREATE INDEX webhooks_owner ON webhooks(owner_id, id);"
    "CREATE TABLE deliveries ("
    "  id INTEGER PRIMARY KEY,"
    "  webhook_id INTEGER NOT NULL,"
    "  event_type TEXT NOT NULL,"
    "  object TEXT NOT NULL,"
    "  body TEXT NOT NULL,"
    "  status INTEGER NOT NULL CHECK (status BETWEEN 0 AND 2),"
    "  attempts INTEGER NOT NULL,"
    "  next_at INTEGER NOT NULL,"
    "  window_start INTEGER NOT NULL,"
    "  last_code INTEGER NOT NULL,"
    "  last_error TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  delivered_at INTEGER NOT NULL);"
    "CREATE INDEX deliveries_due ON deliveries(next_at) WHERE status = 0;"
    "CREATE INDEX deliveries_webhook ON deliveries(webhook_id, id);",
    /* 8: real-name levels and regions on accounts (a person's limits), and what each account
     * paid in its business year (the real-name level's yearly cap), kept in the balance row
     * like the day's. Existing people are taken as ID-verified (level 2). */
    "ALTER TABLE accounts ADD COLUMN real_name INTEGER NOT NULL DEFAULT 0 "
    "  CHECK (real_name BETWEEN 0 AND 3);"
    "ALTER TABLE accounts ADD COLUMN region TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE balances ADD COLUMN debit_year INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE balances ADD COLUMN year_debits INTEGER NOT NULL DEFAULT 0;"
    "UPDATE accounts SET real_name = 2 WHERE kind = 1 AND tier = 1;"
    "UPDATE accounts SET region = (SELECT c.region FROM customers c WHERE c.id = accounts.id) "
    "  WHERE EXISTS (SELECT 1 FROM customers c WHERE c.id = accounts.id);",
    /* 9: a provider's agreement (DESIGN.md section 2: limits, fee, code validity, crypto and
     * shares per agreement); agreement_single 0 = none. */
    "ALTER TABLE customers ADD COLUMN agreement_single INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE customers ADD COLUMN agreement_daily INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE customers ADD COLUMN agreement_validity_s INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE customers ADD COLUMN agreement_crypto INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE customers ADD COLUMN agreement_max_shares INTEGER NOT NULL DEFAULT 0;",
    /* 10: risk: cases (decisions other than allow, to be resolved), lists of accounts,
     * devices and codes with optional expiry (blacklists, and fused codes), and each code's
     * run of same-amount payments. */
    "CREATE TABLE risk_cases ("
    "  id INTEGER PRIMARY KEY,"
    "  account_id INTEGER NOT NULL,"
    "  rule TEXT NOT NULL,"
    "  object TEXT NOT NULL,"
    "  decision TEXT NOT NULL,"
    "  reason TEXT NOT NULL,"
    "  status INTEGER NOT NULL CHECK (status BETWEEN 0 AND 1),"
    "  events INTEGER NOT NULL,"
    "  first_at INTEGER NOT NULL,"
    "  last_at INTEGER NOT NULL,"
    "  resolution TEXT NOT NULL,"
    "  resolved_by TEXT NOT NULL,"
    "  resolved_at INTEGER NOT NULL);"
    "CREATE INDEX risk_cases_open ON risk_cases(account_id, rule, object) WHERE status = 0;"
    "CREATE INDEX risk_cases_status ON risk_cases(status, id);"
    "CREATE TABLE risk_lists ("
    "  kind INTEGER NOT NULL CHECK (kind BETWEEN 1 AND 3),"
    "  value TEXT NOT NULL,"
    "  fuse INTEGER NOT NULL CHECK (fuse BETWEEN 0 AND 1),"
    "  reason TEXT NOT NULL,"
    "  expires_at INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  created_by TEXT NOT NULL,"
    "  PRIMARY KEY (kind, value));"
    "CREATE TABLE code_runs ("
    "  code_id INTEGER PRIMARY KEY,"
    "  amount INTEGER NOT NULL,"
    "  run INTEGER NOT NULL);",
    /* 11: devices bound to accounts (the device-binding and multi-account rules), reports
     * (large single transactions, same-day totals once a day, suspicious night patterns),
     * and the night rule's counts. */
    "CREATE TABLE device_bindings ("
    "  device TEXT NOT NULL,"
    "  account_id INTEGER NOT NULL,"
    "  first_at INTEGER NOT NULL,"
    "  last_at INTEGER NOT NULL,"
    "  PRIMARY KEY (device, account_id));"
    "CREATE INDEX device_bindings_recent ON device_bindings(device, first_at);"
    "CREATE TABLE large_reports ("
    "  id INTEGER PRIMARY KEY,"
    "  account_id INTEGER NOT NULL,"
    "  day INTEGER NOT NULL,"
    "  kind INTEGER NOT NULL CHECK (kind BETWEEN 1 AND 3),"
    "  amount INTEGER NOT NULL,"
    "  reference TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL);"
    "CREATE INDEX large_reports_day ON large_reports(day, id);"
    "CREATE UNIQUE INDEX large_reports_daily ON large_reports(account_id, day) WHERE kind = 2;"
    /* the night rule's count of small payments per account in its current window */
    "CREATE TABLE night_counts ("
    "  account_id INTEGER PRIMARY KEY,"
    "  window_start INTEGER NOT NULL,"
    "  count INTEGER NOT NULL);"
    /* the amount-dispersion rule: a sender's red packets of a business day */
    "CREATE TABLE packet_days ("
    "  account_id INTEGER NOT NULL,"
    "  day INTEGER NOT NULL,"
    "  n INTEGER NOT NULL,"
    "  total INTEGER NOT NULL,"
    "  squares INTEGER NOT NULL,"
    "  PRIMARY KEY (account_id, day));",
    /* the static-code cap: what a payer paid through static codes in a business day (O(1)
     * a payment instead of a sum over the day's payments) */
    "CREATE TABLE static_days ("
    "  account_id INTEGER NOT NULL,"
    "  day INTEGER NOT NULL,"
    "  total INTEGER NOT NULL,"
    "  PRIMARY KEY (account_id, day));"
    "INSERT INTO static_days (account_id, day, total) "
    "  SELECT payer_id, business_day, SUM(amount) FROM payments WHERE code_kind = 1 "
    "  GROUP BY payer_id, business_day;"
    /* bumped with every change of the risk lists: a writer's copy of them is current while
     * the version it loaded is */
    "CREATE TABLE risk_version ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  version INTEGER NOT NULL);"
    "INSERT INTO risk_version (id, version) VALUES (1, 0);",
    /* signed checkpoints of the audit chains (Ed25519, the audit key file) */
    "CREATE TABLE audit_checkpoints ("
    "  node TEXT NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  hash BLOB NOT NULL,"
    "  time INTEGER NOT NULL,"
    "  signature BLOB NOT NULL,"
    "  PRIMARY KEY (node, seq));",
    /* manual corrections: proposed by one admin, approved or rejected by another */
    "CREATE TABLE adjustments ("
    "  id INTEGER PRIMARY KEY,"
    "  debit_id INTEGER NOT NULL,"
    "  credit_id INTEGER NOT NULL,"
    "  amount INTEGER NOT NULL CHECK (amount > 0),"
    "  currency TEXT NOT NULL,"
    "  reason TEXT NOT NULL,"
    "  status INTEGER NOT NULL CHECK (status BETWEEN 1 AND 3),"
    "  proposed_by TEXT NOT NULL,"
    "  proposed_at INTEGER NOT NULL,"
    "  decided_by TEXT NOT NULL,"
    "  decided_at INTEGER NOT NULL,"
    "  note TEXT NOT NULL,"
    "  transfer_id INTEGER NOT NULL);"
    "CREATE INDEX adjustments_status ON adjustments(status, id);",
    /* an account's trail: the audit records about it, by time */
    "CREATE INDEX audit_object ON audit(object, time);",
    /* the chain's hash of each record: 1 SHA-256, 2 SM3 (national-crypto mode) */
    "ALTER TABLE audit ADD COLUMN alg INTEGER NOT NULL DEFAULT 1;",
    /* archive cuts: where an archive took a chain's older records, signed as a cut (not as a
     * checkpoint), so that no routine checkpoint can pass for one */
    "CREATE TABLE audit_cuts ("
    "  node TEXT NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  hash BLOB NOT NULL,"
    "  time INTEGER NOT NULL,"
    "  signature BLOB NOT NULL,"
    "  PRIMARY KEY (node, seq));",
    /* every ledger row names the audit record of the command that wrote it, and the record
     * holds the digest of those rows (the verifier recomputes it); claims in the order of
     * their transfers, which is the order they were written */
    "ALTER TABLE transfers ADD COLUMN audit_node TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE transfers ADD COLUMN audit_seq INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE accounts ADD COLUMN audit_node TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE accounts ADD COLUMN audit_seq INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE packets ADD COLUMN audit_node TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE packets ADD COLUMN audit_seq INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE claims ADD COLUMN audit_node TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE claims ADD COLUMN audit_seq INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE payments ADD COLUMN audit_node TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE payments ADD COLUMN audit_seq INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE refunds ADD COLUMN audit_node TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE refunds ADD COLUMN audit_seq INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE settlements ADD COLUMN audit_node TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE settlements ADD COLUMN audit_seq INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE audit ADD COLUMN row_digest BLOB;"
    "CREATE INDEX claims_transfer ON claims(transfer_id);",
    /* browser sessions of admins and merchants (issue 10): a session's role, and the
     * one-time login links that open them */
    "ALTER TABLE sessions ADD COLUMN role INTEGER NOT NULL DEFAULT 4;"
    "CREATE TABLE login_links ("
    "  token_hash BLOB PRIMARY KEY,"
    "  role INTEGER NOT NULL,"
    "  account_id INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL,"
    "  used_at INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL) WITHOUT ROWID;",
};

#define MIGRATION_COUNT ((int)(sizeof migrations / sizeof migrations[0]))

static hb_err query_int(sqlite3 *db, const char *sql, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return HB_ERR_UNAVAILABLE;
    hb_err err = HB_ERR_UNAVAILABLE;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        err = HB_ERR_OK;
    }
    sqlite3_finalize(st);
    return err;
}

/* The store's schema version, refusing databases that are not hongbao stores: version 0
 * with tables in it belongs to something else, and we never write into it. */
static hb_err schema_version(sqlite3 *db, int64_t *version, char *err_text, size_t err_text_size)
{
    int64_t tables = 0;
    if (query_int(db, "PRAGMA user_version", version) != HB_ERR_OK ||
        query_int(db, "SELECT COUNT(*) FROM sqlite_master", &tables) != HB_ERR_OK) {
        snprintf(err_text, err_text_size, "cannot read the schema: %s", sqlite3_errmsg(db));
        return HB_ERR_UNAVAILABLE;
    }
    if (*version == 0 && tables > 0) {
        snprintf(err_text, err_text_size, "this database is not a hongbao store");
        return HB_ERR_INVALID_ARGUMENT;
    }
    if (*version > MIGRATION_COUNT) {
        snprintf(err_text, err_text_size, "store schema version %lld is newer than this build (%d)",
                 (long long)*version, MIGRATION_COUNT);
        return HB_ERR_UNAVAILABLE;
    }
    return HB_ERR_OK;
}

static hb_err migrate(sqlite3 *db, int64_t version, char *err_text, size_t err_text_size)
{
    for (int64_t v = version; v < MIGRATION_COUNT; v++) {
        char set_version[64];
        snprintf(set_version, sizeof set_version, "PRAGMA user_version = %lld", (long long)v + 1);
        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(db, migrations[v], NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(db, set_version, NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
            snprintf(err_text, err_text_size, "migration %lld failed: %s", (long long)v + 1,
                     sqlite3_errmsg(db));
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return HB_ERR_UNAVAILABLE;
        }
    }
    return HB_ERR_OK;
}

/* Durability settings of a writable connection: WAL (checked: a file system without shared
 * memory support would silently stay in rollback mode) and a full fsync at every commit. */
static hb_err configure_writer(sqlite3 *db, char *err_text, size_t err_text_size)
{
    sqlite3_stmt *st = NULL;
    bool wal = false;
    if (sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *mode = sqlite3_column_text(st, 0);
        wal = mode != NULL && strcmp((const char *)mode, "wal") == 0;
    }
    sqlite3_finalize(st);
    if (!wal) {
        snprintf(err_text, err_text_size, "cannot switch the store to WAL mode: %s",
                 sqlite3_errmsg(db));
        return HB_ERR_UNAVAILABLE;
    }
    if (sqlite3_exec(db, "PRAGMA synchronous=FULL; PRAGMA wal_autocheckpoint=65536;", NULL, NULL,
                     NULL) != SQLITE_OK) {
        snprintf(err_text, err_text_size, "cannot configure the store: %s", sqlite3_errmsg(db));
        return HB_ERR_UNAVAILABLE;
    }
    return HB_ERR_OK;
}

/* ---- the background checkpointer ------------------------------------------------------------
 * SQLite copies the WAL back into the database file (a checkpoint) in whichever connection
 * commits past wal_autocheckpoint: for the engine, its one writer, which then stands still
 * while it writes tens of megabytes and fsyncs the database; every request waiting on it
 * waits too (under load, the worst 1% of answers took 30 ms instead of 4). With a
 * checkpointer, a thread of its own with its own connection does that work instead, as a
 * PASSIVE checkpoint that runs beside the writer's commits. A passive checkpoint cannot
 * catch up with a writer that keeps committing, and SQLite starts the WAL again from its
 * beginning only once every frame is copied; so after each background run the writer copies
 * the few frames it committed meanwhile itself (a small checkpoint), and its next transaction
 * can restart the WAL. If the checkpointer falls far behind, the writer checkpoints by
 * itself, as SQLite would. */

#define CHECKPOINT_WRITER_TIMES 8 /* 8 times the start: the writer checkpoints by itself */

typedef enum checkpoint_state {
    CHECKPOINT_IDLE,     /* the WAL is short enough */
    CHECKPOINT_ASKED,    /* the writer asked for a run */
    CHECKPOINT_RUNNING,  /* the thread is copying */
    CHECKPOINT_FINISHED  /* a run ended: the writer copies the rest at its next commit */
} checkpoint_state;

typedef struct checkpointer {
    sqlite3 *writer;  /* the connection it serves (the key of the registry) */
    sqlite3 *db;      /* its own connection, used only by its thread */
    int start_frames; /* a WAL this long starts a run */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    checkpoint_state state;
    bool stopping;
    struct checkpointer *next;
} checkpointer;

static pthread_mutex_t checkpointers_lock = PTHREAD_MUTEX_INITIALIZER;
static checkpointer *checkpointers;

static void *checkpointer_main(void *arg)
{
    checkpointer *c = arg;
    pthread_setname_np(pthread_self(), "hb-checkpoint");
    pthread_mutex_lock(&c->lock);
    for (;;) {
        while (c->state != CHECKPOINT_ASKED && !c->stopping) pthread_cond_wait(&c->wake, &c->lock);
        if (c->stopping) break;
        c->state = CHECKPOINT_RUNNING;
        pthread_mutex_unlock(&c->lock);
        int rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
            /* a failed write or sync of the database file: nothing is lost (the frames stay
             * in the WAL, which is durable), the writer's own checkpoint will try again */
            fprintf(stderr, "{\"level\":\"warn\",\"msg\":\"background checkpoint failed\","
                            "\"error\":\"%s\"}\n", sqlite3_errstr(rc));
        }
        pthread_mutex_lock(&c->lock);
        c->state = CHECKPOINT_FINISHED;
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

/* After each commit of the writer (SQLite's WAL hook, which replaces wal_autocheckpoint). */
static int checkpointer_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
    checkpointer *c = arg;
    (void)name;
    bool finish = false;
    pthread_mutex_lock(&c->lock);
    if (c->state == CHECKPOINT_FINISHED) {
        c->state = CHECKPOINT_IDLE;
        finish = true;
    } else if (c->state == CHECKPOINT_IDLE && frames >= c->start_frames) {
        c->state = CHECKPOINT_ASKED;
        pthread_cond_signal(&c->wake);
    }
    pthread_mutex_unlock(&c->lock);
    if (finish || frames >= CHECKPOINT_WRITER_TIMES * c->start_frames) {
        /* BUSY (the checkpointer holds the checkpoint lock) is fine: the next commit tries */
        sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    }
    return SQLITE_OK;
}

/* A checkpointer for the writer db of the store at path; false if it could not start (the
 * writer then keeps SQLite's own checkpoints). */
static bool checkpointer_start(sqlite3 *writer, const char *path, int64_t start_frames)
{
    checkpointer *c = calloc(1, sizeof *c);
    if (c == NULL) return false;
    c->writer = writer;
    c->start_frames = start_frames > 0 && start_frames <= LIMIT_WAL_PAGES_MAX
                          ? (int)start_frames
                          : LIMIT_WAL_PAGES_MAX; /* ~128 MiB of WAL */
    if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK ||
        /* the read opens its view of the WAL, which a checkpoint needs */
        sqlite3_exec(c->db, "PRAGMA synchronous=FULL; PRAGMA wal_autocheckpoint=0; "
                            "SELECT count(*) FROM sqlite_master;", NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_close(c->db);
        free(c);
        return false;
    }
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->wake, NULL);
    if (pthread_create(&c->thread, NULL, checkpointer_main, c) != 0) {
        pthread_cond_destroy(&c->wake);
        pthread_mutex_destroy(&c->lock);
        sqlite3_close(c->db);
        free(c);
        return false;
    }
    pthread_mutex_lock(&checkpointers_lock);
    c->next = checkpointers;
    checkpointers = c;
    pthread_mutex_unlock(&checkpointers_lock);
    sqlite3_wal_hook(writer, checkpointer_hook, c);
    return true;
}

/* Stop and free the checkpointer of a writer connection about to close, if it has one. */
static void checkpointer_stop(sqlite3 *writer)
{
    pthread_mutex_lock(&checkpointers_lock);
    checkpointer **link = &checkpointers;
    while (*link != NULL && (*link)->writer != writer) link = &(*link)->next;
    checkpointer *c = *link;
    if (c != NULL) *link = c->next;
    pthread_mutex_unlock(&checkpointers_lock);
    if (c == NULL) return;
    sqlite3_wal_hook(writer, NULL, NULL);
    pthread_mutex_lock(&c->lock);
    c->stopping = true;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->lock);
    pthread_join(c->thread, NULL);
    sqlite3_close(c->db);
    pthread_cond_destroy(&c->wake);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static pthread_once_t sqlite_configured = PTHREAD_ONCE_INIT;

/* Process-wide settings, before SQLite initialises: no memory statistics (they take a global
 * mutex on every allocation, which the writer does many times per command). */
static void configure_sqlite(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sqlite3_initialize();
}

static hb_err sqlite_open(const char *url, const store_options *options, void **conn,
                          char *err_text, size_t err_text_size)
{
    pthread_once(&sqlite_configured, configure_sqlite);
    sqlite3 *db = NULL;
    int flags = SQLITE_OPEN_NOMUTEX;
    flags |= options->read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
    if (options->create && !options->read_only) flags |= SQLITE_OPEN_CREATE;
    int rc = sqlite3_open_v2(url, &db, flags, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err_text, err_text_size, "cannot open %s: %s", url,
                 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return (rc & 0xff) == SQLITE_CANTOPEN ? HB_ERR_NOT_FOUND : HB_ERR_UNAVAILABLE;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, 5000);
    char pragmas[160];
    int64_t cache_kib = options->cache_kib > 0 ? options->cache_kib : 65536;
    snprintf(pragmas, sizeof pragmas,
             "PRAGMA cache_size=-%lld; PRAGMA foreign_keys=OFF; PRAGMA temp_store=MEMORY;",
             (long long)cache_kib);
    int64_t version = 0;
    hb_err err = HB_ERR_UNAVAILABLE;
    if (sqlite3_exec(db, pragmas, NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err_text, err_text_size, "cannot configure %s: %s", url, sqlite3_errmsg(db));
        goto fail;
    }
    err = schema_version(db, &version, err_text, err_text_size);
    if (err != HB_ERR_OK) goto fail;
    if (options->read_only) {
        if (version != MIGRATION_COUNT) {
            snprintf(err_text, err_text_size, "%s is not an initialised hongbao store", url);
            err = version == 0 ? HB_ERR_NOT_FOUND : HB_ERR_UNAVAILABLE;
            goto fail;
        }
    } else {
        err = configure_writer(db, err_text, err_text_size);
        if (err == HB_ERR_OK) err = migrate(db, version, err_text, err_text_size);
        if (err != HB_ERR_OK) goto fail;
        if (options->background_checkpoint &&
            !checkpointer_start(db, url, options->checkpoint_frames)) {
            fprintf(stderr, "{\"level\":\"warn\",\"msg\":\"no background checkpointer: the "
                            "writer checkpoints by itself\"}\n");
        }
    }
    *conn = db;
    return HB_ERR_OK;
fail:
    sqlite3_close(db);
    return err;
}

static void sqlite_close(void *conn)
{
    if (conn == NULL) return;
    sqlite3 *db = conn;
    if (!sqlite3_get_autocommit(db)) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    checkpointer_stop(db);
    int rc = sqlite3_close(db);
    ASSERT(rc == SQLITE_OK); /* every statement is finalized before close */
}

static hb_err sqlite_exec(void *conn, const char *sql)
{
    return map_error(sqlite3_exec(conn, sql, NULL, NULL, NULL));
}

static hb_err sqlite_prepare(void *conn, const char *sql, void **out)
{
    sqlite_stmt *s = calloc(1, sizeof *s);
    if (s == NULL) return HB_ERR_UNAVAILABLE;
    int rc = sqlite3_prepare_v3(conn, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->stmt, NULL);
    if (rc != SQLITE_OK) {
        free(s);
        return map_error(rc) == HB_ERR_OK ? HB_ERR_UNAVAILABLE : map_error(rc);
    }
    for (int n = 1; n <= SQLITE_PARAMS_MAX; n++) {
        char name[8];
        snprintf(name, sizeof name, "$%d", n);
        s->index_of[n] = sqlite3_bind_parameter_index(s->stmt, name);
    }
    *out = s;
    return HB_ERR_OK;
}

static void sqlite_finalize(void *stmt)
{
    if (stmt == NULL) return;
    sqlite_stmt *s = stmt;
    sqlite3_finalize(s->stmt);
    free(s);
}

static int param_index(sqlite_stmt *s, int param)
{
    ASSERT(param >= 1 && param <= SQLITE_PARAMS_MAX);
    ASSERT(s->index_of[param] > 0); /* the SQL text names $param */
    return s->index_of[param];
}

static void sqlite_bind_i64(void *stmt, int param, int64_t value)
{
    sqlite_stmt *s = stmt;
    ASSERT(sqlite3_bind_int64(s->stmt, param_index(s, param), value) == SQLITE_OK);
}

static void sqlite_bind_text(void *stmt, int param, const char *text, size_t len)
{
    sqlite_stmt *s = stmt;
    ASSERT(len <= (size_t)INT32_MAX);
    ASSERT(sqlite3_bind_text(s->stmt, param_index(s, param), text, (int)len,
                             SQLITE_TRANSIENT) == SQLITE_OK);
}

static void sqlite_bind_blob(void *stmt, int param, const void *data, size_t len)
{
    sqlite_stmt *s = stmt;
    ASSERT(len <= (size_t)INT32_MAX);
    ASSERT(sqlite3_bind_blob(s->stmt, param_index(s, param), data, (int)len,
                             SQLITE_TRANSIENT) == SQLITE_OK);
}

static void sqlite_bind_null(void *stmt, int param)
{
    sqlite_stmt *s = stmt;
    ASSERT(sqlite3_bind_null(s->stmt, param_index(s, param)) == SQLITE_OK);
}

static hb_err sqlite_step(void *stmt, bool *row)
{
    sqlite_stmt *s = stmt;
    int rc = sqlite3_step(s->stmt);
    if (rc == SQLITE_ROW) {
        *row = true;
        return HB_ERR_OK;
    }
    *row = false;
    if (rc == SQLITE_DONE) return HB_ERR_OK;
    hb_err err = map_error(rc);
    return err == HB_ERR_OK ? HB_ERR_UNAVAILABLE : err;
}

static int64_t sqlite_column_i64(void *stmt, int col)
{
    return sqlite3_column_int64(((sqlite_stmt *)stmt)->stmt, col);
}

static const char *sqlite_column_text(void *stmt, int col, size_t *len)
{
    sqlite_stmt *s = stmt;
    const unsigned char *text = sqlite3_column_text(s->stmt, col);
    int n = sqlite3_column_bytes(s->stmt, col);
    *len = n > 0 ? (size_t)n : 0;
    return text ? (const char *)text : "";
}

static const void *sqlite_column_blob(void *stmt, int col, size_t *len)
{
    sqlite_stmt *s = stmt;
    const void *data = sqlite3_column_blob(s->stmt, col);
    int n = sqlite3_column_bytes(s->stmt, col);
    *len = n > 0 ? (size_t)n : 0;
    return data;
}

static bool sqlite_column_null(void *stmt, int col)
{
    return sqlite3_column_type(((sqlite_stmt *)stmt)->stmt, col) == SQLITE_NULL;
}

static void sqlite_reset(void *stmt)
{
    sqlite_stmt *s = stmt;
    sqlite3_reset(s->stmt);
    sqlite3_clear_bindings(s->stmt);
}

static int64_t sqlite_changes(void *conn)
{
    return sqlite3_changes64(conn);
}

static const char *sqlite_last_error(void *conn)
{
    return conn ? sqlite3_errmsg(conn) : "not open";
}

static hb_err sqlite_data_version(void *conn, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(conn, "PRAGMA data_version", -1, &st, NULL) != SQLITE_OK) {
        return HB_ERR_UNAVAILABLE;
    }
    hb_err err = HB_ERR_UNAVAILABLE;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        err = HB_ERR_OK;
    }
    sqlite3_finalize(st);
    return err;
}

const driver_ops driver_sqlite = {
    .name = "sqlite",
    .open = sqlite_open,
    .close = sqlite_close,
    .exec = sqlite_exec,
    .prepare = sqlite_prepare,
    .finalize = sqlite_finalize,
    .bind_i64 = sqlite_bind_i64,
    .bind_text = sqlite_bind_text,
    .bind_blob = sqlite_bind_blob,
    .bind_null = sqlite_bind_null,
    .step = sqlite_step,
    .column_i64 = sqlite_column_i64,
    .column_text = sqlite_column_text,
    .column_blob = sqlite_column_blob,
    .column_null = sqlite_column_null,
    .changes = sqlite_changes,
    .reset = sqlite_reset,
    .last_error = sqlite_last_error,
    .data_version = sqlite_data_version,
    .begin_sql = "BEGIN IMMEDIATE",
    .begin_read_sql = "BEGIN",
    .exclusive_writer = true,
};
