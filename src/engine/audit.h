/* The audit chain's record format and hash (shared by the engine that appends records and,
 * later, the verifier).
 *
 * hash = H(0x00 || prev_hash || canonical(record)), H = SHA-256, or SM3 for a record whose
 * alg is AUDIT_ALG_SM3 (national-crypto mode), where canonical() is the record's
 * node, seq, time, actor, action, object and digest, each integer as 8 big-endian bytes and
 * each string as a 4-byte big-endian length and its bytes, then, for a record that holds the
 * digest of its ledger rows (every record since rows were tagged, engine/rows.h), the byte
 * 0x02 and that row digest. The first record of a chain has prev_hash all zero. */
#ifndef HB_ENGINE_AUDIT_H
#define HB_ENGINE_AUDIT_H

#include <stdint.h>

#include "core/error.h"
#include "store/store.h"

/* Compute r->hash from the other fields. Returns HB_ERR_UNAVAILABLE if the digest fails. */
hb_err audit_record_hash(const audit_record *r, uint8_t out[32]) WARN_UNUSED;

#endif
