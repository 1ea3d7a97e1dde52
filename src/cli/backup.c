/* hongbao backup | restore: a consistent online copy of a SQLite store, and putting one back. */
#include <getopt.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "service/auditlog.h"

static const char backup_usage[] =
    "usage: hongbao backup --out FILE [--db PATH]\n"
    "       hongbao restore --from FILE [--db PATH] [--force]\n"
    "\n"
    "backup copies a SQLite store into FILE with SQLite's online backup API, in one read\n"
    "transaction: a consistent snapshot, taken while `serve` keeps writing. It then opens the\n"
    "copy and checks it: every ledger invariant, and every audit chain and checkpoint. The\n"
    "copy holds no key: keep the key file (PATH.key) and the audit key file (PATH.audit-key)\n"
    "safe and apart (a second copy offline). Without the key file the personal data in the\n"
    "store and in every backup of it cannot be read, by anyone, ever; without the audit key\n"
    "new checkpoints cannot be signed.\n"
    "\n"
    "restore copies FILE back to PATH (refusing an existing PATH without --force; stop\n"
    "`serve` first) and checks it the same way.\n"
    "\n"
    "PostgreSQL: use its own tools, which take a consistent snapshot while the nodes run:\n"
    "  pg_dump --format=custom --file=FILE URL      and      pg_restore --dbname=URL FILE\n"
    "(into a new, empty database), and keep the key files the same way.\n"
    "\n"
    "Exits 0, 2 for bad arguments (and for a PostgreSQL URL), 3 when a file cannot be read or\n"
    "written, 4 when the copy fails its checks.\n";

static bool is_url(const char *db)
{
    return strncmp(db, "postgres://", 11) == 0 || strncmp(db, "postgresql://", 13) == 0;
}

/* Copy the database at from into to (a new file), in one step: a consistent snapshot. */
static int copy_db(const char *from, const char *to, char *why, size_t size)
{
    sqlite3 *src = NULL, *dst = NULL;
    int rc = sqlite3_open_v2(from, &src, SQLITE_OPEN_READONLY, NULL);
    if (rc == SQLITE_OK) sqlite3_busy_timeout(src, 10000);
    if (rc == SQLITE_OK) rc = sqlite3_open_v2(to, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    sqlite3_backup *b = rc == SQLITE_OK ? sqlite3_backup_init(dst, "main", src, "main") : NULL;
    if (b != NULL) {
        rc = sqlite3_backup_step(b, -1); /* every page in one read transaction */
        int fin = sqlite3_backup_finish(b);
        if (rc == SQLITE_DONE) rc = fin;
    } else if (rc == SQLITE_OK) {
        rc = SQLITE_ERROR;
    }
    if (rc != SQLITE_OK) {
        snprintf(why, size, "%s", dst != NULL ? sqlite3_errmsg(dst) : src != NULL ? sqlite3_errmsg(src) : "cannot open");
    }
    /* the copy in WAL mode like the store, its journal folded in */
    if (rc == SQLITE_OK) rc = sqlite3_exec(dst, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
    sqlite3_close(src);
    sqlite3_close(dst);
    return rc == SQLITE_OK ? EXIT_OK : EXIT_UNAVAILABLE;
}

/* The ledger's invariants and the audit trail of the store at db. */
static int check_copy(const char *db, const char *audit_key_db)
{
    store *s = NULL;
    int rc = cli_open_store(db, &s);
    if (rc != EXIT_OK) return rc;
    ledger_report ledger;
    audit_report audit;
    char key_path[1200], why[600];
    auditlog_default_key_path(audit_key_db, key_path, sizeof key_path);
    EVP_PKEY *key = NULL;
    uint8_t public_key[32];
    bool have_key = auditlog_key_load(key_path, &key, why, sizeof why) == HB_ERR_OK &&
                    auditlog_public_key(key, public_key) == HB_ERR_OK;
    EVP_PKEY_free(key);
    if (store_ledger_check(s, &ledger) != HB_ERR_OK ||
        auditlog_verify(s, have_key ? public_key : NULL, 1, NULL, NULL, &audit) != HB_ERR_OK) {
        store_close(s);
        return cli_fail(HB_ERR_UNAVAILABLE, "cannot read the copy");
    }
    store_close(s);
    printf("ledger %s; audit %s: %lld records in %d chain(s), %lld checkpoints%s\n",
           ledger.balanced ? "balanced" : "NOT BALANCED", audit.ok ? "OK" : "BROKEN",
           (long long)audit.records, audit.nodes, (long long)audit.checkpoints,
           have_key ? "" : " (signatures not checked: no audit key)");
    if (!audit.ok) {
        printf("audit broken: chain %s at seq %lld: %s\n", audit.node, (long long)audit.seq,
               audit.reason);
    }
    return ledger.balanced && audit.ok ? EXIT_OK : EXIT_CHECK_FAILED;
}

int cmd_backup(int argc, char **argv)
{
    bool restore = strcmp(argv[0], "restore") == 0;
    static const struct option options[] = {{"db", required_argument, NULL, 'd'},
                                            {"out", required_argument, NULL, 'o'},
                                            {"from", required_argument, NULL, 'f'},
                                            {"force", no_argument, NULL, 'F'},
                                            {"help", no_argument, NULL, 'h'},
                                            {0, 0, 0, 0}};
    const char *db = CLI_DEFAULT_DB, *out = NULL, *from = NULL;
    bool force = false;
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'd': db = optarg; break;
        case 'o': out = optarg; break;
        case 'f': from = optarg; break;
        case 'F': force = true; break;
        case 'h': fputs(backup_usage, stdout); return EXIT_OK;
        default: fputs(backup_usage, stderr); return EXIT_USAGE;
        }
    }
    if (optind != argc || (restore ? (from == NULL || out != NULL) : (out == NULL || from != NULL || force))) {
        fputs(backup_usage, stderr);
        return EXIT_USAGE;
    }
    if (is_url(db)) {
        fprintf(stderr, "hongbao %s: %s is PostgreSQL: use pg_dump --format=custom --file=FILE URL "
                        "and pg_restore --dbname=URL FILE (see hongbao backup --help)\n",
                argv[0], cli_shown(db));
        return EXIT_USAGE;
    }
    const char *target = restore ? db : out;
    if (access(target, F_OK) == 0 && (!restore || !force)) {
        fprintf(stderr, "hongbao %s: %s exists already%s\n", argv[0], target,
                restore ? " (--force to replace it; stop serve first)" : "");
        return EXIT_USAGE;
    }
    /* a restore is written and checked beside the store, and only then moved over it */
    char staged[1200];
    snprintf(staged, sizeof staged, "%s%s", target, restore ? ".restoring" : "");
    if (restore) unlink(staged);
    char why[512] = "";
    int rc = copy_db(restore ? from : db, staged, why, sizeof why);
    if (rc != EXIT_OK) {
        unlink(staged);
        fprintf(stderr, "hongbao %s: %s\n", argv[0], why);
        return rc;
    }
    if (restore) {
        rc = check_copy(staged, db);
        if (rc != EXIT_OK) {
            unlink(staged);
            fprintf(stderr, "hongbao restore: %s fails its checks: %s left as it was\n", from,
                    target);
            return rc;
        }
        char side[1300];
        snprintf(side, sizeof side, "%s-wal", target);
        unlink(side);
        snprintf(side, sizeof side, "%s-shm", target);
        unlink(side);
        if (rename(staged, target) != 0) {
            unlink(staged);
            fprintf(stderr, "hongbao restore: cannot move the restored store to %s\n", target);
            return EXIT_UNAVAILABLE;
        }
        printf("restored %s to %s\n", from, target);
        return EXIT_OK;
    }
    if (!restore) {
        char key[1200], audit_key[1200];
        keyring_default_path(db, key, sizeof key);
        auditlog_default_key_path(db, audit_key, sizeof audit_key);
        fprintf(stderr, "hongbao backup: %s holds no key. Keep %s (the data key: without it the "
                        "personal data in this backup is lost for good) and %s (the audit key) "
                        "safe, apart from the backup.\n", out, key, audit_key);
    }
    printf("backed up %s to %s\n", db, target);
    return check_copy(target, db);
}
