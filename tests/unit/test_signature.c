/* The request signature against the shared public vector, its header parser, and the
 * symmetric crypto and masking helpers behind personal data. */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "core/crypto.h"
#include "core/mask.h"
#include "core/signature.h"
#include "testutil.h"

/* ../shared/vectors/README.md, "HB1-HMAC-SHA256 request signature" */
static const char vector_secret[] = "hbsec_test_secret";
static const char vector_body[] = "{\"from\":\"acct_1\",\"to\":\"acct_2\",\"amount\":1250}";
static const char vector_sig[] = "9e41527f1d7f6e32f52c114a5d5fe255d43f6b3fee9d6fb57a462c2dbc025979";

static void test_vector(void **state)
{
    (void)state;
    uint8_t mac[32];
    assert_int_equal(signature_compute(vector_secret, "POST", "/v1/transfers?dry_run=0",
                                       "1764230400", "n0nce0123456789ab", vector_body,
                                       strlen(vector_body), mac),
                     HB_ERR_OK);
    char hex[65];
    crypto_hex(mac, 32, hex);
    assert_string_equal(hex, vector_sig);
    /* any change to what is signed changes the signature */
    assert_int_equal(signature_compute(vector_secret, "POST", "/v1/transfers?dry_run=1",
                                       "1764230400", "n0nce0123456789ab", vector_body,
                                       strlen(vector_body), mac),
                     HB_ERR_OK);
    crypto_hex(mac, 32, hex);
    assert_string_not_equal(hex, vector_sig);
}

static void test_header_parse(void **state)
{
    (void)state;
    signature_header h;
    const char *why = NULL;
    char header[256];
    snprintf(header, sizeof header, "key=KEY_ID,ts=1764230400,nonce=n0nce0123456789ab,sig=%s",
             vector_sig);
    assert_int_equal(signature_parse(header, &h, &why), HB_ERR_OK);
    assert_string_equal(h.key_id, "KEY_ID");
    assert_true(h.ts == 1764230400);
    assert_string_equal(h.nonce, "n0nce0123456789ab");
    static const char *const bad[] = {
        "",
        "key=K,ts=1,nonce=n0nce0123456789ab",                       /* no sig */
        "ts=1,key=K,nonce=n0nce0123456789ab,sig=00",                /* order */
        "key=K,ts=-1,nonce=n0nce0123456789ab,sig=" "00",            /* sign */
        "key=K,ts=1,nonce=short,sig=00",                            /* nonce too short */
        "key=K,ts=1,nonce=n0nce-0123456789ab,sig=00",               /* nonce charset */
        "key=K,ts=1,nonce=n0nce0123456789ab,sig=zz",                /* sig not hex */
        "key=K,ts=1,nonce=n0nce0123456789ab,sig=00,extra=1",        /* trailing */
        "key=,ts=1,nonce=n0nce0123456789ab,sig=00",                 /* empty key */
        "key=K, ts=1,nonce=n0nce0123456789ab,sig=00",               /* space */
        "key=K,ts=99999999999999999999,nonce=n0nce0123456789ab,sig=00",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(signature_parse(bad[i], &h, &why), HB_ERR_INVALID_ARGUMENT);
        assert_true(why != NULL && why[0] != '\0');
    }
}

static void seal_open_suite(crypto_suite suite)
{
    uint8_t master[32], other_master[32];
    memset(master, 7, sizeof master);
    memset(other_master, 8, sizeof other_master);
    crypto_keys keys, other;
    assert_int_equal(crypto_keys_derive(master, "test", suite, &keys), HB_ERR_OK);
    assert_int_equal(crypto_keys_derive(other_master, "test", suite, &other), HB_ERR_OK);
    const char *plain = "13812345678";
    uint8_t box[64], out[64];
    size_t len = 0, out_len = 0;
    assert_int_equal(crypto_seal(&keys, plain, strlen(plain), "aad", 3, box, &len), HB_ERR_OK);
    assert_int_equal(len, crypto_box_len(suite, strlen(plain)));
    assert_true(len <= strlen(plain) + CRYPTO_BOX_OVERHEAD);
    assert_int_equal(box[0], suite);
    assert_null(memmem(box, len, plain, strlen(plain)));
    assert_int_equal(crypto_open(&keys, box, len, "aad", 3, out, &out_len), HB_ERR_OK);
    assert_int_equal(out_len, strlen(plain));
    assert_memory_equal(out, plain, strlen(plain));
    /* wrong key, wrong place, any flipped bit, truncation: it does not open */
    assert_int_equal(crypto_open(&other, box, len, "aad", 3, out, &out_len), HB_ERR_INVALID_ARGUMENT);
    assert_int_equal(crypto_open(&keys, box, len, "aae", 3, out, &out_len), HB_ERR_INVALID_ARGUMENT);
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            box[i] ^= (uint8_t)(1 << bit);
            assert_int_equal(crypto_open(&keys, box, len, "aad", 3, out, &out_len),
                             HB_ERR_INVALID_ARGUMENT);
            box[i] ^= (uint8_t)(1 << bit);
        }
    }
    assert_int_equal(crypto_open(&keys, box, 5, "aad", 3, out, &out_len), HB_ERR_INVALID_ARGUMENT);
    assert_int_equal(crypto_open(&keys, box, len - 1, "aad", 3, out, &out_len),
                     HB_ERR_INVALID_ARGUMENT);
    /* two seals of the same value differ (fresh nonces) */
    uint8_t box2[64];
    size_t len2 = 0;
    assert_int_equal(crypto_seal(&keys, plain, strlen(plain), "aad", 3, box2, &len2), HB_ERR_OK);
    assert_memory_not_equal(box, box2, len);
    /* a box of the other suite still opens: switching modes keeps old data readable */
    crypto_keys switched = keys;
    switched.seal_suite = suite == CRYPTO_SUITE_AES_GCM ? CRYPTO_SUITE_SM4_SM3 : CRYPTO_SUITE_AES_GCM;
    assert_int_equal(crypto_open(&switched, box, len, "aad", 3, out, &out_len), HB_ERR_OK);
    /* empty values seal too */
    assert_int_equal(crypto_seal(&keys, "", 0, "aad", 3, box, &len), HB_ERR_OK);
    assert_int_equal(crypto_open(&keys, box, len, "aad", 3, out, &out_len), HB_ERR_OK);
    assert_int_equal(out_len, 0);
}

static void test_seal_open(void **state)
{
    (void)state;
    seal_open_suite(CRYPTO_SUITE_AES_GCM);
    seal_open_suite(CRYPTO_SUITE_SM4_SM3);
    uint8_t key[32], derived1[32], derived2[32];
    memset(key, 7, sizeof key);
    assert_int_equal(crypto_derive(key, "a", derived1), HB_ERR_OK);
    assert_int_equal(crypto_derive(key, "b", derived2), HB_ERR_OK);
    assert_memory_not_equal(derived1, derived2, 32);
    assert_true(crypto_equal(derived1, derived1, 32));
    assert_false(crypto_equal(derived1, derived2, 32));
}

/* ../shared/vectors/README.md: SM3("abc") and one SM4 block (GB/T 32907 appendix A), through
 * the same OpenSSL implementations the national-crypto suite uses. */
static void test_national_vectors(void **state)
{
    (void)state;
    uint8_t digest[32];
    char hex[65];
    assert_int_equal(crypto_sm3("abc", 3, digest), HB_ERR_OK);
    crypto_hex(digest, 32, hex);
    assert_string_equal(hex, "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
    uint8_t key[16], block[16], out[32];
    assert_true(crypto_unhex("0123456789abcdeffedcba9876543210", 32, key, 16));
    assert_true(crypto_unhex("0123456789abcdeffedcba9876543210", 32, block, 16));
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, m = 0;
    assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_sm4_ecb(), NULL, key, NULL), 1);
    EVP_CIPHER_CTX_set_padding(ctx, 0);
    assert_int_equal(EVP_EncryptUpdate(ctx, out, &n, block, 16), 1);
    assert_int_equal(EVP_EncryptFinal_ex(ctx, out + n, &m), 1);
    EVP_CIPHER_CTX_free(ctx);
    crypto_hex(out, 16, hex);
    assert_string_equal(hex, "681edf34d206965e86b3e94f536e4246");
}

static void test_masks(void **state)
{
    (void)state;
    char out[128];
    mask_name("张三", out, sizeof out);
    assert_string_equal(out, "张*");
    mask_name("欧阳娜娜", out, sizeof out);
    assert_string_equal(out, "欧***");
    mask_name("Li", out, sizeof out);
    assert_string_equal(out, "L*");
    mask_name("张", out, sizeof out);
    assert_string_equal(out, "*");
    mask_phone("13812345678", out, sizeof out);
    assert_string_equal(out, "138****5678");
    mask_phone("12345", out, sizeof out);
    assert_string_equal(out, "*****");
    mask_phone("", out, sizeof out);
    assert_string_equal(out, "");
    mask_id_number("110101199003071234", out, sizeof out);
    assert_string_equal(out, "110101********1234");
    mask_id_number("11010119900307X", out, sizeof out);
    assert_string_equal(out, "110101*****307X");
    /* a small buffer truncates cleanly at a character boundary */
    mask_name("张三丰", out, 4);
    assert_string_equal(out, "张");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector),
        cmocka_unit_test(test_header_parse),
        cmocka_unit_test(test_seal_open),
        cmocka_unit_test(test_national_vectors),
        cmocka_unit_test(test_masks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
