/* hongbao qr: a payload as a QR code in the terminal, or as a PNG or SVG file. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/qr.h"

static const char qr_usage[] =
    "usage: hongbao qr TEXT [--png FILE [--scale N]] [--svg FILE]\n"
    "\n"
    "Render TEXT (a payment code's payload, a claim link) as a QR code: error correction\n"
    "level M, a quiet zone of 4 modules. Without --png or --svg it is printed in the terminal\n"
    "(dark on light). --scale sets the PNG's pixels a module (default 8, at most 32).\n"
    "TEXT is at most 1024 bytes.\n";

static int write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, len, f) != len) {
        if (f != NULL) fclose(f);
        fprintf(stderr, "hongbao qr: cannot write %s\n", path);
        return EXIT_USAGE;
    }
    return fclose(f) == 0 ? EXIT_OK : EXIT_USAGE;
}

int cmd_qr(int argc, char **argv)
{
    static const struct option options[] = {{"png", required_argument, NULL, 'p'},
                                            {"svg", required_argument, NULL, 's'},
                                            {"scale", required_argument, NULL, 'x'},
                                            {"help", no_argument, NULL, 'h'},
                                            {0, 0, 0, 0}};
    const char *png_path = NULL, *svg_path = NULL;
    int64_t scale = 8;
    bool ok = true;
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'p': png_path = optarg; break;
        case 's': svg_path = optarg; break;
        case 'x': ok = ok && cli_parse_count(optarg, 1, QR_SCALE_MAX, &scale); break;
        case 'h': fputs(qr_usage, stdout); return EXIT_OK;
        default: ok = false; break;
        }
    }
    if (!ok || optind != argc - 1) {
        fputs(qr_usage, stderr);
        return EXIT_USAGE;
    }
    const char *text = argv[optind];
    int rc = EXIT_OK;
    hb_err err = HB_ERR_OK;
    if (png_path != NULL) {
        uint8_t *png = NULL;
        size_t len = 0;
        err = qr_png(text, (int)scale, &png, &len);
        if (err == HB_ERR_OK) rc = write_file(png_path, png, len);
        free(png);
    }
    if (err == HB_ERR_OK && rc == EXIT_OK && svg_path != NULL) {
        char *svg = NULL;
        size_t len = 0;
        err = qr_svg(text, &svg, &len);
        if (err == HB_ERR_OK) rc = write_file(svg_path, svg, len);
        free(svg);
    }
    if (err == HB_ERR_OK && rc == EXIT_OK && png_path == NULL && svg_path == NULL) {
        char *lines = NULL;
        err = qr_terminal(text, &lines);
        if (err == HB_ERR_OK) fputs(lines, stdout);
        free(lines);
    }
    if (err != HB_ERR_OK) {
        return cli_fail(err, err == HB_ERR_INVALID_ARGUMENT ? "TEXT must be 1..1024 bytes" : "");
    }
    return rc;
}
