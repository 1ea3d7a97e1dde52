/* The audit trail's proof (issue 9), on SQLite and (as pg/unit/test_audit) on PostgreSQL:
 * the record hash against an independent computation, checkpoint signatures, and the
 * verifier against every kind of tampering done straight in the store, around the
 * application: an edited record, a deleted one, two swapped, one inserted, the tail cut, the
 * tail rewritten with fresh hashes, checkpoints deleted or forged. Each is caught, at the
 * seq where it happened, except what the guarantee leaves out (a cut or rewritten tail with
 * its checkpoints deleted), which only an exported checkpoint catches. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "engine/audit.h"
#include "service/auditlog.h"
#include "testutil.h"

enum { RECORDS_AT_CHECKPOINT = 20 };

static struct {
    char dir[512];
    char url[700];
    engine *e;
    EVP_PKEY *key;
    uint8_t public_key[32];
    audit_checkpoint exported; /* the checkpoint at RECORDS_AT_CHECKPOINT, kept off the store */
    int64_t a, b;
} fx;

static audit_checkpoint checkpoint_now(void)
{
    checkpoint_cmd c;
    auditlog_checkpoint_prepare(&c, fx.key, true, 0, 0, "test");
    assert_int_equal(engine_submit(fx.e, &c.base), HB_ERR_OK);
    return c.last;
}

static audit_checkpoint checkpoint_now_on(engine *e)
{
    checkpoint_cmd c;
    auditlog_checkpoint_prepare(&c, fx.key, true, 0, 0, "test");
    assert_int_equal(engine_submit(e, &c.base), HB_ERR_OK);
    return c.last;
}

static int64_t last_seq(void)
{
    store *s = NULL;
    store_options o = {.read_only = true};
    char why[256];
    assert_int_equal(store_open(fx.url, &o, &s, why, sizeof why), HB_ERR_OK);
    audit_record r;
    assert_int_equal(store_audit_last(s, "local", &r), HB_ERR_OK);
    store_close(s);
    return r.seq;
}

static int setup(void **state)
{
    (void)state;
    snprintf(fx.dir, sizeof fx.dir, "%s", testutil_tempdir());
    snprintf(fx.url, sizeof fx.url, "%s", testutil_store(fx.dir, "audit.db"));
    fx.e = testutil_engine(fx.url, NULL);
    char key_file[600], why[256];
    snprintf(key_file, sizeof key_file, "%s/audit-key", fx.dir);
    int created = 0;
    assert_int_equal(auditlog_key_create(key_file, &created, why, sizeof why), HB_ERR_OK);
    assert_int_equal(created, 1);
    assert_int_equal(auditlog_key_load(key_file, &fx.key, why, sizeof why), HB_ERR_OK);
    assert_int_equal(auditlog_public_key(fx.key, fx.public_key), HB_ERR_OK);
    fx.a = testutil_wallet(fx.e, "A", CURRENCY_CNY);
    fx.b = testutil_wallet(fx.e, "B", CURRENCY_CNY);
    assert_int_equal(testutil_topup(fx.e, fx.a, 1000000), HB_ERR_OK);
    while (last_seq() < RECORDS_AT_CHECKPOINT) {
        assert_int_equal(testutil_transfer(fx.e, fx.a, fx.b, 100, NULL, NULL), HB_ERR_OK);
    }
    fx.exported = checkpoint_now();
    assert_int_equal(fx.exported.seq, RECORDS_AT_CHECKPOINT);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(testutil_transfer(fx.e, fx.a, fx.b, 100, NULL, NULL), HB_ERR_OK);
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    engine_close(fx.e);
    EVP_PKEY_free(fx.key);
    testutil_rmdir(fx.dir);
    return 0;
}

static audit_report verify(bool with_key, bool with_export)
{
    store *s = NULL;
    store_options o = {.read_only = true};
    char why[256];
    assert_int_equal(store_open(fx.url, &o, &s, why, sizeof why), HB_ERR_OK);
    audit_report r;
    assert_int_equal(auditlog_verify(s, with_key ? fx.public_key : NULL, 1,
                                     with_export ? &fx.exported : NULL, fx.public_key, &r),
                     HB_ERR_OK);
    store_close(s);
    return r;
}

static void expect_broken(int64_t seq, const char *why)
{
    audit_report r = verify(true, true);
    if (r.ok || r.seq != seq || strstr(r.reason, why) == NULL) {
        fail_msg("expected broken at %lld (%s), got ok=%d seq=%lld %s", (long long)seq, why, r.ok,
                 (long long)r.seq, r.reason);
    }
}

/* The hash is SHA-256(0x00 || prev_hash || node || seq || time || actor || action || object
 * || digest), strings length-prefixed (4 bytes), integers 8 bytes, big-endian: computed here
 * from the bytes, independently of engine/audit.c. */
static void test_record_hash(void **state)
{
    (void)state;
    audit_record r;
    memset(&r, 0, sizeof r);
    snprintf(r.node, sizeof r.node, "n1");
    r.seq = 258;
    r.time_ms = 1;
    snprintf(r.actor, sizeof r.actor, "a");
    snprintf(r.action, sizeof r.action, "x.y");
    r.object[0] = '\0';
    for (int i = 0; i < 32; i++) {
        r.prev_hash[i] = (uint8_t)i;
        r.digest[i] = (uint8_t)(0xff - i);
    }
    uint8_t bytes[256];
    size_t n = 0;
    bytes[n++] = 0x00;
    memcpy(bytes + n, r.prev_hash, 32);
    n += 32;
    const uint8_t node[] = {0, 0, 0, 2, 'n', '1'};
    memcpy(bytes + n, node, sizeof node);
    n += sizeof node;
    const uint8_t seq_time[] = {0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 1};
    memcpy(bytes + n, seq_time, sizeof seq_time);
    n += sizeof seq_time;
    const uint8_t texts[] = {0, 0, 0, 1, 'a', 0, 0, 0, 3, 'x', '.', 'y', 0, 0, 0, 0};
    memcpy(bytes + n, texts, sizeof texts);
    n += sizeof texts;
    memcpy(bytes + n, r.digest, 32);
    n += 32;
    uint8_t expected[32], got[32];
    unsigned int len = 0;
    assert_int_equal(EVP_Digest(bytes, n, expected, &len, EVP_sha256(), NULL), 1);
    assert_int_equal(audit_record_hash(&r, got), HB_ERR_OK);
    assert_memory_equal(got, expected, 32);
    /* any field changes it */
    r.time_ms = 2;
    assert_int_equal(audit_record_hash(&r, got), HB_ERR_OK);
    assert_memory_not_equal(got, expected, 32);
    /* national-crypto mode: the same bytes under SM3 */
    r.time_ms = 1;
    r.alg = AUDIT_ALG_SM3;
    assert_int_equal(EVP_Digest(bytes, n, expected, &len, EVP_sm3(), NULL), 1);
    assert_int_equal(audit_record_hash(&r, got), HB_ERR_OK);
    assert_memory_equal(got, expected, 32);
}

/* Switching to national-crypto mode mid-chain: later records are hashed with SM3, the chain
 * verifies across the switch, and an edit of an SM3 record is caught like any other. */
static void test_sm3_chain(void **state)
{
    (void)state;
    int64_t before = last_seq();
    policy p;
    policy_defaults(&p);
    p.national_crypto = true;
    engine_set_policy(fx.e, &p);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(testutil_transfer(fx.e, fx.a, fx.b, 10, NULL, NULL), HB_ERR_OK);
    }
    store *s = NULL;
    store_options o = {.read_only = true};
    char why[256];
    assert_int_equal(store_open(fx.url, &o, &s, why, sizeof why), HB_ERR_OK);
    audit_record page[8];
    int n = 0;
    assert_int_equal(store_audit_page(s, "local", before - 1, 8, page, &n), HB_ERR_OK);
    store_close(s);
    assert_int_equal(n, 5);
    assert_int_equal(page[0].alg, AUDIT_ALG_SHA256);
    for (int i = 1; i < n; i++) assert_int_equal(page[i].alg, AUDIT_ALG_SM3);
    assert_true(verify(true, true).ok);
    char sql[120];
    snprintf(sql, sizeof sql, "UPDATE audit SET time = time + 1 WHERE seq = %lld",
             (long long)(before + 2));
    testutil_sql(fx.url, sql);
    expect_broken(before + 2, "edited");
}

static void test_checkpoint_signature(void **state)
{
    (void)state;
    audit_checkpoint c = fx.exported;
    assert_true(auditlog_signature_valid(fx.public_key, &c));
    c.seq++;
    assert_false(auditlog_signature_valid(fx.public_key, &c));
    c = fx.exported;
    c.hash[31] ^= 1;
    assert_false(auditlog_signature_valid(fx.public_key, &c));
    c = fx.exported;
    c.node[0] = 'X';
    assert_false(auditlog_signature_valid(fx.public_key, &c));
    /* another key's public half */
    EVP_PKEY *other = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    uint8_t other_public[32];
    assert_int_equal(auditlog_public_key(other, other_public), HB_ERR_OK);
    assert_false(auditlog_signature_valid(other_public, &fx.exported));
    EVP_PKEY_free(other);
    /* the export file round trip */
    char path[600], why[256];
    snprintf(path, sizeof path, "%s/cp.json", fx.dir);
    assert_int_equal(auditlog_export(path, &fx.exported, fx.public_key, why, sizeof why), HB_ERR_OK);
    audit_checkpoint back;
    uint8_t key[32];
    assert_int_equal(auditlog_import(path, &back, key, why, sizeof why), HB_ERR_OK);
    assert_memory_equal(key, fx.public_key, 32);
    assert_true(auditlog_signature_valid(key, &back));
    assert_int_equal(back.seq, fx.exported.seq);
}

static void test_untouched_verifies(void **state)
{
    (void)state;
    audit_report r = verify(true, true);
    assert_true(r.ok);
    assert_int_equal(r.nodes, 1);
    assert_int_equal(r.records, last_seq());
    assert_int_equal(r.checkpoints, 1);
    /* a later checkpoint too; and from a later seq */
    (void)checkpoint_now();
    r = verify(true, true);
    assert_true(r.ok);
    assert_int_equal(r.checkpoints, 2);
    store *s = NULL;
    store_options o = {.read_only = true};
    char why[256];
    assert_int_equal(store_open(fx.url, &o, &s, why, sizeof why), HB_ERR_OK);
    assert_int_equal(auditlog_verify(s, fx.public_key, 25, NULL, NULL, &r), HB_ERR_OK);
    store_close(s);
    assert_true(r.ok);
    assert_int_equal(r.records, last_seq() - 24);
    /* a second node's shorter chain: --from past its end checks the longer chain only */
    engine_options o2 = {.node = "short"};
    engine *e2 = testutil_engine(fx.url, &o2);
    assert_int_equal(testutil_transfer(e2, fx.a, fx.b, 1, NULL, NULL), HB_ERR_OK);
    engine_close(e2);
    store_options ro = {.read_only = true};
    assert_int_equal(store_open(fx.url, &ro, &s, why, sizeof why), HB_ERR_OK);
    assert_int_equal(auditlog_verify(s, fx.public_key, 25, NULL, NULL, &r), HB_ERR_OK);
    if (!r.ok) fail_msg("--from past a short chain: %s %lld %s", r.node, (long long)r.seq, r.reason);
    assert_int_equal(r.nodes, 2);
    assert_int_equal(auditlog_verify(s, fx.public_key, 1, NULL, NULL, &r), HB_ERR_OK);
    assert_true(r.ok);
    store_close(s);
}

static void test_edited_record(void **state)
{
    (void)state;
    testutil_sql(fx.url, "UPDATE audit SET actor = 'someone else' WHERE seq = 5");
    expect_broken(5, "edited");
}

static void test_deleted_record(void **state)
{
    (void)state;
    testutil_sql(fx.url, "DELETE FROM audit WHERE seq = 7");
    expect_broken(7, "missing");
}

static void test_reordered_records(void **state)
{
    (void)state;
    testutil_sql(fx.url, "UPDATE audit SET seq = -8 WHERE seq = 8");
    testutil_sql(fx.url, "UPDATE audit SET seq = 8 WHERE seq = 9");
    testutil_sql(fx.url, "UPDATE audit SET seq = 9 WHERE seq = -8");
    expect_broken(8, "does not follow");
}

static void test_inserted_record(void **state)
{
    (void)state;
    testutil_sql(fx.url, "UPDATE audit SET seq = seq + 1000 WHERE seq >= 10");
    testutil_sql(fx.url, "UPDATE audit SET seq = seq - 999 WHERE seq >= 1010");
    testutil_sql(fx.url, "INSERT INTO audit (node, seq, time, actor, action, object, digest, "
                         "prev_hash, hash) SELECT node, 10, time, actor, action, object, digest, "
                         "prev_hash, hash FROM audit WHERE seq = 9");
    expect_broken(10, "does not follow");
}

static void test_malformed_record(void **state)
{
    (void)state;
    const uint8_t short_hash[4] = {1, 2, 3, 4};
    char sql[256];
    snprintf(sql, sizeof sql, "UPDATE audit SET hash = %s WHERE seq = 3",
             testutil_blob_sql(fx.url, short_hash, sizeof short_hash));
    testutil_sql(fx.url, sql);
    expect_broken(3, "not 32 bytes");
}

/* The tail cut: the store's own checkpoint catches it; with the checkpoints deleted too, the
 * ledger rows that name the cut records do; with those rows deleted as well, the balances no
 * longer derive from the transfers; only a tail cut together with its rows and balances
 * passes the store alone, and the exported checkpoint catches that (the guarantee's edge,
 * stated in the docs). */
static void test_cut_tail(void **state)
{
    (void)state;
    testutil_sql(fx.url, "DELETE FROM audit WHERE seq > 15");
    expect_broken(RECORDS_AT_CHECKPOINT, "cut");
    testutil_sql(fx.url, "DELETE FROM audit_checkpoints");
    audit_report r = verify(true, false);
    assert_false(r.ok);
    assert_int_equal(r.seq, 16);
    assert_non_null(strstr(r.reason, "names a record the chain does not have"));
    testutil_sql(fx.url, "DELETE FROM transfers WHERE audit_seq > 15");
    r = verify(true, false);
    assert_false(r.ok);
    assert_non_null(strstr(r.reason, "balance differs from its transfers"));
    /* the balances put back as the remaining transfers say: the store alone passes */
    testutil_sql(fx.url, "UPDATE balances SET balance = "
                         "(SELECT COALESCE(SUM(amount), 0) FROM transfers WHERE credit_id = account_id) - "
                         "(SELECT COALESCE(SUM(amount), 0) FROM transfers WHERE debit_id = account_id)");
    r = verify(true, false);
    if (!r.ok) fail_msg("expected the store alone to pass: seq %lld %s", (long long)r.seq, r.reason);
    expect_broken(RECORDS_AT_CHECKPOINT, "cut");
}

/* Rewrite record 12 and recompute every later hash, as an attacker with the store but not
 * the audit key would. */
static void rewrite_tail(int64_t from)
{
    store *s = NULL;
    store_options o = {.read_only = true};
    char why[256];
    assert_int_equal(store_open(fx.url, &o, &s, why, sizeof why), HB_ERR_OK);
    audit_record page[64];
    int n = 0;
    assert_int_equal(store_audit_page(s, "local", from - 2, 64, page, &n), HB_ERR_OK);
    store_close(s);
    uint8_t prev[32];
    memcpy(prev, page[0].hash, 32);
    for (int i = 1; i < n; i++) {
        audit_record *r = &page[i];
        if (r->seq == from) snprintf(r->actor, sizeof r->actor, "someone else");
        memcpy(r->prev_hash, prev, 32);
        assert_int_equal(audit_record_hash(r, r->hash), HB_ERR_OK);
        memcpy(prev, r->hash, 32);
        char sql[700], prev_sql[100];
        snprintf(prev_sql, sizeof prev_sql, "%s", testutil_blob_sql(fx.url, r->prev_hash, 32));
        snprintf(sql, sizeof sql, "UPDATE audit SET actor = '%s', prev_hash = %s, hash = %s "
                                  "WHERE seq = %lld", r->actor, prev_sql,
                 testutil_blob_sql(fx.url, r->hash, 32), (long long)r->seq);
        testutil_sql(fx.url, sql);
    }
}

static void test_rewritten_tail(void **state)
{
    (void)state;
    rewrite_tail(12);
    expect_broken(RECORDS_AT_CHECKPOINT, "rewritten");
    testutil_sql(fx.url, "DELETE FROM audit_checkpoints");
    assert_true(verify(true, false).ok); /* the chain itself is consistent again */
    expect_broken(RECORDS_AT_CHECKPOINT, "rewritten");
}

/* A rewritten tail with a checkpoint re-signed by another key: the signature fails. */
static void test_forged_checkpoint(void **state)
{
    (void)state;
    rewrite_tail(12);
    EVP_PKEY *other = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    store *s = NULL;
    store_options o = {.read_only = true};
    char why[256];
    assert_int_equal(store_open(fx.url, &o, &s, why, sizeof why), HB_ERR_OK);
    audit_record r;
    int n = 0;
    assert_int_equal(store_audit_page(s, "local", RECORDS_AT_CHECKPOINT - 1, 1, &r, &n), HB_ERR_OK);
    store_close(s);
    audit_checkpoint forged = fx.exported;
    memcpy(forged.hash, r.hash, 32);
    assert_int_equal(auditlog_sign(other, &forged), HB_ERR_OK);
    EVP_PKEY_free(other);
    char sql[700], sig[200];
    snprintf(sig, sizeof sig, "%s", testutil_blob_sql(fx.url, forged.signature, 64));
    snprintf(sql, sizeof sql, "UPDATE audit_checkpoints SET hash = %s, signature = %s",
             testutil_blob_sql(fx.url, forged.hash, 32), sig);
    testutil_sql(fx.url, sql);
    audit_report rep = verify(true, false);
    assert_false(rep.ok);
    assert_int_equal(rep.seq, RECORDS_AT_CHECKPOINT);
    assert_non_null(strstr(rep.reason, "signature"));
    /* without the audit key, only the exported checkpoint can tell */
    assert_true(verify(false, false).ok);
    rep = verify(false, true);
    assert_false(rep.ok);
    assert_int_equal(rep.seq, RECORDS_AT_CHECKPOINT);
    assert_non_null(strstr(rep.reason, "exported checkpoint (rewritten)"));
}

/* Records older than a date move to an archive behind a signed checkpoint: the store verifies
 * across the cut, the archive verifies on its own; a prefix removed without an archive (even
 * behind a real checkpoint) is caught. Its own store and clock: records from 2020. */
static void test_archive(void **state)
{
    (void)state;
    char dir[512], url[700], path[600], why[300];
    snprintf(dir, sizeof dir, "%s", testutil_tempdir());
    snprintf(url, sizeof url, "%s", testutil_store(dir, "arch.db"));
    hb_clock clock;
    clock_fixed_init(&clock, 1577836800000LL); /* 2020-01-01 */
    engine_options o = {.clock = &clock};
    engine *e = testutil_engine(url, &o);
    int64_t a = testutil_wallet(e, "A", CURRENCY_CNY), b = testutil_wallet(e, "B", CURRENCY_CNY);
    assert_int_equal(testutil_topup(e, a, 100000), HB_ERR_OK);
    for (int i = 0; i < 8; i++) {
        clock.fixed_ms += 3600000;
        assert_int_equal(testutil_transfer(e, a, b, 100 + i, NULL, NULL), HB_ERR_OK);
    }
    checkpoint_cmd c;
    auditlog_checkpoint_prepare(&c, fx.key, true, 0, 0, "test");
    assert_int_equal(engine_submit(e, &c.base), HB_ERR_OK);
    int64_t old_head = c.last.seq;
    clock.fixed_ms = 1622505600000LL; /* 2021-06-01: records of the second archive */
    for (int i = 0; i < 3; i++) assert_int_equal(testutil_transfer(e, a, b, 9, NULL, NULL), HB_ERR_OK);
    int64_t head_2021 = old_head + 3;
    clock.fixed_ms = 1795744800000LL; /* 2026-11-27 */
    for (int i = 0; i < 5; i++) assert_int_equal(testutil_transfer(e, a, b, 7, NULL, NULL), HB_ERR_OK);
    /* archive what is before 2021: everything of 2020 */
    snprintf(path, sizeof path, "%s/archive.db", dir);
    int64_t moved = 0;
    assert_int_equal(auditlog_archive(e, url, fx.key, 1609459200000LL, path, &moved, why, sizeof why),
                     HB_ERR_OK);
    assert_int_equal(moved, old_head);
    store *s = NULL;
    store_options ro = {.read_only = true};
    audit_report r;
    assert_int_equal(store_open(url, &ro, &s, why, sizeof why), HB_ERR_OK);
    assert_int_equal(auditlog_verify(s, fx.public_key, 1, NULL, NULL, &r), HB_ERR_OK);
    audit_record first;
    int n = 0;
    assert_int_equal(store_audit_page(s, "local", 0, 1, &first, &n), HB_ERR_OK);
    store_close(s);
    if (!r.ok) fail_msg("store after the archive: seq %lld %s", (long long)r.seq, r.reason);
    assert_int_equal(first.seq, old_head + 1);
    /* the archive on its own, with the checkpoint at its cut */
    store *arch = NULL;
    assert_int_equal(store_open(path, &ro, &arch, why, sizeof why), HB_ERR_OK);
    assert_int_equal(auditlog_verify_as(arch, fx.public_key, 1, NULL, NULL, true, &r), HB_ERR_OK);
    store_close(arch);
    assert_true(r.ok);
    assert_int_equal(r.records, old_head);
    /* nothing left before the date: refused */
    assert_int_equal(auditlog_archive(e, url, fx.key, 1609459200000LL, path, &moved, why, sizeof why),
                     HB_ERR_NOT_FOUND);
    /* a year later's archive: it starts at the first one's cut (its audit.archive record stays
     * in the store), verifies as an archive file, and the store across the new cut */
    char path2[640];
    snprintf(path2, sizeof path2, "%s/archive-2021.db", dir);
    assert_int_equal(auditlog_archive(e, url, fx.key, 1640995200000LL, path2, &moved, why, sizeof why),
                     HB_ERR_OK);
    assert_int_equal(moved, 3);
    assert_int_equal(store_open(path2, &ro, &arch, why, sizeof why), HB_ERR_OK);
    assert_int_equal(auditlog_verify_as(arch, fx.public_key, 1, NULL, NULL, true, &r), HB_ERR_OK);
    assert_true(r.ok);
    assert_int_equal(r.records, 3);
    assert_int_equal(auditlog_verify(arch, fx.public_key, 1, NULL, NULL, &r), HB_ERR_OK);
    assert_false(r.ok); /* as a store it would lack the first archive's record */
    store_close(arch);
    assert_int_equal(store_open(url, &ro, &s, why, sizeof why), HB_ERR_OK);
    assert_int_equal(auditlog_verify(s, fx.public_key, 1, NULL, NULL, &r), HB_ERR_OK);
    store_close(s);
    if (!r.ok) fail_msg("store after the second archive: seq %lld %s", (long long)r.seq, r.reason);
    (void)head_2021;
    /* a prefix removed behind a routine checkpoint (no archive cut): caught */
    audit_checkpoint routine = checkpoint_now_on(e);
    for (int i = 0; i < 3; i++) assert_int_equal(testutil_transfer(e, a, b, 5, NULL, NULL), HB_ERR_OK);
    char sql[200];
    snprintf(sql, sizeof sql, "DELETE FROM audit WHERE seq <= %lld", (long long)routine.seq);
    testutil_sql(url, sql);
    assert_int_equal(store_open(url, &ro, &s, why, sizeof why), HB_ERR_OK);
    assert_int_equal(auditlog_verify(s, fx.public_key, 1, NULL, NULL, &r), HB_ERR_OK);
    store_close(s);
    assert_false(r.ok);
    assert_non_null(strstr(r.reason, "no signed archive cut"));
    /* behind a genuine cut signature but without the archive's own record: caught too */
    checkpoint_cmd at;
    auditlog_checkpoint_prepare(&at, fx.key, false, 0, 0, "test");
    at.node = "local";
    at.seq = routine.seq + 1;
    assert_int_equal(engine_submit(e, &at.base), HB_ERR_OK);
    assert_int_equal(at.made, 1);
    snprintf(sql, sizeof sql, "DELETE FROM audit WHERE seq <= %lld", (long long)(routine.seq + 1));
    testutil_sql(url, sql);
    assert_int_equal(store_open(url, &ro, &s, why, sizeof why), HB_ERR_OK);
    assert_int_equal(auditlog_verify(s, fx.public_key, 1, NULL, NULL, &r), HB_ERR_OK);
    store_close(s);
    assert_false(r.ok);
    assert_int_equal(r.seq, routine.seq + 1);
    assert_non_null(strstr(r.reason, "without an audit.archive record"));
    engine_close(e);
    testutil_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_record_hash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_signature, setup, teardown),
        cmocka_unit_test_setup_teardown(test_untouched_verifies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edited_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deleted_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reordered_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inserted_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cut_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rewritten_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forged_checkpoint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_archive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sm3_chain, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
