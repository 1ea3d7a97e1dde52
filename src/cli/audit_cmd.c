/* hongbao audit verify | checkpoint: prove the audit trail, sign and export checkpoints. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "service/auditlog.h"

static const char audit_usage[] =
    "usage: hongbao audit verify [--db PATH|URL] [--from SEQ] [--checkpoint FILE]\n"
    "                            [--audit-key FILE] [--archive] [--json]\n"
    "       hongbao audit checkpoint [--db PATH|URL] [--export FILE] [--audit-key FILE]\n"
    "       hongbao audit archive --before YYYY-MM-DD --out FILE [--db PATH|URL]\n"
    "                             [--audit-key FILE]\n"
    "\n"
    "verify recomputes every audit chain (each record's hash over the one before it, seq by\n"
    "seq from 1 or from SEQ, trusting the record before it), checks every signed checkpoint\n"
    "in the store against the audit key (the chain must still hold the hash each one signed),\n"
    "and with --checkpoint an exported checkpoint (its own signature, and the store's chain\n"
    "reaching it with the same hash). It recomputes every record's row digest from the ledger\n"
    "rows that name it (transfers, accounts, packets, claims, payments, refunds, settlements),\n"
    "finds rows naming a record or node the trail lacks, and checks the columns later commands\n"
    "change against the rows (balances, packet and payment totals, settlements) with the\n"
    "ledger check. It prints OK or the first broken chain, seq and why, and\n"
    "exits 4 when anything is broken. Without the audit key file the store's checkpoints'\n"
    "signatures are not checked (say so with --audit-key, or keep an exported checkpoint).\n"
    "--archive verifies an archive file (see archive): its chains may start at a signed cut.\n"
    "\n"
    "checkpoint signs the head of every chain now (Ed25519, the audit key file) and with\n"
    "--export writes the latest to FILE as JSON with the public key: keep it off this host;\n"
    "it is what proves, later, that nothing before it was changed.\n"
    "\n"
    "archive moves every chain's records older than the date (a business day in the policy's\n"
    "zone; at least 3 years back: operation records stay queryable that long) into FILE, a\n"
    "store of its own that `audit verify --db FILE` checks, only behind a signed checkpoint:\n"
    "the trail must verify first, the last record before the date is signed, the archive is\n"
    "written and verified, and only then are the records removed, by a command with its own\n"
    "audit record. verify accepts the store's chains starting after the cut. Keep the archive\n"
    "(transaction records at least 5 years).\n"
    "\n"
    "The audit key file is $HONGBAO_AUDIT_KEY_FILE, else PATH.audit-key (for a database URL\n"
    "$HONGBAO_KEY_FILE.audit-key or ./hongbao.audit-key), created by init and by serve.\n"
    "Exits 0, 2 for bad arguments, 3 when the store or a key is unavailable, 4 when\n"
    "verification fails.\n";

static int usage_error(void)
{
    fputs(audit_usage, stderr);
    return EXIT_USAGE;
}

int cmd_audit(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "verify") != 0 && strcmp(argv[1], "checkpoint") != 0 &&
                     strcmp(argv[1], "archive") != 0)) {
        bool help = argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
        fputs(audit_usage, help ? stdout : stderr);
        return help ? EXIT_OK : EXIT_USAGE;
    }
    bool verify = strcmp(argv[1], "verify") == 0, archive = strcmp(argv[1], "archive") == 0;
    static const struct option options[] = {{"db", required_argument, NULL, 'd'},
                                            {"from", required_argument, NULL, 'f'},
                                            {"checkpoint", required_argument, NULL, 'c'},
                                            {"export", required_argument, NULL, 'e'},
                                            {"audit-key", required_argument, NULL, 'k'},
                                            {"json", no_argument, NULL, 'j'},
                                            {"archive", no_argument, NULL, 'A'},
                                            {"before", required_argument, NULL, 'b'},
                                            {"out", required_argument, NULL, 'o'},
                                            {"help", no_argument, NULL, 'h'},
                                            {0, 0, 0, 0}};
    const char *db = CLI_DEFAULT_DB, *checkpoint = NULL, *export = NULL, *key_file = NULL,
               *before = NULL, *out = NULL;
    int64_t from = 1;
    bool json = false, archive_file = false;
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc - 1, argv + 1, "", options, NULL)) != -1) {
        char *end = NULL;
        switch (opt) {
        case 'd': db = optarg; break;
        case 'f':
            from = strtoll(optarg, &end, 10);
            if (end == optarg || *end != '\0' || from < 1) return usage_error();
            break;
        case 'c': checkpoint = optarg; break;
        case 'e': export = optarg; break;
        case 'k': key_file = optarg; break;
        case 'j': json = true; break;
        case 'A': archive_file = true; break;
        case 'b': before = optarg; break;
        case 'o': out = optarg; break;
        case 'h': fputs(audit_usage, stdout); return EXIT_OK;
        default: return usage_error();
        }
    }
    if (optind != argc - 1 || (verify && (export != NULL || before != NULL || out != NULL)) ||
        (!verify && (checkpoint != NULL || json || from != 1 || archive_file)) ||
        (archive && (before == NULL || out == NULL || export != NULL)) ||
        (!archive && !verify && (before != NULL || out != NULL))) {
        return usage_error();
    }
    int64_t before_day = 0;
    if (archive) {
        policy pol;
        int prc = cli_load_policy(NULL, &pol);
        if (prc != EXIT_OK) return prc;
        setenv("TZ", pol.timezone, 1);
        tzset();
        int64_t today = clock_business_day(clock_now_ms(clock_real()), NULL);
        if (clock_day_parse(before, &before_day) != 0) return usage_error();
        if (before_day > today - 1096) {
            char latest[16];
            clock_day_format(today - 1096, latest, sizeof latest);
            fprintf(stderr, "hongbao audit: operation records stay queryable for 3 years: "
                            "--before %s at the latest\n", latest);
            return EXIT_USAGE;
        }
    }
    char key_path[1200], why[600];
    if (key_file == NULL) {
        auditlog_default_key_path(db, key_path, sizeof key_path);
        key_file = key_path;
    }
    EVP_PKEY *key = NULL;
    hb_err kerr = auditlog_key_load(key_file, &key, why, sizeof why);
    if (kerr != HB_ERR_OK && (!verify || kerr != HB_ERR_NOT_FOUND)) {
        fprintf(stderr, "hongbao audit: %s\n", why);
        return EXIT_UNAVAILABLE;
    }
    uint8_t public_key[32];
    if (key != NULL && auditlog_public_key(key, public_key) != HB_ERR_OK) {
        EVP_PKEY_free(key);
        return cli_fail(HB_ERR_UNAVAILABLE, "cannot read the audit key");
    }
    int rc = EXIT_OK;
    if (verify) {
        audit_checkpoint exported;
        uint8_t exported_key[32];
        if (checkpoint != NULL &&
            auditlog_import(checkpoint, &exported, exported_key, why, sizeof why) != HB_ERR_OK) {
            fprintf(stderr, "hongbao audit: %s\n", why);
            EVP_PKEY_free(key);
            return EXIT_USAGE;
        }
        store *s = NULL;
        rc = cli_open_store(db, &s);
        audit_report report;
        if (rc == EXIT_OK &&
            auditlog_verify_as(s, key != NULL ? public_key : NULL, from,
                               checkpoint != NULL ? &exported : NULL, exported_key, archive_file,
                               &report) != HB_ERR_OK) {
            rc = cli_fail(HB_ERR_UNAVAILABLE, "cannot read the audit trail");
        }
        store_close(s);
        if (rc == EXIT_OK && json) {
            json_t *o = auditlog_report_json(&report);
            char *text = json_dumps(o, JSON_COMPACT);
            printf("%s\n", text);
            free(text);
            json_decref(o);
        } else if (rc == EXIT_OK && report.ok) {
            printf("OK: %d chain(s), %lld records, %lld checkpoints, %lld ledger rows%s%s\n",
                   report.nodes, (long long)report.records, (long long)report.checkpoints,
                   (long long)report.rows,
                   report.checkpoints_verified ? "" : " (signatures not checked: no audit key)",
                   report.exported_checked ? ", the exported checkpoint matches" : "");
            if (report.legacy_rows > 0) {
                printf("note: %lld ledger rows predate row digests (covered by the ledger check "
                       "only)\n", (long long)report.legacy_rows);
            }
        } else if (rc == EXIT_OK && report.node[0] == '\0' && report.seq == 0) {
            printf("BROKEN: the ledger rows: %s\n", report.reason);
        } else if (rc == EXIT_OK) {
            printf("BROKEN: chain %s at seq %lld: %s\n", report.node, (long long)report.seq,
                   report.reason);
        }
        if (rc == EXIT_OK && !report.ok) rc = EXIT_CHECK_FAILED;
    } else if (archive) {
        engine *e = NULL;
        rc = cli_open_engine(db, false, &e);
        int64_t moved = 0;
        hb_err err = rc == EXIT_OK ? auditlog_archive(e, db, key, clock_day_start_ms(before_day), out,
                                                      &moved, why, sizeof why)
                                   : HB_ERR_OK;
        engine_close(e);
        if (rc == EXIT_OK && err != HB_ERR_OK) {
            fprintf(stderr, "hongbao audit: %s\n", why);
            rc = err == HB_ERR_NOT_FOUND || err == HB_ERR_INVALID_ARGUMENT ? EXIT_REFUSED
                                                                           : EXIT_UNAVAILABLE;
        }
        if (rc == EXIT_OK) printf("archived %lld records to %s\n", (long long)moved, out);
    } else {
        engine *e = NULL;
        rc = cli_open_engine(db, false, &e);
        checkpoint_cmd c;
        auditlog_checkpoint_prepare(&c, key, true, 0, 0, CLI_ACTOR);
        if (rc == EXIT_OK) {
            hb_err err = engine_submit(e, &c.base);
            if (err != HB_ERR_OK) rc = cli_fail(err, c.base.err_detail);
        }
        engine_close(e);
        if (rc == EXIT_OK && c.last.seq == 0) {
            fprintf(stderr, "hongbao audit: the audit trail is empty: nothing to sign\n");
            rc = EXIT_REFUSED;
        }
        if (rc == EXIT_OK) {
            printf("signed %d checkpoint(s); latest: chain %s seq %lld\n", c.made, c.last.node,
                   (long long)c.last.seq);
        }
        if (rc == EXIT_OK && export != NULL &&
            auditlog_export(export, &c.last, public_key, why, sizeof why) != HB_ERR_OK) {
            fprintf(stderr, "hongbao audit: %s\n", why);
            rc = EXIT_UNAVAILABLE;
        }
    }
    EVP_PKEY_free(key);
    return rc;
}
