/* Money: int64 fen (minor units) with checked arithmetic, exact parsing and formatting.
 *
 * No floating point anywhere. Amounts of movements are 1..LIMIT_AMOUNT_MAX_FEN; balances
 * are bounded by LIMIT_BALANCE_MAX_FEN in magnitude. */
#ifndef HB_CORE_MONEY_H
#define HB_CORE_MONEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/invariant.h"

/* Longest formatted amount: "-" + 19 digits + "." + NUL, rounded up. */
#define MONEY_TEXT_MAX 32

/* Parse a decimal major-unit amount: "12.34" -> 1234, "12" -> 1200, "0.5" -> 50.
 * Accepts only [0-9]+ optionally followed by '.' and one or two digits; no sign, no spaces,
 * no exponent, no leading zeros ("007"), at most LIMIT_AMOUNT_MAX_FEN.
 * Returns HB_ERR_OK and sets *out_fen, or HB_ERR_INVALID_ARGUMENT (too many decimals,
 * malformed) / HB_ERR_LIMIT_EXCEEDED (above the hard maximum); *out_fen untouched on error. */
hb_err money_parse(const char *text, size_t len, int64_t *out_fen) WARN_UNUSED;

/* Format fen as a decimal major-unit string ("-12.34"); writes at most size bytes including
 * the NUL. Returns the length written, or -1 when the buffer is too small. Exact for every
 * int64 value, including INT64_MIN. */
int money_format(int64_t fen, char *buf, size_t size);

/* Checked helpers: return false (and leave *out untouched) on overflow. */
bool money_add(int64_t a, int64_t b, int64_t *out) WARN_UNUSED;
bool money_sub(int64_t a, int64_t b, int64_t *out) WARN_UNUSED;

/* The fee on amount at rate_bp basis points (0..10000), rounded half-up to the fen:
 * floor((amount * rate_bp + 5000) / 10000), exact for every amount 0..LIMIT_AMOUNT_MAX_FEN
 * (no overflow: the product is split). 0.6% of 0.83 is 0.498 fen -> 0; of 0.84, 0.504 -> 1. */
int64_t money_fee_bp(int64_t amount, int64_t rate_bp);

/* part/whole of value, rounded half-up: the fee returned with a partial refund of part of
 * whole. 0 <= part <= whole, whole > 0, 0 <= value <= LIMIT_AMOUNT_MAX_FEN; exact (128-bit). */
int64_t money_pro_rata(int64_t value, int64_t part, int64_t whole);

/* A movement amount is valid when 1 <= amount <= max_fen (max_fen <= LIMIT_AMOUNT_MAX_FEN). */
hb_err money_check_amount(int64_t amount_fen, int64_t max_fen) WARN_UNUSED;

#endif
