/* Key rotation (issue 9): after `hongbao keys rotate` appended a master key to the key file,
 * every box sealed with an older data key (customers' personal data, API key and webhook
 * secrets) is sealed again with the newest, a page at a time, each page one audited command
 * (keys.reseal), so that serve can do it in the background between requests. */
#ifndef HB_SERVICE_REKEY_H
#define HB_SERVICE_REKEY_H

#include "engine/engine.h"
#include "service/keyring.h"

/* Where a pass over the sealed tables stands. */
typedef struct rekey_cursor {
    int table; /* 0 customers, 1 API keys, 2 webhooks, 3 done */
    int64_t after_id;
    char after_key[LIMIT_KEY_ID_LEN + 1];
    int64_t resealed; /* boxes' rows sealed again so far */
    int64_t unopened; /* rows whose box no key of the file opens (left as they are) */
} rekey_cursor;

/* Record the rotation to key version `version` in the audit trail (keys.rotate). */
hb_err rekey_record_rotation(engine *e, int version, const char *actor) WARN_UNUSED;
/* Seal again up to pages pages of rows from where the cursor stands (one command each);
 * the cursor's table is 3 when the pass is over. OK, or UNAVAILABLE when the store fails. */
hb_err rekey_step(engine *e, const keyring *keys, const char *actor, int pages,
                  rekey_cursor *cursor) WARN_UNUSED;

#endif
