/* Payment-code tokens (src/core/code_token.c): both suites round-trip within 81 characters,
 * every altered byte and character is refused, other keys and unknown key ids are refused,
 * older key ids still open after rotation, and expiry is exact at its boundary. */
#include <stdio.h>
#include <string.h>

#include "core/code_token.h"
#include "core/rng.h"
#include "testutil.h"

static code_token_key keys[3];

static int setup(void **state)
{
    (void)state;
    uint8_t master[CRYPTO_KEY_LEN];
    for (int i = 0; i < CRYPTO_KEY_LEN; i++) master[i] = (uint8_t)(i * 7 + 1);
    assert_int_equal(code_token_key_derive(master, 1, &keys[0]), HB_ERR_OK);
    assert_int_equal(code_token_key_derive(master, 2, &keys[1]), HB_ERR_OK);
    master[0] ^= 1; /* another master key, same id */
    assert_int_equal(code_token_key_derive(master, 1, &keys[2]), HB_ERR_OK);
    return 0;
}

static const crypto_suite suites[] = {CRYPTO_SUITE_AES_GCM, CRYPTO_SUITE_SM4_SM3};

static void test_round_trips_and_length(void **state)
{
    (void)state;
    hb_rng rng;
    rng_seeded_init(&rng, 7);
    for (int i = 0; i < 2000; i++) {
        crypto_suite suite = suites[i % 2];
        code_token t = {.code_id = 1 + (int64_t)rng_next_below(&rng, INT64_MAX - 1),
                        .not_after_s = (int64_t)rng_next_below(&rng, (uint64_t)UINT32_MAX + 1),
                        .amount = (int64_t)rng_next_below(&rng, 1000000000000000ULL),
                        .currency = i % 3 ? CURRENCY_CNY : CURRENCY_HKD};
        char text[CODE_TOKEN_TEXT_MAX + 1];
        assert_int_equal(code_token_seal(&keys[i % 2], suite, &t, text), HB_ERR_OK);
        assert_int_equal(strlen(text), suite == CRYPTO_SUITE_AES_GCM ? 71 : 76);
        code_token back;
        crypto_suite seen = 0;
        assert_int_equal(code_token_open(keys, 2, text, strlen(text), 0, &back, &seen), HB_ERR_OK);
        assert_int_equal(seen, suite);
        assert_int_equal(back.code_id, t.code_id);
        assert_int_equal(back.not_after_s, t.not_after_s);
        assert_int_equal(back.amount, t.amount);
        assert_int_equal(back.currency, t.currency);
        /* fresh nonce: the same token seals differently each time */
        char again[CODE_TOKEN_TEXT_MAX + 1];
        assert_int_equal(code_token_seal(&keys[i % 2], suite, &t, again), HB_ERR_OK);
        assert_string_not_equal(text, again);
    }
}

static void test_tampering_refused(void **state)
{
    (void)state;
    code_token t = {.code_id = 42, .not_after_s = 0, .amount = 1888, .currency = CURRENCY_CNY};
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (size_t s = 0; s < 2; s++) {
        char text[CODE_TOKEN_TEXT_MAX + 1];
        assert_int_equal(code_token_seal(&keys[0], suites[s], &t, text), HB_ERR_OK);
        size_t len = strlen(text);
        code_token out;
        /* every character replaced by every other */
        for (size_t i = 0; i < len; i++) {
            for (size_t k = 0; k < 64; k++) {
                if (alphabet[k] == text[i]) continue;
                char edited[CODE_TOKEN_TEXT_MAX + 1];
                memcpy(edited, text, len + 1);
                edited[i] = alphabet[k];
                assert_int_equal(code_token_open(keys, 2, edited, len, 0, &out, NULL),
                                 HB_ERR_INVALID_CODE);
            }
        }
        /* every bit of the decoded bytes flipped */
        uint8_t raw[64];
        size_t n = 0;
        assert_true(crypto_unbase64url(text, len, raw, sizeof raw, &n));
        for (size_t i = 0; i < n * 8; i++) {
            raw[i / 8] ^= (uint8_t)(1u << (i % 8));
            char edited[CODE_TOKEN_TEXT_MAX + 8];
            crypto_base64url(raw, n, edited);
            hb_err err = code_token_open(keys, 2, edited, strlen(edited), 0, &out, NULL);
            /* flipping the key id byte to the other ring key still fails: the id is bound */
            assert_int_equal(err, HB_ERR_INVALID_CODE);
            raw[i / 8] ^= (uint8_t)(1u << (i % 8));
        }
        /* cut or lengthened, another key, a ring without the key id */
        for (size_t cut = 0; cut < len; cut++) {
            assert_int_equal(code_token_open(keys, 2, text, cut, 0, &out, NULL), HB_ERR_INVALID_CODE);
        }
        char longer[CODE_TOKEN_TEXT_MAX + 8];
        snprintf(longer, sizeof longer, "%sAAAA", text);
        assert_int_equal(code_token_open(keys, 2, longer, strlen(longer), 0, &out, NULL),
                         HB_ERR_INVALID_CODE);
        assert_int_equal(code_token_open(&keys[2], 1, text, len, 0, &out, NULL),
                         HB_ERR_INVALID_CODE);
        assert_int_equal(code_token_open(&keys[1], 1, text, len, 0, &out, NULL),
                         HB_ERR_INVALID_CODE);
    }
}

static void test_rotation_and_expiry(void **state)
{
    (void)state;
    code_token t = {.code_id = 7, .not_after_s = 1800000000, .amount = 0, .currency = CURRENCY_HKD};
    char old[CODE_TOKEN_TEXT_MAX + 1], current[CODE_TOKEN_TEXT_MAX + 1];
    assert_int_equal(code_token_seal(&keys[0], CRYPTO_SUITE_SM4_SM3, &t, old), HB_ERR_OK);
    assert_int_equal(code_token_seal(&keys[1], CRYPTO_SUITE_AES_GCM, &t, current), HB_ERR_OK);
    code_token out;
    /* a ring holding both ids opens both */
    assert_int_equal(code_token_open(keys, 2, old, strlen(old), 1799999999, &out, NULL), HB_ERR_OK);
    assert_int_equal(code_token_open(keys, 2, current, strlen(current), 1800000000, &out, NULL),
                     HB_ERR_OK);
    assert_int_equal(code_token_open(keys, 2, current, strlen(current), 1800000001, &out, NULL),
                     HB_ERR_CODE_EXPIRED);
    assert_int_equal(out.code_id, 7); /* says which code expired */
    /* not-after 0: a static code never expires */
    t.not_after_s = 0;
    assert_int_equal(code_token_seal(&keys[0], CRYPTO_SUITE_AES_GCM, &t, current), HB_ERR_OK);
    assert_int_equal(code_token_open(keys, 2, current, strlen(current), INT64_MAX, &out, NULL),
                     HB_ERR_OK);
    /* out of range tokens are not sealed */
    code_token bad = {.code_id = 0, .currency = CURRENCY_CNY};
    assert_int_equal(code_token_seal(&keys[0], CRYPTO_SUITE_AES_GCM, &bad, current),
                     HB_ERR_INVALID_ARGUMENT);
    bad = (code_token){.code_id = 1, .not_after_s = (int64_t)UINT32_MAX + 1, .currency = CURRENCY_CNY};
    assert_int_equal(code_token_seal(&keys[0], CRYPTO_SUITE_AES_GCM, &bad, current),
                     HB_ERR_INVALID_ARGUMENT);
    bad = (code_token){.code_id = 1, .amount = -1, .currency = CURRENCY_CNY};
    assert_int_equal(code_token_seal(&keys[0], CRYPTO_SUITE_AES_GCM, &bad, current),
                     HB_ERR_INVALID_ARGUMENT);
    bad = (code_token){.code_id = 1, .currency = CURRENCY_NONE};
    assert_int_equal(code_token_seal(&keys[0], CRYPTO_SUITE_AES_GCM, &bad, current),
                     HB_ERR_INVALID_ARGUMENT);
    code_token_key none;
    uint8_t master[CRYPTO_KEY_LEN] = {0};
    assert_int_equal(code_token_key_derive(master, 0, &none), HB_ERR_INVALID_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trips_and_length),
        cmocka_unit_test(test_tampering_refused),
        cmocka_unit_test(test_rotation_and_expiry),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
