/* Shared helpers of the `hongbao` command-line subcommands (internal to src/cli). */
#ifndef HB_CLI_CLI_H
#define HB_CLI_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/engine.h"
#include "core/policy.h"
#include "service/credentials.h"
#include "service/keyring.h"
#include "store/store.h"

/* Exit codes, documented in `hongbao --help`. */
enum {
    EXIT_OK = 0,
    EXIT_REFUSED = 1,     /* the operation was refused (its error code is printed) */
    EXIT_USAGE = 2,       /* bad command line */
    EXIT_UNAVAILABLE = 3, /* the store could not be opened or failed */
    EXIT_CHECK_FAILED = 4 /* ledger check or audit verify: something does not hold */
};

#define CLI_DEFAULT_DB "hongbao.db"
#define CLI_ACTOR "operator:cli"

int cmd_init(int argc, char **argv);
int cmd_account(int argc, char **argv);
int cmd_topup(int argc, char **argv);
int cmd_withdraw(int argc, char **argv);
int cmd_transfer(int argc, char **argv);
int cmd_ledger(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_key(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_login_link(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_settle(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_backup(int argc, char **argv);
int cmd_qr(int argc, char **argv);
int cli_bench_packets_setup(int argc, char **argv);
int cli_bench_payments_setup(int argc, char **argv);
/* For the benchmark setups: submit n commands in chunks (EXIT_OK when each succeeded), and
 * create n personal customers with a bearer session each. */
int cli_bench_submit_all(engine *e, command **cmds, int64_t n, const char *what);
int cli_bench_people(engine *e, const keyring *keys, int64_t n, int64_t *ids,
                     char (*sessions)[CREDENTIALS_TOKEN_LEN + 1]);
/* A CNY customer in region CN created through the engine (demo and benchmark set-ups). */
hb_err cli_create_customer(engine *e, const keyring *keys, tier t, const char *name,
                           const char *phone, const char *actor, int64_t *id) WARN_UNUSED;
/* Credit a wallet from the custody reserve with a bank reference. */
hb_err cli_topup(engine *e, int64_t wallet, int64_t amount, const char *reference,
                 const char *actor) WARN_UNUSED;

/* Open the engine on an existing store (or create it); prints the reason and returns the
 * exit code on failure, EXIT_OK on success. */
int cli_open_engine(const char *db, bool create, engine **out);
/* Load the policy: defaults, the INI file at path (NULL for none), the environment. Prints
 * the offending file line on error. */
/* The store's url as messages show it: without a password (static buffer). */
const char *cli_shown(const char *db);
/* A node name for the audit chain: 1..LIMIT_NODE_LEN of [A-Za-z0-9._-]. */
bool cli_valid_node(const char *name);
int cli_load_policy(const char *path, policy *out);
/* Open a read connection to an existing store. */
int cli_open_store(const char *db, store **out);
/* Print "hongbao: CODE: detail" to stderr and return the exit code for err. */
int cli_fail(hb_err err, const char *detail);
/* Write s as a JSON string literal (with quotes and escapes). */
void cli_json_string(FILE *out, const char *s);
/* Print an account as text or one JSON object. */
void cli_print_account(FILE *out, const account *a, bool json);
void cli_print_transfer(FILE *out, const transfer *t, bool json);
/* Load the key file (key_file, or "<db>.key"); prints the reason on failure. */
int cli_load_keyring(const char *db, const char *key_file, keyring *out);
/* Create an API key through the engine and print it (JSON or text). */
int cli_create_key(engine *e, const keyring *keys, role r, int64_t account_id, bool json);

/* Parse a decimal count in [min, max]; false on anything else. */
bool cli_parse_count(const char *text, int64_t min, int64_t max, int64_t *out);

#endif
