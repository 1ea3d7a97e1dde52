#include "core/packet_token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

#define TOKEN_VERSION 1
#define PLAIN_LEN 17
#define TOKEN_LEN (1 + CRYPTO_TAG_LEN + PLAIN_LEN)

hb_err packet_token_keys_derive(const uint8_t master[CRYPTO_KEY_LEN], packet_token_keys *out)
{
    hb_err err = crypto_derive(master, "hongbao packet token aes-256-ctr v1", out->enc);
    if (err == HB_ERR_OK) err = crypto_derive(master, "hongbao packet token hmac v1", out->mac);
    return err;
}

static void put_be64(uint8_t *p, int64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)((uint64_t)v >> (56 - 8 * i));
}

static int64_t get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = (v << 8) | p[i];
    return (int64_t)v;
}

static hb_err token_tag(const packet_token_keys *keys, const uint8_t plain[PLAIN_LEN],
                        uint8_t tag[CRYPTO_TAG_LEN])
{
    uint8_t input[1 + PLAIN_LEN];
    input[0] = TOKEN_VERSION;
    memcpy(input + 1, plain, PLAIN_LEN);
    uint8_t full[32];
    hb_err err = crypto_hmac_sha256(keys->mac, sizeof keys->mac, input, sizeof input, full);
    memcpy(tag, full, CRYPTO_TAG_LEN);
    return err;
}

/* AES-256-CTR with the tag as the counter block; its own inverse. */
static hb_err token_ctr(const packet_token_keys *keys, const uint8_t iv[CRYPTO_TAG_LEN],
                        const uint8_t in[PLAIN_LEN], uint8_t out[PLAIN_LEN])
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, m = 0;
    bool ok = ctx != NULL && EVP_EncryptInit_ex(ctx, EVP_aes_256_ctr(), NULL, keys->enc, iv) == 1 &&
              EVP_EncryptUpdate(ctx, out, &n, in, PLAIN_LEN) == 1 &&
              EVP_EncryptFinal_ex(ctx, out + n, &m) == 1 && n + m == PLAIN_LEN;
    EVP_CIPHER_CTX_free(ctx);
    return ok ? HB_ERR_OK : HB_ERR_UNAVAILABLE;
}

hb_err packet_token_seal(const packet_token_keys *keys, const packet_token *t,
                         char out[PACKET_TOKEN_TEXT_LEN + 1])
{
    ASSERT(t->kind == PACKET_TOKEN_CLAIM || t->kind == PACKET_TOKEN_SHARE);
    ASSERT(t->packet_id > 0 && t->not_after_ms >= 0);
    uint8_t plain[PLAIN_LEN];
    plain[0] = (uint8_t)t->kind;
    put_be64(plain + 1, t->packet_id);
    put_be64(plain + 9, t->not_after_ms);
    uint8_t token[TOKEN_LEN];
    token[0] = TOKEN_VERSION;
    hb_err err = token_tag(keys, plain, token + 1);
    if (err == HB_ERR_OK) err = token_ctr(keys, token + 1, plain, token + 1 + CRYPTO_TAG_LEN);
    OPENSSL_cleanse(plain, sizeof plain);
    if (err != HB_ERR_OK) return err;
    crypto_base64url(token, sizeof token, out);
    ASSERT(strlen(out) == PACKET_TOKEN_TEXT_LEN);
    return HB_ERR_OK;
}

hb_err packet_token_open(const packet_token_keys *keys, const char *text, size_t len,
                         packet_token *out)
{
    uint8_t token[TOKEN_LEN];
    size_t n = 0;
    if (len != PACKET_TOKEN_TEXT_LEN || !crypto_unbase64url(text, len, token, sizeof token, &n) ||
        n != TOKEN_LEN || token[0] != TOKEN_VERSION) {
        return HB_ERR_INVALID_ARGUMENT;
    }
    uint8_t plain[PLAIN_LEN], tag[CRYPTO_TAG_LEN];
    hb_err err = token_ctr(keys, token + 1, token + 1 + CRYPTO_TAG_LEN, plain);
    if (err == HB_ERR_OK) err = token_tag(keys, plain, tag);
    if (err != HB_ERR_OK) return err;
    if (!crypto_equal(tag, token + 1, CRYPTO_TAG_LEN)) return HB_ERR_INVALID_ARGUMENT;
    packet_token t = {.kind = (packet_token_kind)plain[0], .packet_id = get_be64(plain + 1),
                      .not_after_ms = get_be64(plain + 9)};
    OPENSSL_cleanse(plain, sizeof plain);
    /* Only this code seals, so a token that authenticates holds what it sealed; check anyway. */
    if ((t.kind != PACKET_TOKEN_CLAIM && t.kind != PACKET_TOKEN_SHARE) || t.packet_id <= 0 ||
        t.not_after_ms < 0) {
        return HB_ERR_INVALID_ARGUMENT;
    }
    *out = t;
    return HB_ERR_OK;
}
