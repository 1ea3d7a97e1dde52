/* hongbao: the command-line entry point. Each subcommand lives in its own file. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const char usage[] =
    "usage: hongbao <command> [options]\n"
    "\n"
    "A self-hostable red-packet and payment-code platform: double-entry ledger,\n"
    "batching engine with group commit, tamper-evident audit trail.\n"
    "\n"
    "commands:\n"
    "  init               create a store, its key file, system accounts, an admin key\n"
    "  serve              run the HTTP API\n"
    "  config check FILE  validate a policy file, naming the offending line\n"
    "  demo               fill a store with people, a merchant and money to play with\n"
    "  key                create, list or revoke API keys\n"
    "  account            create, show, list, freeze, unfreeze or close accounts\n"
    "  topup              credit a wallet with money that arrived at the custody bank\n"
    "  withdraw           pay money from a wallet out to the customer's bank\n"
    "  transfer           move money from one wallet to another\n"
    "  ledger check       verify every ledger invariant\n"
    "  sweep              refund expired red packets now\n"
    "  settle             D+1 settlement of a business day, with settlement files\n"
    "  qr TEXT            print a QR code in the terminal (or --png/--svg to a file)\n"
    "  audit              verify the audit trail; sign and export checkpoints\n"
    "  report             large transactions, reconciliation with the bank, daily flows\n"
    "  backup | restore   a consistent online copy of a SQLite store, and putting it back\n"
    "  keys rotate        a new master key; keys reseal seals older data again with it\n"
    "  login-link         a one-time link that signs a browser in to the dashboard or console\n"
    "  bench ledger       measure durable transfers per second through the engine\n"
    "\n"
    "Every command that touches a store takes --db PATH (default ./hongbao.db) and\n"
    "--help. Amounts are decimal yuan with at most two decimals (12.34).\n"
    "\n"
    "policy: built-in defaults (docs/policy.ini shows them all), a file named by\n"
    "HONGBAO_CONFIG (or serve --config), then single keys from the environment,\n"
    "HONGBAO_<SECTION>_<KEY>, e.g. HONGBAO_TIER_PERSONAL_DAILY_LIMIT=500.00.\n"
    "\n"
    "exit status: 0 ok, 1 refused (the error code is printed), 2 usage error,\n"
    "3 store unavailable, 4 ledger check or audit verification failed.\n";

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    static const struct {
        const char *name;
        int (*run)(int, char **);
    } commands[] = {
        {"init", cmd_init},         {"account", cmd_account},   {"topup", cmd_topup},
        {"withdraw", cmd_withdraw}, {"transfer", cmd_transfer}, {"ledger", cmd_ledger},
        {"bench", cmd_bench},       {"key", cmd_key},           {"keys", cmd_keys},         {"login-link", cmd_login_link},           {"serve", cmd_serve},
        {"demo", cmd_demo},         {"config", cmd_config},     {"sweep", cmd_sweep},
        {"settle", cmd_settle},     {"qr", cmd_qr},             {"report", cmd_report},
        {"audit", cmd_audit},       {"backup", cmd_backup},     {"restore", cmd_backup},
    };
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
    }
    fprintf(stderr, "hongbao: unknown command '%s' (see hongbao --help)\n", argv[1]);
    return EXIT_USAGE;
}
