/* grow.h - makes room in a realloc'd array by doubling (amortised O(1)
 * appends), for the node's hot-path buffers (outbox, leader results). */
#ifndef MESH_GROW_H
#define MESH_GROW_H

#include <stdbool.h>
#include <stddef.h>

/* Ensures *p (capacity *cap elements of elem bytes) holds at least need
 * elements; false (nothing changed) when out of memory. */
bool grow_array(void **p, size_t *cap, size_t need, size_t elem);

#endif
