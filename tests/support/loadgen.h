/* A load generator for fault tests: client threads spread transfers (single, and batches of
 * 1-4 when asked) over one or more `serve` nodes of one store, every transfer with its own
 * Idempotency-Key (also its memo), and record each answer: acknowledged (201), refused (4xx),
 * or unknown (no answer, 503). A fault runs in the calling thread meanwhile.
 *
 * loadgen_verify() then settles every unknown by sending it again with its key until it has
 * an answer, and checks: nothing a client must never see (5xx other than 503, a 503 without
 * Retry-After, a 201 with wrong fields); every acknowledged transfer exists with its fields;
 * keys sent again return the original transfer, marked replayed; the store holds exactly one
 * transfer per acknowledged key and none for the others; the ledger is balanced. */
#ifndef HB_TESTS_LOADGEN_H
#define HB_TESTS_LOADGEN_H

#include <stdatomic.h>
#include <stdbool.h>

#include "httptest.h"

#define LOADGEN_NODES_MAX 4
#define LOADGEN_WALLETS 12
#define LOADGEN_THREADS_MAX 32

typedef struct loadgen_wallet {
    char id[32];
    char token[128];
} loadgen_wallet;

struct loadgen_worker;

typedef struct loadgen {
    http_server_proc *nodes; /* the caller's; node i's port is read from ports[i] */
    int node_count;
    _Atomic int ports[LOADGEN_NODES_MAX];
    int threads;  /* client threads, at most LOADGEN_THREADS_MAX */
    bool batches; /* also send POST /v1/transfers/batch */
    loadgen_wallet wallets[LOADGEN_WALLETS];
    int load_case; /* numbers each load's keys: "lg<case>-..." */
    long last_unavailable; /* set by loadgen_verify: answers 503 during the last load */
    long last_unknown;     /* and requests whose outcome was unknown until settled */
    struct loadgen_worker *workers;
} loadgen;

/* Create and fund the wallets and their sessions through the nodes in turn. */
void loadgen_init(loadgen *g, http_server_proc *nodes, int node_count, int threads,
                  bool batches);
/* After node i was restarted (its port changed). */
void loadgen_node_moved(loadgen *g, int node);
/* Run the load for seconds, with fault(g, seconds, ctx) in this thread meanwhile. */
void loadgen_run(loadgen *g, double seconds, void (*fault)(loadgen *g, double seconds, void *ctx),
                 void *ctx);
/* Settle and check the last load (see above); what names it in the messages. Returns the
 * number of acknowledged transfers. */
long loadgen_verify(loadgen *g, const char *what);
void loadgen_free(loadgen *g);

#endif
