#include <getopt.h>
#include <string.h>

#include "cli/cli.h"
#include "core/ids.h"
#include "service/wallet.h"

static const char account_usage[] =
    "usage: hongbao account create --owner NAME [--tier personal|enterprise|provider]\n"
    "                              [--kind wallet|merchant_pending|merchant_available]\n"
    "                              [--currency CNY|HKD] [--idempotency-key KEY] [--json]\n"
    "       hongbao account show ID [--json]\n"
    "       hongbao account list [--after ID] [--limit N] [--json]\n"
    "       hongbao account freeze|unfreeze|close ID [--idempotency-key KEY] [--json]\n"
    "       hongbao account restrict ID --until UNIX_MS [--json]\n"
    "every form takes --db PATH (default ./hongbao.db).\n"
    "\n"
    "A frozen or closed account neither pays nor receives; a restricted one cannot pay\n"
    "until the given time (--until 0 lifts it). Freezing and restricting are independent:\n"
    "unfreezing keeps a restriction. Only an empty account can be closed; it stays closed.\n";

typedef struct account_args {
    const char *db;
    const char *owner;
    const char *tier;
    const char *kind;
    const char *currency;
    const char *idem_key;
    const char *after;
    const char *limit;
    const char *until;
    bool json;
} account_args;

static int parse_args(int argc, char **argv, account_args *a)
{
    static const struct option options[] = {{"db", required_argument, NULL, 'd'},
                                            {"owner", required_argument, NULL, 'o'},
                                            {"tier", required_argument, NULL, 't'},
                                            {"kind", required_argument, NULL, 'k'},
                                            {"currency", required_argument, NULL, 'c'},
                                            {"idempotency-key", required_argument, NULL, 'i'},
                                            {"after", required_argument, NULL, 'a'},
                                            {"limit", required_argument, NULL, 'l'},
                                            {"until", required_argument, NULL, 'u'},
                                            {"json", no_argument, NULL, 'j'},
                                            {"help", no_argument, NULL, 'h'},
                                            {0, 0, 0, 0}};
    memset(a, 0, sizeof *a);
    a->db = CLI_DEFAULT_DB;
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'd': a->db = optarg; break;
        case 'o': a->owner = optarg; break;
        case 't': a->tier = optarg; break;
        case 'k': a->kind = optarg; break;
        case 'c': a->currency = optarg; break;
        case 'i': a->idem_key = optarg; break;
        case 'a': a->after = optarg; break;
        case 'l': a->limit = optarg; break;
        case 'u': a->until = optarg; break;
        case 'j': a->json = true; break;
        case 'h': fputs(account_usage, stdout); return -1;
        default: fputs(account_usage, stderr); return EXIT_USAGE;
        }
    }
    return EXIT_OK;
}

static int usage_error(const char *why)
{
    fprintf(stderr, "hongbao account: %s\n%s", why, account_usage);
    return EXIT_USAGE;
}

static int account_create(const account_args *a)
{
    account_create_cmd c;
    memset(&c, 0, sizeof c);
    if (a->owner == NULL) return usage_error("--owner is required");
    if (strlen(a->owner) > LIMIT_OWNER_LEN) return usage_error("--owner is too long");
    snprintf(c.account.owner, sizeof c.account.owner, "%s", a->owner);
    c.account.tier = tier_parse(a->tier ? a->tier : "personal");
    c.account.kind = account_kind_parse(a->kind ? a->kind : "wallet");
    const char *cur = a->currency ? a->currency : "CNY";
    c.account.currency = currency_parse(cur, strlen(cur));
    if (c.account.tier == TIER_COUNT || c.account.tier == TIER_SYSTEM) {
        return usage_error("unknown --tier");
    }
    if (c.account.kind == ACCOUNT_KIND_NONE) return usage_error("unknown --kind");
    if (c.account.currency == CURRENCY_NONE) return usage_error("unknown --currency");
    hb_err err = wallet_account_create_prepare(&c, CLI_ACTOR, a->idem_key);
    if (err != HB_ERR_OK) return cli_fail(err, "owner, kind, tier or key not acceptable");
    engine *e = NULL;
    int rc = cli_open_engine(a->db, false, &e);
    if (rc != EXIT_OK) return rc;
    err = engine_submit(e, &c.base);
    engine_close(e);
    if (err != HB_ERR_OK) return cli_fail(err, c.base.err_detail);
    cli_print_account(stdout, &c.account, a->json);
    return EXIT_OK;
}

static int account_show(const account_args *a, const char *id_text)
{
    int64_t id = 0;
    if (ids_parse(ID_ACCOUNT, id_text, &id) != HB_ERR_OK) return usage_error("bad account id");
    store *s = NULL;
    int rc = cli_open_store(a->db, &s);
    if (rc != EXIT_OK) return rc;
    account acct;
    hb_err err = store_account_get(s, id, &acct);
    store_close(s);
    if (err != HB_ERR_OK) return cli_fail(err, err == HB_ERR_NOT_FOUND ? "no such account" : "");
    cli_print_account(stdout, &acct, a->json);
    return EXIT_OK;
}

static int account_list(const account_args *a)
{
    int64_t after = 0;
    int64_t limit = LIMIT_PAGE_DEFAULT;
    if (a->after && ids_parse(ID_ACCOUNT, a->after, &after) != HB_ERR_OK) {
        return usage_error("bad --after id");
    }
    if (a->limit && !cli_parse_count(a->limit, 1, LIMIT_PAGE_MAX, &limit)) {
        return usage_error("--limit must be 1..1000");
    }
    store *s = NULL;
    int rc = cli_open_store(a->db, &s);
    if (rc != EXIT_OK) return rc;
    static account page[LIMIT_PAGE_MAX];
    int count = 0;
    hb_err err = store_account_list(s, after, (int)limit, page, &count);
    store_close(s);
    if (err != HB_ERR_OK) return cli_fail(err, "");
    for (int i = 0; i < count; i++) cli_print_account(stdout, &page[i], a->json);
    if (!a->json && count == limit) {
        printf("(more: --after acct_%lld)\n", (long long)page[count - 1].id);
    }
    return EXIT_OK;
}

static int account_change_status(const account_args *a, const char *verb, const char *id_text)
{
    status_cmd c;
    memset(&c, 0, sizeof c);
    if (ids_parse(ID_ACCOUNT, id_text, &c.account_id) != HB_ERR_OK) {
        return usage_error("bad account id");
    }
    c.status = WALLET_KEEP_STATUS;
    c.restricted_until_ms = WALLET_KEEP_RESTRICTION;
    if (strcmp(verb, "freeze") == 0) {
        c.status = ACCOUNT_FROZEN;
    } else if (strcmp(verb, "unfreeze") == 0) {
        c.status = ACCOUNT_ACTIVE;
    } else if (strcmp(verb, "close") == 0) {
        c.status = ACCOUNT_CLOSED;
    } else {
        if (a->until == NULL || !cli_parse_count(a->until, 0, INT64_MAX, &c.restricted_until_ms)) {
            return usage_error("restrict needs --until UNIX_MS");
        }
    }
    hb_err err = wallet_status_prepare(&c, CLI_ACTOR, a->idem_key);
    if (err != HB_ERR_OK) return cli_fail(err, "bad arguments");
    engine *e = NULL;
    int rc = cli_open_engine(a->db, false, &e);
    if (rc != EXIT_OK) return rc;
    err = engine_submit(e, &c.base);
    engine_close(e);
    if (err != HB_ERR_OK) return cli_fail(err, c.base.err_detail);
    cli_print_account(stdout, &c.account, a->json);
    return EXIT_OK;
}

int cmd_account(int argc, char **argv)
{
    if (argc < 2) return usage_error("which action?");
    const char *verb = argv[1];
    account_args a;
    int rc = parse_args(argc - 1, argv + 1, &a);
    if (rc == -1) return EXIT_OK;
    if (rc != EXIT_OK) return rc;
    int positional = argc - 1 - optind;
    const char *arg = positional > 0 ? argv[1 + optind] : NULL;
    if (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0) {
        fputs(account_usage, stdout);
        return EXIT_OK;
    }
    if (strcmp(verb, "create") == 0 && positional == 0) return account_create(&a);
    if (strcmp(verb, "list") == 0 && positional == 0) return account_list(&a);
    if (strcmp(verb, "show") == 0 && positional == 1) return account_show(&a, arg);
    if ((strcmp(verb, "freeze") == 0 || strcmp(verb, "unfreeze") == 0 ||
         strcmp(verb, "close") == 0 || strcmp(verb, "restrict") == 0) &&
        positional == 1) {
        return account_change_status(&a, verb, arg);
    }
    return usage_error("unknown action or wrong number of arguments");
}
