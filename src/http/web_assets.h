/* The web pages' files, built into the binary from web/ (cmake/embed_web.cmake). */
#ifndef HB_HTTP_WEB_ASSETS_H
#define HB_HTTP_WEB_ASSETS_H

#include <stddef.h>

typedef struct web_asset {
    const char *name; /* its path under web/, e.g. "claim.js" or "vendor/chart.umd.js" */
    const char *content_type;
    const unsigned char *data; /* NUL-terminated after size bytes */
    size_t size;
} web_asset;

extern const web_asset web_assets[];
extern const int web_asset_count;

/* The file of that name, or NULL. */
const web_asset *web_asset_find(const char *name);

#endif
