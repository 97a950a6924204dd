/* nodeset.h - a sorted set of node ids (the replicated "drained" flags).
 *
 * Small (one entry per drained node) and ordered, so its snapshot encoding
 * is canonical: every replica with the same set writes the same bytes. */
#ifndef MESH_NODESET_H
#define MESH_NODESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nodeset {
    uint64_t *ids;  /* ascending, no duplicates */
    size_t n, cap;
};

void nodeset_free(struct nodeset *s);
bool nodeset_has(const struct nodeset *s, uint64_t id);
/* 1 inserted, 0 already present, -1 out of memory. */
int nodeset_add(struct nodeset *s, uint64_t id);
/* true when it was present. */
bool nodeset_remove(struct nodeset *s, uint64_t id);

#endif
