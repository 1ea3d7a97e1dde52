/* hongbao bench ledger: durable transfers through the engine, in-process.
 *
 * Sets up N funded wallets (when the store does not have them yet), then T submitter threads
 * keep a window of W asynchronous transfers each in flight between accounts chosen uniformly
 * at random. Every transfer is a full engine command: savepoint, ledger checks, transfer row,
 * audit record, per-batch balance updates, group commit with fsync. Prints one JSON object. */
#include <getopt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "core/rng.h"
#include "service/wallet.h"

static const char bench_usage[] =
    "usage: hongbao bench ledger [--db PATH] [--accounts N] [--transfers M] [--threads T]\n"
    "                            [--window W] [--batch B] [--cache-mib C] [--idempotency]\n"
    "                            [--check]\n"
    "\n"
    "Measure durable transfers per second through the engine. Creates and funds N wallets\n"
    "(default 1,000,000) unless the store already has them, then runs M transfers (default\n"
    "2,000,000) from T threads (default 2), each keeping W transfers in flight (default\n"
    "4096), between accounts picked uniformly at random. --batch sets the engine's batch\n"
    "size (default 8192), --cache-mib the store's page cache (default 512), --idempotency\n"
    "gives every transfer its own idempotency key, --check runs the ledger check after.\n"
    "Prints JSON: transfers/s, submit-to-durable latency p50/p99/max, batch sizes.\n"
    "Use a scratch store: the benchmark adds accounts and transfers to it.\n"
    "\n"
    "hongbao bench packets-setup prepares a store for the red-packet grab benchmark\n"
    "(bench/packets.sh, `make bench-packets`), and hongbao bench payments-setup one for the\n"
    "payment benchmark (bench/payments.sh, `make bench-payments`); see their --help.\n";

typedef struct bench_config {
    const char *db;
    int64_t accounts;
    int64_t transfers;
    int64_t threads;
    int64_t window;
    int64_t batch;
    int64_t cache_mib;
    bool idempotency;
    bool check;
} bench_config;

typedef struct bench_slot {
    transfer_cmd cmd;
    int64_t submit_ns;
    struct bench_thread *thread;
} bench_slot;

typedef struct bench_thread {
    engine *engine;
    const bench_config *config;
    int64_t first_account;
    int64_t count;  /* transfers this thread submits */
    int index;
    pthread_mutex_t lock;
    pthread_cond_t freed;
    bench_slot **free_slots;
    int64_t free_count;
    int64_t *latency_ns;
    int64_t completed;
    int64_t accepted;
    int64_t rejected;
    int64_t unavailable;
} bench_thread;

static void on_done(command *cmd, void *ctx)
{
    bench_slot *slot = ctx;
    bench_thread *t = slot->thread;
    int64_t now = clock_monotonic_ns();
    pthread_mutex_lock(&t->lock);
    t->latency_ns[t->completed++] = now - slot->submit_ns;
    if (cmd->err == HB_ERR_OK) {
        t->accepted++;
    } else if (cmd->err == HB_ERR_UNAVAILABLE) {
        t->unavailable++;
    } else {
        t->rejected++;
    }
    t->free_slots[t->free_count++] = slot;
    pthread_cond_signal(&t->freed);
    pthread_mutex_unlock(&t->lock);
}

static void *submitter(void *arg)
{
    bench_thread *t = arg;
    hb_rng rng;
    rng_seeded_init(&rng, 0x5eed0000u + (uint64_t)t->index);
    uint64_t n = (uint64_t)t->config->accounts;
    for (int64_t i = 0; i < t->count; i++) {
        pthread_mutex_lock(&t->lock);
        while (t->free_count == 0) pthread_cond_wait(&t->freed, &t->lock);
        bench_slot *slot = t->free_slots[--t->free_count];
        pthread_mutex_unlock(&t->lock);

        memset(&slot->cmd, 0, sizeof slot->cmd);
        transfer *tr = &slot->cmd.transfer;
        tr->kind = TRANSFER_P2P;
        uint64_t a = rng_next_below(&rng, n);
        uint64_t b = rng_next_below(&rng, n - 1);
        if (b >= a) b++;
        tr->debit_id = t->first_account + (int64_t)a;
        tr->credit_id = t->first_account + (int64_t)b;
        tr->amount = 1 + (int64_t)rng_next_below(&rng, 100);
        tr->currency = CURRENCY_CNY;
        char key[LIMIT_IDEM_KEY_LEN + 1];
        snprintf(key, sizeof key, "bench-%d-%lld-%lld", t->index, (long long)i,
                 (long long)clock_monotonic_ns());
        hb_err err = wallet_transfer_prepare(&slot->cmd, "bench", t->config->idempotency ? key : NULL);
        ASSERT(err == HB_ERR_OK);
        slot->submit_ns = clock_monotonic_ns();
        while (engine_submit_async(t->engine, &slot->cmd.base, on_done, slot) != HB_ERR_OK) {
            /* The queue is full: wait for one of ours to complete, or, with none of ours in
             * flight, for the other threads' to drain a little. */
            pthread_mutex_lock(&t->lock);
            bool ours_in_flight = t->free_count + 1 < t->config->window;
            int64_t seen = t->completed;
            while (ours_in_flight && t->completed == seen) pthread_cond_wait(&t->freed, &t->lock);
            pthread_mutex_unlock(&t->lock);
            if (!ours_in_flight) {
                struct timespec pause_for = {0, 200000};
                nanosleep(&pause_for, NULL);
            }
        }
    }
    pthread_mutex_lock(&t->lock);
    while (t->completed < t->count) pthread_cond_wait(&t->freed, &t->lock);
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

/* Make sure the store holds config->accounts funded CNY wallets owned by "bench"; returns
 * the id of the first. Accounts are created and funded through the engine like any other. */
static int setup_accounts(engine *e, store *reader, const bench_config *config, int64_t *first)
{
    int count = 0;
    hb_err err = HB_ERR_OK;
    /* Look for an earlier run's accounts: a wallet owned by "bench-N". */
    char owner[LIMIT_OWNER_LEN + 1];
    snprintf(owner, sizeof owner, "bench-%lld", (long long)config->accounts);
    int64_t after = 0;
    static account page[LIMIT_PAGE_MAX];
    for (;;) {
        err = store_account_list(reader, after, LIMIT_PAGE_MAX, page, &count);
        if (err != HB_ERR_OK) return cli_fail(err, "cannot list accounts");
        for (int i = 0; i < count; i++) {
            if (strcmp(page[i].owner, owner) == 0) {
                *first = page[i].id;
                fprintf(stderr, "bench: reusing %lld wallets from acct_%lld\n",
                        (long long)config->accounts, (long long)*first);
                return EXIT_OK;
            }
        }
        if (count < LIMIT_PAGE_MAX) break;
        after = page[count - 1].id;
        if (after > 100000) break; /* earlier runs create their accounts first */
    }
    const size_t chunk = 65536;
    account_create_cmd *creates = calloc(chunk, sizeof *creates);
    transfer_cmd *topups = calloc(chunk, sizeof *topups);
    command **cmds = calloc(chunk, sizeof *cmds);
    if (creates == NULL || topups == NULL || cmds == NULL) {
        free(creates);
        free(topups);
        free(cmds);
        return cli_fail(HB_ERR_UNAVAILABLE, "out of memory");
    }
    int rc = EXIT_OK;
    *first = 0;
    for (int64_t done = 0; done < config->accounts && rc == EXIT_OK;) {
        size_t n = (size_t)(config->accounts - done) < chunk ? (size_t)(config->accounts - done) : chunk;
        for (size_t i = 0; i < n; i++) {
            memset(&creates[i], 0, sizeof creates[i]);
            snprintf(creates[i].account.owner, sizeof creates[i].account.owner, "%s", owner);
            creates[i].account.kind = ACCOUNT_WALLET;
            creates[i].account.tier = TIER_PERSONAL;
            creates[i].account.currency = CURRENCY_CNY;
            ASSERT(wallet_account_create_prepare(&creates[i], "bench", NULL) == HB_ERR_OK);
            cmds[i] = &creates[i].base;
        }
        if (engine_submit_many(e, cmds, n) != HB_ERR_OK) rc = EXIT_UNAVAILABLE;
        for (size_t i = 0; i < n && rc == EXIT_OK; i++) {
            if (creates[i].base.err != HB_ERR_OK) {
                rc = cli_fail(creates[i].base.err, creates[i].base.err_detail);
                break;
            }
            ASSERT(*first == 0 || creates[i].account.id == *first + done + (int64_t)i);
            if (*first == 0) *first = creates[i].account.id;
            memset(&topups[i], 0, sizeof topups[i]);
            topups[i].transfer.kind = TRANSFER_TOPUP;
            topups[i].transfer.credit_id = creates[i].account.id;
            topups[i].transfer.amount = 100000000; /* 1,000,000.00 each */
            snprintf(topups[i].transfer.reference, sizeof topups[i].transfer.reference,
                     "bench-funding");
            ASSERT(wallet_transfer_prepare(&topups[i], "bench", NULL) == HB_ERR_OK);
            cmds[i] = &topups[i].base;
        }
        if (rc == EXIT_OK && engine_submit_many(e, cmds, n) != HB_ERR_OK) rc = EXIT_UNAVAILABLE;
        for (size_t i = 0; i < n && rc == EXIT_OK; i++) {
            if (topups[i].base.err != HB_ERR_OK) {
                rc = cli_fail(topups[i].base.err, topups[i].base.err_detail);
            }
        }
        done += (int64_t)n;
    }
    free(creates);
    free(topups);
    free(cmds);
    return rc;
}

static int compare_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a;
    int64_t y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int parse_config(int argc, char **argv, bench_config *c)
{
    static const struct option options[] = {
        {"db", required_argument, NULL, 'd'},       {"accounts", required_argument, NULL, 'a'},
        {"transfers", required_argument, NULL, 'm'}, {"threads", required_argument, NULL, 't'},
        {"window", required_argument, NULL, 'w'},   {"batch", required_argument, NULL, 'b'},
        {"cache-mib", required_argument, NULL, 'c'}, {"idempotency", no_argument, NULL, 'i'},
        {"check", no_argument, NULL, 'k'},          {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0}};
    *c = (bench_config){.db = "bench.db", .accounts = 1000000, .transfers = 2000000,
                        .threads = 2, .window = 4096, .batch = 8192, .cache_mib = 512};
    optind = 1;
    int opt;
    bool ok = true;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'd': c->db = optarg; break;
        case 'a': ok = ok && cli_parse_count(optarg, 2, 100000000, &c->accounts); break;
        case 'm': ok = ok && cli_parse_count(optarg, 1, 1000000000, &c->transfers); break;
        case 't': ok = ok && cli_parse_count(optarg, 1, 64, &c->threads); break;
        case 'w': ok = ok && cli_parse_count(optarg, 1, 65536, &c->window); break;
        case 'b': ok = ok && cli_parse_count(optarg, 1, LIMIT_BATCH_MAX, &c->batch); break;
        case 'c': ok = ok && cli_parse_count(optarg, 1, 65536, &c->cache_mib); break;
        case 'i': c->idempotency = true; break;
        case 'k': c->check = true; break;
        case 'h': fputs(bench_usage, stdout); return -1;
        default: ok = false; break;
        }
    }
    if (!ok || optind != argc) {
        fputs(bench_usage, stderr);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

static void print_results(const bench_config *c, bench_thread *threads, double seconds,
                          const engine_stats *before, const engine_stats *after)
{
    int64_t total = 0, accepted = 0, rejected = 0, unavailable = 0;
    for (int i = 0; i < c->threads; i++) {
        total += threads[i].completed;
        accepted += threads[i].accepted;
        rejected += threads[i].rejected;
        unavailable += threads[i].unavailable;
    }
    int64_t *all = malloc((size_t)(total > 0 ? total : 1) * sizeof *all);
    ASSERT(all != NULL);
    int64_t n = 0;
    for (int i = 0; i < c->threads; i++) {
        memcpy(all + n, threads[i].latency_ns, (size_t)threads[i].completed * sizeof *all);
        n += threads[i].completed;
    }
    qsort(all, (size_t)n, sizeof *all, compare_i64);
    int64_t batches = after->batches - before->batches;
    int64_t commands = after->commands - before->commands;
    printf("{\"benchmark\":\"ledger\",\"accounts\":%lld,\"transfers\":%lld,\"threads\":%lld,"
           "\"window\":%lld,\"batch_max\":%lld,\"idempotency_keys\":%s,\"seconds\":%.3f,"
           "\"transfers_per_s\":%.0f,\"accepted\":%lld,\"rejected\":%lld,\"unavailable\":%lld,"
           "\"latency_us\":{\"p50\":%lld,\"p99\":%lld,\"max\":%lld},"
           "\"batches\":%lld,\"batch_size\":{\"mean\":%.1f,\"max\":%lld,\"histogram_log2\":[",
           (long long)c->accounts, (long long)total, (long long)c->threads,
           (long long)c->window, (long long)c->batch, c->idempotency ? "true" : "false", seconds,
           (double)total / seconds, (long long)accepted, (long long)rejected,
           (long long)unavailable, (long long)(all[n / 2] / 1000),
           (long long)(all[(n * 99) / 100] / 1000), (long long)(all[n - 1] / 1000),
           (long long)batches, batches ? (double)commands / (double)batches : 0.0,
           (long long)after->max_batch);
    for (int k = 0; k < 16; k++) {
        printf("%s%lld", k ? "," : "",
               (long long)(after->batch_size_hist[k] - before->batch_size_hist[k]));
    }
    printf("]},\"writer_seconds\":{\"commands\":%.3f,\"balance_updates\":%.3f,"
           "\"commit\":%.3f}}\n",
           (double)(after->exec_ns - before->exec_ns) / 1e9,
           (double)(after->apply_ns - before->apply_ns) / 1e9,
           (double)(after->commit_ns - before->commit_ns) / 1e9);
    free(all);
}

int cmd_bench(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "packets-setup") == 0) {
        return cli_bench_packets_setup(argc - 1, argv + 1);
    }
    if (argc >= 2 && strcmp(argv[1], "payments-setup") == 0) {
        return cli_bench_payments_setup(argc - 1, argv + 1);
    }
    if (argc < 2 || strcmp(argv[1], "ledger") != 0) {
        bool help = argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
        fputs(bench_usage, help ? stdout : stderr);
        return help ? EXIT_OK : EXIT_USAGE;
    }
    bench_config c;
    int rc = parse_config(argc - 1, argv + 1, &c);
    if (rc == -1) return EXIT_OK;
    if (rc != EXIT_OK) return rc;

    engine_options options = {.create = true, .batch_max = (int)c.batch,
                              .cache_kib = c.cache_mib * 1024, .preload_accounts = true};
    engine *e = NULL;
    char err_text[512];
    hb_err err = engine_open(c.db, &options, &e, err_text, sizeof err_text);
    if (err != HB_ERR_OK) return cli_fail(err, err_text);
    err = wallet_init_system(e, CURRENCY_CNY, err_text, sizeof err_text);
    if (err != HB_ERR_OK) {
        engine_close(e);
        return cli_fail(err, err_text);
    }
    store *reader = NULL;
    rc = cli_open_store(c.db, &reader);
    int64_t first = 0;
    if (rc == EXIT_OK) rc = setup_accounts(e, reader, &c, &first);
    if (rc != EXIT_OK) {
        store_close(reader);
        engine_close(e);
        return rc;
    }

    bench_thread *threads = calloc((size_t)c.threads, sizeof *threads);
    bench_slot *slots = calloc((size_t)(c.threads * c.window), sizeof *slots);
    ASSERT(threads != NULL && slots != NULL);
    for (int i = 0; i < c.threads; i++) {
        bench_thread *t = &threads[i];
        t->engine = e;
        t->config = &c;
        t->first_account = first;
        t->index = i;
        t->count = c.transfers / c.threads + (i < c.transfers % c.threads ? 1 : 0);
        t->latency_ns = calloc((size_t)t->count + 1, sizeof *t->latency_ns);
        t->free_slots = calloc((size_t)c.window, sizeof *t->free_slots);
        ASSERT(t->latency_ns != NULL && t->free_slots != NULL);
        pthread_mutex_init(&t->lock, NULL);
        pthread_cond_init(&t->freed, NULL);
        for (int64_t k = 0; k < c.window; k++) {
            bench_slot *slot = &slots[i * c.window + k];
            slot->thread = t;
            t->free_slots[t->free_count++] = slot;
        }
    }
    engine_stats before, after;
    engine_get_stats(e, &before);
    int64_t start = clock_monotonic_ns();
    pthread_t *ids = calloc((size_t)c.threads, sizeof *ids);
    ASSERT(ids != NULL);
    for (int i = 0; i < c.threads; i++) ASSERT(pthread_create(&ids[i], NULL, submitter, &threads[i]) == 0);
    for (int i = 0; i < c.threads; i++) pthread_join(ids[i], NULL);
    double seconds = (double)(clock_monotonic_ns() - start) / 1e9;
    engine_get_stats(e, &after);
    print_results(&c, threads, seconds, &before, &after);
    engine_close(e);
    rc = EXIT_OK;
    if (c.check) {
        ledger_report report;
        err = store_ledger_check(reader, &report);
        fprintf(stderr, "bench: ledger check: %s\n",
                err != HB_ERR_OK ? hb_err_name(err) : report.balanced ? "balanced" : "NOT BALANCED");
        if (err != HB_ERR_OK || !report.balanced) rc = EXIT_CHECK_FAILED;
    }
    store_close(reader);
    for (int i = 0; i < c.threads; i++) {
        free(threads[i].latency_ns);
        free(threads[i].free_slots);
        pthread_mutex_destroy(&threads[i].lock);
        pthread_cond_destroy(&threads[i].freed);
    }
    free(ids);
    free(slots);
    free(threads);
    return rc;
}
