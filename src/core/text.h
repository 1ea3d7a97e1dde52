/* Text checks shared by every layer that accepts strings from outside. */
#ifndef HB_CORE_TEXT_H
#define HB_CORE_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Valid UTF-8 (no overlong forms, surrogates or values past U+10FFFF), no ASCII control
 * characters, at most max_len bytes, and non-empty unless may_be_empty. */
bool text_valid(const char *text, size_t max_len, bool may_be_empty);
/* The longest prefix of text, at most max_bytes long, that ends on a character boundary. */
size_t text_prefix(const char *text, size_t max_bytes);

/* True when valid UTF-8 text holds an invisible formatting character (zero-width spaces and
 * joiners, direction marks and overrides, soft hyphen, word joiners, variation selectors,
 * byte order mark, Hangul fillers, tag characters): they let a banned phrase slip past a
 * plain match, and a wishing or memo never needs them. */
bool text_has_invisible(const char *text);

#endif
