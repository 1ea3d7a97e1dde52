#include "core/rng.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <string.h>

static hb_err secure_fill(hb_rng *self, void *buf, size_t n)
{
    (void)self;
    ASSERT(n <= (size_t)INT32_MAX);
    if (RAND_bytes(buf, (int)n) != 1) return HB_ERR_UNAVAILABLE;
    return HB_ERR_OK;
}

static hb_rng secure_rng = {.fill = secure_fill, .state = {0, 0, 0, 0}};

static hb_err buffered_fill(hb_rng *self, void *buf, size_t n)
{
    hb_rng_buffered *r = (hb_rng_buffered *)self;
    uint8_t *out = buf;
    while (n > 0) {
        if (r->pos == r->len) {
            if (RAND_bytes(r->buf, (int)sizeof r->buf) != 1) return HB_ERR_UNAVAILABLE;
            r->pos = 0;
            r->len = sizeof r->buf;
        }
        size_t k = r->len - r->pos < n ? r->len - r->pos : n;
        memcpy(out, r->buf + r->pos, k);
        OPENSSL_cleanse(r->buf + r->pos, k); /* each random byte is handed out once */
        r->pos += k;
        out += k;
        n -= k;
    }
    return HB_ERR_OK;
}

void rng_buffered_init(hb_rng_buffered *r)
{
    memset(r, 0, sizeof *r);
    r->base.fill = buffered_fill;
}

void rng_buffered_clear(hb_rng_buffered *r)
{
    OPENSSL_cleanse(r->buf, sizeof r->buf);
    r->pos = r->len = 0;
}

hb_rng *rng_secure(void)
{
    return &secure_rng;
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t xoshiro_next(uint64_t s[4])
{
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

static hb_err seeded_fill(hb_rng *self, void *buf, size_t n)
{
    unsigned char *out = buf;
    while (n > 0) {
        uint64_t v = xoshiro_next(self->state);
        size_t take = n < sizeof v ? n : sizeof v;
        memcpy(out, &v, take);
        out += take;
        n -= take;
    }
    return HB_ERR_OK;
}

void rng_seeded_init(hb_rng *rng, uint64_t seed)
{
    rng->fill = seeded_fill;
    /* splitmix64 expands the seed so that nearby seeds give unrelated streams. */
    for (int i = 0; i < 4; i++) {
        seed += 0x9E3779B97F4A7C15ULL;
        uint64_t z = seed;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        rng->state[i] = z ^ (z >> 31);
    }
}

hb_err rng_uniform(hb_rng *rng, uint64_t bound, uint64_t *out)
{
    ASSERT(bound >= 1);
    /* Reject the top partial range so every residue is equally likely. */
    uint64_t limit = UINT64_MAX - (UINT64_MAX % bound);
    for (int attempt = 0; attempt < 128; attempt++) {
        uint64_t v;
        hb_err err = rng->fill(rng, &v, sizeof v);
        if (err != HB_ERR_OK) return err;
        if (v < limit) {
            *out = v % bound;
            return HB_ERR_OK;
        }
    }
    /* 128 rejections in a row has probability below 2^-128: the generator is broken. */
    return HB_ERR_UNAVAILABLE;
}

uint64_t rng_next_below(hb_rng *rng, uint64_t bound)
{
    uint64_t v = 0;
    hb_err err = rng_uniform(rng, bound, &v);
    ASSERT(err == HB_ERR_OK);
    return v;
}
