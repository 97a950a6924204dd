/* retire.c - see retire.h. Only the event loop thread calls these. */
#include "retire.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

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
    for (size_t i = 0; i < r->n_maps; i++)
        munmap(r->maps[i].addr, r->maps[i].len);
    free(r->maps);
    r->maps = NULL;
    r->n_maps = r->cap_maps = 0;
}

void retire_unmap(struct retire *r, void *addr, size_t len)
{
    if (r == NULL || r->holds == 0) {
        munmap(addr, len);
        return;
    }
    if (r->n_maps == r->cap_maps) {
        size_t cap = r->cap_maps ? r->cap_maps * 2 : 16;
        struct retire_map *maps = realloc(r->maps, cap * sizeof *maps);
        if (maps == NULL)
            sm_oom("retire");
        r->maps = maps;
        r->cap_maps = cap;
    }
    r->maps[r->n_maps++] = (struct retire_map){addr, len};
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
