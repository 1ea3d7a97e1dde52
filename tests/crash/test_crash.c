/* Crash test: a child process runs transfers through the engine and logs each acknowledged
 * one; the parent kills it with SIGKILL at random moments, reopens the store and checks that
 * every acknowledged transfer is present exactly as acknowledged, that a retry of its
 * idempotency key returns it again, and that the ledger invariants hold. */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/rng.h"
#include "service/wallet.h"
#include "testutil.h"

#define WALLETS 100
#define CYCLES 25
#define CHILD_THREADS 3
#define CHUNK 64

static char db_path[1024];
static char log_path[1024];
static int64_t wallets[WALLETS];

typedef struct child_worker {
    engine *engine;
    int log_fd;
    int cycle;
    int index;
} child_worker;

/* Runs in the child until killed: transfers with idempotency keys, logging each one that was
 * acknowledged as "key id debit credit amount\n" with one write() (atomic for short lines on
 * an O_APPEND file, and it survives the process's death). */
static void *child_run(void *arg)
{
    child_worker *w = arg;
    hb_rng rng;
    rng_seeded_init(&rng, (uint64_t)(w->cycle * 100 + w->index) ^ (uint64_t)getpid());
    transfer_cmd cmds[CHUNK];
    command *ptrs[CHUNK];
    for (long round = 0;; round++) {
        for (int i = 0; i < CHUNK; i++) {
            memset(&cmds[i], 0, sizeof cmds[i]);
            uint64_t a = rng_next_below(&rng, WALLETS);
            uint64_t b = rng_next_below(&rng, WALLETS - 1);
            if (b >= a) b++;
            cmds[i].transfer.kind = TRANSFER_P2P;
            cmds[i].transfer.debit_id = wallets[a];
            cmds[i].transfer.credit_id = wallets[b];
            cmds[i].transfer.amount = 1 + (int64_t)rng_next_below(&rng, 500);
            char key[64];
            snprintf(key, sizeof key, "c%d-t%d-r%ld-i%d", w->cycle, w->index, round, i);
            if (wallet_transfer_prepare(&cmds[i], "crash", key) != HB_ERR_OK) _exit(3);
            ptrs[i] = &cmds[i].base;
        }
        if (engine_submit_many(w->engine, ptrs, CHUNK) != HB_ERR_OK) _exit(4);
        for (int i = 0; i < CHUNK; i++) {
            if (cmds[i].base.err != HB_ERR_OK) continue;
            char line[256];
            int n = snprintf(line, sizeof line, "%s %lld %lld %lld %lld\n",
                             cmds[i].base.idem_key, (long long)cmds[i].transfer.id,
                             (long long)cmds[i].transfer.debit_id,
                             (long long)cmds[i].transfer.credit_id,
                             (long long)cmds[i].transfer.amount);
            if (write(w->log_fd, line, (size_t)n) != n) _exit(5);
        }
    }
    return NULL;
}

static void child_main(int cycle)
{
    static policy p;
    policy_defaults(&p);
    p.tiers[TIER_PERSONAL].daily_limit = 100000000000LL;
    engine_options options = {.batch_max = 256, .policy = &p};
    engine *e = NULL;
    if (engine_open(db_path, &options, &e, NULL, 0) != HB_ERR_OK) _exit(2);
    int fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT, 0600);
    if (fd < 0) _exit(2);
    child_worker workers[CHILD_THREADS];
    pthread_t threads[CHILD_THREADS];
    for (int i = 0; i < CHILD_THREADS; i++) {
        workers[i] = (child_worker){.engine = e, .log_fd = fd, .cycle = cycle, .index = i};
        pthread_create(&threads[i], NULL, child_run, &workers[i]);
    }
    for (;;) pause();
}

typedef struct ack {
    char key[64];
    int64_t id, debit, credit, amount;
} ack;

static ack *read_log(size_t *count)
{
    FILE *f = fopen(log_path, "r");
    size_t cap = 1024, n = 0;
    ack *acks = malloc(cap * sizeof *acks);
    if (f != NULL) {
        ack a;
        long long id, debit, credit, amount;
        while (fscanf(f, "%63s %lld %lld %lld %lld", a.key, &id, &debit, &credit, &amount) == 5) {
            a.id = id;
            a.debit = debit;
            a.credit = credit;
            a.amount = amount;
            if (n == cap) {
                cap *= 2;
                acks = realloc(acks, cap * sizeof *acks);
            }
            acks[n++] = a;
        }
        fclose(f);
    }
    *count = n;
    return acks;
}

static void verify(size_t *checked)
{
    size_t n = 0;
    ack *acks = read_log(&n);
    store *s = NULL;
    store_options o = {0};
    assert_int_equal(store_open(db_path, &o, &s, NULL, 0), HB_ERR_OK);
    for (size_t i = 0; i < n; i++) {
        transfer tr;
        hb_err err = store_transfer_get(s, acks[i].id, &tr);
        if (err != HB_ERR_OK) fprintf(stderr, "acknowledged %s (tr_%lld) is missing\n",
                                      acks[i].key, (long long)acks[i].id);
        assert_int_equal(err, HB_ERR_OK);
        assert_string_equal(tr.idem_key, acks[i].key);
        assert_int_equal(tr.debit_id, acks[i].debit);
        assert_int_equal(tr.credit_id, acks[i].credit);
        assert_money_eq(tr.amount, acks[i].amount);
    }
    ledger_report r;
    assert_int_equal(store_ledger_check(s, &r), HB_ERR_OK);
    assert_true(r.balanced);
    /* exactly once: no more transfers than the set-up plus what was acknowledged or might
     * have committed unacknowledged at the kill (each has a unique key and id) */
    assert_true(r.transfers >= (int64_t)(WALLETS + n));
    store_close(s);
    *checked = n;
    free(acks);
}

/* After the crashes: retrying acknowledged keys returns the same transfers, adds nothing. */
static void verify_retries(void)
{
    size_t n = 0;
    ack *acks = read_log(&n);
    engine *e = NULL;
    assert_int_equal(engine_open(db_path, NULL, &e, NULL, 0), HB_ERR_OK);
    int64_t before = testutil_check(db_path).transfers;
    size_t step = n > 500 ? n / 500 : 1;
    for (size_t i = 0; i < n; i += step) {
        transfer_cmd c;
        memset(&c, 0, sizeof c);
        c.transfer.kind = TRANSFER_P2P;
        c.transfer.debit_id = acks[i].debit;
        c.transfer.credit_id = acks[i].credit;
        c.transfer.amount = acks[i].amount;
        assert_int_equal(wallet_transfer_prepare(&c, "crash", acks[i].key), HB_ERR_OK);
        assert_int_equal(engine_submit(e, &c.base), HB_ERR_OK);
        assert_true(c.base.replayed);
        assert_int_equal(c.transfer.id, acks[i].id);
    }
    engine_close(e);
    assert_int_equal(testutil_check(db_path).transfers, before);
    free(acks);
}

static void test_kill9(void **state)
{
    (void)state;
    const char *dir = testutil_tempdir();
    snprintf(db_path, sizeof db_path, "%s", testutil_store(dir, "crash.db"));
    snprintf(log_path, sizeof log_path, "%s/acks.log", dir);
    engine *e = testutil_engine(db_path, NULL);
    for (int i = 0; i < WALLETS; i++) {
        wallets[i] = testutil_wallet(e, "crash", CURRENCY_CNY);
        assert_int_equal(testutil_topup(e, wallets[i], 1000000), HB_ERR_OK);
    }
    engine_close(e);

    hb_rng rng;
    rng_seeded_init(&rng, (uint64_t)time(NULL));
    int cycles = (int)testutil_scaled(CYCLES);
    if (cycles < 20) cycles = 20; /* never fewer than 20 kills, even under sanitizers */
    size_t last = 0;
    for (int cycle = 0; cycle < cycles; cycle++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) child_main(cycle);
        /* 20 ms .. 400 ms: some kills land in set-up, most mid-batch or mid-commit */
        struct timespec pause_for = {0, (long)(20 + rng_next_below(&rng, 380)) * 1000000L};
        nanosleep(&pause_for, NULL);
        kill(pid, SIGKILL);
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        size_t checked = 0;
        verify(&checked);
        assert_true(checked >= last);
        last = checked;
    }
    fprintf(stderr, "crash: %d kills, %zu acknowledged transfers all present\n", cycles, last);
    assert_true(last > 0);
    verify_retries();
    testutil_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_kill9)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
