/* Customers: a person or a merchant, with encrypted personal data.
 *
 * A customer's id is its wallet account's id (acct_N). Merchants (enterprise, provider) also
 * get a pending and an available account, owned by "acct_N". Name, phone and ID number are
 * sealed with the data key (AES-256-GCM, bound to their column and row); phone numbers are
 * also kept as a keyed hash for lookups. Views mask them unless the caller unmasks. */
#ifndef HB_SERVICE_CUSTOMER_H
#define HB_SERVICE_CUSTOMER_H

#include <stdbool.h>

#include "engine/engine.h"
#include "service/keyring.h"

typedef struct customer_input {
    tier tier;
    currency currency;
    char region[LIMIT_REGION_LEN + 1];
    char name[LIMIT_NAME_LEN + 1];
    char phone[LIMIT_PHONE_LEN + 1];         /* "" = none */
    char id_number[LIMIT_ID_NUMBER_LEN + 1]; /* "" = none */
    bool has_fee_rate; /* merchants: fee_rate_bp set (within the tier's range) */
    int64_t fee_rate_bp;
    /* people: the real-name level (0..3); when not set, 2 with an ID number, else 0 */
    bool has_real_name_level;
    int real_name_level;
} customer_input;

typedef struct customer_cmd {
    command base;
    const keyring *keys; /* not owned; must outlive the command */
    customer_input input;
    int64_t id; /* out */
} customer_cmd;

/* What a caller sees of a customer. Personal fields are masked unless unmasked. */
typedef struct customer_view {
    int64_t id;
    tier tier;
    currency currency;
    account_status status;
    int64_t restricted_until_ms;
    char region[LIMIT_REGION_LEN + 1];
    char name[LIMIT_NAME_LEN * 2 + 1];
    char phone[LIMIT_PHONE_LEN + 1];
    char id_number[LIMIT_ID_NUMBER_LEN + 1];
    int64_t balance;
    int64_t pending_id;
    int64_t pending_balance;
    int64_t available_id;
    int64_t available_balance;
    int64_t fee_rate_bp; /* merchants: the rate in force (-1 = the tier's lowest) */
    int real_name_level;
    customer agreement; /* providers: the agreement fields (agreement_single 0 = none) */
    int64_t created_at_ms;
} customer_view;

/* A provider's agreement (PUT /v1/accounts/{id}/agreement), audited: its limits, fee rate,
 * dynamic-code validity, code crypto and shares per red packet instead of the tier's. */
typedef struct agreement_cmd {
    command base;
    int64_t id;
    int64_t single_limit, daily_limit, fee_rate_bp, code_validity_s, max_shares;
    policy_crypto crypto; /* POLICY_AES_GCM or POLICY_SM4 */
} agreement_cmd;

/* INVALID_ARGUMENT (why set) for values out of range: limits 1..the ledger's maximum with
 * single <= daily, validity 30..3600 s, shares 1..100,000; the fee is checked against the
 * tier's range when it runs (INVALID_ARGUMENT), a customer other than a provider is refused
 * (INVALID_ARGUMENT), none at all NOT_FOUND. */
hb_err customer_agreement_prepare(agreement_cmd *c, const char *actor, const char *idem_key,
                                  char *why, size_t why_size) WARN_UNUSED;
/* The terms a customer works under: its tier's, with a provider's agreement in their place. */
void customer_terms(const policy *pol, const customer *c, tier_policy *out);

/* Set a person's real-name level (audited). NOT_FOUND for no such customer, INVALID_ARGUMENT
 * for a merchant (levels are for people) or a level outside 0..3. */
typedef struct real_name_cmd {
    command base;
    int64_t id;
    int level;
} real_name_cmd;

hb_err customer_real_name_prepare(real_name_cmd *c, const char *actor,
                                  const char *idem_key) WARN_UNUSED;

/* Recording that a caller saw a customer's personal data in clear: the audit record is the
 * point; the caller reads the clear view after the command is durable. */
typedef struct unmask_cmd {
    command base;
    int64_t id;
} unmask_cmd;

hb_err customer_unmask_prepare(unmask_cmd *c, const char *actor) WARN_UNUSED;

/* Validate the input (INVALID_ARGUMENT with a reason in err_text) and fill the command. */
hb_err customer_create_prepare(customer_cmd *c, const keyring *keys, const char *actor,
                               const char *idem_key, char *err_text, size_t size) WARN_UNUSED;
/* Read a customer through a read connection. NOT_FOUND, UNAVAILABLE. */
hb_err customer_view_get(store *s, const keyring *keys, int64_t id, bool unmask,
                         customer_view *out) WARN_UNUSED;
/* True when the account id belongs to the customer (its wallet or merchant accounts). */
bool customer_owns(const customer_view *v, int64_t account_id);
/* Seal the customer's personal data again with the newest data key where a box is older
 * (*changed says whether one was); UNAVAILABLE when a box does not open. */
hb_err customer_reseal(const keyring *keys, customer *c, bool *changed) WARN_UNUSED;

#endif
