/* hard.h - progress of the long numbers, across the mesh (doc/DESIGN.md,
 * "Progress of a hard number").
 *
 * Each node's workers tell it where their long number is (worker.h,
 * worker_pool_progress); the node tells its linked peers in MESH_MSG_PROGRESS
 * on the cluster tick (4 a second) while it has any, and once more, empty,
 * when they end. A peer keeps the latest list of each sender; a list not
 * renewed for HARD_STALE_MS (a node gone quiet) is no longer shown. The
 * snapshot (view.h) gets this node's own entries and its peers'. */
#ifndef MESH_NODE_HARD_H
#define MESH_NODE_HARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meshmsg.h"

enum { NODE_MAX_HARD = 256, HARD_STALE_MS = 2000 };

struct hard_entry {
    uint64_t node;
    uint64_t heard_ms;
    struct msg_hard h;
};

struct node_hard {
    struct hard_entry peers[NODE_MAX_HARD];   /* other nodes' workers */
    size_t n;
    bool told_some;    /* the last PROGRESS sent was not empty */
};

struct node;
struct mesh_view;

/* The cluster tick's row (routes.c): tells the linked peers. */
void node_hard_tick(struct node *n);
/* MESH_MSG_PROGRESS from peer: its list replaces the one it sent before. */
void node_hard_on_msg(struct node *n, uint64_t peer, const uint8_t *data, size_t len);
/* Fills s->hard: this node's workers, then the peers' fresh entries; needs
 * s->nodes filled (to name the nodes). */
void node_hard_view(const struct node *n, struct mesh_view *s);

#endif
