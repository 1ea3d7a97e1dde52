/* The key file: 32-byte master keys, one per line in hex, created by `hongbao init` next to
 * the store with mode 0600; `hongbao keys rotate` appends one. From the master key of line v
 * (its version) derive data key v (sealing personal data and API and webhook secrets) and the
 * payment-code keys of that version; from the first also the lookup key (keyed hashes of
 * phone numbers) and the red-packet token keys, which do not rotate. The store file never
 * holds any of them.
 *
 * New boxes are sealed with the newest data key. A box of version 1 is the crypto box as is
 * (core/crypto.h); a later version's is 0x7E || version (1 byte) || the crypto box, so that a
 * box names the key that opens it and old boxes keep opening after a rotation until they
 * are sealed again (customer_reseal, in the background of serve). Losing the key file loses
 * the personal data and secrets sealed with it: keep a copy apart from the backups. */
#ifndef HB_SERVICE_KEYRING_H
#define HB_SERVICE_KEYRING_H

#include <stddef.h>
#include <stdint.h>

#include "core/crypto.h"
#include "core/code_token.h"
#include "core/packet_token.h"
#include "core/error.h"

#define KEYRING_CODE_KEYS 8 /* code key ids 1..8 of the first master key (policy [codes]) */
#define KEYRING_VERSIONS 8  /* master keys a file may hold */
/* code key id 8 + v - 1 is master key v's (v >= 2) */
#define KEYRING_CODE_SLOTS (KEYRING_CODE_KEYS + KEYRING_VERSIONS - 1)
#define KEYRING_BOX_OVERHEAD (CRYPTO_BOX_OVERHEAD + 2)

typedef struct keyring {
    crypto_keys data[KEYRING_VERSIONS]; /* data[v - 1]: version v's data key */
    int versions;                       /* master keys loaded; new boxes use the newest */
    uint8_t lookup_key[CRYPTO_KEY_LEN]; /* keyed hashes of phone numbers */
    packet_token_keys packet_tokens;   /* red packets' claim and share tokens */
    /* payment codes' tokens: key ids 1..KEYRING_CODE_SLOTS, derived at load; new tokens are
     * sealed with code_key_current, tokens of ids code_key_min..code_key_current open */
    code_token_key code_tokens[KEYRING_CODE_SLOTS];
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
/* The same from the file's text (the parser, fuzzed: tests/fuzz/fuzz_keyfile.c). */
hb_err keyring_load_text(const char *text, size_t len, keyring *out) WARN_UNUSED;
/* National-crypto mode seals new boxes with SM4-CTR + HMAC-SM3; boxes of either suite
 * always open. */
void keyring_set_suite(keyring *k, crypto_suite suite);
/* Rotate payment-code keys (policy [codes] token_key_id and token_key_min): seal new tokens
 * with key id `current`, accept ids min..current. 1 <= min <= current <= KEYRING_CODE_KEYS.
 * With more than one master key the newest master's code key seals instead (its id is
 * KEYRING_CODE_KEYS + versions - 1), and every id from min up to it opens. */
void keyring_set_code_keys(keyring *k, int current, int min);

/* Append a new master key to the key file (atomically: written beside it, synced, renamed
 * over it). *version receives its version. INVALID_ARGUMENT when the file holds
 * KEYRING_VERSIONS keys already; the load errors otherwise. */
hb_err keyring_rotate(const char *path, int *version, char *err_text, size_t size) WARN_UNUSED;

/* Seal with the newest data key (box: at most len + KEYRING_BOX_OVERHEAD bytes). */
hb_err keyring_seal(const keyring *k, const void *plain, size_t len, const void *aad,
                    size_t aad_len, uint8_t *box, size_t *box_len) WARN_UNUSED;
/* Open a box of any version the key file holds: INVALID_ARGUMENT when it does not open
 * (another key file, an unknown version, a damaged box). */
hb_err keyring_open(const keyring *k, const uint8_t *box, size_t box_len, const void *aad,
                    size_t aad_len, uint8_t *plain, size_t *plain_len) WARN_UNUSED;
/* The plaintext length a box holds (an upper bound for the buffer), and its key version
 * (0 when it is not a box). */
size_t keyring_plain_len(const uint8_t *box, size_t box_len);
int keyring_box_version(const uint8_t *box, size_t box_len);
/* The key that seals new payment-code tokens. */
const code_token_key *keyring_code_seal_key(const keyring *k);
/* Open a payment-code token with the keys in use (code_token_open's errors). */
hb_err keyring_code_open(const keyring *k, const char *text, size_t len, int64_t now_s,
                         code_token *out) WARN_UNUSED;
/* Wipe the keys. */
void keyring_clear(keyring *k);

#endif
