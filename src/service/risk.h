/* The risk engine (DESIGN.md section 5), in the writer, in the same transaction as the money.
 *
 * The rules: lists of accounts, devices and codes with optional expiry (a listed payer or device
 * is refused RISK_BLOCKED, a listed code RISK_BLOCKED and a fused one CODE_FUSED); device
 * binding (a device bound to [risk] device_accounts accounts within the window takes no
 * more: RISK_BLOCKED); multi-account devices ([risk] multi_accounts accounts moving money
 * from one device within multi_window_s are all restricted for restrict_days, the movement
 * that shows it refused ACCOUNT_RESTRICTED); the night pattern ([risk] night_count payments
 * below night_below between 00:00 and 06:00 in the policy's zone within night_window_s
 * freeze the account, with a case and a suspicious-pattern report, the payment that shows it
 * refused ACCOUNT_FROZEN); the same-amount velocity rule (a code receiving [risk]
 * same_amount_run consecutive payments of one amount is fused: that payment is accepted,
 * later ones refused); the static-code cap (a payer paying more than [payments]
 * static_daily_cap a day through static codes: RISK_BLOCKED); the amount dispersion of a
 * sender's red packets (allowed, reviewed: a case); large-transaction reports (allowed,
 * reported). An allowed command that was reviewed or reported carries the note
 * (txn_risk_note) for its response. Every decision other than allow and report opens a case for the account (or adds an event to its open case of the same
 * rule and object); a refusal keeps its case (txn_keep_refusal) and moves no money. Cases
 * are resolved by an operator, who may unfreeze, lift a restriction or a fuse, or blacklist.
 * (The limits by region and real-name level are in wallet.c.) */
#ifndef HB_SERVICE_RISK_H
#define HB_SERVICE_RISK_H

#include <jansson.h>

#include "engine/engine.h"
#include "service/keyring.h"

/* What moves money. Which rules look at it:
 *   every event        the account list (the actor), and with a device the device list,
 *                      device binding and the multi-account rule;
 *   a payment          the code list and fuses, and through a static code the payer's daily
 *                      static-code cap ([payments] static_daily_cap);
 *   money going out    (transfer, withdrawal, red packet, payment) the night pattern.
 * A top-up's actor is the account credited (a listed account takes no money in either); a
 * claim's the claimer; a refund's the code's owner, who pays it back. */
typedef enum risk_event_kind {
    RISK_EV_TOPUP = 1,
    RISK_EV_TRANSFER,
    RISK_EV_WITHDRAW,
    RISK_EV_PACKET,
    RISK_EV_CLAIM,
    RISK_EV_PAYMENT,
    RISK_EV_REFUND,
} risk_event_kind;

typedef struct risk_event {
    risk_event_kind kind;
    int64_t actor_id;   /* the account whose money moves (payer, sender, claimer) */
    const char *device; /* the device fingerprint, "" or NULL = none */
    int64_t code_id;    /* a payment's code; 0 = none */
    bool static_code;   /* a payment through a static code */
    int64_t amount;     /* what moves, in fen */
} risk_event;

/* Before a command moves money: refused (RISK_BLOCKED, CODE_FUSED, ACCOUNT_RESTRICTED,
 * ACCOUNT_FROZEN, with a detail that names no rule internals) when a rule says so; the
 * refusal keeps its case and what the rules counted, and moves no money. With [risk] enabled
 * = false every rule is off (the limits stay). UNAVAILABLE on a storage fault. */
hb_err risk_screen(txn *t, const risk_event *ev) WARN_UNUSED;

/* After money moved from an account (amount, under reference tr_N or pay_N): the
 * large-transaction reports, allowed and recorded: a transaction at or above [risk]
 * large_single, and the day's total reaching [risk] large_daily (once a day). */
hb_err risk_after_movement(txn *t, int64_t account_id, int64_t amount,
                           const char *reference) WARN_UNUSED;

/* After a red packet was sent: the amount-dispersion rule. The day's packets of the sender
 * whose amounts' standard deviation is above [risk] dispersion_stddev open (or add an event
 * to) a case for review; the packet goes through. Integer arithmetic only. */
hb_err risk_after_packet(txn *t, int64_t sender_id, int64_t amount) WARN_UNUSED;

/* After a payment (the event screened) moved money to the code's owner: the static-code
 * day's total, and the same-amount velocity rule. */
hb_err risk_after_payment(txn *t, const risk_event *ev, int64_t owner_id) WARN_UNUSED;

/* Open a case, or add an event to the open one of (account, rule, object). */
hb_err risk_case_record(txn *t, int64_t account_id, const char *rule, const char *object,
                        const char *decision, const char *reason) WARN_UNUSED;

/* A large-transaction report as JSON, with the customer's name masked. */
json_t *risk_large_json(store *reader, const keyring *keys, const large_report *r);
const char *risk_large_kind_name(int kind); /* "single" or "daily_total" */

const char *risk_list_kind_name(risk_list_kind k);
risk_list_kind risk_list_kind_parse(const char *name); /* 0 for unknown */

/* Add (or replace) a list entry, or remove one (audited). */
typedef struct risk_list_cmd {
    command base;
    bool remove;
    risk_list_entry entry; /* in: kind, value; reason and expires_at_ms to add */
} risk_list_cmd;
hb_err risk_list_prepare(risk_list_cmd *c, const char *actor, char *why,
                         size_t why_size) WARN_UNUSED;

/* Import a list from CSV (value,reason,expires_at in unix seconds, empty or 0 = never; an
 * optional header line "value,..."): every entry or none, audited once. */
#define RISK_IMPORT_MAX 1000
typedef struct risk_import_cmd {
    command base;
    risk_list_kind kind;
    int count;
    risk_list_entry entries[RISK_IMPORT_MAX];
} risk_import_cmd;
/* INVALID_ARGUMENT with the line number and the reason in why for a bad line, too many lines,
 * or nothing to import (entries already expired are skipped). */
hb_err risk_import_parse(risk_import_cmd *c, risk_list_kind kind, const char *csv, size_t len,
                         int64_t now_ms, const char *actor, char *why, size_t why_size) WARN_UNUSED;
/* Export a list's live entries as CSV (value,reason,expires_at,created_at,created_by; times in
 * unix seconds, expires_at 0 = never) through sink. */
typedef bool (*csv_out)(void *ctx, const char *text, size_t len);
hb_err risk_list_csv(store *reader, risk_list_kind kind, int64_t now_ms, csv_out sink,
                     void *ctx) WARN_UNUSED;

/* Resolve an open case (audited): action "dismiss", "confirm", "unfreeze",
 * "lift_restriction", "lift_fuse" or "blacklist" (the case's account), with a note. */
typedef struct risk_resolve_cmd {
    command base;
    int64_t case_id;
    char action[24];
    char note[LIMIT_ERR_DETAIL_LEN - 32];
    risk_case result; /* out */
} risk_resolve_cmd;
hb_err risk_resolve_prepare(risk_resolve_cmd *c, const char *actor, char *why,
                            size_t why_size) WARN_UNUSED;

#endif
