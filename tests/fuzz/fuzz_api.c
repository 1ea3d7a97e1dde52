/* Fuzz: the JSON body of every POST endpoint, through the real server in this process.
 *
 * At start: a store in /dev/shm (fsync is free there), the system accounts, two funded
 * wallets and an enterprise customer, an admin key, and `hongbao serve`'s HTTP server on a
 * free loopback port. Each input's first byte picks an endpoint; the rest is the body, sent
 * with a valid admin signature (fresh nonce) over one keep-alive connection. Whatever the
 * body, the answer must be a complete HTTP response with a status below 500, and its body
 * JSON: an error envelope {"error":{"code","message","request_id"}} for 4xx. A red packet
 * (pkt_1, 100,000 shares, 40,000.00) exists; "@TOKEN@" in a body becomes its claim token, so that
 * claims get past the token check. A merchant's static code and a payment through it (pay_1)
 * exist; "@PAYLOAD@" becomes the code's EMVCo payload, so that payments get past the payload
 * check (and refunds of pay_1 have something to refund). The ledger must stay balanced,
 * merchant pending balances included (checked every 4096 inputs and at exit). */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http/http.h"
#include "core/signature.h"
#include "service/credentials.h"
#include "service/customer.h"
#include "core/packet_token.h"
#include "service/keyring.h"
#include "service/packet.h"
#include "service/paycode.h"
#include "service/payment.h"
#include "service/wallet.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static engine *eng;
static http_server *srv;
static keyring keys;
static policy pol;
static uint16_t port;
static int sock = -1;
static char db[512];
static char key_id[LIMIT_KEY_ID_LEN + 1];
static char secret[LIMIT_SECRET_LEN + 1];
static char paths[32][128];
static int path_count;
static unsigned long long nonce_counter;
static unsigned long runs;
static int last_status;
static unsigned long retries;
static char claim_token[PACKET_TOKEN_TEXT_LEN + 1];
static char code_payload[EMV_PAYLOAD_MAX];
static bool last_closes;

static void die(const char *what)
{
    fprintf(stderr, "fuzz_api: %s\n", what);
    abort();
}

static int64_t wallet(const char *owner)
{
    account_create_cmd c;
    memset(&c, 0, sizeof c);
    snprintf(c.account.owner, sizeof c.account.owner, "%s", owner);
    c.account.kind = ACCOUNT_WALLET;
    c.account.tier = TIER_PERSONAL;
    c.account.currency = CURRENCY_CNY;
    if (wallet_account_create_prepare(&c, "fuzz", NULL) != HB_ERR_OK ||
        engine_submit(eng, &c.base) != HB_ERR_OK) {
        die("cannot create a wallet");
    }
    transfer_cmd t;
    memset(&t, 0, sizeof t);
    t.transfer.kind = TRANSFER_TOPUP;
    t.transfer.credit_id = c.account.id;
    t.transfer.amount = 100000000;
    snprintf(t.transfer.reference, sizeof t.transfer.reference, "fuzz-%s", owner);
    if (wallet_transfer_prepare(&t, "fuzz", NULL) != HB_ERR_OK ||
        engine_submit(eng, &t.base) != HB_ERR_OK) {
        die("cannot fund a wallet");
    }
    return c.account.id;
}

static void connect_server(void)
{
    if (sock >= 0) close(sock);
    sock = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (sock < 0 || connect(sock, (struct sockaddr *)&addr, sizeof addr) != 0) die("connect");
    struct timeval tv = {10, 0};
    setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int one = 1; /* header and body leave at once, not after a delayed ACK */
    setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void cleanup(void)
{
    fprintf(stderr, "fuzz_api: %lu inputs, %lu sent again after a closed connection\n", runs,
            retries);
    static const char *const suffixes[] = {"", "-wal", "-shm", ".key"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char path[600];
        snprintf(path, sizeof path, "%s%s", db, suffixes[i]);
        unlink(path);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    setenv("HONGBAO_RATE_LIMIT_KEY_PER_SECOND", "1000000", 1);
    setenv("HONGBAO_RATE_LIMIT_KEY_BURST", "1000000", 1);
    setenv("HONGBAO_TIER_PERSONAL_DAILY_LIMIT", "100000000.00", 1);
    setenv("HONGBAO_TIER_PERSONAL_SINGLE_LIMIT", "1000000.00", 1);
    setenv("HONGBAO_TIER_PERSONAL_MAX_SHARES", "100000", 1);
    setenv("HONGBAO_PAYMENTS_STATIC_DAILY_CAP", "100000000.00", 1);
    /* webhook URLs are checked without name lookups (no resolver here); nothing delivers */
    setenv("HONGBAO_WEBHOOKS_ALLOW_PRIVATE", "true", 1);
    int line = 0;
    char why[256];
    if (policy_load(NULL, &pol, &line, why, sizeof why) != HB_ERR_OK) die(why);
    snprintf(db, sizeof db, "/dev/shm/hongbao-fuzz-api-%ld.db", (long)getpid());
    char key_file[600];
    snprintf(key_file, sizeof key_file, "%s.key", db);
    int created = 0;
    char err_text[512];
    if (keyring_create(key_file, &created, err_text, sizeof err_text) != HB_ERR_OK ||
        keyring_load(key_file, &keys, err_text, sizeof err_text) != HB_ERR_OK) {
        die(err_text);
    }
    engine_options o = {.create = true, .policy = &pol};
    if (engine_open(db, &o, &eng, err_text, sizeof err_text) != HB_ERR_OK) die(err_text);
    if (wallet_init_system(eng, CURRENCY_CNY, err_text, sizeof err_text) != HB_ERR_OK) {
        die(err_text);
    }
    int64_t a = wallet("alice"), b = wallet("bob");
    key_create_cmd k;
    memset(&k, 0, sizeof k);
    k.role = ROLE_ADMIN;
    if (credentials_key_create_prepare(&k, &keys, "fuzz") != HB_ERR_OK ||
        engine_submit(eng, &k.base) != HB_ERR_OK) {
        die("cannot create the admin key");
    }
    snprintf(key_id, sizeof key_id, "%s", k.key_id);
    /* a packet to claim from: pkt_1, 100,000 shares of alice's */
    static int64_t shares[100000];
    packet_create_cmd pc;
    memset(&pc, 0, sizeof pc);
    pc.packet.sender_id = a;
    pc.packet.total = 4000000; /* within a level-2 single cap (50,000.00) */
    pc.packet.count = 100000;
    pc.packet.mode = 1;
    pc.expires_in_s = LIMIT_PACKET_EXPIRES_MAX_S;
    if (packet_create_prepare(&pc, shares, "fuzz", NULL, why, sizeof why) != HB_ERR_OK ||
        engine_submit(eng, &pc.base) != HB_ERR_OK) {
        fprintf(stderr, "fuzz_api: %s %s\n", why, pc.base.err_detail);
        die("cannot create the packet");
    }
    packet_token pt = {.kind = PACKET_TOKEN_CLAIM, .packet_id = pc.packet.id,
                       .not_after_ms = pc.packet.expires_at_ms};
    if (packet_token_seal(&keys.packet_tokens, &pt, claim_token) != HB_ERR_OK) die("seal");
    snprintf(secret, sizeof secret, "%s", k.secret);
    /* a merchant's static code, and pay_1 through it */
    customer_cmd mc;
    memset(&mc, 0, sizeof mc);
    mc.input.tier = TIER_ENTERPRISE;
    mc.input.currency = CURRENCY_CNY;
    snprintf(mc.input.region, sizeof mc.input.region, "CN");
    snprintf(mc.input.name, sizeof mc.input.name, "Shop");
    if (customer_create_prepare(&mc, &keys, "fuzz", NULL, why, sizeof why) != HB_ERR_OK ||
        engine_submit(eng, &mc.base) != HB_ERR_OK) {
        die("cannot create the merchant");
    }
    code_create_cmd cc;
    memset(&cc, 0, sizeof cc);
    cc.code.owner_id = mc.id;
    cc.code.kind = CODE_STATIC;
    char token[CODE_TOKEN_TEXT_MAX + 1];
    int64_t refresh = 0;
    if (paycode_create_prepare(&cc, &keys, "fuzz", why, sizeof why) != HB_ERR_OK ||
        engine_submit(eng, &cc.base) != HB_ERR_OK ||
        paycode_payload(&cc.code, &keys, 0, code_payload, token, &refresh) != HB_ERR_OK) {
        die("cannot create the code");
    }
    payment_cmd pay;
    memset(&pay, 0, sizeof pay);
    pay.payer_id = a;
    pay.amount = 10000;
    if (payment_open_payload(code_payload, &keys, 0, &pay.token, why, sizeof why) != HB_ERR_OK ||
        payment_prepare(&pay, "fuzz", NULL, why, sizeof why) != HB_ERR_OK ||
        engine_submit(eng, &pay.base) != HB_ERR_OK || pay.payment.id != 1) {
        die("cannot pay");
    }
    http_options ho = {.db = db, .port = 0, .threads = 2, .keys = &keys, .policy = &pol};
    if (http_server_start(eng, &ho, &srv, err_text, sizeof err_text) != HB_ERR_OK) die(err_text);
    port = http_server_port(srv);
    /* every POST route; {id} is one of the two wallets */
    static const char *const templates[][2] = {
        {"/v1/accounts", ""},          {"/v1/accounts/", "/topup"},
        {"/v1/accounts/", "/withdraw"}, {"/v1/accounts/", "/sessions"},
        {"/v1/accounts/", "/unmask"},   {"/v1/transfers", ""},
        {"/v1/transfers/batch", ""},    {"/v1/keys", ""},
        {"/v1/keys/hbk_0000000000000000/revoke", ""}, {"/v1/sessions/revoke", ""},
        {"/v1/packets", ""},            {"/v1/packets/pkt_1/claims", ""},
        {"/v1/codes", ""},              {"/v1/payments", ""},
        {"/v1/payments/pay_1/refunds", ""}, {"/v1/settlements", ""},
        {"/v1/webhooks", ""},           {"/v1/risk/lists/accounts", ""},
        {"/v1/risk/lists/devices/remove", ""}, {"/v1/risk/cases/case_1/resolve", ""},
        {"/v1/adjustments", ""},        {"/v1/adjustments/adj_1/approve", ""},
        {"/v1/adjustments/adj_1/reject", ""}, {"/v1/login-links", ""},
        {"/v1/web/login", ""},          {"/v1/web/logout", ""},
    };
    path_count = (int)(sizeof templates / sizeof templates[0]);
    for (int i = 0; i < path_count; i++) {
        if (templates[i][1][0] == '\0') {
            snprintf(paths[i], sizeof paths[i], "%s", templates[i][0]);
        } else {
            snprintf(paths[i], sizeof paths[i], "%sacct_%lld%s", templates[i][0],
                     (long long)(i % 2 ? a : b), templates[i][1]);
        }
    }
    atexit(cleanup);
    connect_server();
    return 0;
}

/* recv, again when a signal (libFuzzer's timer) interrupted it. */
static ssize_t recv_some(char *buf, size_t len)
{
    ssize_t n;
    do {
        n = recv(sock, buf, len, 0);
    } while (n < 0 && errno == EINTR);
    return n;
}

/* Read one response: status, and body into a malloc'd buffer. Returns false when the
 * server closed the connection (or timed out) without a complete response; *got says how
 * many bytes had arrived. */
static bool read_response(int *status, char **body, size_t *body_len, bool *closes, size_t *got)
{
    static char buf[1 << 20];
    size_t len = 0;
    char *end = NULL;
    *got = 0;
    while (end == NULL) {
        if (len == sizeof buf - 1) return false;
        ssize_t n = recv_some(buf + len, sizeof buf - 1 - len);
        if (n <= 0) return false;
        len += (size_t)n;
        *got = len;
        buf[len] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    if (sscanf(buf, "HTTP/1.1 %d", status) != 1) return false;
    size_t head = (size_t)(end - buf) + 4;
    const char *cl = strcasestr(buf, "\r\nContent-Length:");
    size_t content = cl != NULL && cl < end ? strtoul(cl + 17, NULL, 10) : 0;
    *closes = strcasestr(buf, "\r\nConnection: close") != NULL;
    while (len < head + content) {
        if (len == sizeof buf - 1) return false;
        ssize_t n = recv_some(buf + len, sizeof buf - 1 - len);
        if (n <= 0) return false;
        len += (size_t)n;
        *got = len;
    }
    *body = malloc(content + 1);
    memcpy(*body, buf + head, content);
    (*body)[content] = '\0';
    *body_len = content;
    return true;
}

static void check_ledger(void)
{
    store *s = NULL;
    store_options o = {.read_only = true};
    ledger_report r;
    if (store_open(db, &o, &s, NULL, 0) != HB_ERR_OK || store_ledger_check(s, &r) != HB_ERR_OK ||
        !r.balanced) {
        die("the ledger is not balanced");
    }
    store_close(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > 70000) return 0;
    const char *path = paths[data[0] % path_count];
    /* the body, with "@TOKEN@" replaced by pkt_1's claim token, "@PAYLOAD@" by the code's */
    static uint8_t expanded[70000 * 64];
    size_t body_len = 0, payload_len = strlen(code_payload);
    for (size_t i = 1; i < size; i++) {
        if (i + 7 <= size && memcmp(data + i, "@TOKEN@", 7) == 0) {
            memcpy(expanded + body_len, claim_token, PACKET_TOKEN_TEXT_LEN);
            body_len += PACKET_TOKEN_TEXT_LEN;
            i += 6;
        } else if (i + 9 <= size && memcmp(data + i, "@PAYLOAD@", 9) == 0) {
            memcpy(expanded + body_len, code_payload, payload_len);
            body_len += payload_len;
            i += 8;
        } else {
            expanded[body_len++] = data[i];
        }
    }
    const uint8_t *body = expanded;
    char ts[24], nonce[40], hex[65];
    snprintf(ts, sizeof ts, "%lld", (long long)time(NULL));
    snprintf(nonce, sizeof nonce, "fuzz%020llu", ++nonce_counter);
    uint8_t sig[32];
    if (signature_compute(secret, "POST", path, ts, nonce, body, body_len, sig) != HB_ERR_OK) {
        die("sign");
    }
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", sig[i]);
    char head[1024];
    int n = snprintf(head, sizeof head,
                     "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     "Authorization: HB1-HMAC-SHA256 key=%s,ts=%s,nonce=%s,sig=%s\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     path, key_id, ts, nonce, hex, body_len);
    char *message = malloc((size_t)n + body_len);
    if (message == NULL) die("out of memory");
    memcpy(message, head, (size_t)n);
    if (body_len > 0) memcpy(message + n, body, body_len);
    size_t total = (size_t)n + body_len;
    int status = 0;
    char *reply = NULL;
    size_t reply_len = 0, got = 0;
    bool closes = false;
    for (int attempt = 0;; attempt++) {
        ssize_t wrote;
        do {
            wrote = send(sock, message, total, MSG_NOSIGNAL);
        } while (wrote < 0 && errno == EINTR);
        bool sent = wrote == (ssize_t)total;
        if (sent && read_response(&status, &reply, &reply_len, &closes, &got)) break;
        /* A server may close an idle keep-alive connection before reading a request: then,
         * and only then (nothing of an answer came), send it again on a new connection.
         * The nonce makes a second copy harmless (401 if the first was applied). */
        if (attempt == 0 && got == 0) {
            if (++retries <= 5) {
                fprintf(stderr, "fuzz_api: the connection closed before an answer; sending again "
                                "(errno %d; the previous answer was %d %s)\n",
                        errno, last_status, last_closes ? "with close" : "keep-alive");
            }
            connect_server();
            continue;
        }
        fprintf(stderr, "fuzz_api: %s: no complete response (sent %d, %zu bytes came, errno %d; "
                        "the previous answer was %d %s)\n",
                path, sent, got, errno, last_status, last_closes ? "with close" : "keep-alive");
        abort();
    }
    free(message);
    last_status = status;
    last_closes = closes;
    if (status < 200 || status >= 500) {
        fprintf(stderr, "fuzz_api: %s answered %d: %s\n", path, status, reply);
        abort();
    }
    json_error_t error;
    json_t *j = json_loadb(reply, reply_len, 0, &error);
    if (j == NULL) {
        fprintf(stderr, "fuzz_api: %s answered %d with no JSON: %s\n", path, status, reply);
        abort();
    }
    if (status >= 400) {
        json_t *e = json_object_get(j, "error");
        if (!json_is_string(json_object_get(e, "code")) ||
            !json_is_string(json_object_get(e, "message")) ||
            !json_is_string(json_object_get(e, "request_id"))) {
            fprintf(stderr, "fuzz_api: %s answered %d without the envelope: %s\n", path, status,
                    reply);
            abort();
        }
    }
    json_decref(j);
    free(reply);
    if (closes) connect_server();
    if (++runs % 4096 == 0) check_ledger();
    return 0;
}
