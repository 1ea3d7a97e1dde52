/* The ledger rows a command writes, digested into its audit record (issue 9), so that the
 * verifier can recompute every record's digest from the rows in the store and catch a row
 * edited, deleted, inserted or moved to another record.
 *
 * Every ledger row (transfers, accounts, packets, claims, payments, refunds, settlements)
 * carries the (node, seq) of the record its command appended (store_set_audit_tag). The
 * digest covers each row's columns that no later command changes (ROWS_*_COLUMNS in
 * store/statements.h, in the same order as the projections here): integers as 8 big-endian
 * bytes, texts as a 4-byte big-endian length and their bytes. Per table, rows are encoded in
 * the table's write order (ids; a claim by its transfer's id); the record's row digest is
 * H("hongbao-rows-v1" || for each table with rows, in rows_table order: the table's number
 * (1 byte) || row count (8 bytes) || byte count (8 bytes) || the rows' encodings), H the
 * record's hash (SHA-256, or SM3 in national-crypto mode): one hash per command.
 *
 * The columns later commands change (balances, a packet's claimed and refunded totals, a
 * payment's refunded totals and settlement) are checked by derivation instead: the verifier
 * recomputes them from the rows above. */
#ifndef HB_ENGINE_ROWS_H
#define HB_ENGINE_ROWS_H

#include <openssl/evp.h>

#include "core/error.h"
#include "store/store.h"

typedef struct rows_buffer {
    uint8_t *data;
    size_t len, cap;
} rows_buffer;

typedef struct rows_digest {
    const EVP_MD *md;
    EVP_MD_CTX *ctx;
    rows_buffer table[ROWS_TABLES]; /* the encodings of the command's rows, per table */
    int64_t count[ROWS_TABLES];
} rows_digest;

/* Allocate the digest context (UNAVAILABLE when out of memory); free it and the buffers. */
hb_err rows_digest_init(rows_digest *r) WARN_UNUSED;
void rows_digest_free(rows_digest *r);
/* Start over with hash md: no rows yet. */
void rows_digest_begin(rows_digest *r, const EVP_MD *md);
/* Add a row given as its table's integers and texts (as many as rows_table_ints/texts say). */
hb_err rows_digest_add(rows_digest *r, rows_table table, const int64_t *ints, int n_ints,
                       const char *const *texts, int n_texts) WARN_UNUSED;
/* Add a written row: a transfer, account, packet, claim, payment, refund or settlement as the
 * store holds it (the struct of table). */
hb_err rows_digest_add_row(rows_digest *r, rows_table table, const void *row) WARN_UNUSED;
hb_err rows_digest_final(rows_digest *r, uint8_t out[32]) WARN_UNUSED;

#endif
