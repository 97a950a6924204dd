/* damaged.h - the interface of src/node/damaged.c (see that file for why). */
#ifndef MESH_NODE_DAMAGED_H
#define MESH_NODE_DAMAGED_H

#include <stdbool.h>
#include <stdint.h>

struct node;

/* Consensus refused the stored state as damaged: 0 when the node sets it
 * aside and rejoins its cluster afresh, -1 to refuse the start as before. */
int node_damaged_begin(struct node *n);
/* Consensus closed for the restart: the damaged raft dir moves aside. */
int node_damaged_set_aside(struct node *n);
/* The cluster a rejoining node may join (0: not rejoining). */
uint64_t node_damaged_cluster(const struct node *n);
/* The token that marks its JOINs "afresh" (0: not rejoining). */
uint64_t node_damaged_token(const struct node *n);
/* A tick row: rejoined, or gives up when its cluster stays out of sight. */
void node_damaged_tick(struct node *n);
/* A removal verdict while rejoining: starts again with no state (true). */
bool node_damaged_on_removed(struct node *n);
/* After the loop: puts the damaged state back if it gave up; frees. */
void node_damaged_finish(struct node *n);

#endif
