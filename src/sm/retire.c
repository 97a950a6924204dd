/* retire.c - see retire.h. Only the event loop thread calls these. */
#include "retire.h"

#include <stdlib.h>
#include <string.h>

#include "sm_oom.h"

void retire_hold(struct retire *r)
{
    r->holds++;
}

void retire_fini(struct retire *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->ptrs[i]);
    free(r->ptrs);
    r->ptrs = NULL;
    r->n = r->cap = 0;
}

void retire_release(struct retire *r)
{
    if (r->holds > 0 && --r->holds == 0)
        retire_fini(r);
}

void retire_free(struct retire *r, void *p)
{
    if (r == NULL || r->holds == 0 || p == NULL) {
        free(p);
        return;
    }
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        void **ptrs = realloc(r->ptrs, cap * sizeof *ptrs);
        /* Holds exist only while commands apply: the caller is an apply. */
        if (ptrs == NULL)
            sm_oom("retire");
        r->ptrs = ptrs;
        r->cap = cap;
    }
    r->ptrs[r->n++] = p;
}

void *retire_realloc(struct retire *r, void *p, size_t used, size_t cap)
{
    if (r == NULL || r->holds == 0)
        return realloc(p, cap);
    void *fresh = malloc(cap);
    if (fresh == NULL)
        return NULL;
    if (used > 0)
        memcpy(fresh, p, used);
    retire_free(r, p);
    return fresh;
}
