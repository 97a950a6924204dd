/* sm_oom.c - see sm_oom.h. */
#include "sm_oom.h"

#include <stdio.h>
#include <stdlib.h>

_Noreturn void sm_oom(const char *what)
{
    fprintf(stderr, "mesh: out of memory applying a committed command (%s): "
                    "aborting rather than diverge from the other replicas\n", what);
    abort();
}
