/* Splitting a red packet's total into its shares (pure; DESIGN.md section 3).
 *
 * Random mode is the double-mean method (二倍均值): share i of n, with `remaining` fen left for
 * `left` shares (this one included), is drawn uniformly from [1, 2 * remaining / left) with
 * rejection sampling (no modulo bias), never so large that a later share would get less than
 * 1 fen; the last share takes the rest. So every share is at least 1 fen, below twice the
 * running mean (except the last, which is exactly the rest), and the shares sum to the total
 * exactly. Fixed mode gives every share total / count and needs total divisible by count. */
#ifndef HB_CORE_SPLIT_H
#define HB_CORE_SPLIT_H

#include <stdint.h>

#include "core/error.h"
#include "core/invariant.h"
#include "core/rng.h"

typedef enum split_mode { SPLIT_RANDOM = 1, SPLIT_FIXED = 2 } split_mode;

/* Fill shares[0..count) for total fen. INVALID_ARGUMENT when count < 1, total < count, total
 * above LIMIT_AMOUNT_MAX_FEN, or (fixed) total not divisible by count; UNAVAILABLE when the
 * generator fails (the CSPRNG). shares untouched on error except for a partial fill. */
hb_err split_shares(split_mode mode, int64_t total, int64_t count, hb_rng *rng,
                    int64_t *shares) WARN_UNUSED;

#endif
