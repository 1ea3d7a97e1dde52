/* The operator's policy: tiers, limits, banned phrases, regions, real-name caps, rate limits,
 * time zone. Built-in defaults equal DESIGN.md section 2, so no file is needed; an INI file
 * (libinih) overrides them, and HONGBAO_<SECTION>_<KEY> environment variables override single
 * keys (sections with '.' and '-' written as '_': HONGBAO_TIER_PERSONAL_DAILY_LIMIT=500.00).
 *
 *   [general]         timezone = Asia/Shanghai          transfer_max = 100000000.00
 *                     national_crypto = false
 *   [tier.personal]   single_limit = 200.00  daily_limit = 1000.00  fee_min_bp = 0
 *                     fee_max_bp = 0  code_validity_s = 120  crypto = aes-256-gcm
 *                     api = none  max_shares = 100   (likewise tier.enterprise, tier.provider)
 *   [messages]        banned = 免单            (one phrase per line; repeat the key)
 *   [region.XX]       multiplier_bp = 5000     (limits scaled by 50% for region XX)
 *   [real_name.N]     single = …  daily = …  yearly = …    (N = 0..3)
 *   [rate_limit]      key_per_second = 2000  key_burst = 4000  session_per_second = 20
 *                     session_burst = 40  auth_failures_per_second = 5
 *                     auth_failures_burst = 50  device_per_second = 5  device_burst = 20
 *
 * Amounts are yuan with at most two decimals; rates and multipliers integer basis points. */
#ifndef HB_CORE_POLICY_H
#define HB_CORE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/invariant.h"
#include "core/limits.h"

#define POLICY_TIERS 4 /* indexed like the store's tier enum: 0 system, 1 personal, ... */
#define POLICY_BANNED_MAX 64
#define POLICY_PHRASE_LEN 64
#define POLICY_REGIONS_MAX 64
#define POLICY_REAL_NAME_LEVELS 4

typedef enum policy_crypto { POLICY_AES_GCM, POLICY_SM4, POLICY_EITHER } policy_crypto;
typedef enum policy_api { POLICY_API_NONE, POLICY_API_BASIC, POLICY_API_FULL } policy_api;

typedef struct tier_policy {
    int64_t single_limit; /* fen */
    int64_t daily_limit;  /* fen */
    int64_t fee_min_bp;
    int64_t fee_max_bp;
    int64_t code_validity_s;
    policy_crypto crypto;
    policy_api api;
    int64_t max_shares;
} tier_policy;

typedef struct region_policy {
    char name[17];
    int64_t multiplier_bp;
} region_policy;

typedef struct real_name_cap {
    int64_t single;
    int64_t daily;
    int64_t yearly;
} real_name_cap;

typedef struct policy {
    char timezone[48];
    bool national_crypto; /* seal personal data with SM4-CTR + HMAC-SM3 instead of AES-GCM,
                           * and hash the audit chain with SM3 instead of SHA-256 */
    int64_t transfer_max; /* fen */
    tier_policy tiers[POLICY_TIERS];
    char banned[POLICY_BANNED_MAX][POLICY_PHRASE_LEN + 1];
    int banned_count;
    region_policy regions[POLICY_REGIONS_MAX];
    int region_count;
    real_name_cap real_name[POLICY_REAL_NAME_LEVELS];
    int64_t key_per_second;
    int64_t key_burst;
    int64_t session_per_second;
    int64_t session_burst;
    int64_t device_per_second;        /* money movements per device fingerprint */
    int64_t device_burst;
    int64_t auth_failures_per_second; /* failed authentications per client address */
    int64_t auth_failures_burst;
    /* [codes] */
    int64_t code_key_id;  /* payment-code tokens are sealed with this key id (1..8) */
    int64_t code_key_min; /* tokens of key ids below it no longer open */
    /* [audit] */
    int64_t audit_checkpoint_records; /* a signed checkpoint after this many records... */
    int64_t audit_checkpoint_s;       /* ...or this long after the last (if any came since) */
    /* [risk] */
    bool risk_enabled;            /* false turns every risk rule off (the limits stay) */
    int64_t risk_same_amount_run; /* a code's run of equal payments that fuses it; 0 = off */
    int64_t risk_fuse_s;          /* how long a fuse lasts */
    int64_t risk_device_accounts; /* accounts a device may be bound to in the window; 0 = off */
    int64_t risk_device_window_s;
    int64_t risk_multi_accounts;   /* accounts moving money from one device within the window
                                    * that restricts them all; 0 = off */
    int64_t risk_multi_window_s;
    int64_t risk_restrict_days;
    int64_t risk_night_count;    /* small payments between 00:00 and 06:00 within the window
                                  * that freeze the account; 0 = off */
    int64_t risk_night_below;    /* fen: what counts as small */
    int64_t risk_night_window_s;
    int64_t risk_dispersion;   /* fen: a sender's packet amounts of a day with a standard
                                * deviation above it open a case for review; 0 = off */
    int64_t risk_large_single; /* fen: a transaction at or above it is reported */
    int64_t risk_large_daily;  /* fen: a same-day total reaching it is reported */
    /* [payments] */
    int64_t static_daily_cap; /* fen a payer may pay a day through static codes */
    /* [settlement] */
    int64_t settle_after_min; /* minutes after midnight when serve settles the day before;
                               * -1 = never (run hongbao settle) */
    /* [webhooks] */
    int64_t webhook_retry_base_s; /* the first retry's delay; each next one doubles */
    int64_t webhook_retry_max_s;  /* the longest delay between attempts */
    int64_t webhook_give_up_s;    /* retries end this long after the first attempt */
    int64_t webhook_timeout_s;    /* one attempt's time limit */
    bool webhook_allow_private;   /* deliver to private, loopback and link-local addresses */
    /* [web] the operator's login step: where the claim and pay pages send a person who
     * opened them without a session ("" = none; they then ask to open the link in the app) */
    char web_login_url[LIMIT_PUBLIC_URL_LEN + 1];
} policy;

/* The built-in defaults (DESIGN.md section 2). */
void policy_defaults(policy *p);
/* Set one key; INVALID_ARGUMENT with a reason in why for an unknown section or key or a bad
 * value. Used for the file and the environment alike. */
hb_err policy_set(policy *p, const char *section, const char *key, const char *value,
                  char *why, size_t size) WARN_UNUSED;
/* Defaults, then the file (NULL for none), then the environment. On error *line is the
 * offending line of the file (0 when the error is not in the file) and why says what. */
hb_err policy_load(const char *path, policy *p, int *line, char *why, size_t size) WARN_UNUSED;
/* As policy_load, from the text of a file (NUL-terminated) rather than its path: for tests
 * and fuzzers. */
hb_err policy_parse_text(const char *text, policy *p, int *line, char *why,
                         size_t size) WARN_UNUSED;
/* The region's multiplier in basis points (10000 when the region has none). */
int64_t policy_region_multiplier(const policy *p, const char *region);
/* The first banned phrase that text contains, or NULL. */
const char *policy_banned_phrase(const policy *p, const char *text);

#endif
