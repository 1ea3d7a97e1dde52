/* Fuzz: red-packet tokens and the base64url decoder under them.
 *
 * Each input is, first, token text for packet_token_open (fixed keys derived once at start):
 * whatever opens holds valid fields, re-seals to exactly the same text, and does not open
 * under other keys. It is also text for crypto_unbase64url: the decoder accepts it exactly
 * when it is canonical unpadded base64url (alphabet, a length an encoder produces, spare bits
 * zero), the decoded length follows from the text's, re-encoding gives the input back, and
 * one byte less room is refused without a write past it. Then, when the input is long enough,
 * its first 17 bytes are the fields of a token that is sealed and opened again, and the rest
 * pairs of (position, xor) edits to that token's text and to its decoded bytes: an edited
 * token that differs from the sealed one never opens. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/packet_token.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAW_LEN 34 /* version (1) || tag (16) || encrypted fields (17) */

static packet_token_keys keys, other_keys;

static void die(const char *what)
{
    fprintf(stderr, "fuzz_packet_token: %s\n", what);
    abort();
}

/* The harness's keys: the master key 0x00 0x01 ... 0x1f (the committed seed token in
 * tests/fuzz/corpus/packet_token/valid was sealed with them); the other keys from 0x01 ...
 * 0x20. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    uint8_t master[CRYPTO_KEY_LEN];
    for (int i = 0; i < CRYPTO_KEY_LEN; i++) master[i] = (uint8_t)i;
    if (packet_token_keys_derive(master, &keys) != HB_ERR_OK) die("deriving the keys");
    for (int i = 0; i < CRYPTO_KEY_LEN; i++) master[i] = (uint8_t)(i + 1);
    if (packet_token_keys_derive(master, &other_keys) != HB_ERR_OK) die("deriving the keys");
    return 0;
}

static int b64url_value(uint8_t c)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    if (c == 0) return -1;
    const char *p = strchr(alphabet, c);
    return p == NULL ? -1 : (int)(p - alphabet);
}

/* Whatever opens holds valid fields, re-seals to exactly its text, and only under its keys. */
static void check_open(const uint8_t *text, size_t len)
{
    packet_token t;
    hb_err err = packet_token_open(&keys, (const char *)text, len, &t);
    if (err == HB_ERR_INVALID_ARGUMENT) return;
    if (err != HB_ERR_OK) die("open failed other than INVALID_ARGUMENT");
    if (len != PACKET_TOKEN_TEXT_LEN) die("text of another length opened");
    if ((t.kind != PACKET_TOKEN_CLAIM && t.kind != PACKET_TOKEN_SHARE) || t.packet_id <= 0 ||
        t.not_after_ms < 0) {
        die("opened to invalid fields");
    }
    char again[PACKET_TOKEN_TEXT_LEN + 1];
    if (packet_token_seal(&keys, &t, again) != HB_ERR_OK) die("re-seal failed");
    if (strlen(again) != len || memcmp(again, text, len) != 0) {
        die("opened text does not re-seal to itself");
    }
    packet_token u;
    if (packet_token_open(&other_keys, (const char *)text, len, &u) != HB_ERR_INVALID_ARGUMENT) {
        die("a token opened under other keys");
    }
}

/* The decoder accepts exactly canonical unpadded base64url, and round-trips it. */
static void check_unbase64url(const uint8_t *text, size_t len)
{
    bool canonical = len % 4 != 1;
    for (size_t i = 0; canonical && i < len; i++) canonical = b64url_value(text[i]) >= 0;
    if (canonical && len % 4 != 0) {
        int last = b64url_value(text[len - 1]);
        canonical = (last & (len % 4 == 2 ? 15 : 3)) == 0;
    }
    size_t need = len / 4 * 3 + (len % 4 == 0 ? 0 : len % 4 - 1);
    /* exactly the room needed, on the heap so that a write past it is caught */
    uint8_t *out = malloc(need > 0 ? need : 1);
    char *again = malloc(len + 4);
    if (out == NULL || again == NULL) die("out of memory");
    size_t n = (size_t)-1;
    bool ok = crypto_unbase64url((const char *)text, len, out, need, &n);
    if (ok != canonical) die(ok ? "accepted text that is not canonical" : "refused canonical text");
    if (ok) {
        if (n != need) die("decoded length does not follow from the text's");
        crypto_base64url(out, n, again);
        if (strlen(again) != len || memcmp(again, text, len) != 0) {
            die("re-encoding the decoded bytes does not give the text back");
        }
        if (need > 0) {
            /* one byte less room: refused, and nothing written past it (ASan) */
            uint8_t *small = malloc(need - 1 > 0 ? need - 1 : 1);
            if (small == NULL) die("out of memory");
            size_t m = 0;
            if (crypto_unbase64url((const char *)text, len, small, need - 1, &m)) {
                die("decoded into too little room");
            }
            free(small);
        }
    }
    free(again);
    free(out);
}

/* Seal the fields in data[0..17), open again, then apply the rest as (position, xor) edits. */
static void check_sealed(const uint8_t *data, size_t size)
{
    uint64_t id, not_after;
    memcpy(&id, data + 1, 8);
    memcpy(&not_after, data + 9, 8);
    packet_token t = {.kind = (data[0] & 1) ? PACKET_TOKEN_SHARE : PACKET_TOKEN_CLAIM,
                      .packet_id = (int64_t)(id & (uint64_t)INT64_MAX),
                      .not_after_ms = (int64_t)(not_after & (uint64_t)INT64_MAX)};
    if (t.packet_id == 0) t.packet_id = 1;
    char text[PACKET_TOKEN_TEXT_LEN + 1], again[PACKET_TOKEN_TEXT_LEN + 1];
    if (packet_token_seal(&keys, &t, text) != HB_ERR_OK) die("seal failed");
    if (strlen(text) != PACKET_TOKEN_TEXT_LEN) die("sealed text of the wrong length");
    if (packet_token_seal(&keys, &t, again) != HB_ERR_OK || strcmp(text, again) != 0) {
        die("sealing is not deterministic");
    }
    packet_token back;
    if (packet_token_open(&keys, text, PACKET_TOKEN_TEXT_LEN, &back) != HB_ERR_OK ||
        back.kind != t.kind || back.packet_id != t.packet_id ||
        back.not_after_ms != t.not_after_ms) {
        die("a sealed token does not open to its fields");
    }
    if (packet_token_open(&other_keys, text, PACKET_TOKEN_TEXT_LEN, &back) !=
        HB_ERR_INVALID_ARGUMENT) {
        die("a sealed token opened under other keys");
    }
    const uint8_t *edits = data + 17;
    size_t pairs = (size - 17) / 2;
    if (pairs == 0) return;
    if (pairs > 16) pairs = 16;
    /* edits to the text */
    char edited[PACKET_TOKEN_TEXT_LEN + 1];
    memcpy(edited, text, sizeof edited);
    for (size_t i = 0; i < pairs; i++) {
        edited[edits[2 * i] % PACKET_TOKEN_TEXT_LEN] ^= (char)edits[2 * i + 1];
    }
    if (memcmp(edited, text, PACKET_TOKEN_TEXT_LEN) != 0 &&
        packet_token_open(&keys, edited, PACKET_TOKEN_TEXT_LEN, &back) != HB_ERR_INVALID_ARGUMENT) {
        die("an edited token text opened");
    }
    /* edits to the decoded bytes */
    uint8_t raw[RAW_LEN], changed[RAW_LEN];
    size_t n = 0;
    if (!crypto_unbase64url(text, PACKET_TOKEN_TEXT_LEN, raw, sizeof raw, &n) || n != RAW_LEN) {
        die("a sealed token does not decode to its 34 bytes");
    }
    memcpy(changed, raw, sizeof raw);
    for (size_t i = 0; i < pairs; i++) changed[edits[2 * i] % RAW_LEN] ^= edits[2 * i + 1];
    crypto_base64url(changed, sizeof changed, edited);
    if (memcmp(changed, raw, RAW_LEN) != 0 &&
        packet_token_open(&keys, edited, PACKET_TOKEN_TEXT_LEN, &back) != HB_ERR_INVALID_ARGUMENT) {
        die("a token with edited bytes opened");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096) return 0;
    check_open(data, size);
    check_unbase64url(data, size);
    if (size >= 17) check_sealed(data, size);
    return 0;
}
