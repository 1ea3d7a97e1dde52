/* hongbao report large-tx | reconcile | daily: the reports of the risk and audit issues. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "core/money.h"
#include "service/reconcile.h"
#include "service/risk.h"

static const char report_usage[] =
    "usage: hongbao report large-tx --from YYYY-MM-DD --to YYYY-MM-DD [--db PATH|URL]\n"
    "                               [--format csv|json]\n"
    "       hongbao report reconcile --statement FILE [--currency CNY|HKD] [--from YYYY-MM-DD\n"
    "                               --to YYYY-MM-DD] [--db PATH|URL] [--format text|json]\n"
    "       hongbao report daily --date YYYY-MM-DD [--db PATH|URL] [--format csv|json]\n"
    "\n"
    "reconcile matches the custody bank's statement (CSV: date,amount,direction,reference; an\n"
    "optional header; amount in yuan, direction credit or debit) line by line with the\n"
    "custody account's top-ups and withdrawals by their external reference, and lists every\n"
    "line without a movement, every movement of the statement's days (or FROM..TO) without a\n"
    "line, and every pair whose amount, direction or date (more than a day apart) differs,\n"
    "a reference twice on the statement, and checks the ledger's invariants. Exits 4 on any\n"
    "difference, 2 for a bad statement (the line is named).\n"
    "\n"
    "daily lists a business day's flows (top-ups, red packets sent, claimed, refunded,\n"
    "payments and their fees, refunds and their fees, settlements, withdrawals, transfers)\n"
    "with counts and amounts per currency, and the nets they make on the custody reserve,\n"
    "the packet escrow and fee revenue, tied to the ledger's transfers of those accounts to the\n"
    "fen. Exits 4 if they do not tie out.\n"
    "\n"
    "large-tx lists the large transactions of business days FROM..TO (the policy's time zone): each\n"
    "transaction at or above [risk] large_single (50,000.00) and each account's day whose total\n"
    "reached [risk] large_daily (200,000.00), as the risk engine recorded them when the money\n"
    "moved. Names and ID numbers are masked. CSV (default) or JSON lines. Exits 0, 2 for bad\n"
    "arguments, 3 when the store is unavailable.\n";

/* A CSV field: quoted, quotes doubled. */
static void csv_field(const char *text)
{
    putchar('"');
    for (const char *p = text; *p; p++) {
        if (*p == '"') putchar('"');
        putchar(*p);
    }
    putchar('"');
}

static int report_large_tx(int argc, char **argv)
{
    static const struct option options[] = {{"db", required_argument, NULL, 'd'},
                                            {"from", required_argument, NULL, 'f'},
                                            {"to", required_argument, NULL, 't'},
                                            {"format", required_argument, NULL, 'o'},
                                            {"help", no_argument, NULL, 'h'},
                                            {0, 0, 0, 0}};
    const char *db = CLI_DEFAULT_DB, *from = NULL, *to = NULL, *format = "csv";
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc - 1, argv + 1, "", options, NULL)) != -1) {
        switch (opt) {
        case 'd': db = optarg; break;
        case 'f': from = optarg; break;
        case 't': to = optarg; break;
        case 'o': format = optarg; break;
        case 'h': fputs(report_usage, stdout); return EXIT_OK;
        default: fputs(report_usage, stderr); return EXIT_USAGE;
        }
    }
    int64_t from_day = 0, to_day = 0;
    bool json = strcmp(format, "json") == 0;
    if (optind != argc - 1 || from == NULL || to == NULL || clock_day_parse(from, &from_day) != 0 ||
        clock_day_parse(to, &to_day) != 0 || to_day < from_day ||
        (!json && strcmp(format, "csv") != 0)) {
        fputs(report_usage, stderr);
        return EXIT_USAGE;
    }
    keyring keys;
    int rc = cli_load_keyring(db, NULL, &keys);
    if (rc != EXIT_OK) return rc;
    store *s = NULL;
    store_options opts = {.read_only = true};
    char why[512];
    hb_err err = store_open(db, &opts, &s, why, sizeof why);
    if (err != HB_ERR_OK) {
        keyring_clear(&keys);
        return cli_fail(err, why);
    }
    if (!json) printf("id,date,kind,account,name,id_number,amount,reference,created_at\r\n");
    large_report page[200];
    int64_t after = 0;
    for (;;) {
        int count = 0;
        err = store_large_list(s, from_day, to_day, after, 200, page, &count);
        if (err != HB_ERR_OK) break;
        for (int i = 0; i < count; i++) {
            json_t *o = risk_large_json(s, &keys, &page[i]);
            if (json) {
                char *line = json_dumps(o, JSON_COMPACT);
                if (line != NULL) puts(line);
                free(line);
            } else {
                const char *name = json_string_value(json_object_get(o, "name"));
                const char *id_number = json_string_value(json_object_get(o, "id_number"));
                printf("%lld,%s,%s,%s,", (long long)page[i].id,
                       json_string_value(json_object_get(o, "date")),
                       risk_large_kind_name(page[i].kind),
                       json_string_value(json_object_get(o, "account")));
                csv_field(name ? name : "");
                putchar(',');
                csv_field(id_number ? id_number : "");
                printf(",%lld,%s,%lld\r\n", (long long)page[i].amount, page[i].reference,
                       (long long)page[i].created_at_ms);
            }
            json_decref(o);
            after = page[i].id;
        }
        if (count < 200) break;
    }
    store_close(s);
    keyring_clear(&keys);
    if (err != HB_ERR_OK) return cli_fail(err, "the store failed while listing");
    return EXIT_OK;
}

/* Business days are counted in the policy's zone (HONGBAO_CONFIG, the environment). */
static int use_policy_zone(void)
{
    policy pol;
    int rc = cli_load_policy(NULL, &pol);
    if (rc != EXIT_OK) return rc;
    setenv("TZ", pol.timezone, 1);
    tzset();
    return EXIT_OK;
}

/* The whole file (at most 64 MiB) into *out; its length into *len. */
static bool read_all(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) return false;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap) break;
        if (cap >= ((size_t)64 << 20)) {
            free(buf);
            buf = NULL;
            break;
        }
        char *grown = realloc(buf, cap * 2);
        if (grown == NULL) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = grown;
        cap *= 2;
    }
    bool ok = buf != NULL && !ferror(f);
    fclose(f);
    if (!ok) {
        free(buf);
        return false;
    }
    *out = buf;
    *len = n;
    return true;
}

static int report_reconcile(int argc, char **argv)
{
    static const struct option options[] = {{"db", required_argument, NULL, 'd'},
                                            {"statement", required_argument, NULL, 's'},
                                            {"currency", required_argument, NULL, 'c'},
                                            {"from", required_argument, NULL, 'f'},
                                            {"to", required_argument, NULL, 't'},
                                            {"format", required_argument, NULL, 'o'},
                                            {"help", no_argument, NULL, 'h'},
                                            {0, 0, 0, 0}};
    const char *db = CLI_DEFAULT_DB, *statement = NULL, *cur_text = "CNY", *from = NULL,
               *to = NULL, *format = "text";
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc - 1, argv + 1, "", options, NULL)) != -1) {
        switch (opt) {
        case 'd': db = optarg; break;
        case 's': statement = optarg; break;
        case 'c': cur_text = optarg; break;
        case 'f': from = optarg; break;
        case 't': to = optarg; break;
        case 'o': format = optarg; break;
        case 'h': fputs(report_usage, stdout); return EXIT_OK;
        default: fputs(report_usage, stderr); return EXIT_USAGE;
        }
    }
    currency cur = currency_parse(cur_text, strlen(cur_text));
    int64_t from_day = 0, to_day = 0;
    bool json = strcmp(format, "json") == 0;
    if (optind != argc - 1 || statement == NULL || cur == CURRENCY_NONE ||
        (from == NULL) != (to == NULL) ||
        (from != NULL && (clock_day_parse(from, &from_day) != 0 ||
                          clock_day_parse(to, &to_day) != 0 || to_day < from_day)) ||
        (!json && strcmp(format, "text") != 0)) {
        fputs(report_usage, stderr);
        return EXIT_USAGE;
    }
    char *text = NULL;
    size_t len = 0;
    if (!read_all(statement, &text, &len)) {
        fprintf(stderr, "hongbao report: cannot read %s (at most 64 MiB)\n", statement);
        return EXIT_USAGE;
    }
    recon_line *lines = NULL;
    int count = 0;
    char why[512];
    hb_err err = reconcile_parse(text, len, &lines, &count, why, sizeof why);
    free(text);
    if (err != HB_ERR_OK) {
        fprintf(stderr, "hongbao report: %s: %s\n", statement, why);
        return err == HB_ERR_INVALID_ARGUMENT ? EXIT_USAGE : EXIT_UNAVAILABLE;
    }
    int rc = use_policy_zone();
    store *s = NULL;
    if (rc == EXIT_OK) rc = cli_open_store(db, &s);
    recon_report report;
    if (rc == EXIT_OK && reconcile_run(s, cur, lines, count, from_day, to_day, &report) != HB_ERR_OK) {
        rc = cli_fail(HB_ERR_UNAVAILABLE, "the store failed while reconciling");
    }
    store_close(s);
    free(lines);
    if (rc != EXIT_OK) return rc;
    if (json) {
        json_t *o = reconcile_json(&report);
        char *out = json_dumps(o, JSON_COMPACT);
        if (out != NULL) puts(out);
        free(out);
        json_decref(o);
    } else {
        char a[MONEY_TEXT_MAX], b[MONEY_TEXT_MAX], c[MONEY_TEXT_MAX], d[MONEY_TEXT_MAX];
        money_format(report.statement_credits, a, sizeof a);
        money_format(report.ledger_topups, b, sizeof b);
        money_format(report.statement_debits, c, sizeof c);
        money_format(report.ledger_withdrawals, d, sizeof d);
        printf("%s: %d lines, %d matched, %d outside the days; credits %s (ledger top-ups %s), "
               "debits %s (ledger withdrawals %s); ledger %s\n", currency_code(cur), report.lines,
               report.matched, report.outside, a, b, c, d,
               report.ledger.balanced ? "balanced" : "NOT BALANCED");
        for (int i = 0; i < report.diff_count; i++) {
            const recon_diff *x = &report.diffs[i];
            money_format(x->statement_amount, a, sizeof a);
            money_format(x->ledger_amount, b, sizeof b);
            printf("%s: reference %s", reconcile_kind_name(x->kind), x->reference);
            if (x->line > 0) printf(", statement line %d (%s)", x->line, a);
            if (x->transfer_id > 0) printf(", ledger tr_%lld (%s)", (long long)x->transfer_id, b);
            putchar('\n');
        }
        puts(reconcile_ok(&report) ? "OK" : "DIFFERENCES");
    }
    rc = reconcile_ok(&report) ? EXIT_OK : EXIT_CHECK_FAILED;
    reconcile_free(&report);
    return rc;
}

static int report_daily(int argc, char **argv)
{
    static const struct option options[] = {{"db", required_argument, NULL, 'd'},
                                            {"date", required_argument, NULL, 't'},
                                            {"format", required_argument, NULL, 'o'},
                                            {"help", no_argument, NULL, 'h'},
                                            {0, 0, 0, 0}};
    const char *db = CLI_DEFAULT_DB, *date = NULL, *format = "csv";
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc - 1, argv + 1, "", options, NULL)) != -1) {
        switch (opt) {
        case 'd': db = optarg; break;
        case 't': date = optarg; break;
        case 'o': format = optarg; break;
        case 'h': fputs(report_usage, stdout); return EXIT_OK;
        default: fputs(report_usage, stderr); return EXIT_USAGE;
        }
    }
    int64_t day = 0;
    bool json = strcmp(format, "json") == 0;
    if (optind != argc - 1 || date == NULL || clock_day_parse(date, &day) != 0 ||
        (!json && strcmp(format, "csv") != 0)) {
        fputs(report_usage, stderr);
        return EXIT_USAGE;
    }
    int rc = use_policy_zone();
    if (rc != EXIT_OK) return rc;
    store *s = NULL;
    rc = cli_open_store(db, &s);
    daily_report report;
    if (rc == EXIT_OK && reconcile_daily(s, day, &report) != HB_ERR_OK) {
        rc = cli_fail(HB_ERR_UNAVAILABLE, "the store failed while reading the day");
    }
    store_close(s);
    if (rc != EXIT_OK) return rc;
    if (json) {
        json_t *o = reconcile_daily_json(&report);
        char *out = json_dumps(o, JSON_COMPACT);
        if (out != NULL) puts(out);
        free(out);
        json_decref(o);
    } else {
        printf("date,flow,currency,count,amount\r\n");
        for (int i = 0; i < report.flow_count; i++) {
            const daily_flow *f = &report.flows[i];
            printf("%s,%s,%s,%lld,%lld\r\n", date, transfer_kind_name(f->kind),
                   currency_code(f->cur), (long long)f->count, (long long)f->amount);
        }
        for (int c = CURRENCY_CNY; c < CURRENCY_COUNT; c++) {
            printf("%s,net:custody_reserve,%s,,%lld\r\n%s,net:packet_escrow,%s,,%lld\r\n"
                   "%s,net:fee_revenue,%s,,%lld\r\n", date, currency_code((currency)c),
                   (long long)report.custody_net[c], date, currency_code((currency)c),
                   (long long)report.escrow_net[c], date, currency_code((currency)c),
                   (long long)report.fees_net[c]);
        }
    }
    if (!report.ties_out) fprintf(stderr, "hongbao report: the flows do not tie out to the ledger\n");
    return report.ties_out ? EXIT_OK : EXIT_CHECK_FAILED;
}

int cmd_report(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "large-tx") == 0) return report_large_tx(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "reconcile") == 0) return report_reconcile(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "daily") == 0) return report_daily(argc, argv);
    bool help = argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
    fputs(report_usage, help ? stdout : stderr);
    return help ? EXIT_OK : EXIT_USAGE;
}
