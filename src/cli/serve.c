/* hongbao serve: the HTTP API on the engine, until SIGTERM or SIGINT. */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <openssl/crypto.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "service/auditlog.h"
#include "http/http.h"
#include "service/credentials.h"
#include "service/rekey.h"
#include "service/packet.h"
#include "service/payment.h"
#include "service/webhook.h"

static const char serve_usage[] =
    "usage: hongbao serve [--db PATH|URL] [--listen HOST:PORT] [--key-file FILE] [--threads N]\n"
    "                     [--batch N] [--node NAME] [--config FILE] [--wal-pages N]\n"
    "                     [--tls-cert PEM --tls-key PEM] [--public-url URL]\n"
    "\n"
    "Run the HTTP API (default 127.0.0.1:8080, store ./hongbao.db, key file PATH.key).\n"
    "--db postgresql://USER@HOST:PORT/DB runs on PostgreSQL, where several nodes may serve\n"
    "one database (key file ./hongbao.key or $HONGBAO_KEY_FILE, the same file on every node).\n"
    "--node names this node's audit chain (letters, digits, '.', '_', '-'; default \"local\"):\n"
    "give every node of one database its own.\n"
    "Request threads default to one per core. --config names the policy file (INI; see\n"
    "docs/policy.ini); SIGHUP reloads it atomically, and a bad file is refused with the old\n"
    "policy kept (the time zone and [codes] token keys apply from the next start). SIGTERM\n"
    "or SIGINT stops accepting, finishes the requests in flight and their batches, and\n"
    "closes the store.\n"
    "--wal-pages N (default $HONGBAO_WAL_PAGES, else 32768; 16..32768): on SQLite, a thread\n"
    "of its own checkpoints the WAL back into the store file beside the writer's commits once\n"
    "it holds N pages of 4 KiB, so the WAL file stays near N x 4 KiB (about 128 MiB).\n"
    "--tls-cert/--tls-key serve HTTPS with libmicrohttpd's own TLS (GnuTLS; TLS 1.3\n"
    "preferred, 1.2 allowed); or keep plain HTTP on loopback behind a TLS reverse proxy.\n"
    "--public-url is the base of the links handed out (a red packet's claim_url and QR),\n"
    "e.g. https://pay.example.com behind a proxy; default http(s)://HOST:PORT.\n"
    "Every 15 seconds the server refunds expired red packets (see hongbao sweep) and\n"
    "every minute forgets request nonces too old to be replayed. After [settlement]\n"
    "auto_after (default 02:00 in the policy's zone) it settles the day before (see\n"
    "hongbao settle). A delivery thread POSTs due webhook events every second. When the key\n"
    "file holds more than one key (hongbao keys rotate), it seals older personal data and\n"
    "secrets again with the newest key, a few pages every 15 seconds.\n";

/* What the webhook thread shares with the main loop. */
typedef struct deliverer {
    engine *e;
    const char *db;
    const keyring *keys;
    pthread_mutex_t lock;
    policy pol; /* under lock: replaced on SIGHUP */
    atomic_bool stop;
} deliverer;

static void *deliver_loop(void *arg)
{
    deliverer *d = arg;
    pthread_setname_np(pthread_self(), "hb-webhooks");
    store *reader = NULL;
    policy *pol = malloc(sizeof *pol);
    while (pol != NULL && !atomic_load(&d->stop)) {
        int attempted = 0, delivered = 0;
        if (reader == NULL) {
            store_options opts = {.read_only = true};
            char why[256];
            if (store_open(d->db, &opts, &reader, why, sizeof why) != HB_ERR_OK) reader = NULL;
        }
        if (reader != NULL) {
            pthread_mutex_lock(&d->lock);
            *pol = d->pol;
            pthread_mutex_unlock(&d->lock);
            hb_err err = webhook_deliver_due(d->e, reader, d->keys, pol, clock_now_ms(clock_real()),
                                             &attempted, &delivered);
            if (err != HB_ERR_OK) {
                store_close(reader); /* reopened next round */
                reader = NULL;
            }
            if (attempted > 0) {
                fprintf(stderr, "{\"level\":\"info\",\"msg\":\"webhook deliveries\","
                                "\"attempted\":%d,\"delivered\":%d}\n", attempted, delivered);
            }
        }
        /* due work right away; otherwise look again in a second */
        for (int i = 0; attempted == 0 && i < 10 && !atomic_load(&d->stop); i++) {
            struct timespec tick = {0, 100000000L};
            nanosleep(&tick, NULL);
        }
    }
    free(pol);
    store_close(reader);
    return NULL;
}

/* Settle the day before once its settlement time has come (idempotent: after a restart
 * the day is found settled and nothing changes). */
static void auto_settle(engine *e, const policy *pol, int64_t *settled_day)
{
    if (pol->settle_after_min < 0) return;
    int64_t minute = 0;
    int64_t today = clock_business_day(clock_now_ms(clock_real()), &minute);
    if (minute < pol->settle_after_min || *settled_day >= today - 1) return;
    int batches = 0, skipped = 0;
    char detail[LIMIT_ERR_DETAIL_LEN + 1] = "";
    char day[16];
    clock_day_format(today - 1, day, sizeof day);
    hb_err err = payment_settle_day(e, today - 1, "system:settlement", &batches, &skipped, detail,
                                    sizeof detail);
    if (err != HB_ERR_OK) {
        fprintf(stderr, "{\"level\":\"error\",\"msg\":\"settlement failed\",\"date\":\"%s\","
                        "\"code\":\"%s\"}\n", day, hb_err_name(err));
        return;
    }
    *settled_day = today - 1;
    fprintf(stderr, "{\"level\":\"%s\",\"msg\":\"settled\",\"date\":\"%s\",\"batches\":%d,"
                    "\"skipped\":%d}\n", skipped ? "warn" : "info", day, batches, skipped);
}

/* The audit key file: made here only for a trail no key has signed yet (a store from before
 * checkpoints existed); a store with signed checkpoints needs its own key back, since a new
 * one would vouch for a trail it never saw. */
static hb_err audit_key_for(const char *db, const char *path, int *created, char *why, size_t size)
{
    *created = 0;
    if (access(path, F_OK) == 0) return HB_ERR_OK;
    store *s = NULL;
    store_options ro = {.read_only = true};
    hb_err err = store_open(db, &ro, &s, why, size);
    bool signed_before = false;
    char nodes[16][LIMIT_NODE_LEN + 1];
    int n = 0;
    if (err == HB_ERR_OK) err = store_audit_nodes(s, "", 16, nodes, &n);
    for (int i = 0; err == HB_ERR_OK && i < n && !signed_before; i++) {
        audit_checkpoint c;
        hb_err found = store_checkpoint_last(s, nodes[i], &c);
        if (found == HB_ERR_OK) signed_before = true;
        if (found != HB_ERR_OK && found != HB_ERR_NOT_FOUND) err = found;
    }
    store_close(s);
    if (err != HB_ERR_OK) return err;
    if (signed_before) {
        snprintf(why, size, "the audit key file is missing (%.300s), and this store's trail was "
                            "signed: put the key file back (a new key cannot vouch for the trail)",
                 path);
        return HB_ERR_NOT_FOUND;
    }
    return auditlog_key_create(path, created, why, size);
}

/* Sign a checkpoint of this node's audit chain when [audit] says one is due (or now, if
 * anything came since the last). */
static void audit_checkpoint_due(engine *e, EVP_PKEY *key, const policy *pol, bool now)
{
    checkpoint_cmd c;
    auditlog_checkpoint_prepare(&c, key, false, now ? 1 : pol->audit_checkpoint_records,
                                now ? 0 : pol->audit_checkpoint_s * 1000, "system:audit");
    hb_err err = engine_submit(e, &c.base);
    if (err != HB_ERR_OK) {
        fprintf(stderr, "{\"level\":\"error\",\"msg\":\"audit checkpoint failed\","
                        "\"code\":\"%s\"}\n", hb_err_name(err));
    } else if (c.made > 0) {
        fprintf(stderr, "{\"level\":\"info\",\"msg\":\"audit checkpoint\",\"node\":\"%s\","
                        "\"seq\":%lld}\n", c.last.node, (long long)c.last.seq);
    }
}

/* The whole file as a NUL-terminated string (at most 1 MiB), or NULL. */
static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    char *data = malloc(1048577);
    size_t n = data ? fread(data, 1, 1048576, f) : 0;
    fclose(f);
    if (data == NULL || n == 0 || n == 1048576) {
        free(data);
        return NULL;
    }
    data[n] = '\0';
    return data;
}

static bool parse_listen(const char *text, char *host, size_t host_size, uint16_t *port)
{
    const char *colon = strrchr(text, ':');
    if (colon == NULL || colon == text || (size_t)(colon - text) >= host_size) return false;
    int64_t value = 0;
    if (!cli_parse_count(colon + 1, 0, 65535, &value)) return false;
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = '\0';
    *port = (uint16_t)value;
    return true;
}

int cmd_serve(int argc, char **argv)
{
    static const struct option options[] = {{"db", required_argument, NULL, 'd'},
                                            {"listen", required_argument, NULL, 'l'},
                                            {"key-file", required_argument, NULL, 'k'},
                                            {"threads", required_argument, NULL, 't'},
                                            {"batch", required_argument, NULL, 'b'},
                                            {"node", required_argument, NULL, 'n'},
                                            {"config", required_argument, NULL, 'c'},
                                            {"tls-cert", required_argument, NULL, 'C'},
                                            {"tls-key", required_argument, NULL, 'K'},
                                            {"public-url", required_argument, NULL, 'u'},
                                            {"wal-pages", required_argument, NULL, 'w'},
                                            {"help", no_argument, NULL, 'h'},
                                            {0, 0, 0, 0}};
    const char *db = CLI_DEFAULT_DB, *listen = "127.0.0.1:8080", *key_file = NULL;
    const char *config = getenv("HONGBAO_CONFIG");
    const char *tls_cert = NULL, *tls_key = NULL, *node = "local", *public_url = NULL;
    int64_t threads = 0, batch = 0, wal_pages = 0;
    bool ok = true;
    const char *wal_env = getenv("HONGBAO_WAL_PAGES");
    if (wal_env != NULL && wal_env[0] != '\0' &&
        !cli_parse_count(wal_env, LIMIT_WAL_PAGES_MIN, LIMIT_WAL_PAGES_MAX, &wal_pages)) {
        fprintf(stderr, "hongbao: HONGBAO_WAL_PAGES must be a count of %d..%d\n",
                LIMIT_WAL_PAGES_MIN, LIMIT_WAL_PAGES_MAX);
        return EXIT_USAGE;
    }
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'd': db = optarg; break;
        case 'l': listen = optarg; break;
        case 'k': key_file = optarg; break;
        case 't': ok = ok && cli_parse_count(optarg, 1, LIMIT_HTTP_THREADS, &threads); break;
        case 'b': ok = ok && cli_parse_count(optarg, 1, LIMIT_BATCH_MAX, &batch); break;
        case 'w':
            ok = ok && cli_parse_count(optarg, LIMIT_WAL_PAGES_MIN, LIMIT_WAL_PAGES_MAX, &wal_pages);
            break;
        case 'c': config = optarg; break;
        case 'n': node = optarg; ok = ok && cli_valid_node(node); break;
        case 'C': tls_cert = optarg; break;
        case 'K': tls_key = optarg; break;
        case 'u':
            public_url = optarg;
            ok = ok && strlen(optarg) <= LIMIT_PUBLIC_URL_LEN &&
                 (strncmp(optarg, "http://", 7) == 0 || strncmp(optarg, "https://", 8) == 0);
            break;
        case 'h': fputs(serve_usage, stdout); return EXIT_OK;
        default: ok = false; break;
        }
    }
    char host[64];
    uint16_t port = 0;
    if (!ok || optind != argc || !parse_listen(listen, host, sizeof host, &port) ||
        (tls_cert == NULL) != (tls_key == NULL)) {
        fputs(serve_usage, stderr);
        return EXIT_USAGE;
    }
    /* Signals are taken by sigwait() below; every thread started from here inherits the
     * blocked mask. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    static policy current;
    int prc = cli_load_policy(config, &current);
    if (prc != EXIT_OK) return prc;
    /* Business days are counted in the policy's zone: set it before any thread starts. */
    setenv("TZ", current.timezone, 1);
    tzset();

    char *cert_pem = NULL, *key_pem = NULL;
    if (tls_cert != NULL) {
        cert_pem = read_file(tls_cert);
        key_pem = read_file(tls_key);
        if (cert_pem == NULL || key_pem == NULL) {
            fprintf(stderr, "hongbao: cannot read %s or %s\n", tls_cert, tls_key);
            free(cert_pem);
            free(key_pem);
            return EXIT_USAGE;
        }
    }
    keyring keys;
    int rc = cli_load_keyring(db, key_file, &keys);
    if (rc != EXIT_OK) {
        free(cert_pem);
        free(key_pem);
        return rc;
    }
    keyring_set_suite(&keys, current.national_crypto ? CRYPTO_SUITE_SM4_SM3 : CRYPTO_SUITE_AES_GCM);
    keyring_set_code_keys(&keys, (int)current.code_key_id, (int)current.code_key_min);
    engine_options engine_opts = {.preload_accounts = true, .batch_max = (int)batch,
                                  .policy = &current, .node = node, .checkpoint_frames = wal_pages};
    engine *e = NULL;
    char err_text[512];
    hb_err err = engine_open(db, &engine_opts, &e, err_text, sizeof err_text);
    if (err != HB_ERR_OK) {
        keyring_clear(&keys);
        free(cert_pem);
        free(key_pem);
        if (err == HB_ERR_NOT_FOUND) {
            fprintf(stderr, "hongbao: no store at %s (create one with: hongbao init --db %s)\n",
                    cli_shown(db), cli_shown(db));
            return EXIT_UNAVAILABLE;
        }
        return cli_fail(err, err_text);
    }
    /* the audit key signs checkpoints of this node's chain (created if missing) */
    char audit_path[LIMIT_PATH_LEN + 16];
    auditlog_default_key_path(db, audit_path, sizeof audit_path);
    int audit_created = 0;
    EVP_PKEY *audit_key = NULL;
    uint8_t audit_public[32];
    err = audit_key_for(db, audit_path, &audit_created, err_text, sizeof err_text);
    if (err == HB_ERR_OK) err = auditlog_key_load(audit_path, &audit_key, err_text, sizeof err_text);
    if (err == HB_ERR_OK) err = auditlog_public_key(audit_key, audit_public);
    if (err != HB_ERR_OK) {
        EVP_PKEY_free(audit_key);
        engine_close(e);
        keyring_clear(&keys);
        free(cert_pem);
        free(key_pem);
        return cli_fail(err, err_text);
    }
    if (audit_created) {
        fprintf(stderr, "{\"level\":\"info\",\"msg\":\"audit key created\",\"file\":\"%s\"}\n",
                audit_path);
    }
    http_options http_opts = {.db = db, .host = host, .port = port, .threads = (unsigned)threads,
                              .keys = &keys, .policy = &current, .tls_cert_pem = cert_pem,
                              .tls_key_pem = key_pem, .public_url = public_url,
                              .audit_public_key = audit_public};
    http_server *srv = NULL;
    err = http_server_start(e, &http_opts, &srv, err_text, sizeof err_text);
    if (err != HB_ERR_OK) {
        engine_close(e);
        keyring_clear(&keys);
        free(cert_pem);
        free(key_pem);
        EVP_PKEY_free(audit_key);
        return cli_fail(err, err_text);
    }
    char shown[LIMIT_PATH_LEN + 1];
    store_url_redacted(db, shown, sizeof shown); /* never a password in the log */
    fprintf(stderr,
            "{\"level\":\"info\",\"msg\":\"listening\",\"address\":\"%s:%u\",\"db\":\"%s\","
            "\"node\":\"%s\",\"tls\":%s}\n",
            host, http_server_port(srv), shown, node, cert_pem ? "true" : "false");
    static deliverer hooks;
    hooks.e = e;
    hooks.db = db;
    hooks.keys = &keys;
    hooks.pol = current;
    pthread_mutex_init(&hooks.lock, NULL);
    atomic_store(&hooks.stop, false);
    pthread_t hooks_thread;
    bool hooks_running = pthread_create(&hooks_thread, NULL, deliver_loop, &hooks) == 0;
    const policy *in_force = &current;
    int64_t settled_day = 0;
    /* after a key rotation: seal older boxes again, a few pages every round, until one pass
     * over the sealed tables found nothing left (each start checks once more) */
    rekey_cursor rekey = {.table = keys.versions > 1 ? 0 : 3};
    int sig = 0;
    for (int64_t round = 0;; round++) {
        /* At start and then every 15 seconds, refund expired red packets; every minute,
         * forget nonces too old to be replayed. */
        struct timespec wait = {round == 0 ? 0 : 15, 0};
        sig = sigtimedwait(&stop_signals, NULL, &wait);
        if (sig < 0) {
            int64_t refunded = 0, refused = 0;
            char sweep_error[256] = "";
            hb_err serr = packet_sweep(e, db, clock_now_ms(clock_real()), &refunded, &refused,
                                       sweep_error, sizeof sweep_error);
            if (serr != HB_ERR_OK) {
                fprintf(stderr, "{\"level\":\"error\",\"msg\":\"packet sweep failed\","
                                "\"code\":\"%s\"}\n", hb_err_name(serr));
            } else if (refunded > 0) {
                fprintf(stderr, "{\"level\":\"info\",\"msg\":\"expired packets refunded\","
                                "\"count\":%lld}\n", (long long)refunded);
            }
            auto_settle(e, in_force, &settled_day);
            audit_checkpoint_due(e, audit_key, in_force, false);
            if (rekey.table < 3) {
                int64_t before = rekey.resealed;
                if (rekey_step(e, &keys, "system:keys", 16, &rekey) != HB_ERR_OK) {
                    fprintf(stderr, "{\"level\":\"error\",\"msg\":\"re-sealing with the new "
                                    "data key failed\"}\n");
                } else if (rekey.resealed > before || rekey.table == 3) {
                    fprintf(stderr, "{\"level\":\"info\",\"msg\":\"sealed again with data key "
                                    "%d\",\"rows\":%lld,\"unopened\":%lld,\"done\":%s}\n",
                            keys.versions, (long long)rekey.resealed, (long long)rekey.unopened,
                            rekey.table == 3 ? "true" : "false");
                }
            }
            if (round % 4 != 0) continue;
            nonce_prune_cmd prune;
            credentials_nonce_prune_prepare(&prune, "system:prune");
            hb_err perr = engine_submit(e, &prune.base);
            if (perr != HB_ERR_OK) {
                fprintf(stderr, "{\"level\":\"error\",\"msg\":\"nonce pruning failed\","
                                "\"code\":\"%s\"}\n", hb_err_name(perr));
            }
            continue;
        }
        if (sig != SIGHUP) break;
        static policy next;
        if (cli_load_policy(config, &next) == EXIT_OK) {
            engine_set_policy(e, &next);
            http_server_set_policy(srv, &next);
            pthread_mutex_lock(&hooks.lock);
            hooks.pol = next;
            pthread_mutex_unlock(&hooks.lock);
            in_force = &next;
            fprintf(stderr, "{\"level\":\"info\",\"msg\":\"policy reloaded\"}\n");
        } else {
            fprintf(stderr, "{\"level\":\"error\",\"msg\":\"policy reload refused; the "
                            "old policy stays\"}\n");
        }
    }
    fprintf(stderr, "{\"level\":\"info\",\"msg\":\"stopping\",\"signal\":%d}\n", sig);
    http_server_stop(srv);
    atomic_store(&hooks.stop, true);
    if (hooks_running) pthread_join(hooks_thread, NULL);
    audit_checkpoint_due(e, audit_key, in_force, true); /* the last records signed too */
    EVP_PKEY_free(audit_key);
    engine_close(e);
    keyring_clear(&keys);
    if (key_pem != NULL) OPENSSL_cleanse(key_pem, strlen(key_pem));
    free(cert_pem);
    free(key_pem);
    fprintf(stderr, "{\"level\":\"info\",\"msg\":\"stopped\"}\n");
    return EXIT_OK;
}
