/* The policy: defaults equal DESIGN.md, the shipped docs/policy.ini equals the defaults, files
 * and environment override, and bad files are refused with their line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/policy.h"
#include "testutil.h"

static void test_defaults(void **state)
{
    (void)state;
    policy p;
    policy_defaults(&p);
    assert_money_eq(p.tiers[1].single_limit, 20000);
    assert_money_eq(p.tiers[1].daily_limit, 100000);
    assert_money_eq(p.tiers[2].single_limit, 200000);
    assert_money_eq(p.tiers[2].daily_limit, 5000000);
    assert_int_equal(p.tiers[2].fee_min_bp, 60);
    assert_int_equal(p.tiers[2].fee_max_bp, 100);
    assert_int_equal(p.tiers[3].fee_min_bp, 35);
    assert_int_equal(p.tiers[3].fee_max_bp, 80);
    assert_int_equal(p.tiers[1].code_validity_s, 120);
    assert_int_equal(p.tiers[2].code_validity_s, 180);
    assert_int_equal(p.tiers[1].max_shares, 100);
    assert_int_equal(p.tiers[2].max_shares, 10000);
    assert_int_equal(p.tiers[3].max_shares, 100000);
    assert_int_equal(p.tiers[1].crypto, POLICY_AES_GCM);
    assert_int_equal(p.tiers[2].crypto, POLICY_SM4);
    assert_int_equal(p.tiers[1].api, POLICY_API_NONE);
    assert_int_equal(p.tiers[2].api, POLICY_API_BASIC);
    assert_int_equal(p.tiers[3].api, POLICY_API_FULL);
    assert_string_equal(p.timezone, "Asia/Shanghai");
    assert_non_null(policy_banned_phrase(&p, "今天免单哦"));
    assert_non_null(policy_banned_phrase(&p, "全额返现"));
    assert_null(policy_banned_phrase(&p, "新婚快乐"));
    assert_int_equal(policy_region_multiplier(&p, "CN"), 10000);
}

static void test_shipped_file_equals_defaults(void **state)
{
    (void)state;
    policy defaults, loaded;
    policy_defaults(&defaults);
    int line = 0;
    char why[256];
    const char *path = getenv("HB_POLICY_INI");
    assert_non_null(path);
    assert_int_equal(policy_load(path, &loaded, &line, why, sizeof why), HB_ERR_OK);
    assert_memory_equal(&defaults, &loaded, sizeof defaults);
}

static const char *write_file(const char *dir, const char *text)
{
    const char *path = testutil_path(dir, "p.ini");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_file_and_env(void **state)
{
    (void)state;
    char *dir = strdup(testutil_tempdir());
    policy p;
    int line = 0;
    char why[256];
    const char *path = write_file(dir, "[tier.personal]\nsingle_limit = 150.50\n"
                                       "[region.XJ]\nmultiplier_bp = 5000\n"
                                       "[messages]\nbanned = 拼手气返利\n");
    assert_int_equal(policy_load(path, &p, &line, why, sizeof why), HB_ERR_OK);
    assert_money_eq(p.tiers[1].single_limit, 15050);
    assert_int_equal(policy_region_multiplier(&p, "XJ"), 5000);
    assert_non_null(policy_banned_phrase(&p, "拼手气返利来啦"));
    setenv("HONGBAO_TIER_PERSONAL_DAILY_LIMIT", "500.00", 1);
    assert_int_equal(policy_load(path, &p, &line, why, sizeof why), HB_ERR_OK);
    assert_money_eq(p.tiers[1].daily_limit, 50000);
    setenv("HONGBAO_TIER_PERSONAL_DAILY_LIMIT", "lots", 1);
    assert_int_equal(policy_load(path, &p, &line, why, sizeof why), HB_ERR_INVALID_ARGUMENT);
    assert_int_equal(line, 0);
    assert_non_null(strstr(why, "HONGBAO_TIER_PERSONAL_DAILY_LIMIT"));
    unsetenv("HONGBAO_TIER_PERSONAL_DAILY_LIMIT");
    /* each bad file names its line */
    struct {
        const char *text;
        int line;
    } bad[] = {
        {"[tier.personal]\nsingle_limit = 1.234\n", 2},
        {"[general]\ntimezone = Asia/Shanghai\nnope = 1\n", 3},
        {"[nowhere]\nx = 1\n", 2},
        {"[tier.enterprise]\nfee_min_bp = -1\n", 2},
        {"[tier.enterprise]\ncrypto = rot13\n", 2},
        {"[rate_limit]\nkey_burst = 0\n", 2},
        {"[general]\n\n\ntimezone = ../../etc/passwd\n", 4},
        {"[web]\nlogin_url = javascript:alert(1)\n", 2},
        {"[web]\nlogin_url = https://x.example/\"><script>\n", 2},
        {"no section line\n", 1},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        path = write_file(dir, bad[i].text);
        assert_int_equal(policy_load(path, &p, &line, why, sizeof why), HB_ERR_INVALID_ARGUMENT);
        assert_int_equal(line, bad[i].line);
        assert_true(why[0] != '\0');
    }
    /* the operator's login step for the H5 pages */
    path = write_file(dir, "[web]\nlogin_url = https://app.example.com/login?from=h5\n");
    assert_int_equal(policy_load(path, &p, &line, why, sizeof why), HB_ERR_OK);
    assert_string_equal(p.web_login_url, "https://app.example.com/login?from=h5");
    /* consistent limits are checked across keys */
    path = write_file(dir, "[tier.personal]\nsingle_limit = 2000.00\n");
    assert_int_equal(policy_load(path, &p, &line, why, sizeof why), HB_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(why, "single_limit <= daily_limit"));
    assert_int_equal(policy_load(testutil_path(dir, "missing.ini"), &p, &line, why, sizeof why),
                     HB_ERR_NOT_FOUND);
    testutil_rmdir(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_shipped_file_equals_defaults),
        cmocka_unit_test(test_file_and_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
