#include "core/crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <string.h>

hb_err crypto_seal(const uint8_t key[CRYPTO_KEY_LEN], const void *plain, size_t len,
                   const void *aad, size_t aad_len, uint8_t *box)
{
    ASSERT(len <= INT32_MAX && aad_len <= INT32_MAX);
    if (RAND_bytes(box, CRYPTO_NONCE_LEN) != 1) return HB_ERR_UNAVAILABLE;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL) return HB_ERR_UNAVAILABLE;
    hb_err err = HB_ERR_UNAVAILABLE;
    int n = 0;
    uint8_t *out = box + CRYPTO_NONCE_LEN;
    if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, box) != 1) goto done;
    if (aad_len > 0 && EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1) goto done;
    if (len > 0 && EVP_EncryptUpdate(ctx, out, &n, plain, (int)len) != 1) goto done;
    if (EVP_EncryptFinal_ex(ctx, out + len, &n) != 1) goto done;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, CRYPTO_TAG_LEN, out + len) != 1) goto done;
    err = HB_ERR_OK;
done:
    EVP_CIPHER_CTX_free(ctx);
    return err;
}

hb_err crypto_open(const uint8_t key[CRYPTO_KEY_LEN], const uint8_t *box, size_t box_len,
                   const void *aad, size_t aad_len, uint8_t *plain)
{
    if (box_len < CRYPTO_BOX_OVERHEAD || box_len > INT32_MAX) return HB_ERR_INVALID_ARGUMENT;
    size_t len = box_len - CRYPTO_BOX_OVERHEAD;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL) return HB_ERR_UNAVAILABLE;
    hb_err err = HB_ERR_INVALID_ARGUMENT;
    int n = 0;
    const uint8_t *cipher = box + CRYPTO_NONCE_LEN;
    uint8_t tag[CRYPTO_TAG_LEN];
    memcpy(tag, cipher + len, CRYPTO_TAG_LEN);
    if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, box) != 1) goto done;
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
