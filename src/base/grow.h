/* grow.h - makes room in a realloc'd array by doubling (amortised O(1)
 * appends), for the node's hot-path buffers (outbox, leader results). */
#ifndef MESH_GROW_H
#define MESH_GROW_H

#include <stdbool.h>
#include <stddef.h>

/* Ensures *p (capacity *cap elements of elem bytes) holds at least need
 * elements; false (nothing changed) when out of memory. */
bool grow_array(void **p, size_t *cap, size_t need, size_t elem);

/* Gives back most of an array that grew for a burst: once used fills less
 * than a quarter of *cap (and *cap is above keep elements) the capacity
 * becomes max(keep, 2 * used). Doubling never shrinks, so without this a
 * queue that once held a few seconds of results keeps that high-water
 * mark resident for the node's life. Out of memory: nothing changes. */
void shrink_array(void **p, size_t *cap, size_t used, size_t elem, size_t keep);

#endif
