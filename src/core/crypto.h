/* Symmetric cryptography hongbao needs, over OpenSSL 3: authenticated encryption of personal
 * data and secrets at rest, HMAC-SHA256, SM3, HKDF key derivation, constant-time comparison,
 * and hex / base64url text forms.
 *
 * A sealed box starts with its suite, so boxes of both suites open whatever the current mode:
 *   0x01 AES-256-GCM:            0x01 || nonce (12) || ciphertext || tag (16)
 *   0x02 SM4-CTR + HMAC-SM3      0x02 || iv (16) || ciphertext || tag (16), the tag the first
 *        (national-crypto mode,  16 bytes of HMAC-SM3(mac key, len(aad) as 8 bytes || aad ||
 *        encrypt-then-MAC):      iv || ciphertext); OpenSSL 3.0 has no SM4-GCM.
 * The associated data binds a box to its place (table, column, row) so a box moved elsewhere
 * does not open. */
#ifndef HB_CORE_CRYPTO_H
#define HB_CORE_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/invariant.h"

#define CRYPTO_KEY_LEN 32
#define CRYPTO_TAG_LEN 16
/* The largest overhead of a box over its plaintext (the SM4 suite's). */
#define CRYPTO_BOX_OVERHEAD 33

typedef enum crypto_suite {
    CRYPTO_SUITE_AES_GCM = 1,
    CRYPTO_SUITE_SM4_SM3 = 2
} crypto_suite;

/* The keys of both suites, derived from one data key (crypto_keys_derive). */
typedef struct crypto_keys {
    uint8_t aes[CRYPTO_KEY_LEN];
    uint8_t sm4[16];
    uint8_t sm3_mac[CRYPTO_KEY_LEN];
    crypto_suite seal_suite; /* what new boxes use */
} crypto_keys;

hb_err crypto_keys_derive(const uint8_t master[CRYPTO_KEY_LEN], const char *purpose,
                          crypto_suite seal_suite, crypto_keys *out) WARN_UNUSED;
/* The size of a box for len bytes of plaintext in a suite. */
size_t crypto_box_len(crypto_suite suite, size_t len);
/* The plaintext length a box holds, or SIZE_MAX when it is not a box. */
size_t crypto_plain_len(const uint8_t *box, size_t box_len);
/* Encrypt plain (len bytes) into box (crypto_box_len bytes; *box_len receives it) with the
 * keys' seal suite and a fresh random nonce. HB_ERR_UNAVAILABLE if OpenSSL fails. */
hb_err crypto_seal(const crypto_keys *keys, const void *plain, size_t len, const void *aad,
                   size_t aad_len, uint8_t *box, size_t *box_len) WARN_UNUSED;
/* Authenticate and decrypt a box of either suite into plain (*plain_len bytes, at most
 * box_len). HB_ERR_INVALID_ARGUMENT when it does not open. */
hb_err crypto_open(const crypto_keys *keys, const uint8_t *box, size_t box_len, const void *aad,
                   size_t aad_len, uint8_t *plain, size_t *plain_len) WARN_UNUSED;
/* out = SM3(data) (GB/T 32905). */
hb_err crypto_sm3(const void *data, size_t len, uint8_t out[32]) WARN_UNUSED;
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
/* Decode exactly len characters of base64url without padding into out (at most out_size
 * bytes; *out_len receives the count). False for any other character, a length no encoder
 * produces (len % 4 == 1), non-zero trailing bits, or too little room. */
bool crypto_unbase64url(const char *text, size_t len, uint8_t *out, size_t out_size,
                        size_t *out_len);

#endif
