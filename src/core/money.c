#include "core/money.h"

#include <string.h>

#include "core/limits.h"

_Static_assert(LIMIT_AMOUNT_MAX_FEN < LIMIT_BALANCE_MAX_FEN, "an amount fits in a balance");
_Static_assert(LIMIT_BALANCE_MAX_FEN < INT64_MAX / 4, "balances sum without overflow");

hb_err money_parse(const char *text, size_t len, int64_t *out_fen)
{
    if (text == NULL || len == 0 || len > 64) return HB_ERR_INVALID_ARGUMENT;
    size_t i = 0;
    int64_t major = 0;
    size_t int_digits = 0;
    while (i < len && text[i] >= '0' && text[i] <= '9') {
        if (int_digits == 1 && major == 0) return HB_ERR_INVALID_ARGUMENT; /* leading zero */
        if (major > (LIMIT_AMOUNT_MAX_FEN / 100)) return HB_ERR_LIMIT_EXCEEDED;
        major = major * 10 + (text[i] - '0');
        int_digits++;
        i++;
    }
    if (int_digits == 0) return HB_ERR_INVALID_ARGUMENT;
    int64_t minor = 0;
    if (i < len) {
        if (text[i] != '.') return HB_ERR_INVALID_ARGUMENT;
        i++;
        size_t frac_digits = len - i;
        if (frac_digits == 0 || frac_digits > 2) return HB_ERR_INVALID_ARGUMENT;
        for (size_t k = 0; k < frac_digits; k++) {
            char ch = text[i + k];
            if (ch < '0' || ch > '9') return HB_ERR_INVALID_ARGUMENT;
            minor = minor * 10 + (ch - '0');
        }
        if (frac_digits == 1) minor *= 10;
    }
    ASSERT(minor >= 0 && minor < 100);
    if (major > LIMIT_AMOUNT_MAX_FEN / 100) return HB_ERR_LIMIT_EXCEEDED;
    int64_t fen = major * 100 + minor;
    if (fen > LIMIT_AMOUNT_MAX_FEN) return HB_ERR_LIMIT_EXCEEDED;
    *out_fen = fen;
    return HB_ERR_OK;
}

int money_format(int64_t fen, char *buf, size_t size)
{
    char tmp[MONEY_TEXT_MAX];
    size_t n = 0;
    /* Work on the magnitude as unsigned so that INT64_MIN is exact. */
    uint64_t magnitude = fen < 0 ? (uint64_t)0 - (uint64_t)fen : (uint64_t)fen;
    uint64_t minor = magnitude % 100;
    uint64_t major = magnitude / 100;
    tmp[n++] = (char)('0' + minor % 10);
    tmp[n++] = (char)('0' + minor / 10);
    tmp[n++] = '.';
    do {
        tmp[n++] = (char)('0' + major % 10);
        major /= 10;
    } while (major > 0);
    if (fen < 0) tmp[n++] = '-';
    if (n + 1 > size) return -1;
    for (size_t k = 0; k < n; k++) buf[k] = tmp[n - 1 - k];
    buf[n] = '\0';
    return (int)n;
}

bool money_add(int64_t a, int64_t b, int64_t *out)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r)) return false;
    *out = r;
    return true;
}

bool money_sub(int64_t a, int64_t b, int64_t *out)
{
    int64_t r;
    if (__builtin_sub_overflow(a, b, &r)) return false;
    *out = r;
    return true;
}

hb_err money_check_amount(int64_t amount_fen, int64_t max_fen)
{
    ASSERT(max_fen > 0 && max_fen <= LIMIT_AMOUNT_MAX_FEN);
    if (amount_fen <= 0) return HB_ERR_INVALID_ARGUMENT;
    if (amount_fen > max_fen) return HB_ERR_LIMIT_EXCEEDED;
    return HB_ERR_OK;
}

int64_t money_fee_bp(int64_t amount, int64_t rate_bp)
{
    ASSERT(amount >= 0 && amount <= LIMIT_AMOUNT_MAX_FEN && rate_bp >= 0 && rate_bp <= 10000);
    /* amount = q * 10000 + r: q * rate_bp is exact, and r * rate_bp + 5000 < 10^8 + 5000 */
    int64_t q = amount / 10000, r = amount % 10000;
    return q * rate_bp + (r * rate_bp + 5000) / 10000;
}

int64_t money_pro_rata(int64_t value, int64_t part, int64_t whole)
{
    ASSERT(whole > 0 && part >= 0 && part <= whole && value >= 0 && value <= LIMIT_AMOUNT_MAX_FEN);
    __int128 n = (__int128)value * part * 2 + whole;
    return (int64_t)(n / (2 * (__int128)whole));
}
