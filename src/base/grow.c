/* grow.c - see grow.h. */
#include "grow.h"

#include <stdint.h>
#include <stdlib.h>

bool grow_array(void **p, size_t *cap, size_t need, size_t elem)
{
    if (*cap >= need)
        return true;
    size_t c = *cap ? *cap : 256;
    while (c < need) {
        if (c > SIZE_MAX / 2 / elem)
            return false;
        c *= 2;
    }
    void *np = realloc(*p, c * elem);
    if (np == NULL)
        return false;
    *p = np;
    *cap = c;
    return true;
}

void shrink_array(void **p, size_t *cap, size_t used, size_t elem, size_t keep)
{
    if (*cap <= keep || used >= *cap / 4)
        return;
    size_t c = used * 2 > keep ? used * 2 : keep;
    void *np = realloc(*p, c * elem);
    if (np == NULL)
        return;
    *p = np;
    *cap = c;
}
