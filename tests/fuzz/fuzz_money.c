/* Fuzz: amounts. Any text either parses to a fen count (at most LIMIT_AMOUNT_MAX_FEN) that
 * formats back to a text which parses to the same count, or is refused; and any int64
 * formats to a text that parses back to itself when within the maximum (negative counts as
 * their magnitude behind a sign the parser refuses) and is refused as LIMIT_EXCEEDED above
 * it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "core/money.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int64_t fen = 0;
    if (money_parse((const char *)data, size, &fen) == HB_ERR_OK) {
        if (fen < 0 || fen > LIMIT_AMOUNT_MAX_FEN) abort(); /* no signs, nothing above the max */
        char text[MONEY_TEXT_MAX];
        int n = money_format(fen, text, sizeof text);
        if (n <= 0 || (size_t)n >= sizeof text) abort();
        int64_t again = -1;
        if (money_parse(text, (size_t)n, &again) != HB_ERR_OK || again != fen) abort();
    }
    if (size >= 8) {
        int64_t value;
        memcpy(&value, data, 8);
        char text[MONEY_TEXT_MAX];
        int n = money_format(value, text, sizeof text);
        if (n <= 0 || (size_t)n >= sizeof text) abort();
        const char *digits = text[0] == '-' ? text + 1 : text;
        int64_t magnitude = value >= 0 ? value : value == INT64_MIN ? INT64_MAX : -value;
        int64_t back = -1;
        hb_err err = money_parse(digits, strlen(digits), &back);
        if (magnitude <= LIMIT_AMOUNT_MAX_FEN) {
            if (err != HB_ERR_OK || back != magnitude) abort();
        } else if (err != HB_ERR_LIMIT_EXCEEDED) {
            abort();
        }
    }
    return 0;
}
