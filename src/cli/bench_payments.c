/* hongbao bench payments-setup: the store for the payment benchmark (bench/payments.sh).
 *
 * Creates, through the engine: an enterprise merchant (fee 0.6%) with a static code (the
 * printed sticker at a till) and --payers person customers (default 5,000), each topped up
 * with 1,000.00 and given a bearer session. Writes "PAYLOAD SESSION" lines to --out, one per
 * payer. The benchmark itself is wrk posting POST /v1/payments against `hongbao serve`. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "service/paycode.h"
#include "service/wallet.h"

static const char setup_usage[] =
    "usage: hongbao bench payments-setup --db PATH --out FILE [--payers N]\n"
    "\n"
    "Prepare a scratch store for bench/payments.sh: an enterprise merchant's static code and\n"
    "N payers (default 5000) with 1,000.00 and a session each; writes \"PAYLOAD SESSION\"\n"
    "lines for wrk.\n";

static int fund_payers(engine *e, const int64_t *ids, int64_t n)
{
    transfer_cmd *ts = calloc((size_t)n, sizeof *ts);
    command **list = calloc((size_t)n, sizeof *list);
    ASSERT(ts != NULL && list != NULL);
    int rc = EXIT_OK;
    for (int64_t i = 0; i < n && rc == EXIT_OK; i++) {
        ts[i].transfer.kind = TRANSFER_TOPUP;
        ts[i].transfer.credit_id = ids[i];
        ts[i].transfer.amount = 100000;
        snprintf(ts[i].transfer.reference, sizeof ts[i].transfer.reference, "bench-fund-%lld",
                 (long long)i);
        if (wallet_transfer_prepare(&ts[i], "operator:bench", NULL) != HB_ERR_OK) rc = EXIT_REFUSED;
        list[i] = &ts[i].base;
    }
    if (rc == EXIT_OK) rc = cli_bench_submit_all(e, list, n, "top-ups");
    free(ts);
    free(list);
    return rc;
}

/* The merchant and its static code's payload. */
static int create_merchant(engine *e, const keyring *keys, char payload[EMV_PAYLOAD_MAX])
{
    int64_t merchant = 0;
    hb_err err = cli_create_customer(e, keys, TIER_ENTERPRISE, "收款商户", "", "operator:bench",
                                     &merchant);
    code_create_cmd *c = calloc(1, sizeof *c);
    ASSERT(c != NULL);
    c->code.owner_id = merchant;
    c->code.kind = CODE_STATIC;
    char why[160] = "", token[CODE_TOKEN_TEXT_MAX + 1];
    int64_t refresh = 0;
    if (err == HB_ERR_OK) err = paycode_create_prepare(c, keys, "operator:bench", why, sizeof why);
    if (err == HB_ERR_OK) err = engine_submit(e, &c->base);
    if (err == HB_ERR_OK) err = paycode_payload(&c->code, keys, 0, payload, token, &refresh);
    if (err != HB_ERR_OK) fprintf(stderr, "hongbao bench: merchant: %s %s\n", hb_err_name(err), why);
    free(c);
    return err == HB_ERR_OK ? EXIT_OK : EXIT_REFUSED;
}

int cli_bench_payments_setup(int argc, char **argv)
{
    static const struct option options[] = {{"db", required_argument, NULL, 'd'},
                                            {"out", required_argument, NULL, 'o'},
                                            {"payers", required_argument, NULL, 'n'},
                                            {"help", no_argument, NULL, 'h'},
                                            {0, 0, 0, 0}};
    const char *db = NULL, *out = NULL;
    int64_t payers = 5000;
    bool ok = true;
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'd': db = optarg; break;
        case 'o': out = optarg; break;
        case 'n': ok = ok && cli_parse_count(optarg, 1, 1000000, &payers); break;
        case 'h': fputs(setup_usage, stdout); return EXIT_OK;
        default: ok = false; break;
        }
    }
    if (!ok || optind != argc || db == NULL || out == NULL) {
        fputs(setup_usage, stderr);
        return EXIT_USAGE;
    }
    keyring keys;
    int rc = cli_load_keyring(db, NULL, &keys);
    if (rc != EXIT_OK) return rc;
    engine *e = NULL;
    rc = cli_open_engine(db, false, &e);
    if (rc != EXIT_OK) {
        keyring_clear(&keys);
        return rc;
    }
    int64_t *ids = calloc((size_t)payers, sizeof *ids);
    char (*sessions)[CREDENTIALS_TOKEN_LEN + 1] = calloc((size_t)payers, sizeof *sessions);
    ASSERT(ids != NULL && sessions != NULL);
    char payload[EMV_PAYLOAD_MAX] = "";
    rc = create_merchant(e, &keys, payload);
    if (rc == EXIT_OK) rc = cli_bench_people(e, &keys, payers, ids, sessions);
    if (rc == EXIT_OK) rc = fund_payers(e, ids, payers);
    engine_close(e);
    keyring_clear(&keys);
    FILE *f = rc == EXIT_OK ? fopen(out, "w") : NULL;
    if (rc == EXIT_OK && f == NULL) rc = EXIT_USAGE;
    for (int64_t i = 0; rc == EXIT_OK && i < payers; i++) fprintf(f, "%s %s\n", payload, sessions[i]);
    if (f != NULL && fclose(f) != 0) rc = EXIT_USAGE;
    free(ids);
    free(sessions);
    if (rc == EXIT_OK) {
        fprintf(stderr, "bench: a merchant's static code and %lld payers\n", (long long)payers);
    }
    return rc;
}
