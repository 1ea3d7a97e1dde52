/* Property test: a million random operations, valid and invalid, from several threads at
 * once. Afterwards the ledger invariants hold, every accepted operation is in the store
 * exactly once with what was asked, and every rejected one left no trace: the balances equal
 * what the accepted operations alone produce, and the audit chain has one record per
 * accepted operation. HB_TEST_SCALE (percent) shrinks the run under sanitizers. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "core/rng.h"
#include "service/wallet.h"
#include "testutil.h"

#define THREADS 4
#define CHUNK 256
#define CNY_WALLETS 200
#define HKD_WALLETS 20
#define OPERATIONS 1000000

typedef struct accepted_op {
    int64_t id;
    int64_t debit;
    int64_t credit;
    int64_t amount;
} accepted_op;

typedef struct worker {
    int index;
    engine *engine;
    const int64_t *cny;
    const int64_t *hkd;
    int64_t operations;
    accepted_op *accepted;
    int64_t accepted_count;
    int64_t rejected;
    int64_t replays;
    int64_t conflicts;
    /* keys of accepted operations from finished chunks: replays and conflicts use these */
    int64_t *keyed_op;     /* index into accepted */
    int64_t *keyed_number; /* the key's number ("w<worker>-k<number>") */
    int64_t keyed_count;
    int64_t next_key;
    int64_t by_code[HB_ERR__COUNT];
} worker;

typedef enum op_kind {
    OP_P2P,
    OP_TOPUP,
    OP_WITHDRAW,
    OP_OVERDRAFT,
    OP_UNKNOWN_ACCOUNT,
    OP_BAD_AMOUNT,
    OP_CURRENCY_MISMATCH,
    OP_SELF,
    OP_REPLAY,
    OP_KEY_CONFLICT,
    OP_KIND_COUNT
} op_kind;

typedef struct pending {
    transfer_cmd cmd;
    op_kind kind;
    int64_t key_number; /* >= 0 when the op used a fresh key */
    int64_t replay_of;  /* index in accepted for OP_REPLAY */
} pending;

static void fill(worker *w, hb_rng *rng, pending *p)
{
    memset(p, 0, sizeof *p);
    p->key_number = -1;
    p->replay_of = -1;
    transfer *tr = &p->cmd.transfer;
    uint64_t roll = rng_next_below(rng, 100);
    op_kind kind = roll < 60   ? OP_P2P
                   : roll < 66 ? OP_TOPUP
                   : roll < 72 ? OP_WITHDRAW
                   : roll < 76 ? OP_OVERDRAFT
                   : roll < 80 ? OP_UNKNOWN_ACCOUNT
                   : roll < 84 ? OP_BAD_AMOUNT
                   : roll < 88 ? OP_CURRENCY_MISMATCH
                   : roll < 90 ? OP_SELF
                   : roll < 96 ? OP_REPLAY
                               : OP_KEY_CONFLICT;
    if ((kind == OP_REPLAY || kind == OP_KEY_CONFLICT) && w->keyed_count == 0) kind = OP_P2P;
    p->kind = kind;
    bool hk = rng_next_below(rng, 10) == 0;
    const int64_t *pool = hk ? w->hkd : w->cny;
    uint64_t pool_n = hk ? HKD_WALLETS : CNY_WALLETS;
    int64_t a = pool[rng_next_below(rng, pool_n)];
    int64_t b = pool[rng_next_below(rng, pool_n)];
    while (b == a) b = pool[rng_next_below(rng, pool_n)];
    tr->kind = TRANSFER_P2P;
    tr->debit_id = a;
    tr->credit_id = b;
    tr->amount = 1 + (int64_t)rng_next_below(rng, 5000);
    char key[LIMIT_IDEM_KEY_LEN + 1] = "";
    switch (kind) {
    case OP_TOPUP:
        tr->kind = TRANSFER_TOPUP;
        tr->credit_id = a;
        snprintf(tr->reference, sizeof tr->reference, "bank-%d", w->index);
        break;
    case OP_WITHDRAW:
        tr->kind = TRANSFER_WITHDRAW;
        tr->debit_id = a;
        snprintf(tr->reference, sizeof tr->reference, "bank-out-%d", w->index);
        break;
    case OP_OVERDRAFT:
        tr->amount = 900000000; /* more than all money in the test, within the limits */
        break;
    case OP_UNKNOWN_ACCOUNT:
        if (rng_next_below(rng, 2)) {
            tr->credit_id = 10000000 + (int64_t)rng_next_below(rng, 1000);
        } else {
            tr->debit_id = 10000000 + (int64_t)rng_next_below(rng, 1000);
        }
        break;
    case OP_BAD_AMOUNT: {
        static const int64_t bad[] = {0, -1, -100, INT64_MIN, INT64_MAX,
                                      LIMIT_TRANSFER_DEFAULT_MAX_FEN + 1, LIMIT_AMOUNT_MAX_FEN + 1};
        tr->amount = bad[rng_next_below(rng, sizeof bad / sizeof bad[0])];
        break;
    }
    case OP_CURRENCY_MISMATCH:
        tr->debit_id = w->cny[rng_next_below(rng, CNY_WALLETS)];
        tr->credit_id = w->hkd[rng_next_below(rng, HKD_WALLETS)];
        break;
    case OP_SELF:
        tr->credit_id = tr->debit_id;
        break;
    case OP_REPLAY:
    case OP_KEY_CONFLICT: {
        int64_t k = (int64_t)rng_next_below(rng, (uint64_t)w->keyed_count);
        const accepted_op *orig = &w->accepted[w->keyed_op[k]];
        snprintf(key, sizeof key, "w%d-k%lld", w->index, (long long)w->keyed_number[k]);
        tr->debit_id = orig->debit;
        tr->credit_id = orig->credit;
        tr->amount = orig->amount + (kind == OP_KEY_CONFLICT ? 1 : 0);
        p->replay_of = w->keyed_op[k];
        break;
    }
    default:
        break;
    }
    if (kind == OP_P2P && rng_next_below(rng, 3) == 0) {
        p->key_number = w->next_key++; /* never used before by this worker */
        snprintf(key, sizeof key, "w%d-k%lld", w->index, (long long)p->key_number);
    }
    assert_int_equal(wallet_transfer_prepare(&p->cmd, "prop", key[0] ? key : NULL), HB_ERR_OK);
    /* Each worker scopes its keys by actor so that workers never share a key. */
    snprintf(p->cmd.base.idem_scope, sizeof p->cmd.base.idem_scope, "prop-%d", w->index);
}

static void record(worker *w, pending *p)
{
    command *c = &p->cmd.base;
    const transfer *tr = &p->cmd.transfer;
    w->by_code[c->err]++;
    if (p->kind == OP_REPLAY && p->replay_of >= 0) {
        assert_int_equal(c->err, HB_ERR_OK);
        assert_true(c->replayed);
        assert_int_equal(tr->id, w->accepted[p->replay_of].id);
        w->replays++;
        return;
    }
    if (p->kind == OP_KEY_CONFLICT) {
        assert_int_equal(c->err, HB_ERR_IDEMPOTENCY_CONFLICT);
        w->conflicts++;
        return;
    }
    switch (p->kind) {
    case OP_OVERDRAFT:
        assert_int_equal(c->err, HB_ERR_INSUFFICIENT_FUNDS);
        break;
    case OP_UNKNOWN_ACCOUNT:
        assert_int_equal(c->err, HB_ERR_NOT_FOUND);
        break;
    case OP_BAD_AMOUNT:
        assert_true(c->err == HB_ERR_INVALID_ARGUMENT || c->err == HB_ERR_LIMIT_EXCEEDED);
        break;
    case OP_CURRENCY_MISMATCH:
    case OP_SELF:
        assert_int_equal(c->err, HB_ERR_INVALID_ARGUMENT);
        break;
    default:
        assert_true(c->err == HB_ERR_OK || c->err == HB_ERR_INSUFFICIENT_FUNDS);
        break;
    }
    if (c->err != HB_ERR_OK) {
        w->rejected++;
        return;
    }
    assert_false(c->replayed);
    accepted_op *op = &w->accepted[w->accepted_count];
    op->id = tr->id;
    op->debit = tr->debit_id;
    op->credit = tr->credit_id;
    op->amount = tr->amount;
    if (p->key_number >= 0) {
        w->keyed_op[w->keyed_count] = w->accepted_count;
        w->keyed_number[w->keyed_count] = p->key_number;
        w->keyed_count++;
    }
    w->accepted_count++;
}

static void *run_worker(void *arg)
{
    worker *w = arg;
    hb_rng rng;
    rng_seeded_init(&rng, 1000u + (uint64_t)w->index);
    pending *batch = calloc(CHUNK, sizeof *batch);
    command *ptrs[CHUNK];
    for (int64_t done = 0; done < w->operations;) {
        int n = (int)(w->operations - done < CHUNK ? w->operations - done : CHUNK);
        for (int i = 0; i < n; i++) {
            fill(w, &rng, &batch[i]);
            ptrs[i] = &batch[i].cmd.base;
        }
        assert_int_equal(engine_submit_many(w->engine, ptrs, (size_t)n), HB_ERR_OK);
        for (int i = 0; i < n; i++) record(w, &batch[i]);
        done += n;
    }
    free(batch);
    return NULL;
}

static void test_random_operations(void **state)
{
    (void)state;
    const char *dir = testutil_tempdir();
    char path[1024];
    snprintf(path, sizeof path, "%s", testutil_store(dir, "prop.db"));
    /* Limits far above what the test moves: this test is about the ledger, not the tiers. */
    static policy p;
    policy_defaults(&p);
    p.tiers[TIER_PERSONAL].single_limit = 1000000000;
    p.tiers[TIER_PERSONAL].daily_limit = 100000000000LL;
    /* accounts without a customer record are taken as ID-verified: lift that level's caps */
    p.real_name[WALLET_BARE_REAL_NAME_LEVEL] =
        (real_name_cap){1000000000, 100000000000LL, 100000000000LL};
    engine_options options = {.batch_max = 1024, .preload_accounts = true, .policy = &p};
    engine *e = testutil_engine(path, &options);
    int64_t cny[CNY_WALLETS], hkd[HKD_WALLETS];
    for (int i = 0; i < CNY_WALLETS; i++) {
        cny[i] = testutil_wallet(e, "prop", CURRENCY_CNY);
        assert_int_equal(testutil_topup(e, cny[i], 100000), HB_ERR_OK);
    }
    for (int i = 0; i < HKD_WALLETS; i++) {
        hkd[i] = testutil_wallet(e, "prop", CURRENCY_HKD);
        assert_int_equal(testutil_topup(e, hkd[i], 100000), HB_ERR_OK);
    }
    int64_t total = testutil_scaled(OPERATIONS);
    worker workers[THREADS];
    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++) {
        memset(&workers[i], 0, sizeof workers[i]);
        workers[i].index = i;
        workers[i].engine = e;
        workers[i].cny = cny;
        workers[i].hkd = hkd;
        workers[i].operations = total / THREADS;
        workers[i].accepted = calloc((size_t)workers[i].operations, sizeof(accepted_op));
        workers[i].keyed_op = calloc((size_t)workers[i].operations, sizeof(int64_t));
        workers[i].keyed_number = calloc((size_t)workers[i].operations, sizeof(int64_t));
        assert_int_equal(pthread_create(&threads[i], NULL, run_worker, &workers[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) pthread_join(threads[i], NULL);
    engine_close(e);

    /* Expected balances from the accepted operations alone. */
    store *s = NULL;
    store_options o = {0};
    assert_int_equal(store_open(path, &o, &s, NULL, 0), HB_ERR_OK);
    int64_t accepted = 0, rejected = 0, replays = 0, conflicts = 0;
    int64_t expected[4096] = {0};
    for (int i = 0; i < CNY_WALLETS; i++) expected[cny[i]] = 100000;
    for (int i = 0; i < HKD_WALLETS; i++) expected[hkd[i]] = 100000;
    for (int t = 0; t < THREADS; t++) {
        worker *w = &workers[t];
        accepted += w->accepted_count;
        rejected += w->rejected;
        replays += w->replays;
        conflicts += w->conflicts;
        for (int64_t i = 0; i < w->accepted_count; i++) {
            const accepted_op *op = &w->accepted[i];
            transfer tr;
            assert_int_equal(store_transfer_get(s, op->id, &tr), HB_ERR_OK);
            assert_int_equal(tr.debit_id, op->debit);
            assert_int_equal(tr.credit_id, op->credit);
            assert_money_eq(tr.amount, op->amount);
            assert_true(op->debit < 4096 && op->credit < 4096);
            expected[op->debit] -= op->amount;
            expected[op->credit] += op->amount;
        }
    }
    fprintf(stderr, "property: %lld operations: %lld accepted, %lld rejected, %lld replays, "
            "%lld key conflicts\n", (long long)(total / THREADS * THREADS), (long long)accepted,
            (long long)rejected, (long long)replays, (long long)conflicts);
    assert_int_equal(accepted + rejected + replays + conflicts, total / THREADS * THREADS);
    assert_true(accepted > total / 3);
    assert_true(rejected > total / 10);
    assert_true(replays > 0 && conflicts > 0);

    ledger_report r;
    assert_int_equal(store_ledger_check(s, &r), HB_ERR_OK);
    assert_true(r.balanced);
    /* exactly once: the store holds the setup top-ups plus the accepted transfers, no more */
    assert_int_equal(r.transfers, CNY_WALLETS + HKD_WALLETS + accepted);
    for (int i = 0; i < CNY_WALLETS; i++) {
        account a;
        assert_int_equal(store_account_get(s, cny[i], &a), HB_ERR_OK);
        assert_money_eq(a.balance, expected[cny[i]]);
    }
    for (int i = 0; i < HKD_WALLETS; i++) {
        account a;
        assert_int_equal(store_account_get(s, hkd[i], &a), HB_ERR_OK);
        assert_money_eq(a.balance, expected[hkd[i]]);
    }
    /* one audit record per accepted command: 6 system accounts, the wallets, their top-ups,
     * and the accepted operations; replays and rejections add none */
    audit_record last;
    assert_int_equal(store_audit_last(s, "local", &last), HB_ERR_OK);
    assert_int_equal(last.seq, 6 + 2 * (CNY_WALLETS + HKD_WALLETS) + accepted);
    store_close(s);
    for (int i = 0; i < THREADS; i++) {
        free(workers[i].accepted);
        free(workers[i].keyed_op);
        free(workers[i].keyed_number);
    }
    testutil_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_random_operations)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
