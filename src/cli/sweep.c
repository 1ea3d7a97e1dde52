/* hongbao sweep: refund expired red packets now (serve does it every 15 seconds). */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"
#include "service/packet.h"

static const char sweep_usage[] =
    "usage: hongbao sweep [--db PATH|URL] [--json]\n"
    "\n"
    "Return the unclaimed remainder of every red packet past its expiry to its sender, one\n"
    "transfer each, and mark the packet refunded. `hongbao serve` does the same within a\n"
    "minute of each expiry; running this beside it, or twice, never refunds a packet twice.\n"
    "A packet whose sender's wallet is frozen or closed is left for a later sweep and\n"
    "counted as refused. Exits 0 when every due packet was refunded, 1 when some were\n"
    "refused, 3 when the store is unavailable.\n";

int cmd_sweep(int argc, char **argv)
{
    static const struct option options[] = {{"db", required_argument, NULL, 'd'},
                                            {"json", no_argument, NULL, 'j'},
                                            {"help", no_argument, NULL, 'h'},
                                            {0, 0, 0, 0}};
    const char *db = CLI_DEFAULT_DB;
    bool json = false;
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'd': db = optarg; break;
        case 'j': json = true; break;
        case 'h': fputs(sweep_usage, stdout); return EXIT_OK;
        default: fputs(sweep_usage, stderr); return EXIT_USAGE;
        }
    }
    if (optind != argc) {
        fputs(sweep_usage, stderr);
        return EXIT_USAGE;
    }
    engine *e = NULL;
    int rc = cli_open_engine(db, false, &e);
    if (rc != EXIT_OK) return rc;
    int64_t refunded = 0, refused = 0;
    char err_text[512] = "";
    hb_err err = packet_sweep(e, db, clock_now_ms(clock_real()), &refunded, &refused, err_text,
                              sizeof err_text);
    engine_close(e);
    if (err != HB_ERR_OK) return cli_fail(err, err_text);
    if (json) {
        printf("{\"refunded\":%lld,\"refused\":%lld}\n", (long long)refunded, (long long)refused);
    } else {
        printf("refunded %lld expired red packet%s, %lld refused\n", (long long)refunded,
               refunded == 1 ? "" : "s", (long long)refused);
    }
    return refused == 0 ? EXIT_OK : EXIT_REFUSED;
}
