/* Masking of personal data for display (DESIGN.md section 6): every role sees masked values;
 * clear values only through the audited unmask call.
 *   name       张三 -> 张*, 欧阳娜娜 -> 欧***  (first character kept, one * per other character)
 *   phone      13812345678 -> 138****5678      (first 3 and last 4 kept)
 *   ID number  110101199003071234 -> 110101********1234 (first 6 and last 4 kept)
 * Input must be valid UTF-8 (checked when stored); short values are masked entirely. */
#ifndef HB_CORE_MASK_H
#define HB_CORE_MASK_H

#include <stddef.h>

/* Each writes a NUL-terminated result of at most size bytes (truncating cleanly). */
void mask_name(const char *name, char *out, size_t size);
void mask_phone(const char *phone, char *out, size_t size);
void mask_id_number(const char *id_number, char *out, size_t size);

#endif
