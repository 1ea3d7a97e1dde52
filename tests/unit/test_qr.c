/* QR rendering (src/core/qr.c): PNGs decode back to the exact payload with a standard reader
 * (zbarimg, Debian's zbar-tools), the SVG and terminal forms have the symbol's size with its
 * quiet zone, and bad input is refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/qr.h"
#include "testutil.h"

/* What zbarimg reads from the PNG of text. */
static void decode_png(const char *text, int scale, char *out, size_t size)
{
    uint8_t *png = NULL;
    size_t len = 0;
    assert_int_equal(qr_png(text, scale, &png, &len), HB_ERR_OK);
    assert_true(len > 8 && memcmp(png, "\x89PNG", 4) == 0);
    const char *dir = testutil_tempdir();
    char path[600];
    snprintf(path, sizeof path, "%s/qr.png", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(png, 1, len, f), len);
    fclose(f);
    free(png);
    char cmd[800];
    snprintf(cmd, sizeof cmd, "zbarimg --raw -q '%s' 2>/dev/null", path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    assert_int_equal(pclose(p), 0);
    if (n > 0 && out[n - 1] == '\n') out[n - 1] = '\0'; /* zbarimg ends with a newline */
    testutil_rmdir(dir);
}

static void test_png_decodes_exactly(void **state)
{
    (void)state;
    static const char *const payloads[] = {
        "00020101021126300010cn.hongbao0112TESTTOKEN0015204599953031565802CN5907Example6008Shanghai630456DA",
        "00020101021226300010cn.hongbao0112TESTTOKEN001520459995303156540518.885802CN5907Example6008Shanghai63046D52",
        "https://pay.example.com/c/ATBq1MDLc3gjSCr8Pdc-mTA-Wl5qpoYTpMgQQpqvmsI8Ag",
        "x",
    };
    for (size_t i = 0; i < sizeof payloads / sizeof payloads[0]; i++) {
        char got[2048];
        decode_png(payloads[i], 1 + (int)i * 3, got, sizeof got);
        assert_string_equal(got, payloads[i]);
    }
}

static void test_svg_and_terminal(void **state)
{
    (void)state;
    /* a 21-module symbol (version 1) with 4 modules of quiet zone on each side: 29 */
    char *svg = NULL;
    size_t len = 0;
    assert_int_equal(qr_svg("hello", &svg, &len), HB_ERR_OK);
    assert_int_equal(strlen(svg), len);
    assert_non_null(strstr(svg, "viewBox=\"0 0 29 29\""));
    assert_non_null(strstr(svg, "M4 4h1v1h-1z")); /* the finder pattern's corner is dark */
    assert_null(strstr(svg, "M0 0h1")); /* the quiet zone is light */
    free(svg);
    char *lines = NULL;
    assert_int_equal(qr_terminal("hello", &lines), HB_ERR_OK);
    int count = 0;
    for (const char *p = lines; *p != '\0'; p++) count += *p == '\n';
    assert_int_equal(count, 15); /* 29 rows, two a line */
    free(lines);
}

static void test_refusals(void **state)
{
    (void)state;
    uint8_t *png = NULL;
    size_t len = 0;
    char *text = NULL;
    assert_int_equal(qr_png("", 4, &png, &len), HB_ERR_INVALID_ARGUMENT);
    assert_int_equal(qr_png("x", 0, &png, &len), HB_ERR_INVALID_ARGUMENT);
    assert_int_equal(qr_png("x", QR_SCALE_MAX + 1, &png, &len), HB_ERR_INVALID_ARGUMENT);
    char *huge = malloc(QR_TEXT_MAX + 2);
    assert_non_null(huge);
    memset(huge, 'a', QR_TEXT_MAX + 1);
    huge[QR_TEXT_MAX + 1] = '\0';
    assert_int_equal(qr_svg(huge, &text, &len), HB_ERR_INVALID_ARGUMENT);
    assert_int_equal(qr_terminal(huge, &text), HB_ERR_INVALID_ARGUMENT);
    huge[QR_TEXT_MAX] = '\0'; /* 1,024 bytes fit level M */
    assert_int_equal(qr_png(huge, 1, &png, &len), HB_ERR_OK);
    free(png);
    free(huge);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_png_decodes_exactly),
        cmocka_unit_test(test_svg_and_terminal),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
