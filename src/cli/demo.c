/* hongbao demo: a store to play with — people with money, a merchant, sessions. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/ids.h"
#include "service/credentials.h"
#include "service/customer.h"
#include "service/packet.h"
#include "service/paycode.h"
#include "service/payment.h"
#include "service/wallet.h"

static const char demo_usage[] =
    "usage: hongbao demo [--db PATH] [--key-file FILE] [--people N] [--tokens FILE]\n"
    "\n"
    "Fill an initialised store with N people (default 5) holding 1,000.00 CNY each, and\n"
    "one enterprise merchant. --tokens writes one line per person, \"acct_N TOKEN\", with\n"
    "a bearer session valid for a day (for scripts and load tests). The first person sends\n"
    "a festival red packet of 10.00 in 3 shares; its claim token is printed. The merchant\n"
    "shows a static payment code (its EMVCo payload is printed) and the first person pays\n"
    "it 12.34. Run it again for more.\n";

static const char *const surnames[] = {"张", "王", "李", "赵", "陈", "刘", "杨", "黄"};
static const char *const given[] = {"伟", "芳", "娜", "敏", "静", "磊", "洋", "勇"};

int cmd_demo(int argc, char **argv)
{
    static const struct option options[] = {{"db", required_argument, NULL, 'd'},
                                            {"key-file", required_argument, NULL, 'k'},
                                            {"people", required_argument, NULL, 'p'},
                                            {"tokens", required_argument, NULL, 't'},
                                            {"help", no_argument, NULL, 'h'},
                                            {0, 0, 0, 0}};
    const char *db = CLI_DEFAULT_DB, *key_file = NULL, *tokens_path = NULL;
    int64_t people = 5;
    bool ok = true;
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'd': db = optarg; break;
        case 'k': key_file = optarg; break;
        case 'p': ok = ok && cli_parse_count(optarg, 1, 100000, &people); break;
        case 't': tokens_path = optarg; break;
        case 'h': fputs(demo_usage, stdout); return EXIT_OK;
        default: ok = false; break;
        }
    }
    if (!ok || optind != argc) {
        fputs(demo_usage, stderr);
        return EXIT_USAGE;
    }
    keyring keys;
    int rc = cli_load_keyring(db, key_file, &keys);
    if (rc != EXIT_OK) return rc;
    engine *e = NULL;
    rc = cli_open_engine(db, false, &e);
    if (rc != EXIT_OK) {
        keyring_clear(&keys);
        return rc;
    }
    FILE *tokens = NULL;
    if (tokens_path != NULL && (tokens = fopen(tokens_path, "w")) == NULL) {
        fprintf(stderr, "hongbao demo: cannot write %s\n", tokens_path);
        rc = EXIT_USAGE;
    }
    hb_err err = HB_ERR_OK;
    int64_t merchant = 0, first_person = 0;
    if (rc == EXIT_OK) err = cli_create_customer(e, &keys, TIER_ENTERPRISE, "示例小店", "13700000000", "operator:demo", &merchant);
    for (int64_t i = 0; rc == EXIT_OK && err == HB_ERR_OK && i < people; i++) {
        char name[32], phone[16];
        snprintf(name, sizeof name, "%s%s", surnames[i % 8], given[(i / 8) % 8]);
        snprintf(phone, sizeof phone, "138%08lld", (long long)(i % 100000000));
        int64_t id = 0;
        err = cli_create_customer(e, &keys, TIER_PERSONAL, name, phone, "operator:demo", &id);
        if (i == 0) first_person = id;
        if (err == HB_ERR_OK) err = cli_topup(e, id, 100000, "demo-topup", "operator:demo");
        if (err == HB_ERR_OK && tokens != NULL) {
            session_create_cmd s;
            memset(&s, 0, sizeof s);
            s.account_id = id;
            err = credentials_session_create_prepare(&s, "operator:demo");
            if (err == HB_ERR_OK) err = engine_submit(e, &s.base);
            if (err == HB_ERR_OK) fprintf(tokens, "acct_%lld %s\n", (long long)id, s.token);
        }
        if (err == HB_ERR_OK && people <= 10) {
            printf("person    acct_%lld  %s  1000.00 CNY\n", (long long)id, name);
        }
    }
    if (tokens != NULL) fclose(tokens);
    /* a red packet to grab */
    packet_create_cmd pc;
    memset(&pc, 0, sizeof pc);
    int64_t shares[3];
    char packet_token_text[PACKET_TOKEN_TEXT_LEN + 1] = "";
    if (rc == EXIT_OK && err == HB_ERR_OK) {
        pc.packet.sender_id = first_person;
        pc.packet.total = 1000;
        pc.packet.count = 3;
        pc.packet.mode = 1;
        snprintf(pc.packet.scene, sizeof pc.packet.scene, "festival");
        char why[160];
        err = packet_create_prepare(&pc, shares, "operator:demo", NULL, why, sizeof why);
        if (err == HB_ERR_OK) err = engine_submit(e, &pc.base);
        packet_token t = {.kind = PACKET_TOKEN_CLAIM, .packet_id = pc.packet.id,
                          .not_after_ms = pc.packet.expires_at_ms};
        if (err == HB_ERR_OK) err = packet_token_seal(&keys.packet_tokens, &t, packet_token_text);
    }
    /* the merchant's sticker, paid once */
    code_create_cmd cc;
    memset(&cc, 0, sizeof cc);
    payment_cmd pay;
    memset(&pay, 0, sizeof pay);
    char payload[EMV_PAYLOAD_MAX] = "";
    if (rc == EXIT_OK && err == HB_ERR_OK) {
        char why[160], token[CODE_TOKEN_TEXT_MAX + 1];
        int64_t refresh = 0;
        cc.code.owner_id = merchant;
        cc.code.kind = CODE_STATIC;
        snprintf(cc.code.merchant_name, sizeof cc.code.merchant_name, "Demo Shop");
        err = paycode_create_prepare(&cc, &keys, "operator:demo", why, sizeof why);
        if (err == HB_ERR_OK) err = engine_submit(e, &cc.base);
        if (err == HB_ERR_OK) err = paycode_payload(&cc.code, &keys, 0, payload, token, &refresh);
        pay.payer_id = first_person;
        pay.amount = 1234;
        if (err == HB_ERR_OK) {
            err = payment_open_payload(payload, &keys, 0, &pay.token, why, sizeof why);
        }
        if (err == HB_ERR_OK) err = payment_prepare(&pay, "operator:demo", NULL, why, sizeof why);
        if (err == HB_ERR_OK) err = engine_submit(e, &pay.base);
    }
    engine_close(e);
    keyring_clear(&keys);
    if (rc != EXIT_OK) return rc;
    if (err != HB_ERR_OK) return cli_fail(err, "creating the demo data failed");
    printf("merchant  acct_%lld  示例小店 (enterprise)\n%lld people with 1000.00 CNY each\n",
           (long long)merchant, (long long)people);
    printf("packet    pkt_%lld  10.00 in 3 shares from acct_%lld, claim token %s\n",
           (long long)pc.packet.id, (long long)first_person, packet_token_text);
    printf("code      code_%lld  the merchant's static code, payload %s\n", (long long)cc.code.id,
           payload);
    printf("payment   pay_%lld  12.34 from acct_%lld (fee %lld fen)\n", (long long)pay.payment.id,
           (long long)first_person, (long long)pay.payment.fee);
    return EXIT_OK;
}
