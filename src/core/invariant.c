#include "core/invariant.h"

#include <stdio.h>
#include <stdlib.h>

void invariant__fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "hongbao: invariant violated: %s (%s:%d)\n", expr, file, line);
    fflush(stderr);
    abort();
}
