/* nodeset.c - see nodeset.h. A sorted array: the set holds a handful of
 * ids, so binary search plus memmove beats any tree. */
#include "nodeset.h"

#include <stdlib.h>
#include <string.h>

void nodeset_free(struct nodeset *s)
{
    free(s->ids);
    memset(s, 0, sizeof *s);
}

/* Index of the first id >= id. */
static size_t lower_bound(const struct nodeset *s, uint64_t id)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

bool nodeset_has(const struct nodeset *s, uint64_t id)
{
    size_t i = lower_bound(s, id);
    return i < s->n && s->ids[i] == id;
}

int nodeset_add(struct nodeset *s, uint64_t id)
{
    size_t i = lower_bound(s, id);
    if (i < s->n && s->ids[i] == id)
        return 0;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        uint64_t *p = realloc(s->ids, cap * sizeof *p);
        if (p == NULL)
            return -1;
        s->ids = p;
        s->cap = cap;
    }
    memmove(s->ids + i + 1, s->ids + i, (s->n - i) * sizeof *s->ids);
    s->ids[i] = id;
    s->n++;
    return 1;
}

bool nodeset_remove(struct nodeset *s, uint64_t id)
{
    size_t i = lower_bound(s, id);
    if (i >= s->n || s->ids[i] != id)
        return false;
    memmove(s->ids + i, s->ids + i + 1, (s->n - i - 1) * sizeof *s->ids);
    s->n--;
    return true;
}
