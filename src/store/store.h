/* The one storage interface of hongbao.
 *
 * A `store` is one connection to one database: the embedded SQLite file (a path) or, from
 * the PostgreSQL issue on, a postgres:// URL. Nothing here exposes a driver's types or
 * behaviour; all SQL lives in store.c, written once in the subset both engines share, and the
 * drivers (sqlite.c, later pg.c) only move parameters, rows and errors.
 *
 * Thread safety: a store handle is used by one thread at a time. The engine's writer owns one
 * handle; readers open their own (SQLite WAL gives each a consistent snapshot).
 *
 * Errors: every function returns HB_ERR_OK, a domain error it names (NOT_FOUND, DUPLICATE),
 * or HB_ERR_UNAVAILABLE for any storage fault (I/O, disk full, corruption, busy), after which
 * the caller rolls back and may reopen the store. store_last_error() tells what happened. */
#ifndef HB_STORE_STORE_H
#define HB_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/currency.h"
#include "core/error.h"
#include "core/invariant.h"
#include "core/limits.h"

typedef struct store store;

/* Kinds of ledger account. Values are stored; never renumber. */
typedef enum account_kind {
    ACCOUNT_KIND_NONE = 0,
    ACCOUNT_WALLET = 1,             /* a customer's spendable wallet */
    ACCOUNT_MERCHANT_PENDING = 2,   /* a merchant's received, unsettled money */
    ACCOUNT_MERCHANT_AVAILABLE = 3, /* a merchant's settled money */
    ACCOUNT_PACKET_ESCROW = 4,      /* red-packet money between sending and claiming */
    ACCOUNT_FEE_REVENUE = 5,        /* the platform's fee income */
    ACCOUNT_CUSTODY_RESERVE = 6,    /* mirrors the custody bank account (balance <= 0) */
    ACCOUNT_KIND_COUNT = 7
} account_kind;

/* Who the money in an account belongs to, for the 100%-custody check. */
typedef enum account_class {
    ACCOUNT_CLASS_CUSTODY,  /* the reserve itself */
    ACCOUNT_CLASS_CUSTOMER, /* owed to customers */
    ACCOUNT_CLASS_PLATFORM  /* the platform's own money held in custody (fees) */
} account_class;

typedef enum tier {
    TIER_SYSTEM = 0,
    TIER_PERSONAL = 1,
    TIER_ENTERPRISE = 2,
    TIER_PROVIDER = 3,
    TIER_COUNT = 4
} tier;

typedef enum account_status {
    ACCOUNT_ACTIVE = 0,
    ACCOUNT_FROZEN = 1, /* neither debits nor credits */
    ACCOUNT_CLOSED = 2, /* neither debits nor credits, for good */
    ACCOUNT_STATUS_COUNT = 3
} account_status;

/* Account flags, enforced by the ledger itself. */
enum {
    /* The balance never goes below zero (customer money). */
    ACCOUNT_FLAG_NO_NEGATIVE = 1u << 0,
    /* The balance never goes above zero (the custody reserve: it can only owe). */
    ACCOUNT_FLAG_NO_POSITIVE = 1u << 1,
    ACCOUNT_FLAGS_ALL = ACCOUNT_FLAG_NO_NEGATIVE | ACCOUNT_FLAG_NO_POSITIVE
};

/* A ledger account. Balance = sum of credits - sum of debits, in fen. */
typedef struct account {
    int64_t id;
    char owner[LIMIT_OWNER_LEN + 1];
    account_kind kind;
    tier tier;
    currency currency;
    int64_t balance;
    uint32_t flags;
    account_status status;
    int64_t restricted_until_ms; /* debits refused before this time; 0 = none */
    int64_t created_at_ms;
    int64_t debit_day;  /* the business day day_debits counts (days since the epoch) */
    int64_t day_debits; /* what the account paid on debit_day, in fen */
    int64_t last_transfer_id; /* the account's newest transfer (0 = none): its statement */
    /* a person's real-name level (0 unverified .. 3 ID and bank card verified): its caps */
    int real_name_level;
    char region[LIMIT_REGION_LEN + 1]; /* the customer's region: limit multipliers */
    int64_t debit_year; /* the business year year_debits counts (e.g. 2026) */
    int64_t year_debits; /* what the account paid in debit_year, in fen */
} account;

/* What an account paid on its business day and in its business year (the balance row). */
typedef struct debit_totals {
    int64_t day, day_debits;
    int64_t year, year_debits;
} debit_totals;

typedef enum transfer_kind {
    TRANSFER_KIND_NONE = 0,
    TRANSFER_TOPUP = 1,    /* custody reserve -> wallet: money arrived at the custody bank */
    TRANSFER_WITHDRAW = 2, /* wallet -> custody reserve: money left to the customer's bank */
    TRANSFER_P2P = 3,      /* wallet -> wallet */
    TRANSFER_PACKET_SEND = 4,   /* sender's wallet -> packet escrow: a red packet's total */
    TRANSFER_PACKET_CLAIM = 5,  /* packet escrow -> claimer's wallet: one share */
    TRANSFER_PACKET_REFUND = 6, /* packet escrow -> sender's wallet: an expired remainder */
    TRANSFER_PAYMENT = 7,       /* payer's wallet -> merchant pending (net) or owner's wallet */
    TRANSFER_PAYMENT_FEE = 8,   /* payer's wallet -> fee revenue: a payment's fee */
    TRANSFER_REFUND = 9,        /* merchant pending/available or owner's wallet -> payer */
    TRANSFER_FEE_REFUND = 10,   /* fee revenue -> payer: a refund's share of the fee */
    TRANSFER_SETTLEMENT = 11,   /* merchant pending -> merchant available: a D+1 batch */
    TRANSFER_ADJUSTMENT = 12,   /* a manual correction two admins agreed on (maker-checker) */
    TRANSFER_KIND_COUNT = 13
} transfer_kind;

/* A transfer: append-only and immutable; a correction is a new transfer. */
typedef struct transfer {
    int64_t id;
    char idem_key[LIMIT_IDEM_KEY_LEN + 1]; /* "" when the command carried none */
    int64_t debit_id;
    int64_t credit_id;
    int64_t amount;
    currency currency;
    transfer_kind kind;
    char reference[LIMIT_REFERENCE_LEN + 1];
    int64_t created_at_ms;
    int64_t prev_debit_id;  /* the debit account's transfer before this one (0 = none) */
    int64_t prev_credit_id; /* the credit account's transfer before this one (0 = none) */
} transfer;

typedef struct idem_record {
    uint8_t request_hash[32];
    char result[LIMIT_RESULT_LEN + 1];
    size_t result_len;
} idem_record;

typedef struct audit_record {
    char node[LIMIT_NODE_LEN + 1];
    int64_t seq;
    int64_t time_ms;
    char actor[LIMIT_ACTOR_LEN + 1];
    char action[LIMIT_ACTION_LEN + 1];
    char object[LIMIT_OBJECT_LEN + 1];
    uint8_t digest[32];
    uint8_t prev_hash[32];
    uint8_t hash[32];
    int alg;        /* the hash: AUDIT_ALG_SHA256 (0 reads as it) or AUDIT_ALG_SM3 */
    bool has_rows;  /* the record holds row_digest (every record since rows were tagged) */
    uint8_t row_digest[32]; /* the ledger rows its command wrote (engine/rows.h) */
    bool malformed; /* read from a store whose row does not hold 32-byte hashes */
} audit_record;

#define AUDIT_ALG_SHA256 1
#define AUDIT_ALG_SM3 2

/* A signed checkpoint of a node's audit chain: its record seq had hash at time. */
typedef struct audit_checkpoint {
    char node[LIMIT_NODE_LEN + 1];
    int64_t seq;
    uint8_t hash[32];
    int64_t time_ms;
    uint8_t signature[64];
    bool malformed;
} audit_checkpoint;

/* Who a credential acts as. Values are stored; never renumber. */
typedef enum role {
    ROLE_NONE = 0,
    ROLE_ADMIN = 1,    /* everything */
    ROLE_MERCHANT = 2, /* its own customer's accounts */
    ROLE_SUPPORT = 3,  /* read-only, personal data masked */
    ROLE_PERSON = 4,   /* a session: its own wallet */
    ROLE_COUNT = 5
} role;

/* An API key. The secret is kept encrypted (sealed with the data key). */
typedef struct api_key {
    char key_id[LIMIT_KEY_ID_LEN + 1];
    uint8_t secret_box[LIMIT_BOX_LEN];
    size_t secret_box_len;
    role role;
    int64_t account_id; /* the customer a merchant key acts for; 0 for admin and support */
    int64_t created_at_ms;
    int64_t revoked_at_ms; /* 0 = live */
} api_key;

/* A person's bearer session; only the token's SHA-256 is stored. */
typedef struct session {
    uint8_t token_hash[32];
    role role;          /* ROLE_PERSON (a bearer session), or a browser session's role */
    int64_t account_id; /* a person's wallet, a merchant's customer; 0 for admin and support */
    int64_t expires_at_ms;
    int64_t revoked_at_ms;
    int64_t created_at_ms;
} session;

/* A customer: its id is its wallet account's id. Personal data only as sealed boxes and a
 * keyed hash of the phone number for lookups. */
typedef struct customer {
    int64_t id;
    tier tier;
    char region[LIMIT_REGION_LEN + 1];
    uint8_t name_box[LIMIT_BOX_LEN];
    size_t name_box_len;
    uint8_t phone_box[LIMIT_BOX_LEN];
    size_t phone_box_len;
    uint8_t phone_hash[32];
    uint8_t id_number_box[LIMIT_BOX_LEN];
    size_t id_number_box_len;
    int64_t pending_id;   /* merchants: their pending account; 0 otherwise */
    int64_t available_id; /* merchants: their available account; 0 otherwise */
    int64_t created_at_ms;
    int64_t fee_rate_bp; /* merchants: the fee on payments received; -1 = the tier's lowest */
    /* providers: what their agreement sets instead of the tier (single 0 = no agreement) */
    int64_t agreement_single, agreement_daily, agreement_validity_s, agreement_max_shares;
    int agreement_crypto; /* policy_crypto */
} customer;

/* Red packets. Statuses are stored; never renumber. A packet past its expiry that still
 * shows PACKET_SENT is expired and waits for the sweeper's refund. */
typedef enum packet_status {
    PACKET_SENT = 0,
    PACKET_CLAIMED_OUT = 1, /* every share claimed */
    PACKET_EXPIRED = 2,     /* shown for a sent packet past its expiry; never stored */
    PACKET_REFUNDED = 3,    /* expired, the remainder returned to the sender */
    PACKET_STATUS_COUNT = 4
} packet_status;

typedef struct packet {
    int64_t id;
    int64_t sender_id; /* the sender's wallet */
    currency currency;
    int64_t total;
    int64_t count;
    int mode;          /* split_mode: 1 random, 2 fixed */
    bool fission;      /* a group packet opened by its seed */
    int64_t seed_id;   /* fission: the seed recipient's wallet; 0 otherwise */
    bool allow_sender; /* the sender may claim a share too */
    char wishing[LIMIT_WISHING_LEN + 1];
    char scene[LIMIT_SCENE_LEN + 1];
    packet_status status;
    int64_t claimed_count;
    int64_t claimed_amount;
    int64_t refunded_amount;
    int64_t best_seq; /* the largest share's position (lowest on a tie): 手气最佳 */
    int64_t created_at_ms;
    int64_t expires_at_ms;
    int64_t finished_at_ms;     /* claimed out or refunded; 0 while open */
    int64_t fund_transfer_id;   /* sender -> escrow */
    int64_t refund_transfer_id; /* escrow -> sender; 0 = none */
} packet;

typedef struct claim {
    int64_t packet_id;
    int64_t seq; /* 0-based position: the claim took share seq */
    int64_t claimer_id;
    int64_t amount;
    int64_t transfer_id; /* escrow -> claimer; also the claim's public id (clm_N) */
    int64_t claimed_at_ms;
} claim;

/* What GET /v1/stats/packets reports, over packets created in [from, to). */
#define PACKET_HISTOGRAM_BUCKETS 7
/* a 31-day range of packets, each claimable for up to 7 days: 38 days of hours */
#define PACKET_HOURS_MAX 912
typedef struct packet_stats {
    int64_t sent_count, sent_amount, shares;
    int64_t claimed_count, claimed_amount, refunded_amount;
    int64_t histogram[PACKET_HISTOGRAM_BUCKETS]; /* claims by amount, see store_packet_stats */
    int64_t hour_start_ms[PACKET_HOURS_MAX];
    int64_t hour_claims[PACKET_HOURS_MAX];
    int64_t hour_amount[PACKET_HOURS_MAX];
    int hour_count;
} packet_stats;

/* Payment codes (收款码). Values are stored; never renumber. */
typedef enum code_kind { CODE_STATIC = 1, CODE_DYNAMIC = 2 } code_kind;
typedef enum code_status {
    CODE_ACTIVE = 0,
    CODE_USED = 1,      /* a dynamic code paid */
    CODE_CANCELLED = 2, /* cancelled (dynamic) or revoked (static) */
    CODE_EXPIRED = 3,   /* shown for an active dynamic code past its expiry; never stored */
    CODE_STATUS_COUNT = 4
} code_status;

typedef struct paycode {
    int64_t id;
    int64_t owner_id; /* the owner's wallet (its customer id) */
    code_kind kind;
    int64_t amount; /* dynamic: the order's amount; static: 0 (the payer enters it) */
    currency currency;
    char memo[LIMIT_MEMO_LEN + 1];
    char order_no[LIMIT_ORDER_NO_LEN + 1]; /* dynamic: the merchant's own order number */
    char merchant_name[26];                /* EMV tag 59 */
    char city[16];                         /* EMV tag 60 */
    char mcc[5];                           /* EMV tag 52 */
    int suite;                             /* crypto_suite of its tokens */
    char token[LIMIT_CODE_TOKEN_LEN + 1];  /* static: the sticker's token; dynamic: "" */
    code_status status;
    int64_t created_at_ms;
    int64_t expires_at_ms; /* dynamic: creation + the tier's validity; static: 0 */
    int64_t ended_at_ms;   /* used or cancelled; 0 while active */
} paycode;

/* Payments through codes. A merchant code's payment moves amount - fee to the merchant's
 * pending account and the fee to fee revenue (settles: true, until a settlement batch takes
 * it); a personal code's moves the whole amount to the owner's wallet (settles: false, fee 0). */
typedef struct payment {
    int64_t id;
    int64_t code_id;
    code_kind code_kind;
    int64_t payer_id;  /* the payer's wallet */
    int64_t owner_id;  /* the code's owner (customer id) */
    int64_t credit_id; /* merchant pending, or the owner's wallet */
    currency currency;
    int64_t amount;
    int64_t fee;
    int64_t fee_rate_bp;
    int64_t refunded;     /* refunded so far, fee share included */
    int64_t refunded_fee; /* the fee returned so far */
    bool settles;
    int64_t business_day;  /* days since 1970-01-01 in the configured zone */
    int64_t settlement_id; /* 0 until a settlement batch takes it */
    int64_t transfer_id;     /* payer -> credit */
    int64_t fee_transfer_id; /* payer -> fee revenue; 0 without a fee */
    char device[LIMIT_DEVICE_LEN + 1];
    char region[LIMIT_REGION_LEN + 1];
    char order_no[LIMIT_ORDER_NO_LEN + 1]; /* a dynamic code's order number; "" otherwise */
    int64_t created_at_ms;
    int64_t refunded_at_ms; /* the latest refund; 0 = none */
    /* refunded and refunded_fee when its settlement batch took it (set by the batch) */
    int64_t settled_refunded;
    int64_t settled_refunded_fee;
} payment;

typedef struct refund {
    int64_t id;
    int64_t payment_id;
    int64_t amount; /* what the payer got back, fee share included */
    int64_t fee;    /* the fee share, from fee revenue */
    int64_t source_id; /* where amount - fee came from: pending, available or the wallet */
    int64_t transfer_id;
    int64_t fee_transfer_id; /* 0 when fee is 0 */
    int64_t created_at_ms;
} refund;

/* A settlement batch: one merchant's unsettled payments of its day and earlier. net =
 * gross - fees - refunds moves pending -> available; fees are what the platform kept (fees
 * less fee refunds); refunds what the payers got back before settlement. */
typedef struct settlement {
    int64_t id;
    int64_t merchant_id; /* the customer */
    int64_t day;
    currency currency;
    int64_t gross, fees, refunds, net, count;
    int64_t transfer_id; /* 0 when net is 0 */
    int64_t created_at_ms;
    int64_t pending_id; /* the merchant's pending account (not stored: set by settle_due) */
} settlement;

/* The page of payments a caller may list. Every filter 0 = any. */
typedef struct payment_filter {
    int64_t party_id; /* payments the customer paid or received */
    int64_t code_id;
    int64_t from_ms, to_ms; /* created in [from, to); to 0 = no end */
    int64_t settlement_id;
} payment_filter;

/* Webhook endpoints and their deliveries. Event types are bits of `events`. */
enum { WEBHOOK_PAYMENT_SUCCEEDED = 1u << 0, WEBHOOK_PAYMENT_REFUNDED = 1u << 1,
       WEBHOOK_EVENTS_ALL = (1u << 2) - 1 };
typedef struct webhook {
    int64_t id;
    int64_t owner_id; /* the merchant (customer) whose events it receives */
    char url[LIMIT_URL_LEN + 1];
    uint32_t events;
    uint8_t secret_box[LIMIT_BOX_LEN];
    size_t secret_box_len;
    int status; /* 0 active, 1 deleted */
    int64_t created_at_ms;
    int64_t rotated_at_ms;
} webhook;

typedef enum delivery_status {
    DELIVERY_PENDING = 0,
    DELIVERY_DELIVERED = 1,
    DELIVERY_FAILED = 2, /* gave up after the retry window */
    DELIVERY_STATUS_COUNT = 3
} delivery_status;

typedef struct delivery {
    int64_t id; /* also the event's id (evt_N) */
    int64_t webhook_id;
    char event_type[LIMIT_EVENT_TYPE_LEN + 1];
    char object[LIMIT_OBJECT_LEN + 1];
    char body[LIMIT_EVENT_BODY_LEN + 1];
    delivery_status status;
    int64_t attempts;
    int64_t next_at_ms;
    int64_t window_start_ms; /* retries end 24 h after it (reset by a redelivery) */
    int64_t last_code;       /* the last attempt's HTTP status; 0 = no answer */
    char last_error[LIMIT_ERR_DETAIL_LEN + 1];
    int64_t created_at_ms;
    int64_t delivered_at_ms;
} delivery;

/* Risk (store_risk.c). A case: a decision other than allow, open until resolved; a second
 * event of the same rule for the same account and object updates the open case. */
typedef struct risk_case {
    int64_t id;
    int64_t account_id;
    char rule[32];
    char object[LIMIT_OBJECT_LEN + 1]; /* the code, device or packet concerned; "" = none */
    char decision[16];                 /* the latest: review, block, freeze, restrict, fuse */
    char reason[LIMIT_ERR_DETAIL_LEN + 1];
    int status; /* 0 open, 1 resolved */
    int64_t events;
    int64_t first_at_ms, last_at_ms;
    char resolution[LIMIT_ERR_DETAIL_LEN + 1];
    char resolved_by[LIMIT_ACTOR_LEN + 1];
    int64_t resolved_at_ms;
} risk_case;

/* A list entry: an account, a device fingerprint or a code; fuse marks a code fused by a
 * rule (CODE_FUSED) rather than listed by hand. expires_at 0 = never. */
typedef enum risk_list_kind { RISK_LIST_ACCOUNT = 1, RISK_LIST_DEVICE = 2, RISK_LIST_CODE = 3 } risk_list_kind;
typedef struct risk_list_entry {
    risk_list_kind kind;
    char value[LIMIT_DEVICE_LEN + 1];
    bool fuse;
    char reason[LIMIT_ERR_DETAIL_LEN + 1];
    int64_t expires_at_ms;
    int64_t created_at_ms;
    char created_by[LIMIT_ACTOR_LEN + 1];
} risk_list_entry;

/* The ledger's invariants, as measured by store_ledger_check(). */
typedef struct ledger_currency_report {
    currency currency;
    int64_t sum_all;       /* must be 0 */
    int64_t custody;       /* balance of the custody reserve accounts (<= 0) */
    int64_t customer_owed; /* owed to customers */
    int64_t platform_own;  /* the platform's own money in custody */
    int64_t accounts;
} ledger_currency_report;

typedef struct ledger_report {
    bool balanced; /* every check below holds */
    ledger_currency_report currencies[CURRENCY_COUNT];
    int currency_count;
    int64_t accounts;
    int64_t transfers;
    int64_t balance_mismatches;   /* balance != credits - debits, or a balance row alone */
    int64_t first_mismatch_id;    /* 0 when none */
    int64_t flag_violations;      /* balances that break their account's flags */
    int64_t currency_mismatches;  /* transfers whose currency differs from an account's */
    int64_t unclassified_kinds;   /* accounts of a kind the check does not know */
    /* currencies whose packet escrow balance differs from what their open packets hold
     * (totals less claimed and refunded amounts) */
    int64_t escrow_mismatches;
    /* merchant pending accounts whose balance differs from what their unsettled payments
     * left there (amount less fee, less the refunds out of it) */
    int64_t pending_mismatches;
} ledger_report;

typedef struct store_options {
    bool create;           /* create the database if missing (otherwise NOT_FOUND) */
    bool read_only;        /* a reader connection */
    int64_t cache_kib;     /* page cache size; 0 = driver default */
    /* SQLite: copy the WAL back into the database from a thread of its own rather than in
     * the committing thread (the engine's writer), so that a checkpoint never stalls the
     * writer; PostgreSQL ignores it */
    bool background_checkpoint;
    /* with it, the WAL's size in frames (pages) that starts a background run; 0 = 32768
     * (about 128 MiB); at 8 times that the writer checkpoints by itself */
    int64_t checkpoint_frames;
} store_options;

/* Open (and migrate) the store named by url. On success *out owns a connection: close it
 * with store_close(). Errors: NOT_FOUND (no such store and !create), INVALID_ARGUMENT (bad
 * url), UNAVAILABLE (cannot open or migrate; see the message in err_text when non-NULL). */
hb_err store_open(const char *url, const store_options *options, store **out, char *err_text,
                  size_t err_text_size) WARN_UNUSED;
/* The store's url for logs and messages: a PostgreSQL url without its password (user, host,
 * port and database only); a SQLite path as is. */
void store_url_redacted(const char *url, char *out, size_t size);
/* Close and free; NULL is ignored. Rolls back an open transaction. */
void store_close(store *s);
/* False once the connection is lost for good (PostgreSQL restarted): close it and open
 * another. A SQLite connection always answers true. */
bool store_alive(const store *s);
/* Ask the server whether the connection still works (PostgreSQL; SQLite: always OK). */
hb_err store_ping(store *s) WARN_UNUSED;
/* The driver's last error message for diagnostics (never contains row data). */
const char *store_last_error(const store *s);
/* True when this connection is the only writer of the database (SQLite), so the writer may
 * keep authoritative copies of rows in memory between transactions. */
bool store_exclusive_writer(const store *s);

/* A number that changes whenever another connection commits to the database (exclusive
 * writers only): a writer that caches rows compares it at the start of each transaction. */
hb_err store_data_version(store *s, int64_t *out) WARN_UNUSED;

/* Transactions and savepoints (one level of savepoint at a time). After a failed commit the
 * transaction is still open: call store_rollback(). */
hb_err store_begin(store *s) WARN_UNUSED;
hb_err store_commit(store *s) WARN_UNUSED;
void store_rollback(store *s);
hb_err store_savepoint(store *s) WARN_UNUSED;
hb_err store_savepoint_release(store *s) WARN_UNUSED;
hb_err store_savepoint_rollback(store *s) WARN_UNUSED;

/* The largest id used in a table so far (0 when empty), for id allocation at open. */
typedef enum store_sequence {
    STORE_SEQ_ACCOUNT,
    STORE_SEQ_TRANSFER,
    STORE_SEQ_PACKET,
    STORE_SEQ_CODE,
    STORE_SEQ_PAYMENT,
    STORE_SEQ_REFUND,
    STORE_SEQ_SETTLEMENT,
    STORE_SEQ_WEBHOOK,
    STORE_SEQ_DELIVERY,
    STORE_SEQ_CASE,
    STORE_SEQ_LARGE_REPORT,
    STORE_SEQ_ADJUSTMENT
} store_sequence;
hb_err store_max_id(store *s, store_sequence seq, int64_t *out) WARN_UNUSED;

/* Writes marked "pipelined" below run inside a transaction and fail only on a storage fault:
 * a driver may send them without waiting for the answer (PostgreSQL), so such a fault, or a
 * missing row, can surface as UNAVAILABLE from a later call on the connection instead, and
 * the transaction then cannot commit. */

/* Accounts. */
hb_err store_account_insert(store *s, const account *a) WARN_UNUSED;
hb_err store_account_get(store *s, int64_t id, account *out) WARN_UNUSED; /* NOT_FOUND */
/* Add delta to the balance of one account, totals->day_debits to what it paid on business
 * day totals->day and totals->year_debits to what it paid in business year totals->year (each
 * count restarting when the stored day or year is another). The engine calls it once per
 * touched account per batch, in id order. The update is conditional on the account's flags
 * (never below zero for NO_NEGATIVE, never above for NO_POSITIVE): NOT_FOUND if the account
 * does not exist or the stored balance would break them. Pipelined. */
hb_err store_account_add_balance(store *s, int64_t id, int64_t delta, const debit_totals *totals,
                                 int64_t last_transfer_id, uint32_t flags) WARN_UNUSED;
/* The stored balance row alone (for read-back checks). NOT_FOUND. */
hb_err store_account_balance(store *s, int64_t id, int64_t *balance, debit_totals *totals,
                             int64_t *last_transfer_id) WARN_UNUSED;
/* A person's real-name level (pipelined). */
hb_err store_account_set_real_name(store *s, int64_t id, int level) WARN_UNUSED;
hb_err store_account_set_status(store *s, int64_t id, account_status status,
                                int64_t restricted_until_ms) WARN_UNUSED;
/* Up to limit accounts with id > after_id in id order. *count receives how many. */
hb_err store_account_list(store *s, int64_t after_id, int limit, account *out,
                          int *count) WARN_UNUSED;
/* The system account of a kind and currency (custody reserve, fee revenue, escrow), if any. */
hb_err store_account_find_system(store *s, account_kind kind, currency cur,
                                 account *out) WARN_UNUSED;

/* Transfers. Insert is pipelined. */
/* The audit record the command now running will append (node, seq): every ledger row the
 * store writes until the next call carries it, so that the verifier can find the rows of
 * each record (engine/rows.h). */
void store_set_audit_tag(store *s, const char *node, int64_t seq);

/* The ledger rows as the audit verifier reads them back: of each table, the columns no later
 * command changes, integers then texts, in the order engine/rows.c digests them. */
typedef enum rows_table {
    ROWS_TRANSFER,
    ROWS_ACCOUNT,
    ROWS_PACKET,
    ROWS_CLAIM,
    ROWS_PAYMENT,
    ROWS_REFUND,
    ROWS_SETTLEMENT,
    ROWS_TABLES
} rows_table;
#define ROWS_INTS_MAX 14
#define ROWS_TEXTS_MAX 4
#define ROWS_TEXT_MAX LIMIT_WISHING_LEN
typedef struct rows_item {
    int64_t key;       /* the table's write order: the id, for a claim its transfer's id */
    int64_t audit_seq; /* the record that wrote it */
    int64_t ints[ROWS_INTS_MAX];
    char texts[ROWS_TEXTS_MAX][ROWS_TEXT_MAX + 1];
    bool malformed; /* a text longer than any the application writes */
} rows_item;
/* How many integers and texts each table's rows have. */
extern const int rows_table_ints[ROWS_TABLES];
extern const int rows_table_texts[ROWS_TABLES];
extern const char *const rows_table_name[ROWS_TABLES];
/* Up to limit rows of table tagged with node's records, key > after, by key. */
hb_err store_rows_page(store *s, rows_table table, const char *node, int64_t after, int limit,
                       rows_item *out, int *count) WARN_UNUSED;
/* How many rows of table carry a record's tag, and how many none (written before rows were
 * tagged); the largest key of an untagged row and the smallest of a tagged one (0: none). */
typedef struct rows_counts {
    int64_t tagged, untagged;
    int64_t untagged_max_key, tagged_min_key;
} rows_counts;
hb_err store_rows_count(store *s, rows_table table, rows_counts *out) WARN_UNUSED;

/* The ledger check (store_ledger_check) and the columns later commands change against the
 * rows they derive from (a packet's claimed and refunded totals, a payment's refunded totals,
 * a settlement's payments), in the snapshot the caller holds (store_snapshot_begin). */
typedef struct derived_report {
    bool ok;
    char reason[160]; /* the first that differs */
} derived_report;
hb_err store_derived_check(store *s, derived_report *out) WARN_UNUSED;

hb_err store_transfer_insert(store *s, const transfer *t) WARN_UNUSED;
hb_err store_transfer_get(store *s, int64_t id, transfer *out) WARN_UNUSED; /* NOT_FOUND */
hb_err store_transfer_count(store *s, int64_t *out) WARN_UNUSED;
/* Up to limit transfers created in [from_ms, to_ms) with id > after_id, in id order; of kind1
 * or kind2 only unless kind1 is 0. (A scan: for reports.) */
hb_err store_transfer_range(store *s, int64_t from_ms, int64_t to_ms, transfer_kind kind1,
                            transfer_kind kind2, int64_t after_id, int limit, transfer *out,
                            int *count) WARN_UNUSED;
/* An account's transfers (as debit or credit), newest first, after the transfer before_id
 * (0 = from the newest; NOT_FOUND when before_id is not one of the account's); up to limit.
 * Follows the account's chain of prev_debit/prev_credit pointers: no index needed. */
hb_err store_transfer_list(store *s, int64_t account_id, int64_t before_id, int limit,
                           transfer *out, int *count) WARN_UNUSED;

/* Idempotency records, keyed by (scope, key). put (pipelined) fails if present. */
hb_err store_idem_get(store *s, const char *scope, const char *key,
                      idem_record *out) WARN_UNUSED; /* NOT_FOUND */
hb_err store_idem_put(store *s, const char *scope, const char *key, const idem_record *r,
                      int64_t created_at_ms) WARN_UNUSED;

/* Audit records: one append-only hash chain per node. Append is pipelined. */
hb_err store_audit_append(store *s, const audit_record *r) WARN_UNUSED;
/* The newest record of a node's chain; NOT_FOUND when the chain is empty. */
hb_err store_audit_last(store *s, const char *node, audit_record *out) WARN_UNUSED;
hb_err store_audit_get(store *s, const char *node, int64_t seq, audit_record *out) WARN_UNUSED;
/* For the verifier, which must survive a tampered store: up to limit chain names after
 * `after` in order; up to limit records of a chain with seq > after_seq in seq order (a
 * record whose hashes are not 32 bytes comes back malformed). */
/* Up to limit records about object (e.g. "acct_7") at or after since_ms, newest first. */
hb_err store_audit_about(store *s, const char *object, int64_t since_ms, int limit,
                         audit_record *out, int *count) WARN_UNUSED;
/* The newest record of a chain older than before_ms (NOT_FOUND when none). */
hb_err store_audit_before(store *s, const char *node, int64_t before_ms,
                          audit_record *out) WARN_UNUSED;
/* Delete a chain's records up to seq (an archive's cut); *deleted how many. */
hb_err store_audit_delete_through(store *s, const char *node, int64_t seq,
                                  int64_t *deleted) WARN_UNUSED;
hb_err store_audit_nodes(store *s, const char *after, int limit,
                         char (*out)[LIMIT_NODE_LEN + 1], int *count) WARN_UNUSED;
hb_err store_audit_page(store *s, const char *node, int64_t after_seq, int limit,
                        audit_record *out, int *count) WARN_UNUSED;
/* Checkpoints: insert (pipelined); the newest of a node (NOT_FOUND); a page after a seq. */
hb_err store_checkpoint_insert(store *s, const audit_checkpoint *c) WARN_UNUSED;
hb_err store_checkpoint_last(store *s, const char *node, audit_checkpoint *out) WARN_UNUSED;
hb_err store_checkpoint_page(store *s, const char *node, int64_t after_seq, int limit,
                             audit_checkpoint *out, int *count) WARN_UNUSED;
/* Archive cuts (signed as cuts, not checkpoints): insert (pipelined); a page after a seq. */
hb_err store_cut_insert(store *s, const audit_checkpoint *c) WARN_UNUSED;
hb_err store_cut_page(store *s, const char *node, int64_t after_seq, int limit,
                      audit_checkpoint *out, int *count) WARN_UNUSED;

/* Customers. store_customer_insert fails with DUPLICATE for a taken id. */
hb_err store_customer_insert(store *s, const customer *c) WARN_UNUSED;
hb_err store_customer_get(store *s, int64_t id, customer *out) WARN_UNUSED; /* NOT_FOUND */
/* A provider's agreement and fee rate (pipelined). */
hb_err store_customer_set_agreement(store *s, const customer *c) WARN_UNUSED;
/* Up to limit customers with id > after_id in id order; only those whose phone has this
 * keyed hash when phone_hash is not NULL. */
hb_err store_customer_list(store *s, int64_t after_id, int limit, const uint8_t *phone_hash,
                           customer *out, int *count) WARN_UNUSED;

/* Sealed again with a newer data key (keys rotate): a customer's three boxes, a key's secret. */
hb_err store_customer_set_boxes(store *s, const customer *c) WARN_UNUSED;
hb_err store_key_set_secret(store *s, const api_key *k) WARN_UNUSED;

/* API keys. */
hb_err store_key_insert(store *s, const api_key *k) WARN_UNUSED;
hb_err store_key_get(store *s, const char *key_id, api_key *out) WARN_UNUSED; /* NOT_FOUND */
/* Mark a key revoked (NOT_FOUND if missing or already revoked). */
hb_err store_key_revoke(store *s, const char *key_id, int64_t at_ms) WARN_UNUSED;
/* Up to limit keys with key_id > after in key_id order. */
hb_err store_key_list(store *s, const char *after, int limit, api_key *out,
                      int *count) WARN_UNUSED;

/* Sessions, by the SHA-256 of their token. */
hb_err store_session_insert(store *s, const session *x) WARN_UNUSED;
hb_err store_session_get(store *s, const uint8_t token_hash[32], session *out) WARN_UNUSED;
hb_err store_session_revoke(store *s, const uint8_t token_hash[32], int64_t at_ms) WARN_UNUSED;
/* One-time login links for browsers: insert, and use one (NOT_FOUND when it is unknown,
 * used already or expired at now_ms; on success *role and *account_id say whose it was). */
hb_err store_login_link_insert(store *s, const uint8_t token_hash[32], role r, int64_t account_id,
                               int64_t expires_at_ms, int64_t now_ms) WARN_UNUSED;
hb_err store_login_link_use(store *s, const uint8_t token_hash[32], int64_t now_ms, role *r,
                            int64_t *account_id) WARN_UNUSED;
/* Whether a link could be used now (a read: NOT_FOUND when unknown, used or expired). */
hb_err store_login_link_usable(store *s, const uint8_t token_hash[32], int64_t now_ms) WARN_UNUSED;

/* Request nonces against replay: DUPLICATE when (key_id, nonce) was seen. Nonces older than
 * the signature window are pruned; pruning raises the horizon, the time at or before which
 * no request can be checked for replay any more and must be refused whatever the clock
 * says later (0 = never pruned). */
hb_err store_nonce_insert(store *s, const char *key_id, const char *nonce,
                          int64_t ts_ms) WARN_UNUSED;
hb_err store_nonce_prune(store *s, int64_t before_ms) WARN_UNUSED;
hb_err store_nonce_horizon(store *s, int64_t *out_ms) WARN_UNUSED;

/* Red packets. Inserts and the conditional updates are pipelined: an update whose condition
 * does not hold (the packet moved under the caller) fails the transaction. */
hb_err store_packet_insert(store *s, const packet *p) WARN_UNUSED;
hb_err store_packet_get(store *s, int64_t id, packet *out) WARN_UNUSED; /* NOT_FOUND */
/* Shares first..first+n-1 of a packet (first a multiple of LIMIT_SHARE_CHUNK, n at most it). */
hb_err store_packet_shares_put(store *s, int64_t packet_id, int64_t first, const int64_t *amounts,
                               int n) WARN_UNUSED;
/* What a claim needs, in one query: the packet; the transfer id of the claimer's earlier
 * claim on it (0 = none); the amount of the next share to take (0 when every share is
 * taken). NOT_FOUND when there is no such packet. */
hb_err store_packet_claim_view(store *s, int64_t packet_id, int64_t claimer_id, packet *out,
                               int64_t *earlier_claim, int64_t *next_share) WARN_UNUSED;
/* One more share claimed: only when claimed_count is still expect_count and the packet is
 * sent; status becomes claimed_out with the last share. */
hb_err store_packet_claimed(store *s, int64_t id, int64_t expect_count, int64_t amount,
                            bool last, int64_t now_ms) WARN_UNUSED;
/* The remainder refunded: only when the packet is still sent with expect_count claims. */
hb_err store_packet_refunded(store *s, int64_t id, int64_t expect_count, int64_t amount,
                             int64_t transfer_id, int64_t now_ms) WARN_UNUSED;
/* A sent packet due for its refund, and the position of a page of them. */
typedef struct packet_due {
    int64_t id;
    int64_t expires_at_ms;
} packet_due;
/* Up to limit sent packets that expired at or before now_ms, in (expiry, id) order, after
 * the position `after` (NULL = from the first). */
hb_err store_packet_list_expired(store *s, int64_t now_ms, const packet_due *after, int limit,
                                 packet_due *out, int *count) WARN_UNUSED;
/* How many packets of a sender are still sent (not claimed out or refunded). */
hb_err store_packet_open_count(store *s, int64_t sender_id, int64_t *out) WARN_UNUSED;
/* Up to limit packets with id < before_id (0 = from the newest), newest first; only the
 * sender's when sender_id is not 0. */
hb_err store_packet_list(store *s, int64_t sender_id, int64_t before_id, int limit, packet *out,
                         int *count) WARN_UNUSED;
hb_err store_claim_insert(store *s, const claim *c) WARN_UNUSED; /* pipelined */
/* The claimer's claim on a packet. NOT_FOUND. */
hb_err store_claim_find(store *s, int64_t packet_id, int64_t claimer_id, claim *out) WARN_UNUSED;
hb_err store_claim_get(store *s, int64_t packet_id, int64_t seq, claim *out) WARN_UNUSED;
/* Up to limit claims of a packet with seq > after_seq (-1 = from the first), in order. */
hb_err store_claim_list(store *s, int64_t packet_id, int64_t after_seq, int limit, claim *out,
                        int *count) WARN_UNUSED;
/* Statistics of packets created in [from_ms, to_ms), only the sender's when sender_id is not
 * 0, only a scene's when scene is not "". Histogram buckets of claim amounts in fen:
 * [1,100) [100,500) [500,1000) [1000,5000) [5000,10000) [10000,20000) [20000,...). Claims
 * per hour (hours with claims only, oldest first, at most PACKET_HOURS_MAX). */
hb_err store_packet_stats(store *s, int64_t from_ms, int64_t to_ms, int64_t sender_id,
                          const char *scene, packet_stats *out) WARN_UNUSED;

/* Payment codes. Insert is pipelined (check the order number with store_code_find_order
 * first); store_code_end moves an active code to used or cancelled (pipelined, conditional on
 * it being active). */
hb_err store_code_insert(store *s, const paycode *c) WARN_UNUSED;
hb_err store_code_get(store *s, int64_t id, paycode *out) WARN_UNUSED; /* NOT_FOUND */
hb_err store_code_find_order(store *s, int64_t owner_id, const char *order_no,
                             paycode *out) WARN_UNUSED; /* NOT_FOUND */
hb_err store_code_end(store *s, int64_t id, code_status status, int64_t now_ms) WARN_UNUSED;
const char *code_status_name(code_status st);

/* Payments (store_pay.c). Inserts and conditional updates are pipelined. */
hb_err store_payment_insert(store *s, const payment *p) WARN_UNUSED;
hb_err store_payment_get(store *s, int64_t id, payment *out) WARN_UNUSED; /* NOT_FOUND */
/* A refund recorded: only when the payment's refunded amount is still expect_refunded. */
hb_err store_payment_refunded(store *s, int64_t id, int64_t expect_refunded, int64_t amount,
                              int64_t fee, int64_t now_ms) WARN_UNUSED;
/* What a payer paid through static codes on a business day, in fen (0 before the first),
 * and a payment more (pipelined). */
hb_err store_static_day_get(store *s, int64_t payer_id, int64_t day, int64_t *out) WARN_UNUSED;
hb_err store_static_day_add(store *s, int64_t payer_id, int64_t day, int64_t amount) WARN_UNUSED;
/* Up to limit payments matching f with id < before_id (0 = from the newest), newest first;
 * with f->settlement_id, in id order after before_id instead (a settlement file). */
hb_err store_payment_list(store *s, const payment_filter *f, int64_t before_id, int limit,
                          payment *out, int *count) WARN_UNUSED;
hb_err store_refund_insert(store *s, const refund *r) WARN_UNUSED;
hb_err store_refund_get(store *s, int64_t id, refund *out) WARN_UNUSED; /* NOT_FOUND */
/* Up to limit refunds of a payment, oldest first. */
hb_err store_refund_list(store *s, int64_t payment_id, int limit, refund *out,
                         int *count) WARN_UNUSED;

/* Settlement. store_settle_due sums, per merchant after after_merchant (in merchant order),
 * the unsettled merchant payments of business day `day` and earlier, skipping merchants that
 * already have a batch for `day`; into out (merchant_id, currency, gross, fees, refunds,
 * net, count, pending_id). */
hb_err store_settle_due(store *s, int64_t day, int64_t after_merchant, int limit,
                        settlement *out, int *count) WARN_UNUSED;
/* Insert the batch (pipelined; the unique (merchant, day) index refuses a second) and stamp
 * its payments (exactly b->count of them, else the transaction fails). */
hb_err store_settlement_insert(store *s, const settlement *b) WARN_UNUSED;
hb_err store_settlement_get(store *s, int64_t id, settlement *out) WARN_UNUSED; /* NOT_FOUND */
/* Up to limit batches with id < before_id (0 = newest first), of a merchant (0 = all) and of
 * a day (-1 = any). */
hb_err store_settlement_list(store *s, int64_t merchant_id, int64_t day, int64_t before_id,
                             int limit, settlement *out, int *count) WARN_UNUSED;

/* Webhooks. Inserts and updates pipelined. */
hb_err store_webhook_insert(store *s, const webhook *w) WARN_UNUSED;
hb_err store_webhook_get(store *s, int64_t id, webhook *out) WARN_UNUSED; /* NOT_FOUND */
/* A new secret (rotate) or status 1 (delete): NOT_FOUND when deleted already. */
hb_err store_webhook_update(store *s, const webhook *w) WARN_UNUSED;
/* Every endpoint (deleted ones too) with id > after_id, in id order; its secret sealed again. */
hb_err store_webhook_page(store *s, int64_t after_id, int limit, webhook *out,
                          int *count) WARN_UNUSED;
hb_err store_webhook_set_secret(store *s, const webhook *w) WARN_UNUSED;
/* Up to limit active endpoints of an owner with id > after_id, in id order. */
hb_err store_webhook_list(store *s, int64_t owner_id, int64_t after_id, int limit, webhook *out,
                          int *count) WARN_UNUSED;
hb_err store_delivery_insert(store *s, const delivery *d) WARN_UNUSED;
hb_err store_delivery_get(store *s, int64_t id, delivery *out) WARN_UNUSED; /* NOT_FOUND */
/* Status, attempts, next_at, window_start, last_code, last_error, delivered_at. */
hb_err store_delivery_update(store *s, const delivery *d) WARN_UNUSED;
/* Up to limit pending deliveries due at now_ms, oldest due first. */
hb_err store_delivery_due(store *s, int64_t now_ms, int limit, delivery *out,
                          int *count) WARN_UNUSED;
/* Up to limit deliveries of an endpoint with id < before_id (0 = newest first). */
hb_err store_delivery_list(store *s, int64_t webhook_id, int64_t before_id, int limit,
                           delivery *out, int *count) WARN_UNUSED;
const char *delivery_status_name(delivery_status st);

/* A report: kind 1 a single transaction at or above the large threshold, kind 2 an account's
 * same-day total reaching it (once a day), kind 3 a suspicious night pattern (the night rule
 * froze the account). */
typedef struct large_report {
    int64_t id;
    int64_t account_id;
    int64_t day;
    int kind;
    int64_t amount; /* the transaction's, or the day's total when it reached the threshold */
    char reference[LIMIT_OBJECT_LEN + 1]; /* tr_N or pay_N */
    int64_t created_at_ms;
} large_report;

/* Device bindings: whether (device, account) is bound; how many accounts were first bound to
 * the device after since_ms; bind (pipelined). */
hb_err store_binding_exists(store *s, const char *device, int64_t account_id, bool *out) WARN_UNUSED;
hb_err store_binding_count(store *s, const char *device, int64_t since_ms, int64_t *out) WARN_UNUSED;
hb_err store_binding_insert(store *s, const char *device, int64_t account_id,
                            int64_t now_ms) WARN_UNUSED;
/* The binding moved money again at now_ms (pipelined). */
hb_err store_binding_used(store *s, const char *device, int64_t account_id,
                          int64_t now_ms) WARN_UNUSED;
/* Up to limit of a device's bindings, in no order or the latest used first. */
typedef struct device_binding {
    int64_t account_id;
    int64_t first_at_ms; /* bound */
    int64_t last_at_ms;  /* last moved money */
} device_binding;
hb_err store_binding_all(store *s, const char *device, bool latest_first, int limit,
                         device_binding *out, int *count) WARN_UNUSED;
/* The night rule's count for an account (NOT_FOUND before its first), and its update
 * (pipelined). */
hb_err store_night_get(store *s, int64_t account_id, int64_t *window_start,
                       int64_t *count) WARN_UNUSED;
hb_err store_night_put(store *s, int64_t account_id, int64_t window_start,
                       int64_t count) WARN_UNUSED;
/* A sender's red packets of a business day: how many, their total and the sum of their
 * squares (saturating at INT64_MAX), for the amount-dispersion rule. NOT_FOUND before the
 * first; put pipelined. */
hb_err store_packet_day_get(store *s, int64_t account_id, int64_t day, int64_t *n,
                            int64_t *total, int64_t *squares) WARN_UNUSED;
hb_err store_packet_day_put(store *s, int64_t account_id, int64_t day, int64_t n, int64_t total,
                            int64_t squares) WARN_UNUSED;
/* Large-transaction reports: insert (pipelined); whether an account's day has its cumulative
 * report; up to limit reports of days from..to with id > after_id, in id order. */
hb_err store_large_insert(store *s, const large_report *r) WARN_UNUSED;
hb_err store_large_daily_exists(store *s, int64_t account_id, int64_t day, bool *out) WARN_UNUSED;
hb_err store_large_list(store *s, int64_t from_day, int64_t to_day, int64_t after_id, int limit,
                        large_report *out, int *count) WARN_UNUSED;

/* Risk cases and lists (store_risk.c). Writes pipelined. */
hb_err store_case_insert(store *s, const risk_case *c) WARN_UNUSED;
/* The open case of (account, rule, object). NOT_FOUND. */
hb_err store_case_find_open(store *s, int64_t account_id, const char *rule, const char *object,
                            risk_case *out) WARN_UNUSED;
/* One more event on an open case: its latest decision and reason. */
hb_err store_case_touch(store *s, int64_t id, int64_t now_ms, const char *decision,
                        const char *reason) WARN_UNUSED;
hb_err store_case_get(store *s, int64_t id, risk_case *out) WARN_UNUSED; /* NOT_FOUND */
/* Up to limit cases, newest first, before before_id (0 = newest); status -1 = any, account 0
 * = any, rule "" = any. */
hb_err store_case_list(store *s, int status, int64_t account_id, const char *rule,
                       int64_t before_id, int limit, risk_case *out, int *count) WARN_UNUSED;
/* Resolve an open case (NOT_FOUND-like failure of the transaction when it is not open). */
hb_err store_case_resolve(store *s, int64_t id, const char *resolution, const char *by,
                          int64_t now_ms) WARN_UNUSED;
/* The list entry of (kind, value), expired or not. NOT_FOUND. */
hb_err store_list_get(store *s, risk_list_kind kind, const char *value,
                      risk_list_entry *out) WARN_UNUSED;
/* The entries for an account, a device and a code at once ("" = none), expired or not (the
 * caller looks at expires_at_ms; reason and creator are not filled): the risk screen's look at
 * the lists, from the writer's copy of them (inside a transaction; see store_internal.h). */
hb_err store_list_screen(store *s, const char *account_id, const char *device, const char *code,
                         int64_t now_ms, risk_list_entry out[3], int *count) WARN_UNUSED;
hb_err store_list_put(store *s, const risk_list_entry *e) WARN_UNUSED; /* insert or replace */
/* Remove an entry: NOT_FOUND when there is none (not pipelined). */
hb_err store_list_delete(store *s, risk_list_kind kind, const char *value) WARN_UNUSED;
/* Up to limit live entries of a kind with value > after, in value order. */
hb_err store_list_page(store *s, risk_list_kind kind, const char *after, int64_t now_ms,
                       int limit, risk_list_entry *out, int *count) WARN_UNUSED;
/* A code's run of same-amount payments: NOT_FOUND before its first payment. */
hb_err store_code_run_get(store *s, int64_t code_id, int64_t *amount, int64_t *run) WARN_UNUSED;
hb_err store_code_run_put(store *s, int64_t code_id, int64_t amount, int64_t run) WARN_UNUSED;

/* A manual correction (maker-checker): proposed, then approved (its transfer made) or
 * rejected, by another admin than the proposer. */
typedef enum adjustment_status {
    ADJUSTMENT_PROPOSED = 1,
    ADJUSTMENT_APPROVED = 2,
    ADJUSTMENT_REJECTED = 3
} adjustment_status;

typedef struct adjustment {
    int64_t id;
    int64_t debit_id, credit_id, amount;
    currency currency;
    char reason[LIMIT_ERR_DETAIL_LEN + 1];
    adjustment_status status;
    char proposed_by[LIMIT_ACTOR_LEN + 1];
    int64_t proposed_at_ms;
    char decided_by[LIMIT_ACTOR_LEN + 1];
    int64_t decided_at_ms;
    char note[LIMIT_ERR_DETAIL_LEN + 1];
    int64_t transfer_id; /* the approved correction's transfer; 0 before */
} adjustment;

hb_err store_adjustment_insert(store *s, const adjustment *a) WARN_UNUSED; /* pipelined */
hb_err store_adjustment_get(store *s, int64_t id, adjustment *out) WARN_UNUSED; /* NOT_FOUND */
/* Decide a proposed adjustment: NOT_FOUND when it is not proposed (any more). */
hb_err store_adjustment_decide(store *s, const adjustment *a) WARN_UNUSED;
/* Up to limit, newest first, before before_id (0 = newest); status 0 = any. */
hb_err store_adjustment_list(store *s, int status, int64_t before_id, int limit, adjustment *out,
                             int *count) WARN_UNUSED;

/* One consistent snapshot for several reads (a read transaction), unless the connection is
 * in a transaction already (*began false then); end it with store_snapshot_end. */
hb_err store_snapshot_begin(store *s, bool *began) WARN_UNUSED;
void store_snapshot_end(store *s, bool began);

/* Measure every ledger invariant (see ledger_report). */
hb_err store_ledger_check(store *s, ledger_report *out) WARN_UNUSED;

/* Names for kinds, tiers and statuses, as stored and shown; parse returns 0 for unknown. */
const char *account_kind_name(account_kind k);
account_kind account_kind_parse(const char *name);
account_class account_kind_class(account_kind k);
const char *tier_name(tier t);
tier tier_parse(const char *name); /* TIER_COUNT for unknown */
const char *account_status_name(account_status s);
const char *transfer_kind_name(transfer_kind k);
const char *packet_status_name(packet_status s);
const char *role_name(role r);
role role_parse(const char *name); /* ROLE_NONE for unknown */
transfer_kind transfer_kind_parse(const char *name);

#endif
