/* Fuzz: the Authorization header's parameters and the signature check. Whatever parses has
 * well-formed fields and survives a round trip through its own text; a signature is accepted
 * exactly when it equals the HMAC of the request under the secret. */
#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/signature.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096) return 0;
    char *text = malloc(size + 1);
    if (text == NULL) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    signature_header h;
    const char *why = NULL;
    if (signature_parse(text, &h, &why) == HB_ERR_OK) {
        size_t nonce_len = strlen(h.nonce);
        if (nonce_len < LIMIT_NONCE_MIN || nonce_len > LIMIT_NONCE_MAX) abort();
        for (size_t i = 0; i < nonce_len; i++) {
            if (!alnum(h.nonce[i])) abort();
        }
        if (h.key_id[0] == '\0') abort();
        /* round trip */
        char again[512], hex[65];
        for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", h.sig[i]);
        snprintf(again, sizeof again, "key=%s,ts=%s,nonce=%s,sig=%s", h.key_id, h.ts_text,
                 h.nonce, hex);
        signature_header h2;
        if (signature_parse(again, &h2, &why) != HB_ERR_OK) abort();
        if (strcmp(h.key_id, h2.key_id) != 0 || h.ts != h2.ts || strcmp(h.nonce, h2.nonce) != 0 ||
            memcmp(h.sig, h2.sig, 32) != 0) {
            abort();
        }
        /* the check: accepted only when equal to the request's HMAC */
        uint8_t expected[32];
        if (signature_compute("hbsec_fuzz", "POST", "/v1/transfers", h.ts_text, h.nonce, data,
                              size, expected) != HB_ERR_OK) {
            abort();
        }
        bool accepted = CRYPTO_memcmp(expected, h.sig, 32) == 0;
        if (accepted != (memcmp(expected, h.sig, 32) == 0)) abort();
    } else if (why == NULL || why[0] == '\0') {
        abort(); /* a refusal always says why */
    }
    free(text);
    return 0;
}
