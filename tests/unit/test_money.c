/* Unit tests of core/money.h: exact parsing, exact formatting, checked arithmetic. */
#include "testutil.h"

#include <string.h>

#include "core/limits.h"
#include "core/money.h"
#include "core/rng.h"

#define SENTINEL ((int64_t)-777)

/* Parse a NUL-terminated string; *out is left at SENTINEL when parsing fails. */
static hb_err parse(const char *text, int64_t *out)
{
    *out = SENTINEL;
    return money_parse(text, strlen(text), out);
}

static void expect_ok(const char *text, int64_t expected)
{
    int64_t v = SENTINEL;
    hb_err err = parse(text, &v);
    if (err != HB_ERR_OK) fail_msg("money_parse(\"%s\") = %s, want OK", text, hb_err_name(err));
    assert_money_eq(v, expected);
}

static void expect_err(const char *text, hb_err expected)
{
    int64_t v = SENTINEL;
    hb_err err = parse(text, &v);
    if (err != expected) {
        fail_msg("money_parse(\"%s\") = %s, want %s", text, hb_err_name(err),
                 hb_err_name(expected));
    }
    /* *out_fen untouched on error. */
    assert_money_eq(v, SENTINEL);
}

/* Rejected with some error (the exact code is not pinned down by the contract). */
static void expect_rejected(const char *text, size_t len)
{
    int64_t v = SENTINEL;
    hb_err err = money_parse(text, len, &v);
    if (err == HB_ERR_OK) fail_msg("money_parse(\"%.*s\") accepted", (int)len, text);
    assert_money_eq(v, SENTINEL);
}

static void test_parse_valid(void **state)
{
    (void)state;
    expect_ok("0", 0);
    expect_ok("0.5", 50);
    expect_ok("0.50", 50);
    expect_ok("0.05", 5);
    expect_ok("0.01", 1);
    expect_ok("0.00", 0);
    expect_ok("0.0", 0);
    expect_ok("1", 100);
    expect_ok("12", 1200);
    expect_ok("12.34", 1234);
    expect_ok("12.3", 1230);
    expect_ok("100.50", 10050);
    expect_ok("10", 1000);
    expect_ok("100", 10000);
    expect_ok("9.99", 999);
}

static void test_parse_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",     ".5",    "5.",      "-1",     "+1",     " 1",   "1 ",  "1e3",  "01",
        "00",   "00.5",  "007",     "1.234",  "1,00",   "12.3a", "a",  ".",    "..",
        "1..2", "1.2.3", "0x10",    "1.-1",   "1.+1",   "1. 2", "1\t", "\n1", "1.2 ",
        "-0",   "-0.5",  "1.000",   "0.001",  "NaN",    "inf",  "1_000", "1'000", "12,34",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        expect_err(bad[i], HB_ERR_INVALID_ARGUMENT);
    }
    /* Non-ASCII digits: FULLWIDTH DIGIT ONE, ARABIC-INDIC DIGIT ONE, and a stray 0xff. */
    expect_err("\xef\xbc\x91", HB_ERR_INVALID_ARGUMENT);
    expect_err("1\xef\xbc\x91", HB_ERR_INVALID_ARGUMENT);
    expect_err("\xd9\xa1", HB_ERR_INVALID_ARGUMENT);
    expect_err("1.\xff", HB_ERR_INVALID_ARGUMENT);
    expect_err("\xff", HB_ERR_INVALID_ARGUMENT);
}

static void test_parse_uses_len(void **state)
{
    (void)state;
    int64_t v = SENTINEL;
    /* Only len bytes count: "12.345" cut to 5 is "12.34". */
    assert_int_equal(money_parse("12.345", 5, &v), HB_ERR_OK);
    assert_money_eq(v, 1234);
    assert_int_equal(money_parse("7xyz", 1, &v), HB_ERR_OK);
    assert_money_eq(v, 700);
    /* An embedded NUL inside len is not a digit. */
    v = SENTINEL;
    assert_int_not_equal(money_parse("1\0002", 3, &v), HB_ERR_OK);
    assert_money_eq(v, SENTINEL);
    /* NULL text or zero length. */
    assert_int_equal(money_parse(NULL, 0, &v), HB_ERR_INVALID_ARGUMENT);
    assert_int_equal(money_parse(NULL, 3, &v), HB_ERR_INVALID_ARGUMENT);
    assert_int_equal(money_parse("5", 0, &v), HB_ERR_INVALID_ARGUMENT);
    assert_money_eq(v, SENTINEL);
}

static void test_parse_overlong(void **state)
{
    (void)state;
    char buf[4096];
    /* A long run of zeros is a leading-zero error however long. */
    memset(buf, '0', sizeof buf);
    expect_rejected(buf, sizeof buf);
    /* A long string of ones is way over the maximum. */
    memset(buf, '1', sizeof buf);
    expect_rejected(buf, sizeof buf);
    expect_rejected(buf, 25);
    expect_rejected(buf, 64);
    /* "1." followed by many zeros: too many decimals. */
    buf[1] = '.';
    memset(buf + 2, '0', sizeof buf - 2);
    expect_rejected(buf, sizeof buf);
    expect_rejected(buf, 30);
    /* Many leading garbage bytes. */
    memset(buf, ' ', sizeof buf);
    buf[sizeof buf - 1] = '1';
    expect_rejected(buf, sizeof buf);
}

static void test_parse_limits(void **state)
{
    (void)state;
    char text[MONEY_TEXT_MAX];
    /* LIMIT_AMOUNT_MAX_FEN is 10^15 fen = 10^13 yuan. */
    assert_true(money_format(LIMIT_AMOUNT_MAX_FEN, text, sizeof text) > 0);
    assert_string_equal(text, "10000000000000.00");
    expect_ok("10000000000000.00", LIMIT_AMOUNT_MAX_FEN);
    expect_ok("10000000000000.0", LIMIT_AMOUNT_MAX_FEN);
    expect_ok("10000000000000", LIMIT_AMOUNT_MAX_FEN);
    expect_ok("9999999999999.99", LIMIT_AMOUNT_MAX_FEN - 1);
    expect_ok("9999999999999", LIMIT_AMOUNT_MAX_FEN - 100);

    expect_err("10000000000000.01", HB_ERR_LIMIT_EXCEEDED);
    expect_err("10000000000000.1", HB_ERR_LIMIT_EXCEEDED);
    expect_err("10000000000001", HB_ERR_LIMIT_EXCEEDED);
    expect_err("10000000000001.00", HB_ERR_LIMIT_EXCEEDED);
    expect_err("20000000000000", HB_ERR_LIMIT_EXCEEDED);
    expect_err("99999999999999", HB_ERR_LIMIT_EXCEEDED);
    expect_err("100000000000000", HB_ERR_LIMIT_EXCEEDED);
    expect_err("99999999999999.99", HB_ERR_LIMIT_EXCEEDED);

    /* Around 2^63 in yuan and in fen: must not overflow into an accepted value. */
    expect_err("92233720368547758", HB_ERR_LIMIT_EXCEEDED);    /* INT64_MAX / 100 */
    expect_err("92233720368547758.07", HB_ERR_LIMIT_EXCEEDED); /* INT64_MAX fen */
    expect_err("92233720368547758.08", HB_ERR_LIMIT_EXCEEDED); /* 2^63 fen */
    expect_err("9223372036854775807", HB_ERR_LIMIT_EXCEEDED);  /* INT64_MAX yuan */
    expect_err("9223372036854775808", HB_ERR_LIMIT_EXCEEDED);  /* 2^63 yuan */
    expect_err("18446744073709551615", HB_ERR_LIMIT_EXCEEDED); /* UINT64_MAX */
    expect_err("18446744073709551616", HB_ERR_LIMIT_EXCEEDED); /* 2^64 */
    expect_err("18446744073709551616.99", HB_ERR_LIMIT_EXCEEDED);
    /* Malformed beats a large prefix only in the sense of "never OK". */
    expect_rejected("9223372036854775808x", 20);
    expect_rejected("99999999999999999999999999999999999999", 38);
    expect_rejected("184467440737095516160000000000.00", 33);
}

static void expect_format(int64_t fen, const char *expected)
{
    char buf[MONEY_TEXT_MAX];
    memset(buf, 'x', sizeof buf);
    int n = money_format(fen, buf, sizeof buf);
    if (n < 0 || strcmp(buf, expected) != 0 || (size_t)n != strlen(expected)) {
        fail_msg("money_format(%lld) = %d \"%s\", want \"%s\"", (long long)fen, n,
                 n < 0 ? "" : buf, expected);
    }
}

static void test_format(void **state)
{
    (void)state;
    expect_format(0, "0.00");
    expect_format(1, "0.01");
    expect_format(5, "0.05");
    expect_format(-5, "-0.05");
    expect_format(10, "0.10");
    expect_format(-10, "-0.10");
    expect_format(99, "0.99");
    expect_format(100, "1.00");
    expect_format(-100, "-1.00");
    expect_format(101, "1.01");
    expect_format(1234, "12.34");
    expect_format(-1234, "-12.34");
    expect_format(10050, "100.50");
    expect_format(LIMIT_AMOUNT_MAX_FEN, "10000000000000.00");
    expect_format(-LIMIT_AMOUNT_MAX_FEN, "-10000000000000.00");
    expect_format(INT64_MAX, "92233720368547758.07");
    expect_format(INT64_MIN, "-92233720368547758.08");
    expect_format(INT64_MIN + 1, "-92233720368547758.07");
}

static void test_format_buffer_size(void **state)
{
    (void)state;
    char buf[MONEY_TEXT_MAX];
    /* "0.00" needs 5 bytes with the NUL. */
    assert_int_equal(money_format(0, buf, 5), 4);
    assert_string_equal(buf, "0.00");
    assert_int_equal(money_format(0, buf, 4), -1);
    assert_int_equal(money_format(0, buf, 1), -1);
    assert_int_equal(money_format(0, NULL, 0), -1);
    /* "-12.34" needs 7. */
    assert_int_equal(money_format(-1234, buf, 7), 6);
    assert_string_equal(buf, "-12.34");
    assert_int_equal(money_format(-1234, buf, 6), -1);
    /* INT64_MIN: 21 characters + NUL. */
    assert_int_equal(money_format(INT64_MIN, buf, 22), 21);
    assert_string_equal(buf, "-92233720368547758.08");
    assert_int_equal(money_format(INT64_MIN, buf, 21), -1);
    assert_int_equal(money_format(INT64_MAX, buf, 21), 20);
    assert_int_equal(money_format(INT64_MAX, buf, 20), -1);
    /* A failing call must not write past size: guard bytes stay. */
    char guard[8];
    memset(guard, '#', sizeof guard);
    assert_int_equal(money_format(123456, guard, 4), -1);
    for (size_t i = 4; i < sizeof guard; i++) assert_int_equal(guard[i], '#');
}

static void round_trip(int64_t fen)
{
    char buf[MONEY_TEXT_MAX];
    int n = money_format(fen, buf, sizeof buf);
    assert_true(n > 0);
    int64_t back = SENTINEL;
    hb_err err = money_parse(buf, (size_t)n, &back);
    if (err != HB_ERR_OK || back != fen) {
        fail_msg("round trip of %lld via \"%s\": %s, %lld", (long long)fen, buf,
                 hb_err_name(err), (long long)back);
    }
}

static void test_round_trip(void **state)
{
    (void)state;
    for (int64_t fen = 0; fen <= 100000; fen++) round_trip(fen);
    for (int64_t fen = LIMIT_AMOUNT_MAX_FEN - 1000; fen <= LIMIT_AMOUNT_MAX_FEN; fen++) {
        round_trip(fen);
    }
    hb_rng rng;
    rng_seeded_init(&rng, 0x686f6e6762616fULL);
    int64_t n = testutil_scaled(200000);
    for (int64_t i = 0; i < n; i++) {
        /* Uniform over the whole range, then small magnitudes of every digit count. */
        round_trip((int64_t)rng_next_below(&rng, (uint64_t)LIMIT_AMOUNT_MAX_FEN + 1));
        uint64_t digits = 1 + rng_next_below(&rng, 15);
        uint64_t bound = 1;
        for (uint64_t d = 0; d < digits; d++) bound *= 10;
        round_trip((int64_t)rng_next_below(&rng, bound + 1));
    }
    /* Formatting anything above the limit must not parse back as something else. */
    for (int64_t i = 0; i < 1000; i++) {
        int64_t fen = LIMIT_AMOUNT_MAX_FEN + 1 +
                      (int64_t)rng_next_below(&rng, (uint64_t)(INT64_MAX - LIMIT_AMOUNT_MAX_FEN));
        char buf[MONEY_TEXT_MAX];
        int len = money_format(fen, buf, sizeof buf);
        assert_true(len > 0);
        expect_err(buf, HB_ERR_LIMIT_EXCEEDED);
    }
}

static void test_add_sub(void **state)
{
    (void)state;
    int64_t out = SENTINEL;
    assert_true(money_add(1, 2, &out));
    assert_money_eq(out, 3);
    assert_true(money_add(-5, 3, &out));
    assert_money_eq(out, -2);
    assert_true(money_add(INT64_MAX, 0, &out));
    assert_money_eq(out, INT64_MAX);
    assert_true(money_add(INT64_MIN, 0, &out));
    assert_money_eq(out, INT64_MIN);
    assert_true(money_add(INT64_MAX - 1, 1, &out));
    assert_money_eq(out, INT64_MAX);
    assert_true(money_add(INT64_MIN + 1, -1, &out));
    assert_money_eq(out, INT64_MIN);
    assert_true(money_add(INT64_MAX, INT64_MIN, &out));
    assert_money_eq(out, -1);

    assert_true(money_sub(5, 7, &out));
    assert_money_eq(out, -2);
    assert_true(money_sub(INT64_MIN + 1, 1, &out));
    assert_money_eq(out, INT64_MIN);
    assert_true(money_sub(INT64_MAX - 1, -1, &out));
    assert_money_eq(out, INT64_MAX);
    assert_true(money_sub(-1, INT64_MAX, &out));
    assert_money_eq(out, INT64_MIN);
    assert_true(money_sub(0, INT64_MAX, &out));
    assert_money_eq(out, -INT64_MAX);
    assert_true(money_sub(INT64_MIN, INT64_MIN, &out));
    assert_money_eq(out, 0);

    /* Overflow: false, and *out untouched. */
    static const int64_t add_overflow[][2] = {
        {INT64_MAX, 1},         {1, INT64_MAX},          {INT64_MAX, INT64_MAX},
        {INT64_MIN, -1},        {-1, INT64_MIN},         {INT64_MIN, INT64_MIN},
        {INT64_MAX / 2 + 1, INT64_MAX / 2 + 1},          {INT64_MIN / 2 - 1, INT64_MIN / 2},
    };
    for (size_t i = 0; i < sizeof add_overflow / sizeof add_overflow[0]; i++) {
        out = SENTINEL;
        if (money_add(add_overflow[i][0], add_overflow[i][1], &out)) {
            fail_msg("money_add(%lld, %lld) did not detect overflow",
                     (long long)add_overflow[i][0], (long long)add_overflow[i][1]);
        }
        assert_money_eq(out, SENTINEL);
    }
    static const int64_t sub_overflow[][2] = {
        {INT64_MIN, 1},  {INT64_MAX, -1}, {0, INT64_MIN},         {-2, INT64_MAX},
        {INT64_MAX, INT64_MIN},           {INT64_MIN, INT64_MAX}, {1, INT64_MIN},
    };
    for (size_t i = 0; i < sizeof sub_overflow / sizeof sub_overflow[0]; i++) {
        out = SENTINEL;
        if (money_sub(sub_overflow[i][0], sub_overflow[i][1], &out)) {
            fail_msg("money_sub(%lld, %lld) did not detect overflow",
                     (long long)sub_overflow[i][0], (long long)sub_overflow[i][1]);
        }
        assert_money_eq(out, SENTINEL);
    }
    /* -1 - INT64_MIN == INT64_MAX fits. */
    assert_true(money_sub(-1, INT64_MIN, &out));
    assert_money_eq(out, INT64_MAX);
}

static void test_check_amount(void **state)
{
    (void)state;
    const int64_t max = LIMIT_AMOUNT_MAX_FEN;
    assert_int_equal(money_check_amount(0, max), HB_ERR_INVALID_ARGUMENT);
    assert_int_equal(money_check_amount(-1, max), HB_ERR_INVALID_ARGUMENT);
    assert_int_equal(money_check_amount(-100, max), HB_ERR_INVALID_ARGUMENT);
    assert_int_equal(money_check_amount(INT64_MIN, max), HB_ERR_INVALID_ARGUMENT);
    assert_int_equal(money_check_amount(1, max), HB_ERR_OK);
    assert_int_equal(money_check_amount(max, max), HB_ERR_OK);
    assert_int_equal(money_check_amount(max + 1, max), HB_ERR_LIMIT_EXCEEDED);
    assert_int_equal(money_check_amount(INT64_MAX, max), HB_ERR_LIMIT_EXCEEDED);
    /* A smaller configured cap. */
    const int64_t cap = LIMIT_TRANSFER_DEFAULT_MAX_FEN;
    assert_int_equal(money_check_amount(cap, cap), HB_ERR_OK);
    assert_int_equal(money_check_amount(cap + 1, cap), HB_ERR_LIMIT_EXCEEDED);
    assert_int_equal(money_check_amount(1, 1), HB_ERR_OK);
    assert_int_equal(money_check_amount(2, 1), HB_ERR_LIMIT_EXCEEDED);
    assert_int_equal(money_check_amount(0, 1), HB_ERR_INVALID_ARGUMENT);
}

/* Fees in basis points, rounded half-up to the fen: a table of hand-computed cases, then
 * agreement with the plain formula wherever it cannot overflow. */
static void test_fee_rounding_table(void **state)
{
    (void)state;
    static const struct {
        int64_t amount, bp, fee;
    } table[] = {
        {0, 60, 0},        {1, 60, 0},          {83, 60, 0},   /* 0.498 fen */
        {84, 60, 1},       /* 0.504 */          {100, 60, 1},  /* 0.6 */
        {250, 60, 2},      /* 1.5: half up */   {10000, 60, 60},
        {1888, 100, 19},   /* 18.88 */          {1850, 100, 19}, /* 18.5 -> 19 */
        {1849, 100, 18},   {12345, 35, 43},     /* 43.2075 */  {99999, 80, 800}, /* 799.992 */
        {5000, 1, 1},      /* 0.5 -> 1 */       {4999, 1, 0},  {1, 10000, 1},
        {LIMIT_AMOUNT_MAX_FEN, 10000, LIMIT_AMOUNT_MAX_FEN},
        {LIMIT_AMOUNT_MAX_FEN, 60, 6000000000000LL},
        {LIMIT_AMOUNT_MAX_FEN - 1, 35, 3500000000000LL}, /* 3,499,999,999,999.9965 */
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        int64_t fee = money_fee_bp(table[i].amount, table[i].bp);
        if (fee != table[i].fee) {
            fail_msg("fee of %lld at %lld bp: %lld, expected %lld", (long long)table[i].amount,
                     (long long)table[i].bp, (long long)fee, (long long)table[i].fee);
        }
    }
    for (int64_t a = 0; a < 200000; a += 7) {
        for (int64_t bp = 0; bp <= 10000; bp += 37) {
            assert_int_equal(money_fee_bp(a, bp), (a * bp + 5000) / 10000);
        }
    }
    /* pro rata: the fee returned with part of a payment, half-up */
    assert_int_equal(money_pro_rata(60, 5000, 10000), 30);
    assert_int_equal(money_pro_rata(1, 1, 2), 1);  /* 0.5 -> 1 */
    assert_int_equal(money_pro_rata(1, 1, 3), 0);  /* 0.33 */
    assert_int_equal(money_pro_rata(2, 1, 3), 1);  /* 0.67 */
    assert_int_equal(money_pro_rata(19, 1888, 1888), 19);
    assert_int_equal(money_pro_rata(0, 5, 9), 0);
    assert_int_equal(money_pro_rata(LIMIT_AMOUNT_MAX_FEN, LIMIT_AMOUNT_MAX_FEN - 1,
                                    LIMIT_AMOUNT_MAX_FEN),
                     LIMIT_AMOUNT_MAX_FEN - 1);
    /* refunds in pieces never return more than the whole fee */
    int64_t returned = 0;
    for (int64_t k = 1; k <= 3; k++) returned = money_pro_rata(19, 1888 * k / 3, 1888);
    assert_int_equal(returned, 19);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fee_rounding_table),
        cmocka_unit_test(test_parse_valid),
        cmocka_unit_test(test_parse_malformed),
        cmocka_unit_test(test_parse_uses_len),
        cmocka_unit_test(test_parse_overlong),
        cmocka_unit_test(test_parse_limits),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_format_buffer_size),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_add_sub),
        cmocka_unit_test(test_check_amount),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
