/* Fuzz: the red packet split. For any total and count (and a seeded generator from the input)
 * it either refuses the pair as documented or gives shares that are each at least 1 fen,
 * below twice the running mean (but the last), and sum to the total exactly; fixed mode gives
 * equal shares. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "core/split.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 17) return 0;
    int64_t total, count;
    uint64_t seed;
    memcpy(&total, data, 8);
    memcpy(&count, data + 8, 8);
    split_mode mode = (data[16] & 1) ? SPLIT_FIXED : SPLIT_RANDOM;
    seed = 0;
    memcpy(&seed, data + 9, size - 9 < 8 ? size - 9 : 8);
    /* keep the work per input bounded (up to 20,000 shares; the unit test takes 100,000) */
    if (count > 20000) count = count % 20000;
    bool valid = count >= 1 && total >= count && total <= LIMIT_AMOUNT_MAX_FEN &&
                 (mode == SPLIT_RANDOM || total % count == 0);
    int64_t *shares = calloc(count > 0 ? (size_t)count : 1, sizeof *shares);
    if (shares == NULL) return 0;
    hb_rng rng;
    rng_seeded_init(&rng, seed);
    hb_err err = split_shares(mode, total, count, &rng, shares);
    if (valid != (err == HB_ERR_OK)) abort();
    if (err == HB_ERR_OK) {
        int64_t remaining = total;
        for (int64_t i = 0; i < count; i++) {
            int64_t left = count - i;
            if (shares[i] < 1) abort();
            if (mode == SPLIT_FIXED && shares[i] != total / count) abort();
            if (mode == SPLIT_RANDOM && left > 1 && shares[i] * left >= 2 * remaining) abort();
            remaining -= shares[i];
        }
        if (remaining != 0) abort();
    } else if (err != HB_ERR_INVALID_ARGUMENT) {
        abort();
    }
    free(shares);
    return 0;
}
