#include <getopt.h>
#include <string.h>

#include "cli/cli.h"
#include "service/wallet.h"

static const char init_usage[] =
    "usage: hongbao init [--db PATH]\n"
    "\n"
    "Create the store (default ./hongbao.db) if it does not exist, run its schema\n"
    "migrations, and create the system accounts of every currency (custody reserve,\n"
    "fee revenue, packet escrow) that are missing. Safe to run again.\n";

int cmd_init(int argc, char **argv)
{
    const char *db = CLI_DEFAULT_DB;
    static const struct option options[] = {
        {"db", required_argument, NULL, 'd'}, {"help", no_argument, NULL, 'h'}, {0, 0, 0, 0}};
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (opt == 'd') {
            db = optarg;
        } else if (opt == 'h') {
            fputs(init_usage, stdout);
            return EXIT_OK;
        } else {
            fputs(init_usage, stderr);
            return EXIT_USAGE;
        }
    }
    if (optind != argc) {
        fputs(init_usage, stderr);
        return EXIT_USAGE;
    }
    engine *e = NULL;
    int rc = cli_open_engine(db, true, &e);
    if (rc != EXIT_OK) return rc;
    static const currency currencies[] = {CURRENCY_CNY, CURRENCY_HKD};
    for (size_t i = 0; i < sizeof currencies / sizeof currencies[0]; i++) {
        char err_text[256];
        hb_err err = wallet_init_system(e, currencies[i], err_text, sizeof err_text);
        if (err != HB_ERR_OK) {
            engine_close(e);
            return cli_fail(err, err_text);
        }
    }
    engine_close(e);
    printf("store ready: %s\n", db);
    return EXIT_OK;
}
