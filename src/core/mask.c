#include "core/mask.h"

#include <stdbool.h>
#include <string.h>

#include "core/invariant.h"

/* Length in bytes of the UTF-8 character starting at s (1 for invalid bytes). */
static size_t utf8_char_len(const unsigned char *s)
{
    if (s[0] < 0x80) return 1;
    if ((s[0] & 0xe0) == 0xc0 && s[1]) return 2;
    if ((s[0] & 0xf0) == 0xe0 && s[1] && s[2]) return 3;
    if ((s[0] & 0xf8) == 0xf0 && s[1] && s[2] && s[3]) return 4;
    return 1;
}

static void put(char *out, size_t size, size_t *n, const char *text, size_t len)
{
    if (*n + len + 1 > size) return; /* drop what does not fit, whole characters only */
    memcpy(out + *n, text, len);
    *n += len;
    out[*n] = '\0';
}

void mask_name(const char *name, char *out, size_t size)
{
    ASSERT(size > 0);
    out[0] = '\0';
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)name;
    if (*p != '\0' && p[utf8_char_len(p)] == '\0') { /* one character: hide it all */
        put(out, size, &n, "*", 1);
        return;
    }
    bool first = true;
    while (*p) {
        size_t len = utf8_char_len(p);
        if (first) {
            put(out, size, &n, (const char *)p, len);
            first = false;
        } else {
            put(out, size, &n, "*", 1);
        }
        p += len;
    }
}

static void mask_keep(const char *text, size_t head, size_t tail, char *out, size_t size)
{
    ASSERT(size > 0);
    out[0] = '\0';
    size_t len = strlen(text);
    size_t n = 0;
    if (len <= head + tail) {
        for (size_t i = 0; i < len; i++) put(out, size, &n, "*", 1);
        return;
    }
    put(out, size, &n, text, head);
    for (size_t i = head; i < len - tail; i++) put(out, size, &n, "*", 1);
    put(out, size, &n, text + len - tail, tail);
}

void mask_phone(const char *phone, char *out, size_t size)
{
    mask_keep(phone, 3, 4, out, size);
}

void mask_id_number(const char *id_number, char *out, size_t size)
{
    mask_keep(id_number, 6, 4, out, size);
}
