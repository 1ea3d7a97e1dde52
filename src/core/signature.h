/* The HB1-HMAC-SHA256 request signature (README, DESIGN.md section 6; worked example in
 * ../shared/vectors/README.md):
 *   SIG = lower-hex HMAC-SHA256(secret, METHOD "\n" PATH_AND_QUERY "\n" ts "\n" nonce "\n"
 *                               lower-hex SHA-256(body) "\n")
 *   Authorization: HB1-HMAC-SHA256 key=KEY_ID,ts=UNIX_SECONDS,nonce=NONCE,sig=SIG
 * Pure functions: no I/O, usable from tests and fuzzers. */
#ifndef HB_CORE_SIGNATURE_H
#define HB_CORE_SIGNATURE_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/invariant.h"
#include "core/limits.h"

typedef struct signature_header {
    char key_id[LIMIT_KEY_ID_LEN + 1];
    char ts_text[16];
    int64_t ts;
    char nonce[LIMIT_NONCE_MAX + 1];
    uint8_t sig[32];
} signature_header;

/* Parse the part after "HB1-HMAC-SHA256 ": exactly key=…,ts=…,nonce=…,sig=… in that order;
 * ts decimal seconds, nonce 16-64 [A-Za-z0-9], sig 64 hex digits. INVALID_ARGUMENT with a
 * reason in *why otherwise. */
hb_err signature_parse(const char *params, signature_header *out, const char **why) WARN_UNUSED;
/* The 32-byte HMAC for a request. */
hb_err signature_compute(const char *secret, const char *method, const char *target,
                         const char *ts_text, const char *nonce, const void *body,
                         size_t body_len, uint8_t out[32]) WARN_UNUSED;

#endif
