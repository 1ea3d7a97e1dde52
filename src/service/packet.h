/* Red packets (DESIGN.md section 3): create, claim, refund on expiry, sweep.
 *
 * Create moves the whole total from the sender's wallet to the currency's packet escrow
 * account and stores the split (computed by the prepare step, outside the writer) in the
 * same transaction. A claim takes the next share in order and moves it from escrow to the
 * claimer; claims of one packet are commands of the engine's one writer, so a hot packet is
 * serialized in memory and committed in batches, never by lock contention. A refund returns
 * an expired packet's remainder to the sender in one transfer. Every packet movement's
 * conditional update (the claimed count it expects, status sent) and the unique index of one
 * claim per account make a second node or a second sweeper harmless. */
#ifndef HB_SERVICE_PACKET_H
#define HB_SERVICE_PACKET_H

#include "core/packet_token.h"
#include "engine/engine.h"

typedef struct packet_create_cmd {
    command base;
    /* in: sender_id, total, count, mode, fission, seed_id, allow_sender, wishing, scene,
     * currency (CURRENCY_NONE = the sender's); out: the packet as stored */
    packet packet;
    int64_t expires_in_s; /* 0 = LIMIT_PACKET_EXPIRES_DEFAULT_S */
    char device[LIMIT_DEVICE_LEN + 1]; /* the sender's device fingerprint; "" = none */
    const int64_t *shares; /* the split, set by packet_create_prepare */
} packet_create_cmd;

typedef struct packet_claim_cmd {
    command base;
    int64_t packet_id;             /* in: from a token that opened */
    packet_token_kind token_kind;  /* in: which token the claimer presented */
    int64_t claimer_id;            /* in: the claimer's wallet */
    char device[LIMIT_DEVICE_LEN + 1]; /* in: the claimer's device fingerprint; "" = none */
    claim claim;                   /* out */
    packet packet;                 /* out: the packet after the claim */
} packet_claim_cmd;

typedef struct packet_refund_cmd {
    command base;
    int64_t packet_id; /* in */
    packet packet;     /* out: the packet after the refund */
} packet_refund_cmd;

/* Validate c->packet and fill shares[0..count) with the split from the CSPRNG (shares must
 * hold c->packet.count values and outlive the command). INVALID_ARGUMENT with a reason in
 * why for: count outside 1..LIMIT_PACKET_SHARES_MAX, total below count fen or above the
 * ledger's maximum, a fixed total not divisible by count, expires_in outside its bounds, an
 * unknown scene, a wishing that is not at most 128 characters of valid UTF-8, a fission
 * packet without a seed other than the sender or with a count outside 3..20. Fills a missing
 * wishing from the scene. UNAVAILABLE when the CSPRNG fails. */
hb_err packet_create_prepare(packet_create_cmd *c, int64_t *shares, const char *actor,
                             const char *idem_key, char *why, size_t why_size) WARN_UNUSED;
hb_err packet_claim_prepare(packet_claim_cmd *c, const char *actor,
                            const char *idem_key) WARN_UNUSED;
hb_err packet_refund_prepare(packet_refund_cmd *c, const char *actor) WARN_UNUSED;

/* The status a packet shows at now_ms: a sent packet past its expiry is expired. */
packet_status packet_status_at(const packet *p, int64_t now_ms);

/* Refund every sent packet that expired at or before now (read through its own connection
 * to url), one command each. *refunded counts the refunds made, *failed the packets whose
 * refund was refused (their sender's wallet frozen or closed: they stay sent and the next
 * sweep tries again). Running several sweepers at once refunds each packet once.
 * UNAVAILABLE with err_text when the store cannot be read. */
hb_err packet_sweep(engine *e, const char *url, int64_t now_ms, int64_t *refunded,
                    int64_t *failed, char *err_text, size_t err_text_size) WARN_UNUSED;

#endif
