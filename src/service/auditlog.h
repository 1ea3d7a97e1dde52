/* The audit trail's proof (issue 9): signed checkpoints of the audit chains and their
 * verification.
 *
 * Each writer node appends to its own chain (engine/audit.h): record n's hash covers record
 * n-1's. A checkpoint signs (node, seq, hash, time) with an Ed25519 key kept in its own file
 * (the audit key file, apart from the data key), so that it can live with someone else than
 * the data key: message = "hongbao-checkpoint-v1" || node || seq || time || hash, strings as
 * a 4-byte big-endian length and bytes, integers as 8 big-endian bytes. `serve` signs one
 * after [audit] checkpoint_records records or checkpoint_s seconds; `hongbao audit
 * checkpoint` signs the head of every chain now and exports the latest for keeping off the
 * host.
 *
 * The verifier recomputes every chain (seq contiguous from 1, each prev_hash the hash before,
 * each hash its record's) and every checkpoint (its signature under the audit key, and the
 * record it names still holding its hash), and an exported checkpoint if given. What it
 * proves: any edit, deletion, reordering or insertion of records up to a checkpoint the
 * attacker cannot re-sign (the key kept elsewhere, or the checkpoint exported) is found;
 * after the last such checkpoint, an attacker who rewrites the whole tail and deletes the
 * later checkpoints is stopped only by the next export. */
#ifndef HB_SERVICE_AUDITLOG_H
#define HB_SERVICE_AUDITLOG_H

#include <jansson.h>
#include <openssl/evp.h>

#include "engine/engine.h"

/* $HONGBAO_AUDIT_KEY_FILE, else "<db>.audit-key"; for a database url "$HONGBAO_KEY_FILE.audit-key"
 * or "hongbao.audit-key". */
void auditlog_default_key_path(const char *db, char *out, size_t size);
/* Create an Ed25519 key file (mode 0600, PEM) unless it exists (*created 0 then). */
hb_err auditlog_key_create(const char *path, int *created, char *why, size_t size) WARN_UNUSED;
/* Load it: NOT_FOUND when there is no such file, INVALID_ARGUMENT when it is not one. */
hb_err auditlog_key_load(const char *path, EVP_PKEY **out, char *why, size_t size) WARN_UNUSED;
/* The raw 32-byte public key. */
hb_err auditlog_public_key(EVP_PKEY *key, uint8_t out[32]) WARN_UNUSED;

hb_err auditlog_sign(EVP_PKEY *key, audit_checkpoint *c) WARN_UNUSED;
bool auditlog_signature_valid(const uint8_t public_key[32], const audit_checkpoint *c);

/* Sign checkpoints in the writer: of this node's chain when due (every_records records, or
 * every_ms after the last checkpoint, since it), or of every chain's head now (all). A
 * bookkeeping command: it adds no audit record of its own. */
typedef struct checkpoint_cmd {
    command base;
    EVP_PKEY *key;
    bool all;
    int64_t every_records, every_ms;
    const char *node; /* with seq > 0: sign this record of this chain (an archive's cut) */
    int64_t seq;
    int made; /* out: how many were signed */
    audit_checkpoint last; /* out: the last signed (or the newest there was) */
} checkpoint_cmd;
void auditlog_checkpoint_prepare(checkpoint_cmd *c, EVP_PKEY *key, bool all, int64_t every_records,
                                 int64_t every_ms, const char *actor);

typedef struct audit_report {
    bool ok;
    int nodes;
    int64_t records;
    int64_t checkpoints;
    bool checkpoints_verified; /* false: no audit key to check signatures with */
    bool exported_checked;
    int64_t rows;           /* ledger rows recomputed into their records' row digests */
    int64_t legacy_rows;    /* rows written before rows were tagged (covered by no digest) */
    int64_t legacy_records; /* records written before then (they hold no row digest) */
    char node[LIMIT_NODE_LEN + 1]; /* where it first broke ("" and seq 0: the ledger rows) */
    int64_t seq;
    char reason[160];
} audit_report;

/* Verify every chain from seq `from` (1 = all; a later start trusts the record before it),
 * every checkpoint (with public_key, or skipped when it is NULL), and the exported checkpoint
 * when given (signed by exported_key, which must equal public_key when both are given). OK
 * with the outcome in *out; UNAVAILABLE when the store cannot be read. */
hb_err auditlog_verify(store *s, const uint8_t *public_key, int64_t from,
                       const audit_checkpoint *exported, const uint8_t *exported_key,
                       audit_report *out) WARN_UNUSED;
/* The same for an archive file: a chain starting after seq 1 needs its signed cut checkpoint
 * only (the audit.archive record that justifies the cut is in the store the archive came
 * from, or in the archive before it). */
hb_err auditlog_verify_as(store *s, const uint8_t *public_key, int64_t from,
                          const audit_checkpoint *exported, const uint8_t *exported_key,
                          bool archive_file, audit_report *out) WARN_UNUSED;
json_t *auditlog_report_json(const audit_report *r);

/* Move a chain's records older than before_ms into an archive (a new store file at path
 * holding those records and their checkpoints), only behind a signed checkpoint: the chains
 * are verified first, the last record before the date is signed (if no checkpoint is there
 * yet), the archive is written and verified, and then the records are removed from the store
 * by a command that leaves its own audit record (audit.archive, object NODE:SEQ). The
 * verifier accepts a chain starting after seq 1 only with a signed checkpoint at the cut and
 * that record. *moved receives how many records moved. */
hb_err auditlog_archive(engine *e, const char *db, EVP_PKEY *key, int64_t before_ms,
                        const char *path, int64_t *moved, char *why, size_t size) WARN_UNUSED;

/* An exported checkpoint as a JSON file: {node, seq, time, hash, signature, public_key} (hex). */
hb_err auditlog_export(const char *path, const audit_checkpoint *c, const uint8_t public_key[32],
                       char *why, size_t size) WARN_UNUSED;
hb_err auditlog_import(const char *path, audit_checkpoint *c, uint8_t public_key[32], char *why,
                       size_t size) WARN_UNUSED;

#endif
