/* Real-name levels, regions, provider agreements and kept risk refusals (issue 8), through
 * the engine with an injectable clock (and on PostgreSQL as pg/unit/test_real_name): the
 * level a customer starts at, an unverified person receiving but not paying, the level's
 * single, daily and yearly caps against the tier's limits, the yearly count restarting at the
 * new year in the configured zone, a region's multiplier, a provider's agreement, and a risk
 * refusal keeping its case but nothing else. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/split.h"
#include "service/customer.h"
#include "service/keyring.h"
#include "service/packet.h"
#include "service/risk.h"
#include "service/wallet.h"
#include "testutil.h"

/* 2026-03-02 10:00:00 in Asia/Shanghai */
#define T0_MS 1772416800000LL
#define DAY_MS 86400000LL

static struct {
    char dir[512];
    char url[700];
    hb_clock clock;
    engine *e;
    keyring keys;
    int64_t funder;
} fx;

static int64_t person(int level, const char *id_number, const char *region)
{
    customer_cmd c;
    memset(&c, 0, sizeof c);
    c.input.tier = TIER_PERSONAL;
    c.input.currency = CURRENCY_CNY;
    snprintf(c.input.region, sizeof c.input.region, "%s", region);
    snprintf(c.input.name, sizeof c.input.name, "Someone");
    snprintf(c.input.id_number, sizeof c.input.id_number, "%s", id_number);
    c.input.has_real_name_level = level >= 0;
    c.input.real_name_level = level;
    char why[160];
    assert_int_equal(customer_create_prepare(&c, &fx.keys, "test", NULL, why, sizeof why), HB_ERR_OK);
    assert_int_equal(engine_submit(fx.e, &c.base), HB_ERR_OK);
    return c.id;
}

static int level_of(int64_t id)
{
    store *s = NULL;
    store_options o = {.read_only = true};
    char why[256];
    assert_int_equal(store_open(fx.url, &o, &s, why, sizeof why), HB_ERR_OK);
    customer_view v;
    assert_int_equal(customer_view_get(s, &fx.keys, id, false, &v), HB_ERR_OK);
    store_close(s);
    return v.real_name_level;
}

static hb_err set_level(int64_t id, int level)
{
    real_name_cmd c;
    memset(&c, 0, sizeof c);
    c.id = id;
    c.level = level;
    hb_err err = customer_real_name_prepare(&c, "test", NULL);
    return err == HB_ERR_OK ? engine_submit(fx.e, &c.base) : err;
}

static hb_err pay(int64_t from, int64_t to, int64_t amount, char *detail, size_t size)
{
    transfer_cmd c;
    memset(&c, 0, sizeof c);
    c.transfer.kind = TRANSFER_P2P;
    c.transfer.debit_id = from;
    c.transfer.credit_id = to;
    c.transfer.amount = amount;
    hb_err err = wallet_transfer_prepare(&c, "test", NULL);
    if (err == HB_ERR_OK) err = engine_submit(fx.e, &c.base);
    if (detail != NULL) snprintf(detail, size, "%s", c.base.err_detail);
    return err;
}

static int setup(void **state)
{
    (void)state;
    snprintf(fx.dir, sizeof fx.dir, "%s", testutil_tempdir());
    snprintf(fx.url, sizeof fx.url, "%s", testutil_store(fx.dir, "rn.db"));
    clock_fixed_init(&fx.clock, T0_MS);
    /* a personal tier wide enough that the real-name caps are what binds */
    policy p;
    policy_defaults(&p);
    p.tiers[TIER_PERSONAL].single_limit = 300000; /* 3,000.00 */
    p.tiers[TIER_PERSONAL].daily_limit = 500000;  /* 5,000.00 */
    p.risk_multi_accounts = 0;    /* test_multi_account turns it on */
    p.risk_large_single = 100000; /* 1,000.00 */
    p.risk_large_daily = 250000;  /* 2,500.00 */
    snprintf(p.regions[p.region_count].name, sizeof p.regions[0].name, "remote");
    p.regions[p.region_count++].multiplier_bp = 5000;
    engine_options o = {.clock = &fx.clock, .policy = &p};
    fx.e = testutil_engine(fx.url, &o);
    char key_file[600], why[256];
    snprintf(key_file, sizeof key_file, "%s/rn.key", fx.dir);
    int created = 0;
    assert_int_equal(keyring_create(key_file, &created, why, sizeof why), HB_ERR_OK);
    assert_int_equal(keyring_load(key_file, &fx.keys, why, sizeof why), HB_ERR_OK);
    fx.funder = person(3, "", "CN");
    assert_int_equal(testutil_topup(fx.e, fx.funder, 100000000), HB_ERR_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    assert_true(testutil_check(fx.url).balanced);
    engine_close(fx.e);
    keyring_clear(&fx.keys);
    testutil_rmdir(fx.dir);
    return 0;
}

static void test_starting_level_and_unverified(void **state)
{
    (void)state;
    int64_t with_id = person(-1, "11010119900307123X", "CN");
    int64_t without = person(-1, "", "CN");
    int64_t chosen = person(1, "", "CN");
    assert_int_equal(level_of(with_id), 2);
    assert_int_equal(level_of(without), 0);
    assert_int_equal(level_of(chosen), 1);
    /* unverified: receives, from a top-up and from another person, but does not pay */
    assert_int_equal(testutil_topup(fx.e, without, 5000), HB_ERR_OK);
    assert_int_equal(pay(fx.funder, without, 100, NULL, 0), HB_ERR_OK);
    char detail[200];
    assert_int_equal(pay(without, fx.funder, 1, detail, sizeof detail), HB_ERR_LIMIT_EXCEEDED);
    assert_non_null(strstr(detail, "can receive but not pay"));
    /* verified later (audited), it pays */
    assert_int_equal(set_level(without, 1), HB_ERR_OK);
    assert_int_equal(level_of(without), 1);
    assert_int_equal(pay(without, fx.funder, 100, NULL, 0), HB_ERR_OK);
    /* levels are for people; 0..3 only */
    customer_cmd m;
    memset(&m, 0, sizeof m);
    m.input.tier = TIER_ENTERPRISE;
    m.input.currency = CURRENCY_CNY;
    snprintf(m.input.region, sizeof m.input.region, "CN");
    snprintf(m.input.name, sizeof m.input.name, "Shop");
    char why[160];
    assert_int_equal(customer_create_prepare(&m, &fx.keys, "test", NULL, why, sizeof why), HB_ERR_OK);
    assert_int_equal(engine_submit(fx.e, &m.base), HB_ERR_OK);
    assert_int_equal(set_level(m.id, 1), HB_ERR_INVALID_ARGUMENT);
    assert_int_equal(set_level(without, 4), HB_ERR_INVALID_ARGUMENT);
    assert_int_equal(set_level(999999, 1), HB_ERR_NOT_FOUND);
}

static void test_level_caps(void **state)
{
    (void)state;
    /* level 1: single 1,000.00, daily 1,000.00, yearly 10,000.00 (below the tier's 3,000/5,000) */
    int64_t basic = person(1, "", "CN");
    assert_int_equal(testutil_topup(fx.e, basic, 5000000), HB_ERR_OK);
    char detail[200];
    assert_int_equal(pay(basic, fx.funder, 100001, detail, sizeof detail), HB_ERR_LIMIT_EXCEEDED);
    assert_non_null(strstr(detail, "single-transaction limit of 1000.00"));
    assert_int_equal(pay(basic, fx.funder, 60000, NULL, 0), HB_ERR_OK);
    assert_int_equal(pay(basic, fx.funder, 40001, detail, sizeof detail), HB_ERR_LIMIT_EXCEEDED);
    assert_non_null(strstr(detail, "daily limit of 1000.00"));
    assert_int_equal(pay(basic, fx.funder, 40000, NULL, 0), HB_ERR_OK); /* exactly the cap */
    /* nine more days at the daily cap reach the yearly 10,000.00... */
    for (int d = 1; d <= 9; d++) {
        fx.clock.fixed_ms += DAY_MS;
        assert_int_equal(pay(basic, fx.funder, 100000, NULL, 0), HB_ERR_OK);
    }
    fx.clock.fixed_ms += DAY_MS;
    assert_int_equal(pay(basic, fx.funder, 1, detail, sizeof detail), HB_ERR_LIMIT_EXCEEDED);
    assert_non_null(strstr(detail, "yearly limit of 10000.00"));
    /* ...which holds to the last second of the year in the configured zone, and then
     * starts again: 2027-01-01 00:00:00 Asia/Shanghai is 2026-12-31 16:00:00 UTC */
    fx.clock.fixed_ms = 1798732799000LL; /* 2026-12-31 23:59:59 +08:00 */
    assert_int_equal(pay(basic, fx.funder, 1, NULL, 0), HB_ERR_LIMIT_EXCEEDED);
    fx.clock.fixed_ms = 1798732800000LL; /* 2027-01-01 00:00:00 +08:00 */
    assert_int_equal(pay(basic, fx.funder, 100000, NULL, 0), HB_ERR_OK);
    /* level 3 is bounded by the tier alone */
    int64_t full = person(3, "", "CN");
    assert_int_equal(testutil_topup(fx.e, full, 1000000), HB_ERR_OK);
    assert_int_equal(pay(full, fx.funder, 300000, NULL, 0), HB_ERR_OK);
    assert_int_equal(pay(full, fx.funder, 300001, detail, sizeof detail), HB_ERR_LIMIT_EXCEEDED);
    assert_non_null(strstr(detail, "personal tier"));
    /* a refused payment leaves nothing: what was paid today is unchanged */
    assert_int_equal(pay(full, fx.funder, 200000, NULL, 0), HB_ERR_OK);
    assert_int_equal(pay(full, fx.funder, 1, NULL, 0), HB_ERR_LIMIT_EXCEEDED);
}

static void test_region_multiplier(void **state)
{
    (void)state;
    /* region "remote" halves the tier's limits: single 1,500.00, daily 2,500.00 */
    int64_t far = person(3, "", "remote");
    assert_int_equal(testutil_topup(fx.e, far, 1000000), HB_ERR_OK);
    char detail[200];
    assert_int_equal(pay(far, fx.funder, 150001, detail, sizeof detail), HB_ERR_LIMIT_EXCEEDED);
    assert_non_null(strstr(detail, "region remote"));
    assert_int_equal(pay(far, fx.funder, 150000, NULL, 0), HB_ERR_OK);
    assert_int_equal(pay(far, fx.funder, 100000, NULL, 0), HB_ERR_OK);
    assert_int_equal(pay(far, fx.funder, 1, NULL, 0), HB_ERR_LIMIT_EXCEEDED); /* daily 2,500.00 */
    /* the multiplier and the cap: the lower one binds (level 1 single 1,000.00 < 1,500.00) */
    int64_t far_basic = person(1, "", "remote");
    assert_int_equal(testutil_topup(fx.e, far_basic, 1000000), HB_ERR_OK);
    assert_int_equal(pay(far_basic, fx.funder, 100001, NULL, 0), HB_ERR_LIMIT_EXCEEDED);
    assert_int_equal(pay(far_basic, fx.funder, 100000, NULL, 0), HB_ERR_OK);
}

static hb_err agree(int64_t id, int64_t single, int64_t daily, int64_t fee, policy_crypto crypto,
                    int64_t shares)
{
    agreement_cmd c;
    memset(&c, 0, sizeof c);
    c.id = id;
    c.single_limit = single;
    c.daily_limit = daily;
    c.fee_rate_bp = fee;
    c.code_validity_s = 60;
    c.crypto = crypto;
    c.max_shares = shares;
    char why[160];
    hb_err err = customer_agreement_prepare(&c, "test", NULL, why, sizeof why);
    return err == HB_ERR_OK ? engine_submit(fx.e, &c.base) : err;
}

static void test_provider_agreement(void **state)
{
    (void)state;
    customer_cmd m;
    memset(&m, 0, sizeof m);
    m.input.tier = TIER_PROVIDER;
    m.input.currency = CURRENCY_CNY;
    snprintf(m.input.region, sizeof m.input.region, "CN");
    snprintf(m.input.name, sizeof m.input.name, "Provider");
    char why[160];
    assert_int_equal(customer_create_prepare(&m, &fx.keys, "test", NULL, why, sizeof why), HB_ERR_OK);
    assert_int_equal(engine_submit(fx.e, &m.base), HB_ERR_OK);
    int64_t provider = m.id;
    assert_int_equal(testutil_topup(fx.e, provider, 100000000), HB_ERR_OK);
    /* before an agreement, the provider tier's defaults (single 50,000.00) */
    char detail[200];
    hb_err first = pay(provider, fx.funder, 200000, detail, sizeof detail);
    if (first != HB_ERR_OK) fail_msg("%s", detail);
    /* the agreement's own limits, fee within the tier's 0.35%..0.8%, SM4 codes, 10 shares */
    assert_int_equal(agree(provider, 100000, 150000, 20, POLICY_SM4, 10), HB_ERR_INVALID_ARGUMENT);
    assert_int_equal(agree(fx.funder, 100000, 150000, 50, POLICY_SM4, 10), HB_ERR_INVALID_ARGUMENT);
    assert_int_equal(agree(provider, 200000, 100000, 50, POLICY_SM4, 10), HB_ERR_INVALID_ARGUMENT);
    assert_int_equal(agree(provider, 100000, 150000, 50, POLICY_EITHER, 10), HB_ERR_INVALID_ARGUMENT);
    assert_int_equal(agree(provider, 100000, 350000, 50, POLICY_SM4, 10), HB_ERR_OK);
    assert_int_equal(pay(provider, fx.funder, 100001, detail, sizeof detail), HB_ERR_LIMIT_EXCEEDED);
    assert_non_null(strstr(detail, "single-transaction limit of 1000.00"));
    assert_int_equal(pay(provider, fx.funder, 100000, NULL, 0), HB_ERR_OK);
    /* the day's count holds the 2,000.00 paid before the agreement too */
    assert_int_equal(pay(provider, fx.funder, 50001, detail, sizeof detail), HB_ERR_LIMIT_EXCEEDED);
    assert_non_null(strstr(detail, "daily limit of 3500.00"));
    store *s = NULL;
    store_options o = {.read_only = true};
    assert_int_equal(store_open(fx.url, &o, &s, why, sizeof why), HB_ERR_OK);
    customer_view v;
    assert_int_equal(customer_view_get(s, &fx.keys, provider, false, &v), HB_ERR_OK);
    store_close(s);
    assert_int_equal(v.agreement.agreement_single, 100000);
    assert_int_equal(v.agreement.agreement_daily, 350000);
    assert_int_equal(v.agreement.fee_rate_bp, 50);
    assert_int_equal(v.agreement.agreement_max_shares, 10);
    tier_policy terms;
    policy p;
    policy_defaults(&p);
    customer_terms(&p, &v.agreement, &terms);
    assert_int_equal(terms.code_validity_s, 60);
    assert_int_equal(terms.crypto, POLICY_SM4);
    assert_int_equal(terms.max_shares, 10);
}

static hb_err list_account(int64_t id, bool remove)
{
    risk_list_cmd c;
    memset(&c, 0, sizeof c);
    c.remove = remove;
    c.entry.kind = RISK_LIST_ACCOUNT;
    snprintf(c.entry.value, sizeof c.entry.value, "acct_%lld", (long long)id);
    snprintf(c.entry.reason, sizeof c.entry.reason, "test");
    char why[160];
    hb_err err = risk_list_prepare(&c, "test", why, sizeof why);
    return err == HB_ERR_OK ? engine_submit(fx.e, &c.base) : err;
}

/* A refusal by a risk rule keeps its case and audit record, moves nothing, and stores no
 * idempotency record: the same key is decided again (and succeeds once the list allows). */
static void test_refusal_keeps_case(void **state)
{
    (void)state;
    int64_t who = person(2, "", "CN");
    assert_int_equal(testutil_topup(fx.e, who, 10000), HB_ERR_OK);
    assert_int_equal(list_account(who, false), HB_ERR_OK);
    for (int i = 1; i <= 2; i++) {
        transfer_cmd c;
        memset(&c, 0, sizeof c);
        c.transfer.kind = TRANSFER_P2P;
        c.transfer.debit_id = who;
        c.transfer.credit_id = fx.funder;
        c.transfer.amount = 100;
        assert_int_equal(wallet_transfer_prepare(&c, "test", "same-key"), HB_ERR_OK);
        assert_int_equal(engine_submit(fx.e, &c.base), HB_ERR_RISK_BLOCKED);
        assert_false(c.base.replayed);
        store *s = NULL;
        store_options o = {.read_only = true};
        char why[256];
        assert_int_equal(store_open(fx.url, &o, &s, why, sizeof why), HB_ERR_OK);
        risk_case k;
        assert_int_equal(store_case_find_open(s, who, "blacklist.account", "", &k), HB_ERR_OK);
        assert_int_equal(k.events, i);
        assert_string_equal(k.decision, "block");
        assert_non_null(strstr(k.reason, "may not move money"));
        assert_true(k.last_at_ms > 0);
        account a;
        assert_int_equal(store_account_get(s, who, &a), HB_ERR_OK);
        assert_int_equal(a.balance, 10000);
        assert_int_equal(a.year_debits, 0); /* nothing charged to the year either */
        store_close(s);
    }
    assert_int_equal(list_account(who, true), HB_ERR_OK);
    assert_int_equal(list_account(who, true), HB_ERR_NOT_FOUND);
    transfer_cmd c;
    memset(&c, 0, sizeof c);
    c.transfer.kind = TRANSFER_P2P;
    c.transfer.debit_id = who;
    c.transfer.credit_id = fx.funder;
    c.transfer.amount = 100;
    assert_int_equal(wallet_transfer_prepare(&c, "test", "same-key"), HB_ERR_OK);
    assert_int_equal(engine_submit(fx.e, &c.base), HB_ERR_OK);
}

static hb_err pay_from(int64_t from, int64_t amount, const char *device)
{
    transfer_cmd c;
    memset(&c, 0, sizeof c);
    c.transfer.kind = TRANSFER_P2P;
    c.transfer.debit_id = from;
    c.transfer.credit_id = fx.funder;
    c.transfer.amount = amount;
    snprintf(c.device, sizeof c.device, "%s", device);
    hb_err err = wallet_transfer_prepare(&c, "test", NULL);
    return err == HB_ERR_OK ? engine_submit(fx.e, &c.base) : err;
}

static void test_device_binding(void **state)
{
    (void)state;
    int64_t p[4];
    for (int i = 0; i < 4; i++) {
        p[i] = person(2, "", "CN");
        assert_int_equal(testutil_topup(fx.e, p[i], 100000), HB_ERR_OK);
    }
    /* three accounts bind the phone by paying from it; a fourth within 7 days may not */
    for (int i = 0; i < 3; i++) assert_int_equal(pay_from(p[i], 100, "phone-A"), HB_ERR_OK);
    assert_int_equal(pay_from(p[3], 100, "phone-A"), HB_ERR_RISK_BLOCKED);
    assert_int_equal(pay_from(p[0], 100, "phone-A"), HB_ERR_OK); /* bound already */
    assert_int_equal(pay_from(p[3], 100, "phone-B"), HB_ERR_OK); /* another device */
    /* a failed movement binds nothing: p[3] tries with more than it has on phone-C; nor does a
     * movement a list refuses (the lists are looked at before the rules that keep state) */
    assert_int_equal(pay_from(p[3], 100000000, "phone-C"), HB_ERR_LIMIT_EXCEEDED);
    assert_int_equal(list_account(p[3], false), HB_ERR_OK);
    assert_int_equal(pay_from(p[3], 100, "phone-D"), HB_ERR_RISK_BLOCKED);
    assert_int_equal(list_account(p[3], true), HB_ERR_OK);
    {
        store *s = NULL;
        store_options o = {.read_only = true};
        char why[256];
        assert_int_equal(store_open(fx.url, &o, &s, why, sizeof why), HB_ERR_OK);
        bool bound = true;
        assert_int_equal(store_binding_exists(s, "phone-C", p[3], &bound), HB_ERR_OK);
        assert_false(bound);
        assert_int_equal(store_binding_exists(s, "phone-D", p[3], &bound), HB_ERR_OK);
        assert_false(bound);
        store_close(s);
    }
    /* 7 days after the first bindings the phone takes a new account, not a millisecond before */
    fx.clock.fixed_ms = T0_MS + 7 * DAY_MS - 1;
    assert_int_equal(pay_from(p[3], 100, "phone-A"), HB_ERR_RISK_BLOCKED);
    fx.clock.fixed_ms = T0_MS + 7 * DAY_MS;
    assert_int_equal(pay_from(p[3], 100, "phone-A"), HB_ERR_OK);
}

static void test_multi_account(void **state)
{
    (void)state;
    policy p;
    policy_defaults(&p);
    p.tiers[TIER_PERSONAL].single_limit = 300000;
    p.tiers[TIER_PERSONAL].daily_limit = 500000;
    p.risk_multi_accounts = 3; /* 3 accounts from one device within 10 minutes */
    engine_set_policy(fx.e, &p);
    int64_t a[3];
    for (int i = 0; i < 3; i++) {
        a[i] = person(2, "", "CN");
        assert_int_equal(testutil_topup(fx.e, a[i], 100000), HB_ERR_OK);
    }
    assert_int_equal(pay_from(a[0], 100, "farm"), HB_ERR_OK);
    fx.clock.fixed_ms += 300000;
    assert_int_equal(pay_from(a[1], 100, "farm"), HB_ERR_OK);
    fx.clock.fixed_ms += 299999; /* a[0]'s movement is 599.999 s old: within the window */
    assert_int_equal(pay_from(a[2], 100, "farm"), HB_ERR_ACCOUNT_RESTRICTED);
    /* all three restricted for 7 days, each with a case; from any device */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(pay_from(a[i], 100, "own-phone"), HB_ERR_ACCOUNT_RESTRICTED);
    }
    store *s = NULL;
    store_options o = {.read_only = true};
    char why[256];
    assert_int_equal(store_open(fx.url, &o, &s, why, sizeof why), HB_ERR_OK);
    for (int i = 0; i < 3; i++) {
        risk_case k;
        assert_int_equal(store_case_find_open(s, a[i], "multi_account", "", &k), HB_ERR_OK);
        account acct;
        assert_int_equal(store_account_get(s, a[i], &acct), HB_ERR_OK);
        assert_int_equal(acct.restricted_until_ms, fx.clock.fixed_ms + 7 * DAY_MS);
        assert_int_equal(acct.balance, 100000 - (i < 2 ? 100 : 0));
    }
    store_close(s);
    /* two accounts on one device are not a farm */
    int64_t b[2];
    for (int i = 0; i < 2; i++) {
        b[i] = person(2, "", "CN");
        assert_int_equal(testutil_topup(fx.e, b[i], 100000), HB_ERR_OK);
        assert_int_equal(pay_from(b[i], 100, "family-tablet"), HB_ERR_OK);
    }
    /* the restriction ends by itself */
    fx.clock.fixed_ms += 7 * DAY_MS + 1;
    assert_int_equal(pay_from(a[0], 100, "own-phone"), HB_ERR_OK);
}

static void test_night_pattern(void **state)
{
    (void)state;
    policy p;
    policy_defaults(&p);
    p.tiers[TIER_PERSONAL].single_limit = 300000;
    p.tiers[TIER_PERSONAL].daily_limit = 500000;
    p.risk_night_count = 3; /* 3 payments below 10.00 within 30 minutes, 00:00-06:00 */
    engine_set_policy(fx.e, &p);
    int64_t owl = person(2, "", "CN");
    assert_int_equal(testutil_topup(fx.e, owl, 100000), HB_ERR_OK);
    /* 2026-03-03 05:59:59 +08:00 is 2026-03-02 21:59:59 UTC; 06:00:00 is past the night */
    const int64_t night_end = 1772488800000LL;
    fx.clock.fixed_ms = night_end;
    for (int i = 0; i < 5; i++) assert_int_equal(pay_from(owl, 999, ""), HB_ERR_OK); /* day */
    fx.clock.fixed_ms = night_end - 1000 * 60 * 20; /* 05:40 */
    assert_int_equal(pay_from(owl, 999, ""), HB_ERR_OK);
    assert_int_equal(pay_from(owl, 1000, ""), HB_ERR_OK); /* not small */
    fx.clock.fixed_ms = night_end - 1000;             /* 05:59:59 */
    assert_int_equal(pay_from(owl, 500, ""), HB_ERR_OK);
    assert_int_equal(pay_from(owl, 1, ""), HB_ERR_ACCOUNT_FROZEN); /* the third small one */
    assert_int_equal(pay_from(owl, 1, ""), HB_ERR_ACCOUNT_FROZEN); /* frozen now */
    assert_int_equal(pay_from(owl, 1, ""), HB_ERR_ACCOUNT_FROZEN); /* one report, one freeze */
    store *s = NULL;
    store_options o = {.read_only = true};
    char why[256];
    assert_int_equal(store_open(fx.url, &o, &s, why, sizeof why), HB_ERR_OK);
    account a;
    assert_int_equal(store_account_get(s, owl, &a), HB_ERR_OK);
    assert_int_equal(a.status, ACCOUNT_FROZEN);
    assert_money_eq(a.balance, 100000 - 5 * 999 - 999 - 1000 - 500);
    risk_case k;
    assert_int_equal(store_case_find_open(s, owl, "night_pattern", "", &k), HB_ERR_OK);
    large_report r[16];
    int count = 0;
    int64_t day = clock_business_day(fx.clock.fixed_ms, NULL);
    assert_int_equal(store_large_list(s, day, day, 0, 16, r, &count), HB_ERR_OK);
    assert_true(count >= 1);
    assert_int_equal(r[count - 1].kind, 3);
    assert_int_equal(r[count - 1].account_id, owl);
    int night_reports = 0;
    for (int i = 0; i < count; i++) night_reports += r[i].kind == 3 && r[i].account_id == owl;
    assert_int_equal(night_reports, 1);
    assert_int_equal(k.events, 1);
    store_close(s);
    /* unfrozen by the operator, the count has started again: the next small one passes */
    status_cmd un;
    memset(&un, 0, sizeof un);
    un.account_id = owl;
    un.status = ACCOUNT_ACTIVE;
    un.restricted_until_ms = WALLET_KEEP_RESTRICTION;
    assert_int_equal(wallet_status_prepare(&un, "test", NULL), HB_ERR_OK);
    assert_int_equal(engine_submit(fx.e, &un.base), HB_ERR_OK);
    assert_int_equal(pay_from(owl, 1, ""), HB_ERR_OK);
    /* a window that has passed starts again: another person, 31 minutes apart */
    int64_t late = person(2, "", "CN");
    assert_int_equal(testutil_topup(fx.e, late, 100000), HB_ERR_OK);
    fx.clock.fixed_ms = night_end - 1000 * 60 * 120; /* 04:00 */
    assert_int_equal(pay_from(late, 100, ""), HB_ERR_OK);
    assert_int_equal(pay_from(late, 100, ""), HB_ERR_OK);
    fx.clock.fixed_ms += 1000 * 60 * 31;
    assert_int_equal(pay_from(late, 100, ""), HB_ERR_OK);
    assert_int_equal(pay_from(late, 100, ""), HB_ERR_OK);
    assert_int_equal(pay_from(late, 100, ""), HB_ERR_ACCOUNT_FROZEN);
}

static hb_err send_packet(int64_t sender, int64_t total)
{
    static int64_t shares[2];
    packet_create_cmd c;
    memset(&c, 0, sizeof c);
    c.packet.sender_id = sender;
    c.packet.total = total;
    c.packet.count = 2;
    c.packet.mode = 1;
    char why[160];
    hb_err err = packet_create_prepare(&c, shares, "test", NULL, why, sizeof why);
    return err == HB_ERR_OK ? engine_submit(fx.e, &c.base) : err;
}

static int dispersion_cases(int64_t who)
{
    store *s = NULL;
    store_options o = {.read_only = true};
    char why[256];
    assert_int_equal(store_open(fx.url, &o, &s, why, sizeof why), HB_ERR_OK);
    risk_case k[4];
    int count = 0;
    assert_int_equal(store_case_list(s, 0, who, "amount_dispersion", 0, 4, k, &count), HB_ERR_OK);
    if (count > 0) assert_string_equal(k[0].decision, "review");
    store_close(s);
    return count;
}

/* Amount dispersion: a day's packets whose amounts' standard deviation passes 45.00 open a
 * case for review; the packets go through. Two packets a and b: the deviation is |a - b| / 2. */
static void test_amount_dispersion(void **state)
{
    (void)state;
    int64_t even = person(2, "", "CN"), wide = person(2, "", "CN");
    assert_int_equal(testutil_topup(fx.e, even, 1000000), HB_ERR_OK);
    assert_int_equal(testutil_topup(fx.e, wide, 1000000), HB_ERR_OK);
    assert_int_equal(send_packet(even, 100), HB_ERR_OK);
    assert_int_equal(send_packet(even, 9100), HB_ERR_OK); /* exactly 45.00: not above */
    assert_int_equal(dispersion_cases(even), 0);
    assert_int_equal(send_packet(wide, 100), HB_ERR_OK);
    assert_int_equal(send_packet(wide, 9101), HB_ERR_OK); /* 45.005 */
    assert_int_equal(dispersion_cases(wide), 1);
    /* the next day counts afresh (with yesterday's two this one would spread wide) */
    fx.clock.fixed_ms += DAY_MS;
    assert_int_equal(send_packet(even, 20000), HB_ERR_OK);
    assert_int_equal(dispersion_cases(even), 0);
}

static int large_reports(large_report *out, int max)
{
    store *s = NULL;
    store_options o = {.read_only = true};
    char why[256];
    assert_int_equal(store_open(fx.url, &o, &s, why, sizeof why), HB_ERR_OK);
    int count = 0;
    int64_t day = clock_business_day(fx.clock.fixed_ms, NULL);
    assert_int_equal(store_large_list(s, day - 1, day + 1, 0, max, out, &count), HB_ERR_OK);
    store_close(s);
    return count;
}

static void test_large_transactions(void **state)
{
    (void)state;
    /* thresholds here: single 1,000.00, same-day total 2,500.00 */
    int64_t rich = person(3, "", "CN");
    assert_int_equal(testutil_topup(fx.e, rich, 10000000), HB_ERR_OK);
    large_report r[8];
    int before = large_reports(r, 8);
    assert_int_equal(pay_from(rich, 99999, ""), HB_ERR_OK);
    assert_int_equal(large_reports(r, 8), before);
    assert_int_equal(pay_from(rich, 100000, ""), HB_ERR_OK); /* at the threshold: reported */
    assert_int_equal(large_reports(r, 8), before + 1);
    assert_int_equal(r[before].kind, 1);
    assert_int_equal(r[before].amount, 100000);
    assert_int_equal(pay_from(rich, 50001, ""), HB_ERR_OK); /* the day reaches 2,500.00 */
    assert_int_equal(large_reports(r, 8), before + 2);
    assert_int_equal(r[before + 1].kind, 2);
    assert_int_equal(r[before + 1].amount, 250000);
    assert_int_equal(pay_from(rich, 100, ""), HB_ERR_OK); /* once a day */
    assert_int_equal(large_reports(r, 8), before + 2);
    /* and a refused payment reports nothing */
    assert_int_equal(pay_from(rich, 300001, ""), HB_ERR_LIMIT_EXCEEDED);
    assert_int_equal(large_reports(r, 8), before + 2);
    /* the day's total ends at midnight in the configured zone: at 23:59:59.999 the day is
     * reported already; from 00:00:00.000 a new total counts towards its own report */
    const int64_t midnight = T0_MS + 14 * 3600000LL;
    fx.clock.fixed_ms = midnight - 1;
    assert_int_equal(pay_from(rich, 100000, ""), HB_ERR_OK);
    assert_int_equal(large_reports(r, 8), before + 3); /* a single, no second daily */
    fx.clock.fixed_ms = midnight;
    assert_int_equal(pay_from(rich, 150000, ""), HB_ERR_OK);
    assert_int_equal(large_reports(r, 8), before + 4); /* a single; the new day at 1,500.00 */
    assert_int_equal(pay_from(rich, 99999, ""), HB_ERR_OK);
    assert_int_equal(large_reports(r, 8), before + 4); /* 2,499.99: below */
    assert_int_equal(pay_from(rich, 1, ""), HB_ERR_OK);
    assert_int_equal(large_reports(r, 8), before + 5); /* 2,500.00: at the threshold */
    assert_int_equal(r[before + 4].kind, 2);
    assert_int_equal(r[before + 4].amount, 250000);
    assert_int_equal(r[before + 4].day, r[before + 1].day + 1);
}

static hb_err list_entry(risk_list_kind kind, const char *value, int64_t expires_at_ms)
{
    risk_list_cmd c;
    memset(&c, 0, sizeof c);
    c.entry.kind = kind;
    snprintf(c.entry.value, sizeof c.entry.value, "%s", value);
    snprintf(c.entry.reason, sizeof c.entry.reason, "test");
    c.entry.expires_at_ms = expires_at_ms;
    char why[160];
    hb_err err = risk_list_prepare(&c, "test", why, sizeof why);
    return err == HB_ERR_OK ? engine_submit(fx.e, &c.base) : err;
}

static hb_err grab(int64_t packet_id, int64_t claimer, const char *device)
{
    packet_claim_cmd c;
    memset(&c, 0, sizeof c);
    c.packet_id = packet_id;
    c.token_kind = PACKET_TOKEN_CLAIM;
    c.claimer_id = claimer;
    snprintf(c.device, sizeof c.device, "%s", device);
    hb_err err = packet_claim_prepare(&c, "test", NULL);
    return err == HB_ERR_OK ? engine_submit(fx.e, &c.base) : err;
}

static int64_t balance_of(int64_t id)
{
    store *s = NULL;
    store_options o = {.read_only = true};
    char why[256];
    assert_int_equal(store_open(fx.url, &o, &s, why, sizeof why), HB_ERR_OK);
    account a;
    assert_int_equal(store_account_get(s, id, &a), HB_ERR_OK);
    store_close(s);
    return a.balance;
}

/* Every money movement is screened, not transfers alone: a listed account takes no top-up;
 * claims bind their device (a device with 3 accounts takes no 4th claimer) and a listed
 * device claims nothing; a list entry ends by itself at its expiry; [risk] enabled = false
 * turns every rule off. */
static void test_every_movement_screened(void **state)
{
    (void)state;
    int64_t listed_one = person(2, "", "CN");
    char id[32];
    snprintf(id, sizeof id, "acct_%lld", (long long)listed_one);
    /* listed until one second from now */
    assert_int_equal(list_entry(RISK_LIST_ACCOUNT, id, fx.clock.fixed_ms + 1000), HB_ERR_OK);
    assert_int_equal(testutil_topup(fx.e, listed_one, 10000), HB_ERR_RISK_BLOCKED);
    assert_money_eq(balance_of(listed_one), 0);
    fx.clock.fixed_ms += 999;
    assert_int_equal(testutil_topup(fx.e, listed_one, 10000), HB_ERR_RISK_BLOCKED);
    fx.clock.fixed_ms += 1; /* the entry's time: it has ended */
    assert_int_equal(testutil_topup(fx.e, listed_one, 10000), HB_ERR_OK);
    assert_money_eq(balance_of(listed_one), 10000);

    /* a red packet of 10 shares of 1.00 */
    packet_create_cmd pc;
    memset(&pc, 0, sizeof pc);
    static int64_t shares[10];
    pc.packet.sender_id = fx.funder;
    pc.packet.total = 1000;
    pc.packet.count = 10;
    pc.packet.mode = SPLIT_FIXED;
    snprintf(pc.device, sizeof pc.device, "sender-phone");
    char why[160];
    assert_int_equal(packet_create_prepare(&pc, shares, "test", NULL, why, sizeof why), HB_ERR_OK);
    assert_int_equal(engine_submit(fx.e, &pc.base), HB_ERR_OK);
    int64_t pkt = pc.packet.id;
    int64_t grabbers[5];
    for (int i = 0; i < 5; i++) grabbers[i] = person(0, "", "CN"); /* unverified can receive */
    for (int i = 0; i < 3; i++) assert_int_equal(grab(pkt, grabbers[i], "grab-phone"), HB_ERR_OK);
    assert_int_equal(grab(pkt, grabbers[3], "grab-phone"), HB_ERR_RISK_BLOCKED);
    assert_money_eq(balance_of(grabbers[3]), 0);
    assert_int_equal(grab(pkt, grabbers[3], "own-phone"), HB_ERR_OK);
    assert_money_eq(balance_of(grabbers[3]), 100);
    assert_int_equal(list_entry(RISK_LIST_DEVICE, "stolen-phone", 0), HB_ERR_OK);
    assert_int_equal(grab(pkt, grabbers[4], "stolen-phone"), HB_ERR_RISK_BLOCKED);
    assert_money_eq(balance_of(grabbers[4]), 0);
    /* a claim that could not succeed anyway is not screened: a second grab is ALREADY_CLAIMED
     * even from the listed device */
    assert_int_equal(grab(pkt, grabbers[0], "stolen-phone"), HB_ERR_ALREADY_CLAIMED);

    /* with the rules off the same movements go through; the limits still hold */
    policy p;
    policy_defaults(&p);
    p.tiers[TIER_PERSONAL].single_limit = 300000;
    p.tiers[TIER_PERSONAL].daily_limit = 500000;
    p.risk_enabled = false;
    engine_set_policy(fx.e, &p);
    assert_int_equal(grab(pkt, grabbers[4], "stolen-phone"), HB_ERR_OK);
    assert_int_equal(list_account(listed_one, false), HB_ERR_OK);
    assert_int_equal(pay_from(listed_one, 100, "stolen-phone"), HB_ERR_OK);
    assert_int_equal(pay_from(listed_one, 300001, ""), HB_ERR_LIMIT_EXCEEDED);
    p.risk_enabled = true;
    engine_set_policy(fx.e, &p);
    assert_int_equal(pay_from(listed_one, 100, ""), HB_ERR_RISK_BLOCKED);
}

/* Two writers on one store (two nodes): each screens from its own copy of the lists, and an
 * entry one adds or removes holds on the other from its next transaction. */
static void test_lists_across_nodes(void **state)
{
    (void)state;
    engine_options o = {.clock = &fx.clock, .node = "node-b"};
    engine *other = testutil_engine(fx.url, &o);
    int64_t who = person(2, "", "CN");
    assert_int_equal(testutil_topup(fx.e, who, 10000), HB_ERR_OK);
    engine *nodes[2] = {fx.e, other};
    for (int round = 0; round < 2; round++) {
        /* both copies loaded (nothing listed), then one node lists the account */
        for (int n = 0; n < 2; n++) {
            assert_int_equal(testutil_transfer(nodes[n], who, fx.funder, 1, NULL, NULL), HB_ERR_OK);
        }
        assert_int_equal(list_account(who, false), HB_ERR_OK); /* through fx.e */
        for (int n = 0; n < 2; n++) {
            assert_int_equal(testutil_transfer(nodes[n], who, fx.funder, 1, NULL, NULL), HB_ERR_RISK_BLOCKED);
        }
        assert_int_equal(list_account(who, true), HB_ERR_OK);
        for (int n = 0; n < 2; n++) {
            assert_int_equal(testutil_transfer(nodes[n], who, fx.funder, 1, NULL, NULL), HB_ERR_OK);
        }
        /* the other way round: swap which engine lists */
        engine *t = fx.e;
        fx.e = other;
        other = t;
        nodes[0] = fx.e;
        nodes[1] = other;
    }
    engine_close(other);
}

int main(void)
{
    setenv("TZ", "Asia/Shanghai", 1);
    tzset();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_starting_level_and_unverified, setup, teardown),
        cmocka_unit_test_setup_teardown(test_level_caps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_region_multiplier, setup, teardown),
        cmocka_unit_test_setup_teardown(test_provider_agreement, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusal_keeps_case, setup, teardown),
        cmocka_unit_test_setup_teardown(test_device_binding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_transactions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multi_account, setup, teardown),
        cmocka_unit_test_setup_teardown(test_night_pattern, setup, teardown),
        cmocka_unit_test_setup_teardown(test_amount_dispersion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_movement_screened, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lists_across_nodes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
