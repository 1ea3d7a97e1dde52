/* hongbao keys rotate|reseal: a new master key, and older boxes sealed again with it. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "service/rekey.h"

static const char keys_usage[] =
    "usage: hongbao keys rotate [--db PATH|URL] [--key-file FILE]\n"
    "       hongbao keys reseal [--db PATH|URL] [--key-file FILE]\n"
    "\n"
    "rotate appends a new master key to the key file (written beside it, synced, renamed over\n"
    "it; mode 0600) and records the rotation in the audit trail. From it derive a new data key\n"
    "and a new payment-code key: new personal data, API and webhook secrets and new codes'\n"
    "tokens use them; codes made before keep working until they expire or are revoked; older\n"
    "boxes still open, and serve seals them again with the new key in the background (reseal\n"
    "does it now, to the end). The phone lookup key and red-packet token keys stay the first\n"
    "key's. A file holds at most 8 keys. Copy the new file to every node of a PostgreSQL store\n"
    "and restart them: a node with the old file cannot open what the new key sealed.\n"
    "\n"
    "Losing the key file loses the personal data and secrets sealed with it (the ledger stays\n"
    "readable): keep a copy of every version off the host, apart from the store's backups.\n"
    "The key file is --key-file, else $HONGBAO_KEY_FILE, else PATH.key (./hongbao.key for a\n"
    "database URL). Exits 0, 2 for bad arguments, 3 when the store or the key file fails.\n";

int cmd_keys(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "rotate") != 0 && strcmp(argv[1], "reseal") != 0)) {
        fputs(keys_usage, argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
        return argc >= 2 && strcmp(argv[1], "--help") == 0 ? EXIT_OK : EXIT_USAGE;
    }
    bool rotate = strcmp(argv[1], "rotate") == 0;
    const char *db = "hongbao.db";
    const char *key_file = NULL;
    static const struct option options[] = {{"db", required_argument, NULL, 'd'},
                                            {"key-file", required_argument, NULL, 'k'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    optind = 2;
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (opt == 'd') {
            db = optarg;
        } else if (opt == 'k') {
            key_file = optarg;
        } else if (opt == 'h') {
            fputs(keys_usage, stdout);
            return EXIT_OK;
        } else {
            fputs(keys_usage, stderr);
            return EXIT_USAGE;
        }
    }
    if (optind != argc) {
        fputs(keys_usage, stderr);
        return EXIT_USAGE;
    }
    char path[LIMIT_PATH_LEN + 8];
    if (key_file == NULL) {
        keyring_default_path(db, path, sizeof path);
        key_file = path;
    }
    engine *e = NULL;
    int rc = cli_open_engine(db, false, &e);
    if (rc != EXIT_OK) return rc;
    if (rotate) {
        int version = 0;
        char why[512];
        hb_err err = keyring_rotate(key_file, &version, why, sizeof why);
        if (err != HB_ERR_OK) {
            fprintf(stderr, "hongbao: %s\n", why);
            engine_close(e);
            return err == HB_ERR_INVALID_ARGUMENT ? EXIT_REFUSED : EXIT_UNAVAILABLE;
        }
        err = rekey_record_rotation(e, version, "cli");
        if (err != HB_ERR_OK) {
            fprintf(stderr, "hongbao: the key file holds key %d, but recording it in the audit "
                            "trail failed: %s\n", version, hb_err_name(err));
            engine_close(e);
            return EXIT_UNAVAILABLE;
        }
        printf("key %d added to %s: new personal data, secrets and codes use it; serve seals "
               "older ones again in the background (or run hongbao keys reseal). Restart every "
               "node with this file, and keep a copy of it off the host.\n", version, key_file);
        engine_close(e);
        return EXIT_OK;
    }
    keyring keys;
    rc = cli_load_keyring(db, key_file, &keys);
    if (rc != EXIT_OK) {
        engine_close(e);
        return rc;
    }
    rekey_cursor cursor = {.table = keys.versions > 1 ? 0 : 3};
    hb_err err = HB_ERR_OK;
    while (err == HB_ERR_OK && cursor.table < 3) err = rekey_step(e, &keys, "cli", 64, &cursor);
    keyring_clear(&keys);
    engine_close(e);
    if (err != HB_ERR_OK) {
        fprintf(stderr, "hongbao: re-sealing failed: %s\n", hb_err_name(err));
        return EXIT_UNAVAILABLE;
    }
    printf("%lld rows sealed again with the newest key, %lld left that no key opens\n",
           (long long)cursor.resealed, (long long)cursor.unopened);
    return cursor.unopened > 0 ? EXIT_CHECK_FAILED : EXIT_OK;
}
