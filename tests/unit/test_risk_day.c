/* A scripted business day of mixed honest and abusive traffic through the risk engine (issue
 * 8), with an injectable clock, on SQLite and (as pg/unit/test_risk_day) on PostgreSQL.
 *
 * The day, in Asia/Shanghai: night smurfing (small transfers between 01:00 and 01:20) and an
 * honest night owl whose small transfers are spread out or fall at 06:00; a listed fraudster
 * whose entry ends at 18:00 and a stolen phone on the device list; a device farm moving money
 * for four accounts from one phone; a big company's large transfers; bots grabbing a red
 * packet from one phone while people grab from their own; a café's static code paid by
 * everyone and by one payer past the static-code cap; shills paying a brushing shop's code
 * the same amount five times; a sender whose red packets spread wide. At the end it asserts
 * exactly which accounts are frozen, restricted, reported or have cases, which codes are
 * fused, and that no honest account was refused, restricted, frozen, reported or given a
 * case. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/emv.h"
#include "core/split.h"
#include "service/customer.h"
#include "service/keyring.h"
#include "service/packet.h"
#include "service/paycode.h"
#include "service/payment.h"
#include "service/risk.h"
#include "service/wallet.h"
#include "testutil.h"

/* 2026-03-03 00:00:00 in Asia/Shanghai */
#define DAY0 1772467200000LL
#define AT(h, m, s) (DAY0 + (((h) * 60LL + (m)) * 60LL + (s)) * 1000LL)

enum { HONEST = 8, FARM = 4, BOTS = 5, SHILLS = 5, MAX_CASES = 64 };

static struct {
    char dir[512];
    char url[700];
    hb_clock clock;
    engine *e;
    keyring keys;
    /* honest: people, a night owl, a café, a big company and its supplier */
    int64_t h[HONEST], owl, cafe, bigco, supplier;
    /* abusive */
    int64_t smurf, mule, farm[FARM], bots[BOTS], fraudster, thief, brush, shills[SHILLS], capper,
        spreader;
} fx;

static int64_t customer_new(tier t, int level, int64_t funding)
{
    customer_cmd c;
    memset(&c, 0, sizeof c);
    c.input.tier = t;
    c.input.currency = CURRENCY_CNY;
    snprintf(c.input.region, sizeof c.input.region, "CN");
    snprintf(c.input.name, sizeof c.input.name, "Someone");
    c.input.has_real_name_level = t == TIER_PERSONAL;
    c.input.real_name_level = level;
    char why[160];
    assert_int_equal(customer_create_prepare(&c, &fx.keys, "test", NULL, why, sizeof why), HB_ERR_OK);
    assert_int_equal(engine_submit(fx.e, &c.base), HB_ERR_OK);
    if (funding > 0) assert_int_equal(testutil_topup(fx.e, c.id, funding), HB_ERR_OK);
    return c.id;
}

static hb_err send(int64_t from, int64_t to, int64_t amount, const char *device, char *note)
{
    transfer_cmd c;
    memset(&c, 0, sizeof c);
    c.transfer.kind = TRANSFER_P2P;
    c.transfer.debit_id = from;
    c.transfer.credit_id = to;
    c.transfer.amount = amount;
    snprintf(c.device, sizeof c.device, "%s", device);
    hb_err err = wallet_transfer_prepare(&c, "test", NULL);
    if (err == HB_ERR_OK) err = engine_submit(fx.e, &c.base);
    if (note != NULL) snprintf(note, 8, "%s", c.base.risk_decision);
    return err;
}

static int64_t packet_send(int64_t sender, int64_t total, int64_t count, const char *device,
                           hb_err *err, char note[8])
{
    static int64_t shares[16];
    assert_true(count <= 16);
    packet_create_cmd c;
    memset(&c, 0, sizeof c);
    c.packet.sender_id = sender;
    c.packet.total = total;
    c.packet.count = count;
    c.packet.mode = SPLIT_FIXED;
    snprintf(c.device, sizeof c.device, "%s", device);
    char why[160];
    assert_int_equal(packet_create_prepare(&c, shares, "test", NULL, why, sizeof why), HB_ERR_OK);
    *err = engine_submit(fx.e, &c.base);
    snprintf(note, 8, "%s", c.base.risk_decision);
    return c.packet.id;
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

static paycode sticker(int64_t owner)
{
    code_create_cmd c;
    memset(&c, 0, sizeof c);
    c.code.owner_id = owner;
    c.code.kind = CODE_STATIC;
    char why[160];
    assert_int_equal(paycode_create_prepare(&c, &fx.keys, "test", why, sizeof why), HB_ERR_OK);
    assert_int_equal(engine_submit(fx.e, &c.base), HB_ERR_OK);
    return c.code;
}

static hb_err pay(const paycode *code, int64_t payer, int64_t amount, const char *device,
                  char note[8])
{
    char payload[EMV_PAYLOAD_MAX], token[CODE_TOKEN_TEXT_MAX + 1], why[160];
    int64_t refresh = 0;
    assert_int_equal(paycode_payload(code, &fx.keys, fx.clock.fixed_ms, payload, token, &refresh),
                     HB_ERR_OK);
    payment_cmd c;
    memset(&c, 0, sizeof c);
    c.payer_id = payer;
    c.amount = amount;
    snprintf(c.device, sizeof c.device, "%s", device);
    hb_err err = payment_open_payload(payload, &fx.keys, fx.clock.fixed_ms, &c.token, why, sizeof why);
    if (err == HB_ERR_OK) err = payment_prepare(&c, "test", NULL, why, sizeof why);
    if (err == HB_ERR_OK) err = engine_submit(fx.e, &c.base);
    if (note != NULL) snprintf(note, 8, "%s", c.base.risk_decision);
    return err;
}

static int setup(void **state)
{
    (void)state;
    snprintf(fx.dir, sizeof fx.dir, "%s", testutil_tempdir());
    snprintf(fx.url, sizeof fx.url, "%s", testutil_store(fx.dir, "day.db"));
    clock_fixed_init(&fx.clock, AT(0, 0, 0) - 2 * 3600000); /* 22:00 the day before */
    policy p;
    policy_defaults(&p);
    p.risk_night_count = 5; /* 5 transfers below 10.00 within 30 minutes at night */
    p.tiers[TIER_ENTERPRISE].single_limit = 10000000; /* 100,000.00: the big company's */
    p.tiers[TIER_ENTERPRISE].daily_limit = 50000000;
    engine_options o = {.clock = &fx.clock, .policy = &p};
    fx.e = testutil_engine(fx.url, &o);
    char key_file[600], why[256];
    snprintf(key_file, sizeof key_file, "%s/day.key", fx.dir);
    int created = 0;
    assert_int_equal(keyring_create(key_file, &created, why, sizeof why), HB_ERR_OK);
    assert_int_equal(keyring_load(key_file, &fx.keys, why, sizeof why), HB_ERR_OK);
    for (int i = 0; i < HONEST; i++) fx.h[i] = customer_new(TIER_PERSONAL, 2, 90000);
    fx.owl = customer_new(TIER_PERSONAL, 2, 90000);
    fx.cafe = customer_new(TIER_ENTERPRISE, 0, 0);
    fx.bigco = customer_new(TIER_ENTERPRISE, 0, 30000000);
    fx.supplier = customer_new(TIER_ENTERPRISE, 0, 0);
    fx.smurf = customer_new(TIER_PERSONAL, 2, 90000);
    fx.mule = customer_new(TIER_PERSONAL, 2, 0);
    for (int i = 0; i < FARM; i++) fx.farm[i] = customer_new(TIER_PERSONAL, 2, 10000);
    for (int i = 0; i < BOTS; i++) fx.bots[i] = customer_new(TIER_PERSONAL, 0, 0);
    fx.fraudster = customer_new(TIER_PERSONAL, 2, 10000);
    fx.thief = customer_new(TIER_PERSONAL, 2, 10000);
    fx.brush = customer_new(TIER_ENTERPRISE, 0, 0);
    for (int i = 0; i < SHILLS; i++) fx.shills[i] = customer_new(TIER_PERSONAL, 2, 10000);
    fx.capper = customer_new(TIER_PERSONAL, 2, 90000);
    fx.spreader = customer_new(TIER_PERSONAL, 2, 90000);
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

static hb_err list_add(risk_list_kind kind, const char *value, int64_t expires_at_ms)
{
    risk_list_cmd c;
    memset(&c, 0, sizeof c);
    c.entry.kind = kind;
    snprintf(c.entry.value, sizeof c.entry.value, "%s", value);
    snprintf(c.entry.reason, sizeof c.entry.reason, "partner report");
    c.entry.expires_at_ms = expires_at_ms;
    char why[160];
    hb_err err = risk_list_prepare(&c, "test", why, sizeof why);
    return err == HB_ERR_OK ? engine_submit(fx.e, &c.base) : err;
}

static void at(int64_t ms)
{
    fx.clock.fixed_ms = ms;
}

static void phone(int i, char out[32])
{
    snprintf(out, 32, "h-phone-%d", i);
}

/* ---- the day ----------------------------------------------------------------------------- */

static void play_the_day(paycode *cafe_code, paycode *brush_code)
{
    char note[8], dev[32];
    hb_err err = HB_ERR_OK;
    *cafe_code = sticker(fx.cafe);
    *brush_code = sticker(fx.brush);
    char id[32];
    snprintf(id, sizeof id, "acct_%lld", (long long)fx.fraudster);
    assert_int_equal(list_add(RISK_LIST_ACCOUNT, id, AT(18, 0, 0)), HB_ERR_OK);
    assert_int_equal(list_add(RISK_LIST_DEVICE, "stolen-phone", 0), HB_ERR_OK);

    /* 01:00-01:20 night smurfing: the fifth small transfer within 30 minutes freezes */
    for (int i = 0; i < 5; i++) {
        at(AT(1, 5 * i, 0));
        assert_int_equal(send(fx.smurf, fx.mule, 500 + i, "s-phone", NULL),
                         i < 4 ? HB_ERR_OK : HB_ERR_ACCOUNT_FROZEN);
    }
    at(AT(1, 25, 0));
    assert_int_equal(send(fx.smurf, fx.mule, 10000, "s-phone", NULL), HB_ERR_ACCOUNT_FROZEN);
    /* the honest owl: small transfers 40 minutes apart, and a run that reaches 06:00 */
    static const int owl_minutes[] = {60, 100, 140, 180, 350, 355};
    for (size_t i = 0; i < sizeof owl_minutes / sizeof owl_minutes[0]; i++) {
        at(AT(0, owl_minutes[i], 0));
        assert_int_equal(send(fx.owl, fx.h[0], 300, "owl-phone", NULL), HB_ERR_OK);
    }
    at(AT(5, 59, 59));
    assert_int_equal(send(fx.owl, fx.h[0], 300, "owl-phone", NULL), HB_ERR_OK); /* third */
    at(AT(6, 0, 0));
    for (int i = 0; i < 3; i++) { /* day time: not counted */
        assert_int_equal(send(fx.owl, fx.h[0], 300, "owl-phone", NULL), HB_ERR_OK);
    }

    /* 08:00 the listed fraudster and the stolen phone */
    at(AT(8, 0, 0));
    assert_int_equal(send(fx.fraudster, fx.h[1], 1000, "x-phone", NULL), HB_ERR_RISK_BLOCKED);
    at(AT(8, 5, 0));
    assert_int_equal(send(fx.thief, fx.h[1], 1000, "stolen-phone", NULL), HB_ERR_RISK_BLOCKED);

    /* 09:00 a device farm: the third account restricts all three, the fourth is not bound */
    for (int i = 0; i < FARM; i++) {
        at(AT(9, i, 0));
        static const hb_err expect[FARM] = {HB_ERR_OK, HB_ERR_OK, HB_ERR_ACCOUNT_RESTRICTED,
                                            HB_ERR_RISK_BLOCKED};
        assert_int_equal(send(fx.farm[i], fx.h[2], 100 + i, "farm-phone", NULL), expect[i]);
    }

    /* 10:00 people pay each other from their own phones; two share a family tablet */
    for (int i = 0; i < HONEST; i++) {
        at(AT(10, i, 0));
        phone(i, dev);
        assert_int_equal(send(fx.h[i], fx.h[(i + 1) % HONEST], 1234 + 111 * i, dev, note), HB_ERR_OK);
        assert_string_equal(note, "");
    }
    at(AT(10, 30, 0));
    assert_int_equal(send(fx.h[6], fx.h[0], 2000, "family-tablet", NULL), HB_ERR_OK);
    assert_int_equal(send(fx.h[7], fx.h[0], 2100, "family-tablet", NULL), HB_ERR_OK);

    /* 11:00 the big company pays its supplier 50,000.00 four times: each reported, and the
     * day's total reaching 200,000.00 reported once; all allowed */
    for (int i = 0; i < 4; i++) {
        at(AT(11, 10 * i, 0));
        assert_int_equal(send(fx.bigco, fx.supplier, 5000000, "bigco-pc", note), HB_ERR_OK);
        assert_string_equal(note, "report");
    }

    /* 12:00 a red packet: bots grab from one phone, people from their own */
    at(AT(12, 0, 0));
    phone(0, dev);
    int64_t pkt = packet_send(fx.h[0], 5000, 10, dev, &err, note);
    assert_int_equal(err, HB_ERR_OK);
    for (int i = 0; i < BOTS; i++) {
        at(AT(12, 0, 10 + i));
        static const hb_err expect[BOTS] = {HB_ERR_OK, HB_ERR_OK, HB_ERR_ACCOUNT_RESTRICTED,
                                            HB_ERR_RISK_BLOCKED, HB_ERR_RISK_BLOCKED};
        assert_int_equal(grab(pkt, fx.bots[i], "bot-phone"), expect[i]);
    }
    for (int i = 1; i <= 5; i++) {
        at(AT(12, 1, i));
        phone(i, dev);
        assert_int_equal(grab(pkt, fx.h[i], dev), HB_ERR_OK);
    }

    /* 13:00 the café: everyone pays varied amounts; one payer goes past the static-code cap */
    for (int i = 0; i < HONEST; i++) {
        at(AT(13, i, 0));
        phone(i, dev);
        assert_int_equal(pay(cafe_code, fx.h[i], 1200 + 37 * i, dev, note), HB_ERR_OK);
        assert_string_equal(note, "");
    }
    at(AT(13, 30, 0));
    assert_int_equal(pay(cafe_code, fx.capper, 20000, "cap-phone", NULL), HB_ERR_OK);
    assert_int_equal(pay(cafe_code, fx.capper, 20000, "cap-phone", NULL), HB_ERR_OK);
    assert_int_equal(pay(cafe_code, fx.capper, 10000, "cap-phone", NULL), HB_ERR_OK);
    assert_int_equal(pay(cafe_code, fx.capper, 1, "cap-phone", NULL), HB_ERR_RISK_BLOCKED);

    /* 14:00 brushing: five shills pay the shop's code 8.88 each; the fifth fuses it */
    for (int i = 0; i < SHILLS; i++) {
        at(AT(14, i, 0));
        snprintf(dev, sizeof dev, "shill-%d", i);
        assert_int_equal(pay(brush_code, fx.shills[i], 888, dev, note), HB_ERR_OK);
        assert_string_equal(note, i < SHILLS - 1 ? "" : "fuse");
    }
    at(AT(14, 10, 0));
    assert_int_equal(pay(brush_code, fx.shills[0], 888, "shill-0", NULL), HB_ERR_CODE_FUSED);

    /* 15:00 red packets: one sender's spread wide (reviewed, allowed), another's do not */
    at(AT(15, 0, 0));
    (void)packet_send(fx.spreader, 100, 1, "spread-phone", &err, note);
    assert_int_equal(err, HB_ERR_OK);
    (void)packet_send(fx.spreader, 20000, 1, "spread-phone", &err, note);
    assert_int_equal(err, HB_ERR_OK);
    assert_string_equal(note, "review");
    phone(1, dev);
    (void)packet_send(fx.h[1], 500, 1, dev, &err, note);
    assert_int_equal(err, HB_ERR_OK);
    (void)packet_send(fx.h[1], 600, 1, dev, &err, note);
    assert_int_equal(err, HB_ERR_OK);
    assert_string_equal(note, "");

    /* 18:00 the fraudster's entry has ended; 19:00 the farm is still restricted */
    at(AT(18, 0, 0));
    assert_int_equal(send(fx.fraudster, fx.h[1], 1000, "x-phone", NULL), HB_ERR_OK);
    at(AT(19, 0, 0));
    assert_int_equal(send(fx.farm[0], fx.h[2], 100, "farm-0-own", NULL), HB_ERR_ACCOUNT_RESTRICTED);
    at(AT(20, 0, 0));
}

/* ---- the end of the day -------------------------------------------------------------------- */

typedef struct expected_case {
    int64_t account;
    const char *rule;
} expected_case;

static bool in(const int64_t *set, int n, int64_t id)
{
    for (int i = 0; i < n; i++) {
        if (set[i] == id) return true;
    }
    return false;
}

static void test_scripted_day(void **state)
{
    (void)state;
    paycode cafe_code, brush_code;
    play_the_day(&cafe_code, &brush_code);

    store *s = NULL;
    store_options o = {.read_only = true};
    char why[256];
    assert_int_equal(store_open(fx.url, &o, &s, why, sizeof why), HB_ERR_OK);
    int64_t now = fx.clock.fixed_ms;
    const int64_t frozen[] = {fx.smurf};
    const int64_t restricted[] = {fx.farm[0], fx.farm[1], fx.farm[2],
                                  fx.bots[0], fx.bots[1], fx.bots[2]};
    const int64_t reported[] = {fx.bigco, fx.smurf};
    const expected_case cases[] = {
        {fx.smurf, "night_pattern"},      {fx.fraudster, "blacklist.account"},
        {fx.thief, "blacklist.device"},   {fx.farm[0], "multi_account"},
        {fx.farm[1], "multi_account"},    {fx.farm[2], "multi_account"},
        {fx.farm[3], "device.binding"},   {fx.bots[0], "multi_account"},
        {fx.bots[1], "multi_account"},    {fx.bots[2], "multi_account"},
        {fx.bots[3], "device.binding"},   {fx.bots[4], "device.binding"},
        {fx.capper, "static_cap"},        {fx.brush, "same_amount"},
        {fx.shills[0], "fused.code"},     {fx.spreader, "amount_dispersion"},
    };
    const int ncases = (int)(sizeof cases / sizeof cases[0]);

    /* every account: frozen and restricted exactly as expected */
    int64_t after = 0;
    int seen_frozen = 0, seen_restricted = 0;
    for (;;) {
        account page[64];
        int count = 0;
        assert_int_equal(store_account_list(s, after, 64, page, &count), HB_ERR_OK);
        if (count == 0) break;
        for (int i = 0; i < count; i++) {
            const account *a = &page[i];
            after = a->id;
            bool f = a->status == ACCOUNT_FROZEN, r = a->restricted_until_ms > now;
            if (f != in(frozen, 1, a->id) || r != in(restricted, 6, a->id)) {
                fail_msg("account %lld: frozen %d restricted %d", (long long)a->id, f, r);
            }
            seen_frozen += f;
            seen_restricted += r;
            if (r) { /* seven days from the movement that showed the farm */
                bool farmed = in(fx.farm, 3, a->id);
                assert_int_equal(a->restricted_until_ms,
                                 (farmed ? AT(9, 2, 0) : AT(12, 0, 12)) + 7 * 86400000LL);
            }
        }
    }
    assert_int_equal(seen_frozen, 1);
    assert_int_equal(seen_restricted, 6);

    /* codes: the brushing shop's fused, the café's not */
    risk_list_entry e;
    char code_id[32];
    snprintf(code_id, sizeof code_id, "code_%lld", (long long)brush_code.id);
    assert_int_equal(store_list_get(s, RISK_LIST_CODE, code_id, &e), HB_ERR_OK);
    assert_true(e.fuse);
    snprintf(code_id, sizeof code_id, "code_%lld", (long long)cafe_code.id);
    assert_int_equal(store_list_get(s, RISK_LIST_CODE, code_id, &e), HB_ERR_NOT_FOUND);

    /* reports: the big company's four singles and its day's total, the smurf's pattern */
    large_report r[16];
    int count = 0;
    int64_t day = clock_business_day(now, NULL);
    assert_int_equal(store_large_list(s, day, day, 0, 16, r, &count), HB_ERR_OK);
    int kinds[4] = {0};
    for (int i = 0; i < count; i++) {
        assert_true(in(reported, 2, r[i].account_id));
        kinds[r[i].kind]++;
        if (r[i].kind == 3) assert_int_equal(r[i].account_id, fx.smurf);
        if (r[i].kind == 2) assert_int_equal(r[i].amount, 20000000);
    }
    assert_int_equal(count, 6);
    assert_int_equal(kinds[1], 4);
    assert_int_equal(kinds[2], 1);
    assert_int_equal(kinds[3], 1);

    /* cases: exactly the expected (account, rule) pairs, all open */
    risk_case k[MAX_CASES];
    assert_int_equal(store_case_list(s, -1, 0, "", 0, MAX_CASES, k, &count), HB_ERR_OK);
    assert_int_equal(count, ncases);
    for (int i = 0; i < count; i++) {
        bool expected = false;
        for (int j = 0; j < ncases; j++) {
            expected |= k[i].account_id == cases[j].account && strcmp(k[i].rule, cases[j].rule) == 0;
        }
        if (!expected) fail_msg("unexpected case: account %lld rule %s", (long long)k[i].account_id, k[i].rule);
        assert_int_equal(k[i].status, 0);
    }

    /* no honest account touched: active, unrestricted, no case, no report, and its money
     * exactly what its own movements made it */
    int64_t honest[HONEST + 4];
    for (int i = 0; i < HONEST; i++) honest[i] = fx.h[i];
    honest[HONEST] = fx.owl;
    honest[HONEST + 1] = fx.cafe;
    honest[HONEST + 2] = fx.supplier;
    honest[HONEST + 3] = fx.mule; /* an accomplice no rule can see: it only received */
    for (int i = 0; i < HONEST + 4; i++) {
        account a;
        assert_int_equal(store_account_get(s, honest[i], &a), HB_ERR_OK);
        assert_int_equal(a.status, ACCOUNT_ACTIVE);
        assert_true(a.restricted_until_ms <= now);
        for (int j = 0; j < ncases; j++) assert_true(cases[j].account != honest[i]);
        for (int j = 0; j < count; j++) assert_true(k[j].account_id != honest[i]);
    }
    account big;
    assert_int_equal(store_account_get(s, fx.bigco, &big), HB_ERR_OK);
    assert_int_equal(big.status, ACCOUNT_ACTIVE);
    assert_money_eq(big.balance, 30000000 - 4 * 5000000);
    account m;
    assert_int_equal(store_account_get(s, fx.mule, &m), HB_ERR_OK);
    assert_money_eq(m.balance, 500 + 501 + 502 + 503); /* the refused fifth moved nothing */
    store_close(s);
}

int main(void)
{
    setenv("TZ", "Asia/Shanghai", 1);
    tzset();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_scripted_day, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
