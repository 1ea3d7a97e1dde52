/* hongbao key create|list|revoke: API keys from the command line. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/ids.h"
#include <openssl/crypto.h>

#include "service/credentials.h"

static const char key_usage[] =
    "usage: hongbao key create --role admin|merchant|support [--account ID] [--json]\n"
    "       hongbao key list [--json]\n"
    "       hongbao key revoke KEY_ID\n"
    "every form takes --db PATH (default ./hongbao.db) and --key-file FILE (default\n"
    "PATH.key).\n"
    "\n"
    "A merchant key acts for one enterprise or provider account (--account); personal\n"
    "accounts get no API key. The secret is printed once and never again: keep it.\n";

int cli_load_keyring(const char *db, const char *key_file, keyring *out)
{
    char path[LIMIT_PATH_LEN + 8];
    if (key_file == NULL) {
        keyring_default_path(db, path, sizeof path);
        key_file = path;
    }
    char err_text[512];
    hb_err err = keyring_load(key_file, out, err_text, sizeof err_text);
    if (err != HB_ERR_OK) {
        fprintf(stderr, "hongbao: %s\n", err_text);
        return EXIT_UNAVAILABLE;
    }
    /* new boxes follow the policy's crypto mode */
    policy p;
    int rc = cli_load_policy(getenv("HONGBAO_CONFIG"), &p);
    if (rc != EXIT_OK) {
        keyring_clear(out);
        return rc;
    }
    keyring_set_suite(out, p.national_crypto ? CRYPTO_SUITE_SM4_SM3 : CRYPTO_SUITE_AES_GCM);
    return EXIT_OK;
}

int cli_create_key(engine *e, const keyring *keys, role r, int64_t account_id, bool json)
{
    key_create_cmd c;
    memset(&c, 0, sizeof c);
    c.role = r;
    c.account_id = account_id;
    hb_err err = credentials_key_create_prepare(&c, keys, CLI_ACTOR);
    if (err == HB_ERR_OK) err = engine_submit(e, &c.base);
    if (err != HB_ERR_OK) return cli_fail(err, c.base.err_detail);
    if (json) {
        printf("{\"key_id\":\"%s\",\"secret\":\"%s\",\"role\":\"%s\"}\n", c.key_id, c.secret,
               role_name(c.role));
    } else {
        printf("key_id  %s\nsecret  %s\nrole    %s\n(the secret is shown once: keep it)\n",
               c.key_id, c.secret, role_name(c.role));
        printf("\nA first signed call, once `hongbao serve` runs (curl and openssl):\n\n"
               "  KEY=%s SECRET=%s\n"
               "  TS=$(date +%%s) NONCE=$(openssl rand -hex 16)\n"
               "  BODY_HASH=$(printf '' | openssl dgst -sha256 -hex | sed 's/^.* //')\n"
               "  SIG=$(printf 'GET\\n/v1/ledger/check\\n%%s\\n%%s\\n%%s\\n' \"$TS\" "
               "\"$NONCE\" \"$BODY_HASH\" \\\n"
               "        | openssl dgst -sha256 -hmac \"$SECRET\" -hex | sed 's/^.* //')\n"
               "  curl -s -H \"Authorization: HB1-HMAC-SHA256 "
               "key=$KEY,ts=$TS,nonce=$NONCE,sig=$SIG\" \\\n"
               "       http://127.0.0.1:8080/v1/ledger/check\n\n"
               "or: scripts/hbcurl %s %s GET /v1/ledger/check\n",
               c.key_id, c.secret, c.key_id, c.secret);
    }
    OPENSSL_cleanse(c.secret, sizeof c.secret);
    return EXIT_OK;
}

int cmd_key(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(key_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *verb = argv[1];
    static const struct option options[] = {{"db", required_argument, NULL, 'd'},
                                            {"key-file", required_argument, NULL, 'k'},
                                            {"role", required_argument, NULL, 'r'},
                                            {"account", required_argument, NULL, 'a'},
                                            {"json", no_argument, NULL, 'j'},
                                            {"help", no_argument, NULL, 'h'},
                                            {0, 0, 0, 0}};
    const char *db = CLI_DEFAULT_DB, *key_file = NULL, *role_text = NULL, *account_text = NULL;
    bool json = false;
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc - 1, argv + 1, "", options, NULL)) != -1) {
        switch (opt) {
        case 'd': db = optarg; break;
        case 'k': key_file = optarg; break;
        case 'r': role_text = optarg; break;
        case 'a': account_text = optarg; break;
        case 'j': json = true; break;
        case 'h': fputs(key_usage, stdout); return EXIT_OK;
        default: fputs(key_usage, stderr); return EXIT_USAGE;
        }
    }
    int positional = argc - 1 - optind;
    if (strcmp(verb, "create") == 0 && positional == 0) {
        role r = role_text ? role_parse(role_text) : ROLE_NONE;
        if (r == ROLE_NONE || r == ROLE_PERSON) {
            fprintf(stderr, "hongbao key: --role must be admin, merchant or support\n");
            return EXIT_USAGE;
        }
        int64_t account_id = 0;
        if (r == ROLE_MERCHANT &&
            (account_text == NULL || ids_parse(ID_ACCOUNT, account_text, &account_id) != HB_ERR_OK)) {
            fprintf(stderr, "hongbao key: a merchant key needs --account ID\n");
            return EXIT_USAGE;
        }
        keyring keys;
        int rc = cli_load_keyring(db, key_file, &keys);
        if (rc != EXIT_OK) return rc;
        engine *e = NULL;
        rc = cli_open_engine(db, false, &e);
        if (rc == EXIT_OK) {
            rc = cli_create_key(e, &keys, r, account_id, json);
            engine_close(e);
        }
        keyring_clear(&keys);
        return rc;
    }
    if (strcmp(verb, "list") == 0 && positional == 0) {
        store *s = NULL;
        int rc = cli_open_store(db, &s);
        if (rc != EXIT_OK) return rc;
        static api_key page[LIMIT_PAGE_MAX];
        int count = 0;
        hb_err err = store_key_list(s, "", LIMIT_PAGE_MAX, page, &count);
        store_close(s);
        if (err != HB_ERR_OK) return cli_fail(err, "");
        for (int i = 0; i < count; i++) {
            if (json) {
                printf("{\"key_id\":\"%s\",\"role\":\"%s\",\"account\":%lld,\"revoked\":%s}\n",
                       page[i].key_id, role_name(page[i].role), (long long)page[i].account_id,
                       page[i].revoked_at_ms ? "true" : "false");
            } else {
                char owner[IDS_TEXT_MAX] = "-";
                if (page[i].account_id > 0) {
                    ids_format(ID_ACCOUNT, page[i].account_id, owner, sizeof owner);
                }
                printf("%-22s %-9s %s%s\n", page[i].key_id, role_name(page[i].role), owner,
                       page[i].revoked_at_ms ? "  (revoked)" : "");
            }
        }
        return EXIT_OK;
    }
    if (strcmp(verb, "revoke") == 0 && positional == 1) {
        key_revoke_cmd c;
        memset(&c, 0, sizeof c);
        const char *id = argv[1 + optind];
        if (strlen(id) > LIMIT_KEY_ID_LEN) return cli_fail(HB_ERR_NOT_FOUND, "no such key");
        snprintf(c.key_id, sizeof c.key_id, "%s", id);
        engine *e = NULL;
        int rc = cli_open_engine(db, false, &e);
        if (rc != EXIT_OK) return rc;
        hb_err err = credentials_key_revoke_prepare(&c, CLI_ACTOR);
        if (err == HB_ERR_OK) err = engine_submit(e, &c.base);
        engine_close(e);
        if (err != HB_ERR_OK) return cli_fail(err, c.base.err_detail);
        printf("revoked %s\n", c.key_id);
        return EXIT_OK;
    }
    fputs(key_usage, stderr);
    return EXIT_USAGE;
}
