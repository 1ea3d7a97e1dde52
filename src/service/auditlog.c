#include "service/auditlog.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/pem.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/crypto.h"
#include <openssl/evp.h>
#include "engine/audit.h"
#include "engine/rows.h"

void auditlog_default_key_path(const char *db, char *out, size_t size)
{
    const char *env = getenv("HONGBAO_AUDIT_KEY_FILE"), *data_key = getenv("HONGBAO_KEY_FILE");
    if (env != NULL && env[0] != '\0') {
        snprintf(out, size, "%s", env);
    } else if (strncmp(db, "postgres://", 11) == 0 || strncmp(db, "postgresql://", 13) == 0) {
        /* a database url names no directory: next to the data key file if one is named */
        if (data_key != NULL && data_key[0] != '\0') {
            snprintf(out, size, "%s.audit-key", data_key);
        } else {
            snprintf(out, size, "hongbao.audit-key");
        }
    } else {
        snprintf(out, size, "%s.audit-key", db);
    }
}

hb_err auditlog_key_create(const char *path, int *created, char *why, size_t size)
{
    *created = 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST) return HB_ERR_OK;
    if (fd < 0) {
        snprintf(why, size, "cannot create the audit key file %s: %s", path, strerror(errno));
        return HB_ERR_UNAVAILABLE;
    }
    FILE *f = fdopen(fd, "w");
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    bool ok = f != NULL && key != NULL && PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1 &&
              fflush(f) == 0 && fsync(fd) == 0;
    EVP_PKEY_free(key);
    if (f != NULL) {
        fclose(f);
    } else {
        close(fd);
    }
    if (!ok) {
        unlink(path);
        snprintf(why, size, "cannot write the audit key file %s", path);
        return HB_ERR_UNAVAILABLE;
    }
    *created = 1;
    return HB_ERR_OK;
}

hb_err auditlog_key_load(const char *path, EVP_PKEY **out, char *why, size_t size)
{
    *out = NULL;
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(why, size, "no audit key file %s: %s", path, strerror(errno));
        return errno == ENOENT ? HB_ERR_NOT_FOUND : HB_ERR_UNAVAILABLE;
    }
    EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (key == NULL || EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
        EVP_PKEY_free(key);
        snprintf(why, size, "%s is not an Ed25519 private key (PEM)", path);
        return HB_ERR_INVALID_ARGUMENT;
    }
    *out = key;
    return HB_ERR_OK;
}

hb_err auditlog_public_key(EVP_PKEY *key, uint8_t out[32])
{
    size_t len = 32;
    return EVP_PKEY_get_raw_public_key(key, out, &len) == 1 && len == 32 ? HB_ERR_OK
                                                                         : HB_ERR_UNAVAILABLE;
}

/* "hongbao-checkpoint-v1" (an archive's cut: "hongbao-archive-cut-v1") || node || seq ||
 * time || hash */
static const char checkpoint_tag[] = "hongbao-checkpoint-v1";
static const char cut_tag[] = "hongbao-archive-cut-v1";

static size_t checkpoint_message(const audit_checkpoint *c, const char *tag, uint8_t *buf)
{
    size_t n = strlen(tag), len = strlen(c->node);
    for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)tag[i]; /* bytes, not a string */
    for (int i = 3; i >= 0; i--) buf[n++] = (uint8_t)(len >> (8 * i));
    memcpy(buf + n, c->node, len);
    n += len;
    for (int i = 7; i >= 0; i--) buf[n++] = (uint8_t)((uint64_t)c->seq >> (8 * i));
    for (int i = 7; i >= 0; i--) buf[n++] = (uint8_t)((uint64_t)c->time_ms >> (8 * i));
    memcpy(buf + n, c->hash, 32);
    return n + 32;
}

enum { MESSAGE_MAX = 32 + 4 + LIMIT_NODE_LEN + 16 + 32 }; /* the tags are under 32 bytes */

static hb_err sign_tagged(EVP_PKEY *key, audit_checkpoint *c, const char *tag)
{
    uint8_t msg[MESSAGE_MAX];
    size_t n = checkpoint_message(c, tag, msg), sig_len = sizeof c->signature;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx != NULL && EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) == 1 &&
              EVP_DigestSign(ctx, c->signature, &sig_len, msg, n) == 1 && sig_len == 64;
    EVP_MD_CTX_free(ctx);
    return ok ? HB_ERR_OK : HB_ERR_UNAVAILABLE;
}

hb_err auditlog_sign(EVP_PKEY *key, audit_checkpoint *c)
{
    return sign_tagged(key, c, checkpoint_tag);
}

static bool valid_tagged(const uint8_t public_key[32], const audit_checkpoint *c, const char *tag)
{
    if (c->malformed) return false;
    EVP_PKEY *key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, public_key, 32);
    if (key == NULL) return false;
    uint8_t msg[MESSAGE_MAX];
    size_t n = checkpoint_message(c, tag, msg);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1 &&
              EVP_DigestVerify(ctx, c->signature, 64, msg, n) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    return ok;
}

bool auditlog_signature_valid(const uint8_t public_key[32], const audit_checkpoint *c)
{
    return valid_tagged(public_key, c, checkpoint_tag);
}

/* ---- signing in the writer -------------------------------------------------------------- */

static hb_err checkpoint_node(txn *t, checkpoint_cmd *c, const char *node, bool when_due)
{
    store *s = txn_store(t);
    audit_record last;
    hb_err err = store_audit_last(s, node, &last);
    if (err == HB_ERR_NOT_FOUND) return HB_ERR_OK;
    if (err != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    audit_checkpoint prev;
    err = store_checkpoint_last(s, node, &prev);
    if (err == HB_ERR_NOT_FOUND) {
        memset(&prev, 0, sizeof prev);
    } else if (err != HB_ERR_OK) {
        return HB_ERR_UNAVAILABLE;
    }
    int64_t now = txn_now_ms(t);
    if (prev.seq >= last.seq) {
        c->last = prev;
        return HB_ERR_OK; /* nothing since */
    }
    if (when_due && last.seq - prev.seq < c->every_records && now - prev.time_ms < c->every_ms) {
        return HB_ERR_OK;
    }
    audit_checkpoint cp;
    memset(&cp, 0, sizeof cp);
    snprintf(cp.node, sizeof cp.node, "%s", last.node); /* the chain's own name */
    cp.seq = last.seq;
    memcpy(cp.hash, last.hash, 32);
    cp.time_ms = now;
    if (auditlog_sign(c->key, &cp) != HB_ERR_OK || store_checkpoint_insert(s, &cp) != HB_ERR_OK) {
        return HB_ERR_UNAVAILABLE;
    }
    c->made++;
    c->last = cp;
    return HB_ERR_OK;
}

/* Sign record seq of node as an archive's cut, unless it is one already. */
static hb_err checkpoint_record(txn *t, checkpoint_cmd *c)
{
    store *s = txn_store(t);
    audit_checkpoint existing;
    int n = 0;
    if (store_cut_page(s, c->node, c->seq - 1, 1, &existing, &n) != HB_ERR_OK) {
        return HB_ERR_UNAVAILABLE;
    }
    if (n == 1 && existing.seq == c->seq) {
        c->last = existing;
        return HB_ERR_OK;
    }
    audit_record r;
    hb_err err = store_audit_get(s, c->node, c->seq, &r);
    if (err == HB_ERR_NOT_FOUND) txn_fail_detail(t, "no such audit record");
    if (err != HB_ERR_OK) return err;
    audit_checkpoint cp;
    memset(&cp, 0, sizeof cp);
    snprintf(cp.node, sizeof cp.node, "%s", r.node);
    cp.seq = r.seq;
    memcpy(cp.hash, r.hash, 32);
    cp.time_ms = txn_now_ms(t);
    if (sign_tagged(c->key, &cp, cut_tag) != HB_ERR_OK || store_cut_insert(s, &cp) != HB_ERR_OK) {
        return HB_ERR_UNAVAILABLE;
    }
    c->made = 1;
    c->last = cp;
    return HB_ERR_OK;
}

static hb_err exec_checkpoint(txn *t, command *cmd)
{
    checkpoint_cmd *c = (checkpoint_cmd *)cmd;
    c->made = 0;
    memset(&c->last, 0, sizeof c->last);
    if (c->node != NULL && c->seq > 0) return checkpoint_record(t, c);
    if (!c->all) return checkpoint_node(t, c, txn_node(t), true);
    char after[LIMIT_NODE_LEN + 1] = "";
    for (;;) {
        char nodes[16][LIMIT_NODE_LEN + 1];
        int n = 0;
        if (store_audit_nodes(txn_store(t), after, 16, nodes, &n) != HB_ERR_OK) {
            return HB_ERR_UNAVAILABLE;
        }
        for (int i = 0; i < n; i++) {
            hb_err err = checkpoint_node(t, c, nodes[i], false);
            if (err != HB_ERR_OK) return err;
        }
        if (n < 16) return HB_ERR_OK;
        snprintf(after, sizeof after, "%s", nodes[n - 1]);
    }
}

void auditlog_checkpoint_prepare(checkpoint_cmd *c, EVP_PKEY *key, bool all, int64_t every_records,
                                 int64_t every_ms, const char *actor)
{
    memset(c, 0, sizeof *c);
    c->key = key;
    c->all = all;
    c->every_records = every_records;
    c->every_ms = every_ms;
    c->base.exec = exec_checkpoint;
    c->base.bookkeeping = true;
    snprintf(c->base.actor, sizeof c->base.actor, "%s", actor);
}

/* ---- verification ----------------------------------------------------------------------- */

static hb_err broken(audit_report *r, const char *node, int64_t seq, const char *reason)
{
    r->ok = false;
    snprintf(r->node, sizeof r->node, "%s", node);
    r->seq = seq;
    snprintf(r->reason, sizeof r->reason, "%s", reason);
    return HB_ERR_OK;
}

/* The record of a node at seq, read the tolerant way; NOT_FOUND when there is none. */
static hb_err record_at(store *s, const char *node, int64_t seq, audit_record *out)
{
    int n = 0;
    hb_err err = store_audit_page(s, node, seq - 1, 1, out, &n);
    if (err != HB_ERR_OK) return err;
    return n == 1 && out->seq == seq ? HB_ERR_OK : HB_ERR_NOT_FOUND;
}

/* The object of an archive's audit record: "cut:" and 16 hex digits of SHA-256("node:seq"). */
static void archive_object(const char *node, int64_t seq, char out[24])
{
    char text[LIMIT_NODE_LEN + 24];
    int n = snprintf(text, sizeof text, "%s:%lld", node, (long long)seq);
    uint8_t digest[32];
    unsigned int len = 0;
    if (EVP_Digest(text, (size_t)n, digest, &len, EVP_sha256(), NULL) != 1) memset(digest, 0, 32);
    char hex[17];
    crypto_hex(digest, 8, hex);
    snprintf(out, 24, "cut:%s", hex); /* 4 + 16 digits and the NUL: 21 bytes of 24 */
}

/* The archive records every chain has shown, and the cuts the chains need one for. */
typedef struct archive_marks {
    char seen[64][LIMIT_OBJECT_LEN + 1];
    int n_seen;
    char needed[16][24];
    char needed_node[16][LIMIT_NODE_LEN + 1];
    int64_t needed_seq[16];
    int n_needed;
} archive_marks;

/* A chain whose first record is after seq 1 was archived: the cut must carry a signed
 * checkpoint (checked with key when there is one) and the chain an audit.archive record
 * naming it (see verify_chain). *start and prev receive where the chain continues. */
static hb_err archived_start(store *s, const char *node, const uint8_t *key, audit_report *r,
                             int64_t *start, uint8_t prev[32])
{
    audit_record first;
    int n = 0;
    if (store_audit_page(s, node, 0, 1, &first, &n) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    if (n == 0 || first.seq == 1) return HB_ERR_OK;
    audit_checkpoint cut;
    if (store_cut_page(s, node, first.seq - 2, 1, &cut, &n) != HB_ERR_OK) {
        return HB_ERR_UNAVAILABLE;
    }
    if (n == 0 || cut.seq != first.seq - 1) {
        return broken(r, node, 1, "the records before the first are missing, and no signed "
                                  "archive cut marks them archived");
    }
    if (key != NULL && !valid_tagged(key, &cut, cut_tag)) {
        return broken(r, node, cut.seq, "the archive cut's signature does not verify");
    }
    *start = first.seq;
    memcpy(prev, cut.hash, 32);
    return HB_ERR_OK;
}

/* ---- ledger rows -------------------------------------------------------------------------- */

/* The rows of one node's records, read table by table in write order beside its chain. */
enum { ROWS_PAGE = 64 };
typedef struct rows_cursor {
    rows_item *page;
    int n, at;
    int64_t after; /* the last key read */
    bool done;
} rows_cursor;
typedef struct rows_check {
    rows_cursor cursor[ROWS_TABLES];
    rows_digest digest;
    int64_t consumed[ROWS_TABLES]; /* rows of every chain so far, per table */
} rows_check;

static hb_err rows_check_init(rows_check *c)
{
    memset(c, 0, sizeof *c);
    if (rows_digest_init(&c->digest) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    for (int i = 0; i < ROWS_TABLES; i++) {
        c->cursor[i].page = malloc(ROWS_PAGE * sizeof *c->cursor[i].page);
        if (c->cursor[i].page == NULL) return HB_ERR_UNAVAILABLE;
    }
    return HB_ERR_OK;
}

static void rows_check_free(rows_check *c)
{
    rows_digest_free(&c->digest);
    for (int i = 0; i < ROWS_TABLES; i++) free(c->cursor[i].page);
}

/* Start reading a node's rows. */
static void rows_check_node(rows_check *c)
{
    for (int i = 0; i < ROWS_TABLES; i++) {
        c->cursor[i].n = c->cursor[i].at = 0;
        c->cursor[i].after = INT64_MIN; /* every key, a forged negative one too */
        c->cursor[i].done = false;
    }
}

/* The next row of table (NULL at the end). */
static hb_err rows_peek(store *s, const char *node, rows_check *c, rows_table table,
                        const rows_item **out)
{
    rows_cursor *k = &c->cursor[table];
    *out = NULL;
    if (k->at == k->n && !k->done) {
        hb_err err = store_rows_page(s, table, node, k->after, ROWS_PAGE, k->page, &k->n);
        if (err != HB_ERR_OK) return err;
        k->at = 0;
        k->done = k->n < ROWS_PAGE;
        if (k->n > 0) k->after = k->page[k->n - 1].key;
    }
    if (k->at < k->n) *out = &k->page[k->at];
    return HB_ERR_OK;
}

static void rows_next(rows_check *c, rows_table table)
{
    c->cursor[table].at++;
    c->consumed[table]++;
}

/* Pass over the rows of records before `from` (archived, or before --from): trusted. A row
 * naming a seq below 1 names no record that could ever have been. */
static hb_err rows_skip_before(store *s, const char *node, rows_check *c, int64_t from,
                               audit_report *r)
{
    for (int t = 0; t < ROWS_TABLES && r->ok; t++) {
        const rows_item *row = NULL;
        for (;;) {
            if (rows_peek(s, node, c, (rows_table)t, &row) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
            if (row == NULL || row->audit_seq >= from) break;
            if (row->audit_seq < 1) {
                char why[160];
                snprintf(why, sizeof why, "%s row %lld names seq %lld, which no record can have "
                         "(inserted)", rows_table_name[t], (long long)row->key,
                         (long long)row->audit_seq);
                return broken(r, node, row->audit_seq, why);
            }
            rows_next(c, (rows_table)t);
        }
    }
    return HB_ERR_OK;
}

/* Recompute record a's row digest from the rows that name it, and compare. */
static hb_err rows_check_record(store *s, rows_check *c, const audit_record *a, audit_report *r)
{
    char why[160];
    const EVP_MD *md = a->alg == AUDIT_ALG_SM3 ? EVP_sm3() : EVP_sha256();
    if (md == NULL) return broken(r, a->node, a->seq, "the record's hash (SM3) is not available");
    rows_digest_begin(&c->digest, md);
    for (int t = 0; t < ROWS_TABLES; t++) {
        const rows_item *row = NULL;
        for (;;) {
            if (rows_peek(s, a->node, c, (rows_table)t, &row) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
            if (row == NULL || row->audit_seq > a->seq) break;
            if (row->audit_seq < a->seq) {
                snprintf(why, sizeof why, "%s row %lld names an earlier record, out of write "
                         "order (moved or inserted)", rows_table_name[t], (long long)row->key);
                return broken(r, a->node, row->audit_seq, why);
            }
            if (!a->has_rows || row->malformed) {
                snprintf(why, sizeof why, "%s row %lld %s", rows_table_name[t], (long long)row->key,
                         row->malformed ? "holds text longer than any written (edited)"
                                        : "names a record written before rows were tagged");
                return broken(r, a->node, a->seq, why);
            }
            const char *texts[ROWS_TEXTS_MAX];
            for (int i = 0; i < ROWS_TEXTS_MAX; i++) texts[i] = row->texts[i];
            if (rows_digest_add(&c->digest, (rows_table)t, row->ints, rows_table_ints[t], texts,
                                rows_table_texts[t]) != HB_ERR_OK) {
                return HB_ERR_UNAVAILABLE;
            }
            rows_next(c, (rows_table)t);
            r->rows++;
        }
    }
    if (!a->has_rows) {
        r->legacy_records++;
        return HB_ERR_OK;
    }
    uint8_t digest[32];
    if (rows_digest_final(&c->digest, digest) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    if (memcmp(digest, a->row_digest, 32) != 0) {
        return broken(r, a->node, a->seq, "the ledger rows this record wrote differ from its "
                                          "row digest (a row edited, deleted or inserted)");
    }
    return HB_ERR_OK;
}

/* After a node's last record: a row naming a later record was inserted. */
static hb_err rows_check_end(store *s, const char *node, rows_check *c, audit_report *r)
{
    for (int t = 0; t < ROWS_TABLES; t++) {
        const rows_item *row = NULL;
        if (rows_peek(s, node, c, (rows_table)t, &row) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
        if (row != NULL) {
            char why[160];
            snprintf(why, sizeof why, "%s row %lld names a record the chain does not have "
                     "(inserted)", rows_table_name[t], (long long)row->key);
            return broken(r, node, row->audit_seq, why);
        }
    }
    return HB_ERR_OK;
}

/* Every tagged row was read with some chain; untagged rows only in a store whose trail
 * predates tagging. And the columns later commands change agree with the rows they derive
 * from. */
static hb_err rows_check_store(store *s, rows_check *c, bool whole_trail, audit_report *r)
{
    for (int t = 0; t < ROWS_TABLES && r->ok; t++) {
        rows_counts n;
        if (store_rows_count(s, (rows_table)t, &n) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
        r->legacy_rows += n.untagged;
        char why[160];
        if (n.tagged != c->consumed[t]) {
            snprintf(why, sizeof why, "%lld %s row(s) name a node that has no audit chain "
                     "(inserted)", (long long)(n.tagged - c->consumed[t]), rows_table_name[t]);
            return broken(r, "", 0, why);
        }
        /* rows from before tagging began come before every tagged row, and only in a store
         * whose trail goes back that far */
        bool late = n.untagged > 0 && n.tagged > 0 && n.untagged_max_key > n.tagged_min_key;
        if (late || (n.untagged > 0 && whole_trail && r->legacy_records == 0)) {
            snprintf(why, sizeof why, "%lld %s row(s) name no audit record (inserted)",
                     (long long)n.untagged, rows_table_name[t]);
            return broken(r, "", 0, why);
        }
    }
    if (!r->ok) return HB_ERR_OK;
    derived_report d;
    if (store_derived_check(s, &d) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    if (!d.ok) return broken(r, "", 0, d.reason);
    return HB_ERR_OK;
}

/* One chain from `from`; *last receives the seq of its last record, *first its first. */
static hb_err verify_chain(store *s, const char *node, int64_t from, const uint8_t *key,
                           archive_marks *marks, rows_check *rows, audit_report *r, int64_t *first,
                           int64_t *last)
{
    uint8_t prev[32] = {0};
    *last = 0;
    *first = 1;
    if (from == 1) {
        hb_err err = archived_start(s, node, key, r, first, prev);
        if (err != HB_ERR_OK || !r->ok) return err;
        if (*first > 1) {
            from = *first;
            *last = from - 1;
            if (marks->n_needed == 16) return broken(r, node, from - 1, "too many archived chains");
            int k = marks->n_needed++;
            archive_object(node, from - 1, marks->needed[k]);
            snprintf(marks->needed_node[k], sizeof marks->needed_node[k], "%s", node);
            marks->needed_seq[k] = from - 1;
        }
    } else {
        audit_record before;
        hb_err err = record_at(s, node, from - 1, &before);
        if (err == HB_ERR_NOT_FOUND) {
            /* a chain that ends before --from (another node's may be longer) has nothing to
             * check from there; one that goes on past a missing record is broken */
            audit_record later;
            int n = 0;
            if (store_audit_page(s, node, from - 1, 1, &later, &n) != HB_ERR_OK) {
                return HB_ERR_UNAVAILABLE;
            }
            if (n > 0) return broken(r, node, from - 1, "the record before --from is missing");
            *first = from;
            *last = from - 1;
            if (rows == NULL) return HB_ERR_OK;
            rows_check_node(rows);
            return rows_skip_before(s, node, rows, from, r);
        }
        if (err != HB_ERR_OK) return err;
        memcpy(prev, before.hash, 32);
        *last = from - 1;
        *first = from;
    }
    enum { PAGE = 256 };
    audit_record *page = malloc(PAGE * sizeof *page);
    if (page == NULL) return HB_ERR_UNAVAILABLE;
    int64_t expect = from;
    hb_err err = HB_ERR_OK;
    if (rows != NULL) {
        rows_check_node(rows);
        err = rows_skip_before(s, node, rows, from, r);
    }
    for (int n = PAGE; err == HB_ERR_OK && n == PAGE && r->ok;) {
        err = store_audit_page(s, node, expect - 1, PAGE, page, &n);
        if (err != HB_ERR_OK) break;
        for (int i = 0; i < n && r->ok && err == HB_ERR_OK; i++) {
            const audit_record *a = &page[i];
            uint8_t hash[32];
            if (a->seq != expect) {
                broken(r, node, expect, "the record is missing (the chain skips it)");
            } else if (a->malformed) {
                broken(r, node, a->seq, "the record's hashes are not 32 bytes");
            } else if (memcmp(a->prev_hash, prev, 32) != 0) {
                broken(r, node, a->seq, "the record does not follow the one before it (moved, "
                                        "inserted, or the one before it changed)");
            } else if (audit_record_hash(a, hash) != HB_ERR_OK) {
                err = HB_ERR_UNAVAILABLE;
            } else if (memcmp(hash, a->hash, 32) != 0) {
                broken(r, node, a->seq, "the record's contents do not match its hash (edited)");
            } else {
                memcpy(prev, a->hash, 32);
                *last = a->seq;
                expect++;
                r->records++;
                if (strcmp(a->action, "audit.archive") == 0 && marks->n_seen < 64) {
                    memcpy(marks->seen[marks->n_seen++], a->object, sizeof a->object);
                }
                if (rows != NULL) err = rows_check_record(s, rows, a, r);
            }
        }
        if (err != HB_ERR_OK) break;
    }
    free(page);
    return err;
}

static hb_err verify_checkpoints(store *s, const char *node, const uint8_t *key, int64_t first,
                                 int64_t last, audit_report *r)
{
    enum { PAGE = 64 };
    audit_checkpoint page[PAGE];
    int64_t after = 0;
    for (int n = PAGE; n == PAGE && r->ok;) {
        hb_err err = store_checkpoint_page(s, node, after, PAGE, page, &n);
        if (err != HB_ERR_OK) return err;
        for (int i = 0; i < n && r->ok; i++) {
            const audit_checkpoint *c = &page[i];
            after = c->seq;
            r->checkpoints++;
            if (key != NULL && !auditlog_signature_valid(key, c)) {
                return broken(r, node, c->seq, "a checkpoint's signature does not verify");
            }
            if (c->seq < first) continue; /* archived (its signature checked above) */
            audit_record a;
            err = c->seq <= last ? record_at(s, node, c->seq, &a) : HB_ERR_NOT_FOUND;
            if (err == HB_ERR_NOT_FOUND) {
                return broken(r, node, c->seq, "a checkpointed record is missing (the chain was cut)");
            }
            if (err != HB_ERR_OK) return err;
            if (memcmp(a.hash, c->hash, 32) != 0) {
                return broken(r, node, c->seq, "the chain differs from its signed checkpoint "
                                               "(rewritten)");
            }
        }
    }
    return HB_ERR_OK;
}

hb_err auditlog_verify(store *s, const uint8_t *public_key, int64_t from,
                       const audit_checkpoint *exported, const uint8_t *exported_key,
                       audit_report *out)
{
    return auditlog_verify_as(s, public_key, from, exported, exported_key, false, out);
}

static hb_err verify_in_snapshot(store *s, const uint8_t *public_key, int64_t from,
                                 const audit_checkpoint *exported, const uint8_t *exported_key,
                                 bool archive_file, audit_report *out);

hb_err auditlog_verify_as(store *s, const uint8_t *public_key, int64_t from,
                          const audit_checkpoint *exported, const uint8_t *exported_key,
                          bool archive_file, audit_report *out)
{
    /* one snapshot: a writer appending, signing or archiving meanwhile is not a break */
    bool began = false;
    if (store_snapshot_begin(s, &began) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    hb_err err = verify_in_snapshot(s, public_key, from, exported, exported_key, archive_file, out);
    store_snapshot_end(s, began);
    return err;
}

/* Every chain, its checkpoints and the exported checkpoint; with rows, every chain's rows. */
static hb_err verify_nodes(store *s, const uint8_t *public_key, int64_t from,
                           const audit_checkpoint *exported, rows_check *rows,
                           archive_marks *marks, bool *exported_seen_out, audit_report *out)
{
    bool exported_seen = false;
    char after[LIMIT_NODE_LEN + 1] = "";
    for (int n = 16; n == 16 && out->ok;) {
        char nodes[16][LIMIT_NODE_LEN + 1];
        hb_err err = store_audit_nodes(s, after, 16, nodes, &n);
        if (err != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
        for (int i = 0; i < n && out->ok; i++) {
            snprintf(after, sizeof after, "%s", nodes[i]);
            out->nodes++;
            int64_t first = 1, last = 0;
            err = verify_chain(s, nodes[i], from, public_key, marks, rows, out, &first, &last);
            if (err == HB_ERR_OK && out->ok) {
                err = verify_checkpoints(s, nodes[i], public_key, first, last, out);
            }
            if (err != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
            if (out->ok && exported != NULL && strcmp(exported->node, nodes[i]) == 0 &&
                exported->seq < first) {
                exported_seen = true; /* archived since: the archive holds it */
            } else if (out->ok && exported != NULL && strcmp(exported->node, nodes[i]) == 0) {
                exported_seen = true;
                audit_record a;
                err = exported->seq <= last ? record_at(s, nodes[i], exported->seq, &a)
                                            : HB_ERR_NOT_FOUND;
                if (err == HB_ERR_NOT_FOUND) {
                    broken(out, nodes[i], exported->seq,
                           "records up to the exported checkpoint are missing (the chain was cut)");
                } else if (err != HB_ERR_OK) {
                    return HB_ERR_UNAVAILABLE;
                } else if (memcmp(a.hash, exported->hash, 32) != 0) {
                    broken(out, nodes[i], exported->seq,
                           "the chain differs from the exported checkpoint (rewritten)");
                }
            }
            /* rows naming records past the chain's end: after the checkpoints, which say
             * more precisely that a tail was cut */
            if (out->ok && rows != NULL && rows_check_end(s, nodes[i], rows, out) != HB_ERR_OK) {
                return HB_ERR_UNAVAILABLE;
            }
        }
    }
    *exported_seen_out = exported_seen;
    return HB_ERR_OK;
}

static hb_err verify_in_snapshot(store *s, const uint8_t *public_key, int64_t from,
                                 const audit_checkpoint *exported, const uint8_t *exported_key,
                                 bool archive_file, audit_report *out)
{
    memset(out, 0, sizeof *out);
    out->ok = true;
    out->checkpoints_verified = public_key != NULL;
    if (from < 1) from = 1;
    if (exported != NULL) {
        out->exported_checked = true;
        if (public_key != NULL && memcmp(public_key, exported_key, 32) != 0) {
            return broken(out, exported->node, exported->seq,
                          "the exported checkpoint was signed with another audit key");
        }
        if (!auditlog_signature_valid(exported_key, exported)) {
            return broken(out, exported->node, exported->seq,
                          "the exported checkpoint's signature does not verify");
        }
    }
    bool exported_seen = false;
    static _Thread_local archive_marks marks;
    memset(&marks, 0, sizeof marks);
    /* an archive file holds the trail only; a store, its ledger rows too */
    rows_check *rows = NULL;
    if (!archive_file) {
        rows = malloc(sizeof *rows);
        if (rows == NULL || rows_check_init(rows) != HB_ERR_OK) {
            if (rows != NULL) rows_check_free(rows);
            free(rows);
            return HB_ERR_UNAVAILABLE;
        }
    }
    hb_err err = verify_nodes(s, public_key, from, exported, rows, &marks, &exported_seen, out);
    /* every archived chain's cut has its audit.archive record, in some chain */
    for (int k = 0; err == HB_ERR_OK && out->ok && !archive_file && k < marks.n_needed; k++) {
        bool seen = false;
        for (int j = 0; j < marks.n_seen && !seen; j++) seen = strcmp(marks.seen[j], marks.needed[k]) == 0;
        if (!seen) {
            broken(out, marks.needed_node[k], marks.needed_seq[k],
                   "the records up to this seq were removed without an audit.archive record");
        }
    }
    if (err == HB_ERR_OK && out->ok && exported != NULL && !exported_seen) {
        broken(out, exported->node, exported->seq,
               "the exported checkpoint's chain is missing from the store");
    }
    /* the rows no chain read, and the columns derived from rows */
    if (err == HB_ERR_OK && out->ok && rows != NULL) {
        err = rows_check_store(s, rows, from == 1 && marks.n_needed == 0, out);
    }
    if (rows != NULL) rows_check_free(rows);
    free(rows);
    return err == HB_ERR_OK ? HB_ERR_OK : HB_ERR_UNAVAILABLE;
}

json_t *auditlog_report_json(const audit_report *r)
{
    json_t *o = json_pack("{s:b,s:i,s:I,s:I,s:b,s:b,s:I,s:I,s:I}", "ok", r->ok, "chains", r->nodes,
                          "records", (json_int_t)r->records, "checkpoints",
                          (json_int_t)r->checkpoints, "checkpoint_signatures_checked",
                          r->checkpoints_verified, "exported_checkpoint_checked",
                          r->exported_checked, "rows", (json_int_t)r->rows, "untagged_rows",
                          (json_int_t)r->legacy_rows, "records_without_row_digest",
                          (json_int_t)r->legacy_records);
    if (o != NULL && !r->ok) {
        json_object_set_new(o, "broken", json_pack("{s:s,s:I,s:s}", "node", r->node, "seq",
                                                   (json_int_t)r->seq, "reason", r->reason));
    }
    return o;
}

/* ---- export ----------------------------------------------------------------------------- */

hb_err auditlog_export(const char *path, const audit_checkpoint *c, const uint8_t public_key[32],
                       char *why, size_t size)
{
    char hash[65], sig[129], key[65];
    crypto_hex(c->hash, 32, hash);
    crypto_hex(c->signature, 64, sig);
    crypto_hex(public_key, 32, key);
    json_t *o = json_pack("{s:s,s:I,s:I,s:s,s:s,s:s}", "node", c->node, "seq", (json_int_t)c->seq,
                          "time", (json_int_t)c->time_ms, "hash", hash, "signature", sig,
                          "public_key", key);
    int rc = o != NULL ? json_dump_file(o, path, JSON_SORT_KEYS | JSON_INDENT(2)) : -1;
    json_decref(o);
    if (rc != 0) {
        snprintf(why, size, "cannot write %s", path);
        return HB_ERR_UNAVAILABLE;
    }
    return HB_ERR_OK;
}

static bool hex_field(json_t *o, const char *name, uint8_t *out, size_t len)
{
    json_t *v = json_object_get(o, name);
    return json_is_string(v) && crypto_unhex(json_string_value(v), json_string_length(v), out, len);
}

hb_err auditlog_import(const char *path, audit_checkpoint *c, uint8_t public_key[32], char *why,
                       size_t size)
{
    memset(c, 0, sizeof *c);
    json_error_t error;
    json_t *o = json_load_file(path, JSON_REJECT_DUPLICATES, &error);
    if (o == NULL) {
        snprintf(why, size, "%s: %s", path, error.text);
        return HB_ERR_INVALID_ARGUMENT;
    }
    json_t *node = json_object_get(o, "node"), *seq = json_object_get(o, "seq"),
           *time = json_object_get(o, "time");
    bool ok = json_is_string(node) && json_string_length(node) > 0 &&
              json_string_length(node) <= LIMIT_NODE_LEN && json_is_integer(seq) &&
              json_integer_value(seq) > 0 && json_is_integer(time) &&
              hex_field(o, "hash", c->hash, 32) && hex_field(o, "signature", c->signature, 64) &&
              hex_field(o, "public_key", public_key, 32);
    if (ok) {
        snprintf(c->node, sizeof c->node, "%s", json_string_value(node));
        c->seq = json_integer_value(seq);
        c->time_ms = json_integer_value(time);
    }
    json_decref(o);
    if (!ok) {
        snprintf(why, size, "%s is not an exported checkpoint (node, seq, time, hash, signature, "
                            "public_key)", path);
        return HB_ERR_INVALID_ARGUMENT;
    }
    return HB_ERR_OK;
}

/* ---- archive ------------------------------------------------------------------------------ */

typedef struct archive_cmd {
    command base;
    char node[LIMIT_NODE_LEN + 1];
    int64_t seq;
    int64_t deleted; /* out */
} archive_cmd;

static hb_err exec_archive(txn *t, command *cmd)
{
    archive_cmd *c = (archive_cmd *)cmd;
    if (store_audit_delete_through(txn_store(t), c->node, c->seq, &c->deleted) != HB_ERR_OK) {
        return HB_ERR_UNAVAILABLE;
    }
    const int64_t ints[] = {c->seq, c->deleted};
    const char *const texts[] = {c->node};
    if (txn_digest_row(t, "audit_archive", ints, 2, texts, 1) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    char object[24];
    archive_object(c->node, c->seq, object);
    txn_audit(t, "audit.archive", object);
    return HB_ERR_OK;
}

/* Copy a chain's signed rows (checkpoints or cuts) up to seq into the archive store. */
typedef hb_err (*signed_page_fn)(store *, const char *, int64_t, int, audit_checkpoint *, int *);
typedef hb_err (*signed_insert_fn)(store *, const audit_checkpoint *);
static hb_err copy_signed(store *from, store *to, const char *node, int64_t seq,
                          signed_page_fn page, signed_insert_fn insert)
{
    audit_checkpoint rows[64];
    int64_t after = 0;
    hb_err err = HB_ERR_OK;
    for (int n = 64; err == HB_ERR_OK && n == 64;) {
        err = page(from, node, after, 64, rows, &n);
        for (int i = 0; err == HB_ERR_OK && i < n && rows[i].seq <= seq; i++) {
            after = rows[i].seq;
            err = insert(to, &rows[i]);
        }
        if (n > 0 && rows[n - 1].seq > seq) break;
    }
    return err;
}

/* Copy a chain's records up to seq, and its checkpoints and cuts up to seq, into the archive
 * store. */
static hb_err copy_chain(store *from, store *to, const char *node, int64_t seq)
{
    enum { PAGE = 256 };
    audit_record *page = malloc(PAGE * sizeof *page);
    if (page == NULL) return HB_ERR_UNAVAILABLE;
    hb_err err = HB_ERR_OK;
    int64_t after = 0;
    for (int n = PAGE; err == HB_ERR_OK && n == PAGE;) {
        err = store_audit_page(from, node, after, PAGE, page, &n);
        for (int i = 0; err == HB_ERR_OK && i < n && page[i].seq <= seq; i++) {
            after = page[i].seq;
            err = store_audit_append(to, &page[i]);
        }
        if (n > 0 && page[n - 1].seq > seq) break;
    }
    free(page);
    if (err == HB_ERR_OK) {
        err = copy_signed(from, to, node, seq, store_checkpoint_page, store_checkpoint_insert);
    }
    /* and the cuts up to seq: a later archive starts at the one before */
    if (err == HB_ERR_OK) err = copy_signed(from, to, node, seq, store_cut_page, store_cut_insert);
    return err;
}

hb_err auditlog_archive(engine *e, const char *db, EVP_PKEY *key, int64_t before_ms,
                        const char *path, int64_t *moved, char *why, size_t size)
{
    *moved = 0;
    uint8_t public_key[32];
    if (auditlog_public_key(key, public_key) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
    store *live = NULL;
    store_options ro = {.read_only = true};
    hb_err err = store_open(db, &ro, &live, why, size);
    if (err != HB_ERR_OK) return err;
    audit_report report;
    err = auditlog_verify(live, public_key, 1, NULL, NULL, &report);
    if (err == HB_ERR_OK && !report.ok) {
        snprintf(why, size, "the audit trail does not verify (chain %s, seq %lld: %s): nothing archived",
                 report.node, (long long)report.seq, report.reason);
        err = HB_ERR_INVALID_ARGUMENT;
    }
    /* the cut of each chain: its last record before the date, not archived yet */
    enum { NODES = 16 };
    char nodes[NODES][LIMIT_NODE_LEN + 1];
    int64_t cuts[NODES] = {0};
    int n_nodes = 0;
    if (err == HB_ERR_OK) err = store_audit_nodes(live, "", NODES, nodes, &n_nodes);
    for (int i = 0; err == HB_ERR_OK && i < n_nodes; i++) {
        audit_record cut, first;
        int n = 0;
        err = store_audit_before(live, nodes[i], before_ms, &cut);
        if (err == HB_ERR_NOT_FOUND) {
            err = HB_ERR_OK;
            continue;
        }
        if (err == HB_ERR_OK) err = store_audit_page(live, nodes[i], 0, 1, &first, &n);
        if (err == HB_ERR_OK && n == 1 && cut.seq >= first.seq) cuts[i] = cut.seq;
    }
    store_close(live);
    live = NULL;
    if (err != HB_ERR_OK) return err;
    bool any = false;
    for (int i = 0; i < n_nodes; i++) any |= cuts[i] > 0;
    if (!any) {
        snprintf(why, size, "no audit record before that date is left to archive");
        return HB_ERR_NOT_FOUND;
    }
    /* a signed checkpoint at each cut */
    for (int i = 0; i < n_nodes; i++) {
        if (cuts[i] == 0) continue;
        checkpoint_cmd c;
        auditlog_checkpoint_prepare(&c, key, false, 0, 0, "system:archive");
        c.node = nodes[i];
        c.seq = cuts[i];
        err = engine_submit(e, &c.base);
        if (err != HB_ERR_OK) {
            snprintf(why, size, "cannot sign the cut: %s", c.base.err_detail);
            return err;
        }
    }
    /* the archive: a store of its own holding the records and checkpoints up to each cut */
    if (access(path, F_OK) == 0) {
        snprintf(why, size, "%s exists already", path);
        return HB_ERR_INVALID_ARGUMENT;
    }
    store *archive = NULL;
    store_options create = {.create = true};
    err = store_open(path, &create, &archive, why, size);
    if (err == HB_ERR_OK) err = store_open(db, &ro, &live, why, size);
    if (err == HB_ERR_OK) err = store_begin(archive);
    for (int i = 0; err == HB_ERR_OK && i < n_nodes; i++) {
        if (cuts[i] > 0) err = copy_chain(live, archive, nodes[i], cuts[i]);
    }
    if (err == HB_ERR_OK) err = store_commit(archive);
    store_close(live);
    if (err == HB_ERR_OK) err = auditlog_verify_as(archive, public_key, 1, NULL, NULL, true, &report);
    store_close(archive);
    if (err == HB_ERR_OK && !report.ok) {
        snprintf(why, size, "the archive does not verify (seq %lld: %s)", (long long)report.seq,
                 report.reason);
        err = HB_ERR_UNAVAILABLE;
    }
    if (err != HB_ERR_OK) {
        if (why[0] == '\0') snprintf(why, size, "cannot write the archive %s", path);
        unlink(path);
        return err;
    }
    /* only now: the records leave the store, the removal audited */
    for (int i = 0; i < n_nodes; i++) {
        if (cuts[i] == 0) continue;
        archive_cmd c;
        memset(&c, 0, sizeof c);
        c.base.exec = exec_archive;
        snprintf(c.base.actor, sizeof c.base.actor, "system:archive");
        memcpy(c.node, nodes[i], sizeof c.node);
        c.seq = cuts[i];
        err = engine_submit(e, &c.base);
        if (err != HB_ERR_OK) {
            snprintf(why, size, "the archive is written but the records could not be removed: %s",
                     c.base.err_detail);
            return err;
        }
        *moved += c.deleted;
    }
    return HB_ERR_OK;
}
