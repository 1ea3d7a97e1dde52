#include <getopt.h>
#include <string.h>

#include "cli/cli.h"
#include "service/auditlog.h"
#include "service/wallet.h"

static const char init_usage[] =
    "usage: hongbao init [--db PATH] [--key-file FILE] [--json]\n"
    "\n"
    "Create the store (default ./hongbao.db) if it does not exist, run its schema\n"
    "migrations, create the key file (default PATH.key, mode 0600) that encrypts personal\n"
    "data and API secrets, the audit key file ($HONGBAO_AUDIT_KEY_FILE or PATH.audit-key,\n"
    "mode 0600, Ed25519) that signs audit checkpoints, create the system accounts of every currency (custody reserve,\n"
    "fee revenue, packet escrow) that are missing, and on a store without keys create the\n"
    "first admin API key and print it once ({\"key_id\":...,\"secret\":...} with --json).\n"
    "Safe to run again.\n";

int cmd_init(int argc, char **argv)
{
    const char *db = CLI_DEFAULT_DB;
    const char *key_file = NULL;
    bool json = false;
    static const struct option options[] = {{"db", required_argument, NULL, 'd'},
                                            {"key-file", required_argument, NULL, 'k'},
                                            {"json", no_argument, NULL, 'j'},
                                            {"help", no_argument, NULL, 'h'},
                                            {0, 0, 0, 0}};
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (opt == 'd') {
            db = optarg;
        } else if (opt == 'k') {
            key_file = optarg;
        } else if (opt == 'j') {
            json = true;
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
    char key_path[LIMIT_PATH_LEN + 8];
    if (key_file == NULL) {
        keyring_default_path(db, key_path, sizeof key_path);
        key_file = key_path;
    }
    engine *e = NULL;
    int rc = cli_open_engine(db, true, &e);
    if (rc != EXIT_OK) return rc;
    int created = 0;
    char err_text[512];
    hb_err kerr = keyring_create(key_file, &created, err_text, sizeof err_text);
    keyring keys;
    if (kerr != HB_ERR_OK) {
        engine_close(e);
        fprintf(stderr, "hongbao: %s\n", err_text);
        return EXIT_UNAVAILABLE;
    }
    rc = cli_load_keyring(db, key_file, &keys);
    if (rc != EXIT_OK) {
        engine_close(e);
        return rc;
    }
    /* the audit key that signs checkpoints, in a file of its own (keep a copy apart) */
    char audit_key[LIMIT_PATH_LEN + 16];
    auditlog_default_key_path(db, audit_key, sizeof audit_key);
    int audit_created = 0;
    if (auditlog_key_create(audit_key, &audit_created, err_text, sizeof err_text) != HB_ERR_OK) {
        engine_close(e);
        keyring_clear(&keys);
        fprintf(stderr, "hongbao: %s\n", err_text);
        return EXIT_UNAVAILABLE;
    }
    static const currency currencies[] = {CURRENCY_CNY, CURRENCY_HKD};
    for (size_t i = 0; i < sizeof currencies / sizeof currencies[0]; i++) {
        hb_err err = wallet_init_system(e, currencies[i], err_text, sizeof err_text);
        if (err != HB_ERR_OK) {
            engine_close(e);
            return cli_fail(err, err_text);
        }
    }
    /* The first admin key, once: a store that has keys already prints none. */
    store *reader = NULL;
    rc = cli_open_store(db, &reader);
    int count = 0;
    api_key first;
    if (rc == EXIT_OK && store_key_list(reader, "", 1, &first, &count) != HB_ERR_OK) {
        rc = EXIT_UNAVAILABLE;
    }
    store_close(reader);
    if (rc == EXIT_OK && count == 0) {
        if (!json) printf("store ready: %s (key file %s)\nfirst admin key:\n", cli_shown(db), key_file);
        rc = cli_create_key(e, &keys, ROLE_ADMIN, 0, json);
    } else if (rc == EXIT_OK && !json) {
        printf("store ready: %s (key file %s; admin keys exist already)\n", cli_shown(db),
               key_file);
    } else if (rc == EXIT_OK) {
        printf("{\"db\":\"%s\",\"admin_key\":null}\n", cli_shown(db));
    }
    keyring_clear(&keys);
    engine_close(e);
    return rc;
}
