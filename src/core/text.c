#include "core/text.h"

#include <stdint.h>
#include <string.h>

/* Bytes in the UTF-8 sequence starting with c, or 0 for a byte that cannot start one. */
static size_t sequence_len(unsigned char c)
{
    return c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
}

bool text_valid(const char *text, size_t max_len, bool may_be_empty)
{
    size_t len = strnlen(text, max_len + 1);
    if (len > max_len || (len == 0 && !may_be_empty)) return false;
    const unsigned char *p = (const unsigned char *)text;
    static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    while (*p) {
        size_t n = sequence_len(*p);
        if (n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7f))) return false;
        uint32_t cp = n == 1 ? *p : *p & (0xffu >> (n + 1));
        for (size_t i = 1; i < n; i++) {
            if ((p[i] & 0xc0) != 0x80) return false;
            cp = cp << 6 | (p[i] & 0x3fu);
        }
        if (cp < min_cp[n] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return false;
        p += n;
    }
    return true;
}

size_t text_prefix(const char *text, size_t max_bytes)
{
    size_t len = strnlen(text, max_bytes + 1);
    if (len <= max_bytes) return len;
    size_t cut = max_bytes;
    /* step back over continuation bytes to the start of the cut character */
    while (cut > 0 && ((unsigned char)text[cut] & 0xc0) == 0x80) cut--;
    return cut;
}

static bool invisible(uint32_t c)
{
    return c == 0x00AD || c == 0x034F || c == 0x061C || c == 0x115F || c == 0x1160 ||
           c == 0x17B4 || c == 0x17B5 || (c >= 0x180B && c <= 0x180F) ||
           (c >= 0x200B && c <= 0x200F) || (c >= 0x202A && c <= 0x202E) ||
           (c >= 0x2060 && c <= 0x206F) || c == 0x3164 || (c >= 0xFE00 && c <= 0xFE0F) ||
           c == 0xFEFF || c == 0xFFA0 || (c >= 0xE0000 && c <= 0xE0FFF);
}

bool text_has_invisible(const char *text)
{
    const unsigned char *p = (const unsigned char *)text;
    while (*p != '\0') {
        uint32_t c = *p;
        int extra = c < 0x80 ? 0 : c < 0xE0 ? 1 : c < 0xF0 ? 2 : 3;
        if (extra > 0) c &= 0x3Fu >> extra;
        p++;
        for (int i = 0; i < extra && *p != '\0'; i++, p++) c = (c << 6) | (*p & 0x3Fu);
        if (invisible(c)) return true;
    }
    return false;
}
