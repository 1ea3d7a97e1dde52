/* The scale-out store's driver: PostgreSQL over libpq.
 *
 * store.c's statements are prepared once per connection (PQprepare; PostgreSQL reads the $n
 * parameters natively); transaction control (BEGIN, SAVEPOINT, COMMIT, ...) cannot be
 * prepared and runs as plain commands. Results come back in binary form: integers are
 * bigint, blobs bytea, text as is.
 *
 * Several nodes write through one database. A write transaction starts by taking one
 * transaction-scoped advisory lock, so batches of different nodes run one after another,
 * each a single group commit, and never deadlock; then it bumps a one-row epoch. When the
 * epoch a node finds is the one its own last commit left, no other node has written since,
 * and the writer's cached rows (balances, ids, the statement chain) are still exact: this is
 * the driver's data_version, as SQLite's is for another connection's commit. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/invariant.h"
#include "store/driver.h"

#define PG_PARAMS_MAX 32
/* Pipelined statements in flight before the driver reads their answers (the server stops
 * reading when its answers are not read, so the pipeline must not grow without bound). */
#define PG_PIPELINE_MAX 256
/* The advisory lock that serialises write transactions ("hongbao" in ASCII, shortened). */
#define PG_WRITE_LOCK 0x686f6e6762616fLL

typedef struct pg_conn {
    PGconn *pg;
    bool read_only;
    bool in_write;        /* inside a write transaction begun with begin_sql */
    int64_t own_epoch;    /* the epoch our last successful commit left; -1 = unknown */
    int64_t pending_epoch; /* the epoch the open write transaction will leave */
    int64_t version;      /* data_version: changes when another writer committed */
    int64_t changes;
    int statement_count;
    /* Pipeline mode, during write transactions: statements sent whose answers are not read
     * yet, each with the row count it must report (-1: any). */
    bool pipeline;
    bool failed; /* a pipelined statement failed: nothing more until the transaction ends */
    bool broken; /* out of step with the server: the connection must be closed */
    int pending;
    int64_t expect[PG_PIPELINE_MAX];
    char error[512];
} pg_conn;

typedef struct pg_stmt {
    pg_conn *conn;
    char name[16];
    char *sql;
    bool utility; /* transaction control: run with PQexec, not prepared */
    int param_count;
    char *values[PG_PARAMS_MAX];
    int lengths[PG_PARAMS_MAX];
    int formats[PG_PARAMS_MAX];
    PGresult *result;
    int row;  /* the current row; -1 before the first step */
    int rows;
    bool executed;
} pg_stmt;

/* The marker begin_sql points to: pg_exec recognises it and starts a write transaction. */
static const char pg_begin_write[] = "BEGIN /* hongbao write */";

/* libpq's messages span lines; logs and answers keep one line each. */
static void one_line(char *text)
{
    for (char *p = text; *p; p++) {
        if (*p == '\n' || *p == '\t' || *p == '\r') *p = ' ';
    }
    size_t n = strlen(text);
    while (n > 0 && text[n - 1] == ' ') text[--n] = '\0';
}

static void set_error(pg_conn *c, const char *what, const PGresult *res)
{
    const char *msg = res != NULL ? PQresultErrorMessage(res) : PQerrorMessage(c->pg);
    snprintf(c->error, sizeof c->error, "%s: %s", what, msg != NULL ? msg : "");
    one_line(c->error);
}

/* Map a failed result: a unique violation is DUPLICATE, anything else (lost connection,
 * serialization failure, deadlock, disk full on the server) UNAVAILABLE. */
static hb_err map_result(pg_conn *c, const char *what, PGresult *res)
{
    set_error(c, what, res);
    const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (state != NULL && strcmp(state, "23505") == 0) return HB_ERR_DUPLICATE;
    return HB_ERR_UNAVAILABLE;
}

/* Run a command that returns no rows (or whose rows are ignored). */
static hb_err command(pg_conn *c, const char *sql)
{
    PGresult *res = PQexec(c->pg, sql);
    ExecStatusType st = PQresultStatus(res);
    hb_err err = HB_ERR_OK;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) err = map_result(c, sql, res);
    PQclear(res);
    return err;
}

static hb_err query_i64(pg_conn *c, const char *sql, int64_t *out)
{
    PGresult *res = PQexec(c->pg, sql);
    hb_err err = HB_ERR_UNAVAILABLE;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
        *out = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        err = HB_ERR_OK;
    } else {
        set_error(c, sql, res);
    }
    PQclear(res);
    return err;
}

/* ---- schema ----------------------------------------------------------------------------- */

static const char *const migrations[] = {
    /* 1: everything the SQLite store has after its migration 4, in PostgreSQL types: every
     * integer (money above all) is bigint, blobs are bytea. */
    "CREATE TABLE hb_epoch (id integer PRIMARY KEY CHECK (id = 1), n bigint NOT NULL);"
    "INSERT INTO hb_epoch VALUES (1, 0);"
    "CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL);"
    "CREATE TABLE accounts ("
    "  id bigint PRIMARY KEY,"
    "  owner text NOT NULL,"
    "  kind bigint NOT NULL CHECK (kind BETWEEN 1 AND 6),"
    "  tier bigint NOT NULL CHECK (tier BETWEEN 0 AND 3),"
    "  currency text NOT NULL CHECK (length(currency) = 3),"
    "  flags bigint NOT NULL CHECK (flags BETWEEN 0 AND 3),"
    "  status bigint NOT NULL CHECK (status BETWEEN 0 AND 2),"
    "  restricted_until bigint NOT NULL,"
    "  created_at bigint NOT NULL);"
    "CREATE TABLE balances ("
    "  account_id bigint PRIMARY KEY REFERENCES accounts(id),"
    "  balance bigint NOT NULL,"
    "  debit_day bigint NOT NULL DEFAULT 0,"
    "  day_debits bigint NOT NULL DEFAULT 0,"
    "  last_transfer bigint NOT NULL DEFAULT 0);"
    "CREATE UNIQUE INDEX accounts_system ON accounts(kind, currency) WHERE tier = 0;"
    "CREATE TABLE transfers ("
    "  id bigint PRIMARY KEY,"
    "  idem_key text NOT NULL,"
    "  debit_id bigint NOT NULL,"
    "  credit_id bigint NOT NULL,"
    "  amount bigint NOT NULL CHECK (amount > 0),"
    "  currency text NOT NULL,"
    "  kind bigint NOT NULL,"
    "  reference text NOT NULL,"
    "  created_at bigint NOT NULL,"
    "  prev_debit bigint NOT NULL DEFAULT 0,"
    "  prev_credit bigint NOT NULL DEFAULT 0,"
    "  CHECK (debit_id <> credit_id));"
    "CREATE TABLE idempotency ("
    "  scope text NOT NULL,"
    "  key text NOT NULL,"
    "  request_hash bytea NOT NULL,"
    "  result text NOT NULL,"
    "  created_at bigint NOT NULL,"
    "  PRIMARY KEY (scope, key));"
    "CREATE TABLE audit ("
    "  node text NOT NULL,"
    "  seq bigint NOT NULL,"
    "  time bigint NOT NULL,"
    "  actor text NOT NULL,"
    "  action text NOT NULL,"
    "  object text NOT NULL,"
    "  digest bytea NOT NULL,"
    "  prev_hash bytea NOT NULL,"
    "  hash bytea NOT NULL,"
    "  PRIMARY KEY (node, seq));"
    "CREATE TABLE customers ("
    "  id bigint PRIMARY KEY,"
    "  tier bigint NOT NULL CHECK (tier BETWEEN 1 AND 3),"
    "  region text NOT NULL,"
    "  name_box bytea NOT NULL,"
    "  phone_box bytea NOT NULL,"
    "  phone_hash bytea NOT NULL,"
    "  id_number_box bytea NOT NULL,"
    "  pending_id bigint NOT NULL,"
    "  available_id bigint NOT NULL,"
    "  created_at bigint NOT NULL);"
    "CREATE INDEX customers_phone ON customers(phone_hash);"
    "CREATE TABLE api_keys ("
    "  key_id text PRIMARY KEY,"
    "  secret_box bytea NOT NULL,"
    "  role bigint NOT NULL CHECK (role BETWEEN 1 AND 3),"
    "  account_id bigint NOT NULL,"
    "  created_at bigint NOT NULL,"
    "  revoked_at bigint NOT NULL);"
    "CREATE TABLE sessions ("
    "  token_hash bytea PRIMARY KEY,"
    "  account_id bigint NOT NULL,"
    "  expires_at bigint NOT NULL,"
    "  revoked_at bigint NOT NULL,"
    "  created_at bigint NOT NULL);"
    "CREATE TABLE nonces ("
    "  key_id text NOT NULL,"
    "  nonce text NOT NULL,"
    "  ts bigint NOT NULL,"
    "  PRIMARY KEY (key_id, nonce));"
    "CREATE INDEX nonces_ts ON nonces(ts);",
    /* 2: red packets, their shares and claims (SQLite's migration 5). */
    "CREATE TABLE packets ("
    "  id bigint PRIMARY KEY,"
    "  sender_id bigint NOT NULL,"
    "  currency text NOT NULL,"
    "  total bigint NOT NULL CHECK (total > 0),"
    "  count bigint NOT NULL CHECK (count > 0 AND count <= total),"
    "  mode bigint NOT NULL CHECK (mode BETWEEN 1 AND 2),"
    "  fission bigint NOT NULL CHECK (fission BETWEEN 0 AND 1),"
    "  seed_id bigint NOT NULL,"
    "  allow_sender bigint NOT NULL CHECK (allow_sender BETWEEN 0 AND 1),"
    "  wishing text NOT NULL,"
    "  scene text NOT NULL,"
    "  status bigint NOT NULL CHECK (status IN (0, 1, 3)),"
    "  claimed_count bigint NOT NULL CHECK (claimed_count BETWEEN 0 AND count),"
    "  claimed_amount bigint NOT NULL CHECK (claimed_amount >= 0),"
    "  refunded_amount bigint NOT NULL CHECK (refunded_amount >= 0),"
    "  best_seq bigint NOT NULL,"
    "  created_at bigint NOT NULL,"
    "  expires_at bigint NOT NULL,"
    "  finished_at bigint NOT NULL,"
    "  fund_transfer bigint NOT NULL,"
    "  refund_transfer bigint NOT NULL,"
    "  CHECK (claimed_amount + refunded_amount <= total));"
    /* the sweeper finds sent packets by expiry; a sender lists its own */
    "CREATE INDEX packets_open ON packets(expires_at) WHERE status = 0;"
    "CREATE INDEX packets_sender ON packets(sender_id, id);"
    "CREATE INDEX packets_created ON packets(created_at);"
    /* the split, computed at creation, LIMIT_SHARE_CHUNK little-endian int64s a row */
    "CREATE TABLE packet_shares ("
    "  packet_id bigint NOT NULL,"
    "  chunk bigint NOT NULL,"
    "  amounts bytea NOT NULL,"
    "  PRIMARY KEY (packet_id, chunk));"
    "CREATE TABLE claims ("
    "  packet_id bigint NOT NULL,"
    "  seq bigint NOT NULL,"
    "  claimer_id bigint NOT NULL,"
    "  amount bigint NOT NULL CHECK (amount > 0),"
    "  transfer_id bigint NOT NULL,"
    "  claimed_at bigint NOT NULL,"
    "  PRIMARY KEY (packet_id, seq));"
    /* one share per account per packet, whatever any node believed */
    "CREATE UNIQUE INDEX claims_claimer ON claims(packet_id, claimer_id);",
    /* 3: payment codes (SQLite's migration 6). */
    "CREATE TABLE codes ("
    "  id bigint PRIMARY KEY,"
    "  owner_id bigint NOT NULL,"
    "  kind bigint NOT NULL CHECK (kind BETWEEN 1 AND 2),"
    "  amount bigint NOT NULL CHECK (amount >= 0),"
    "  currency text NOT NULL,"
    "  memo text NOT NULL,"
    "  order_no text NOT NULL,"
    "  merchant_name text NOT NULL,"
    "  city text NOT NULL,"
    "  mcc text NOT NULL,"
    "  suite bigint NOT NULL CHECK (suite BETWEEN 1 AND 2),"
    "  token text NOT NULL,"
    "  status bigint NOT NULL CHECK (status BETWEEN 0 AND 2),"
    "  created_at bigint NOT NULL,"
    "  expires_at bigint NOT NULL,"
    "  ended_at bigint NOT NULL);"
    /* a merchant's order number names one dynamic code */
    "CREATE UNIQUE INDEX codes_order ON codes(owner_id, order_no) WHERE order_no <> '';"
    "CREATE INDEX codes_owner ON codes(owner_id, id);",
    /* 4: payments through codes, their refunds, D+1 settlement batches, webhook endpoints
     * and their deliveries; a merchant's own fee rate (-1 = its tier's lowest). SQLite's
     * migration 7. */
    "ALTER TABLE customers ADD COLUMN fee_rate_bp bigint NOT NULL DEFAULT -1;"
    "CREATE TABLE payments ("
    "  id bigint PRIMARY KEY,"
    "  code_id bigint NOT NULL,"
    "  code_kind bigint NOT NULL CHECK (code_kind BETWEEN 1 AND 2),"
    "  payer_id bigint NOT NULL,"
    "  owner_id bigint NOT NULL,"
    "  credit_id bigint NOT NULL,"
    "  currency text NOT NULL,"
    "  amount bigint NOT NULL CHECK (amount > 0),"
    "  fee bigint NOT NULL CHECK (fee >= 0 AND fee <= amount),"
    "  fee_rate_bp bigint NOT NULL,"
    "  refunded bigint NOT NULL CHECK (refunded >= 0 AND refunded <= amount),"
    "  refunded_fee bigint NOT NULL CHECK (refunded_fee >= 0 AND refunded_fee <= fee),"
    /* what had been refunded when a settlement batch took the payment (its file's lines) */
    "  settled_refunded bigint NOT NULL,"
    "  settled_refunded_fee bigint NOT NULL,"
    "  settles bigint NOT NULL CHECK (settles BETWEEN 0 AND 1),"
    "  business_day bigint NOT NULL,"
    "  settlement_id bigint NOT NULL,"
    "  transfer_id bigint NOT NULL,"
    "  fee_transfer_id bigint NOT NULL,"
    "  device text NOT NULL,"
    "  region text NOT NULL,"
    "  order_no text NOT NULL,"
    "  created_at bigint NOT NULL,"
    "  refunded_at bigint NOT NULL);"
    "CREATE INDEX payments_code ON payments(code_id, id);"
    "CREATE INDEX payments_owner ON payments(owner_id, id);"
    "CREATE INDEX payments_payer ON payments(payer_id, business_day);"
    "CREATE INDEX payments_unsettled ON payments(credit_id, business_day) "
    "  WHERE settles = 1 AND settlement_id = 0;"
    "CREATE INDEX payments_settlement ON payments(settlement_id, id) WHERE settlement_id <> 0;"
    "CREATE TABLE refunds ("
    "  id bigint PRIMARY KEY,"
    "  payment_id bigint NOT NULL,"
    "  amount bigint NOT NULL CHECK (amount > 0),"
    "  fee bigint NOT NULL CHECK (fee >= 0),"
    "  source_id bigint NOT NULL,"
    "  transfer_id bigint NOT NULL,"
    "  fee_transfer_id bigint NOT NULL,"
    "  created_at bigint NOT NULL);"
    "CREATE INDEX refunds_payment ON refunds(payment_id, id);"
    "CREATE TABLE settlements ("
    "  id bigint PRIMARY KEY,"
    "  merchant_id bigint NOT NULL,"
    "  day bigint NOT NULL,"
    "  currency text NOT NULL,"
    "  gross bigint NOT NULL,"
    "  fees bigint NOT NULL,"
    "  refunds bigint NOT NULL,"
    "  net bigint NOT NULL CHECK (net >= 0),"
    "  count bigint NOT NULL CHECK (count > 0),"
    "  transfer_id bigint NOT NULL,"
    "  created_at bigint NOT NULL);"
    /* one batch per merchant and day, whatever any node believed */
    "CREATE UNIQUE INDEX settlements_day ON settlements(merchant_id, day);"
    "CREATE INDEX settlements_by_day ON settlements(day, id);"
    "CREATE TABLE webhooks ("
    "  id bigint PRIMARY KEY,"
    "  owner_id bigint NOT NULL,"
    "  url text NOT NULL,"
    "  events bigint NOT NULL,"
    "  secret_box bytea NOT NULL,"
    "  status bigint NOT NULL CHECK (status BETWEEN 0 AND 1),"
    "  created_at bigint NOT NULL,"
    "  rotated_at bigint NOT NULL);"
    "CREATE INDEX webhooks_owner ON webhooks(owner_id, id);"
    "CREATE TABLE deliveries ("
    "  id bigint PRIMARY KEY,"
    "  webhook_id bigint NOT NULL,"
    "  event_type text NOT NULL,"
    "  object text NOT NULL,"
    "  body text NOT NULL,"
    "  status bigint NOT NULL CHECK (status BETWEEN 0 AND 2),"
    "  attempts bigint NOT NULL,"
    "  next_at bigint NOT NULL,"
    "  window_start bigint NOT NULL,"
    "  last_code bigint NOT NULL,"
    "  last_error text NOT NULL,"
    "  created_at bigint NOT NULL,"
    "  delivered_at bigint NOT NULL);"
    "CREATE INDEX deliveries_due ON deliveries(next_at) WHERE status = 0;"
    "CREATE INDEX deliveries_webhook ON deliveries(webhook_id, id);",
    /* 5: real-name levels and regions on accounts (a person's limits), and what each account
     * paid in its business year (the real-name level's yearly cap), kept in the balance row
     * like the day's. Existing people are taken as ID-verified (level 2). SQLite's
     * migration 8. */
    "ALTER TABLE accounts ADD COLUMN real_name bigint NOT NULL DEFAULT 0 "
    "  CHECK (real_name BETWEEN 0 AND 3);"
    "ALTER TABLE accounts ADD COLUMN region text NOT NULL DEFAULT '';"
    "ALTER TABLE balances ADD COLUMN debit_year bigint NOT NULL DEFAULT 0;"
    "ALTER TABLE balances ADD COLUMN year_debits bigint NOT NULL DEFAULT 0;"
    "UPDATE accounts SET real_name = 2 WHERE kind = 1 AND tier = 1;"
    "UPDATE accounts SET region = (SELECT c.region FROM customers c WHERE c.id = accounts.id) "
    "  WHERE EXISTS (SELECT 1 FROM customers c WHERE c.id = accounts.id);",
    /* 6: a provider's agreement (DESIGN.md section 2: limits, fee, code validity, crypto and
     * shares per agreement); agreement_single 0 = none. SQLite's migration 9. */
    "ALTER TABLE customers ADD COLUMN agreement_single bigint NOT NULL DEFAULT 0;"
    "ALTER TABLE customers ADD COLUMN agreement_daily bigint NOT NULL DEFAULT 0;"
    "ALTER TABLE customers ADD COLUMN agreement_validity_s bigint NOT NULL DEFAULT 0;"
    "ALTER TABLE customers ADD COLUMN agreement_crypto bigint NOT NULL DEFAULT 0;"
    "ALTER TABLE customers ADD COLUMN agreement_max_shares bigint NOT NULL DEFAULT 0;",
    /* 7: risk: cases (decisions other than allow, to be resolved), lists of accounts,
     * devices and codes with optional expiry (blacklists, and fused codes), and each code's
     * run of same-amount payments. SQLite's migration 10. */
    "CREATE TABLE risk_cases ("
    "  id bigint PRIMARY KEY,"
    "  account_id bigint NOT NULL,"
    "  rule text NOT NULL,"
    "  object text NOT NULL,"
    "  decision text NOT NULL,"
    "  reason text NOT NULL,"
    "  status bigint NOT NULL CHECK (status BETWEEN 0 AND 1),"
    "  events bigint NOT NULL,"
    "  first_at bigint NOT NULL,"
    "  last_at bigint NOT NULL,"
    "  resolution text NOT NULL,"
    "  resolved_by text NOT NULL,"
    "  resolved_at bigint NOT NULL);"
    "CREATE INDEX risk_cases_open ON risk_cases(account_id, rule, object) WHERE status = 0;"
    "CREATE INDEX risk_cases_status ON risk_cases(status, id);"
    "CREATE TABLE risk_lists ("
    "  kind bigint NOT NULL CHECK (kind BETWEEN 1 AND 3),"
    "  value text NOT NULL,"
    "  fuse bigint NOT NULL CHECK (fuse BETWEEN 0 AND 1),"
    "  reason text NOT NULL,"
    "  expires_at bigint NOT NULL,"
    "  created_at bigint NOT NULL,"
    "  created_by text NOT NULL,"
    "  PRIMARY KEY (kind, value));"
    "CREATE TABLE code_runs ("
    "  code_id bigint PRIMARY KEY,"
    "  amount bigint NOT NULL,"
    "  run bigint NOT NULL);",
    /* 8: devices bound to accounts (the device-binding and multi-account rules), reports
     * (large single transactions, same-day totals once a day, suspicious night patterns),
     * and the night rule's counts. SQLite's migration 11. */
    "CREATE TABLE device_bindings ("
    "  device text NOT NULL,"
    "  account_id bigint NOT NULL,"
    "  first_at bigint NOT NULL,"
    "  last_at bigint NOT NULL,"
    "  PRIMARY KEY (device, account_id));"
    "CREATE INDEX device_bindings_recent ON device_bindings(device, first_at);"
    "CREATE TABLE large_reports ("
    "  id bigint PRIMARY KEY,"
    "  account_id bigint NOT NULL,"
    "  day bigint NOT NULL,"
    "  kind bigint NOT NULL CHECK (kind BETWEEN 1 AND 3),"
    "  amount bigint NOT NULL,"
    "  reference text NOT NULL,"
    "  created_at bigint NOT NULL);"
    "CREATE INDEX large_reports_day ON large_reports(day, id);"
    "CREATE UNIQUE INDEX large_reports_daily ON large_reports(account_id, day) WHERE kind = 2;"
    /* the night rule's count of small payments per account in its current window */
    "CREATE TABLE night_counts ("
    "  account_id bigint PRIMARY KEY,"
    "  window_start bigint NOT NULL,"
    "  count bigint NOT NULL);"
    /* the amount-dispersion rule: a sender's red packets of a business day */
    "CREATE TABLE packet_days ("
    "  account_id bigint NOT NULL,"
    "  day bigint NOT NULL,"
    "  n bigint NOT NULL,"
    "  total bigint NOT NULL,"
    "  squares bigint NOT NULL,"
    "  PRIMARY KEY (account_id, day));",
    /* the static-code cap: what a payer paid through static codes in a business day (O(1)
     * a payment instead of a sum over the day's payments) */
    "CREATE TABLE static_days ("
    "  account_id bigint NOT NULL,"
    "  day bigint NOT NULL,"
    "  total bigint NOT NULL,"
    "  PRIMARY KEY (account_id, day));"
    "INSERT INTO static_days (account_id, day, total) "
    "  SELECT payer_id, business_day, SUM(amount) FROM payments WHERE code_kind = 1 "
    "  GROUP BY payer_id, business_day;"
    /* bumped with every change of the risk lists: a writer's copy of them is current while
     * the version it loaded is */
    "CREATE TABLE risk_version ("
    "  id bigint PRIMARY KEY CHECK (id = 1),"
    "  version bigint NOT NULL);"
    "INSERT INTO risk_version (id, version) VALUES (1, 0);",
    /* signed checkpoints of the audit chains (Ed25519, the audit key file) */
    "CREATE TABLE audit_checkpoints ("
    "  node text NOT NULL,"
    "  seq bigint NOT NULL,"
    "  hash bytea NOT NULL,"
    "  time bigint NOT NULL,"
    "  signature bytea NOT NULL,"
    "  PRIMARY KEY (node, seq));",
    /* manual corrections: proposed by one admin, approved or rejected by another */
    "CREATE TABLE adjustments ("
    "  id bigint PRIMARY KEY,"
    "  debit_id bigint NOT NULL,"
    "  credit_id bigint NOT NULL,"
    "  amount bigint NOT NULL CHECK (amount > 0),"
    "  currency text NOT NULL,"
    "  reason text NOT NULL,"
    "  status bigint NOT NULL CHECK (status BETWEEN 1 AND 3),"
    "  proposed_by text NOT NULL,"
    "  proposed_at bigint NOT NULL,"
    "  decided_by text NOT NULL,"
    "  decided_at bigint NOT NULL,"
    "  note text NOT NULL,"
    "  transfer_id bigint NOT NULL);"
    "CREATE INDEX adjustments_status ON adjustments(status, id);",
    /* an account's trail: the audit records about it, by time */
    "CREATE INDEX audit_object ON audit(object, time);",
    /* the chain's hash of each record: 1 SHA-256, 2 SM3 (national-crypto mode) */
    "ALTER TABLE audit ADD COLUMN alg bigint NOT NULL DEFAULT 1;",
    /* archive cuts: where an archive took a chain's older records, signed as a cut (not as a
     * checkpoint), so that no routine checkpoint can pass for one */
    "CREATE TABLE audit_cuts ("
    "  node text NOT NULL,"
    "  seq bigint NOT NULL,"
    "  hash bytea NOT NULL,"
    "  time bigint NOT NULL,"
    "  signature bytea NOT NULL,"
    "  PRIMARY KEY (node, seq));",
    /* every ledger row names the audit record of the command that wrote it, and the record
     * holds the digest of those rows (the verifier recomputes it); claims in the order of
     * their transfers, which is the order they were written */
    "ALTER TABLE transfers ADD COLUMN audit_node text NOT NULL DEFAULT '';"
    "ALTER TABLE transfers ADD COLUMN audit_seq bigint NOT NULL DEFAULT 0;"
    "ALTER TABLE accounts ADD COLUMN audit_node text NOT NULL DEFAULT '';"
    "ALTER TABLE accounts ADD COLUMN audit_seq bigint NOT NULL DEFAULT 0;"
    "ALTER TABLE packets ADD COLUMN audit_node text NOT NULL DEFAULT '';"
    "ALTER TABLE packets ADD COLUMN audit_seq bigint NOT NULL DEFAULT 0;"
    "ALTER TABLE claims ADD COLUMN audit_node text NOT NULL DEFAULT '';"
    "ALTER TABLE claims ADD COLUMN audit_seq bigint NOT NULL DEFAULT 0;"
    "ALTER TABLE payments ADD COLUMN audit_node text NOT NULL DEFAULT '';"
    "ALTER TABLE payments ADD COLUMN audit_seq bigint NOT NULL DEFAULT 0;"
    "ALTER TABLE refunds ADD COLUMN audit_node text NOT NULL DEFAULT '';"
    "ALTER TABLE refunds ADD COLUMN audit_seq bigint NOT NULL DEFAULT 0;"
    "ALTER TABLE settlements ADD COLUMN audit_node text NOT NULL DEFAULT '';"
    "ALTER TABLE settlements ADD COLUMN audit_seq bigint NOT NULL DEFAULT 0;"
    "ALTER TABLE audit ADD COLUMN row_digest bytea;"
    "CREATE INDEX claims_transfer ON claims(transfer_id);",
    /* browser sessions of admins and merchants (issue 10): a session's role, and the
     * one-time login links that open them */
    "ALTER TABLE sessions ADD COLUMN role bigint NOT NULL DEFAULT 4;"
    "CREATE TABLE login_links ("
    "  token_hash bytea PRIMARY KEY,"
    "  role bigint NOT NULL,"
    "  account_id bigint NOT NULL,"
    "  expires_at bigint NOT NULL,"
    "  used_at bigint NOT NULL,"
    "  created_at bigint NOT NULL);",
};

#define MIGRATION_COUNT ((int64_t)(sizeof migrations / sizeof migrations[0]))

/* Bring the schema up to date under the write lock, so that nodes starting together
 * migrate once. Refuses a database that holds tables but no hongbao schema. */
static hb_err migrate(pg_conn *c, bool read_only, char *err_text, size_t err_text_size)
{
    hb_err err = command(c, "BEGIN");
    if (err == HB_ERR_OK && !read_only) {
        char lock[96];
        snprintf(lock, sizeof lock, "SELECT pg_advisory_xact_lock(%lld)", (long long)PG_WRITE_LOCK);
        err = command(c, lock);
    }
    int64_t has_schema = 0, tables = 0, version = 0;
    if (err == HB_ERR_OK) {
        err = query_i64(c, "SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema() "
                           "AND tablename = 'hb_schema'", &has_schema);
    }
    if (err == HB_ERR_OK) {
        err = query_i64(c, "SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema()",
                        &tables);
    }
    if (err == HB_ERR_OK && has_schema) {
        err = query_i64(c, "SELECT version FROM hb_schema", &version);
    }
    if (err != HB_ERR_OK) {
        snprintf(err_text, err_text_size, "cannot read the schema: %s", c->error);
        goto fail;
    }
    if (!has_schema && tables > 0) {
        snprintf(err_text, err_text_size, "this database is not a hongbao store");
        err = HB_ERR_INVALID_ARGUMENT;
        goto fail;
    }
    if (version > MIGRATION_COUNT) {
        snprintf(err_text, err_text_size, "store schema version %lld is newer than this build (%lld)",
                 (long long)version, (long long)MIGRATION_COUNT);
        err = HB_ERR_UNAVAILABLE;
        goto fail;
    }
    if (read_only) {
        command(c, "ROLLBACK");
        if (version != MIGRATION_COUNT) {
            snprintf(err_text, err_text_size, "the database is not an initialised hongbao store");
            return version == 0 ? HB_ERR_NOT_FOUND : HB_ERR_UNAVAILABLE;
        }
        return HB_ERR_OK;
    }
    if (!has_schema) {
        err = command(c, "CREATE TABLE hb_schema (version bigint NOT NULL);"
                         "INSERT INTO hb_schema VALUES (0)");
    }
    for (int64_t v = version; err == HB_ERR_OK && v < MIGRATION_COUNT; v++) {
        char set_version[64];
        snprintf(set_version, sizeof set_version, "UPDATE hb_schema SET version = %lld",
                 (long long)v + 1);
        err = command(c, migrations[v]);
        if (err == HB_ERR_OK) err = command(c, set_version);
        if (err != HB_ERR_OK) {
            snprintf(err_text, err_text_size, "migration %lld failed: %s", (long long)v + 1,
                     c->error);
        }
    }
    if (err == HB_ERR_OK) err = command(c, "COMMIT");
    if (err == HB_ERR_OK) return HB_ERR_OK;
    if (err_text[0] == '\0') snprintf(err_text, err_text_size, "%s", c->error);
fail:
    command(c, "ROLLBACK");
    return err == HB_ERR_INVALID_ARGUMENT ? err : HB_ERR_UNAVAILABLE;
}

/* ---- open and close --------------------------------------------------------------------- */

/* Connect with the url's parameters, dbname replaced when given. */
static PGconn *connect_with(const char *url, const char *dbname)
{
    char *parse_error = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &parse_error);
    if (opts == NULL) {
        PQfreemem(parse_error);
        return NULL;
    }
    const char *keys[64];
    const char *values[64];
    int n = 0;
    for (PQconninfoOption *o = opts; o->keyword != NULL && n < 52; o++) {
        if (strcmp(o->keyword, "dbname") == 0 && dbname != NULL) continue;
        if (o->val == NULL) continue;
        keys[n] = o->keyword;
        values[n] = o->val;
        n++;
    }
    if (dbname != NULL) {
        keys[n] = "dbname";
        values[n] = dbname;
        n++;
    }
    /* Never hang on a silent network: bounded connect, TCP keepalives, and a bound on
     * unacknowledged sends, unless the url says otherwise. */
    static const char *const defaults[][2] = {{"connect_timeout", "10"},
                                              {"keepalives", "1"},
                                              {"keepalives_idle", "10"},
                                              {"keepalives_interval", "5"},
                                              {"keepalives_count", "3"},
                                              {"tcp_user_timeout", "30000"}};
    for (size_t d = 0; d < sizeof defaults / sizeof defaults[0] && n < 62; d++) {
        bool given = false;
        for (PQconninfoOption *o = opts; o->keyword != NULL; o++) {
            if (strcmp(o->keyword, defaults[d][0]) == 0 && o->val != NULL) given = true;
        }
        if (!given) {
            keys[n] = defaults[d][0];
            values[n] = defaults[d][1];
            n++;
        }
    }
    keys[n] = NULL;
    values[n] = NULL;
    PGconn *pg = PQconnectdbParams(keys, values, 0);
    PQconninfoFree(opts);
    return pg;
}

/* `hongbao init` on a database that does not exist yet: create it through the server's
 * maintenance database, as createdb would. */
static bool create_database(const char *url, char *err_text, size_t err_text_size)
{
    char *parse_error = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &parse_error);
    if (opts == NULL) {
        PQfreemem(parse_error);
        return false;
    }
    char name[128] = "";
    for (PQconninfoOption *o = opts; o->keyword != NULL; o++) {
        if (strcmp(o->keyword, "dbname") == 0 && o->val != NULL) {
            snprintf(name, sizeof name, "%s", o->val);
        }
    }
    PQconninfoFree(opts);
    if (name[0] == '\0') return false;
    PGconn *admin = connect_with(url, "postgres");
    bool ok = false;
    if (admin != NULL && PQstatus(admin) == CONNECTION_OK) {
        char *ident = PQescapeIdentifier(admin, name, strlen(name));
        if (ident != NULL) {
            char sql[256];
            snprintf(sql, sizeof sql, "CREATE DATABASE %s", ident);
            PQfreemem(ident);
            PGresult *res = PQexec(admin, sql);
            const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
            /* 42P04: another node created it at the same moment */
            ok = PQresultStatus(res) == PGRES_COMMAND_OK ||
                 (state != NULL && strcmp(state, "42P04") == 0);
            if (!ok) snprintf(err_text, err_text_size, "cannot create the database: %s",
                              PQresultErrorMessage(res));
            PQclear(res);
        }
    }
    PQfinish(admin);
    return ok;
}

static void notice_quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message; /* NOTICEs (e.g. "relation exists") are not errors; keep stderr clean */
}

static hb_err pg_open(const char *url, const store_options *options, void **conn, char *err_text,
                      size_t err_text_size)
{
    char *parse_error = NULL;
    PQconninfoOption *parsed = PQconninfoParse(url, &parse_error);
    if (parsed == NULL) {
        snprintf(err_text, err_text_size, "bad PostgreSQL url: %s",
                 parse_error != NULL ? parse_error : "out of memory");
        PQfreemem(parse_error);
        return HB_ERR_INVALID_ARGUMENT;
    }
    PQconninfoFree(parsed);
    pg_conn *c = calloc(1, sizeof *c);
    if (c == NULL) return HB_ERR_UNAVAILABLE;
    c->read_only = options->read_only;
    c->own_epoch = -1;
    c->pg = connect_with(url, NULL);
    if (c->pg != NULL && PQstatus(c->pg) != CONNECTION_OK && options->create &&
        !options->read_only && strstr(PQerrorMessage(c->pg), "does not exist") != NULL) {
        PQfinish(c->pg);
        c->pg = create_database(url, err_text, err_text_size) ? connect_with(url, NULL) : NULL;
    }
    if (c->pg == NULL || PQstatus(c->pg) != CONNECTION_OK) {
        if (err_text[0] == '\0') {
            snprintf(err_text, err_text_size, "cannot connect to PostgreSQL: %s",
                     c->pg != NULL ? PQerrorMessage(c->pg) : "bad connection url");
        }
        one_line(err_text);
        bool missing = c->pg != NULL && strstr(PQerrorMessage(c->pg), "does not exist") != NULL;
        PQfinish(c->pg);
        free(c);
        return missing ? HB_ERR_NOT_FOUND : HB_ERR_UNAVAILABLE;
    }
    PQsetNoticeProcessor(c->pg, notice_quiet, NULL);
    /* A writer that stops in the middle of a batch must not hold the write lock for long,
     * and nobody waits for it for ever: the server ends such transactions, and a writer
     * waiting for the lock gives up with UNAVAILABLE (503) rather than hang its callers.
     * The server's own keepalives find a writer whose host or network died mid-batch.
     * Readers (the ledger check over a large store) are not bounded. */
    hb_err err = command(c, "SET client_encoding = 'UTF8'; SET TIME ZONE 'UTC'");
    if (err == HB_ERR_OK && !options->read_only) {
        err = command(c, "SET statement_timeout = '60s'; SET lock_timeout = '15s'; "
                         "SET idle_in_transaction_session_timeout = '60s'; "
                         "SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; "
                         "SET tcp_keepalives_count = 3; SET tcp_user_timeout = 30000");
    }
    if (err != HB_ERR_OK) {
        snprintf(err_text, err_text_size, "cannot configure the connection: %s", c->error);
    } else {
        err = migrate(c, options->read_only, err_text, err_text_size);
    }
    if (err == HB_ERR_OK && options->read_only) {
        err = command(c, "SET default_transaction_read_only = on");
    }
    if (err != HB_ERR_OK) {
        PQfinish(c->pg);
        free(c);
        return err;
    }
    *conn = c;
    return HB_ERR_OK;
}

static void pg_close(void *conn)
{
    pg_conn *c = conn;
    if (c == NULL) return;
    PQfinish(c->pg);
    free(c);
}

/* ---- pipeline ---------------------------------------------------------------------------- */

/* The connection lost its place in the protocol (or pipeline mode could not end): nothing on
 * it can be trusted any more; pg_alive() says so and its owner closes it. */
static void pipe_broken(pg_conn *c, const char *why)
{
    if (!c->broken) snprintf(c->error, sizeof c->error, "pipeline: %s", why);
    c->broken = true;
    c->failed = true;
}

/* Send one statement into the pipeline. */
static bool pipe_send(pg_conn *c, const pg_stmt *s)
{
    int ok = s->utility ? PQsendQueryParams(c->pg, s->sql, 0, NULL, NULL, NULL, NULL, 1)
                        : PQsendQueryPrepared(c->pg, s->name, s->param_count,
                                              (const char *const *)s->values, s->lengths,
                                              s->formats, 1);
    if (!ok) {
        set_error(c, "send", NULL);
        c->failed = true;
    }
    return ok;
}

/* Read the answer of one pipelined statement: its result, then the NULL that ends it. A row
 * count other than expect (when >= 0) is a failure. Returns the result when keep is set and
 * the statement succeeded. */
static PGresult *pipe_read_one(pg_conn *c, int64_t expect, bool keep, hb_err *err)
{
    PGresult *res = PQgetResult(c->pg);
    *err = HB_ERR_UNAVAILABLE;
    if (res == NULL) {
        pipe_broken(c, "an answer is missing");
        return NULL;
    }
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        const char *tuples = PQcmdTuples(res);
        c->changes = tuples[0] != '\0' ? strtoll(tuples, NULL, 10) : 0;
        *err = HB_ERR_OK;
        if (expect >= 0 && c->changes != expect) {
            snprintf(c->error, sizeof c->error,
                     "a pipelined statement changed %lld rows, not %lld", (long long)c->changes,
                     (long long)expect);
            *err = HB_ERR_UNAVAILABLE;
        }
    } else if (st == PGRES_PIPELINE_ABORTED) {
        if (c->error[0] == '\0') snprintf(c->error, sizeof c->error, "pipeline aborted");
    } else if (st == PGRES_PIPELINE_SYNC) {
        pipe_broken(c, "a sync point came before an answer");
    } else {
        *err = map_result(c, "pipeline", res);
    }
    PGresult *end = PQgetResult(c->pg);
    if (end != NULL) {
        PQclear(end);
        pipe_broken(c, "an answer did not end where it should");
    }
    if (!keep || *err != HB_ERR_OK) {
        PQclear(res);
        return NULL;
    }
    return res;
}

/* Put a sync point behind everything sent, and read every answer up to it: the pending
 * writes (with their row counts), then, when own is given, the caller's statement sent
 * last (*own is its result, *own_err its outcome). Returns the first failure among the
 * pending writes; after any failure the server has skipped what followed it, and the
 * transaction waits for ROLLBACK or ROLLBACK TO SAVEPOINT. A sync point also lets the server
 * count the connection as idle in its transaction (idle_in_transaction_session_timeout). */
static hb_err pipe_sync(pg_conn *c, PGresult **own, hb_err *own_err)
{
    if (PQpipelineSync(c->pg) != 1) {
        set_error(c, "sync", NULL);
        pipe_broken(c, "cannot send a sync point");
        return HB_ERR_UNAVAILABLE;
    }
    hb_err first = HB_ERR_OK;
    for (int i = 0; i < c->pending && !c->broken; i++) {
        hb_err err;
        pipe_read_one(c, c->expect[i], false, &err);
        if (err != HB_ERR_OK && first == HB_ERR_OK) first = HB_ERR_UNAVAILABLE;
    }
    c->pending = 0;
    if (own != NULL && own_err != NULL) {
        *own = c->broken ? NULL : pipe_read_one(c, -1, true, own_err);
        if (c->broken) *own_err = HB_ERR_UNAVAILABLE;
    }
    if (!c->broken) {
        PGresult *sync = PQgetResult(c->pg);
        if (sync == NULL || PQresultStatus(sync) != PGRES_PIPELINE_SYNC) {
            pipe_broken(c, "the sync point is missing");
        }
        PQclear(sync);
    }
    if (first != HB_ERR_OK || c->broken) c->failed = true;
    return c->broken ? HB_ERR_UNAVAILABLE : first;
}

/* Leave pipeline mode, reading whatever is left. */
static void pipe_end(pg_conn *c)
{
    if (!c->pipeline) return;
    if (!c->broken) (void)pipe_sync(c, NULL, NULL);
    if (!c->broken && PQexitPipelineMode(c->pg) != 1) pipe_broken(c, "cannot leave pipeline mode");
    c->pipeline = false;
    c->pending = 0;
    if (!c->broken) c->failed = false;
}

/* ---- transactions ----------------------------------------------------------------------- */

/* A write transaction: the cluster-wide write lock, then the epoch. */
static hb_err begin_write(pg_conn *c)
{
    if (c->broken) return HB_ERR_UNAVAILABLE;
    char sql[160];
    snprintf(sql, sizeof sql,
             "BEGIN; SELECT pg_advisory_xact_lock(%lld)", (long long)PG_WRITE_LOCK);
    hb_err err = command(c, sql);
    int64_t epoch = 0;
    if (err == HB_ERR_OK) {
        err = query_i64(c, "UPDATE hb_epoch SET n = n + 1 WHERE id = 1 RETURNING n", &epoch);
    }
    if (err != HB_ERR_OK) {
        command(c, "ROLLBACK");
        c->own_epoch = -1;
        return HB_ERR_UNAVAILABLE;
    }
    if (epoch - 1 != c->own_epoch) c->version++; /* someone else wrote since our last commit */
    c->pending_epoch = epoch;
    c->in_write = true;
    if (PQenterPipelineMode(c->pg) != 1) {
        set_error(c, "pipeline", NULL);
        command(c, "ROLLBACK");
        c->in_write = false;
        c->own_epoch = -1;
        return HB_ERR_UNAVAILABLE;
    }
    c->pipeline = true;
    c->failed = false;
    c->pending = 0;
    return HB_ERR_OK;
}

/* Ends of transactions go through here: a commit we cannot confirm leaves the epoch unknown,
 * so the next write transaction reloads. PostgreSQL answers COMMIT of an aborted transaction
 * with "ROLLBACK" and no error: that is a failure too. In pipeline mode every pending write
 * is read (one sync point) before COMMIT is sent: a write that changed the wrong number of
 * rows is no error to the server, which would otherwise commit the rest. */
static hb_err end_transaction(pg_conn *c, const char *sql)
{
    bool commit = strncmp(sql, "COMMIT", 6) == 0;
    hb_err err = HB_ERR_OK;
    if (c->pipeline) {
        if (commit && !c->failed) err = pipe_sync(c, NULL, NULL);
        if (commit && c->failed) err = HB_ERR_UNAVAILABLE;
        pipe_end(c);
    }
    if (c->broken) {
        err = HB_ERR_UNAVAILABLE; /* the server rolls back when the owner closes it */
    } else {
        PGresult *res = PQexec(c->pg, err == HB_ERR_OK ? sql : "ROLLBACK");
        if (err == HB_ERR_OK) {
            if (PQresultStatus(res) != PGRES_COMMAND_OK) {
                err = map_result(c, sql, res);
            } else if (commit && strcmp(PQcmdStatus(res), "COMMIT") != 0) {
                snprintf(c->error, sizeof c->error, "the transaction was aborted and rolled back");
                err = HB_ERR_UNAVAILABLE;
            }
        }
        PQclear(res);
        if (err != HB_ERR_OK && PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
            PGresult *rb = PQexec(c->pg, "ROLLBACK");
            PQclear(rb);
        }
    }
    if (c->in_write) {
        c->own_epoch = commit && err == HB_ERR_OK ? c->pending_epoch : -1;
        c->in_write = false;
    }
    return err == HB_ERR_DUPLICATE ? HB_ERR_UNAVAILABLE : err;
}

/* COMMIT or ROLLBACK (not ROLLBACK TO SAVEPOINT): the end of a transaction. */
static bool ends_transaction(const char *sql)
{
    return strncmp(sql, "COMMIT", 6) == 0 ||
           (strncmp(sql, "ROLLBACK", 8) == 0 && strncmp(sql, "ROLLBACK TO", 11) != 0);
}

static hb_err pg_exec(void *conn, const char *sql)
{
    pg_conn *c = conn;
    if (sql == pg_begin_write) return begin_write(c);
    if (ends_transaction(sql)) return end_transaction(c, sql);
    return command(c, sql);
}

/* ---- statements ------------------------------------------------------------------------- */

static bool is_utility(const char *sql)
{
    static const char *const words[] = {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        if (strncmp(sql, words[i], strlen(words[i])) == 0) return true;
    }
    return false;
}

static int highest_param(const char *sql)
{
    int max = 0;
    for (const char *p = sql; *p; p++) {
        if (*p == '$' && p[1] >= '0' && p[1] <= '9') {
            int n = (int)strtol(p + 1, NULL, 10);
            if (n > max) max = n;
        }
    }
    return max;
}

static hb_err pg_prepare(void *conn, const char *sql, void **out)
{
    pg_conn *c = conn;
    pg_stmt *s = calloc(1, sizeof *s);
    if (s == NULL) return HB_ERR_UNAVAILABLE;
    s->conn = c;
    s->sql = strdup(sql);
    s->utility = is_utility(sql);
    s->param_count = highest_param(sql);
    s->row = -1;
    if (s->sql == NULL || s->param_count > PG_PARAMS_MAX) {
        free(s->sql);
        free(s);
        return HB_ERR_UNAVAILABLE;
    }
    if (!s->utility) {
        snprintf(s->name, sizeof s->name, "hb%d", c->statement_count++);
        PGresult *res = PQprepare(c->pg, s->name, sql, 0, NULL);
        hb_err err = PQresultStatus(res) == PGRES_COMMAND_OK ? HB_ERR_OK
                                                              : map_result(c, "prepare", res);
        PQclear(res);
        if (err != HB_ERR_OK) {
            free(s->sql);
            free(s);
            return HB_ERR_UNAVAILABLE;
        }
    }
    *out = s;
    return HB_ERR_OK;
}

static void clear_params(pg_stmt *s)
{
    for (int i = 0; i < PG_PARAMS_MAX; i++) {
        free(s->values[i]);
        s->values[i] = NULL;
        s->lengths[i] = 0;
        s->formats[i] = 0;
    }
}

static void pg_reset(void *stmt)
{
    pg_stmt *s = stmt;
    PQclear(s->result);
    s->result = NULL;
    s->row = -1;
    s->rows = 0;
    s->executed = false;
    clear_params(s);
}

static void pg_finalize(void *stmt)
{
    pg_stmt *s = stmt;
    if (s == NULL) return;
    pg_reset(s);
    free(s->sql);
    free(s);
}

static void set_param(pg_stmt *s, int param, const void *data, size_t len, int format)
{
    ASSERT(param >= 1 && param <= s->param_count);
    int i = param - 1;
    free(s->values[i]);
    s->values[i] = malloc(len + 1);
    ASSERT(s->values[i] != NULL);
    if (len > 0) memcpy(s->values[i], data, len);
    s->values[i][len] = '\0';
    s->lengths[i] = (int)len;
    s->formats[i] = format;
}

static void pg_bind_i64(void *stmt, int param, int64_t value)
{
    char text[24];
    int n = snprintf(text, sizeof text, "%lld", (long long)value);
    set_param(stmt, param, text, (size_t)n, 0);
}

static void pg_bind_text(void *stmt, int param, const char *text, size_t len)
{
    set_param(stmt, param, text, len, 0);
}

static void pg_bind_blob(void *stmt, int param, const void *data, size_t len)
{
    set_param(stmt, param, data, len, 1);
}

static void pg_bind_null(void *stmt, int param)
{
    pg_stmt *s = stmt;
    ASSERT(param >= 1 && param <= s->param_count);
    free(s->values[param - 1]);
    s->values[param - 1] = NULL; /* libpq: a NULL value pointer is SQL NULL */
    s->lengths[param - 1] = 0;
    s->formats[param - 1] = 0;
}

static hb_err pg_step(void *stmt, bool *row)
{
    pg_stmt *s = stmt;
    pg_conn *c = s->conn;
    *row = false;
    if (!s->executed && c->pipeline) {
        s->executed = true;
        if (ends_transaction(s->sql)) return end_transaction(c, s->sql);
        /* After a pipelined write failed nothing runs, not even ROLLBACK TO: the failure may
         * belong to an earlier command, so the whole transaction must go. */
        if (c->failed || !pipe_send(c, s)) return HB_ERR_UNAVAILABLE;
        hb_err err = HB_ERR_UNAVAILABLE;
        PGresult *own = NULL;
        if (pipe_sync(c, &own, &err) != HB_ERR_OK) {
            PQclear(own);
            return HB_ERR_UNAVAILABLE;
        }
        /* This statement's own failure (a unique violation in a savepoint) leaves the
         * transaction waiting for ROLLBACK TO; the sync point is behind it already. */
        if (err != HB_ERR_OK) return err;
        s->result = own;
        s->rows = PQntuples(s->result);
    } else if (!s->executed) {
        s->executed = true;
        if (s->utility) {
            if (ends_transaction(s->sql)) return end_transaction(c, s->sql);
            return command(c, s->sql);
        }
        s->result = PQexecPrepared(c->pg, s->name, s->param_count,
                                   (const char *const *)s->values, s->lengths, s->formats, 1);
        ExecStatusType st = PQresultStatus(s->result);
        if (st == PGRES_COMMAND_OK) {
            const char *tuples = PQcmdTuples(s->result);
            c->changes = tuples[0] != '\0' ? strtoll(tuples, NULL, 10) : 0;
            return HB_ERR_OK;
        }
        if (st != PGRES_TUPLES_OK) {
            hb_err err = map_result(c, s->name, s->result);
            PQclear(s->result);
            s->result = NULL;
            return err;
        }
        s->rows = PQntuples(s->result);
        const char *tuples = PQcmdTuples(s->result);
        c->changes = tuples[0] != '\0' ? strtoll(tuples, NULL, 10) : 0;
    }
    if (s->result == NULL) return HB_ERR_OK;
    if (s->row + 1 < s->rows) {
        s->row++;
        *row = true;
    }
    return HB_ERR_OK;
}

static hb_err pg_step_deferred(void *stmt, int64_t expect_changes)
{
    pg_stmt *s = stmt;
    pg_conn *c = s->conn;
    if (!c->pipeline) {
        bool row = false;
        hb_err err = pg_step(stmt, &row);
        if (err == HB_ERR_OK && expect_changes >= 0 && c->changes != expect_changes) {
            err = HB_ERR_NOT_FOUND;
        }
        return err;
    }
    if (c->failed) return HB_ERR_UNAVAILABLE;
    if (c->pending == PG_PIPELINE_MAX && pipe_sync(c, NULL, NULL) != HB_ERR_OK) {
        return HB_ERR_UNAVAILABLE;
    }
    if (!pipe_send(c, s)) return HB_ERR_UNAVAILABLE;
    c->expect[c->pending++] = expect_changes;
    return HB_ERR_OK;
}

static uint64_t be_read(const unsigned char *p, int len)
{
    uint64_t v = 0;
    for (int i = 0; i < len; i++) v = (v << 8) | p[i];
    return v;
}

static int64_t pg_column_i64(void *stmt, int col)
{
    pg_stmt *s = stmt;
    ASSERT(s->result != NULL && s->row >= 0);
    if (PQgetisnull(s->result, s->row, col)) return 0;
    const unsigned char *p = (const unsigned char *)PQgetvalue(s->result, s->row, col);
    int len = PQgetlength(s->result, s->row, col);
    switch (len) {
    case 8:
        return (int64_t)be_read(p, 8);
    case 4:
        return (int32_t)(uint32_t)be_read(p, 4);
    case 2:
        return (int16_t)(uint16_t)be_read(p, 2);
    case 1:
        return p[0]; /* boolean */
    default:
        ASSERT(len == 8); /* an integer column of unexpected width */
        return 0;
    }
}

static const char *pg_column_text(void *stmt, int col, size_t *len)
{
    pg_stmt *s = stmt;
    ASSERT(s->result != NULL && s->row >= 0);
    *len = (size_t)PQgetlength(s->result, s->row, col);
    return PQgetvalue(s->result, s->row, col);
}

static const void *pg_column_blob(void *stmt, int col, size_t *len)
{
    return pg_column_text(stmt, col, len);
}

static bool pg_column_null(void *stmt, int col)
{
    pg_stmt *s = stmt;
    ASSERT(s->result != NULL && s->row >= 0);
    return PQgetisnull(s->result, s->row, col);
}

static int64_t pg_changes(void *conn)
{
    return ((pg_conn *)conn)->changes;
}

static const char *pg_last_error(void *conn)
{
    pg_conn *c = conn;
    return c != NULL ? c->error : "not open";
}

static bool pg_alive(void *conn)
{
    const pg_conn *c = conn;
    return !c->broken && PQstatus(c->pg) == CONNECTION_OK;
}

static hb_err pg_ping(void *conn)
{
    return command(conn, "SELECT 1");
}

static hb_err pg_data_version(void *conn, int64_t *out)
{
    *out = ((pg_conn *)conn)->version;
    return HB_ERR_OK;
}

const driver_ops driver_pg = {
    .name = "postgresql",
    .open = pg_open,
    .close = pg_close,
    .exec = pg_exec,
    .prepare = pg_prepare,
    .finalize = pg_finalize,
    .bind_i64 = pg_bind_i64,
    .bind_text = pg_bind_text,
    .bind_blob = pg_bind_blob,
    .bind_null = pg_bind_null,
    .step = pg_step,
    .column_i64 = pg_column_i64,
    .column_text = pg_column_text,
    .column_blob = pg_column_blob,
    .column_null = pg_column_null,
    .changes = pg_changes,
    .reset = pg_reset,
    .last_error = pg_last_error,
    .data_version = pg_data_version,
    .begin_sql = pg_begin_write,
    .begin_read_sql = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
    /* Writers are serialised by the advisory lock and data_version tells when another node
     * wrote, so a writer's cached rows are as trustworthy as with SQLite. */
    .exclusive_writer = true,
    .step_deferred = pg_step_deferred,
    .alive = pg_alive,
    .ping = pg_ping,
};
