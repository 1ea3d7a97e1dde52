/* Fuzz: the EMVCo payload parser. Any input either is refused with INVALID_CODE and a reason,
 * or parses into values the builder accepts, and the built payload parses back to exactly the
 * same values (field order and unknown tags aside). Each input is tried as it is and with
 * its last four characters replaced by the right CRC, so that mutations get past the CRC to
 * the structure behind it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/emv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, const char *text)
{
    fprintf(stderr, "fuzz_emv: %s: %s\n", what, text);
    abort();
}

static void check(const char *text, size_t size)
{
    emv_payload p;
    char why[160] = "";
    hb_err err = emv_parse(text, size, "cn.hongbao", &p, why, sizeof why);
    if (err != HB_ERR_OK) {
        if (err != HB_ERR_INVALID_CODE || why[0] == '\0') die("a refusal without its reason", text);
        return;
    }
    char hex[5];
    snprintf(hex, sizeof hex, "%04X", emv_crc16(text, size - 4));
    if (strncasecmp(hex, text + size - 4, 4) != 0) die("accepted with a wrong CRC", text);
    char built[EMV_PAYLOAD_MAX];
    size_t len = 0;
    if (emv_build(&p, built, sizeof built, &len, why, sizeof why) != HB_ERR_OK) {
        die("parsed values the builder refuses", why);
    }
    emv_payload q;
    if (emv_parse(built, len, "cn.hongbao", &q, why, sizeof why) != HB_ERR_OK) {
        die("a built payload does not parse", built);
    }
    if (memcmp(&p, &q, sizeof p) != 0) die("the round trip changed a value", built);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 2 * EMV_PAYLOAD_MAX) return 0;
    char *text = malloc(size + 1);
    if (text == NULL) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    check(text, size);
    if (size >= 8) {
        char hex[5];
        snprintf(hex, sizeof hex, "%04X", emv_crc16(text, size - 4));
        memcpy(text + size - 4, hex, 4);
        check(text, size);
    }
    free(text);
    return 0;
}
