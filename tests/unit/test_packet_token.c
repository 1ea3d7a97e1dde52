/* Unit tests of the red-packet tokens (core/packet_token), the base64url decoder they rest on
 * (crypto_unbase64url) and the scene presets (core/scene). */
#include "testutil.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#include "core/crypto.h"
#include "core/limits.h"
#include "core/packet_token.h"
#include "core/rng.h"
#include "core/scene.h"

#define RAW_LEN 34 /* version (1) || tag (16) || encrypted plaintext (17) */
#define SENTINEL_ID ((int64_t)-777)

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void master_key(uint8_t seed, uint8_t out[CRYPTO_KEY_LEN])
{
    for (int i = 0; i < CRYPTO_KEY_LEN; i++) out[i] = (uint8_t)(seed + 7 * i);
}

static packet_token_keys keys_from(uint8_t seed)
{
    uint8_t master[CRYPTO_KEY_LEN];
    master_key(seed, master);
    packet_token_keys k;
    memset(&k, 0xAA, sizeof k);
    assert_int_equal(packet_token_keys_derive(master, &k), HB_ERR_OK);
    return k;
}

static packet_token make(packet_token_kind kind, int64_t id, int64_t not_after)
{
    packet_token t = {.kind = kind, .packet_id = id, .not_after_ms = not_after};
    return t;
}

static void seal_ok(const packet_token_keys *k, packet_token t, char out[PACKET_TOKEN_TEXT_LEN + 1])
{
    memset(out, '#', PACKET_TOKEN_TEXT_LEN + 1);
    assert_int_equal(packet_token_seal(k, &t, out), HB_ERR_OK);
}

/* Open must refuse text with INVALID_ARGUMENT and leave *out untouched. */
static void expect_refused(const packet_token_keys *k, const char *text, size_t len,
                           const char *what)
{
    packet_token t = make(PACKET_TOKEN_SHARE, SENTINEL_ID, SENTINEL_ID);
    hb_err err = packet_token_open(k, text, len, &t);
    if (err != HB_ERR_INVALID_ARGUMENT) {
        fail_msg("%s: packet_token_open(\"%.*s\", %zu) = %s (id %lld), want INVALID_ARGUMENT",
                 what, (int)len, text, len, hb_err_name(err), (long long)t.packet_id);
    }
    assert_money_eq(t.packet_id, SENTINEL_ID);
    assert_money_eq(t.not_after_ms, SENTINEL_ID);
    assert_int_equal(t.kind, PACKET_TOKEN_SHARE);
}

static void decode_token(const char *text, uint8_t raw[RAW_LEN])
{
    size_t n = 0;
    assert_true(crypto_unbase64url(text, strlen(text), raw, RAW_LEN, &n));
    assert_int_equal(n, RAW_LEN);
}

/* ---- an independent implementation of the format in packet_token.h ------------------------ */

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (56 - 8 * i));
}

/* base64url without padding through OpenSSL's standard base64 encoder. */
static void reference_b64url(const uint8_t *data, size_t len, char *out)
{
    unsigned char std[128];
    assert_true(len <= 90);
    int n = EVP_EncodeBlock(std, data, (int)len);
    assert_true(n >= 0);
    size_t j = 0;
    for (int i = 0; i < n; i++) {
        char c = (char)std[i];
        if (c == '=') break;
        out[j++] = c == '+' ? '-' : c == '/' ? '_' : c;
    }
    out[j] = '\0';
}

/* The token for these fields, built from the documented layout with OpenSSL directly: any
 * version, kind, id and expiry, valid or not. A non-zero tag_mask is XORed into byte tag_at
 * of the tag before it is used as the counter block (so the token decrypts to the plaintext
 * but carries a tag that differs from its HMAC in that byte only). */
static void reference_token_tag(const packet_token_keys *k, uint8_t version, uint8_t kind,
                                uint64_t id, uint64_t not_after, size_t tag_at, uint8_t tag_mask,
                                char out[PACKET_TOKEN_TEXT_LEN + 1])
{
    uint8_t plain[17];
    plain[0] = kind;
    put_be64(plain + 1, id);
    put_be64(plain + 9, not_after);
    uint8_t mac_in[18];
    mac_in[0] = version;
    memcpy(mac_in + 1, plain, sizeof plain);
    uint8_t full[32];
    unsigned int full_len = 0;
    assert_non_null(HMAC(EVP_sha256(), k->mac, (int)sizeof k->mac, mac_in, sizeof mac_in, full,
                         &full_len));
    assert_int_equal(full_len, 32);
    assert_true(tag_at < 16);
    full[tag_at] ^= tag_mask;
    uint8_t raw[RAW_LEN];
    raw[0] = version;
    memcpy(raw + 1, full, 16);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    assert_non_null(ctx);
    int n = 0, m = 0;
    assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_aes_256_ctr(), NULL, k->enc, full), 1);
    assert_int_equal(EVP_EncryptUpdate(ctx, raw + 17, &n, plain, (int)sizeof plain), 1);
    assert_int_equal(EVP_EncryptFinal_ex(ctx, raw + 17 + n, &m), 1);
    assert_int_equal(n + m, 17);
    EVP_CIPHER_CTX_free(ctx);
    reference_b64url(raw, sizeof raw, out);
    assert_int_equal(strlen(out), PACKET_TOKEN_TEXT_LEN);
}

static void reference_token(const packet_token_keys *k, uint8_t version, uint8_t kind,
                            uint64_t id, uint64_t not_after, char out[PACKET_TOKEN_TEXT_LEN + 1])
{
    reference_token_tag(k, version, kind, id, not_after, 0, 0, out);
}

/* ---- packet tokens --------------------------------------------------------------------- */

static void test_keys_derive(void **state)
{
    (void)state;
    uint8_t master[CRYPTO_KEY_LEN];
    master_key(1, master);
    packet_token_keys k = keys_from(1);
    uint8_t enc[CRYPTO_KEY_LEN], mac[CRYPTO_KEY_LEN];
    assert_int_equal(crypto_derive(master, "hongbao packet token aes-256-ctr v1", enc), HB_ERR_OK);
    assert_int_equal(crypto_derive(master, "hongbao packet token hmac v1", mac), HB_ERR_OK);
    assert_memory_equal(k.enc, enc, CRYPTO_KEY_LEN);
    assert_memory_equal(k.mac, mac, CRYPTO_KEY_LEN);
    assert_memory_not_equal(k.enc, k.mac, CRYPTO_KEY_LEN);
    assert_memory_not_equal(k.enc, master, CRYPTO_KEY_LEN);
    assert_memory_not_equal(k.mac, master, CRYPTO_KEY_LEN);
    packet_token_keys other = keys_from(2);
    assert_memory_not_equal(k.enc, other.enc, CRYPTO_KEY_LEN);
    assert_memory_not_equal(k.mac, other.mac, CRYPTO_KEY_LEN);
}

static void round_trip(const packet_token_keys *k, packet_token_kind kind, int64_t id,
                       int64_t not_after)
{
    char text[PACKET_TOKEN_TEXT_LEN + 1];
    seal_ok(k, make(kind, id, not_after), text);
    assert_int_equal(strlen(text), PACKET_TOKEN_TEXT_LEN);
    assert_int_equal(strspn(text, b64url_alphabet), PACKET_TOKEN_TEXT_LEN);
    /* exactly the documented construction */
    char expected[PACKET_TOKEN_TEXT_LEN + 1];
    reference_token(k, 1, (uint8_t)kind, (uint64_t)id, (uint64_t)not_after, expected);
    assert_string_equal(text, expected);
    packet_token back = make(PACKET_TOKEN_SHARE + 5, SENTINEL_ID, SENTINEL_ID);
    assert_int_equal(packet_token_open(k, text, strlen(text), &back), HB_ERR_OK);
    assert_int_equal(back.kind, kind);
    assert_money_eq(back.packet_id, id);
    assert_money_eq(back.not_after_ms, not_after);
}

static void test_round_trip(void **state)
{
    (void)state;
    packet_token_keys k = keys_from(1);
    static const int64_t ids[] = {1, 2, 255, 256, 65535, 1000000, (int64_t)1 << 32,
                                  INT64_MAX - 1, INT64_MAX};
    static const int64_t expiries[] = {0, 1, 1767225600000LL, 4102444800000LL, INT64_MAX - 1,
                                       INT64_MAX};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        for (size_t j = 0; j < sizeof expiries / sizeof expiries[0]; j++) {
            round_trip(&k, PACKET_TOKEN_CLAIM, ids[i], expiries[j]);
            round_trip(&k, PACKET_TOKEN_SHARE, ids[i], expiries[j]);
        }
    }
    hb_rng rng;
    rng_seeded_init(&rng, 20261127);
    for (int i = 0; i < 2000; i++) {
        int64_t id = 1 + (int64_t)rng_next_below(&rng, (uint64_t)INT64_MAX);
        int64_t not_after = (int64_t)rng_next_below(&rng, (uint64_t)INT64_MAX);
        round_trip(&k, (i & 1) ? PACKET_TOKEN_SHARE : PACKET_TOKEN_CLAIM, id, not_after);
    }
}

static void test_known_answer(void **state)
{
    (void)state;
    /* Pinned: a change of format, key derivation or encoding would break every link issued.
     * The value was checked against an independent implementation (Python's cryptography
     * package: HKDF-SHA256 with salt "hongbao", HMAC-SHA256, AES-256-CTR). */
    packet_token_keys k = keys_from(1);
    char text[PACKET_TOKEN_TEXT_LEN + 1];
    seal_ok(&k, make(PACKET_TOKEN_CLAIM, 42, 1767225600000LL), text);
    assert_string_equal(text, "AdyNsS-7N41NFghylCc8NspYl7__RXI4KAI1dCB4IHbYUQ");
}

static void test_deterministic_and_distinct(void **state)
{
    (void)state;
    packet_token_keys k = keys_from(1);
    char a[PACKET_TOKEN_TEXT_LEN + 1], b[PACKET_TOKEN_TEXT_LEN + 1];
    seal_ok(&k, make(PACKET_TOKEN_CLAIM, 12345, 1767225600000LL), a);
    seal_ok(&k, make(PACKET_TOKEN_CLAIM, 12345, 1767225600000LL), b);
    assert_string_equal(a, b);
    packet_token_keys again = keys_from(1); /* the same master key derives the same keys */
    seal_ok(&again, make(PACKET_TOKEN_CLAIM, 12345, 1767225600000LL), b);
    assert_string_equal(a, b);
    /* each field changes the text */
    seal_ok(&k, make(PACKET_TOKEN_SHARE, 12345, 1767225600000LL), b);
    assert_string_not_equal(a, b);
    seal_ok(&k, make(PACKET_TOKEN_CLAIM, 12346, 1767225600000LL), b);
    assert_string_not_equal(a, b);
    seal_ok(&k, make(PACKET_TOKEN_CLAIM, 12345, 1767225600001LL), b);
    assert_string_not_equal(a, b);
    packet_token_keys other = keys_from(2);
    seal_ok(&other, make(PACKET_TOKEN_CLAIM, 12345, 1767225600000LL), b);
    assert_string_not_equal(a, b);
}

static void test_other_keys_refused(void **state)
{
    (void)state;
    packet_token_keys k = keys_from(1);
    packet_token_keys other = keys_from(2);
    packet_token_keys mixed_enc = k, mixed_mac = k;
    memcpy(mixed_enc.enc, other.enc, CRYPTO_KEY_LEN); /* right mac key, wrong cipher key */
    memcpy(mixed_mac.mac, other.mac, CRYPTO_KEY_LEN); /* right cipher key, wrong mac key */
    hb_rng rng;
    rng_seeded_init(&rng, 7);
    for (int i = 0; i < 200; i++) {
        int64_t id = 1 + (int64_t)rng_next_below(&rng, 1000000000);
        packet_token_kind kind = (i & 1) ? PACKET_TOKEN_SHARE : PACKET_TOKEN_CLAIM;
        char text[PACKET_TOKEN_TEXT_LEN + 1];
        seal_ok(&k, make(kind, id, 1767225600000LL + i), text);
        expect_refused(&other, text, strlen(text), "other keys");
        expect_refused(&mixed_enc, text, strlen(text), "other cipher key");
        expect_refused(&mixed_mac, text, strlen(text), "other mac key");
        seal_ok(&other, make(kind, id, 1767225600000LL + i), text);
        expect_refused(&k, text, strlen(text), "sealed under other keys");
    }
}

static void test_bit_flips_refused(void **state)
{
    (void)state;
    packet_token_keys k = keys_from(1);
    static const int64_t ids[] = {1, 77, INT64_MAX};
    for (size_t c = 0; c < sizeof ids / sizeof ids[0]; c++) {
        char text[PACKET_TOKEN_TEXT_LEN + 1];
        seal_ok(&k, make(c == 1 ? PACKET_TOKEN_SHARE : PACKET_TOKEN_CLAIM, ids[c], 1767225600000LL),
                text);
        uint8_t raw[RAW_LEN];
        decode_token(text, raw);
        for (size_t bit = 0; bit < 8 * RAW_LEN; bit++) {
            uint8_t flipped[RAW_LEN];
            memcpy(flipped, raw, RAW_LEN);
            flipped[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            char again[PACKET_TOKEN_TEXT_LEN + 1];
            crypto_base64url(flipped, RAW_LEN, again);
            assert_int_equal(strlen(again), PACKET_TOKEN_TEXT_LEN);
            assert_string_not_equal(again, text);
            expect_refused(&k, again, PACKET_TOKEN_TEXT_LEN, "one bit flipped");
        }
    }
}

static void test_tag_compared_in_full(void **state)
{
    (void)state;
    /* A token that decrypts to its plaintext under its own tag, where that tag differs from
     * the plaintext's HMAC in one bit of one byte: refused whichever byte, so all 16 bytes of
     * the tag are compared (a flipped bit in a sealed token changes the plaintext too, so the
     * bit-flip test alone cannot tell). */
    packet_token_keys k = keys_from(1);
    char text[PACKET_TOKEN_TEXT_LEN + 1];
    for (size_t at = 0; at < 16; at++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            reference_token_tag(&k, 1, PACKET_TOKEN_CLAIM, 99, 1767225600000ULL, at,
                                (uint8_t)(1u << bit), text);
            expect_refused(&k, text, PACKET_TOKEN_TEXT_LEN, "tag differing in one bit");
        }
    }
    reference_token_tag(&k, 1, PACKET_TOKEN_CLAIM, 99, 1767225600000ULL, 0, 0, text);
    packet_token t = make(PACKET_TOKEN_SHARE, SENTINEL_ID, SENTINEL_ID);
    assert_int_equal(packet_token_open(&k, text, PACKET_TOKEN_TEXT_LEN, &t), HB_ERR_OK);
    assert_money_eq(t.packet_id, 99);
}

static void test_substitutions_refused(void **state)
{
    (void)state;
    packet_token_keys k = keys_from(1);
    char text[PACKET_TOKEN_TEXT_LEN + 1];
    seal_ok(&k, make(PACKET_TOKEN_CLAIM, 987654321, 1767225600000LL), text);
    int tried = 0;
    for (size_t i = 0; i < PACKET_TOKEN_TEXT_LEN; i++) {
        for (size_t a = 0; a < 64; a++) {
            if (b64url_alphabet[a] == text[i]) continue;
            char bad[PACKET_TOKEN_TEXT_LEN + 1];
            memcpy(bad, text, sizeof bad);
            bad[i] = b64url_alphabet[a];
            expect_refused(&k, bad, PACKET_TOKEN_TEXT_LEN, "one character substituted");
            tried++;
        }
    }
    assert_int_equal(tried, PACKET_TOKEN_TEXT_LEN * 63);
}

static void test_malformed_refused(void **state)
{
    (void)state;
    packet_token_keys k = keys_from(1);
    char text[PACKET_TOKEN_TEXT_LEN + 1];
    seal_ok(&k, make(PACKET_TOKEN_CLAIM, 31337, 1767225600000LL), text);
    packet_token ok = make(PACKET_TOKEN_SHARE, SENTINEL_ID, SENTINEL_ID);
    assert_int_equal(packet_token_open(&k, text, PACKET_TOKEN_TEXT_LEN, &ok), HB_ERR_OK);
    assert_money_eq(ok.packet_id, 31337);

    /* wrong lengths: 0, 45 (a prefix), 47 (one more valid character, and the same with text
     * that follows in memory), 44 and 48 (lengths an encoder produces) */
    char longer[PACKET_TOKEN_TEXT_LEN + 8];
    memcpy(longer, text, PACKET_TOKEN_TEXT_LEN);
    memcpy(longer + PACKET_TOKEN_TEXT_LEN, "AAAAAAA", 8);
    expect_refused(&k, "", 0, "empty");
    expect_refused(&k, text, 0, "length 0");
    expect_refused(&k, text, PACKET_TOKEN_TEXT_LEN - 1, "length 45");
    expect_refused(&k, longer, PACKET_TOKEN_TEXT_LEN + 1, "length 47");
    expect_refused(&k, text, PACKET_TOKEN_TEXT_LEN - 2, "length 44");
    expect_refused(&k, longer, PACKET_TOKEN_TEXT_LEN + 2, "length 48");
    expect_refused(&k, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", PACKET_TOKEN_TEXT_LEN,
                   "all zero");

    /* characters outside the alphabet, at every position */
    static const char not_alphabet[] = {'=', '+', '/', ' ', '.', '~', '\n', '\0', (char)0x80,
                                        (char)0xff};
    for (size_t i = 0; i < PACKET_TOKEN_TEXT_LEN; i++) {
        for (size_t c = 0; c < sizeof not_alphabet; c++) {
            char bad[PACKET_TOKEN_TEXT_LEN + 1];
            memcpy(bad, text, sizeof bad);
            bad[i] = not_alphabet[c];
            expect_refused(&k, bad, PACKET_TOKEN_TEXT_LEN, "character outside the alphabet");
        }
    }
    uint8_t raw[RAW_LEN];
    decode_token(text, raw);

    /* another version byte: altered in place, and sealed properly under that version */
    for (unsigned v = 0; v < 256; v++) {
        if (v == 1) continue;
        uint8_t other[RAW_LEN];
        memcpy(other, raw, RAW_LEN);
        other[0] = (uint8_t)v;
        char again[PACKET_TOKEN_TEXT_LEN + 1];
        crypto_base64url(other, RAW_LEN, again);
        expect_refused(&k, again, PACKET_TOKEN_TEXT_LEN, "version byte changed");
        reference_token(&k, (uint8_t)v, PACKET_TOKEN_CLAIM, 31337, 1767225600000ULL, again);
        expect_refused(&k, again, PACKET_TOKEN_TEXT_LEN, "authentic token of another version");
    }
    /* the reference construction is right: under version 1 it opens */
    char again[PACKET_TOKEN_TEXT_LEN + 1];
    reference_token(&k, 1, PACKET_TOKEN_CLAIM, 31337, 1767225600000ULL, again);
    assert_string_equal(again, text);
}

static void test_authentic_but_invalid_fields_refused(void **state)
{
    (void)state;
    /* Tokens that authenticate (made with the keys) but hold what seal never writes. */
    packet_token_keys k = keys_from(1);
    char text[PACKET_TOKEN_TEXT_LEN + 1];
    static const uint8_t kinds[] = {0, 3, 4, 0x7f, 0x80, 0xff};
    for (size_t i = 0; i < sizeof kinds; i++) {
        reference_token(&k, 1, kinds[i], 5, 1767225600000ULL, text);
        expect_refused(&k, text, PACKET_TOKEN_TEXT_LEN, "unknown kind");
    }
    static const uint64_t bad_ids[] = {0, (uint64_t)-1, (uint64_t)INT64_MIN, (uint64_t)-5};
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
        reference_token(&k, 1, PACKET_TOKEN_CLAIM, bad_ids[i], 1767225600000ULL, text);
        expect_refused(&k, text, PACKET_TOKEN_TEXT_LEN, "packet id not positive");
    }
    static const uint64_t bad_expiries[] = {(uint64_t)-1, (uint64_t)INT64_MIN};
    for (size_t i = 0; i < sizeof bad_expiries / sizeof bad_expiries[0]; i++) {
        reference_token(&k, 1, PACKET_TOKEN_SHARE, 5, bad_expiries[i], text);
        expect_refused(&k, text, PACKET_TOKEN_TEXT_LEN, "negative expiry");
    }
    /* and the same construction with valid fields opens */
    reference_token(&k, 1, PACKET_TOKEN_SHARE, 5, 0, text);
    packet_token t = make(PACKET_TOKEN_CLAIM, SENTINEL_ID, SENTINEL_ID);
    assert_int_equal(packet_token_open(&k, text, PACKET_TOKEN_TEXT_LEN, &t), HB_ERR_OK);
    assert_int_equal(t.kind, PACKET_TOKEN_SHARE);
    assert_money_eq(t.packet_id, 5);
    assert_money_eq(t.not_after_ms, 0);
}

static void test_id_binding(void **state)
{
    (void)state;
    /* A token names its packet and no other: ids 1..N (and neighbours of the extremes), each
     * opens to its own id, and no two share a text. */
    packet_token_keys k = keys_from(3);
    enum { N = 300 };
    static char texts[2 * N][PACKET_TOKEN_TEXT_LEN + 1];
    int64_t ids[2 * N];
    for (int i = 0; i < N; i++) {
        ids[i] = i + 1;
        ids[N + i] = INT64_MAX - i;
    }
    for (int i = 0; i < 2 * N; i++) {
        seal_ok(&k, make(PACKET_TOKEN_CLAIM, ids[i], 1767225600000LL), texts[i]);
        packet_token t = make(PACKET_TOKEN_SHARE, SENTINEL_ID, SENTINEL_ID);
        assert_int_equal(packet_token_open(&k, texts[i], PACKET_TOKEN_TEXT_LEN, &t), HB_ERR_OK);
        assert_money_eq(t.packet_id, ids[i]);
        assert_int_equal(t.kind, PACKET_TOKEN_CLAIM);
    }
    for (int i = 0; i < 2 * N; i++) {
        for (int j = i + 1; j < 2 * N; j++) assert_string_not_equal(texts[i], texts[j]);
    }
    /* The claim token of a packet is not its share token. */
    char share[PACKET_TOKEN_TEXT_LEN + 1];
    seal_ok(&k, make(PACKET_TOKEN_SHARE, 1, 1767225600000LL), share);
    assert_string_not_equal(share, texts[0]);
    /* Splicing: the tag of one token with the ciphertext of another never opens. */
    uint8_t a[RAW_LEN], b[RAW_LEN];
    for (int i = 0; i + 1 < 2 * N; i += 7) {
        decode_token(texts[i], a);
        decode_token(texts[i + 1], b);
        memcpy(a + 17, b + 17, RAW_LEN - 17);
        char spliced[PACKET_TOKEN_TEXT_LEN + 1];
        crypto_base64url(a, RAW_LEN, spliced);
        expect_refused(&k, spliced, PACKET_TOKEN_TEXT_LEN, "tag and ciphertext spliced");
    }
}

/* ---- crypto_unbase64url ---------------------------------------------------------------- */

static size_t encoded_len(size_t len)
{
    return len / 3 * 4 + (len % 3 == 0 ? 0 : len % 3 + 1);
}

static void test_unbase64url_round_trip(void **state)
{
    (void)state;
    hb_rng rng;
    rng_seeded_init(&rng, 64);
    for (int round = 0; round < 50; round++) {
        for (size_t len = 0; len <= 64; len++) {
            uint8_t data[64];
            for (size_t i = 0; i < len; i++) data[i] = (uint8_t)rng_next_below(&rng, 256);
            if (round == 1) memset(data, 0xff, len);
            if (round == 2) memset(data, 0, len);
            char text[100], expected[100];
            memset(text, '#', sizeof text);
            crypto_base64url(data, len, text);
            assert_int_equal(strlen(text), encoded_len(len));
            reference_b64url(data, len, expected);
            assert_string_equal(text, expected);
            /* exact room, with a canary behind it */
            uint8_t out[64 + 8];
            memset(out, 0x5c, sizeof out);
            size_t n = 12345;
            assert_true(crypto_unbase64url(text, strlen(text), out, len, &n));
            assert_int_equal(n, len);
            assert_memory_equal(out, data, len);
            for (size_t i = len; i < sizeof out; i++) assert_int_equal(out[i], 0x5c);
            /* more room than needed: the same */
            n = 12345;
            assert_true(crypto_unbase64url(text, strlen(text), out, sizeof out, &n));
            assert_int_equal(n, len);
            assert_memory_equal(out, data, len);
            /* one byte too little room */
            if (len > 0) {
                memset(out, 0x5c, sizeof out);
                assert_false(crypto_unbase64url(text, strlen(text), out, len - 1, &n));
                for (size_t i = len - 1; i < sizeof out; i++) assert_int_equal(out[i], 0x5c);
            }
        }
    }
    size_t n = 99;
    uint8_t none[1] = {0x5c};
    assert_true(crypto_unbase64url("", 0, none, 0, &n));
    assert_int_equal(n, 0);
    assert_int_equal(none[0], 0x5c);
    /* exactly len characters are read: the rest of the string is not */
    uint8_t out[8];
    assert_true(crypto_unbase64url("AQID!!!!", 4, out, sizeof out, &n));
    assert_int_equal(n, 3);
    assert_memory_equal(out, "\x01\x02\x03", 3);
}

static void test_unbase64url_rejects(void **state)
{
    (void)state;
    uint8_t out[128];
    size_t n = 0;
    /* lengths no encoder produces */
    static const char *const len1[] = {"A", "AAAAA", "QUJDQ", "AAAAAAAAA"};
    for (size_t i = 0; i < sizeof len1 / sizeof len1[0]; i++) {
        assert_false(crypto_unbase64url(len1[i], strlen(len1[i]), out, sizeof out, &n));
    }
    char many[4 * 30 + 2];
    memset(many, 'A', sizeof many);
    for (size_t len = 1; len < sizeof many; len += 4) {
        assert_false(crypto_unbase64url(many, len, out, sizeof out, &n));
        if (len + 1 < sizeof many) assert_true(crypto_unbase64url(many, len + 1, out, sizeof out, &n));
    }
    /* trailing bits: every two- and three-character tail, decoded iff its spare bits are 0 */
    for (size_t a = 0; a < 64; a++) {
        for (size_t b = 0; b < 64; b++) {
            char t2[3] = {b64url_alphabet[a], b64url_alphabet[b], '\0'};
            bool ok = crypto_unbase64url(t2, 2, out, sizeof out, &n);
            assert_int_equal(ok, (b & 15) == 0);
            if (ok) {
                assert_int_equal(n, 1);
                assert_int_equal(out[0], (uint8_t)(a << 2 | b >> 4));
            }
            for (size_t c = 0; c < 64; c++) {
                char t3[4] = {b64url_alphabet[a], b64url_alphabet[b], b64url_alphabet[c], '\0'};
                ok = crypto_unbase64url(t3, 3, out, sizeof out, &n);
                assert_int_equal(ok, (c & 3) == 0);
                if (ok) {
                    assert_int_equal(n, 2);
                    assert_int_equal(out[0], (uint8_t)(a << 2 | b >> 4));
                    assert_int_equal(out[1], (uint8_t)((b & 15) << 4 | c >> 2));
                }
            }
        }
    }
    /* the same after full groups */
    assert_true(crypto_unbase64url("AQIDBA", 6, out, sizeof out, &n));
    assert_int_equal(n, 4);
    assert_false(crypto_unbase64url("AQIDBB", 6, out, sizeof out, &n));
    assert_true(crypto_unbase64url("AQIDBAU", 7, out, sizeof out, &n));
    assert_int_equal(n, 5);
    assert_false(crypto_unbase64url("AQIDBAV", 7, out, sizeof out, &n));
    /* characters outside the alphabet, at each position of a valid text */
    const char *valid = "AQIDBAUGBwgJCgsMDQ4PEA";
    size_t valid_len = strlen(valid);
    assert_true(crypto_unbase64url(valid, valid_len, out, sizeof out, &n));
    assert_int_equal(n, 16);
    for (int c = 0; c < 256; c++) {
        if (c != 0 && strchr(b64url_alphabet, c) != NULL) continue;
        for (size_t i = 0; i < valid_len; i++) {
            char bad[32];
            memcpy(bad, valid, valid_len + 1);
            bad[i] = (char)c;
            if (crypto_unbase64url(bad, valid_len, out, sizeof out, &n)) {
                fail_msg("character 0x%02x at %zu accepted", c, i);
            }
        }
    }
    /* too little room: refused, and nothing written past the room given */
    struct {
        const char *text;
        size_t room;
    } small[] = {{valid, 15}, {valid, 0}, {"AA", 0}, {"AAA", 1}, {"AAAA", 2}, {"AAAAAA", 3}};
    for (size_t s = 0; s < sizeof small / sizeof small[0]; s++) {
        memset(out, 0x5c, sizeof out);
        assert_false(crypto_unbase64url(small[s].text, strlen(small[s].text), out, small[s].room,
                                        &n));
        for (size_t i = small[s].room; i < sizeof out; i++) assert_int_equal(out[i], 0x5c);
    }
}

/* ---- scenes ---------------------------------------------------------------------------- */

static void test_scenes(void **state)
{
    (void)state;
    const scene *w = scene_find("wedding");
    assert_non_null(w);
    assert_string_equal(w->name, "wedding");
    assert_money_eq(w->suggest_min, 20000);
    assert_money_eq(w->suggest_max, 50000);
    static const char *const unknown[] = {"", "Wedding", "WEDDING", "weddings", "weddin",
                                          " wedding", "wedding ", "funeral", "婚礼"};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        if (scene_find(unknown[i]) != NULL) fail_msg("scene_find(\"%s\") found one", unknown[i]);
    }
    size_t count = scene_count();
    assert_true(count >= 1);
    assert_null(scene_at(count));
    assert_null(scene_at(count + 100));
    bool found_wedding = false;
    for (size_t i = 0; i < count; i++) {
        const scene *s = scene_at(i);
        assert_non_null(s);
        assert_non_null(s->name);
        assert_non_null(s->title);
        assert_non_null(s->wishing);
        assert_true(s->name[0] != '\0');
        assert_true(s->title[0] != '\0');
        assert_true(s->wishing[0] != '\0');
        assert_true(strlen(s->name) <= LIMIT_SCENE_LEN);
        assert_true(strlen(s->wishing) <= LIMIT_WISHING_LEN);
        assert_true(s->suggest_min <= s->suggest_max);
        assert_true(s->suggest_count >= 1);
        assert_true(s->suggest_min >= s->suggest_count); /* at least 1 fen a share */
        assert_true(s->suggest_max <= LIMIT_AMOUNT_MAX_FEN);
        /* found by its name, and names are unique */
        assert_ptr_equal(scene_find(s->name), s);
        if (s == w) found_wedding = true;
    }
    assert_true(found_wedding);
    assert_true(strlen(SCENE_DEFAULT_WISHING) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_derive),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_known_answer),
        cmocka_unit_test(test_deterministic_and_distinct),
        cmocka_unit_test(test_other_keys_refused),
        cmocka_unit_test(test_bit_flips_refused),
        cmocka_unit_test(test_tag_compared_in_full),
        cmocka_unit_test(test_substitutions_refused),
        cmocka_unit_test(test_malformed_refused),
        cmocka_unit_test(test_authentic_but_invalid_fields_refused),
        cmocka_unit_test(test_id_binding),
        cmocka_unit_test(test_unbase64url_round_trip),
        cmocka_unit_test(test_unbase64url_rejects),
        cmocka_unit_test(test_scenes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
