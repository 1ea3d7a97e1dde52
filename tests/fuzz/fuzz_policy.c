/* Fuzz: the policy file. Any text either loads into a policy that passes its own checks
 * (limits positive, daily at least single, fee ranges ordered, region multipliers within
 * 0..100000 basis points; 0 closes a region to paying, as real-name level 0 does) or is
 * refused with a reason
 * (and a line number when the fault is in the text). */
#include <stdlib.h>
#include <string.h>

#include "core/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536) return 0;
    char *text = malloc(size + 1);
    if (text == NULL) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    static policy p;
    int line = 0;
    char why[256];
    hb_err err = policy_parse_text(text, &p, &line, why, sizeof why);
    if (err == HB_ERR_OK) {
        for (int t = 1; t < POLICY_TIERS; t++) {
            const tier_policy *tp = &p.tiers[t];
            if (tp->single_limit <= 0 || tp->daily_limit < tp->single_limit) abort();
            if (tp->fee_min_bp < 0 || tp->fee_max_bp < tp->fee_min_bp) abort();
        }
        for (int i = 0; i < p.region_count; i++) {
            if (p.regions[i].multiplier_bp < 0 || p.regions[i].multiplier_bp > 100000) abort();
        }
    } else if (why[0] == '\0' || line < 0) {
        abort();
    }
    free(text);
    return 0;
}
