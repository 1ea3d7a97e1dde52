/* Payment-code tokens (issue "Payment codes"): the sealed token inside a code's EMVCo payload
 * and link (pure).
 *
 * Layout, base64url without padding (at most CODE_TOKEN_TEXT_MAX = 81 characters, so that
 * the merchant template stays within EMV's 99):
 *   version (1, = 1) || key id (1) || box
 * where box is a sealed box of core/crypto.h over the 22-byte plaintext
 *   code id (8) || not-after, Unix seconds (4; 0 = never) || amount in fen (8; 0 = the payer
 *   enters it) || ISO 4217 numeric currency (2), all big-endian,
 * with the version and key id as associated data. AES-256-GCM (personal codes) gives 71
 * characters; SM4-CTR + HMAC-SM3 truncated to 128 bits, encrypt-then-MAC (enterprise), 76.
 * The keys of each key id are derived (HKDF) from the master key, so keys rotate by moving to
 * a new id while codes sealed under older ids still open. */
#ifndef HB_CORE_CODE_TOKEN_H
#define HB_CORE_CODE_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "core/crypto.h"
#include "core/currency.h"
#include "core/error.h"
#include "core/invariant.h"

#define CODE_TOKEN_TEXT_MAX 81

typedef struct code_token {
    int64_t code_id;     /* > 0 */
    int64_t not_after_s; /* 0 = never (a static code); otherwise 1..UINT32_MAX */
    int64_t amount;      /* fen; 0 = entered by the payer */
    currency currency;
} code_token;

typedef struct code_token_key {
    uint8_t id; /* 1..255 */
    crypto_keys keys;
} code_token_key;

/* The keys of key id `id` (1..255), derived from the master key. */
hb_err code_token_key_derive(const uint8_t master[CRYPTO_KEY_LEN], uint8_t id,
                             code_token_key *out) WARN_UNUSED;

/* Seal t with key k in suite into out (NUL-terminated). INVALID_ARGUMENT for a token out of
 * range; UNAVAILABLE when OpenSSL fails. */
hb_err code_token_seal(const code_token_key *k, crypto_suite suite, const code_token *t,
                       char out[CODE_TOKEN_TEXT_MAX + 1]) WARN_UNUSED;

/* Open len characters with whichever of keys[0..count) has the token's key id. INVALID_CODE
 * for anything that is not such a token (length, alphabet, version, unknown key id, any
 * altered bit); CODE_EXPIRED when now_s is past its not-after. *suite receives the suite it
 * was sealed with (may be NULL). */
hb_err code_token_open(const code_token_key *keys, size_t count, const char *text, size_t len,
                       int64_t now_s, code_token *out, crypto_suite *suite) WARN_UNUSED;

#endif
