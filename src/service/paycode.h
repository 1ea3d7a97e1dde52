/* Payment codes (收款码): creating and cancelling static and dynamic codes, and the payload a
 * code shows now (its EMVCo string with a sealed token, and its link).
 *
 * A static code is a printable sticker: its token is sealed once, at creation, never expires
 * and is kept with the code; revoking the code (cancel) ends it. A dynamic code is one order
 * for a fixed amount, valid from creation for its owner tier's validity; its token is
 * resealed for every minute (not-after = the end of the minute, or the code's expiry if
 * sooner), so an old screenshot stops working. Tokens are AES-256-GCM for personal owners
 * and SM4-CTR + HMAC-SM3 for enterprises (the tier's crypto; "either" means AES). */
#ifndef HB_SERVICE_PAYCODE_H
#define HB_SERVICE_PAYCODE_H

#include "core/code_token.h"
#include "core/emv.h"
#include "engine/engine.h"
#include "service/keyring.h"

#define PAYCODE_GUID "cn.hongbao" /* the merchant template's sub-field 00 */

typedef struct code_create_cmd {
    command base;
    const keyring *keys; /* seals a static code's token */
    /* in: owner_id, kind, amount (dynamic), currency (CURRENCY_NONE = the owner's), memo,
     * order_no (dynamic), merchant_name, city, mcc (defaults when empty); out: the code */
    paycode code;
} code_create_cmd;

typedef struct code_cancel_cmd {
    command base;
    int64_t code_id;
    paycode code; /* out */
} code_cancel_cmd;

/* Validate and fill defaults (merchant name "hongbao", city "Shanghai", MCC "5999").
 * INVALID_ARGUMENT (why set): a kind other than static/dynamic, a static code with an amount,
 * a dynamic one without an amount or order number, texts EMV cannot carry (merchant name 1..25
 * and city 1..15 printable ASCII, MCC 4 digits), an overlong memo or order number;
 * INVALID_MESSAGE: a memo with a banned phrase or an invisible character. */
hb_err paycode_create_prepare(code_create_cmd *c, const keyring *keys, const char *actor,
                              char *why, size_t why_size) WARN_UNUSED;
hb_err paycode_cancel_prepare(code_cancel_cmd *c, const char *actor) WARN_UNUSED;

/* The status a code shows at now_ms (an active dynamic code past its expiry is expired). */
code_status paycode_status_at(const paycode *c, int64_t now_ms);

/* What a code shows at now_ms: its EMVCo payload and the token inside it, and when a
 * dynamic code's token is resealed (0 for a static code). NOT_FOUND-free: CODE_EXPIRED or
 * CODE_USED when the code no longer takes payments; UNAVAILABLE when sealing fails. */
hb_err paycode_payload(const paycode *c, const keyring *keys, int64_t now_ms,
                       char payload[EMV_PAYLOAD_MAX], char token[CODE_TOKEN_TEXT_MAX + 1],
                       int64_t *refresh_at_ms) WARN_UNUSED;

#endif
