/* The red packet split (src/core/split.c): bounds, exact sums and the double-mean statistics,
 * with the production generator (OpenSSL's CSPRNG). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "core/split.h"
#include "testutil.h"

/* Split n packets of total/count, check every share's bounds and every sum, and return the
 * mean of each position in means[count]. */
static void run_packets(int64_t total, int64_t count, long n, double *means)
{
    int64_t *shares = calloc((size_t)count, sizeof *shares);
    double *sums = calloc((size_t)count, sizeof *sums);
    assert_non_null(shares);
    assert_non_null(sums);
    for (long p = 0; p < n; p++) {
        assert_int_equal(split_shares(SPLIT_RANDOM, total, count, rng_secure(), shares), HB_ERR_OK);
        int64_t remaining = total;
        for (int64_t i = 0; i < count; i++) {
            int64_t left = count - i;
            assert_true(shares[i] >= 1);
            if (left > 1) {
                /* below twice the running mean: share * left < 2 * remaining */
                assert_true(shares[i] * left < 2 * remaining);
            } else {
                assert_money_eq(shares[i], remaining);
            }
            remaining -= shares[i];
            sums[i] += (double)shares[i];
        }
        assert_money_eq(remaining, 0);
    }
    for (int64_t i = 0; i < count; i++) means[i] = sums[i] / (double)n;
    free(shares);
    free(sums);
}

static void test_double_mean_statistics(void **state)
{
    (void)state;
    /* 100,000 packets of 100.00 in 10 shares: every position averages 10.00 within 2% */
    enum { COUNT = 10 };
    double means[COUNT];
    long packets = (long)testutil_scaled(100000);
    if (packets < 20000) packets = 20000; /* the tolerance needs the numbers */
    run_packets(10000, COUNT, packets, means);
    for (int i = 0; i < COUNT; i++) {
        if (fabs(means[i] - 1000.0) > 20.0) fprintf(stderr, "position %d: mean %.2f\n", i, means[i]);
        assert_true(fabs(means[i] - 1000.0) <= 20.0);
    }
    /* and 200.00 in 100 shares: every position averages 2.00 within 5% */
    double many[100];
    run_packets(20000, 100, packets / 5, many);
    for (int i = 0; i < 100; i++) {
        if (fabs(many[i] - 200.0) > 10.0) fprintf(stderr, "position %d: mean %.2f\n", i, many[i]);
        assert_true(fabs(many[i] - 200.0) <= 10.0);
    }
}

static void test_edges(void **state)
{
    (void)state;
    int64_t shares[100000];
    /* as many fen as shares: one fen each */
    assert_int_equal(split_shares(SPLIT_RANDOM, 100, 100, rng_secure(), shares), HB_ERR_OK);
    for (int i = 0; i < 100; i++) assert_money_eq(shares[i], 1);
    /* one share takes everything */
    assert_int_equal(split_shares(SPLIT_RANDOM, 777, 1, rng_secure(), shares), HB_ERR_OK);
    assert_money_eq(shares[0], 777);
    /* the largest total in the most shares: no overflow, exact sum */
    assert_int_equal(split_shares(SPLIT_RANDOM, LIMIT_AMOUNT_MAX_FEN, 100000, rng_secure(), shares),
                     HB_ERR_OK);
    int64_t sum = 0;
    for (int i = 0; i < 100000; i++) {
        assert_true(shares[i] >= 1);
        sum += shares[i];
    }
    assert_money_eq(sum, LIMIT_AMOUNT_MAX_FEN);
    /* fixed: equal shares, and only when they divide */
    assert_int_equal(split_shares(SPLIT_FIXED, 1000, 8, rng_secure(), shares), HB_ERR_OK);
    for (int i = 0; i < 8; i++) assert_money_eq(shares[i], 125);
    assert_int_equal(split_shares(SPLIT_FIXED, 1000, 7, rng_secure(), shares),
                     HB_ERR_INVALID_ARGUMENT);
    /* refused */
    assert_int_equal(split_shares(SPLIT_RANDOM, 5, 6, rng_secure(), shares), HB_ERR_INVALID_ARGUMENT);
    assert_int_equal(split_shares(SPLIT_RANDOM, 5, 0, rng_secure(), shares), HB_ERR_INVALID_ARGUMENT);
    assert_int_equal(split_shares(SPLIT_RANDOM, LIMIT_AMOUNT_MAX_FEN + 1, 2, rng_secure(), shares),
                     HB_ERR_INVALID_ARGUMENT);
    assert_int_equal(split_shares((split_mode)9, 10, 2, rng_secure(), shares),
                     HB_ERR_INVALID_ARGUMENT);
}

/* The draws are uniform over their range: for 3.00 in 2 shares the first share is uniform over
 * 1..299 (the second takes the rest); each third of the range gets a third of 300,000 draws
 * within 1%. */
static void test_uniform_draws(void **state)
{
    (void)state;
    long thirds[3] = {0, 0, 0};
    int64_t shares[2];
    long n = 300000;
    for (long i = 0; i < n; i++) {
        assert_int_equal(split_shares(SPLIT_RANDOM, 300, 2, rng_secure(), shares), HB_ERR_OK);
        assert_true(shares[0] >= 1 && shares[0] <= 299);
        thirds[(shares[0] - 1) / 100 < 3 ? (shares[0] - 1) / 100 : 2]++;
    }
    /* 1..100, 101..200, 201..299: 100, 100 and 99 values */
    assert_true(labs(thirds[0] - n * 100 / 299) < n / 100);
    assert_true(labs(thirds[1] - n * 100 / 299) < n / 100);
    assert_true(labs(thirds[2] - n * 99 / 299) < n / 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_double_mean_statistics),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_uniform_draws),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
