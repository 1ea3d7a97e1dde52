/* SHA-256 through OpenSSL 3 with the algorithm fetched once.
 *
 * OpenSSL 3 looks an algorithm up on every EVP_sha256() use (a lock and a table walk); on the
 * hot path of every command that cost more than the hash itself, so hongbao fetches once and
 * keeps a context per thread. */
#ifndef HB_CORE_DIGEST_H
#define HB_CORE_DIGEST_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/invariant.h"

/* The fetched SHA-256 implementation; never NULL (aborts if OpenSSL has none). Thread-safe. */
const EVP_MD *digest_sha256_md(void);
/* out = SHA-256(data). HB_ERR_UNAVAILABLE only if OpenSSL fails. Thread-safe. */
hb_err digest_sha256(const void *data, size_t len, uint8_t out[32]) WARN_UNUSED;

#endif
