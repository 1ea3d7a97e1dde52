#include "core/crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#define GCM_NONCE_LEN 12
#define SM4_IV_LEN 16

size_t crypto_box_len(crypto_suite suite, size_t len)
{
    return (size_t)1 + (suite == CRYPTO_SUITE_SM4_SM3 ? (size_t)SM4_IV_LEN : (size_t)GCM_NONCE_LEN) +
           len + CRYPTO_TAG_LEN;
}

size_t crypto_plain_len(const uint8_t *box, size_t box_len)
{
    if (box_len < 1 || (box[0] != CRYPTO_SUITE_AES_GCM && box[0] != CRYPTO_SUITE_SM4_SM3)) {
        return SIZE_MAX;
    }
    size_t overhead = crypto_box_len((crypto_suite)box[0], 0);
    return box_len < overhead ? SIZE_MAX : box_len - overhead;
}

hb_err crypto_keys_derive(const uint8_t master[CRYPTO_KEY_LEN], const char *purpose,
                          crypto_suite seal_suite, crypto_keys *out)
{
    char label[96];
    uint8_t sm4_full[CRYPTO_KEY_LEN] = {0}; /* copied out even when a derivation failed */
    snprintf(label, sizeof label, "%s aes-256-gcm", purpose);
    hb_err err = crypto_derive(master, label, out->aes);
    snprintf(label, sizeof label, "%s sm4-ctr", purpose);
    if (err == HB_ERR_OK) err = crypto_derive(master, label, sm4_full);
    snprintf(label, sizeof label, "%s hmac-sm3", purpose);
    if (err == HB_ERR_OK) err = crypto_derive(master, label, out->sm3_mac);
    memcpy(out->sm4, sm4_full, sizeof out->sm4);
    OPENSSL_cleanse(sm4_full, sizeof sm4_full);
    out->seal_suite = seal_suite;
    return err;
}

/* The SM4 suite's tag: HMAC-SM3 over len(aad) || aad || iv || ciphertext, first 16 bytes. */
static hb_err sm3_tag(const crypto_keys *keys, const void *aad, size_t aad_len,
                      const uint8_t *iv_and_cipher, size_t n, uint8_t tag[CRYPTO_TAG_LEN])
{
    uint8_t len_be[8];
    for (int i = 0; i < 8; i++) len_be[i] = (uint8_t)((uint64_t)aad_len >> (56 - 8 * i));
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    char digest[] = "SM3";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    uint8_t full[64];
    size_t full_len = 0;
    bool ok = ctx != NULL && EVP_MAC_init(ctx, keys->sm3_mac, sizeof keys->sm3_mac, params) == 1 &&
              EVP_MAC_update(ctx, len_be, sizeof len_be) == 1 &&
              (aad_len == 0 || EVP_MAC_update(ctx, aad, aad_len) == 1) &&
              EVP_MAC_update(ctx, iv_and_cipher, n) == 1 &&
              EVP_MAC_final(ctx, full, &full_len, sizeof full) == 1 && full_len >= CRYPTO_TAG_LEN;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    if (!ok) return HB_ERR_UNAVAILABLE;
    memcpy(tag, full, CRYPTO_TAG_LEN);
    return HB_ERR_OK;
}

static hb_err sm4_ctr(const uint8_t key[16], const uint8_t iv[SM4_IV_LEN], const uint8_t *in,
                      size_t len, uint8_t *out)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL) return HB_ERR_UNAVAILABLE;
    int n = 0;
    bool ok = EVP_EncryptInit_ex(ctx, EVP_sm4_ctr(), NULL, key, iv) == 1 &&
              (len == 0 || EVP_EncryptUpdate(ctx, out, &n, in, (int)len) == 1) &&
              EVP_EncryptFinal_ex(ctx, out + n, &n) == 1;
    EVP_CIPHER_CTX_free(ctx);
    return ok ? HB_ERR_OK : HB_ERR_UNAVAILABLE;
}

static hb_err seal_gcm(const uint8_t key[CRYPTO_KEY_LEN], const void *plain, size_t len,
                       const void *aad, size_t aad_len, uint8_t *box)
{
    uint8_t *nonce = box + 1;
    if (RAND_bytes(nonce, GCM_NONCE_LEN) != 1) return HB_ERR_UNAVAILABLE;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL) return HB_ERR_UNAVAILABLE;
    hb_err err = HB_ERR_UNAVAILABLE;
    int n = 0;
    uint8_t *out = nonce + GCM_NONCE_LEN;
    if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) != 1) goto done;
    if (aad_len > 0 && EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1) goto done;
    if (len > 0 && EVP_EncryptUpdate(ctx, out, &n, plain, (int)len) != 1) goto done;
    if (EVP_EncryptFinal_ex(ctx, out + len, &n) != 1) goto done;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, CRYPTO_TAG_LEN, out + len) != 1) goto done;
    err = HB_ERR_OK;
done:
    EVP_CIPHER_CTX_free(ctx);
    return err;
}

static hb_err open_gcm(const uint8_t key[CRYPTO_KEY_LEN], const uint8_t *box, size_t len,
                       const void *aad, size_t aad_len, uint8_t *plain)
{
    const uint8_t *nonce = box + 1;
    const uint8_t *cipher = nonce + GCM_NONCE_LEN;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL) return HB_ERR_UNAVAILABLE;
    hb_err err = HB_ERR_INVALID_ARGUMENT;
    int n = 0;
    uint8_t tag[CRYPTO_TAG_LEN];
    memcpy(tag, cipher + len, CRYPTO_TAG_LEN);
    if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) != 1) goto done;
    if (aad_len > 0 && EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1) goto done;
    if (len > 0 && EVP_DecryptUpdate(ctx, plain, &n, cipher, (int)len) != 1) goto done;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, CRYPTO_TAG_LEN, tag) != 1) goto done;
    if (EVP_DecryptFinal_ex(ctx, plain + len, &n) != 1) {
        OPENSSL_cleanse(plain, len);
        goto done;
    }
    err = HB_ERR_OK;
done:
    EVP_CIPHER_CTX_free(ctx);
    return err;
}

hb_err crypto_seal(const crypto_keys *keys, const void *plain, size_t len, const void *aad,
                   size_t aad_len, uint8_t *box, size_t *box_len)
{
    ASSERT(len <= INT32_MAX && aad_len <= INT32_MAX);
    crypto_suite suite = keys->seal_suite;
    ASSERT(suite == CRYPTO_SUITE_AES_GCM || suite == CRYPTO_SUITE_SM4_SM3);
    box[0] = (uint8_t)suite;
    *box_len = crypto_box_len(suite, len);
    if (suite == CRYPTO_SUITE_AES_GCM) return seal_gcm(keys->aes, plain, len, aad, aad_len, box);
    uint8_t *iv = box + 1;
    if (RAND_bytes(iv, SM4_IV_LEN) != 1) return HB_ERR_UNAVAILABLE;
    hb_err err = sm4_ctr(keys->sm4, iv, plain, len, iv + SM4_IV_LEN);
    if (err != HB_ERR_OK) return err;
    return sm3_tag(keys, aad, aad_len, iv, SM4_IV_LEN + len, iv + SM4_IV_LEN + len);
}

hb_err crypto_open(const crypto_keys *keys, const uint8_t *box, size_t box_len, const void *aad,
                   size_t aad_len, uint8_t *plain, size_t *plain_len)
{
    if (box_len < 1 || box_len > INT32_MAX) return HB_ERR_INVALID_ARGUMENT;
    crypto_suite suite = (crypto_suite)box[0];
    if (suite != CRYPTO_SUITE_AES_GCM && suite != CRYPTO_SUITE_SM4_SM3) {
        return HB_ERR_INVALID_ARGUMENT;
    }
    size_t overhead = crypto_box_len(suite, 0);
    if (box_len < overhead) return HB_ERR_INVALID_ARGUMENT;
    size_t len = box_len - overhead;
    *plain_len = len;
    if (suite == CRYPTO_SUITE_AES_GCM) return open_gcm(keys->aes, box, len, aad, aad_len, plain);
    const uint8_t *iv = box + 1;
    uint8_t tag[CRYPTO_TAG_LEN];
    hb_err err = sm3_tag(keys, aad, aad_len, iv, SM4_IV_LEN + len, tag);
    if (err != HB_ERR_OK) return err;
    if (!crypto_equal(tag, iv + SM4_IV_LEN + len, CRYPTO_TAG_LEN)) return HB_ERR_INVALID_ARGUMENT;
    return sm4_ctr(keys->sm4, iv, iv + SM4_IV_LEN, len, plain);
}

hb_err crypto_sm3(const void *data, size_t len, uint8_t out[32])
{
    unsigned int n = 0;
    if (EVP_Digest(data, len, out, &n, EVP_sm3(), NULL) != 1 || n != 32) return HB_ERR_UNAVAILABLE;
    return HB_ERR_OK;
}

hb_err crypto_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                          uint8_t out[32])
{
    unsigned int out_len = 0;
    ASSERT(key_len <= INT32_MAX);
    if (HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &out_len) == NULL ||
        out_len != 32) {
        return HB_ERR_UNAVAILABLE;
    }
    return HB_ERR_OK;
}

hb_err crypto_derive(const uint8_t master[CRYPTO_KEY_LEN], const char *purpose,
                     uint8_t out[CRYPTO_KEY_LEN])
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    if (kdf == NULL) return HB_ERR_UNAVAILABLE;
    EVP_KDF_CTX *ctx = EVP_KDF_CTX_new(kdf);
    EVP_KDF_free(kdf);
    if (ctx == NULL) return HB_ERR_UNAVAILABLE;
    char digest[] = "SHA256";
    char salt[] = "hongbao";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)(uintptr_t)master,
                                          CRYPTO_KEY_LEN),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt, strlen(salt)),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)(uintptr_t)purpose,
                                          strlen(purpose)),
        OSSL_PARAM_construct_end()};
    int ok = EVP_KDF_derive(ctx, out, CRYPTO_KEY_LEN, params);
    EVP_KDF_CTX_free(ctx);
    return ok == 1 ? HB_ERR_OK : HB_ERR_UNAVAILABLE;
}

bool crypto_equal(const void *a, const void *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len) == 0;
}

void crypto_hex(const void *data, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    const uint8_t *p = data;
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 0xf];
    }
    out[2 * len] = '\0';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool crypto_unhex(const char *text, size_t text_len, uint8_t *out, size_t len)
{
    if (text_len != 2 * len) return false;
    for (size_t i = 0; i < len; i++) {
        int hi = hex_value(text[2 * i]);
        int lo = hex_value(text[2 * i + 1]);
        if (hi < 0 || lo < 0) return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

void crypto_base64url(const void *data, size_t len, char *out)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const uint8_t *p = data;
    size_t n = 0;
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        out[n++] = alphabet[v >> 18];
        out[n++] = alphabet[(v >> 12) & 63];
        out[n++] = alphabet[(v >> 6) & 63];
        out[n++] = alphabet[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        out[n++] = alphabet[v >> 18];
        out[n++] = alphabet[(v >> 12) & 63];
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        out[n++] = alphabet[v >> 18];
        out[n++] = alphabet[(v >> 12) & 63];
        out[n++] = alphabet[(v >> 6) & 63];
    }
    out[n] = '\0';
}

static int base64url_value(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

bool crypto_unbase64url(const char *text, size_t len, uint8_t *out, size_t out_size,
                        size_t *out_len)
{
    if (len % 4 == 1) return false;
    size_t need = len / 4 * 3 + (len % 4 == 0 ? 0 : len % 4 - 1);
    if (need > out_size) return false;
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        int v = base64url_value(text[i]);
        if (v < 0) return false;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) return false; /* the encoder leaves the spare bits zero */
    *out_len = n;
    return true;
}
