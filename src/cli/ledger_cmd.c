#include <getopt.h>
#include <string.h>

#include "cli/cli.h"
#include "core/money.h"

static const char ledger_usage[] =
    "usage: hongbao ledger check [--db PATH] [--json]\n"
    "\n"
    "Verify the ledger's invariants: per currency all balances sum to zero; every\n"
    "account's stored balance equals its credits minus its debits; no balance breaks its\n"
    "account's flags (customer money never negative, the reserve never positive); every\n"
    "transfer's currency matches both accounts; and the custody reserve equals minus what\n"
    "is owed to customers plus the platform's own fee revenue (100% custody); and each\n"
    "currency's packet escrow holds exactly the unclaimed, unrefunded part of its packets.\n"
    "Exits 0 when all hold, 4 when one does not.\n";

static void print_report(const ledger_report *r, bool json)
{
    if (json) {
        printf("{\"balanced\":%s,\"accounts\":%lld,\"transfers\":%lld,"
               "\"balance_mismatches\":%lld,\"first_mismatch\":%lld,\"flag_violations\":%lld,"
               "\"currency_mismatches\":%lld,\"unclassified_accounts\":%lld,"
               "\"escrow_mismatches\":%lld,\"pending_mismatches\":%lld,\"currencies\":[",
               r->balanced ? "true" : "false", (long long)r->accounts, (long long)r->transfers,
               (long long)r->balance_mismatches, (long long)r->first_mismatch_id,
               (long long)r->flag_violations, (long long)r->currency_mismatches,
               (long long)r->unclassified_kinds, (long long)r->escrow_mismatches,
               (long long)r->pending_mismatches);
        for (int i = 0; i < r->currency_count; i++) {
            const ledger_currency_report *c = &r->currencies[i];
            printf("%s{\"currency\":\"%s\",\"sum\":%lld,\"custody_reserve\":%lld,"
                   "\"owed_to_customers\":%lld,\"platform_revenue\":%lld,\"accounts\":%lld}",
                   i ? "," : "", currency_code(c->currency), (long long)c->sum_all,
                   (long long)c->custody, (long long)c->customer_owed,
                   (long long)c->platform_own, (long long)c->accounts);
        }
        printf("]}\n");
        return;
    }
    printf("ledger: %s\n", r->balanced ? "balanced" : "NOT BALANCED");
    printf("  accounts %lld, transfers %lld\n", (long long)r->accounts, (long long)r->transfers);
    for (int i = 0; i < r->currency_count; i++) {
        const ledger_currency_report *c = &r->currencies[i];
        char sum[MONEY_TEXT_MAX], custody[MONEY_TEXT_MAX], owed[MONEY_TEXT_MAX],
            platform[MONEY_TEXT_MAX];
        money_format(c->sum_all, sum, sizeof sum);
        money_format(c->custody, custody, sizeof custody);
        money_format(c->customer_owed, owed, sizeof owed);
        money_format(c->platform_own, platform, sizeof platform);
        printf("  %s: sum %s, custody reserve %s, owed to customers %s, platform revenue %s\n",
               currency_code(c->currency), sum, custody, owed, platform);
    }
    printf("  balance mismatches %lld", (long long)r->balance_mismatches);
    if (r->first_mismatch_id) printf(" (first: acct_%lld)", (long long)r->first_mismatch_id);
    printf(", flag violations %lld, currency mismatches %lld, unclassified accounts %lld,\n"
           "  packet escrow mismatches %lld, merchant pending mismatches %lld\n",
           (long long)r->flag_violations, (long long)r->currency_mismatches,
           (long long)r->unclassified_kinds, (long long)r->escrow_mismatches,
           (long long)r->pending_mismatches);
}

int cmd_ledger(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(ledger_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (strcmp(argv[1], "check") != 0) {
        fputs(ledger_usage, stderr);
        return EXIT_USAGE;
    }
    static const struct option options[] = {{"db", required_argument, NULL, 'd'},
                                            {"json", no_argument, NULL, 'j'},
                                            {"help", no_argument, NULL, 'h'},
                                            {0, 0, 0, 0}};
    const char *db = CLI_DEFAULT_DB;
    bool json = false;
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc - 1, argv + 1, "", options, NULL)) != -1) {
        if (opt == 'd') {
            db = optarg;
        } else if (opt == 'j') {
            json = true;
        } else if (opt == 'h') {
            fputs(ledger_usage, stdout);
            return EXIT_OK;
        } else {
            fputs(ledger_usage, stderr);
            return EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fputs(ledger_usage, stderr);
        return EXIT_USAGE;
    }
    store *s = NULL;
    int rc = cli_open_store(db, &s);
    if (rc != EXIT_OK) return rc;
    ledger_report report;
    hb_err err = store_ledger_check(s, &report);
    store_close(s);
    if (err != HB_ERR_OK) return cli_fail(err, "the store failed while checking");
    print_report(&report, json);
    return report.balanced ? EXIT_OK : EXIT_CHECK_FAILED;
}
