#include "core/policy.h"

#include <ctype.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/money.h"

static const char *const tier_sections[POLICY_TIERS] = {"", "tier.personal", "tier.enterprise",
                                                        "tier.provider"};

void policy_defaults(policy *p)
{
    memset(p, 0, sizeof *p);
    snprintf(p->timezone, sizeof p->timezone, "Asia/Shanghai");
    p->transfer_max = 10000000000LL; /* 100,000,000.00 */
    /* personal: 200 / 1,000, no fee, AES-GCM codes valid 120 s, 100 shares, no API */
    p->tiers[1] = (tier_policy){20000, 100000, 0, 0, 120, POLICY_AES_GCM, POLICY_API_NONE, 100};
    /* enterprise: 2,000 / 50,000, fee 0.6%-1%, SM4 codes 180 s, 10,000 shares, basic API */
    p->tiers[2] = (tier_policy){200000, 5000000, 60, 100, 180, POLICY_SM4, POLICY_API_BASIC, 10000};
    /* provider: per agreement; these are the defaults before one is set */
    p->tiers[3] = (tier_policy){5000000, 100000000, 35, 80, 300, POLICY_EITHER, POLICY_API_FULL,
                                100000};
    static const char *const banned[] = {"免单", "全额返现", "返现", "刷单", "稳赚不赔", "保本"};
    for (size_t i = 0; i < sizeof banned / sizeof banned[0]; i++) {
        snprintf(p->banned[p->banned_count++], POLICY_PHRASE_LEN + 1, "%s", banned[i]);
    }
    p->real_name[0] = (real_name_cap){0, 0, 0}; /* unverified: may receive, not pay */
    p->real_name[1] = (real_name_cap){100000, 100000, 1000000};
    p->real_name[2] = (real_name_cap){5000000, 10000000, 200000000};
    p->real_name[3] = (real_name_cap){100000000, 500000000, 10000000000LL};
    p->key_per_second = 2000; /* a key may send a full batch of 1,000 every half second */
    p->key_burst = 4000;
    p->session_per_second = 20;
    p->session_burst = 40;
    p->device_per_second = 5;
    p->device_burst = 20;
    p->auth_failures_per_second = 5;
    p->auth_failures_burst = 50;
    p->audit_checkpoint_records = 10000;
    p->audit_checkpoint_s = 300;
    p->risk_enabled = true;
    p->risk_same_amount_run = 5;
    p->risk_fuse_s = 86400;
    p->risk_device_accounts = 3;
    p->risk_device_window_s = 604800;
    p->risk_multi_accounts = 3;
    p->risk_multi_window_s = 600;
    p->risk_restrict_days = 7;
    p->risk_night_count = 0; /* off unless the operator sets it (10 is a start) */
    p->risk_night_below = 1000; /* 10.00 */
    p->risk_night_window_s = 1800;
    p->risk_dispersion = 4500;       /* 45.00 */
    p->risk_large_single = 5000000;  /* 50,000.00 */
    p->risk_large_daily = 20000000;  /* 200,000.00 */
    p->code_key_id = 1;
    p->code_key_min = 1;
    p->static_daily_cap = 50000; /* 500.00 */
    p->settle_after_min = 120;   /* 02:00 */
    p->webhook_retry_base_s = 15;
    p->webhook_retry_max_s = 3600;
    p->webhook_give_up_s = 86400;
    p->webhook_timeout_s = 10;
    p->webhook_allow_private = false;
}

static hb_err set_amount(const char *value, int64_t *out, char *why, size_t size)
{
    int64_t fen = 0;
    if (money_parse(value, strlen(value), &fen) != HB_ERR_OK) {
        snprintf(why, size, "\"%s\" is not an amount in yuan with at most two decimals", value);
        return HB_ERR_INVALID_ARGUMENT;
    }
    *out = fen;
    return HB_ERR_OK;
}

static hb_err set_int(const char *value, int64_t min, int64_t max, int64_t *out, char *why,
                      size_t size)
{
    char *end = NULL;
    long long v = strtoll(value, &end, 10);
    if (end == value || *end != '\0' || v < min || v > max || !isdigit((unsigned char)value[0])) {
        snprintf(why, size, "\"%s\" must be an integer in %lld..%lld", value, (long long)min,
                 (long long)max);
        return HB_ERR_INVALID_ARGUMENT;
    }
    *out = v;
    return HB_ERR_OK;
}

static hb_err set_tier(tier_policy *t, const char *key, const char *value, char *why, size_t size)
{
    if (strcmp(key, "single_limit") == 0) return set_amount(value, &t->single_limit, why, size);
    if (strcmp(key, "daily_limit") == 0) return set_amount(value, &t->daily_limit, why, size);
    if (strcmp(key, "fee_min_bp") == 0) return set_int(value, 0, 10000, &t->fee_min_bp, why, size);
    if (strcmp(key, "fee_max_bp") == 0) return set_int(value, 0, 10000, &t->fee_max_bp, why, size);
    if (strcmp(key, "code_validity_s") == 0) {
        return set_int(value, 10, 86400, &t->code_validity_s, why, size);
    }
    if (strcmp(key, "max_shares") == 0) return set_int(value, 1, 100000, &t->max_shares, why, size);
    if (strcmp(key, "crypto") == 0) {
        if (strcmp(value, "aes-256-gcm") == 0) t->crypto = POLICY_AES_GCM;
        else if (strcmp(value, "sm4") == 0) t->crypto = POLICY_SM4;
        else if (strcmp(value, "either") == 0) t->crypto = POLICY_EITHER;
        else {
            snprintf(why, size, "crypto must be aes-256-gcm, sm4 or either");
            return HB_ERR_INVALID_ARGUMENT;
        }
        return HB_ERR_OK;
    }
    if (strcmp(key, "api") == 0) {
        if (strcmp(value, "none") == 0) t->api = POLICY_API_NONE;
        else if (strcmp(value, "basic") == 0) t->api = POLICY_API_BASIC;
        else if (strcmp(value, "full") == 0) t->api = POLICY_API_FULL;
        else {
            snprintf(why, size, "api must be none, basic or full");
            return HB_ERR_INVALID_ARGUMENT;
        }
        return HB_ERR_OK;
    }
    snprintf(why, size, "unknown key \"%s\" in a tier section", key);
    return HB_ERR_INVALID_ARGUMENT;
}

static hb_err set_bool(const char *value, bool *out, char *why, size_t size)
{
    if (strcmp(value, "true") == 0 || strcmp(value, "false") == 0) {
        *out = value[0] == 't';
        return HB_ERR_OK;
    }
    snprintf(why, size, "must be true or false");
    return HB_ERR_INVALID_ARGUMENT;
}

/* "HH:MM" (00:00..23:59) as minutes after midnight, or "off" as -1. */
static hb_err set_clock_time(const char *value, int64_t *out, char *why, size_t size)
{
    if (strcmp(value, "off") == 0) {
        *out = -1;
        return HB_ERR_OK;
    }
    bool ok = strlen(value) == 5 && value[2] == ':';
    for (int i = 0; ok && i < 5; i++) ok = i == 2 || (value[i] >= '0' && value[i] <= '9');
    int h = ok ? (value[0] - '0') * 10 + (value[1] - '0') : 0;
    int m = ok ? (value[3] - '0') * 10 + (value[4] - '0') : 0;
    if (!ok || h > 23 || m > 59) {
        snprintf(why, size, "must be a time HH:MM (00:00-23:59) or off");
        return HB_ERR_INVALID_ARGUMENT;
    }
    *out = h * 60 + m;
    return HB_ERR_OK;
}

hb_err policy_set(policy *p, const char *section, const char *key, const char *value, char *why,
                  size_t size)
{
    for (int t = 1; t < POLICY_TIERS; t++) {
        if (strcmp(section, tier_sections[t]) == 0) return set_tier(&p->tiers[t], key, value, why, size);
    }
    if (strcmp(section, "general") == 0) {
        if (strcmp(key, "timezone") == 0) {
            size_t len = strlen(value);
            bool ok = len > 0 && len < sizeof p->timezone && value[0] != '/';
            for (size_t i = 0; ok && i < len; i++) {
                ok = isalnum((unsigned char)value[i]) || strchr("/_+-", value[i]) != NULL;
            }
            if (!ok || strstr(value, "..") != NULL) {
                snprintf(why, size, "timezone must be a zone name such as Asia/Shanghai");
                return HB_ERR_INVALID_ARGUMENT;
            }
            memcpy(p->timezone, value, len + 1);
            return HB_ERR_OK;
        }
        if (strcmp(key, "transfer_max") == 0) return set_amount(value, &p->transfer_max, why, size);
        if (strcmp(key, "national_crypto") == 0) return set_bool(value, &p->national_crypto, why, size);
    } else if (strcmp(section, "web") == 0 && strcmp(key, "login_url") == 0) {
        size_t len = strlen(value);
        bool ok = len < sizeof p->web_login_url &&
                  (len == 0 || strncmp(value, "https://", 8) == 0 || strncmp(value, "http://", 7) == 0);
        for (size_t i = 0; ok && i < len; i++) {
            unsigned char c = (unsigned char)value[i];
            ok = c > 0x20 && c < 0x7f && strchr("\"'<>\\`", c) == NULL;
        }
        if (!ok) {
            snprintf(why, size, "login_url must be an http(s) URL of at most %d characters, "
                     "without spaces or quotes", LIMIT_PUBLIC_URL_LEN);
            return HB_ERR_INVALID_ARGUMENT;
        }
        memcpy(p->web_login_url, value, len + 1);
        return HB_ERR_OK;
    } else if (strcmp(section, "messages") == 0 && strcmp(key, "banned") == 0) {
        size_t len = strlen(value);
        if (len == 0 || len > POLICY_PHRASE_LEN || p->banned_count >= POLICY_BANNED_MAX) {
            snprintf(why, size, "a banned phrase must be 1-%d bytes, at most %d phrases",
                     POLICY_PHRASE_LEN, POLICY_BANNED_MAX);
            return HB_ERR_INVALID_ARGUMENT;
        }
        for (int i = 0; i < p->banned_count; i++) {
            if (strcmp(p->banned[i], value) == 0) return HB_ERR_OK;
        }
        memcpy(p->banned[p->banned_count++], value, len + 1);
        return HB_ERR_OK;
    } else if (strncmp(section, "region.", 7) == 0 && strcmp(key, "multiplier_bp") == 0) {
        const char *name = section + 7;
        size_t len = strlen(name);
        if (len == 0 || len > 16) {
            snprintf(why, size, "a region name is 1-16 characters");
            return HB_ERR_INVALID_ARGUMENT;
        }
        int64_t bp = 0;
        hb_err err = set_int(value, 0, 100000, &bp, why, size);
        if (err != HB_ERR_OK) return err;
        for (int i = 0; i < p->region_count; i++) {
            if (strcmp(p->regions[i].name, name) == 0) {
                p->regions[i].multiplier_bp = bp;
                return HB_ERR_OK;
            }
        }
        if (p->region_count >= POLICY_REGIONS_MAX) {
            snprintf(why, size, "at most %d regions", POLICY_REGIONS_MAX);
            return HB_ERR_INVALID_ARGUMENT;
        }
        region_policy *r = &p->regions[p->region_count++];
        memcpy(r->name, name, len + 1);
        r->multiplier_bp = bp;
        return HB_ERR_OK;
    } else if (strncmp(section, "real_name.", 10) == 0 && section[10] >= '0' &&
               section[10] < '0' + POLICY_REAL_NAME_LEVELS && section[11] == '\0') {
        real_name_cap *c = &p->real_name[section[10] - '0'];
        if (strcmp(key, "single") == 0) return set_amount(value, &c->single, why, size);
        if (strcmp(key, "daily") == 0) return set_amount(value, &c->daily, why, size);
        if (strcmp(key, "yearly") == 0) return set_amount(value, &c->yearly, why, size);
    } else if (strcmp(section, "rate_limit") == 0) {
        if (strcmp(key, "key_per_second") == 0) return set_int(value, 1, 1000000, &p->key_per_second, why, size);
        if (strcmp(key, "key_burst") == 0) return set_int(value, 1, 1000000, &p->key_burst, why, size);
        if (strcmp(key, "session_per_second") == 0) {
            return set_int(value, 1, 1000000, &p->session_per_second, why, size);
        }
        if (strcmp(key, "session_burst") == 0) return set_int(value, 1, 1000000, &p->session_burst, why, size);
        if (strcmp(key, "device_per_second") == 0) {
            return set_int(value, 1, 1000000, &p->device_per_second, why, size);
        }
        if (strcmp(key, "device_burst") == 0) {
            return set_int(value, 1, 1000000, &p->device_burst, why, size);
        }
        if (strcmp(key, "auth_failures_per_second") == 0) {
            return set_int(value, 1, 1000000, &p->auth_failures_per_second, why, size);
        }
        if (strcmp(key, "auth_failures_burst") == 0) {
            return set_int(value, 1, 1000000, &p->auth_failures_burst, why, size);
        }
    } else if (strcmp(section, "codes") == 0) {
        if (strcmp(key, "token_key_id") == 0) return set_int(value, 1, 8, &p->code_key_id, why, size);
        if (strcmp(key, "token_key_min") == 0) return set_int(value, 1, 8, &p->code_key_min, why, size);
    } else if (strcmp(section, "audit") == 0) {
        if (strcmp(key, "checkpoint_records") == 0) {
            return set_int(value, 1, 100000000, &p->audit_checkpoint_records, why, size);
        }
        if (strcmp(key, "checkpoint_s") == 0) {
            return set_int(value, 10, 86400, &p->audit_checkpoint_s, why, size);
        }
    } else if (strcmp(section, "risk") == 0) {
        if (strcmp(key, "enabled") == 0) return set_bool(value, &p->risk_enabled, why, size);
        if (strcmp(key, "same_amount_run") == 0) {
            return set_int(value, 0, 1000, &p->risk_same_amount_run, why, size);
        }
        if (strcmp(key, "fuse_s") == 0) return set_int(value, 60, 31536000, &p->risk_fuse_s, why, size);
        if (strcmp(key, "device_accounts") == 0) {
            return set_int(value, 0, 1000, &p->risk_device_accounts, why, size);
        }
        if (strcmp(key, "device_window_s") == 0) {
            return set_int(value, 60, 31536000, &p->risk_device_window_s, why, size);
        }
        if (strcmp(key, "multi_accounts") == 0) { /* restricting them is one command: <= 15 */
            return set_int(value, 0, 15, &p->risk_multi_accounts, why, size);
        }
        if (strcmp(key, "multi_window_s") == 0) {
            return set_int(value, 10, 86400, &p->risk_multi_window_s, why, size);
        }
        if (strcmp(key, "restrict_days") == 0) {
            return set_int(value, 1, 365, &p->risk_restrict_days, why, size);
        }
        if (strcmp(key, "night_count") == 0) {
            return set_int(value, 0, 100000, &p->risk_night_count, why, size);
        }
        if (strcmp(key, "night_below") == 0) return set_amount(value, &p->risk_night_below, why, size);
        if (strcmp(key, "night_window_s") == 0) {
            return set_int(value, 60, 21600, &p->risk_night_window_s, why, size);
        }
        if (strcmp(key, "dispersion_stddev") == 0) return set_amount(value, &p->risk_dispersion, why, size);
        if (strcmp(key, "large_single") == 0) return set_amount(value, &p->risk_large_single, why, size);
        if (strcmp(key, "large_daily") == 0) return set_amount(value, &p->risk_large_daily, why, size);
    } else if (strcmp(section, "payments") == 0) {
        if (strcmp(key, "static_daily_cap") == 0) return set_amount(value, &p->static_daily_cap, why, size);
    } else if (strcmp(section, "settlement") == 0) {
        if (strcmp(key, "auto_after") == 0) return set_clock_time(value, &p->settle_after_min, why, size);
    } else if (strcmp(section, "webhooks") == 0) {
        if (strcmp(key, "retry_base_s") == 0) return set_int(value, 1, 86400, &p->webhook_retry_base_s, why, size);
        if (strcmp(key, "retry_max_s") == 0) return set_int(value, 1, 86400, &p->webhook_retry_max_s, why, size);
        if (strcmp(key, "give_up_s") == 0) return set_int(value, 1, 604800, &p->webhook_give_up_s, why, size);
        if (strcmp(key, "timeout_s") == 0) return set_int(value, 1, 60, &p->webhook_timeout_s, why, size);
        if (strcmp(key, "allow_private") == 0) return set_bool(value, &p->webhook_allow_private, why, size);
    } else {
        snprintf(why, size, "unknown section [%s]", section);
        return HB_ERR_INVALID_ARGUMENT;
    }
    snprintf(why, size, "unknown key \"%s\" in [%s]", key, section);
    return HB_ERR_INVALID_ARGUMENT;
}

/* Cross-field rules that hold whatever the order of the keys. */
static hb_err check(const policy *p, char *why, size_t size)
{
    for (int t = 1; t < POLICY_TIERS; t++) {
        const tier_policy *tp = &p->tiers[t];
        if (tp->single_limit <= 0 || tp->single_limit > tp->daily_limit) {
            snprintf(why, size, "[%s] needs 0 < single_limit <= daily_limit", tier_sections[t]);
            return HB_ERR_INVALID_ARGUMENT;
        }
        if (tp->fee_min_bp > tp->fee_max_bp) {
            snprintf(why, size, "[%s] needs fee_min_bp <= fee_max_bp", tier_sections[t]);
            return HB_ERR_INVALID_ARGUMENT;
        }
    }
    if (p->code_key_min > p->code_key_id) {
        snprintf(why, size, "[codes] needs token_key_min <= token_key_id");
        return HB_ERR_INVALID_ARGUMENT;
    }
    if (p->webhook_retry_base_s > p->webhook_retry_max_s) {
        snprintf(why, size, "[webhooks] needs retry_base_s <= retry_max_s");
        return HB_ERR_INVALID_ARGUMENT;
    }
    if (p->transfer_max <= 0) {
        snprintf(why, size, "[general] transfer_max must be positive");
        return HB_ERR_INVALID_ARGUMENT;
    }
    return HB_ERR_OK;
}

typedef struct load_state {
    policy *p;
    char *why;
    size_t size;
} load_state;

static int on_ini(void *user, const char *section, const char *name, const char *value)
{
    load_state *s = user;
    return policy_set(s->p, section, name, value, s->why, s->size) == HB_ERR_OK;
}

/* HONGBAO_GENERAL_TIMEZONE, HONGBAO_TIER_PERSONAL_DAILY_LIMIT, HONGBAO_RATE_LIMIT_KEY_BURST… */
static hb_err apply_env(policy *p, char *why, size_t size)
{
    static const char *const tier_keys[] = {"single_limit", "daily_limit", "fee_min_bp",
                                            "fee_max_bp", "code_validity_s", "crypto", "api",
                                            "max_shares"};
    static const char *const fixed[][2] = {
        {"general", "timezone"},       {"general", "transfer_max"},
        {"general", "national_crypto"},
        {"rate_limit", "key_per_second"}, {"rate_limit", "key_burst"},
        {"rate_limit", "session_per_second"}, {"rate_limit", "session_burst"},
        {"rate_limit", "auth_failures_per_second"}, {"rate_limit", "auth_failures_burst"},
        {"rate_limit", "device_per_second"}, {"rate_limit", "device_burst"},
        {"codes", "token_key_id"}, {"codes", "token_key_min"}, {"audit", "checkpoint_records"}, {"audit", "checkpoint_s"}, {"risk", "enabled"}, {"risk", "same_amount_run"}, {"risk", "fuse_s"},
        {"risk", "device_accounts"}, {"risk", "device_window_s"}, {"risk", "large_single"},
        {"risk", "large_daily"}, {"risk", "multi_accounts"}, {"risk", "multi_window_s"},
        {"risk", "restrict_days"}, {"risk", "night_count"}, {"risk", "night_below"},
        {"risk", "night_window_s"}, {"risk", "dispersion_stddev"},
        {"payments", "static_daily_cap"}, {"settlement", "auto_after"},
        {"webhooks", "retry_base_s"}, {"webhooks", "retry_max_s"}, {"webhooks", "give_up_s"},
        {"webhooks", "timeout_s"}, {"webhooks", "allow_private"}, {"web", "login_url"}};
    char pairs[80][2][32];
    int n = 0;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++, n++) {
        snprintf(pairs[n][0], 32, "%s", fixed[i][0]);
        snprintf(pairs[n][1], 32, "%s", fixed[i][1]);
    }
    for (int t = 1; t < POLICY_TIERS; t++) {
        for (size_t k = 0; k < sizeof tier_keys / sizeof tier_keys[0]; k++, n++) {
            snprintf(pairs[n][0], 32, "%s", tier_sections[t]);
            snprintf(pairs[n][1], 32, "%s", tier_keys[k]);
        }
    }
    for (int i = 0; i < n; i++) {
        char name[96];
        int len = snprintf(name, sizeof name, "HONGBAO_%s_%s", pairs[i][0], pairs[i][1]);
        for (int c = 0; c < len; c++) {
            name[c] = name[c] == '.' || name[c] == '-' ? '_' : (char)toupper((unsigned char)name[c]);
        }
        const char *value = getenv(name);
        if (value == NULL) continue;
        char reason[160];
        if (policy_set(p, pairs[i][0], pairs[i][1], value, reason, sizeof reason) != HB_ERR_OK) {
            snprintf(why, size, "%s: %s", name, reason);
            return HB_ERR_INVALID_ARGUMENT;
        }
    }
    return HB_ERR_OK;
}

/* The rest of a load after the file or text was read: its outcome rc (ini_parse's), then
 * the environment's overrides and the checks across keys. */
static hb_err finish_load(int rc, policy *p, int *line, char *why, size_t size)
{
    if (rc != 0) {
        *line = rc;
        if (why[0] == '\0') snprintf(why, size, "syntax error");
        return HB_ERR_INVALID_ARGUMENT;
    }
    hb_err err = apply_env(p, why, size);
    if (err == HB_ERR_OK) err = check(p, why, size);
    return err;
}

hb_err policy_load(const char *path, policy *p, int *line, char *why, size_t size)
{
    policy_defaults(p);
    *line = 0;
    why[0] = '\0';
    int rc = 0;
    if (path != NULL) {
        load_state s = {p, why, size};
        rc = ini_parse(path, on_ini, &s);
        if (rc == -1) {
            snprintf(why, size, "cannot open %s", path);
            return HB_ERR_NOT_FOUND;
        }
    }
    return finish_load(rc, p, line, why, size);
}

hb_err policy_parse_text(const char *text, policy *p, int *line, char *why, size_t size)
{
    policy_defaults(p);
    *line = 0;
    why[0] = '\0';
    load_state s = {p, why, size};
    return finish_load(ini_parse_string(text, on_ini, &s), p, line, why, size);
}

int64_t policy_region_multiplier(const policy *p, const char *region)
{
    for (int i = 0; i < p->region_count; i++) {
        if (strcmp(p->regions[i].name, region) == 0) return p->regions[i].multiplier_bp;
    }
    return 10000;
}

const char *policy_banned_phrase(const policy *p, const char *text)
{
    for (int i = 0; i < p->banned_count; i++) {
        if (strstr(text, p->banned[i]) != NULL) return p->banned[i];
    }
    return NULL;
}
