/* spill.h - the interface of src/node/spill.c (see that file for why). */
#ifndef MESH_NODE_SPILL_H
#define MESH_NODE_SPILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct node;

/* spill.c: a slice of moving finished batches' results to the data
 * dir, each tick; stop drops the job in progress. */
void node_spill_tick(struct node *n);
void node_spill_stop(struct node *n);
/* The catch-up timer (spill.c: more slices while results pile up in
 * memory): initialised with the node's handles, closed with them; close
 * also drops the jobs and returns how many are still on the libuv pool:
 * on_closed(n) is called once they all returned. */
void node_spill_init(struct node *n);
unsigned node_spill_close(struct node *n, void (*on_closed)(void *ud));

#endif
