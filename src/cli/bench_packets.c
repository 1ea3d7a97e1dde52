/* hongbao bench packets-setup: the store for the red-packet grab benchmark (bench/packets.sh).
 *
 * Creates, through the engine in batches: a provider customer with money; one hot packet of
 * --shares shares (default 100,000); --spread packets (default 1,000) sharing as many shares
 * between them; --claimers person customers (default 120,000) with a bearer session each.
 * Writes two files of "PACKET TOKEN SESSION" lines, one per claimer: --hot (every claimer to
 * the hot packet) and --spread-out (claimer i to spread packet i mod P). The benchmark itself
 * is wrk against `hongbao serve`: every claim is a real HTTP request through the engine. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/ids.h"
#include "service/credentials.h"
#include "service/customer.h"
#include "service/packet.h"
#include "service/wallet.h"

static const char setup_usage[] =
    "usage: hongbao bench packets-setup --db PATH --hot FILE --spread-out FILE\n"
    "                                   [--claimers N] [--shares S] [--spread P]\n"
    "\n"
    "Prepare a scratch store for bench/packets.sh: a provider's hot packet of S shares\n"
    "(default 100000), P packets (default 1000) with as many shares in all, N claimers\n"
    "(default 120000) with sessions; writes \"PACKET TOKEN SESSION\" lines for wrk.\n";

#define CHUNK 4096

/* Submit n commands in chunks; EXIT_OK when each succeeded. */
int cli_bench_submit_all(engine *e, command **cmds, int64_t n, const char *what)
{
    for (int64_t i = 0; i < n; i += CHUNK) {
        size_t k = (size_t)(n - i < CHUNK ? n - i : CHUNK);
        hb_err err = engine_submit_many(e, cmds + i, k);
        for (size_t j = 0; err == HB_ERR_OK && j < k; j++) err = cmds[i + (int64_t)j]->err;
        if (err != HB_ERR_OK) {
            fprintf(stderr, "hongbao bench: creating %s failed: %s\n", what, hb_err_name(err));
            return EXIT_REFUSED;
        }
    }
    return EXIT_OK;
}

int cli_bench_people(engine *e, const keyring *keys, int64_t n, int64_t *ids,
                     char (*sessions)[CREDENTIALS_TOKEN_LEN + 1])
{
    customer_cmd *cs = calloc((size_t)n, sizeof *cs);
    session_create_cmd *ss = calloc((size_t)n, sizeof *ss);
    command **list = calloc((size_t)n, sizeof *list);
    ASSERT(cs != NULL && ss != NULL && list != NULL);
    int rc = EXIT_OK;
    for (int64_t i = 0; i < n && rc == EXIT_OK; i++) {
        cs[i].input.tier = TIER_PERSONAL;
        cs[i].input.has_real_name_level = true;
        cs[i].input.real_name_level = 2; /* ID-verified: may pay */
        cs[i].input.currency = CURRENCY_CNY;
        snprintf(cs[i].input.region, sizeof cs[i].input.region, "CN");
        snprintf(cs[i].input.name, sizeof cs[i].input.name, "抢红包%lld", (long long)i);
        char why[160];
        if (customer_create_prepare(&cs[i], keys, "operator:bench", NULL, why, sizeof why) !=
            HB_ERR_OK) {
            fprintf(stderr, "hongbao bench: %s\n", why);
            rc = EXIT_REFUSED;
        }
        list[i] = &cs[i].base;
    }
    if (rc == EXIT_OK) rc = cli_bench_submit_all(e, list, n, "claimers");
    for (int64_t i = 0; i < n && rc == EXIT_OK; i++) {
        ids[i] = cs[i].id;
        ss[i].account_id = cs[i].id;
        if (credentials_session_create_prepare(&ss[i], "operator:bench") != HB_ERR_OK) {
            rc = EXIT_REFUSED;
        }
        list[i] = &ss[i].base;
    }
    if (rc == EXIT_OK) rc = cli_bench_submit_all(e, list, n, "sessions");
    for (int64_t i = 0; i < n && rc == EXIT_OK; i++) {
        memcpy(sessions[i], ss[i].token, sizeof sessions[i]);
    }
    free(cs);
    free(ss);
    free(list);
    return rc;
}

/* A packet of count shares of 10 fen from the sender; its id and claim token. */
static int create_packet(engine *e, const keyring *keys, int64_t sender, int64_t count,
                         int64_t *id, char token[PACKET_TOKEN_TEXT_LEN + 1])
{
    packet_create_cmd *c = calloc(1, sizeof *c);
    int64_t *shares = calloc((size_t)count, sizeof *shares);
    ASSERT(c != NULL && shares != NULL);
    c->packet.sender_id = sender;
    c->packet.total = count * 10;
    c->packet.count = count;
    c->packet.mode = 1;
    c->expires_in_s = LIMIT_PACKET_EXPIRES_DEFAULT_S;
    char why[160] = "";
    hb_err err = packet_create_prepare(c, shares, "operator:bench", NULL, why, sizeof why);
    if (err == HB_ERR_OK) err = engine_submit(e, &c->base);
    if (err == HB_ERR_OK) {
        *id = c->packet.id;
        packet_token t = {.kind = PACKET_TOKEN_CLAIM, .packet_id = c->packet.id,
                          .not_after_ms = c->packet.expires_at_ms};
        err = packet_token_seal(&keys->packet_tokens, &t, token);
    } else {
        fprintf(stderr, "hongbao bench: packet: %s %s %s\n", hb_err_name(err), why,
                c->base.err_detail);
    }
    free(c);
    free(shares);
    return err == HB_ERR_OK ? EXIT_OK : EXIT_REFUSED;
}

static int create_sender(engine *e, const keyring *keys, int64_t amount, int64_t *id)
{
    hb_err err = cli_create_customer(e, keys, TIER_PROVIDER, "红包服务商", "", "operator:bench", id);
    if (err == HB_ERR_OK) err = cli_topup(e, *id, amount, "bench-fund", "operator:bench");
    if (err != HB_ERR_OK) {
        fprintf(stderr, "hongbao bench: sender: %s\n", hb_err_name(err));
        return EXIT_REFUSED;
    }
    return EXIT_OK;
}

int cli_bench_packets_setup(int argc, char **argv)
{
    static const struct option options[] = {{"db", required_argument, NULL, 'd'},
                                            {"hot", required_argument, NULL, 'o'},
                                            {"spread-out", required_argument, NULL, 's'},
                                            {"claimers", required_argument, NULL, 'c'},
                                            {"shares", required_argument, NULL, 'n'},
                                            {"spread", required_argument, NULL, 'p'},
                                            {"help", no_argument, NULL, 'h'},
                                            {0, 0, 0, 0}};
    const char *db = NULL, *hot_path = NULL, *spread_path = NULL;
    int64_t claimers = 120000, shares = 100000, spread = 1000;
    bool ok = true;
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'd': db = optarg; break;
        case 'o': hot_path = optarg; break;
        case 's': spread_path = optarg; break;
        case 'c': ok = ok && cli_parse_count(optarg, 1, 2000000, &claimers); break;
        case 'n': ok = ok && cli_parse_count(optarg, 1, LIMIT_PACKET_SHARES_MAX, &shares); break;
        case 'p': ok = ok && cli_parse_count(optarg, 1, 100000, &spread); break;
        case 'h': fputs(setup_usage, stdout); return EXIT_OK;
        default: ok = false; break;
        }
    }
    if (!ok || optind != argc || db == NULL || hot_path == NULL || spread_path == NULL) {
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
    int64_t *ids = calloc((size_t)claimers, sizeof *ids);
    char (*sessions)[CREDENTIALS_TOKEN_LEN + 1] = calloc((size_t)claimers, sizeof *sessions);
    int64_t *spread_ids = calloc((size_t)spread, sizeof *spread_ids);
    char (*spread_tokens)[PACKET_TOKEN_TEXT_LEN + 1] = calloc((size_t)spread, sizeof *spread_tokens);
    ASSERT(ids != NULL && sessions != NULL && spread_ids != NULL && spread_tokens != NULL);
    int64_t sender = 0, hot = 0;
    char hot_token[PACKET_TOKEN_TEXT_LEN + 1] = "";
    int64_t per_packet = (shares + spread - 1) / spread;
    rc = create_sender(e, &keys, (shares + per_packet * spread) * 10, &sender);
    if (rc == EXIT_OK) rc = create_packet(e, &keys, sender, shares, &hot, hot_token);
    for (int64_t i = 0; i < spread && rc == EXIT_OK; i++) {
        rc = create_packet(e, &keys, sender, per_packet, &spread_ids[i], spread_tokens[i]);
    }
    if (rc == EXIT_OK) rc = cli_bench_people(e, &keys, claimers, ids, sessions);
    engine_close(e);
    keyring_clear(&keys);
    FILE *hf = rc == EXIT_OK ? fopen(hot_path, "w") : NULL;
    FILE *sf = rc == EXIT_OK ? fopen(spread_path, "w") : NULL;
    if (rc == EXIT_OK && (hf == NULL || sf == NULL)) rc = EXIT_USAGE;
    for (int64_t i = 0; rc == EXIT_OK && i < claimers; i++) {
        fprintf(hf, "pkt_%lld %s %s\n", (long long)hot, hot_token, sessions[i]);
        fprintf(sf, "pkt_%lld %s %s\n", (long long)spread_ids[i % spread], spread_tokens[i % spread],
                sessions[i]);
    }
    if (hf != NULL && fclose(hf) != 0) rc = EXIT_USAGE;
    if (sf != NULL && fclose(sf) != 0) rc = EXIT_USAGE;
    free(ids);
    free(sessions);
    free(spread_ids);
    free(spread_tokens);
    if (rc == EXIT_OK) {
        fprintf(stderr, "bench: a hot packet of %lld shares, %lld packets of %lld shares, %lld "
                        "claimers\n",
                (long long)shares, (long long)spread, (long long)per_packet, (long long)claimers);
    }
    return rc;
}
