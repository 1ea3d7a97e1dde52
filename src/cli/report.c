/* hongbao report large-tx: the large-transaction report of a range of business days. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "service/risk.h"

static const char report_usage[] =
    "usage: hongbao report large-tx --from YYYY-MM-DD --to YYYY-MM-DD [--db PATH|URL]\n"
    "                               [--format csv|json]\n"
    "\n"
    "List the large transactions of business days FROM..TO (the policy's time zone): each\n"
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

int cmd_report(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "large-tx") != 0) {
        bool help = argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
        fputs(report_usage, help ? stdout : stderr);
        return help ? EXIT_OK : EXIT_USAGE;
    }
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
