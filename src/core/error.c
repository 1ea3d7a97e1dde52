#include "core/error.h"

#include <string.h>

static const struct {
    const char *name;
    int status;
    const char *message;
} error_table[] = {
#define HB_ERR_ROW(name, status, message) {#name, status, message},
    HB_ERRORS(HB_ERR_ROW)
#undef HB_ERR_ROW
};

_Static_assert(sizeof error_table / sizeof error_table[0] == HB_ERR__COUNT,
               "one row per error code");

const char *hb_err_name(hb_err err)
{
    if ((unsigned)err >= HB_ERR__COUNT) return "UNKNOWN";
    return error_table[err].name;
}

int hb_err_status(hb_err err)
{
    if ((unsigned)err >= HB_ERR__COUNT) return 503;
    return error_table[err].status;
}

const char *hb_err_message(hb_err err)
{
    if ((unsigned)err >= HB_ERR__COUNT) return "unknown error";
    return error_table[err].message;
}

int hb_err_from_name(const char *name, hb_err *out)
{
    if (name == NULL) return -1;
    for (unsigned i = 0; i < HB_ERR__COUNT; i++) {
        if (strcmp(error_table[i].name, name) == 0) {
            *out = (hb_err)i;
            return 0;
        }
    }
    return -1;
}
