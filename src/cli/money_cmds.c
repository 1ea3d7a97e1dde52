/* topup, withdraw and transfer: the three ways money moves from the command line. */
#include <getopt.h>
#include <string.h>

#include "cli/cli.h"
#include "core/ids.h"
#include "core/money.h"
#include "service/wallet.h"

static const char topup_usage[] =
    "usage: hongbao topup --account ID --amount YUAN --ref BANK_REFERENCE\n"
    "                     [--idempotency-key KEY] [--db PATH] [--json]\n"
    "\n"
    "Record money that arrived in the custody bank account for a wallet: the wallet is\n"
    "credited and the custody reserve debited, with the bank's reference.\n";
static const char withdraw_usage[] =
    "usage: hongbao withdraw --account ID --amount YUAN --ref BANK_REFERENCE\n"
    "                        [--idempotency-key KEY] [--db PATH] [--json]\n"
    "\n"
    "Pay money from a wallet (or a merchant's available account) out to the customer's\n"
    "bank: the account is debited and the custody reserve credited.\n";
static const char transfer_usage[] =
    "usage: hongbao transfer --from ID --to ID --amount YUAN [--memo TEXT]\n"
    "                        [--idempotency-key KEY] [--db PATH] [--json]\n"
    "\n"
    "Move money from one wallet to another of the same currency.\n";

typedef struct money_args {
    const char *db;
    const char *account;
    const char *from;
    const char *to;
    const char *amount;
    const char *reference;
    const char *idem_key;
    bool json;
} money_args;

static int parse(int argc, char **argv, const char *usage, money_args *a)
{
    static const struct option options[] = {{"db", required_argument, NULL, 'd'},
                                            {"account", required_argument, NULL, 'a'},
                                            {"from", required_argument, NULL, 'f'},
                                            {"to", required_argument, NULL, 't'},
                                            {"amount", required_argument, NULL, 'm'},
                                            {"ref", required_argument, NULL, 'r'},
                                            {"memo", required_argument, NULL, 'r'},
                                            {"idempotency-key", required_argument, NULL, 'i'},
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
        case 'a': a->account = optarg; break;
        case 'f': a->from = optarg; break;
        case 't': a->to = optarg; break;
        case 'm': a->amount = optarg; break;
        case 'r': a->reference = optarg; break;
        case 'i': a->idem_key = optarg; break;
        case 'j': a->json = true; break;
        case 'h': fputs(usage, stdout); return -1;
        default: fputs(usage, stderr); return EXIT_USAGE;
        }
    }
    if (optind != argc) {
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

static int usage_error(const char *usage, const char *why)
{
    fprintf(stderr, "hongbao: %s\n%s", why, usage);
    return EXIT_USAGE;
}

static int run(const money_args *a, transfer_cmd *c, const char *usage)
{
    if (a->amount == NULL) return usage_error(usage, "--amount is required");
    hb_err err = money_parse(a->amount, strlen(a->amount), &c->transfer.amount);
    if (err != HB_ERR_OK) {
        return cli_fail(err, "--amount must be yuan with at most two decimals, like 12.34");
    }
    if (a->reference != NULL) {
        if (strlen(a->reference) > LIMIT_REFERENCE_LEN) {
            return usage_error(usage, "the reference is too long");
        }
        snprintf(c->transfer.reference, sizeof c->transfer.reference, "%s", a->reference);
    }
    err = wallet_transfer_prepare(c, CLI_ACTOR, a->idem_key);
    if (err != HB_ERR_OK) {
        return cli_fail(err, c->transfer.kind == TRANSFER_P2P
                                 ? "memo or idempotency key not acceptable"
                                 : "a bank reference (--ref) is required and must be printable");
    }
    engine *e = NULL;
    int rc = cli_open_engine(a->db, false, &e);
    if (rc != EXIT_OK) return rc;
    err = engine_submit(e, &c->base);
    engine_close(e);
    if (err != HB_ERR_OK) return cli_fail(err, c->base.err_detail);
    cli_print_transfer(stdout, &c->transfer, a->json);
    return EXIT_OK;
}

static int bank_movement(int argc, char **argv, transfer_kind kind, const char *usage)
{
    money_args a;
    int rc = parse(argc, argv, usage, &a);
    if (rc == -1) return EXIT_OK;
    if (rc != EXIT_OK) return rc;
    transfer_cmd c;
    memset(&c, 0, sizeof c);
    c.transfer.kind = kind;
    int64_t id = 0;
    if (a.account == NULL || ids_parse(ID_ACCOUNT, a.account, &id) != HB_ERR_OK) {
        return usage_error(usage, "--account ID is required");
    }
    if (kind == TRANSFER_TOPUP) {
        c.transfer.credit_id = id;
    } else {
        c.transfer.debit_id = id;
    }
    return run(&a, &c, usage);
}

int cmd_topup(int argc, char **argv)
{
    return bank_movement(argc, argv, TRANSFER_TOPUP, topup_usage);
}

int cmd_withdraw(int argc, char **argv)
{
    return bank_movement(argc, argv, TRANSFER_WITHDRAW, withdraw_usage);
}

int cmd_transfer(int argc, char **argv)
{
    money_args a;
    int rc = parse(argc, argv, transfer_usage, &a);
    if (rc == -1) return EXIT_OK;
    if (rc != EXIT_OK) return rc;
    transfer_cmd c;
    memset(&c, 0, sizeof c);
    c.transfer.kind = TRANSFER_P2P;
    if (a.from == NULL || ids_parse(ID_ACCOUNT, a.from, &c.transfer.debit_id) != HB_ERR_OK ||
        a.to == NULL || ids_parse(ID_ACCOUNT, a.to, &c.transfer.credit_id) != HB_ERR_OK) {
        return usage_error(transfer_usage, "--from ID and --to ID are required");
    }
    return run(&a, &c, transfer_usage);
}
