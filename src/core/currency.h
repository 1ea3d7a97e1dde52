/* ISO 4217 currencies hongbao holds. Each has two minor digits (fen, cents). */
#ifndef HB_CORE_CURRENCY_H
#define HB_CORE_CURRENCY_H

#include <stddef.h>

typedef enum currency { CURRENCY_NONE = 0, CURRENCY_CNY = 1, CURRENCY_HKD = 2 } currency;

#define CURRENCY_COUNT 3

/* Parse an upper-case ISO code of exactly three letters ("CNY"); returns CURRENCY_NONE for
 * anything else, including lower case and unsupported currencies. */
currency currency_parse(const char *text, size_t len);
/* "CNY"; "" for CURRENCY_NONE or an out-of-range value. */
const char *currency_code(currency c);
/* Minor-unit digits (2 for CNY and HKD). */
int currency_minor_digits(currency c);
int currency_valid(currency c);

#endif
