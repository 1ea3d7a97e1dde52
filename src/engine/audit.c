#include "engine/audit.h"

#include "core/crypto.h"
#include "core/digest.h"
#include <string.h>

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

static size_t put_string(uint8_t *p, const char *s)
{
    size_t len = strlen(s);
    ASSERT(len <= 0xffff);
    p[0] = 0;
    p[1] = 0;
    p[2] = (uint8_t)(len >> 8);
    p[3] = (uint8_t)(len & 0xff);
    memcpy(p + 4, s, len);
    return 4 + len;
}

hb_err audit_record_hash(const audit_record *r, uint8_t out[32])
{
    uint8_t buf[1 + 32 + 8 + 8 + 4 * 4 + LIMIT_NODE_LEN + LIMIT_ACTOR_LEN + LIMIT_ACTION_LEN +
                LIMIT_OBJECT_LEN + 32 + 1 + 32];
    size_t n = 0;
    buf[n++] = 0x00;
    memcpy(buf + n, r->prev_hash, 32);
    n += 32;
    n += put_string(buf + n, r->node);
    put_u64(buf + n, (uint64_t)r->seq);
    n += 8;
    put_u64(buf + n, (uint64_t)r->time_ms);
    n += 8;
    n += put_string(buf + n, r->actor);
    n += put_string(buf + n, r->action);
    n += put_string(buf + n, r->object);
    memcpy(buf + n, r->digest, 32);
    n += 32;
    if (r->has_rows) {
        buf[n++] = 0x02; /* the record's format: with the digest of the ledger rows */
        memcpy(buf + n, r->row_digest, 32);
        n += 32;
    }
    ASSERT(n <= sizeof buf);
    return r->alg == AUDIT_ALG_SM3 ? crypto_sm3(buf, n, out) : digest_sha256(buf, n, out);
}
