#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/ids.h"
#include "core/money.h"
#include "service/customer.h"
#include "service/wallet.h"

int cli_fail(hb_err err, const char *detail)
{
    fprintf(stderr, "hongbao: %s: %s\n", hb_err_name(err),
            detail && detail[0] ? detail : hb_err_message(err));
    if (err == HB_ERR_UNAVAILABLE || err == HB_ERR_BUSY) return EXIT_UNAVAILABLE;
    return EXIT_REFUSED;
}

int cli_open_engine(const char *db, bool create, engine **out)
{
    engine_options options = {0};
    options.create = create;
    static policy p;
    int rc = cli_load_policy(getenv("HONGBAO_CONFIG"), &p);
    if (rc != EXIT_OK) return rc;
    options.policy = &p;
    /* business days (daily limits, settlement) are counted in the policy's zone */
    setenv("TZ", p.timezone, 1);
    tzset();
    char err_text[512];
    hb_err err = engine_open(db, &options, out, err_text, sizeof err_text);
    if (err == HB_ERR_NOT_FOUND) {
        fprintf(stderr, "hongbao: no store at %s (create one with: hongbao init --db %s)\n",
                cli_shown(db), cli_shown(db));
        return EXIT_UNAVAILABLE;
    }
    if (err != HB_ERR_OK) {
        fprintf(stderr, "hongbao: cannot open %s: %s\n", cli_shown(db), err_text);
        return err == HB_ERR_INVALID_ARGUMENT ? EXIT_USAGE : EXIT_UNAVAILABLE;
    }
    return EXIT_OK;
}

const char *cli_shown(const char *db)
{
    static char shown[LIMIT_PATH_LEN + 1];
    store_url_redacted(db, shown, sizeof shown);
    return shown;
}

bool cli_valid_node(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > LIMIT_NODE_LEN) return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

int cli_load_policy(const char *path, policy *out)
{
    if (path != NULL && path[0] == '\0') path = NULL;
    int line = 0;
    char why[256];
    hb_err err = policy_load(path, out, &line, why, sizeof why);
    if (err == HB_ERR_OK) return EXIT_OK;
    if (line > 0) {
        fprintf(stderr, "hongbao: %s:%d: %s\n", path, line, why);
    } else {
        fprintf(stderr, "hongbao: policy: %s\n", why);
    }
    return EXIT_USAGE;
}

int cli_open_store(const char *db, store **out)
{
    store_options options = {.read_only = true};
    char err_text[512];
    hb_err err = store_open(db, &options, out, err_text, sizeof err_text);
    if (err == HB_ERR_NOT_FOUND) {
        fprintf(stderr, "hongbao: no store at %s (create one with: hongbao init --db %s)\n",
                cli_shown(db), cli_shown(db));
        return EXIT_UNAVAILABLE;
    }
    if (err != HB_ERR_OK) {
        fprintf(stderr, "hongbao: cannot open %s: %s\n", cli_shown(db), err_text);
        return err == HB_ERR_INVALID_ARGUMENT ? EXIT_USAGE : EXIT_UNAVAILABLE;
    }
    return EXIT_OK;
}

void cli_json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            fprintf(out, "\\%c", *p);
        } else if (*p < 0x20) {
            fprintf(out, "\\u%04x", *p);
        } else {
            fputc(*p, out);
        }
    }
    fputc('"', out);
}

void cli_print_account(FILE *out, const account *a, bool json)
{
    char id[IDS_TEXT_MAX];
    char balance[MONEY_TEXT_MAX];
    ids_format(ID_ACCOUNT, a->id, id, sizeof id);
    money_format(a->balance, balance, sizeof balance);
    if (json) {
        fprintf(out, "{\"id\":\"%s\",\"owner\":", id);
        cli_json_string(out, a->owner);
        fprintf(out,
                ",\"kind\":\"%s\",\"tier\":\"%s\",\"currency\":\"%s\",\"balance\":%lld,"
                "\"status\":\"%s\",\"restricted_until\":%lld,\"flags\":%u,\"created_at\":%lld}\n",
                account_kind_name(a->kind), tier_name(a->tier), currency_code(a->currency),
                (long long)a->balance, account_status_name(a->status),
                (long long)a->restricted_until_ms, a->flags, (long long)a->created_at_ms);
        return;
    }
    fprintf(out, "%-12s %-18s %-10s %s %16s  %-6s  %s\n", id, account_kind_name(a->kind),
            tier_name(a->tier), currency_code(a->currency), balance,
            account_status_name(a->status), a->owner);
}

void cli_print_transfer(FILE *out, const transfer *t, bool json)
{
    char id[IDS_TEXT_MAX];
    char debit[IDS_TEXT_MAX];
    char credit[IDS_TEXT_MAX];
    char amount[MONEY_TEXT_MAX];
    ids_format(ID_TRANSFER, t->id, id, sizeof id);
    ids_format(ID_ACCOUNT, t->debit_id, debit, sizeof debit);
    ids_format(ID_ACCOUNT, t->credit_id, credit, sizeof credit);
    money_format(t->amount, amount, sizeof amount);
    if (json) {
        fprintf(out,
                "{\"id\":\"%s\",\"kind\":\"%s\",\"debit\":\"%s\",\"credit\":\"%s\","
                "\"amount\":%lld,\"currency\":\"%s\",\"reference\":",
                id, transfer_kind_name(t->kind), debit, credit, (long long)t->amount,
                currency_code(t->currency));
        cli_json_string(out, t->reference);
        fprintf(out, ",\"idempotency_key\":");
        cli_json_string(out, t->idem_key);
        fprintf(out, ",\"created_at\":%lld}\n", (long long)t->created_at_ms);
        return;
    }
    fprintf(out, "%s %s %s %s -> %s %s\n", id, transfer_kind_name(t->kind), amount, debit, credit,
            currency_code(t->currency));
}

bool cli_parse_count(const char *text, int64_t min, int64_t max, int64_t *out)
{
    if (text == NULL || text[0] == '\0' || text[0] == '-' || text[0] == '+') return false;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(text, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max) return false;
    *out = v;
    return true;
}

hb_err cli_create_customer(engine *e, const keyring *keys, tier t, const char *name,
                           const char *phone, const char *actor, int64_t *id)
{
    customer_cmd c;
    memset(&c, 0, sizeof c);
    c.input.tier = t;
    c.input.currency = CURRENCY_CNY;
    snprintf(c.input.region, sizeof c.input.region, "CN");
    snprintf(c.input.name, sizeof c.input.name, "%s", name);
    snprintf(c.input.phone, sizeof c.input.phone, "%s", phone);
    /* the demo's and benchmarks' people are taken as ID-verified */
    c.input.has_real_name_level = true;
    c.input.real_name_level = 2;
    char why[160];
    hb_err err = customer_create_prepare(&c, keys, actor, NULL, why, sizeof why);
    if (err == HB_ERR_OK) err = engine_submit(e, &c.base);
    *id = c.id;
    return err;
}

hb_err cli_topup(engine *e, int64_t wallet, int64_t amount, const char *reference,
                 const char *actor)
{
    transfer_cmd t;
    memset(&t, 0, sizeof t);
    t.transfer.kind = TRANSFER_TOPUP;
    t.transfer.credit_id = wallet;
    t.transfer.amount = amount;
    snprintf(t.transfer.reference, sizeof t.transfer.reference, "%s", reference);
    hb_err err = wallet_transfer_prepare(&t, actor, NULL);
    if (err == HB_ERR_OK) err = engine_submit(e, &t.base);
    return err;
}
