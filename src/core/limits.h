/* Every bound in hongbao, in one place. Each loop, queue, string and table is sized by one of
 * these; later issues add theirs here. */
#ifndef HB_CORE_LIMITS_H
#define HB_CORE_LIMITS_H

#include <stdint.h>

/* Money: the largest amount of one movement and the largest balance magnitude, in fen.
 * 10^15 fen is 10 trillion yuan; balances stay far from INT64_MAX so that sums of many
 * balances (ledger check) cannot overflow either. */
#define LIMIT_AMOUNT_MAX_FEN ((int64_t)1000000000000000LL)
#define LIMIT_BALANCE_MAX_FEN ((int64_t)1000000000000000000LL)
/* Default configured cap of one transfer (100,000,000.00); configurable up to the hard max. */
#define LIMIT_TRANSFER_DEFAULT_MAX_FEN ((int64_t)10000000000LL)

/* Strings. Lengths exclude the NUL terminator. */
#define LIMIT_OWNER_LEN 64
#define LIMIT_ACTOR_LEN 64
#define LIMIT_IDEM_KEY_LEN 64
#define LIMIT_IDEM_SCOPE_LEN 160 /* plus an 8-byte kind prefix in the store */
#define LIMIT_REFERENCE_LEN 128
#define LIMIT_ACTION_LEN 32
#define LIMIT_OBJECT_LEN 32
#define LIMIT_NODE_LEN 32
#define LIMIT_ERR_DETAIL_LEN 160
#define LIMIT_RESULT_LEN 4096
#define LIMIT_PATH_LEN 1024

/* Customers and credentials. */
#define LIMIT_NAME_LEN 64       /* bytes of UTF-8 */
#define LIMIT_PHONE_LEN 20
#define LIMIT_ID_NUMBER_LEN 32
#define LIMIT_REGION_LEN 16
#define LIMIT_BOX_LEN 128       /* an encrypted field: value + nonce + tag */
#define LIMIT_KEY_ID_LEN 32
#define LIMIT_SECRET_LEN 64
#define LIMIT_NONCE_MIN 16
#define LIMIT_NONCE_MAX 64
#define LIMIT_SIGNATURE_SKEW_S 300
#define LIMIT_SESSION_TTL_DEFAULT_S 86400
#define LIMIT_SESSION_TTL_MAX_S 2592000

/* Engine. */
#define LIMIT_BATCH_MAX 32768
#define LIMIT_BATCH_DEFAULT 4096
#define LIMIT_QUEUE_MAX 1048576
#define LIMIT_QUEUE_DEFAULT 262144
#define LIMIT_ACCOUNT_CACHE_MAX 8388608
/* Accounts one command may touch (a transfer touches 2; a packet claim later a few). */
#define LIMIT_COMMAND_ACCOUNTS 16
/* SQLite's WAL, in 4 KiB pages, at which the background checkpointer runs (serve
 * --wal-pages); the largest is the default. */
#define LIMIT_WAL_PAGES_MIN 16
#define LIMIT_WAL_PAGES_MAX 32768

/* HTTP. */
#define LIMIT_HTTP_BODY_MAX ((size_t)256 * 1024)
#define LIMIT_HTTP_CONNECTIONS 2048
#define LIMIT_HTTP_PER_IP_CONNECTIONS 1024
#define LIMIT_HTTP_TIMEOUT_S 30
#define LIMIT_HTTP_CONNECTION_MEMORY (64 * 1024) /* headers and buffers of one connection */
#define LIMIT_HTTP_THREADS 64
#define LIMIT_METRIC_ROUTES 96 /* routes the request metrics count one by one */
#define LIMIT_JSON_DEPTH 16
#define LIMIT_MEMO_LEN 128
#define LIMIT_DEVICE_LEN 128
/* Device bindings the risk screen reads at once (the latest used first); a device with more
 * is asked about exactly. At least [risk] multi_accounts (15 at most). */
#define LIMIT_DEVICE_BINDINGS 64

/* Red packets. */
#define LIMIT_PACKET_SHARES_MAX 100000       /* the provider tier's max shares */
#define LIMIT_WISHING_CHARS 128              /* characters of UTF-8 */
#define LIMIT_WISHING_LEN 512                /* bytes: 4 per character at most */
#define LIMIT_SCENE_LEN 32
#define LIMIT_PACKET_EXPIRES_MIN_S 10
#define LIMIT_PACKET_EXPIRES_MAX_S 604800     /* 7 days */
#define LIMIT_PACKET_EXPIRES_DEFAULT_S 86400
#define LIMIT_FISSION_SHARES_MIN 3
#define LIMIT_FISSION_SHARES_MAX 20
#define LIMIT_SHARE_CHUNK 256                /* shares per stored row */
#define LIMIT_PUBLIC_URL_LEN 200
/* Payment codes. */
#define LIMIT_ORDER_NO_LEN 32
#define LIMIT_CODE_TOKEN_LEN 81     /* CODE_TOKEN_TEXT_MAX */
#define LIMIT_CODE_RESEAL_S 60      /* a dynamic code's token is resealed every minute */
/* Payments, settlement, webhooks. */
#define LIMIT_PAYLOAD_LEN 512       /* a scanned payload or link, as the payer sends it */
#define LIMIT_URL_LEN 512           /* a webhook endpoint's URL */
#define LIMIT_EVENT_BODY_LEN 2048   /* a webhook event's JSON body */
#define LIMIT_EVENT_TYPE_LEN 31
#define LIMIT_WEBHOOKS_PER_OWNER 16
#define LIMIT_SETTLE_PAGE 200       /* merchants settled per command */
/* Listing. */
#define LIMIT_PAGE_MAX 1000
#define LIMIT_PAGE_DEFAULT 50

#endif
