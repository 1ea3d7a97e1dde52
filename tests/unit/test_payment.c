/* Payments, refunds and settlement through the engine with an injectable clock (and on
 * PostgreSQL as pg/unit/test_payment): fees rounded half-up, personal codes, the static-code
 * cap, token rotation and expiry boundaries, single use, refunds with the fee pro rata before
 * and after settlement, D+1 settlement sums, idempotent re-settlement, a late payment swept
 * into the next batch, the settlement file, and the ledger check after every step. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/emv.h"
#include "core/money.h"
#include "core/split.h"
#include "service/auditlog.h"
#include "service/customer.h"
#include "service/keyring.h"
#include "service/packet.h"
#include "service/paycode.h"
#include "service/credentials.h"
#include "service/rekey.h"
#include "service/payment.h"
#include "service/risk.h"
#include "service/wallet.h"
#include "service/webhook.h"
#include "testutil.h"

/* 2026-11-27 10:00:00 in Asia/Shanghai (02:00 UTC) */
#define T0_MS 1795744800000LL
#define DAY_MS 86400000LL

typedef struct fixture {
    char dir[512];
    char url[700];
    hb_clock clock;
    engine *e;
    keyring keys;
    int64_t merchant, merchant2, person, payer, payer2;
} fixture;

static fixture fx;

static int64_t new_customer(tier t, int64_t fee_rate_bp)
{
    customer_cmd c;
    memset(&c, 0, sizeof c);
    c.input.tier = t;
    c.input.currency = CURRENCY_CNY;
    snprintf(c.input.region, sizeof c.input.region, "CN");
    snprintf(c.input.name, sizeof c.input.name, "Test");
    c.input.has_real_name_level = t == TIER_PERSONAL;
    c.input.real_name_level = 3;
    if (fee_rate_bp >= 0) {
        c.input.has_fee_rate = true;
        c.input.fee_rate_bp = fee_rate_bp;
    }
    char why[160];
    assert_int_equal(customer_create_prepare(&c, &fx.keys, "test", NULL, why, sizeof why), HB_ERR_OK);
    assert_int_equal(engine_submit(fx.e, &c.base), HB_ERR_OK);
    return c.id;
}

static int setup(void **state)
{
    (void)state;
    snprintf(fx.dir, sizeof fx.dir, "%s", testutil_tempdir());
    snprintf(fx.url, sizeof fx.url, "%s", testutil_store(fx.dir, "pay.db"));
    clock_fixed_init(&fx.clock, T0_MS);
    engine_options o = {.clock = &fx.clock};
    fx.e = testutil_engine(fx.url, &o);
    char key_file[600], why[256];
    snprintf(key_file, sizeof key_file, "%s/pay.key", fx.dir);
    int created = 0;
    assert_int_equal(keyring_create(key_file, &created, why, sizeof why), HB_ERR_OK);
    assert_int_equal(keyring_load(key_file, &fx.keys, why, sizeof why), HB_ERR_OK);
    fx.merchant = new_customer(TIER_ENTERPRISE, 60); /* 0.6% */
    fx.merchant2 = new_customer(TIER_ENTERPRISE, 100);
    fx.person = new_customer(TIER_PERSONAL, -1);
    fx.payer = new_customer(TIER_PERSONAL, -1);
    fx.payer2 = new_customer(TIER_PERSONAL, -1);
    assert_int_equal(testutil_topup(fx.e, fx.payer, 100000), HB_ERR_OK);
    assert_int_equal(testutil_topup(fx.e, fx.payer2, 100000), HB_ERR_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ledger_report rep = testutil_check(fx.url);
    assert_true(rep.balanced);
    assert_int_equal(rep.pending_mismatches, 0);
    engine_close(fx.e);
    keyring_clear(&fx.keys);
    testutil_rmdir(fx.dir);
    return 0;
}

static paycode make_code(int64_t owner, code_kind kind, int64_t amount, const char *order_no)
{
    code_create_cmd c;
    memset(&c, 0, sizeof c);
    c.code.owner_id = owner;
    c.code.kind = kind;
    c.code.amount = amount;
    snprintf(c.code.order_no, sizeof c.code.order_no, "%s", order_no);
    char why[160];
    assert_int_equal(paycode_create_prepare(&c, &fx.keys, "test", why, sizeof why), HB_ERR_OK);
    assert_int_equal(engine_submit(fx.e, &c.base), HB_ERR_OK);
    return c.code;
}

static void payload_now(const paycode *c, char payload[EMV_PAYLOAD_MAX])
{
    char token[CODE_TOKEN_TEXT_MAX + 1];
    int64_t refresh = 0;
    assert_int_equal(paycode_payload(c, &fx.keys, fx.clock.fixed_ms, payload, token, &refresh),
                     HB_ERR_OK);
}

/* Pay what was scanned; returns the error, *out the payment. */
static hb_err pay(const char *payload, int64_t payer, int64_t amount, payment *out)
{
    payment_cmd c;
    memset(&c, 0, sizeof c);
    c.payer_id = payer;
    c.amount = amount;
    char why[160];
    hb_err err = payment_open_payload(payload, &fx.keys, fx.clock.fixed_ms, &c.token, why, sizeof why);
    if (err == HB_ERR_OK) err = payment_prepare(&c, "test", NULL, why, sizeof why);
    if (err == HB_ERR_OK) err = engine_submit(fx.e, &c.base);
    if (out != NULL) *out = c.payment;
    return err;
}

static hb_err refund_of(int64_t payment_id, int64_t amount, int64_t owner, refund *out)
{
    refund_cmd c;
    memset(&c, 0, sizeof c);
    c.payment_id = payment_id;
    c.amount = amount;
    c.owner_id = owner;
    char why[160];
    hb_err err = refund_prepare(&c, "test", NULL, why, sizeof why);
    if (err == HB_ERR_OK) err = engine_submit(fx.e, &c.base);
    if (out != NULL) *out = c.refund;
    return err;
}

static int settle(int64_t day)
{
    int batches = 0, skipped = 0;
    char detail[200];
    hb_err err = payment_settle_day(fx.e, day, "test", &batches, &skipped, detail, sizeof detail);
    assert_int_equal(skipped, 0);
    return err == HB_ERR_OK ? batches : -(int)err;
}

static int64_t balance(int64_t account_id)
{
    store *s = NULL;
    store_options o = {.read_only = true};
    char why[256];
    assert_int_equal(store_open(fx.url, &o, &s, why, sizeof why), HB_ERR_OK);
    account a;
    assert_int_equal(store_account_get(s, account_id, &a), HB_ERR_OK);
    store_close(s);
    return a.balance;
}

static customer customer_row(int64_t id)
{
    store *s = NULL;
    store_options o = {.read_only = true};
    char why[256];
    assert_int_equal(store_open(fx.url, &o, &s, why, sizeof why), HB_ERR_OK);
    customer c;
    assert_int_equal(store_customer_get(s, id, &c), HB_ERR_OK);
    store_close(s);
    return c;
}

static int64_t fee_revenue(void)
{
    store *s = NULL;
    store_options o = {.read_only = true};
    char why[256];
    assert_int_equal(store_open(fx.url, &o, &s, why, sizeof why), HB_ERR_OK);
    account a;
    assert_int_equal(store_account_find_system(s, ACCOUNT_FEE_REVENUE, CURRENCY_CNY, &a), HB_ERR_OK);
    store_close(s);
    return a.balance;
}

static void check_ledger(void)
{
    ledger_report rep = testutil_check(fx.url);
    assert_true(rep.balanced);
    assert_int_equal(rep.pending_mismatches, 0);
}

static void test_merchant_payment_and_fee(void **state)
{
    (void)state;
    customer m = customer_row(fx.merchant);
    paycode code = make_code(fx.merchant, CODE_DYNAMIC, 10000, "A-1");
    char payload[EMV_PAYLOAD_MAX];
    payload_now(&code, payload);
    int64_t fees_before = fee_revenue();
    payment p;
    assert_int_equal(pay(payload, fx.payer, 0, &p), HB_ERR_OK);
    assert_money_eq(p.amount, 10000);
    assert_money_eq(p.fee, 60);
    assert_true(p.settles);
    assert_string_equal(p.order_no, "A-1");
    assert_money_eq(balance(m.pending_id), 9940);
    assert_money_eq(fee_revenue() - fees_before, 60);
    assert_money_eq(balance(fx.payer), 90000);
    /* single use: the same payload again, and a fresh payload, are refused; nothing moves */
    assert_int_equal(pay(payload, fx.payer2, 0, NULL), HB_ERR_CODE_USED);
    char token[CODE_TOKEN_TEXT_MAX + 1];
    int64_t refresh = 0;
    paycode used = code;
    used.status = CODE_USED;
    assert_int_equal(paycode_payload(&used, &fx.keys, fx.clock.fixed_ms, payload, token, &refresh),
                     HB_ERR_CODE_USED);
    assert_money_eq(balance(fx.payer2), 100000);
    /* a dynamic order's amount is its own; another amount is refused */
    paycode code2 = make_code(fx.merchant, CODE_DYNAMIC, 500, "A-2");
    payload_now(&code2, payload);
    assert_int_equal(pay(payload, fx.payer, 499, NULL), HB_ERR_INVALID_ARGUMENT);
    /* the fee rounds half-up: 0.6% of 0.84 is 0.504 -> 0.01, of 0.83 is 0.498 -> 0 */
    paycode sticker = make_code(fx.merchant, CODE_STATIC, 0, "");
    payload_now(&sticker, payload);
    assert_int_equal(pay(payload, fx.payer, 84, &p), HB_ERR_OK);
    assert_money_eq(p.fee, 1);
    assert_int_equal(pay(payload, fx.payer, 83, &p), HB_ERR_OK);
    assert_money_eq(p.fee, 0);
    assert_int_equal(pay(payload, fx.payer, 0, NULL), HB_ERR_INVALID_ARGUMENT); /* no amount */
    /* nobody pays their own code */
    assert_int_equal(pay(payload, fx.merchant, 100, NULL), HB_ERR_INVALID_ARGUMENT);
    check_ledger();
}

static void test_personal_code(void **state)
{
    (void)state;
    paycode sticker = make_code(fx.person, CODE_STATIC, 0, "");
    char payload[EMV_PAYLOAD_MAX];
    payload_now(&sticker, payload);
    payment p;
    assert_int_equal(pay(payload, fx.payer, 1234, &p), HB_ERR_OK);
    assert_money_eq(p.fee, 0);
    assert_false(p.settles);
    assert_money_eq(balance(fx.person), 1234);
    /* the owner refunds from its wallet; another customer cannot */
    assert_int_equal(refund_of(p.id, 1000, fx.merchant, NULL), HB_ERR_NOT_FOUND);
    refund r;
    assert_int_equal(refund_of(p.id, 1000, fx.person, &r), HB_ERR_OK);
    assert_money_eq(r.fee, 0);
    assert_money_eq(balance(fx.person), 234);
    assert_money_eq(balance(fx.payer), 100000 - 234);
    /* the link form of the code pays too */
    char link[300];
    snprintf(link, sizeof link, "https://pay.example.com/p/%s", sticker.token);
    assert_int_equal(pay(link, fx.payer2, 100, NULL), HB_ERR_OK);
    check_ledger();
}

static void test_static_cap(void **state)
{
    (void)state;
    paycode a = make_code(fx.merchant, CODE_STATIC, 0, "");
    paycode b = make_code(fx.person, CODE_STATIC, 0, "");
    char pa[EMV_PAYLOAD_MAX], pb[EMV_PAYLOAD_MAX];
    payload_now(&a, pa);
    payload_now(&b, pb);
    assert_int_equal(pay(pa, fx.payer, 20000, NULL), HB_ERR_OK);
    assert_int_equal(pay(pb, fx.payer, 20000, NULL), HB_ERR_OK);
    assert_int_equal(pay(pa, fx.payer, 10000, NULL), HB_ERR_OK); /* 500.00 across codes */
    int64_t before = balance(fx.payer);
    /* one fen above: the risk engine blocks it, with a case for the payer */
    assert_int_equal(pay(pa, fx.payer, 1, NULL), HB_ERR_RISK_BLOCKED);
    assert_money_eq(balance(fx.payer), before); /* a refusal moves no money */
    {
        store *s = NULL;
        store_options o = {.read_only = true};
        char why[256], date[16];
        assert_int_equal(store_open(fx.url, &o, &s, why, sizeof why), HB_ERR_OK);
        clock_day_format(clock_business_day(fx.clock.fixed_ms, NULL), date, sizeof date);
        risk_case k;
        assert_int_equal(store_case_find_open(s, fx.payer, "static_cap", date, &k), HB_ERR_OK);
        assert_string_equal(k.decision, "block");
        store_close(s);
    }
    /* another payer has its own cap; dynamic codes are not capped by it */
    assert_int_equal(pay(pa, fx.payer2, 100, NULL), HB_ERR_OK);
    paycode d = make_code(fx.merchant, CODE_DYNAMIC, 100, "CAP-1");
    payload_now(&d, pa);
    assert_int_equal(pay(pa, fx.payer, 0, NULL), HB_ERR_OK);
    /* the next business day the cap starts again */
    fx.clock.fixed_ms += DAY_MS;
    payload_now(&a, pa);
    assert_int_equal(pay(pa, fx.payer, 100, NULL), HB_ERR_OK);
    /* the day ends at midnight in the policy's zone (Asia/Shanghai), to the millisecond:
     * 500.00 by 23:59:59.999 and not a fen more, another fen at 00:00:00.000 */
    int64_t midnight = T0_MS + DAY_MS + 14 * 3600000LL;
    fx.clock.fixed_ms = midnight - 1;
    payload_now(&a, pa);
    static const int64_t parts[] = {20000, 20000, 10000};
    for (int i = 0; i < 3; i++) assert_int_equal(pay(pa, fx.payer2, parts[i], NULL), HB_ERR_OK);
    assert_int_equal(pay(pa, fx.payer2, 1, NULL), HB_ERR_RISK_BLOCKED);
    fx.clock.fixed_ms = midnight;
    payload_now(&a, pa);
    assert_int_equal(pay(pa, fx.payer2, 1, NULL), HB_ERR_OK);
    check_ledger();
}

/* The same-amount rule: the fifth payment of one amount in a row goes through and fuses the
 * code; the fuse ends by itself after [risk] fuse_s (a day), to the millisecond, and the
 * code's run starts afresh. */
static void test_fuse_expires(void **state)
{
    (void)state;
    paycode code = make_code(fx.merchant, CODE_STATIC, 0, "");
    char pa[EMV_PAYLOAD_MAX];
    payload_now(&code, pa);
    for (int i = 0; i < 4; i++) assert_int_equal(pay(pa, fx.payer, 500, NULL), HB_ERR_OK);
    assert_int_equal(pay(pa, fx.payer2, 501, NULL), HB_ERR_OK); /* another amount: a new run */
    for (int i = 0; i < 4; i++) assert_int_equal(pay(pa, fx.payer, 501, NULL), HB_ERR_OK);
    int64_t fused_at = fx.clock.fixed_ms;
    int64_t before = balance(fx.payer2);
    assert_int_equal(pay(pa, fx.payer2, 777, NULL), HB_ERR_CODE_FUSED);
    assert_money_eq(balance(fx.payer2), before);
    fx.clock.fixed_ms = fused_at + 86400000LL - 1;
    payload_now(&code, pa);
    assert_int_equal(pay(pa, fx.payer2, 777, NULL), HB_ERR_CODE_FUSED);
    fx.clock.fixed_ms = fused_at + 86400000LL;
    payload_now(&code, pa);
    /* the run starts afresh: four more of 5.01 pass, the fifth fuses again */
    for (int i = 0; i < 5; i++) assert_int_equal(pay(pa, fx.payer2, 501, NULL), HB_ERR_OK);
    assert_int_equal(pay(pa, fx.payer2, 502, NULL), HB_ERR_CODE_FUSED);
    check_ledger();
}

static void test_rotation_and_expiry(void **state)
{
    (void)state;
    /* created at 10:00:20: enterprise validity 180 s, to 10:03:20 */
    fx.clock.fixed_ms = T0_MS + 20000;
    paycode code = make_code(fx.merchant, CODE_DYNAMIC, 700, "ROT-1");
    assert_money_eq(code.expires_at_ms, T0_MS + 200000);
    char first[EMV_PAYLOAD_MAX], later[EMV_PAYLOAD_MAX];
    payload_now(&code, first);
    /* the first token is good to the end of its minute (10:01:00) and not a second more */
    fx.clock.fixed_ms = T0_MS + 60000;
    code_token tok;
    char why[160];
    assert_int_equal(payment_open_payload(first, &fx.keys, fx.clock.fixed_ms, &tok, why, sizeof why),
                     HB_ERR_OK);
    fx.clock.fixed_ms = T0_MS + 61000;
    assert_int_equal(pay(first, fx.payer, 0, NULL), HB_ERR_CODE_EXPIRED);
    payload_now(&code, later);
    assert_string_not_equal(first, later);
    /* altered payloads and tokens are not codes: any changed character */
    char bad[EMV_PAYLOAD_MAX];
    size_t len = strlen(later);
    for (size_t i = 0; i < len; i += 7) {
        snprintf(bad, sizeof bad, "%s", later);
        bad[i] = bad[i] == 'A' ? 'B' : 'A';
        hb_err err = pay(bad, fx.payer, 0, NULL);
        assert_true(err == HB_ERR_INVALID_CODE);
    }
    /* a token sealed with another master key */
    keyring other;
    char key_file[600];
    snprintf(key_file, sizeof key_file, "%s/other.key", fx.dir);
    int created = 0;
    assert_int_equal(keyring_create(key_file, &created, why, sizeof why), HB_ERR_OK);
    assert_int_equal(keyring_load(key_file, &other, why, sizeof why), HB_ERR_OK);
    char foreign[EMV_PAYLOAD_MAX], token[CODE_TOKEN_TEXT_MAX + 1];
    int64_t refresh = 0;
    assert_int_equal(paycode_payload(&code, &other, fx.clock.fixed_ms, foreign, token, &refresh),
                     HB_ERR_OK);
    keyring_clear(&other);
    assert_int_equal(pay(foreign, fx.payer, 0, NULL), HB_ERR_INVALID_CODE);
    /* the code itself ends at 10:03:20: at 10:03:19 its last token pays... */
    paycode code2 = make_code(fx.merchant, CODE_DYNAMIC, 700, "ROT-2");
    fx.clock.fixed_ms = code2.expires_at_ms - 1000;
    payload_now(&code2, later);
    fx.clock.fixed_ms = code2.expires_at_ms;
    /* ...but at its expiry the order takes nothing, whatever the token says */
    assert_int_equal(pay(later, fx.payer, 0, NULL), HB_ERR_CODE_EXPIRED);
    int64_t before = balance(fx.payer);
    fx.clock.fixed_ms = code.expires_at_ms - 1;
    payload_now(&code, later);
    assert_int_equal(pay(later, fx.payer, 0, NULL), HB_ERR_OK);
    assert_money_eq(balance(fx.payer), before - 700);
    /* a cancelled order and a revoked sticker take nothing */
    paycode sticker = make_code(fx.merchant, CODE_STATIC, 0, "");
    payload_now(&sticker, later);
    code_cancel_cmd cancel;
    memset(&cancel, 0, sizeof cancel);
    cancel.code_id = sticker.id;
    assert_int_equal(paycode_cancel_prepare(&cancel, "test"), HB_ERR_OK);
    assert_int_equal(engine_submit(fx.e, &cancel.base), HB_ERR_OK);
    assert_int_equal(pay(later, fx.payer, 100, NULL), HB_ERR_CODE_EXPIRED);
    check_ledger();
}

static void test_key_rotation(void **state)
{
    (void)state;
    /* a sticker printed under key id 1, an order under id 1 */
    paycode sticker = make_code(fx.merchant, CODE_STATIC, 0, "");
    char old_sticker[EMV_PAYLOAD_MAX], payload[EMV_PAYLOAD_MAX];
    payload_now(&sticker, old_sticker);
    /* the operator rotates to key id 2: new tokens are sealed with it, old ones still open */
    keyring_set_code_keys(&fx.keys, 2, 1);
    paycode order = make_code(fx.merchant, CODE_DYNAMIC, 300, "KEY-2");
    payload_now(&order, payload);
    emv_payload p;
    char why[160];
    assert_int_equal(emv_parse(payload, strlen(payload), PAYCODE_GUID, &p, why, sizeof why), HB_ERR_OK);
    uint8_t raw[64];
    size_t n = 0;
    assert_true(crypto_unbase64url(p.token, strlen(p.token), raw, sizeof raw, &n));
    assert_int_equal(raw[1], 2);
    assert_int_equal(pay(payload, fx.payer, 0, NULL), HB_ERR_OK);
    assert_int_equal(pay(old_sticker, fx.payer, 100, NULL), HB_ERR_OK);
    /* retiring key id 1 ends what it sealed: the old sticker must be reprinted */
    keyring_set_code_keys(&fx.keys, 2, 2);
    assert_int_equal(pay(old_sticker, fx.payer, 100, NULL), HB_ERR_INVALID_CODE);
    check_ledger();
}

static audit_report verify_store(void);

/* The token key id a payload's token was sealed with. */
static int payload_key_id(const char *payload)
{
    emv_payload p;
    char why[160];
    assert_int_equal(emv_parse(payload, strlen(payload), PAYCODE_GUID, &p, why, sizeof why), HB_ERR_OK);
    uint8_t raw[64];
    size_t n = 0;
    assert_true(crypto_unbase64url(p.token, strlen(p.token), raw, sizeof raw, &n));
    return raw[1];
}

static customer_view view_with(const keyring *keys, int64_t id, hb_err *err)
{
    store *s = NULL;
    store_options o = {.read_only = true};
    char why[256];
    assert_int_equal(store_open(fx.url, &o, &s, why, sizeof why), HB_ERR_OK);
    customer_view v;
    memset(&v, 0, sizeof v);
    *err = customer_view_get(s, keys, id, true, &v);
    store_close(s);
    return v;
}

/* hongbao keys rotate (issue 9): a new master key in the key file; new personal data, secrets
 * and codes use it, live codes of the old key keep paying, and the re-seal pass seals every
 * older box again, so that the old key file alone no longer opens them. */
static void test_master_key_rotation(void **state)
{
    (void)state;
    char key_file[600], old_file[600], why[256];
    snprintf(key_file, sizeof key_file, "%s/pay.key", fx.dir);
    snprintf(old_file, sizeof old_file, "%s/old.key", fx.dir);
    paycode sticker = make_code(fx.merchant, CODE_STATIC, 0, "");
    paycode order = make_code(fx.merchant, CODE_DYNAMIC, 300, "ROT-1");
    char sticker_payload[EMV_PAYLOAD_MAX], order_payload[EMV_PAYLOAD_MAX], payload[EMV_PAYLOAD_MAX];
    payload_now(&sticker, sticker_payload);
    payload_now(&order, order_payload);
    assert_int_equal(payload_key_id(order_payload), 1);
    key_create_cmd kc;
    memset(&kc, 0, sizeof kc);
    kc.role = ROLE_SUPPORT;
    assert_int_equal(credentials_key_create_prepare(&kc, &fx.keys, "test"), HB_ERR_OK);
    assert_int_equal(engine_submit(fx.e, &kc.base), HB_ERR_OK);
    /* keep the old file, then rotate */
    char cmd[1300];
    snprintf(cmd, sizeof cmd, "cp -p '%s' '%s'", key_file, old_file);
    assert_int_equal(system(cmd), 0);
    int version = 0;
    assert_int_equal(keyring_rotate(key_file, &version, why, sizeof why), HB_ERR_OK);
    assert_int_equal(version, 2);
    assert_int_equal(rekey_record_rotation(fx.e, version, "test"), HB_ERR_OK);
    keyring old;
    assert_int_equal(keyring_load(old_file, &old, why, sizeof why), HB_ERR_OK);
    keyring_clear(&fx.keys);
    assert_int_equal(keyring_load(key_file, &fx.keys, why, sizeof why), HB_ERR_OK);
    assert_int_equal(fx.keys.versions, 2);
    keyring_set_code_keys(&fx.keys, 1, 1);
    /* new codes use the new code key; the live old ones still pay */
    paycode fresh = make_code(fx.merchant, CODE_DYNAMIC, 500, "ROT-2");
    payload_now(&fresh, payload);
    assert_int_equal(payload_key_id(payload), KEYRING_CODE_KEYS + 1);
    emv_payload parsed;
    assert_int_equal(emv_parse(payload, strlen(payload), PAYCODE_GUID, &parsed, why, sizeof why),
                     HB_ERR_OK);
    code_token token;
    int64_t now_s = fx.clock.fixed_ms / 1000;
    assert_int_equal(keyring_code_open(&fx.keys, parsed.token, strlen(parsed.token), now_s, &token),
                     HB_ERR_OK);
    assert_true(keyring_code_open(&old, parsed.token, strlen(parsed.token), now_s, &token) !=
                HB_ERR_OK); /* the old file does not know key 9 */
    assert_int_equal(pay(payload, fx.payer, 0, NULL), HB_ERR_OK);
    assert_int_equal(pay(order_payload, fx.payer, 0, NULL), HB_ERR_OK);
    assert_int_equal(pay(sticker_payload, fx.payer, 100, NULL), HB_ERR_OK);
    /* a customer made now is sealed with key 2; the old ones are still key 1's and open */
    int64_t newcomer = new_customer(TIER_PERSONAL, -1);
    customer before = customer_row(fx.payer), after = customer_row(newcomer);
    assert_int_equal(keyring_box_version(before.name_box, before.name_box_len), 1);
    assert_int_equal(keyring_box_version(after.name_box, after.name_box_len), 2);
    hb_err err = HB_ERR_OK;
    customer_view v = view_with(&fx.keys, fx.payer, &err);
    assert_int_equal(err, HB_ERR_OK);
    assert_string_equal(v.name, "Test");
    (void)view_with(&old, newcomer, &err);
    assert_int_equal(err, HB_ERR_UNAVAILABLE); /* the old file cannot open key 2's boxes */
    /* the background pass: everything sealed again, then a pass finds nothing to do */
    rekey_cursor cursor = {.table = 0};
    while (cursor.table < 3) assert_int_equal(rekey_step(fx.e, &fx.keys, "test", 4, &cursor), HB_ERR_OK);
    assert_int_equal(cursor.unopened, 0);
    assert_true(cursor.resealed >= 6); /* five customers and the API key */
    before = customer_row(fx.payer);
    assert_int_equal(keyring_box_version(before.name_box, before.name_box_len), 2);
    assert_int_equal(keyring_box_version(before.phone_box, before.phone_box_len), 2);
    assert_int_equal(keyring_box_version(before.id_number_box, before.id_number_box_len), 2);
    v = view_with(&fx.keys, fx.payer, &err);
    assert_int_equal(err, HB_ERR_OK);
    assert_string_equal(v.name, "Test");
    (void)view_with(&old, fx.payer, &err);
    assert_int_equal(err, HB_ERR_UNAVAILABLE);
    store *s = NULL;
    store_options o = {.read_only = true};
    assert_int_equal(store_open(fx.url, &o, &s, why, sizeof why), HB_ERR_OK);
    api_key key;
    char secret[LIMIT_SECRET_LEN + 1];
    assert_int_equal(credentials_key_secret(s, &fx.keys, kc.key_id, &key, secret, sizeof secret),
                     HB_ERR_OK);
    assert_string_equal(secret, kc.secret);
    assert_int_equal(keyring_box_version(key.secret_box, key.secret_box_len), 2);
    audit_record last;
    assert_int_equal(store_audit_last(s, "local", &last), HB_ERR_OK);
    assert_string_equal(last.action, "keys.reseal");
    store_close(s);
    rekey_cursor again = {.table = 0};
    while (again.table < 3) assert_int_equal(rekey_step(fx.e, &fx.keys, "test", 4, &again), HB_ERR_OK);
    assert_int_equal(again.resealed, 0);
    audit_report r = verify_store();
    if (!r.ok) fail_msg("audit after the rotation: %s", r.reason);
    keyring_clear(&old);
    check_ledger();
}

static void test_refunds(void **state)
{
    (void)state;
    customer m = customer_row(fx.merchant);
    paycode code = make_code(fx.merchant, CODE_DYNAMIC, 10000, "R-1");
    char payload[EMV_PAYLOAD_MAX];
    payload_now(&code, payload);
    payment p;
    assert_int_equal(pay(payload, fx.payer, 0, &p), HB_ERR_OK);
    int64_t fees = fee_revenue();
    /* three partial refunds: the fee comes back pro rata, 0.20 each, 0.60 in all */
    refund r;
    /* a merchant on the risk list may not pay a refund back: nothing moves */
    risk_list_cmd lc;
    memset(&lc, 0, sizeof lc);
    lc.entry.kind = RISK_LIST_ACCOUNT;
    snprintf(lc.entry.value, sizeof lc.entry.value, "acct_%lld", (long long)fx.merchant);
    char why[160];
    assert_int_equal(risk_list_prepare(&lc, "test", why, sizeof why), HB_ERR_OK);
    assert_int_equal(engine_submit(fx.e, &lc.base), HB_ERR_OK);
    assert_int_equal(refund_of(p.id, 3333, fx.merchant, NULL), HB_ERR_RISK_BLOCKED);
    assert_money_eq(balance(m.pending_id), 9940);
    assert_money_eq(balance(fx.payer), 90000);
    lc.remove = true;
    assert_int_equal(risk_list_prepare(&lc, "test", why, sizeof why), HB_ERR_OK);
    assert_int_equal(engine_submit(fx.e, &lc.base), HB_ERR_OK);
    assert_int_equal(refund_of(p.id, 3333, fx.merchant, &r), HB_ERR_OK);
    assert_money_eq(r.fee, 20);
    assert_int_equal(refund_of(p.id, 3333, fx.merchant2, NULL), HB_ERR_NOT_FOUND); /* not its own */
    assert_int_equal(refund_of(p.id, 3333, 0, &r), HB_ERR_OK);                      /* an admin */
    assert_money_eq(r.fee, 20);
    assert_int_equal(refund_of(p.id, 3335, fx.merchant, NULL), HB_ERR_INVALID_ARGUMENT);
    assert_int_equal(refund_of(p.id, 3334, fx.merchant, &r), HB_ERR_OK);
    assert_money_eq(r.fee, 20);
    assert_money_eq(fee_revenue(), fees - 60);
    assert_money_eq(balance(m.pending_id), 0);
    assert_money_eq(balance(fx.payer), 100000);
    assert_int_equal(refund_of(p.id, 1, fx.merchant, NULL), HB_ERR_INVALID_ARGUMENT);
    check_ledger();
}

static void test_settlement(void **state)
{
    (void)state;
    customer m = customer_row(fx.merchant), m2 = customer_row(fx.merchant2);
    int64_t d = clock_business_day(fx.clock.fixed_ms, NULL);
    paycode s1 = make_code(fx.merchant, CODE_STATIC, 0, ""), s2 = make_code(fx.merchant2, CODE_STATIC, 0, "");
    char p1[EMV_PAYLOAD_MAX], p2[EMV_PAYLOAD_MAX];
    payload_now(&s1, p1);
    payload_now(&s2, p2);
    payment a, b, c;
    assert_int_equal(pay(p1, fx.payer, 10000, &a), HB_ERR_OK);  /* fee 60 */
    assert_int_equal(pay(p1, fx.payer2, 5000, &b), HB_ERR_OK);  /* fee 30 */
    assert_int_equal(pay(p2, fx.payer, 20000, &c), HB_ERR_OK);  /* fee 200 */
    assert_int_equal(refund_of(b.id, 1000, fx.merchant, NULL), HB_ERR_OK); /* fee back 6 */
    /* the day has not ended */
    assert_int_equal(settle(d), -(int)HB_ERR_INVALID_ARGUMENT);
    fx.clock.fixed_ms += DAY_MS;
    assert_int_equal(settle(d), 2);
    assert_money_eq(balance(m.pending_id), 0);
    assert_money_eq(balance(m.available_id), 10000 - 60 + 5000 - 30 - (1000 - 6));
    assert_money_eq(balance(m2.available_id), 20000 - 200);
    check_ledger();
    /* settling again changes nothing */
    assert_int_equal(settle(d), 0);
    assert_money_eq(balance(m.available_id), 13916);
    /* the batch: its sums equal the payments, and its file lists them */
    store *s = NULL;
    store_options o = {.read_only = true};
    char why[256];
    assert_int_equal(store_open(fx.url, &o, &s, why, sizeof why), HB_ERR_OK);
    settlement list[4];
    int count = 0;
    assert_int_equal(store_settlement_list(s, fx.merchant, d, 0, 4, list, &count), HB_ERR_OK);
    assert_int_equal(count, 1);
    assert_money_eq(list[0].gross, 15000);
    assert_money_eq(list[0].fees, 90 - 6);
    assert_money_eq(list[0].refunds, 1000);
    assert_money_eq(list[0].net, 13916);
    assert_int_equal(list[0].count, 2);
    payment got;
    assert_int_equal(store_payment_get(s, a.id, &got), HB_ERR_OK);
    assert_int_equal(got.settlement_id, list[0].id);
    store_close(s);
    /* after settlement a refund comes from available; more than it holds is refused */
    assert_int_equal(refund_of(a.id, 2000, fx.merchant, NULL), HB_ERR_OK);
    assert_money_eq(balance(m.available_id), 13916 - (2000 - 12));
    transfer_cmd out;
    memset(&out, 0, sizeof out);
    out.transfer.kind = TRANSFER_WITHDRAW;
    out.transfer.debit_id = m2.available_id;
    out.transfer.amount = 19000;
    snprintf(out.transfer.reference, sizeof out.transfer.reference, "bank-out");
    assert_int_equal(wallet_transfer_prepare(&out, "test", NULL), HB_ERR_OK);
    assert_int_equal(engine_submit(fx.e, &out.base), HB_ERR_OK);
    int64_t fees = fee_revenue();
    assert_int_equal(refund_of(c.id, 20000, fx.merchant2, NULL), HB_ERR_INSUFFICIENT_FUNDS);
    assert_money_eq(balance(m2.available_id), 800);
    assert_money_eq(fee_revenue(), fees);
    assert_int_equal(refund_of(c.id, 800, fx.merchant2, NULL), HB_ERR_OK);
    check_ledger();
    /* a payment that commits late for day d (a node whose clock lags) waits for the next
     * batch: settling d again skips the merchant, settling d+1 takes it */
    fx.clock.fixed_ms -= DAY_MS;
    payment late;
    assert_int_equal(pay(p1, fx.payer2, 700, &late), HB_ERR_OK);
    assert_int_equal(late.business_day, d);
    fx.clock.fixed_ms += 2 * DAY_MS;
    assert_int_equal(settle(d), 0);
    assert_int_equal(settle(d + 1), 1);
    assert_money_eq(balance(m.pending_id), 0);
    check_ledger();
}

static audit_report verify_store(void)
{
    store *s = NULL;
    store_options o = {.read_only = true};
    char why[256];
    assert_int_equal(store_open(fx.url, &o, &s, why, sizeof why), HB_ERR_OK);
    audit_report r;
    assert_int_equal(auditlog_verify(s, NULL, 1, NULL, NULL, &r), HB_ERR_OK);
    store_close(s);
    return r;
}

/* Tamper with the store, expect the verifier to say why, undo, expect it whole again. */
static void expect_caught(const char *tamper, const char *undo, const char *why)
{
    testutil_sql(fx.url, tamper);
    audit_report r = verify_store();
    if (r.ok || strstr(r.reason, why) == NULL) {
        fail_msg("%s: expected \"%s\", got ok=%d seq=%lld %s", tamper, why, r.ok, (long long)r.seq,
                 r.reason);
    }
    testutil_sql(fx.url, undo);
    r = verify_store();
    if (!r.ok) fail_msg("after undoing %s: %s", tamper, r.reason);
}

/* Every ledger row matches the digest its audit record holds (issue 9), and the columns later
 * commands change derive from the rows: each kind of tampering with the rows themselves,
 * straight in the store, is caught. */
static void test_ledger_rows_verified(void **state)
{
    (void)state;
    /* a red packet with two claims, a payment with a refund, a settlement */
    static int64_t shares[3];
    packet_create_cmd pc;
    memset(&pc, 0, sizeof pc);
    pc.packet.sender_id = fx.payer;
    pc.packet.total = 300;
    pc.packet.count = 3;
    pc.packet.mode = SPLIT_FIXED;
    snprintf(pc.packet.wishing, sizeof pc.packet.wishing, "恭喜发财");
    char why[160];
    assert_int_equal(packet_create_prepare(&pc, shares, "test", NULL, why, sizeof why), HB_ERR_OK);
    assert_int_equal(engine_submit(fx.e, &pc.base), HB_ERR_OK);
    int64_t claim_transfer = 0;
    const int64_t claimers[] = {fx.payer2, fx.person};
    for (int i = 0; i < 2; i++) {
        packet_claim_cmd cc;
        memset(&cc, 0, sizeof cc);
        cc.packet_id = pc.packet.id;
        cc.token_kind = PACKET_TOKEN_CLAIM;
        cc.claimer_id = claimers[i];
        assert_int_equal(packet_claim_prepare(&cc, "test", NULL), HB_ERR_OK);
        assert_int_equal(engine_submit(fx.e, &cc.base), HB_ERR_OK);
        claim_transfer = cc.claim.transfer_id;
    }
    int64_t d = clock_business_day(fx.clock.fixed_ms, NULL);
    paycode code = make_code(fx.merchant, CODE_STATIC, 0, "");
    char payload[EMV_PAYLOAD_MAX];
    payload_now(&code, payload);
    payment pay1;
    refund ref;
    assert_int_equal(pay(payload, fx.payer, 10000, &pay1), HB_ERR_OK);
    assert_int_equal(refund_of(pay1.id, 1000, fx.merchant, &ref), HB_ERR_OK);
    fx.clock.fixed_ms += DAY_MS;
    assert_int_equal(settle(d), 1);
    audit_report r = verify_store();
    if (!r.ok) fail_msg("untouched: seq %lld %s", (long long)r.seq, r.reason);
    assert_true(r.rows > 20);
    assert_int_equal(r.legacy_rows, 0);

    char tamper[400], undo[400];
    const char *digest = "differ from its row digest";
    /* an edited row of each table */
    snprintf(tamper, sizeof tamper, "UPDATE transfers SET created_at = created_at + 1 "
             "WHERE id = %lld", (long long)pay1.transfer_id);
    snprintf(undo, sizeof undo, "UPDATE transfers SET created_at = created_at - 1 WHERE id = %lld",
             (long long)pay1.transfer_id);
    expect_caught(tamper, undo, digest);
    snprintf(tamper, sizeof tamper, "UPDATE accounts SET owner = 'mallory' WHERE id = %lld",
             (long long)fx.payer);
    store *s = NULL;
    store_options o = {.read_only = true};
    assert_int_equal(store_open(fx.url, &o, &s, why, sizeof why), HB_ERR_OK);
    account acct;
    assert_int_equal(store_account_get(s, fx.payer, &acct), HB_ERR_OK);
    transfer claim_tr;
    assert_int_equal(store_transfer_get(s, claim_transfer, &claim_tr), HB_ERR_OK);
    store_close(s);
    snprintf(undo, sizeof undo, "UPDATE accounts SET owner = '%s' WHERE id = %lld", acct.owner,
             (long long)fx.payer);
    expect_caught(tamper, undo, digest);
    snprintf(tamper, sizeof tamper, "UPDATE packets SET wishing = '免单' WHERE id = %lld",
             (long long)pc.packet.id);
    snprintf(undo, sizeof undo, "UPDATE packets SET wishing = '恭喜发财' WHERE id = %lld",
             (long long)pc.packet.id);
    expect_caught(tamper, undo, digest);
    snprintf(tamper, sizeof tamper, "UPDATE claims SET claimed_at = claimed_at + 1 "
             "WHERE transfer_id = %lld", (long long)claim_transfer);
    snprintf(undo, sizeof undo, "UPDATE claims SET claimed_at = claimed_at - 1 "
             "WHERE transfer_id = %lld", (long long)claim_transfer);
    expect_caught(tamper, undo, digest);
    snprintf(tamper, sizeof tamper, "UPDATE payments SET device = 'elsewhere' WHERE id = %lld",
             (long long)pay1.id);
    snprintf(undo, sizeof undo, "UPDATE payments SET device = '' WHERE id = %lld", (long long)pay1.id);
    expect_caught(tamper, undo, digest);
    snprintf(tamper, sizeof tamper, "UPDATE refunds SET created_at = 1 WHERE id = %lld",
             (long long)ref.id);
    snprintf(undo, sizeof undo, "UPDATE refunds SET created_at = %lld WHERE id = %lld",
             (long long)ref.created_at_ms, (long long)ref.id);
    expect_caught(tamper, undo, digest);
    expect_caught("UPDATE settlements SET day = day + 1", "UPDATE settlements SET day = day - 1", digest);
    /* a row deleted: the claim (put back as it was) */
    snprintf(tamper, sizeof tamper, "DELETE FROM claims WHERE transfer_id = %lld",
             (long long)claim_transfer);
    assert_int_equal(store_open(fx.url, &o, &s, why, sizeof why), HB_ERR_OK);
    claim cl;
    assert_int_equal(store_claim_find(s, pc.packet.id, fx.person, &cl), HB_ERR_OK);
    store_close(s);
    snprintf(undo, sizeof undo, "INSERT INTO claims (packet_id, seq, claimer_id, amount, transfer_id, "
             "claimed_at, audit_node, audit_seq) SELECT %lld, %lld, %lld, %lld, %lld, %lld, "
             "audit_node, audit_seq FROM transfers WHERE id = %lld", (long long)cl.packet_id,
             (long long)cl.seq, (long long)cl.claimer_id, (long long)cl.amount,
             (long long)cl.transfer_id, (long long)cl.claimed_at_ms, (long long)claim_transfer);
    expect_caught(tamper, undo, digest);
    /* a row moved to another record, and two rows swapped */
    snprintf(tamper, sizeof tamper, "UPDATE refunds SET audit_seq = audit_seq + 1 WHERE id = %lld",
             (long long)ref.id);
    snprintf(undo, sizeof undo, "UPDATE refunds SET audit_seq = audit_seq - 1 WHERE id = %lld",
             (long long)ref.id);
    expect_caught(tamper, undo, digest);
    char swap[3][200];
    snprintf(swap[0], sizeof swap[0], "UPDATE transfers SET id = -1 WHERE id = %lld",
             (long long)pay1.transfer_id);
    snprintf(swap[1], sizeof swap[1], "UPDATE transfers SET id = %lld WHERE id = %lld",
             (long long)pay1.transfer_id, (long long)claim_transfer);
    snprintf(swap[2], sizeof swap[2], "UPDATE transfers SET id = %lld WHERE id = -1",
             (long long)claim_transfer);
    for (int i = 0; i < 3; i++) testutil_sql(fx.url, swap[i]);
    r = verify_store();
    assert_false(r.ok);
    for (int i = 0; i < 3; i++) testutil_sql(fx.url, swap[i]); /* swapped back */
    assert_true(verify_store().ok);
    /* rows inserted: into a record, after the chain's end, under no node, under no record */
#define COPY_TRANSFER                                                                          \
    "INSERT INTO transfers (id, idem_key, debit_id, credit_id, amount, currency, kind, "          \
    "reference, created_at, prev_debit, prev_credit, audit_node, audit_seq) SELECT 900000, "       \
    "idem_key, debit_id, credit_id, amount, currency, kind, reference, created_at, prev_debit, "   \
    "prev_credit, %s, %s FROM transfers WHERE id = %lld"
    const char *drop_copy = "DELETE FROM transfers WHERE id = 900000";
    snprintf(tamper, sizeof tamper, COPY_TRANSFER, "audit_node", "(SELECT MAX(seq) FROM audit)",
             (long long)claim_tr.id);
    expect_caught(tamper, drop_copy, digest);
    snprintf(tamper, sizeof tamper, COPY_TRANSFER, "audit_node", "(SELECT MAX(seq) + 1 FROM audit)",
             (long long)claim_tr.id);
    expect_caught(tamper, drop_copy, "names a record the chain does not have");
    snprintf(tamper, sizeof tamper, COPY_TRANSFER, "'ghost'", "1", (long long)claim_tr.id);
    expect_caught(tamper, drop_copy, "name a node that has no audit chain");
    snprintf(tamper, sizeof tamper, COPY_TRANSFER, "''", "0", (long long)claim_tr.id);
    expect_caught(tamper, drop_copy, "name no audit record");
    /* before every other row, naming a seq no record can have */
    snprintf(tamper, sizeof tamper, "INSERT INTO transfers (id, idem_key, debit_id, credit_id, "
             "amount, currency, kind, reference, created_at, prev_debit, prev_credit, audit_node, "
             "audit_seq) SELECT -1, idem_key, debit_id, credit_id, amount, currency, kind, reference, "
             "created_at, prev_debit, prev_credit, audit_node, 0 FROM transfers WHERE id = %lld",
             (long long)claim_tr.id);
    expect_caught(tamper, "DELETE FROM transfers WHERE id = -1", "which no record can have");
#undef COPY_TRANSFER
    /* the columns later commands change, against the rows they derive from */
    snprintf(tamper, sizeof tamper, "UPDATE packets SET claimed_amount = claimed_amount + 1 "
             "WHERE id = %lld", (long long)pc.packet.id);
    snprintf(undo, sizeof undo, "UPDATE packets SET claimed_amount = claimed_amount - 1 "
             "WHERE id = %lld", (long long)pc.packet.id);
    expect_caught(tamper, undo, "claimed or refunded totals differ");
    snprintf(tamper, sizeof tamper, "UPDATE payments SET refunded = refunded + 1 WHERE id = %lld",
             (long long)pay1.id);
    snprintf(undo, sizeof undo, "UPDATE payments SET refunded = refunded - 1 WHERE id = %lld",
             (long long)pay1.id);
    expect_caught(tamper, undo, "refunded totals differ");
    snprintf(tamper, sizeof tamper, "UPDATE payments SET settlement_id = 0 WHERE id = %lld",
             (long long)pay1.id);
    snprintf(undo, sizeof undo, "UPDATE payments SET settlement_id = (SELECT MAX(id) FROM "
             "settlements) WHERE id = %lld", (long long)pay1.id);
    expect_caught(tamper, undo, "count differs from the payments");
    snprintf(tamper, sizeof tamper, "UPDATE balances SET balance = balance + 100 "
             "WHERE account_id = %lld", (long long)fx.payer2);
    snprintf(undo, sizeof undo, "UPDATE balances SET balance = balance - 100 "
             "WHERE account_id = %lld", (long long)fx.payer2);
    expect_caught(tamper, undo, "balance differs from its transfers");
}

static void set_status(int64_t id, account_status st)
{
    status_cmd c;
    memset(&c, 0, sizeof c);
    c.account_id = id;
    c.status = st;
    c.restricted_until_ms = WALLET_KEEP_RESTRICTION;
    assert_int_equal(wallet_status_prepare(&c, "test", NULL), HB_ERR_OK);
    assert_int_equal(engine_submit(fx.e, &c.base), HB_ERR_OK);
}

/* A merchant whose available account refuses the move is left unsettled, and named; the
 * others settle; once it is unfrozen, settling the day again settles it. */
static void test_settlement_skips_a_frozen_merchant(void **state)
{
    (void)state;
    customer m = customer_row(fx.merchant), m2 = customer_row(fx.merchant2);
    int64_t d = clock_business_day(fx.clock.fixed_ms, NULL);
    paycode s1 = make_code(fx.merchant, CODE_STATIC, 0, ""), s2 = make_code(fx.merchant2, CODE_STATIC, 0, "");
    char p1[EMV_PAYLOAD_MAX], p2[EMV_PAYLOAD_MAX];
    payload_now(&s1, p1);
    payload_now(&s2, p2);
    assert_int_equal(pay(p1, fx.payer, 10000, NULL), HB_ERR_OK);
    assert_int_equal(pay(p2, fx.payer, 20000, NULL), HB_ERR_OK);
    set_status(m.available_id, ACCOUNT_FROZEN);
    fx.clock.fixed_ms += DAY_MS;
    int batches = 0, skipped = 0;
    char detail[200];
    assert_int_equal(payment_settle_day(fx.e, d, "test", &batches, &skipped, detail, sizeof detail),
                     HB_ERR_OK);
    assert_int_equal(batches, 1);
    assert_int_equal(skipped, 1);
    assert_non_null(strstr(detail, "frozen"));
    assert_money_eq(balance(m.pending_id), 10000 - 60);
    assert_money_eq(balance(m2.available_id), 20000 - 200);
    check_ledger();
    set_status(m.available_id, ACCOUNT_ACTIVE);
    assert_int_equal(payment_settle_day(fx.e, d, "test", &batches, &skipped, detail, sizeof detail),
                     HB_ERR_OK);
    assert_int_equal(batches, 1);
    assert_int_equal(skipped, 0);
    assert_money_eq(balance(m.pending_id), 0);
    assert_money_eq(balance(m.available_id), 10000 - 60);
    check_ledger();
}

static bool collect(void *ctx, const char *text, size_t len)
{
    FILE *f = ctx;
    return fwrite(text, 1, len, f) == len;
}

static void test_settlement_file(void **state)
{
    (void)state;
    int64_t d = clock_business_day(fx.clock.fixed_ms, NULL);
    paycode dyn = make_code(fx.merchant, CODE_DYNAMIC, 2500, "ORD\"7");
    char p[EMV_PAYLOAD_MAX];
    payload_now(&dyn, p);
    payment a;
    assert_int_equal(pay(p, fx.payer, 0, &a), HB_ERR_OK);
    fx.clock.fixed_ms += DAY_MS;
    assert_int_equal(settle(d), 1);
    /* a refund after settlement comes from available: the batch's file does not change */
    assert_int_equal(refund_of(a.id, 500, fx.merchant, NULL), HB_ERR_OK);
    store *s = NULL;
    store_options o = {.read_only = true};
    char why[256];
    assert_int_equal(store_open(fx.url, &o, &s, why, sizeof why), HB_ERR_OK);
    settlement b;
    int count = 0;
    assert_int_equal(store_settlement_list(s, fx.merchant, d, 0, 1, &b, &count), HB_ERR_OK);
    assert_int_equal(count, 1);
    char *csv = NULL;
    size_t csv_len = 0;
    FILE *mem = open_memstream(&csv, &csv_len);
    assert_int_equal(settlement_csv(s, &b, collect, mem), HB_ERR_OK);
    fclose(mem);
    store_close(s);
    char expect[256];
    snprintf(expect, sizeof expect, ",pay_%lld,", (long long)a.id);
    assert_non_null(strstr(csv, expect));
    assert_non_null(strstr(csv, "\"ORD\"\"7\",CNY,25.00,0.15,0.00,0.00,24.85\r\n"));
    assert_non_null(strstr(csv, ",total,,,,CNY,25.00,0.15,0.00,0.00,24.85\r\n"));
    int lines = 0;
    for (char *q = csv; *q; q++) lines += *q == '\n';
    assert_int_equal(lines, 3);
    free(csv);
}

static void test_webhook_targets(void **state)
{
    (void)state;
    char why[160];
    static const char *const refused[] = {
        "http://127.0.0.1/hook",   "http://10.1.2.3/hook",     "http://172.16.0.9/hook",
        "http://192.168.1.1/hook", "http://169.254.169.254/x", "http://100.64.0.1/x",
        "http://0.0.0.0/x",        "http://[::1]/x",           "http://[fe80::1]/x",
        "http://[fc00::5]/x",      "http://[::ffff:127.0.0.1]/x", "http://localhost/x",
        "ftp://example.com/x",     "file:///etc/passwd",       "http://user:pw@93.184.216.34/x",
        "not a url",               "",                          "http:///x"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        if (webhook_url_check(refused[i], false, why, sizeof why) != HB_ERR_INVALID_ARGUMENT) {
            fail_msg("%s was accepted", refused[i]);
        }
    }
    /* public literal addresses pass without a lookup; private ones when the policy allows */
    assert_int_equal(webhook_url_check("https://93.184.216.34/hook", false, why, sizeof why), HB_ERR_OK);
    assert_int_equal(webhook_url_check("http://[2001:db8::1]:8443/h", false, why, sizeof why), HB_ERR_OK);
    assert_int_equal(webhook_url_check("http://127.0.0.1:9/hook", true, why, sizeof why), HB_ERR_OK);
    assert_int_equal(webhook_url_check("ftp://127.0.0.1/", true, why, sizeof why), HB_ERR_INVALID_ARGUMENT);
    char longer[LIMIT_URL_LEN + 20];
    memset(longer, 'a', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    memcpy(longer, "http://", 7);
    assert_int_equal(webhook_url_check(longer, true, why, sizeof why), HB_ERR_INVALID_ARGUMENT);
    /* the connect-time check on raw addresses */
    struct sockaddr_in v4 = {.sin_family = AF_INET};
    inet_pton(AF_INET, "8.8.8.8", &v4.sin_addr);
    assert_false(webhook_address_private(&v4, sizeof v4));
    inet_pton(AF_INET, "198.18.0.1", &v4.sin_addr);
    assert_true(webhook_address_private(&v4, sizeof v4));
    struct sockaddr_in6 v6 = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, "64:ff9b::10.0.0.1", &v6.sin6_addr);
    assert_true(webhook_address_private(&v6, sizeof v6));
    inet_pton(AF_INET6, "2606:4700::1111", &v6.sin6_addr);
    assert_false(webhook_address_private(&v6, sizeof v6));
    assert_true(webhook_address_private(&v4, 4)); /* truncated: not an address */
}

int main(void)
{
    setenv("TZ", "Asia/Shanghai", 1);
    tzset();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_merchant_payment_and_fee, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ledger_rows_verified, setup, teardown),
        cmocka_unit_test_setup_teardown(test_master_key_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_personal_code, setup, teardown),
        cmocka_unit_test_setup_teardown(test_static_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fuse_expires, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotation_and_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refunds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_settlement, setup, teardown),
        cmocka_unit_test_setup_teardown(test_settlement_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_settlement_skips_a_frozen_merchant, setup, teardown),
        cmocka_unit_test(test_webhook_targets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
