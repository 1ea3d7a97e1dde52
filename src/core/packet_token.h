/* Red-packet tokens: the claim token that a packet's link and QR carry, and the share token a
 * fission packet's seed forwards (pure; DESIGN.md section 3).
 *
 * A token is sealed: encrypted and authenticated, so that it names its packet without showing
 * the id and cannot be forged or altered. Deterministic (SIV construction), so the sender can
 * fetch the same link again:
 *   plaintext P = kind (1) || packet id (8, big-endian) || not-after ms (8, big-endian)
 *   tag = first 16 bytes of HMAC-SHA256(mac key, 0x01 || P)
 *   token = base64url(0x01 || tag || AES-256-CTR(enc key, iv = tag, P)), 46 characters.
 * The keys are derived from the master key in the key file (keyring). Knowing a packet id
 * never lets anyone make its token. */
#ifndef HB_CORE_PACKET_TOKEN_H
#define HB_CORE_PACKET_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "core/crypto.h"
#include "core/error.h"
#include "core/invariant.h"

#define PACKET_TOKEN_TEXT_LEN 46

typedef enum packet_token_kind {
    PACKET_TOKEN_CLAIM = 1, /* the packet's own link */
    PACKET_TOKEN_SHARE = 2  /* a fission packet's share link, from the seed's claim */
} packet_token_kind;

typedef struct packet_token {
    packet_token_kind kind;
    int64_t packet_id;
    int64_t not_after_ms; /* the packet's expiry */
} packet_token;

typedef struct packet_token_keys {
    uint8_t enc[CRYPTO_KEY_LEN];
    uint8_t mac[CRYPTO_KEY_LEN];
} packet_token_keys;

/* Derive the token keys from the master key. */
hb_err packet_token_keys_derive(const uint8_t master[CRYPTO_KEY_LEN],
                                packet_token_keys *out) WARN_UNUSED;
/* Seal t into out (PACKET_TOKEN_TEXT_LEN characters and a NUL). UNAVAILABLE if OpenSSL fails. */
hb_err packet_token_seal(const packet_token_keys *keys, const packet_token *t,
                         char out[PACKET_TOKEN_TEXT_LEN + 1]) WARN_UNUSED;
/* Open len characters of text. INVALID_ARGUMENT for anything that is not a token these keys
 * sealed (wrong length or alphabet, altered bit, other key, unknown kind); UNAVAILABLE if
 * OpenSSL fails. */
hb_err packet_token_open(const packet_token_keys *keys, const char *text, size_t len,
                         packet_token *out) WARN_UNUSED;

#endif
