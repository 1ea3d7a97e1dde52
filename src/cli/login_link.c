/* hongbao login-link: a one-time link that signs a browser in to /dashboard or /admin. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/ids.h"
#include "service/credentials.h"

static const char login_link_usage[] =
    "usage: hongbao login-link (--account ID | --admin | --support) [--db PATH|URL]\n"
    "                          [--ttl SECONDS] [--public-url URL]\n"
    "\n"
    "Print a one-time login link: opened once within --ttl seconds (default 900, 60..86400)\n"
    "it signs a browser in for 8 hours: a merchant (--account, an enterprise or provider\n"
    "account) to its dashboard, an admin or support to the operations console. The link is\n"
    "URL/login#t=TOKEN, URL the server's public address (--public-url, default\n"
    "http://127.0.0.1:8080); the token is in the fragment, which browsers never send to the\n"
    "server. Admins can make links over the API too (POST /v1/login-links). Exits 0, 1 when\n"
    "refused (a person's account), 2 for bad arguments, 3 when the store is unavailable.\n";

int cmd_login_link(int argc, char **argv)
{
    const char *db = "hongbao.db", *account_text = NULL, *public_url = "http://127.0.0.1:8080";
    long long ttl = 0;
    role who = ROLE_NONE;
    static const struct option options[] = {{"db", required_argument, NULL, 'd'},
                                            {"account", required_argument, NULL, 'a'},
                                            {"admin", no_argument, NULL, 'A'},
                                            {"support", no_argument, NULL, 'S'},
                                            {"ttl", required_argument, NULL, 't'},
                                            {"public-url", required_argument, NULL, 'u'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    optind = 1;
    int opt;
    bool bad = false;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        char *end = NULL;
        switch (opt) {
        case 'd': db = optarg; break;
        case 'a': account_text = optarg; who = who == ROLE_NONE ? ROLE_MERCHANT : ROLE_COUNT; break;
        case 'A': who = who == ROLE_NONE ? ROLE_ADMIN : ROLE_COUNT; break;
        case 'S': who = who == ROLE_NONE ? ROLE_SUPPORT : ROLE_COUNT; break;
        case 't':
            ttl = strtoll(optarg, &end, 10);
            bad = bad || *optarg == '\0' || *end != '\0' || ttl < 60 || ttl > 86400;
            break;
        case 'u': public_url = optarg; break;
        case 'h': fputs(login_link_usage, stdout); return EXIT_OK;
        default: bad = true; break;
        }
    }
    if (bad || optind != argc || who == ROLE_NONE || who == ROLE_COUNT ||
        strlen(public_url) > LIMIT_PUBLIC_URL_LEN) {
        fputs(login_link_usage, stderr);
        return EXIT_USAGE;
    }
    login_link_cmd c;
    memset(&c, 0, sizeof c);
    c.role = who;
    c.ttl_s = ttl;
    if (who == ROLE_MERCHANT) {
        int64_t id = 0;
        if (ids_parse(ID_ACCOUNT, account_text, &id) != HB_ERR_OK) id = 0;
        if (id <= 0) {
            fprintf(stderr, "hongbao: --account must be an account id (acct_N or N)\n");
            return EXIT_USAGE;
        }
        c.account_id = id;
    }
    if (credentials_login_link_prepare(&c, "cli") != HB_ERR_OK) {
        fputs(login_link_usage, stderr);
        return EXIT_USAGE;
    }
    engine *e = NULL;
    int rc = cli_open_engine(db, false, &e);
    if (rc != EXIT_OK) return rc;
    hb_err err = engine_submit(e, &c.base);
    engine_close(e);
    if (err != HB_ERR_OK) return cli_fail(err, c.base.err_detail);
    size_t n = strlen(public_url);
    while (n > 0 && public_url[n - 1] == '/') n--;
    printf("%.*s/login#t=%s\n", (int)n, public_url, c.token);
    return EXIT_OK;
}
