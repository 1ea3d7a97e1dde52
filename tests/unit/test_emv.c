/* EMVCo merchant-presented payloads (src/core/emv.c): the shared vectors built and parsed
 * exactly, CRC-16/CCITT-FALSE, round trips, and every malformed form refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/emv.h"
#include "core/rng.h"
#include "testutil.h"

/* ../shared/vectors/README.md */
static const char static_vector[] =
    "00020101021126300010cn.hongbao0112TESTTOKEN0015204599953031565802CN5907Example6008Shanghai630456DA";
static const char dynamic_vector[] =
    "00020101021226300010cn.hongbao0112TESTTOKEN001520459995303156540518.885802CN5907Example6008Shanghai63046D52";

static emv_payload example(bool dynamic)
{
    emv_payload p;
    memset(&p, 0, sizeof p);
    p.dynamic = dynamic;
    snprintf(p.guid, sizeof p.guid, "cn.hongbao");
    snprintf(p.token, sizeof p.token, "TESTTOKEN001");
    snprintf(p.mcc, sizeof p.mcc, "5999");
    p.currency = CURRENCY_CNY;
    p.has_amount = dynamic;
    p.amount_fen = dynamic ? 1888 : 0;
    snprintf(p.country, sizeof p.country, "CN");
    snprintf(p.merchant_name, sizeof p.merchant_name, "Example");
    snprintf(p.city, sizeof p.city, "Shanghai");
    return p;
}

static hb_err parse(const char *text, emv_payload *out)
{
    char why[160];
    return emv_parse(text, strlen(text), "cn.hongbao", out, why, sizeof why);
}

/* body + "6304" + its CRC */
static void seal(const char *body, char *out, size_t size)
{
    snprintf(out, size, "%s6304", body);
    snprintf(out + strlen(out), size - strlen(out), "%04X", emv_crc16(out, strlen(out)));
}

static void test_crc_vector(void **state)
{
    (void)state;
    assert_int_equal(emv_crc16("123456789", 9), 0x29B1);
    assert_int_equal(emv_crc16("", 0), 0xFFFF);
}

static void test_vectors_build_exactly(void **state)
{
    (void)state;
    char out[EMV_PAYLOAD_MAX], why[160];
    size_t len = 0;
    emv_payload p = example(false);
    assert_int_equal(emv_build(&p, out, sizeof out, &len, why, sizeof why), HB_ERR_OK);
    assert_string_equal(out, static_vector);
    assert_int_equal(len, strlen(static_vector));
    p = example(true);
    assert_int_equal(emv_build(&p, out, sizeof out, &len, why, sizeof why), HB_ERR_OK);
    assert_string_equal(out, dynamic_vector);
}

static void test_vectors_parse(void **state)
{
    (void)state;
    emv_payload p;
    assert_int_equal(parse(static_vector, &p), HB_ERR_OK);
    assert_false(p.dynamic);
    assert_int_equal(p.template_tag, 26);
    assert_string_equal(p.guid, "cn.hongbao");
    assert_string_equal(p.token, "TESTTOKEN001");
    assert_string_equal(p.mcc, "5999");
    assert_int_equal(p.currency, CURRENCY_CNY);
    assert_false(p.has_amount);
    assert_string_equal(p.country, "CN");
    assert_string_equal(p.merchant_name, "Example");
    assert_string_equal(p.city, "Shanghai");
    assert_string_equal(p.reference, "");
    assert_int_equal(parse(dynamic_vector, &p), HB_ERR_OK);
    assert_true(p.dynamic);
    assert_true(p.has_amount);
    assert_int_equal(p.amount_fen, 1888);
}

static void test_round_trips(void **state)
{
    (void)state;
    hb_rng rng;
    rng_seeded_init(&rng, 20261127);
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_ .";
    for (int i = 0; i < 5000; i++) {
        emv_payload p = example(rng_next_below(&rng, 2) == 1);
        p.template_tag = 26 + (int)rng_next_below(&rng, 26);
        p.currency = rng_next_below(&rng, 2) ? CURRENCY_CNY : CURRENCY_HKD;
        memset(p.token, 0, sizeof p.token); /* whole structs are compared below */
        memset(p.merchant_name, 0, sizeof p.merchant_name);
        size_t tl = 1 + rng_next_below(&rng, 99 - 8 - strlen(p.guid));
        for (size_t k = 0; k < tl; k++) p.token[k] = alphabet[rng_next_below(&rng, 64)];
        p.token[tl] = '\0';
        p.has_amount = p.dynamic || rng_next_below(&rng, 2);
        p.amount_fen = p.has_amount ? 1 + (int64_t)rng_next_below(&rng, 999999999999ULL) : 0;
        size_t nl = 1 + rng_next_below(&rng, 25);
        for (size_t k = 0; k < nl; k++) p.merchant_name[k] = alphabet[rng_next_below(&rng, 66)];
        p.merchant_name[nl] = '\0';
        if (rng_next_below(&rng, 2)) snprintf(p.reference, sizeof p.reference, "ORDER-%d", i);
        char out[EMV_PAYLOAD_MAX], why[160];
        size_t len = 0;
        assert_int_equal(emv_build(&p, out, sizeof out, &len, why, sizeof why), HB_ERR_OK);
        emv_payload q;
        if (parse(out, &q) != HB_ERR_OK) fail_msg("%s: %s", out, why);
        assert_memory_equal(&p, &q, sizeof p);
    }
}

static void test_every_edit_refused(void **state)
{
    (void)state;
    /* any single character replaced (but a hex digit of the CRC changing case) is refused */
    size_t n = strlen(static_vector);
    static const char tries[] = "0123456789ABCDEFabcdefXYZxyz.-_ ";
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < sizeof tries - 1; k++) {
            char c = tries[k];
            if (c == static_vector[i]) continue;
            if (i >= n - 4 && (c | 0x20) == (static_vector[i] | 0x20)) continue;
            char edited[EMV_PAYLOAD_MAX];
            memcpy(edited, static_vector, n + 1);
            edited[i] = c;
            emv_payload p;
            if (parse(edited, &p) == HB_ERR_OK) fail_msg("accepted %s", edited);
        }
    }
    /* cut short or lengthened */
    emv_payload p;
    for (size_t cut = 0; cut < n; cut++) {
        char edited[EMV_PAYLOAD_MAX];
        memcpy(edited, static_vector, cut);
        edited[cut] = '\0';
        assert_int_equal(parse(edited, &p), HB_ERR_INVALID_CODE);
    }
    char longer[EMV_PAYLOAD_MAX];
    snprintf(longer, sizeof longer, "%sX", static_vector);
    assert_int_equal(parse(longer, &p), HB_ERR_INVALID_CODE);
    /* the CRC in lower case is the same CRC */
    char lower[EMV_PAYLOAD_MAX];
    snprintf(lower, sizeof lower, "%s", static_vector);
    lower[n - 1] = 'a';
    lower[n - 2] = 'd';
    assert_int_equal(parse(lower, &p), HB_ERR_OK);
}

static void test_structure_refused(void **state)
{
    (void)state;
    char text[EMV_PAYLOAD_MAX];
    emv_payload p;
    char why[160];
    static const char *const bodies[] = {
        /* a second field 58 */
        "00020101021126300010cn.hongbao0112TESTTOKEN0015204599953031565802CN5802CN5907Example6008Shanghai",
        /* no 59 */
        "00020101021126300010cn.hongbao0112TESTTOKEN0015204599953031565802CN6008Shanghai",
        /* no 52, no 53, no 58, no 60 */
        "00020101021126300010cn.hongbao0112TESTTOKEN00153031565802CN5907Example6008Shanghai",
        "00020101021126300010cn.hongbao0112TESTTOKEN0015204599958025802CN5907Example6008Shanghai",
        "00020101021126300010cn.hongbao0112TESTTOKEN0015204599953031565907Example6008Shanghai",
        "00020101021126300010cn.hongbao0112TESTTOKEN0015204599953031565802CN5907Example",
        /* 00 not first */
        "01021100020126300010cn.hongbao0112TESTTOKEN0015204599953031565802CN5907Example6008Shanghai",
        /* 00 not "01", 01 not 11/12 */
        "00020201021126300010cn.hongbao0112TESTTOKEN0015204599953031565802CN5907Example6008Shanghai",
        "00020101021326300010cn.hongbao0112TESTTOKEN0015204599953031565802CN5907Example6008Shanghai",
        /* another platform's GUID only */
        "00020101021126300010cn.example0112TESTTOKEN0015204599953031565802CN5907Example6008Shanghai",
        /* a template without a token */
        "00020101021126140010cn.hongbao5204599953031565802CN5907Example6008Shanghai",
        /* dynamic without an amount; an amount that is not one */
        "00020101021226300010cn.hongbao0112TESTTOKEN0015204599953031565802CN5907Example6008Shanghai",
        "000201010212263000010cn.hongbao0112TESTTOKEN001520459995303156540518.8x5802CN5907Example6008Shanghai",
        "00020101021226300010cn.hongbao0112TESTTOKEN0015204599953031565404-1.05802CN5907Example6008Shanghai",
        /* a currency not held, a lower-case country, a 26-character name */
        "00020101021126300010cn.hongbao0112TESTTOKEN0015204599953038405802CN5907Example6008Shanghai",
        "00020101021126300010cn.hongbao0112TESTTOKEN0015204599953031565802cn5907Example6008Shanghai",
        "00020101021126300010cn.hongbao0112TESTTOKEN0015204599953031565802CN5926ABCDEFGHIJKLMNOPQRSTUVWXYZ6008Shanghai",
        /* a zero length, a length past the end */
        "00020101021126300010cn.hongbao0112TESTTOKEN0015204599953031565802CN59006008Shanghai",
        "00020101021126300010cn.hongbao0112TESTTOKEN0015204599953031565802CN5907Example6099Shanghai",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        seal(bodies[i], text, sizeof text);
        hb_err err = emv_parse(text, strlen(text), "cn.hongbao", &p, why, sizeof why);
        if (err != HB_ERR_INVALID_CODE) fail_msg("case %zu accepted: %s", i, text);
    }
    /* a NUL inside a value (found by fuzz_emv: it cut the token short) */
    char with_nul[EMV_PAYLOAD_MAX];
    size_t n = strlen(static_vector);
    memcpy(with_nul, static_vector, n + 1);
    with_nul[40] = '\0'; /* inside the token */
    char crc[5];
    snprintf(crc, sizeof crc, "%04X", emv_crc16(with_nul, n - 4));
    memcpy(with_nul + n - 4, crc, 4);
    assert_int_equal(emv_parse(with_nul, n, "cn.hongbao", &p, why, sizeof why), HB_ERR_INVALID_CODE);
    /* the CRC not last */
    snprintf(text, sizeof text, "%s5802CN", static_vector);
    assert_int_equal(parse(text, &p), HB_ERR_INVALID_CODE);
    /* other templates and unknown tags are read past */
    seal("00020101021126200010cn.example0102XY27300010cn.hongbao0112TESTTOKEN0015204599953031565802CN5907Example6008Shanghai62130509ORDER-1238002AB",
         text, sizeof text);
    assert_int_equal(emv_parse(text, strlen(text), "cn.hongbao", &p, why, sizeof why), HB_ERR_OK);
    assert_int_equal(p.template_tag, 27);
    assert_string_equal(p.reference, "ORDER-123");
}

static void test_build_refused(void **state)
{
    (void)state;
    char out[EMV_PAYLOAD_MAX], why[160];
    size_t len = 0;
    emv_payload p = example(false);
    memset(p.token, 'A', 90); /* 8 header digits + 10 of GUID + 90 > 99 */
    p.token[90] = '\0';
    assert_int_equal(emv_build(&p, out, sizeof out, &len, why, sizeof why), HB_ERR_INVALID_ARGUMENT);
    p = example(true);
    p.has_amount = false;
    assert_int_equal(emv_build(&p, out, sizeof out, &len, why, sizeof why), HB_ERR_INVALID_ARGUMENT);
    p = example(false);
    snprintf(p.merchant_name, sizeof p.merchant_name, "示例");
    assert_int_equal(emv_build(&p, out, sizeof out, &len, why, sizeof why), HB_ERR_INVALID_ARGUMENT);
    p = example(false);
    p.template_tag = 52;
    assert_int_equal(emv_build(&p, out, sizeof out, &len, why, sizeof why), HB_ERR_INVALID_ARGUMENT);
    p = example(false);
    p.currency = CURRENCY_NONE;
    assert_int_equal(emv_build(&p, out, sizeof out, &len, why, sizeof why), HB_ERR_INVALID_ARGUMENT);
    p = example(false);
    assert_int_equal(emv_build(&p, out, 40, &len, why, sizeof why), HB_ERR_INVALID_ARGUMENT);
    assert_int_equal(emv_currency_numeric(CURRENCY_HKD), 344);
    assert_int_equal(emv_currency_from_numeric(344), CURRENCY_HKD);
    assert_int_equal(emv_currency_from_numeric(840), CURRENCY_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc_vector),        cmocka_unit_test(test_vectors_build_exactly),
        cmocka_unit_test(test_vectors_parse),     cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_every_edit_refused), cmocka_unit_test(test_structure_refused),
        cmocka_unit_test(test_build_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
