/* hongbao settle: D+1 settlement of one business day (serve does it after [settlement]
 * auto_after each day). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "core/ids.h"
#include "core/money.h"
#include "service/payment.h"

static const char settle_usage[] =
    "usage: hongbao settle --date YYYY-MM-DD [--db PATH|URL] [--out DIR] [--json]\n"
    "\n"
    "Settle business day DATE (in the policy's time zone, default Asia/Shanghai; the policy\n"
    "file is $HONGBAO_CONFIG): every merchant's unsettled payments of DATE and earlier move,\n"
    "net of fees and of refunds already paid, from its pending to its available account, in\n"
    "one batch per merchant stamped on each payment. Settling a day again changes nothing; a\n"
    "day that has not ended is refused. Prints the day's batches; --out DIR also writes each\n"
    "batch's settlement file as DIR/stl_N.csv. A merchant whose pending or available account\n"
    "refuses the move (frozen, closed) is left unsettled and named; the next run tries again.\n"
    "Exits 0 on success, 1 for a day not yet ended or a merchant left unsettled, 2 for a bad\n"
    "date, 3 when the store is unavailable.\n";

static bool write_chunk(void *ctx, const char *text, size_t len)
{
    return fwrite(text, 1, len, (FILE *)ctx) == len;
}

static int write_file(store *s, const char *dir, const settlement *b)
{
    char path[LIMIT_PATH_LEN + 64];
    snprintf(path, sizeof path, "%s/stl_%lld.csv", dir, (long long)b->id);
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        fprintf(stderr, "hongbao: cannot write %s: %s\n", path, strerror(errno));
        return EXIT_UNAVAILABLE;
    }
    hb_err err = settlement_csv(s, b, write_chunk, f);
    if (fclose(f) != 0 || err != HB_ERR_OK) {
        fprintf(stderr, "hongbao: cannot write %s\n", path);
        return EXIT_UNAVAILABLE;
    }
    return EXIT_OK;
}

int cmd_settle(int argc, char **argv)
{
    static const struct option options[] = {{"db", required_argument, NULL, 'd'},
                                            {"date", required_argument, NULL, 't'},
                                            {"out", required_argument, NULL, 'o'},
                                            {"json", no_argument, NULL, 'j'},
                                            {"help", no_argument, NULL, 'h'},
                                            {0, 0, 0, 0}};
    const char *db = CLI_DEFAULT_DB, *date = NULL, *out_dir = NULL;
    bool json = false;
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'd': db = optarg; break;
        case 't': date = optarg; break;
        case 'o': out_dir = optarg; break;
        case 'j': json = true; break;
        case 'h': fputs(settle_usage, stdout); return EXIT_OK;
        default: fputs(settle_usage, stderr); return EXIT_USAGE;
        }
    }
    int64_t day = 0;
    if (optind != argc || date == NULL || clock_day_parse(date, &day) != 0) {
        fputs(settle_usage, stderr);
        return EXIT_USAGE;
    }
    if (out_dir != NULL && mkdir(out_dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "hongbao: cannot create %s: %s\n", out_dir, strerror(errno));
        return EXIT_UNAVAILABLE;
    }
    engine *e = NULL;
    int rc = cli_open_engine(db, false, &e);
    if (rc != EXIT_OK) return rc;
    int created = 0, skipped = 0;
    char detail[LIMIT_ERR_DETAIL_LEN + 1] = "";
    hb_err err = payment_settle_day(e, day, "cli:settle", &created, &skipped, detail, sizeof detail);
    engine_close(e);
    if (err != HB_ERR_OK) return cli_fail(err, detail);
    store *s = NULL;
    store_options opts = {.read_only = true};
    char why[512];
    err = store_open(db, &opts, &s, why, sizeof why);
    if (err != HB_ERR_OK) return cli_fail(err, why);
    if (skipped > 0) {
        fprintf(stderr, "hongbao: %d merchant%s left unsettled (their accounts refused the move; "
                        "the next run tries again): %s\n", skipped, skipped == 1 ? "" : "s", detail);
    }
    if (json) {
        printf("{\"date\":\"%s\",\"created\":%d,\"skipped\":%d,\"batches\":[", date, created,
               skipped);
    }
    if (!json) printf("%s: %d new batch%s\n", date, created, created == 1 ? "" : "es");
    int64_t before = 0;
    int shown = 0;
    settlement page[100];
    for (rc = EXIT_OK; rc == EXIT_OK;) {
        int count = 0;
        err = store_settlement_list(s, 0, day, before, 100, page, &count);
        if (err != HB_ERR_OK) break;
        for (int i = 0; i < count && rc == EXIT_OK; i++) {
            const settlement *b = &page[i];
            char gross[MONEY_TEXT_MAX], fees[MONEY_TEXT_MAX], refunds[MONEY_TEXT_MAX],
                net[MONEY_TEXT_MAX];
            money_format(b->gross, gross, sizeof gross);
            money_format(b->fees, fees, sizeof fees);
            money_format(b->refunds, refunds, sizeof refunds);
            money_format(b->net, net, sizeof net);
            if (json) {
                printf("%s{\"id\":\"stl_%lld\",\"merchant\":\"acct_%lld\",\"currency\":\"%s\","
                       "\"gross\":%lld,\"fees\":%lld,\"refunds\":%lld,\"net\":%lld,\"count\":%lld}",
                       shown ? "," : "", (long long)b->id, (long long)b->merchant_id,
                       currency_code(b->currency), (long long)b->gross, (long long)b->fees,
                       (long long)b->refunds, (long long)b->net, (long long)b->count);
            } else {
                printf("  stl_%lld acct_%lld %s: %lld payments, gross %s, fees %s, refunds %s, "
                       "net %s\n", (long long)b->id, (long long)b->merchant_id,
                       currency_code(b->currency), (long long)b->count, gross, fees, refunds, net);
            }
            shown++;
            if (out_dir != NULL) rc = write_file(s, out_dir, b);
        }
        if (count < 100) break;
        before = page[count - 1].id;
    }
    store_close(s);
    if (json) printf("]}\n");
    if (err != HB_ERR_OK) return cli_fail(err, "the store failed while listing");
    return rc == EXIT_OK && skipped > 0 ? EXIT_REFUSED : rc;
}
