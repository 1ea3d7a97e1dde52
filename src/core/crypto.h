/* Symmetric cryptography hongbao needs, over OpenSSL 3: authenticated encryption of personal
 * data and secrets at rest (AES-256-GCM), HMAC-SHA256, HKDF key derivation, constant-time
 * comparison, and hex / base64url text forms.
 *
 * A sealed box is nonce (12 bytes) || ciphertext || tag (16 bytes); the associated data binds
 * it to its place (table, column, row) so a box moved elsewhere does not open. */
#ifndef HB_CORE_CRYPTO_H
#define HB_CORE_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/invariant.h"

#define CRYPTO_KEY_LEN 32
#define CRYPTO_NONCE_LEN 12
#define CRYPTO_TAG_LEN 16
#define CRYPTO_BOX_OVERHEAD (CRYPTO_NONCE_LEN + CRYPTO_TAG_LEN)

/* Encrypt plain (len bytes) into box (len + CRYPTO_BOX_OVERHEAD bytes) with a fresh random
 * nonce. HB_ERR_UNAVAILABLE if OpenSSL fails. */
hb_err crypto_seal(const uint8_t key[CRYPTO_KEY_LEN], const void *plain, size_t len,
                   const void *aad, size_t aad_len, uint8_t *box) WARN_UNUSED;
/* Decrypt and authenticate box (box_len >= CRYPTO_BOX_OVERHEAD) into plain
 * (box_len - CRYPTO_BOX_OVERHEAD bytes). HB_ERR_INVALID_ARGUMENT when it does not open. */
hb_err crypto_open(const uint8_t key[CRYPTO_KEY_LEN], const uint8_t *box, size_t box_len,
                   const void *aad, size_t aad_len, uint8_t *plain) WARN_UNUSED;
/* out = HMAC-SHA256(key, data). */
hb_err crypto_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                          uint8_t out[32]) WARN_UNUSED;
/* Derive a 32-byte key for `purpose` from the master key (HKDF-SHA256). */
hb_err crypto_derive(const uint8_t master[CRYPTO_KEY_LEN], const char *purpose,
                     uint8_t out[CRYPTO_KEY_LEN]) WARN_UNUSED;
/* Equal in time independent of where the buffers differ. */
bool crypto_equal(const void *a, const void *b, size_t len);
/* Lower-case hex of data into out (2*len + 1 bytes). */
void crypto_hex(const void *data, size_t len, char *out);
/* Parse exactly 2*len hex digits (either case) into out; false on anything else. */
bool crypto_unhex(const char *text, size_t text_len, uint8_t *out, size_t len);
/* base64url without padding of data into out (4*ceil(len/3) + 1 bytes is always enough). */
void crypto_base64url(const void *data, size_t len, char *out);

#endif
