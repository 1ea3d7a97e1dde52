#include "service/customer.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "core/digest.h"
#include "core/text.h"
#include "core/ids.h"
#include "core/mask.h"
#include "service/wallet.h"

/* ---- validation -------------------------------------------------------------------------- */

static bool utf8_text_ok(const char *s, size_t max)
{
    return text_valid(s, max, false);
}

static bool phone_ok(const char *s)
{
    size_t i = s[0] == '+' ? 1 : 0;
    size_t digits = 0;
    for (; s[i]; i++, digits++) {
        if (s[i] < '0' || s[i] > '9') return false;
    }
    return digits >= 5 && digits <= 19;
}

static bool id_number_ok(const char *s)
{
    size_t len = strlen(s);
    if (len != 15 && len != 18) return false;
    for (size_t i = 0; i < len; i++) {
        bool last_x = i == len - 1 && (s[i] == 'X' || s[i] == 'x');
        if (!last_x && (s[i] < '0' || s[i] > '9')) return false;
    }
    return true;
}

static bool region_ok(const char *s)
{
    size_t len = strnlen(s, LIMIT_REGION_LEN + 1);
    if (len == 0 || len > LIMIT_REGION_LEN) return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '-';
        if (!ok) return false;
    }
    return true;
}

/* ---- sealing ------------------------------------------------------------------------------ */

static hb_err seal_field(const keyring *keys, const char *column, int64_t id, const char *value,
                         uint8_t *box, size_t *box_len)
{
    char aad[64];
    int n = snprintf(aad, sizeof aad, "customers.%s|%lld", column, (long long)id);
    size_t len = strlen(value);
    ASSERT(len + KEYRING_BOX_OVERHEAD <= LIMIT_BOX_LEN);
    return keyring_seal(keys, value, len, aad, (size_t)n, box, box_len);
}

static hb_err open_field(const keyring *keys, const char *column, int64_t id, const uint8_t *box,
                         size_t box_len, char *out, size_t size)
{
    char aad[64];
    int n = snprintf(aad, sizeof aad, "customers.%s|%lld", column, (long long)id);
    if (keyring_plain_len(box, box_len) >= size) return HB_ERR_UNAVAILABLE; /* damaged row */
    size_t len = 0;
    hb_err err = keyring_open(keys, box, box_len, aad, (size_t)n, (uint8_t *)out, &len);
    if (err != HB_ERR_OK) return HB_ERR_UNAVAILABLE; /* wrong key file or a damaged row */
    ASSERT(len < size);
    out[len] = '\0';
    return HB_ERR_OK;
}

hb_err customer_reseal(const keyring *keys, customer *c, bool *changed)
{
    struct {
        const char *column;
        uint8_t *box;
        size_t *len;
    } fields[] = {{"name", c->name_box, &c->name_box_len},
                  {"phone", c->phone_box, &c->phone_box_len},
                  {"id_number", c->id_number_box, &c->id_number_box_len}};
    *changed = false;
    hb_err err = HB_ERR_OK;
    for (size_t i = 0; err == HB_ERR_OK && i < sizeof fields / sizeof fields[0]; i++) {
        if (keyring_box_version(fields[i].box, *fields[i].len) == keys->versions) continue;
        char value[LIMIT_BOX_LEN];
        err = open_field(keys, fields[i].column, c->id, fields[i].box, *fields[i].len, value,
                         sizeof value);
        if (err == HB_ERR_OK) {
            err = seal_field(keys, fields[i].column, c->id, value, fields[i].box, fields[i].len);
        }
        OPENSSL_cleanse(value, sizeof value);
        if (err == HB_ERR_OK) *changed = true;
    }
    return err == HB_ERR_OK ? HB_ERR_OK : HB_ERR_UNAVAILABLE;
}

/* ---- create ------------------------------------------------------------------------------- */

static hb_err create_merchant_account(txn *t, int64_t customer_id, account_kind kind,
                                      const customer_input *in, int64_t *id_out)
{
    account a;
    memset(&a, 0, sizeof a);
    snprintf(a.owner, sizeof a.owner, "acct_%lld", (long long)customer_id);
    a.kind = kind;
    a.tier = in->tier;
    a.currency = in->currency;
    a.flags = ACCOUNT_FLAG_NO_NEGATIVE;
    hb_err err = txn_account_create(t, &a);
    *id_out = a.id;
    return err;
}

static hb_err exec_customer_create(txn *t, command *cmd)
{
    customer_cmd *c = (customer_cmd *)cmd;
    const customer_input *in = &c->input;
    account wallet;
    memset(&wallet, 0, sizeof wallet);
    snprintf(wallet.owner, sizeof wallet.owner, "customer");
    wallet.kind = ACCOUNT_WALLET;
    wallet.tier = in->tier;
    wallet.currency = in->currency;
    wallet.flags = ACCOUNT_FLAG_NO_NEGATIVE;
    wallet.real_name_level = in->has_real_name_level ? in->real_name_level
                             : in->id_number[0] != '\0' ? 2
                                                         : 0;
    snprintf(wallet.region, sizeof wallet.region, "%s", in->region);
    hb_err err = txn_account_create(t, &wallet);
    if (err != HB_ERR_OK) return err;
    customer row;
    memset(&row, 0, sizeof row);
    row.id = wallet.id;
    row.tier = in->tier;
    row.created_at_ms = txn_now_ms(t);
    snprintf(row.region, sizeof row.region, "%s", in->region);
    row.fee_rate_bp = -1;
    if (in->has_fee_rate) {
        const tier_policy *tp = &txn_policy(t)->tiers[in->tier];
        if (in->tier == TIER_PERSONAL || in->fee_rate_bp < tp->fee_min_bp ||
            in->fee_rate_bp > tp->fee_max_bp) {
            txn_fail_detail(t, "fee_rate_bp must be within the %s tier's %lld..%lld",
                            tier_name(in->tier), (long long)tp->fee_min_bp,
                            (long long)tp->fee_max_bp);
            return HB_ERR_INVALID_ARGUMENT;
        }
        row.fee_rate_bp = in->fee_rate_bp;
    }
    if (in->tier != TIER_PERSONAL) {
        err = create_merchant_account(t, row.id, ACCOUNT_MERCHANT_PENDING, in, &row.pending_id);
        if (err == HB_ERR_OK) {
            err = create_merchant_account(t, row.id, ACCOUNT_MERCHANT_AVAILABLE, in,
                                          &row.available_id);
        }
        if (err != HB_ERR_OK) return err;
    }
    err = seal_field(c->keys, "name", row.id, in->name, row.name_box, &row.name_box_len);
    if (err == HB_ERR_OK) {
        err = seal_field(c->keys, "phone", row.id, in->phone, row.phone_box, &row.phone_box_len);
    }
    if (err == HB_ERR_OK) {
        err = seal_field(c->keys, "id_number", row.id, in->id_number, row.id_number_box,
                         &row.id_number_box_len);
    }
    if (err == HB_ERR_OK) {
        err = crypto_hmac_sha256(c->keys->lookup_key, CRYPTO_KEY_LEN, in->phone,
                                 strlen(in->phone), row.phone_hash);
    }
    if (err != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    if (store_customer_insert(txn_store(t), &row) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    c->id = row.id;
    char object[IDS_TEXT_MAX];
    int n = ids_format(ID_ACCOUNT, row.id, object, sizeof object);
    txn_audit(t, "customer.create", object);
    txn_set_result(t, object, (size_t)n);
    return HB_ERR_OK;
}

static hb_err replay_customer(txn *t, command *cmd, const char *result, size_t len)
{
    customer_cmd *c = (customer_cmd *)cmd;
    (void)t;
    (void)len;
    if (ids_parse(ID_ACCOUNT, result, &c->id) != HB_ERR_OK) return HB_ERR_NOT_FOUND;
    return HB_ERR_OK;
}

hb_err customer_create_prepare(customer_cmd *c, const keyring *keys, const char *actor,
                               const char *idem_key, char *err_text, size_t size)
{
    customer_input *in = &c->input;
    const char *why = NULL;
    if (in->tier < TIER_PERSONAL || in->tier >= TIER_COUNT) {
        why = "tier must be personal, enterprise or provider";
    } else if (!currency_valid(in->currency)) {
        why = "currency must be CNY or HKD";
    } else if (!region_ok(in->region)) {
        why = "region must be 1-16 letters, digits or '-'";
    } else if (!utf8_text_ok(in->name, LIMIT_NAME_LEN)) {
        why = "name must be 1-64 bytes of printable UTF-8";
    } else if (in->phone[0] != '\0' && !phone_ok(in->phone)) {
        why = "phone must be 5-19 digits, optionally after '+'";
    } else if (in->id_number[0] != '\0' && !id_number_ok(in->id_number)) {
        why = "id_number must be 15 or 18 characters: digits, the last may be X";
    } else if (in->has_real_name_level && (in->real_name_level < 0 || in->real_name_level > 3)) {
        why = "real_name_level must be 0..3";
    }
    if (why != NULL) {
        snprintf(err_text, size, "%s", why);
        return HB_ERR_INVALID_ARGUMENT;
    }
    memset(&c->base, 0, sizeof c->base);
    c->keys = keys;
    c->id = 0;
    snprintf(c->base.actor, sizeof c->base.actor, "%s", actor);
    snprintf(c->base.idem_key, sizeof c->base.idem_key, "%s", idem_key ? idem_key : "");
    c->base.exec = exec_customer_create;
    c->base.replay = replay_customer;
    /* The request hash covers the personal data too, hashed so that it never sits in memory
     * longer than needed in another form. */
    char canonical[512];
    int n = snprintf(canonical, sizeof canonical, "customer|%d|%d|%s|%s|%s|%s|%lld|%d", in->tier,
                     in->currency, in->region, in->name, in->phone, in->id_number,
                     in->has_fee_rate ? (long long)in->fee_rate_bp : -1LL,
                     in->has_real_name_level ? in->real_name_level : -1);
    ASSERT(n > 0 && (size_t)n < sizeof canonical);
    hb_err err = digest_sha256(canonical, (size_t)n, c->base.request_hash);
    OPENSSL_cleanse(canonical, sizeof canonical);
    return err;
}

static hb_err exec_unmask(txn *t, command *cmd)
{
    unmask_cmd *c = (unmask_cmd *)cmd;
    customer row;
    hb_err err = store_customer_get(txn_store(t), c->id, &row);
    if (err == HB_ERR_NOT_FOUND) txn_fail_detail(t, "no such account");
    if (err != HB_ERR_OK) return err;
    char object[IDS_TEXT_MAX];
    ids_format(ID_ACCOUNT, c->id, object, sizeof object);
    txn_audit(t, "customer.unmask", object);
    return HB_ERR_OK;
}

/* A repeated unmask with the same key shows the data again (and is not audited twice). */
static hb_err replay_unmask(txn *t, command *cmd, const char *result, size_t len)
{
    (void)t;
    (void)cmd;
    (void)result;
    (void)len;
    return HB_ERR_OK;
}

hb_err customer_unmask_prepare(unmask_cmd *c, const char *actor)
{
    if (c->id <= 0) return HB_ERR_INVALID_ARGUMENT;
    int64_t id = c->id;
    memset(&c->base, 0, sizeof c->base);
    c->id = id;
    snprintf(c->base.actor, sizeof c->base.actor, "%s", actor);
    c->base.exec = exec_unmask;
    c->base.replay = replay_unmask;
    return HB_ERR_OK;
}

/* ---- view ---------------------------------------------------------------------------------- */

hb_err customer_view_get(store *s, const keyring *keys, int64_t id, bool unmask,
                         customer_view *out)
{
    customer row;
    hb_err err = store_customer_get(s, id, &row);
    if (err != HB_ERR_OK) return err;
    account wallet;
    err = store_account_get(s, id, &wallet);
    if (err != HB_ERR_OK) return err == HB_ERR_NOT_FOUND ? HB_ERR_UNAVAILABLE : err;
    memset(out, 0, sizeof *out);
    out->id = id;
    out->tier = row.tier;
    out->currency = wallet.currency;
    out->status = wallet.status;
    out->restricted_until_ms = wallet.restricted_until_ms;
    out->balance = wallet.balance;
    out->created_at_ms = row.created_at_ms;
    snprintf(out->region, sizeof out->region, "%s", row.region);
    out->pending_id = row.pending_id;
    out->available_id = row.available_id;
    out->fee_rate_bp = row.fee_rate_bp;
    out->real_name_level = wallet.real_name_level;
    out->agreement.tier = row.tier;
    out->agreement.fee_rate_bp = row.fee_rate_bp;
    out->agreement.agreement_single = row.agreement_single;
    out->agreement.agreement_daily = row.agreement_daily;
    out->agreement.agreement_validity_s = row.agreement_validity_s;
    out->agreement.agreement_crypto = row.agreement_crypto;
    out->agreement.agreement_max_shares = row.agreement_max_shares;
    account a;
    if (row.pending_id && store_account_get(s, row.pending_id, &a) == HB_ERR_OK) {
        out->pending_balance = a.balance;
    }
    if (row.available_id && store_account_get(s, row.available_id, &a) == HB_ERR_OK) {
        out->available_balance = a.balance;
    }
    char name[LIMIT_NAME_LEN + 1], phone[LIMIT_PHONE_LEN + 1], id_number[LIMIT_ID_NUMBER_LEN + 1];
    err = open_field(keys, "name", id, row.name_box, row.name_box_len, name, sizeof name);
    if (err == HB_ERR_OK) {
        err = open_field(keys, "phone", id, row.phone_box, row.phone_box_len, phone, sizeof phone);
    }
    if (err == HB_ERR_OK) {
        err = open_field(keys, "id_number", id, row.id_number_box, row.id_number_box_len,
                         id_number, sizeof id_number);
    }
    if (err == HB_ERR_OK) {
        if (unmask) {
            snprintf(out->name, sizeof out->name, "%s", name);
            snprintf(out->phone, sizeof out->phone, "%s", phone);
            snprintf(out->id_number, sizeof out->id_number, "%s", id_number);
        } else {
            mask_name(name, out->name, sizeof out->name);
            mask_phone(phone, out->phone, sizeof out->phone);
            mask_id_number(id_number, out->id_number, sizeof out->id_number);
        }
    }
    OPENSSL_cleanse(name, sizeof name);
    OPENSSL_cleanse(phone, sizeof phone);
    OPENSSL_cleanse(id_number, sizeof id_number);
    return err;
}

bool customer_owns(const customer_view *v, int64_t account_id)
{
    return account_id == v->id || (v->pending_id != 0 && account_id == v->pending_id) ||
           (v->available_id != 0 && account_id == v->available_id);
}

/* ---- real-name level ------------------------------------------------------------------ */

static hb_err exec_real_name(txn *t, command *cmd)
{
    real_name_cmd *c = (real_name_cmd *)cmd;
    customer row;
    hb_err err = store_customer_get(txn_store(t), c->id, &row);
    if (err == HB_ERR_NOT_FOUND) txn_fail_detail(t, "no such account");
    if (err != HB_ERR_OK) return err;
    if (row.tier != TIER_PERSONAL) {
        txn_fail_detail(t, "real-name levels are for people (personal accounts)");
        return HB_ERR_INVALID_ARGUMENT;
    }
    err = txn_account_set_real_name(t, c->id, c->level);
    if (err != HB_ERR_OK) return err;
    char object[IDS_TEXT_MAX];
    int n = ids_format(ID_ACCOUNT, c->id, object, sizeof object);
    txn_audit(t, "customer.real_name", object);
    txn_set_result(t, object, (size_t)n);
    return HB_ERR_OK;
}

static hb_err replay_real_name(txn *t, command *cmd, const char *result, size_t len)
{
    (void)t, (void)cmd, (void)result, (void)len;
    return HB_ERR_OK;
}

hb_err customer_real_name_prepare(real_name_cmd *c, const char *actor, const char *idem_key)
{
    if (c->id <= 0 || c->level < 0 || c->level > 3) return HB_ERR_INVALID_ARGUMENT;
    char canonical[64];
    int n = snprintf(canonical, sizeof canonical, "real_name|%lld|%d", (long long)c->id, c->level);
    ASSERT(n > 0 && (size_t)n < sizeof canonical);
    hb_err err = wallet_command_init(&c->base, actor, idem_key, canonical, (size_t)n);
    c->base.exec = exec_real_name;
    c->base.replay = replay_real_name;
    return err;
}

/* ---- a provider's agreement ------------------------------------------------------------- */

void customer_terms(const policy *pol, const customer *c, tier_policy *out)
{
    *out = pol->tiers[c->tier];
    if (c->tier != TIER_PROVIDER || c->agreement_single <= 0) return;
    out->single_limit = c->agreement_single;
    out->daily_limit = c->agreement_daily;
    out->code_validity_s = c->agreement_validity_s;
    out->crypto = (policy_crypto)c->agreement_crypto;
    out->max_shares = c->agreement_max_shares;
}

static hb_err exec_agreement(txn *t, command *cmd)
{
    agreement_cmd *c = (agreement_cmd *)cmd;
    customer row;
    hb_err err = store_customer_get(txn_store(t), c->id, &row);
    if (err == HB_ERR_NOT_FOUND) txn_fail_detail(t, "no such account");
    if (err != HB_ERR_OK) return err;
    if (row.tier != TIER_PROVIDER) {
        txn_fail_detail(t, "agreements are for provider accounts");
        return HB_ERR_INVALID_ARGUMENT;
    }
    const tier_policy *tp = &txn_policy(t)->tiers[TIER_PROVIDER];
    if (c->fee_rate_bp < tp->fee_min_bp || c->fee_rate_bp > tp->fee_max_bp) {
        txn_fail_detail(t, "fee_rate_bp must be within the provider tier's %lld..%lld",
                        (long long)tp->fee_min_bp, (long long)tp->fee_max_bp);
        return HB_ERR_INVALID_ARGUMENT;
    }
    row.fee_rate_bp = c->fee_rate_bp;
    row.agreement_single = c->single_limit;
    row.agreement_daily = c->daily_limit;
    row.agreement_validity_s = c->code_validity_s;
    row.agreement_crypto = (int)c->crypto;
    row.agreement_max_shares = c->max_shares;
    if (store_customer_set_agreement(txn_store(t), &row) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    const int64_t ints[] = {row.id, row.fee_rate_bp, row.agreement_single, row.agreement_daily,
                            row.agreement_validity_s, row.agreement_crypto,
                            row.agreement_max_shares};
    if (txn_digest_row(t, "agreement", ints, 7, NULL, 0) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    char object[IDS_TEXT_MAX];
    int n = ids_format(ID_ACCOUNT, c->id, object, sizeof object);
    txn_audit(t, "customer.agreement", object);
    txn_set_result(t, object, (size_t)n);
    return HB_ERR_OK;
}

hb_err customer_agreement_prepare(agreement_cmd *c, const char *actor, const char *idem_key,
                                  char *why, size_t why_size)
{
    const char *bad = NULL;
    if (c->single_limit < 1 || c->single_limit > LIMIT_AMOUNT_MAX_FEN ||
        c->daily_limit < c->single_limit || c->daily_limit > LIMIT_BALANCE_MAX_FEN) {
        bad = "single_limit and daily_limit must be positive amounts with single <= daily";
    } else if (c->code_validity_s < 30 || c->code_validity_s > 3600) {
        bad = "code_validity_s must be 30..3600";
    } else if (c->max_shares < 1 || c->max_shares > LIMIT_PACKET_SHARES_MAX) {
        bad = "max_shares must be 1..100000";
    } else if (c->crypto != POLICY_AES_GCM && c->crypto != POLICY_SM4) {
        bad = "crypto must be aes-256-gcm or sm4";
    } else if (c->fee_rate_bp < 0 || c->fee_rate_bp > 10000 || c->id <= 0) {
        bad = "fee_rate_bp must be 0..10000 basis points";
    }
    if (bad != NULL) {
        snprintf(why, why_size, "%s", bad);
        return HB_ERR_INVALID_ARGUMENT;
    }
    char canonical[160];
    int n = snprintf(canonical, sizeof canonical, "agreement|%lld|%lld|%lld|%lld|%lld|%lld|%d",
                     (long long)c->id, (long long)c->single_limit, (long long)c->daily_limit,
                     (long long)c->fee_rate_bp, (long long)c->code_validity_s,
                     (long long)c->max_shares, (int)c->crypto);
    ASSERT(n > 0 && (size_t)n < sizeof canonical);
    hb_err err = wallet_command_init(&c->base, actor, idem_key, canonical, (size_t)n);
    c->base.exec = exec_agreement;
    c->base.replay = replay_real_name; /* the view is read again after */
    return err;
}
