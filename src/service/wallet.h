/* Wallet commands: accounts, top-up, withdrawal, person-to-person transfer, status.
 *
 * Each operation is a command run by the engine inside one store transaction, with its audit
 * record and (when a key is given) its idempotency record. The *_prepare functions fill a
 * command for engine_submit/engine_submit_async; the plain functions submit and wait.
 * Thread-safe: any thread may prepare and submit its own commands. */
#ifndef HB_SERVICE_WALLET_H
#define HB_SERVICE_WALLET_H

#include "engine/engine.h"

typedef struct account_create_cmd {
    command base;
    account account; /* in: owner, kind, tier, currency, flags(optional); out: everything */
} account_create_cmd;

typedef struct transfer_cmd {
    command base;
    /* in: kind, debit_id/credit_id (see wallet_transfer_prepare), amount, currency (or
     * CURRENCY_NONE for the accounts' own), reference; out: id, created_at_ms, and the rest */
    transfer transfer;
    char device[LIMIT_DEVICE_LEN + 1]; /* the payer's device fingerprint; "" = none */
} transfer_cmd;

/* Leave the account's status or restriction as it is. */
#define WALLET_KEEP_STATUS ACCOUNT_STATUS_COUNT
#define WALLET_KEEP_RESTRICTION ((int64_t)-1)

typedef struct status_cmd {
    command base;
    int64_t account_id;
    account_status status;       /* or WALLET_KEEP_STATUS */
    int64_t restricted_until_ms; /* 0 lifts a restriction; or WALLET_KEEP_RESTRICTION */
    account account;             /* out */
} status_cmd;

/* Fill an account-creation command. Customer accounts get ACCOUNT_FLAG_NO_NEGATIVE; the
 * custody reserve gets ACCOUNT_FLAG_NO_POSITIVE. INVALID_ARGUMENT for an empty or overlong
 * owner/actor/key, an unknown kind, tier or currency. */
hb_err wallet_account_create_prepare(account_create_cmd *c, const char *actor,
                                     const char *idem_key) WARN_UNUSED;

/* Fill a transfer command from c->transfer. For TRANSFER_TOPUP set credit_id (the wallet;
 * the debit is the currency's custody reserve); for TRANSFER_WITHDRAW set debit_id (the
 * credit is the custody reserve); for TRANSFER_P2P set both (wallets). Top-up and
 * withdrawal need the external bank reference in `reference`. */
hb_err wallet_transfer_prepare(transfer_cmd *c, const char *actor,
                               const char *idem_key) WARN_UNUSED;

hb_err wallet_status_prepare(status_cmd *c, const char *actor, const char *idem_key) WARN_UNUSED;

/* Fill a command's common fields (actor, idempotency key) and its request hash over
 * `canonical`. INVALID_ARGUMENT for an empty or overlong actor or key. */
hb_err wallet_command_init(command *cmd, const char *actor, const char *idem_key,
                           const char *canonical, size_t canonical_len) WARN_UNUSED;

/* The real-name level of an account made without a customer record (`hongbao account
 * create`): the operator vouches for it. */
#define WALLET_BARE_REAL_NAME_LEVEL 2

/* What an account may pay (DESIGN.md section 2): its tier's limits scaled by its region's
 * multiplier (basis points, rounded down; terms: the tier's, or a provider's agreement)
 * and, for people, no more than their real-name
 * level's caps (which alone bound a year). capped: a cap is below the tier's limit. */
typedef struct effective_limits {
    int64_t single, daily, yearly;
    bool capped;
} effective_limits;
void wallet_effective_limits(const policy *pol, const tier_policy *terms, const account *a,
                             effective_limits *out);

/* In a command: the payer's effective limits for a movement of amount (single; charged to
 * the payer's business day and year, daily and yearly). LIMIT_EXCEEDED with a detail (an
 * unverified person, level 0, may receive but not pay); system accounts have none. */
hb_err wallet_check_limits(txn *t, int64_t payer_id, int64_t amount) WARN_UNUSED;

/* Create the system accounts of a currency (custody reserve, fee revenue, packet escrow)
 * when missing. Idempotent. */
hb_err wallet_init_system(engine *e, currency cur, char *err_text, size_t err_text_size) WARN_UNUSED;

#endif
