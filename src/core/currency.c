#include "core/currency.h"

#include <string.h>

static const char *const currency_codes[CURRENCY_COUNT] = {"", "CNY", "HKD"};

currency currency_parse(const char *text, size_t len)
{
    if (text == NULL || len != 3) return CURRENCY_NONE;
    for (int i = 1; i < CURRENCY_COUNT; i++) {
        if (memcmp(text, currency_codes[i], 3) == 0) return (currency)i;
    }
    return CURRENCY_NONE;
}

const char *currency_code(currency c)
{
    if (!currency_valid(c)) return "";
    return currency_codes[c];
}

int currency_minor_digits(currency c)
{
    (void)c;
    return 2;
}

int currency_valid(currency c)
{
    return c > CURRENCY_NONE && (int)c < CURRENCY_COUNT;
}
