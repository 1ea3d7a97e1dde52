/* hongbao config check FILE */
#include <string.h>

#include "cli/cli.h"

static const char config_usage[] =
    "usage: hongbao config check FILE\n"
    "\n"
    "Validate a policy file (INI): every section and key known, every value in range,\n"
    "limits consistent. Prints \"FILE: ok\" or \"FILE:LINE: what is wrong\"; exits 0 or 2.\n"
    "Environment overrides (HONGBAO_<SECTION>_<KEY>) are applied and checked too.\n";

int cmd_config(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(config_usage, stdout);
        return EXIT_OK;
    }
    if (argc != 3 || strcmp(argv[1], "check") != 0) {
        fputs(config_usage, stderr);
        return EXIT_USAGE;
    }
    policy p;
    int rc = cli_load_policy(argv[2], &p);
    if (rc == EXIT_OK) printf("%s: ok\n", argv[2]);
    return rc;
}
