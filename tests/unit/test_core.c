/* Unit tests of the small core modules: ids, currency, error, rng, digest, clock. */
#include "testutil.h"

#include <string.h>

#include "core/clock.h"
#include "core/currency.h"
#include "core/digest.h"
#include "core/error.h"
#include "core/ids.h"
#include "core/rng.h"
#include "core/text.h"

#define SENTINEL ((int64_t)-777)

/* ---- ids ------------------------------------------------------------------------------ */

static void id_round_trip(id_kind kind, int64_t id, const char *expected)
{
    char buf[IDS_TEXT_MAX];
    int n = ids_format(kind, id, buf, sizeof buf);
    assert_int_equal(n, (int)strlen(expected));
    assert_string_equal(buf, expected);
    int64_t back = SENTINEL;
    assert_int_equal(ids_parse(kind, buf, &back), HB_ERR_OK);
    assert_money_eq(back, id);
}

static void test_ids_round_trip(void **state)
{
    (void)state;
    assert_string_equal(ids_prefix(ID_ACCOUNT), "acct_");
    assert_string_equal(ids_prefix(ID_TRANSFER), "tr_");
    id_round_trip(ID_ACCOUNT, 1, "acct_1");
    id_round_trip(ID_ACCOUNT, 42, "acct_42");
    id_round_trip(ID_ACCOUNT, 1000000, "acct_1000000");
    id_round_trip(ID_ACCOUNT, INT64_MAX, "acct_9223372036854775807");
    id_round_trip(ID_TRANSFER, 7, "tr_7");
    id_round_trip(ID_TRANSFER, 10, "tr_10");
    id_round_trip(ID_TRANSFER, INT64_MAX, "tr_9223372036854775807");
    hb_rng rng;
    rng_seeded_init(&rng, 4242);
    for (int i = 0; i < 10000; i++) {
        int64_t id = 1 + (int64_t)rng_next_below(&rng, (uint64_t)INT64_MAX);
        for (int k = 0; k < ID_KIND_COUNT; k++) {
            char buf[IDS_TEXT_MAX];
            int n = ids_format((id_kind)k, id, buf, sizeof buf);
            assert_true(n > 0 && n < IDS_TEXT_MAX);
            int64_t back = SENTINEL;
            assert_int_equal(ids_parse((id_kind)k, buf, &back), HB_ERR_OK);
            assert_money_eq(back, id);
            /* The bare number parses too. */
            back = SENTINEL;
            assert_int_equal(ids_parse((id_kind)k, buf + strlen(ids_prefix((id_kind)k)), &back),
                             HB_ERR_OK);
            assert_money_eq(back, id);
        }
    }
}

static void expect_id_rejected(id_kind kind, const char *text)
{
    int64_t v = SENTINEL;
    hb_err err = ids_parse(kind, text, &v);
    if (err != HB_ERR_INVALID_ARGUMENT) {
        fail_msg("ids_parse(%s, \"%s\") = %s (%lld), want INVALID_ARGUMENT", ids_prefix(kind),
                 text ? text : "(null)", hb_err_name(err), (long long)v);
    }
    assert_money_eq(v, SENTINEL);
}

static void test_ids_strict(void **state)
{
    (void)state;
    static const char *const bad_accounts[] = {
        "",
        "acct_",
        "acct_0",
        "acct_00",
        "acct_01",
        "acct_-1",
        "acct_+1",
        "acct_ 1",
        "acct_1 ",
        "acct_1a",
        "acct_1.0",
        "tr_5",
        "ACCT_5",
        "acct5",
        "acct-5",
        "acct__5",
        "acct_acct_5",
        "0",
        "01",
        "-1",
        "+1",
        " 42",
        "42 ",
        "4 2",
        "0x10",
        "acct_9223372036854775808",
        "acct_9999999999999999999",
        "acct_10000000000000000000",
        "acct_18446744073709551616",
        "acct_99999999999999999999999999",
        "9223372036854775808",
        "acct_\xef\xbc\x91",
    };
    for (size_t i = 0; i < sizeof bad_accounts / sizeof bad_accounts[0]; i++) {
        expect_id_rejected(ID_ACCOUNT, bad_accounts[i]);
    }
    expect_id_rejected(ID_ACCOUNT, NULL);
    expect_id_rejected(ID_TRANSFER, "acct_5");
    expect_id_rejected(ID_TRANSFER, "tr_");
    expect_id_rejected(ID_TRANSFER, "tr_0");
    expect_id_rejected(ID_TRANSFER, "tr_9223372036854775808");

    int64_t v = SENTINEL;
    assert_int_equal(ids_parse(ID_ACCOUNT, "42", &v), HB_ERR_OK);
    assert_money_eq(v, 42);
    assert_int_equal(ids_parse(ID_ACCOUNT, "9223372036854775807", &v), HB_ERR_OK);
    assert_money_eq(v, INT64_MAX);
    assert_int_equal(ids_parse(ID_ACCOUNT, "acct_9223372036854775807", &v), HB_ERR_OK);
    assert_money_eq(v, INT64_MAX);
    assert_int_equal(ids_parse(ID_ACCOUNT, "acct_9223372036854775806", &v), HB_ERR_OK);
    assert_money_eq(v, INT64_MAX - 1);
    assert_int_equal(ids_parse(ID_TRANSFER, "tr_5", &v), HB_ERR_OK);
    assert_money_eq(v, 5);
    assert_int_equal(ids_parse(ID_TRANSFER, "5", &v), HB_ERR_OK);
    assert_money_eq(v, 5);
}

/* ---- currency ------------------------------------------------------------------------- */

static currency parse_cur(const char *text)
{
    return currency_parse(text, strlen(text));
}

static void test_currency(void **state)
{
    (void)state;
    assert_int_equal(parse_cur("CNY"), CURRENCY_CNY);
    assert_int_equal(parse_cur("HKD"), CURRENCY_HKD);
    static const char *const bad[] = {"cny", "Cny", "hkd", "USD", "EUR", "CN", "C", "",
                                      "CNYX", "CNY ", " CNY", "HKDD", "XXX", "\xef\xbc\xa3NY"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (parse_cur(bad[i]) != CURRENCY_NONE) fail_msg("currency_parse(\"%s\") accepted", bad[i]);
    }
    assert_int_equal(currency_parse(NULL, 0), CURRENCY_NONE);
    assert_int_equal(currency_parse(NULL, 3), CURRENCY_NONE);
    /* Exactly len bytes are looked at. */
    assert_int_equal(currency_parse("CNYX", 4), CURRENCY_NONE);
    assert_int_equal(currency_parse("CN", 2), CURRENCY_NONE);

    assert_string_equal(currency_code(CURRENCY_CNY), "CNY");
    assert_string_equal(currency_code(CURRENCY_HKD), "HKD");
    assert_string_equal(currency_code(CURRENCY_NONE), "");
    assert_string_equal(currency_code((currency)CURRENCY_COUNT), "");
    assert_string_equal(currency_code((currency)99), "");
    assert_true(currency_valid(CURRENCY_CNY));
    assert_true(currency_valid(CURRENCY_HKD));
    assert_false(currency_valid(CURRENCY_NONE));
    assert_false(currency_valid((currency)CURRENCY_COUNT));
    assert_false(currency_valid((currency)99));
    assert_int_equal(currency_minor_digits(CURRENCY_CNY), 2);
    assert_int_equal(currency_minor_digits(CURRENCY_HKD), 2);
    /* Code and parse agree for every valid currency. */
    for (int c = 1; c < CURRENCY_COUNT; c++) {
        assert_int_equal(parse_cur(currency_code((currency)c)), c);
    }
}

/* ---- error ---------------------------------------------------------------------------- */

static void test_error_names(void **state)
{
    (void)state;
    for (int i = 0; i < HB_ERR__COUNT; i++) {
        hb_err e = (hb_err)i;
        const char *name = hb_err_name(e);
        assert_non_null(name);
        assert_true(name[0] != '\0');
        for (const char *p = name; *p; p++) {
            assert_true((*p >= 'A' && *p <= 'Z') || *p == '_');
        }
        hb_err back = HB_ERR__COUNT;
        if (hb_err_from_name(name, &back) != 0 || back != e) {
            fail_msg("hb_err_from_name(\"%s\") does not give back %d", name, i);
        }
        assert_non_null(hb_err_message(e));
        assert_true(hb_err_message(e)[0] != '\0');
        int status = hb_err_status(e);
        assert_true(status >= 200 && status <= 599);
        /* Names are unique. */
        for (int j = 0; j < i; j++) assert_string_not_equal(name, hb_err_name((hb_err)j));
    }
    hb_err out = HB_ERR_NOT_FOUND;
    assert_int_equal(hb_err_from_name("NO_SUCH_ERROR", &out), -1);
    assert_int_equal(hb_err_from_name("", &out), -1);
    assert_int_equal(hb_err_from_name("not_found", &out), -1);
    assert_int_equal(hb_err_from_name("NOT_FOUND ", &out), -1);
    assert_int_equal(hb_err_from_name("UNKNOWN", &out), -1);
    assert_int_equal(out, HB_ERR_NOT_FOUND);
    assert_string_equal(hb_err_name(HB_ERR_OK), "OK");
    assert_string_equal(hb_err_name(HB_ERR_LIMIT_EXCEEDED), "LIMIT_EXCEEDED");
    assert_string_equal(hb_err_name(HB_ERR_IDEMPOTENCY_CONFLICT), "IDEMPOTENCY_CONFLICT");
}

static void test_error_statuses(void **state)
{
    (void)state;
    static const struct {
        hb_err err;
        int status;
    } expected[] = {
        {HB_ERR_OK, 200},
        {HB_ERR_INVALID_ARGUMENT, 400},
        {HB_ERR_INVALID_JSON, 400},
        {HB_ERR_UNAUTHENTICATED, 401},
        {HB_ERR_FORBIDDEN, 403},
        {HB_ERR_LIMIT_EXCEEDED, 403},
        {HB_ERR_ACCOUNT_FROZEN, 403},
        {HB_ERR_NOT_FOUND, 404},
        {HB_ERR_METHOD_NOT_ALLOWED, 405},
        {HB_ERR_IDEMPOTENCY_CONFLICT, 409},
        {HB_ERR_INSUFFICIENT_FUNDS, 409},
        {HB_ERR_PACKET_EXPIRED, 410},
        {HB_ERR_PAYLOAD_TOO_LARGE, 413},
        {HB_ERR_UNSUPPORTED_MEDIA_TYPE, 415},
        {HB_ERR_RATE_LIMITED, 429},
        {HB_ERR_UNAVAILABLE, 503},
    };
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        int got = hb_err_status(expected[i].err);
        if (got != expected[i].status) {
            fail_msg("status of %s is %d, want %d", hb_err_name(expected[i].err), got,
                     expected[i].status);
        }
    }
}

static void test_error_out_of_range(void **state)
{
    (void)state;
    const hb_err bad[] = {HB_ERR__COUNT, (hb_err)(HB_ERR__COUNT + 1), (hb_err)1000,
                          (hb_err)0x7fffffff, (hb_err)-1};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_non_null(hb_err_name(bad[i]));
        assert_non_null(hb_err_message(bad[i]));
        int status = hb_err_status(bad[i]);
        assert_true(status >= 400 && status <= 599);
        /* The name of an out-of-range value must not parse as a real code. */
        hb_err back = HB_ERR_OK;
        if (hb_err_from_name(hb_err_name(bad[i]), &back) == 0) {
            assert_true((unsigned)back < HB_ERR__COUNT);
        }
    }
}

/* ---- rng ------------------------------------------------------------------------------ */

static void test_rng_seeded_deterministic(void **state)
{
    (void)state;
    hb_rng a, b, c;
    rng_seeded_init(&a, 12345);
    rng_seeded_init(&b, 12345);
    rng_seeded_init(&c, 12346);
    uint8_t ba[256], bb[256], bc[256];
    assert_int_equal(a.fill(&a, ba, sizeof ba), HB_ERR_OK);
    assert_int_equal(b.fill(&b, bb, sizeof bb), HB_ERR_OK);
    assert_int_equal(c.fill(&c, bc, sizeof bc), HB_ERR_OK);
    assert_memory_equal(ba, bb, sizeof ba);
    assert_memory_not_equal(ba, bc, sizeof ba);
    /* The streams continue identically. */
    for (int i = 0; i < 1000; i++) {
        uint64_t bound = 1 + (uint64_t)i * 7919u;
        uint64_t x = rng_next_below(&a, bound);
        uint64_t y = rng_next_below(&b, bound);
        assert_true(x == y);
    }
    /* Seed 0 works and differs from seed 1; re-initialising restarts the stream. */
    hb_rng z0, z1;
    rng_seeded_init(&z0, 0);
    rng_seeded_init(&z1, 1);
    uint64_t v0 = 0, v1 = 0, again = 0;
    assert_int_equal(rng_uniform(&z0, UINT64_MAX, &v0), HB_ERR_OK);
    assert_int_equal(rng_uniform(&z1, UINT64_MAX, &v1), HB_ERR_OK);
    assert_true(v0 != v1);
    rng_seeded_init(&z0, 0);
    assert_int_equal(rng_uniform(&z0, UINT64_MAX, &again), HB_ERR_OK);
    assert_true(v0 == again);
    /* Many nearby seeds give distinct first outputs. */
    uint64_t firsts[64];
    for (int s = 0; s < 64; s++) {
        hb_rng r;
        rng_seeded_init(&r, (uint64_t)s);
        firsts[s] = rng_next_below(&r, UINT64_MAX);
        for (int t = 0; t < s; t++) assert_true(firsts[s] != firsts[t]);
    }
    /* Odd-sized fills work and are deterministic. */
    uint8_t o1[13], o2[13];
    rng_seeded_init(&a, 99);
    rng_seeded_init(&b, 99);
    assert_int_equal(a.fill(&a, o1, sizeof o1), HB_ERR_OK);
    assert_int_equal(b.fill(&b, o2, sizeof o2), HB_ERR_OK);
    assert_memory_equal(o1, o2, sizeof o1);
}

static void test_rng_uniform_bounds(void **state)
{
    (void)state;
    const uint64_t bounds[] = {1, 2, 3, 7, 10, 1000, (1ULL << 32) + 1, (1ULL << 63) + 1,
                               UINT64_MAX};
    hb_rng seeded;
    rng_seeded_init(&seeded, 777);
    for (size_t i = 0; i < sizeof bounds / sizeof bounds[0]; i++) {
        uint64_t bound = bounds[i];
        bool seen_high = false; /* for bound 2^63+1: half the draws are >= 2^62 */
        for (int k = 0; k < 2000; k++) {
            uint64_t v = UINT64_MAX;
            assert_int_equal(rng_uniform(&seeded, bound, &v), HB_ERR_OK);
            assert_true(v < bound);
            if (bound > 4 && v >= bound / 4) seen_high = true;
            uint64_t w = UINT64_MAX;
            assert_int_equal(rng_uniform(rng_secure(), bound, &w), HB_ERR_OK);
            assert_true(w < bound);
            assert_true(rng_next_below(&seeded, bound) < bound);
        }
        if (bound > 4) assert_true(seen_high);
        if (bound == 1) {
            uint64_t v = 5;
            assert_int_equal(rng_uniform(&seeded, 1, &v), HB_ERR_OK);
            assert_true(v == 0);
        }
    }
    /* Small bounds reach every value. */
    for (uint64_t bound = 2; bound <= 7; bound++) {
        bool seen[7] = {false};
        for (int k = 0; k < 1000; k++) seen[rng_next_below(&seeded, bound)] = true;
        for (uint64_t v = 0; v < bound; v++) assert_true(seen[v]);
    }
}

static void test_rng_secure_uniformity(void **state)
{
    (void)state;
    int64_t buckets[10] = {0};
    const int draws = 100000;
    for (int i = 0; i < draws; i++) {
        uint64_t v = 10;
        assert_int_equal(rng_uniform(rng_secure(), 10, &v), HB_ERR_OK);
        assert_true(v < 10);
        buckets[v]++;
    }
    /* Expected 10000 each, standard deviation ~95: 5% (500) is over 5 sigma. */
    for (int b = 0; b < 10; b++) {
        if (buckets[b] < 9500 || buckets[b] > 10500) {
            fail_msg("bucket %d has %lld of %d draws", b, (long long)buckets[b], draws);
        }
    }
    /* The secure generator is not stuck: two fills differ. */
    uint8_t x[32], y[32];
    assert_int_equal(rng_secure()->fill(rng_secure(), x, sizeof x), HB_ERR_OK);
    assert_int_equal(rng_secure()->fill(rng_secure(), y, sizeof y), HB_ERR_OK);
    assert_memory_not_equal(x, y, sizeof x);
}

/* ---- digest --------------------------------------------------------------------------- */

static void hex(const uint8_t *bytes, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * n] = '\0';
}

static void expect_sha256(const void *data, size_t len, const char *expected)
{
    uint8_t out[32];
    char text[65];
    assert_int_equal(digest_sha256(data, len, out), HB_ERR_OK);
    hex(out, sizeof out, text);
    assert_string_equal(text, expected);
}

static void test_digest(void **state)
{
    (void)state;
    assert_non_null(digest_sha256_md());
    expect_sha256("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect_sha256("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const char *two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    expect_sha256(two_blocks, strlen(two_blocks),
                  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* Repeated use of the per-thread context gives the same answer. */
    for (int i = 0; i < 100; i++) {
        expect_sha256("abc", 3,
                      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}

/* ---- clock ---------------------------------------------------------------------------- */

static void test_clock(void **state)
{
    (void)state;
    hb_clock fixed;
    clock_fixed_init(&fixed, 1700000000123LL);
    assert_money_eq(clock_now_ms(&fixed), 1700000000123LL);
    assert_money_eq(clock_now_ms(&fixed), 1700000000123LL);
    fixed.fixed_ms = 42;
    assert_money_eq(clock_now_ms(&fixed), 42);
    clock_fixed_init(&fixed, -5);
    assert_money_eq(clock_now_ms(&fixed), -5);
    clock_fixed_init(&fixed, INT64_MAX);
    assert_money_eq(clock_now_ms(&fixed), INT64_MAX);

    /* The real clock is after 2020-01-01 and does not run backwards by much. */
    const hb_clock *real = clock_real();
    assert_non_null(real);
    int64_t t1 = clock_now_ms(real);
    assert_true(t1 > 1577836800000LL);
    int64_t m1 = clock_monotonic_ns();
    int64_t m2 = clock_monotonic_ns();
    assert_true(m2 >= m1);
    int64_t t2 = clock_now_ms(real);
    assert_true(t2 >= t1 - 1000);
}

/* The buffered CSPRNG hands out fresh bytes across refills, and uniform draws through it stay
 * in bounds and spread over every value. */
static void test_rng_buffered(void **state)
{
    (void)state;
    hb_rng_buffered r;
    rng_buffered_init(&r);
    static uint8_t a[10000], b[10000];
    assert_int_equal(r.base.fill(&r.base, a, 3000), HB_ERR_OK);
    assert_int_equal(r.base.fill(&r.base, a + 3000, 7000), HB_ERR_OK); /* crosses refills */
    assert_int_equal(r.base.fill(&r.base, b, sizeof b), HB_ERR_OK);
    assert_true(memcmp(a, b, sizeof a) != 0);
    long counts[256] = {0};
    for (size_t i = 0; i < sizeof a; i++) counts[a[i]]++;
    for (int v = 0; v < 256; v++) assert_true(counts[v] > 5 && counts[v] < 90); /* ~39 each, sd ~6 */
    long hits[7] = {0};
    for (int i = 0; i < 7000; i++) {
        uint64_t x = 99;
        assert_int_equal(rng_uniform(&r.base, 7, &x), HB_ERR_OK);
        assert_true(x < 7);
        hits[x]++;
    }
    for (int v = 0; v < 7; v++) assert_true(hits[v] > 800 && hits[v] < 1200);
    rng_buffered_clear(&r);
    for (size_t i = 0; i < sizeof r.buf; i++) assert_int_equal(r.buf[i], 0);
}

static void test_text_invisible(void **state)
{
    (void)state;
    assert_false(text_has_invisible(""));
    assert_false(text_has_invisible("恭喜发财，大吉大利 Happy 2027!"));
    assert_true(text_has_invisible("免\u200b单"));         /* zero-width space */
    assert_true(text_has_invisible("a\u200db"));           /* zero-width joiner */
    assert_true(text_has_invisible("\u202eabc"));          /* right-to-left override */
    assert_true(text_has_invisible("soft\u00adhyphen"));
    assert_true(text_has_invisible("bom\ufeff"));
    assert_true(text_has_invisible("\u2060joiner"));
    assert_true(text_has_invisible("var\ufe0fsel"));
    assert_true(text_has_invisible("tag\U000E0041"));
    assert_false(text_has_invisible("\u200a"));            /* hair space: visible width */
    assert_false(text_has_invisible("\u3000全角空格"));     /* ideographic space */
    assert_false(text_has_invisible("😀 emoji"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ids_round_trip),
        cmocka_unit_test(test_ids_strict),
        cmocka_unit_test(test_currency),
        cmocka_unit_test(test_error_names),
        cmocka_unit_test(test_error_statuses),
        cmocka_unit_test(test_error_out_of_range),
        cmocka_unit_test(test_rng_seeded_deterministic),
        cmocka_unit_test(test_rng_uniform_bounds),
        cmocka_unit_test(test_rng_secure_uniformity),
        cmocka_unit_test(test_rng_buffered),
        cmocka_unit_test(test_text_invisible),
        cmocka_unit_test(test_digest),
        cmocka_unit_test(test_clock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
