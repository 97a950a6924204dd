/* tally.h - the interface of src/node/tally.c (see that file for why). */
#ifndef MESH_NODE_TALLY_H
#define MESH_NODE_TALLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct node;

/* tally.c: stats.done over the node's whole life, in the data dir. */
void node_tally_load(struct node *n);
void node_tally_save(struct node *n, bool now);

#endif
