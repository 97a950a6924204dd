/* retire.h - frees deferred while a snapshot is being encoded elsewhere.
 *
 * A raft snapshot of a big queue takes most of a second to encode, too long
 * for the event loop, which must keep sending heartbeats. So the queue is
 * frozen on the loop (cheap: a copy of its small mutable parts), encoded on
 * a worker thread while the loop keeps applying commands, and thawed on the
 * loop. Commands only ever append to what the encoder reads, except when a
 * buffer moves (realloc) or goes away (an upload consumed): those blocks are
 * retired here instead of freed, and freed once no freeze holds them. */
#ifndef MESH_RETIRE_H
#define MESH_RETIRE_H

#include <stddef.h>

struct retire_map {
    void *addr;
    size_t len;
};

struct retire {
    void **ptrs;
    size_t n, cap;
    struct retire_map *maps;   /* file mappings (spilled results) */
    size_t n_maps, cap_maps;
    unsigned holds;   /* freezes alive */
};

void retire_hold(struct retire *r);
/* Drops one hold; the last one frees everything retired. */
void retire_release(struct retire *r);
/* free(p) now, or when the last hold goes (r may be NULL: free now). */
void retire_free(struct retire *r, void *p);
/* munmap(addr, len) now, or when the last hold goes (r may be NULL). */
void retire_unmap(struct retire *r, void *addr, size_t len);
/* Grows p (used bytes in use) to cap bytes. While held the old block stays
 * valid and is retired; never frees p on failure. NULL on ENOMEM. */
void *retire_realloc(struct retire *r, void *p, size_t used, size_t cap);
/* Frees everything retired; only without holds. */
void retire_fini(struct retire *r);

#endif
