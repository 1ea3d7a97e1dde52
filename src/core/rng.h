/* Randomness through one small interface so that tests can fix seeds.
 *
 * rng_secure() draws from OpenSSL's CSPRNG (RAND_bytes) and is what production code uses for
 * anything secret. rng_seeded_init() gives a fast deterministic generator (xoshiro256**) for
 * tests and load generators; it must never produce secrets. */
#ifndef HB_CORE_RNG_H
#define HB_CORE_RNG_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/invariant.h"

typedef struct hb_rng {
    /* Fill buf with n random bytes. Returns HB_ERR_OK or HB_ERR_UNAVAILABLE (CSPRNG failure). */
    hb_err (*fill)(struct hb_rng *self, void *buf, size_t n);
    uint64_t state[4];
} hb_rng;

/* The process-wide CSPRNG. Thread-safe; static storage. */
hb_rng *rng_secure(void);
/* The CSPRNG drawn 4 KiB at a time, for many small draws in a row (a packet's split): one
 * RAND_bytes call per 512 draws rather than one per draw. Not thread-safe; wipe it with
 * rng_buffered_clear() when done. */
typedef struct hb_rng_buffered {
    hb_rng base; /* pass &r->base where an hb_rng * is wanted */
    uint8_t buf[4096];
    size_t pos;
    size_t len;
} hb_rng_buffered;
void rng_buffered_init(hb_rng_buffered *r);
void rng_buffered_clear(hb_rng_buffered *r);

/* A deterministic generator; not thread-safe (one per thread). */
void rng_seeded_init(hb_rng *rng, uint64_t seed);

/* A uniform integer in [0, bound) without modulo bias (rejection sampling); bound >= 1. */
hb_err rng_uniform(hb_rng *rng, uint64_t bound, uint64_t *out) WARN_UNUSED;
/* rng_uniform for generators that cannot fail (seeded); asserts on failure. */
uint64_t rng_next_below(hb_rng *rng, uint64_t bound);

#endif
