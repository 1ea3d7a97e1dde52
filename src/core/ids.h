/* Prefixed public identifiers ("acct_42", "tr_7"): the prefix says what the id names, the
 * number is the store's int64 key. Parsing is strict: exact prefix, decimal digits without
 * sign or leading zeros, 1..INT64_MAX. */
#ifndef HB_CORE_IDS_H
#define HB_CORE_IDS_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/invariant.h"

typedef enum id_kind {
    ID_ACCOUNT,
    ID_TRANSFER,
    ID_PACKET,
    ID_CLAIM,
    ID_CODE,
    ID_PAYMENT,
    ID_REFUND,
    ID_SETTLEMENT,
    ID_WEBHOOK,
    ID_EVENT,
    ID_CASE,
    ID_ADJUSTMENT,
    ID_KIND_COUNT
} id_kind;

#define IDS_TEXT_MAX 32

/* Writes "prefix_N" into buf (size >= IDS_TEXT_MAX). Returns the length. */
int ids_format(id_kind kind, int64_t id, char *buf, size_t size);
/* Accepts "prefix_N" and, for convenience on the CLI, a bare "N". HB_ERR_INVALID_ARGUMENT
 * for anything else. */
hb_err ids_parse(id_kind kind, const char *text, int64_t *out) WARN_UNUSED;
const char *ids_prefix(id_kind kind);

#endif
