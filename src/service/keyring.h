/* The key file: one 32-byte master key, created by `hongbao init` next to the store with mode
 * 0600, from which the data key (sealing personal data and API secrets) and the lookup key
 * (keyed hashes of phone numbers) are derived. The store file never holds either. */
#ifndef HB_SERVICE_KEYRING_H
#define HB_SERVICE_KEYRING_H

#include <stddef.h>
#include <stdint.h>

#include "core/crypto.h"
#include "core/code_token.h"
#include "core/packet_token.h"
#include "core/error.h"

#define KEYRING_CODE_KEYS 8

typedef struct keyring {
    crypto_keys data;                  /* seals personal data and API secrets */
    uint8_t lookup_key[CRYPTO_KEY_LEN]; /* keyed hashes of phone numbers */
    packet_token_keys packet_tokens;   /* red packets' claim and share tokens */
    /* payment codes' tokens: key ids 1..KEYRING_CODE_KEYS, all derived at load; new tokens
     * are sealed with code_key_current, tokens of ids code_key_min..code_key_current open */
    code_token_key code_tokens[KEYRING_CODE_KEYS];
    int code_key_current;
    int code_key_min;
} keyring;

/* The key file when --key-file is not given: $HONGBAO_KEY_FILE if set, else "<db>.key" for
 * a SQLite path and "hongbao.key" in the working directory for a PostgreSQL url (every node
 * of one database needs the same file). */
void keyring_default_path(const char *db, char *out, size_t size);
/* Create a new key file (never overwrites one). HB_ERR_OK also when it exists already;
 * *created tells which. UNAVAILABLE with err_text on I/O errors. */
hb_err keyring_create(const char *path, int *created, char *err_text, size_t size) WARN_UNUSED;
/* Load and derive; new boxes are sealed with AES-256-GCM (keyring_set_suite changes it).
 * NOT_FOUND (no file), FORBIDDEN (readable by group or others), INVALID_ARGUMENT (malformed). */
hb_err keyring_load(const char *path, keyring *out, char *err_text, size_t size) WARN_UNUSED;
/* National-crypto mode seals new boxes with SM4-CTR + HMAC-SM3; boxes of either suite
 * always open. */
void keyring_set_suite(keyring *k, crypto_suite suite);
/* Rotate payment-code keys (policy [codes] token_key_id and token_key_min): seal new tokens
 * with key id `current`, accept ids min..current. 1 <= min <= current <= KEYRING_CODE_KEYS. */
void keyring_set_code_keys(keyring *k, int current, int min);
/* The key that seals new payment-code tokens. */
const code_token_key *keyring_code_seal_key(const keyring *k);
/* Open a payment-code token with the keys in use (code_token_open's errors). */
hb_err keyring_code_open(const keyring *k, const char *text, size_t len, int64_t now_s,
                         code_token *out) WARN_UNUSED;
/* Wipe the keys. */
void keyring_clear(keyring *k);

#endif
