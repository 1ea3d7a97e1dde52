#include "core/split.h"

#include "core/limits.h"

hb_err split_shares(split_mode mode, int64_t total, int64_t count, hb_rng *rng, int64_t *shares)
{
    if (count < 1 || total < count || total > LIMIT_AMOUNT_MAX_FEN) return HB_ERR_INVALID_ARGUMENT;
    if (mode == SPLIT_FIXED) {
        if (total % count != 0) return HB_ERR_INVALID_ARGUMENT;
        for (int64_t i = 0; i < count; i++) shares[i] = total / count;
        return HB_ERR_OK;
    }
    if (mode != SPLIT_RANDOM) return HB_ERR_INVALID_ARGUMENT;
    int64_t remaining = total;
    for (int64_t left = count; left > 1; left--) {
        /* [1, 2 * remaining / left): the largest integer below 2r/l is ceil(2r/l) - 1; and at
         * most remaining - (left - 1), so that every later share can still have 1 fen (it
         * never binds when left >= 2, kept as the invariant it is). 2 * remaining cannot
         * overflow: remaining <= LIMIT_AMOUNT_MAX_FEN. */
        int64_t twice = 2 * remaining;
        int64_t high = (twice + left - 1) / left - 1;
        if (high > remaining - (left - 1)) high = remaining - (left - 1);
        ASSERT(high >= 1);
        uint64_t draw = 0;
        if (rng_uniform(rng, (uint64_t)high, &draw) != HB_ERR_OK) return HB_ERR_UNAVAILABLE;
        int64_t share = 1 + (int64_t)draw; /* 1..high */
        shares[count - left] = share;
        remaining -= share;
    }
    shares[count - 1] = remaining;
    ASSERT(remaining >= 1);
    return HB_ERR_OK;
}
