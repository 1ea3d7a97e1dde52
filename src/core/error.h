/* Errors: one X-macro table with the name users see, the HTTP status and a message.
 *
 * Codes and statuses follow DESIGN.md section 6. A few internal codes (marked) never leave
 * the service layer as such: callers map them before they reach a client. */
#ifndef HB_CORE_ERROR_H
#define HB_CORE_ERROR_H

#define HB_ERRORS(X)                                                                       \
    X(OK, 200, "ok")                                                                       \
    X(INVALID_JSON, 400, "the request body is not valid JSON")                             \
    X(INVALID_ARGUMENT, 400, "an argument is missing or invalid")                          \
    X(INVALID_MESSAGE, 400, "the message contains forbidden content")                      \
    X(INVALID_CODE, 400, "the code is invalid")                                            \
    X(UNAUTHENTICATED, 401, "authentication is missing or invalid")                        \
    X(FORBIDDEN, 403, "this caller may not do that")                                       \
    X(LIMIT_EXCEEDED, 403, "the amount exceeds a limit")                                   \
    X(RISK_BLOCKED, 403, "blocked by risk control")                                        \
    X(ACCOUNT_FROZEN, 403, "the account is frozen")                                        \
    X(ACCOUNT_RESTRICTED, 403, "the account is restricted")                                \
    X(CODE_FUSED, 403, "the code no longer accepts payments")                              \
    X(NOT_FOUND, 404, "not found")                                                         \
    X(METHOD_NOT_ALLOWED, 405, "method not allowed")                                       \
    X(IDEMPOTENCY_CONFLICT, 409, "the idempotency key was used with other parameters")     \
    X(INSUFFICIENT_FUNDS, 409, "insufficient funds")                                       \
    X(ALREADY_CLAIMED, 409, "already claimed")                                             \
    X(CODE_USED, 409, "the code was already used")                                         \
    X(ALREADY_SETTLED, 409, "already settled")                                             \
    X(ALREADY_DECIDED, 409, "the adjustment was already approved or rejected")             \
    X(PACKET_EMPTY, 410, "the red packet is empty")                                        \
    X(PACKET_EXPIRED, 410, "the red packet has expired")                                   \
    X(CODE_EXPIRED, 410, "the code has expired")                                           \
    X(PAYLOAD_TOO_LARGE, 413, "the request body is too large")                             \
    X(UNSUPPORTED_MEDIA_TYPE, 415, "unsupported media type")                               \
    X(RATE_LIMITED, 429, "too many requests")                                              \
    X(UNAVAILABLE, 503, "the store is unavailable; retry with the same Idempotency-Key")   \
    /* internal: a unique constraint was violated */                                       \
    X(DUPLICATE, 409, "already exists")                                                    \
    /* internal: the engine is shutting down or its queue is full */                       \
    X(BUSY, 503, "the engine is busy or stopping; retry")

typedef enum hb_err {
#define HB_ERR_ENUM(name, status, message) HB_ERR_##name,
    HB_ERRORS(HB_ERR_ENUM)
#undef HB_ERR_ENUM
        HB_ERR__COUNT
} hb_err;

/* The stable upper-case name ("LIMIT_EXCEEDED"); never NULL. */
const char *hb_err_name(hb_err err);
/* The HTTP status that carries this error. */
int hb_err_status(hb_err err);
/* A default human-readable message; never NULL. */
const char *hb_err_message(hb_err err);
/* Parse a name back to its code; returns 0 and sets *out, or -1 for an unknown name. */
int hb_err_from_name(const char *name, hb_err *out);

#endif
