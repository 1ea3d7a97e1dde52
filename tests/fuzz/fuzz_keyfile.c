/* Fuzz: the key file (master keys, one a line in hex). Any text either loads 1..8 keys, with
 * which a box sealed by the newest key opens again to the same bytes and names that key's
 * version, or is refused as malformed. */
#include <stdlib.h>
#include <string.h>

#include "service/keyring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096) return 0;
    static keyring k;
    hb_err err = keyring_load_text((const char *)data, size, &k);
    if (err != HB_ERR_OK) {
        if (err != HB_ERR_INVALID_ARGUMENT) abort();
        return 0;
    }
    if (k.versions < 1 || k.versions > KEYRING_VERSIONS) abort();
    static const char plain[] = "张三 13800138000";
    uint8_t box[sizeof plain + KEYRING_BOX_OVERHEAD], back[sizeof plain];
    size_t box_len = 0, back_len = 0;
    if (keyring_seal(&k, plain, sizeof plain, "aad", 3, box, &box_len) != HB_ERR_OK) abort();
    if (box_len > sizeof box || keyring_box_version(box, box_len) != k.versions) abort();
    if (keyring_plain_len(box, box_len) < sizeof plain) abort();
    if (keyring_open(&k, box, box_len, "aad", 3, back, &back_len) != HB_ERR_OK) abort();
    if (back_len != sizeof plain || memcmp(back, plain, sizeof plain) != 0) abort();
    box[box_len - 1] ^= 1; /* a flipped bit does not open */
    if (keyring_open(&k, box, box_len, "aad", 3, back, &back_len) == HB_ERR_OK) abort();
    keyring_clear(&k);
    return 0;
}
